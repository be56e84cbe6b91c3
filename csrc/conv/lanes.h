// Channel-lane helpers for the pooling and direct-convolution kernels of ONE instruction set.
// Included by each per-ISA file right after common/simd.h (same rules: no include guard,
// everything in headwater::HW_ISA_NS so the copies built with different -m flags stay apart).
//
// Besides what simd.h's Vec offers, the pool kernels need compares and selects (a running
// first maximum, NaN rules included) and the kernels need partial loads/stores for the last
// few channels. AVX-512 uses native masked loads/stores; AVX2's masked store is microcoded and
// slow on AMD, so AVX2 and the baseline go through a small stack buffer on tails only.

#include <cstdint>
#include <cstring>

namespace headwater {
namespace HW_ISA_NS {

template <class T>
struct Lanes;

#if HW_ISA_LEVEL == 0

// 16-byte "registers" written as plain loops; compilers map them onto SSE2.
template <class T>
struct GenericLanes {
  static constexpr int W = static_cast<int>(16 / sizeof(T));
  struct reg {
    T v[W];
  };
  struct msk {
    bool v[W];
  };
  static reg load(const T* p) {
    reg r;
    for (int i = 0; i < W; ++i) r.v[i] = p[i];
    return r;
  }
  static void store(T* p, reg a) {
    for (int i = 0; i < W; ++i) p[i] = a.v[i];
  }
  static reg loadn(const T* p, int64_t n) {
    reg r;
    for (int i = 0; i < W; ++i) r.v[i] = i < n ? p[i] : T(0);
    return r;
  }
  static void storen(T* p, int64_t n, reg a) {
    for (int i = 0; i < W && i < n; ++i) p[i] = a.v[i];
  }
  static reg set1(T x) {
    reg r;
    for (int i = 0; i < W; ++i) r.v[i] = x;
    return r;
  }
  static reg zero() { return set1(T(0)); }
  static reg add(reg a, reg b) {
    for (int i = 0; i < W; ++i) a.v[i] += b.v[i];
    return a;
  }
  static reg div(reg a, reg b) {
    for (int i = 0; i < W; ++i) a.v[i] /= b.v[i];
    return a;
  }
  // Not fused, like simd.h's baseline: no FMA instruction to map it onto.
  static reg fmadd(reg a, reg b, reg c) {
    for (int i = 0; i < W; ++i) c.v[i] += a.v[i] * b.v[i];
    return c;
  }
  // Lanes where v replaces the running maximum m: m is not NaN and (v > m or v is NaN).
  static msk take_max(reg v, reg m) {
    msk k;
    for (int i = 0; i < W; ++i)
      k.v[i] = (m.v[i] == m.v[i]) & ((v.v[i] > m.v[i]) | (v.v[i] != v.v[i]));
    return k;
  }
  // Lanes where v is the maximum m (v is NaN only when m is).
  static msk hit(reg v, reg m) {
    msk k;
    for (int i = 0; i < W; ++i) k.v[i] = (v.v[i] == m.v[i]) | (v.v[i] != v.v[i]);
    return k;
  }
  static reg blend(msk k, reg a, reg b) {  // k ? b : a
    for (int i = 0; i < W; ++i) a.v[i] = k.v[i] ? b.v[i] : a.v[i];
    return a;
  }
  static reg keep(msk k, reg a) {  // k ? a : 0
    for (int i = 0; i < W; ++i) a.v[i] = k.v[i] ? a.v[i] : T(0);
    return a;
  }
  static msk none() {
    msk k;
    for (int i = 0; i < W; ++i) k.v[i] = false;
    return k;
  }
  static msk andnot(msk a, msk b) {  // ~a & b
    for (int i = 0; i < W; ++i) b.v[i] = !a.v[i] & b.v[i];
    return b;
  }
  static msk or_(msk a, msk b) {
    for (int i = 0; i < W; ++i) a.v[i] = a.v[i] | b.v[i];
    return a;
  }
  static T sum(reg a) {  // pairwise, like the SIMD variants
    for (int h = W / 2; h > 0; h /= 2)
      for (int i = 0; i < h; ++i) a.v[i] += a.v[i + h];
    return a.v[0];
  }
};
template <>
struct Lanes<float> : GenericLanes<float> {};
template <>
struct Lanes<double> : GenericLanes<double> {};

#elif HW_ISA_LEVEL == 1

inline float hsum(__m256 a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline double hsum(__m256d a) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}

#define HW_AVX2_LANES(T, R, S, W_)                                                         \
  static constexpr int W = W_;                                                             \
  using reg = R;                                                                           \
  using msk = R;                                                                           \
  static reg load(const T* p) { return _mm256_loadu_##S(p); }                              \
  static void store(T* p, reg a) { _mm256_storeu_##S(p, a); }                              \
  static reg loadn(const T* p, int64_t n) {                                                \
    alignas(32) T tmp[W] = {};                                                             \
    std::memcpy(tmp, p, sizeof(T) * static_cast<std::size_t>(n));                          \
    return _mm256_load_##S(tmp);                                                           \
  }                                                                                        \
  static void storen(T* p, int64_t n, reg a) {                                             \
    alignas(32) T tmp[W];                                                                  \
    _mm256_store_##S(tmp, a);                                                              \
    std::memcpy(p, tmp, sizeof(T) * static_cast<std::size_t>(n));                         \
  }                                                                                        \
  static reg set1(T x) { return _mm256_set1_##S(x); }                                      \
  static reg zero() { return _mm256_setzero_##S(); }                                      \
  static reg add(reg a, reg b) { return _mm256_add_##S(a, b); }                            \
  static reg div(reg a, reg b) { return _mm256_div_##S(a, b); }                            \
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_##S(a, b, c); }              \
  static msk take_max(reg v, reg m) {                                                      \
    return _mm256_and_##S(_mm256_cmp_##S(m, m, _CMP_ORD_Q), _mm256_cmp_##S(v, m, _CMP_NLE_UQ)); \
  }                                                                                        \
  static msk hit(reg v, reg m) {                                                           \
    return _mm256_or_##S(_mm256_cmp_##S(v, m, _CMP_EQ_OQ), _mm256_cmp_##S(v, v, _CMP_UNORD_Q)); \
  }                                                                                        \
  static reg blend(msk k, reg a, reg b) { return _mm256_blendv_##S(a, b, k); }             \
  static reg keep(msk k, reg a) { return _mm256_and_##S(k, a); }                           \
  static msk none() { return _mm256_setzero_##S(); }                                       \
  static msk andnot(msk a, msk b) { return _mm256_andnot_##S(a, b); }                      \
  static msk or_(msk a, msk b) { return _mm256_or_##S(a, b); }                            \
  static T sum(reg a) { return hsum(a); }

template <>
struct Lanes<float> {
  HW_AVX2_LANES(float, __m256, ps, 8)
};
template <>
struct Lanes<double> {
  HW_AVX2_LANES(double, __m256d, pd, 4)
};
#undef HW_AVX2_LANES

#elif HW_ISA_LEVEL == 2

#define HW_AVX512_LANES(T, R, S, M, W_)                                                     \
  static constexpr int W = W_;                                                             \
  using reg = R;                                                                           \
  using msk = M;                                                                           \
  static msk first(int64_t n) { return static_cast<msk>((1u << n) - 1u); }                 \
  static reg load(const T* p) { return _mm512_loadu_##S(p); }                              \
  static void store(T* p, reg a) { _mm512_storeu_##S(p, a); }                              \
  static reg loadn(const T* p, int64_t n) { return _mm512_maskz_loadu_##S(first(n), p); }  \
  static void storen(T* p, int64_t n, reg a) { _mm512_mask_storeu_##S(p, first(n), a); }   \
  static reg set1(T x) { return _mm512_set1_##S(x); }                                      \
  static reg zero() { return _mm512_setzero_##S(); }                                       \
  static reg add(reg a, reg b) { return _mm512_add_##S(a, b); }                            \
  static reg div(reg a, reg b) { return _mm512_div_##S(a, b); }                            \
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_##S(a, b, c); }              \
  static msk take_max(reg v, reg m) {                                                      \
    return static_cast<msk>(_mm512_cmp_##S##_mask(m, m, _CMP_ORD_Q) &                      \
                            _mm512_cmp_##S##_mask(v, m, _CMP_NLE_UQ));                     \
  }                                                                                        \
  static msk hit(reg v, reg m) {                                                           \
    return static_cast<msk>(_mm512_cmp_##S##_mask(v, m, _CMP_EQ_OQ) |                      \
                            _mm512_cmp_##S##_mask(v, v, _CMP_UNORD_Q));                    \
  }                                                                                        \
  static reg blend(msk k, reg a, reg b) { return _mm512_mask_mov_##S(a, k, b); }           \
  static reg keep(msk k, reg a) { return _mm512_maskz_mov_##S(k, a); }                     \
  static msk none() { return 0; }                                                          \
  static msk andnot(msk a, msk b) { return static_cast<msk>(~a & b); }                     \
  static msk or_(msk a, msk b) { return static_cast<msk>(a | b); }                        \
  static T sum(reg a) { return _mm512_reduce_add_##S(a); }

template <>
struct Lanes<float> {
  HW_AVX512_LANES(float, __m512, ps, __mmask16, 16)
};
template <>
struct Lanes<double> {
  HW_AVX512_LANES(double, __m512d, pd, __mmask8, 8)
};
#undef HW_AVX512_LANES

#else
#error "unknown HW_ISA_LEVEL"
#endif

}  // namespace HW_ISA_NS
}  // namespace headwater
