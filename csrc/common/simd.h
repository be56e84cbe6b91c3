// Thin SIMD wrappers for ONE instruction set, chosen by the including translation unit:
//
//   #define HW_ISA_NS avx512      // namespace that receives everything below
//   #define HW_ISA_LEVEL 2        // 0 = portable baseline, 1 = AVX2+FMA, 2 = AVX-512
//   #include "common/simd.h"
//
// Everything lives in headwater::HW_ISA_NS so that the copies compiled with different -m flags
// are distinct functions. (Shared inline functions would be merged by the linker, and an
// AVX-512 copy could then end up running on a CPU without AVX-512.) For the same reason code in
// the per-ISA files avoids instantiating std templates such as std::min.
//
// There is deliberately no include guard: each per-ISA file includes this exactly once.

#if !defined(HW_ISA_NS) || !defined(HW_ISA_LEVEL)
#error "define HW_ISA_NS and HW_ISA_LEVEL before including common/simd.h"
#endif

#include <cstdint>

#if HW_ISA_LEVEL >= 1
#include <immintrin.h>
#endif

#if HW_ISA_LEVEL == 1 && !(defined(__AVX2__) && (defined(__FMA__) || defined(_MSC_VER)))
#error "AVX2 kernels must be compiled with -mavx2 -mfma"
#endif
#if HW_ISA_LEVEL == 2 && !(defined(__AVX512F__) && defined(__AVX512BW__) && \
                           defined(__AVX512VL__) && defined(__AVX512DQ__))
#error "AVX-512 kernels must be compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq"
#endif

namespace headwater {
namespace HW_ISA_NS {

constexpr int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
constexpr int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

template <class T>
struct Vec;

#if HW_ISA_LEVEL == 0

// Portable baseline: a 16-byte "register" written as plain loops. Compilers turn these into
// SSE2 / NEON instructions, which every x86-64 (and aarch64) CPU has.
template <class T>
struct GenericVec {
  static constexpr int W = static_cast<int>(16 / sizeof(T));
  static constexpr bool kMasked = false;
  struct reg {
    T v[W];
  };
  static reg load(const T* p) {
    reg r;
    for (int i = 0; i < W; ++i) r.v[i] = p[i];
    return r;
  }
  static void store(T* p, reg a) {
    for (int i = 0; i < W; ++i) p[i] = a.v[i];
  }
  static reg set1(T x) {
    reg r;
    for (int i = 0; i < W; ++i) r.v[i] = x;
    return r;
  }
  static reg zero() { return set1(T(0)); }
#define HW_GENERIC_BINOP(name, expr)   \
  static reg name(reg a, reg b) {      \
    reg r;                             \
    for (int i = 0; i < W; ++i) {      \
      const T x = a.v[i], y = b.v[i];  \
      r.v[i] = (expr);                 \
    }                                  \
    return r;                          \
  }
  HW_GENERIC_BINOP(add, x + y)
  HW_GENERIC_BINOP(sub, x - y)
  HW_GENERIC_BINOP(mul, x* y)
  HW_GENERIC_BINOP(div, x / y)
#undef HW_GENERIC_BINOP
  // x86 MAXPS/MINPS semantics: (a > b ? a : b), so the second operand wins when either is NaN.
  static reg max(reg a, reg b) {
    reg r;
    for (int i = 0; i < W; ++i) r.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i];
    return r;
  }
  static reg min(reg a, reg b) {
    reg r;
    for (int i = 0; i < W; ++i) r.v[i] = a.v[i] < b.v[i] ? a.v[i] : b.v[i];
    return r;
  }
  // Not fused: the baseline has no FMA instruction, and a software fma() would be far slower.
  static reg fmadd(reg a, reg b, reg c) {
    reg r;
    for (int i = 0; i < W; ++i) r.v[i] = a.v[i] * b.v[i] + c.v[i];
    return r;
  }
};
template <>
struct Vec<float> : GenericVec<float> {};
template <>
struct Vec<double> : GenericVec<double> {};

#elif HW_ISA_LEVEL == 1

template <>
struct Vec<float> {
  static constexpr int W = 8;
  // AVX2 has masked loads, but a scalar tail is simpler and just as fast for < 8 elements.
  static constexpr bool kMasked = false;
  using reg = __m256;
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, reg a) { _mm256_storeu_ps(p, a); }
  static reg set1(float x) { return _mm256_set1_ps(x); }
  static reg zero() { return _mm256_setzero_ps(); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  static reg div(reg a, reg b) { return _mm256_div_ps(a, b); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  static reg min(reg a, reg b) { return _mm256_min_ps(a, b); }
};
template <>
struct Vec<double> {
  static constexpr int W = 4;
  static constexpr bool kMasked = false;
  using reg = __m256d;
  static reg load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, reg a) { _mm256_storeu_pd(p, a); }
  static reg set1(double x) { return _mm256_set1_pd(x); }
  static reg zero() { return _mm256_setzero_pd(); }
  static reg add(reg a, reg b) { return _mm256_add_pd(a, b); }
  static reg sub(reg a, reg b) { return _mm256_sub_pd(a, b); }
  static reg mul(reg a, reg b) { return _mm256_mul_pd(a, b); }
  static reg div(reg a, reg b) { return _mm256_div_pd(a, b); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_pd(a, b, c); }
  static reg max(reg a, reg b) { return _mm256_max_pd(a, b); }
  static reg min(reg a, reg b) { return _mm256_min_pd(a, b); }
};

#elif HW_ISA_LEVEL == 2

// Tails use masked loads/stores: masked-off lanes are never touched, so reading past the end
// of an array cannot fault and nothing outside it is written.
template <>
struct Vec<float> {
  static constexpr int W = 16;
  static constexpr bool kMasked = true;
  using reg = __m512;
  static __mmask16 mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, reg a) { _mm512_storeu_ps(p, a); }
  static reg load_partial(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store_partial(float* p, int64_t n, reg a) { _mm512_mask_storeu_ps(p, mask(n), a); }
  static reg set1(float x) { return _mm512_set1_ps(x); }
  static reg zero() { return _mm512_setzero_ps(); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  static reg div(reg a, reg b) { return _mm512_div_ps(a, b); }
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  static reg min(reg a, reg b) { return _mm512_min_ps(a, b); }
};
template <>
struct Vec<double> {
  static constexpr int W = 8;
  static constexpr bool kMasked = true;
  using reg = __m512d;
  static __mmask8 mask(int64_t n) { return static_cast<__mmask8>((1u << n) - 1u); }
  static reg load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, reg a) { _mm512_storeu_pd(p, a); }
  static reg load_partial(const double* p, int64_t n) { return _mm512_maskz_loadu_pd(mask(n), p); }
  static void store_partial(double* p, int64_t n, reg a) { _mm512_mask_storeu_pd(p, mask(n), a); }
  static reg set1(double x) { return _mm512_set1_pd(x); }
  static reg zero() { return _mm512_setzero_pd(); }
  static reg add(reg a, reg b) { return _mm512_add_pd(a, b); }
  static reg sub(reg a, reg b) { return _mm512_sub_pd(a, b); }
  static reg mul(reg a, reg b) { return _mm512_mul_pd(a, b); }
  static reg div(reg a, reg b) { return _mm512_div_pd(a, b); }
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_pd(a, b, c); }
  static reg max(reg a, reg b) { return _mm512_max_pd(a, b); }
  static reg min(reg a, reg b) { return _mm512_min_pd(a, b); }
};

#else
#error "unknown HW_ISA_LEVEL"
#endif

}  // namespace HW_ISA_NS
}  // namespace headwater
