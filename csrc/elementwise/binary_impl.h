// Per-ISA inner loops for binary elementwise ops. Included once by each binary_<isa>.cpp after
// common/simd.h; see simd.h for why everything sits in headwater::HW_ISA_NS.

#include "elementwise/binary.h"

namespace headwater {
namespace HW_ISA_NS {
namespace {

struct AddOp {
  template <class T>
  static T s(T x, T y) { return x + y; }
  template <class V>
  static typename V::reg v(typename V::reg x, typename V::reg y) { return V::add(x, y); }
};
struct SubOp {
  template <class T>
  static T s(T x, T y) { return x - y; }
  template <class V>
  static typename V::reg v(typename V::reg x, typename V::reg y) { return V::sub(x, y); }
};
struct MulOp {
  template <class T>
  static T s(T x, T y) { return x * y; }
  template <class V>
  static typename V::reg v(typename V::reg x, typename V::reg y) { return V::mul(x, y); }
};
struct DivOp {
  template <class T>
  static T s(T x, T y) { return x / y; }
  template <class V>
  static typename V::reg v(typename V::reg x, typename V::reg y) { return V::div(x, y); }
};

// Operand access patterns of the contiguous fast paths: A/B = contiguous vector, S = scalar
// broadcast across the run.
enum class Pattern { vv, sv, vs };

#if HW_ISA_LEVEL == 2
// 256-bit registers for these loops on AVX-512 machines. They are load/store bound, and numpy's
// arrays are only 16-byte aligned, so every 64-byte store straddles two cache lines against
// every other 32-byte one: on Zen 4, 1M-element add/mul with out= ran ~7% faster this way (two
// threads; an aligned-store 512-bit loop gained half of that). Masked tails as in Vec.
template <class T>
struct Half;
template <>
struct Half<float> {
  static constexpr int W = 8;
  static constexpr bool kMasked = true;
  using reg = __m256;
  static __mmask8 mask(int64_t n) { return static_cast<__mmask8>((1u << n) - 1u); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, reg a) { _mm256_storeu_ps(p, a); }
  static reg load_partial(const float* p, int64_t n) { return _mm256_maskz_loadu_ps(mask(n), p); }
  static void store_partial(float* p, int64_t n, reg a) { _mm256_mask_storeu_ps(p, mask(n), a); }
  static reg set1(float x) { return _mm256_set1_ps(x); }
  static reg zero() { return _mm256_setzero_ps(); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  static reg div(reg a, reg b) { return _mm256_div_ps(a, b); }
};
template <>
struct Half<double> {
  static constexpr int W = 4;
  static constexpr bool kMasked = true;
  using reg = __m256d;
  static __mmask8 mask(int64_t n) { return static_cast<__mmask8>((1u << n) - 1u); }
  static reg load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, reg a) { _mm256_storeu_pd(p, a); }
  static reg load_partial(const double* p, int64_t n) { return _mm256_maskz_loadu_pd(mask(n), p); }
  static void store_partial(double* p, int64_t n, reg a) { _mm256_mask_storeu_pd(p, mask(n), a); }
  static reg set1(double x) { return _mm256_set1_pd(x); }
  static reg zero() { return _mm256_setzero_pd(); }
  static reg add(reg a, reg b) { return _mm256_add_pd(a, b); }
  static reg sub(reg a, reg b) { return _mm256_sub_pd(a, b); }
  static reg mul(reg a, reg b) { return _mm256_mul_pd(a, b); }
  static reg div(reg a, reg b) { return _mm256_div_pd(a, b); }
};
template <class T>
using LoopVec = Half<T>;
#else
template <class T>
using LoopVec = Vec<T>;
#endif

template <class Op, Pattern P, class T>
inline void contiguous_loop(int64_t n, const T* a, const T* b, T* out) {
  using V = LoopVec<T>;
  constexpr int64_t W = V::W;
  using reg = typename V::reg;
  const reg as = P == Pattern::sv ? V::set1(*a) : V::zero();
  const reg bs = P == Pattern::vs ? V::set1(*b) : V::zero();
  auto lhs = [&](int64_t i) { return P == Pattern::sv ? as : V::load(a + i); };
  auto rhs = [&](int64_t i) { return P == Pattern::vs ? bs : V::load(b + i); };

  int64_t i = 0;
  // Two independent vectors per iteration hide the latency of div and of the loads.
  for (; i + 2 * W <= n; i += 2 * W) {
    const reg r0 = Op::template v<V>(lhs(i), rhs(i));
    const reg r1 = Op::template v<V>(lhs(i + W), rhs(i + W));
    V::store(out + i, r0);
    V::store(out + i + W, r1);
  }
  for (; i + W <= n; i += W) V::store(out + i, Op::template v<V>(lhs(i), rhs(i)));
  if (i == n) return;
  if constexpr (V::kMasked) {
    const int64_t r = n - i;
    const reg x = P == Pattern::sv ? as : V::load_partial(a + i, r);
    const reg y = P == Pattern::vs ? bs : V::load_partial(b + i, r);
    V::store_partial(out + i, r, Op::template v<V>(x, y));
  } else {
    for (; i < n; ++i) {
      const T x = P == Pattern::sv ? *a : a[i];
      const T y = P == Pattern::vs ? *b : b[i];
      out[i] = Op::s(x, y);
    }
  }
}

template <class Op, class T>
void binary_loop(int64_t n, const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t so) {
  if (so == 1) {
    if (sa == 1 && sb == 1) return contiguous_loop<Op, Pattern::vv>(n, a, b, out);
    if (sa == 0 && sb == 1) return contiguous_loop<Op, Pattern::sv>(n, a, b, out);
    if (sa == 1 && sb == 0) return contiguous_loop<Op, Pattern::vs>(n, a, b, out);
  }
  // Arbitrary strides (including both operands broadcast): no gathers, plain scalar code.
  for (int64_t i = 0; i < n; ++i) out[i * so] = Op::s(a[i * sa], b[i * sb]);
}

}  // namespace

extern const BinaryTable kBinaryTable;
const BinaryTable kBinaryTable = {
    {&binary_loop<AddOp, float>, &binary_loop<SubOp, float>, &binary_loop<MulOp, float>,
     &binary_loop<DivOp, float>},
    {&binary_loop<AddOp, double>, &binary_loop<SubOp, double>, &binary_loop<MulOp, double>,
     &binary_loop<DivOp, double>},
};

}  // namespace HW_ISA_NS
}  // namespace headwater
