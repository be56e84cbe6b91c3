// Per-ISA exp/log/tanh/sigmoid loops. Included once by each unary_<isa>.cpp after
// common/simd.h; see simd.h for why everything sits in headwater::HW_ISA_NS.

#include <cmath>
#include <cstring>

#include "elementwise/unary.h"

namespace headwater {
namespace HW_ISA_NS {
namespace {

// ---- libm loops: float64 everywhere, float32 on the scalar ISA ------------------------------

template <class T>
inline T sigmoid_scalar(T x) {
  // exp of -|x| never overflows; for x < 0 the e / (1 + e) form keeps tiny results accurate.
  const T e = std::exp(-std::fabs(x));
  const T s = T(1) / (T(1) + e);
  return x >= T(0) ? s : e * s;
}

template <class T>
void exp_libm(int64_t n, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}
template <class T>
void log_libm(int64_t n, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::log(x[i]);
}
template <class T>
void tanh_libm(int64_t n, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
template <class T>
void sigmoid_libm(int64_t n, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    y[i] = v != v ? v : sigmoid_scalar(v);
  }
}

#if HW_ISA_LEVEL >= 1

// ---- float32 vector math ----------------------------------------------------------------------

#if HW_ISA_LEVEL == 2
struct F {
  static constexpr int W = 16;
  using f = __m512;
  using i = __m512i;
  using m = __mmask16;
  static f set1(float v) { return _mm512_set1_ps(v); }
  static i set1i(int v) { return _mm512_set1_epi32(v); }
  static f load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, f v) { _mm512_storeu_ps(p, v); }
  static f add(f a, f b) { return _mm512_add_ps(a, b); }
  static f sub(f a, f b) { return _mm512_sub_ps(a, b); }
  static f mul(f a, f b) { return _mm512_mul_ps(a, b); }
  static f div(f a, f b) { return _mm512_div_ps(a, b); }
  static f fma(f a, f b, f c) { return _mm512_fmadd_ps(a, b, c); }
  static f max(f a, f b) { return _mm512_max_ps(a, b); }
  static f min(f a, f b) { return _mm512_min_ps(a, b); }
  static f abs(f a) { return _mm512_abs_ps(a); }
  static m lt(f a, f b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static m ge(f a, f b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static m eq(f a, f b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static m unord(f a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static f select(m k, f if_false, f if_true) { return _mm512_mask_blend_ps(k, if_false, if_true); }
  static i round_int(f a) { return _mm512_cvtps_epi32(a); }
  static f to_float(i a) { return _mm512_cvtepi32_ps(a); }
  static i addi(i a, i b) { return _mm512_add_epi32(a, b); }
  static i subi(i a, i b) { return _mm512_sub_epi32(a, b); }
  static i srai1(i a) { return _mm512_srai_epi32(a, 1); }
  static i shl23(i a) { return _mm512_slli_epi32(a, 23); }
  static i shr23(i a) { return _mm512_srli_epi32(a, 23); }
  static i andi(i a, i b) { return _mm512_and_si512(a, b); }
  static i ori(i a, i b) { return _mm512_or_si512(a, b); }
  static i bits(f a) { return _mm512_castps_si512(a); }
  static f from_bits(i a) { return _mm512_castsi512_ps(a); }
  static f copysign(f mag, f sign) {
    return _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_and_si512(_mm512_castps_si512(mag), _mm512_set1_epi32(0x7fffffff)),
        _mm512_and_si512(_mm512_castps_si512(sign), _mm512_set1_epi32(int(0x80000000u)))));
  }
};
#else
struct F {
  static constexpr int W = 8;
  using f = __m256;
  using i = __m256i;
  using m = __m256;
  static f set1(float v) { return _mm256_set1_ps(v); }
  static i set1i(int v) { return _mm256_set1_epi32(v); }
  static f load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, f v) { _mm256_storeu_ps(p, v); }
  static f add(f a, f b) { return _mm256_add_ps(a, b); }
  static f sub(f a, f b) { return _mm256_sub_ps(a, b); }
  static f mul(f a, f b) { return _mm256_mul_ps(a, b); }
  static f div(f a, f b) { return _mm256_div_ps(a, b); }
  static f fma(f a, f b, f c) { return _mm256_fmadd_ps(a, b, c); }
  static f max(f a, f b) { return _mm256_max_ps(a, b); }
  static f min(f a, f b) { return _mm256_min_ps(a, b); }
  static f abs(f a) {
    return _mm256_castsi256_ps(
        _mm256_and_si256(_mm256_castps_si256(a), _mm256_set1_epi32(0x7fffffff)));
  }
  static m lt(f a, f b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static m ge(f a, f b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static m eq(f a, f b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static m unord(f a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static f select(m k, f if_false, f if_true) { return _mm256_blendv_ps(if_false, if_true, k); }
  static i round_int(f a) { return _mm256_cvtps_epi32(a); }
  static f to_float(i a) { return _mm256_cvtepi32_ps(a); }
  static i addi(i a, i b) { return _mm256_add_epi32(a, b); }
  static i subi(i a, i b) { return _mm256_sub_epi32(a, b); }
  static i srai1(i a) { return _mm256_srai_epi32(a, 1); }
  static i shl23(i a) { return _mm256_slli_epi32(a, 23); }
  static i shr23(i a) { return _mm256_srli_epi32(a, 23); }
  static i andi(i a, i b) { return _mm256_and_si256(a, b); }
  static i ori(i a, i b) { return _mm256_or_si256(a, b); }
  static i bits(f a) { return _mm256_castps_si256(a); }
  static f from_bits(i a) { return _mm256_castsi256_ps(a); }
  static f copysign(f mag, f sign) {
    return _mm256_castsi256_ps(_mm256_or_si256(
        _mm256_and_si256(_mm256_castps_si256(mag), _mm256_set1_epi32(0x7fffffff)),
        _mm256_and_si256(_mm256_castps_si256(sign), _mm256_set1_epi32(int(0x80000000u)))));
  }
};
#endif

using f = F::f;

// e^x: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two so n ln2 is exact), a degree-6
// polynomial for e^r, then the scale 2^n applied as two factors 2^(n/2) * 2^(n - n/2) so results
// that overflow or are denormal come out right without special cases. Inputs are clamped to
// [-104, 89] first (e^x is 0 or inf beyond); a NaN passes through the clamp unchanged.
inline f exp_f(f x) {
  x = F::min(F::set1(89.0f), F::max(F::set1(-104.0f), x));
  const f n = F::to_float(F::round_int(F::mul(x, F::set1(1.44269504088896341f))));
  f r = F::fma(n, F::set1(-0.693359375f), x);
  r = F::fma(n, F::set1(2.12194440e-4f), r);
  f p = F::set1(1.9875691500e-4f);
  p = F::fma(p, r, F::set1(1.3981999507e-3f));
  p = F::fma(p, r, F::set1(8.3334519073e-3f));
  p = F::fma(p, r, F::set1(4.1665795894e-2f));
  p = F::fma(p, r, F::set1(1.6666665459e-1f));
  p = F::fma(p, r, F::set1(5.0000001201e-1f));
  p = F::fma(p, F::mul(r, r), F::add(r, F::set1(1.0f)));
  const F::i ni = F::round_int(n);
  const F::i n1 = F::srai1(ni);
  const F::i n2 = F::subi(ni, n1);
  const f s1 = F::from_bits(F::shl23(F::addi(n1, F::set1i(127))));
  const f s2 = F::from_bits(F::shl23(F::addi(n2, F::set1i(127))));
  return F::mul(F::mul(p, s1), s2);
}

// log x: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then log(1 + (m - 1)) by a polynomial.
// Denormals are scaled by 2^23 first; x < 0 gives NaN, 0 gives -inf, inf stays inf.
inline f log_f(f x) {
  const f orig = x;
  const F::m tiny = F::lt(x, F::set1(1.17549435e-38f));
  x = F::select(tiny, x, F::mul(x, F::set1(8388608.0f)));
  const F::i b = F::bits(x);
  const f e_norm = F::to_float(F::subi(F::shr23(b), F::set1i(126)));
  f fe = F::select(tiny, e_norm, F::sub(e_norm, F::set1(23.0f)));
  f m = F::from_bits(F::ori(F::andi(b, F::set1i(0x007fffff)), F::set1i(0x3f000000)));
  // m in [0.5, 1): fold [0.5, sqrt(1/2)) up to [1, sqrt(2)) so the argument stays near 1.
  const F::m small = F::lt(m, F::set1(0.707106781186547524f));
  fe = F::select(small, fe, F::sub(fe, F::set1(1.0f)));
  m = F::select(small, F::sub(m, F::set1(1.0f)), F::sub(F::add(m, m), F::set1(1.0f)));
  const f z = F::mul(m, m);
  f p = F::set1(7.0376836292e-2f);
  p = F::fma(p, m, F::set1(-1.1514610310e-1f));
  p = F::fma(p, m, F::set1(1.1676998740e-1f));
  p = F::fma(p, m, F::set1(-1.2420140846e-1f));
  p = F::fma(p, m, F::set1(1.4249322787e-1f));
  p = F::fma(p, m, F::set1(-1.6668057665e-1f));
  p = F::fma(p, m, F::set1(2.0000714765e-1f));
  p = F::fma(p, m, F::set1(-2.4999993993e-1f));
  p = F::fma(p, m, F::set1(3.3333331174e-1f));
  f y = F::mul(F::mul(p, m), z);
  y = F::fma(fe, F::set1(-2.12194440e-4f), y);
  y = F::fma(z, F::set1(-0.5f), y);
  f r = F::add(m, y);
  r = F::fma(fe, F::set1(0.693359375f), r);
  // Special values, from the original input.
  const f inf = F::set1(INFINITY);
  r = F::select(F::eq(orig, F::set1(0.0f)), r, F::set1(-INFINITY));
  r = F::select(F::lt(orig, F::set1(0.0f)), r, F::set1(NAN));
  r = F::select(F::eq(orig, inf), r, inf);
  r = F::select(F::unord(orig), r, orig);
  return r;
}

// tanh: an odd polynomial below |x| = 0.625, else sign(x) (1 - 2 / (e^(2|x|) + 1)).
inline f tanh_f(f x) {
  const f ax = F::abs(x);
  const f z = F::mul(x, x);
  f p = F::set1(-5.70498872745e-3f);
  p = F::fma(p, z, F::set1(2.06390887954e-2f));
  p = F::fma(p, z, F::set1(-5.37397155531e-2f));
  p = F::fma(p, z, F::set1(1.33314422036e-1f));
  p = F::fma(p, z, F::set1(-3.33332819422e-1f));
  const f small = F::fma(F::mul(p, z), x, x);
  const f t = exp_f(F::add(ax, ax));
  const f big = F::sub(F::set1(1.0f), F::div(F::set1(2.0f), F::add(t, F::set1(1.0f))));
  // copysign on both branches: the polynomial turns -0 into +0.
  f r = F::copysign(F::select(F::lt(ax, F::set1(0.625f)), big, small), x);
  return F::select(F::unord(x), r, x);
}

// sigmoid: e = e^-|x|, 1 / (1 + e) for x >= 0 and e / (1 + e) below, so tiny results of very
// negative x keep their relative accuracy.
inline f sigmoid_f(f x) {
  const f e = exp_f(F::sub(F::set1(0.0f), F::abs(x)));
  const f s = F::div(F::set1(1.0f), F::add(F::set1(1.0f), e));
  const f r = F::select(F::ge(x, F::set1(0.0f)), F::mul(e, s), s);
  return F::select(F::unord(x), r, x);
}

template <f (*OP)(f)>
void vec_loop(int64_t n, const float* x, float* y) {
  constexpr int W = F::W;
  int64_t i = 0;
  for (; i + W <= n; i += W) F::store(y + i, OP(F::load(x + i)));
  if (i < n) {
    // The tail goes through the same vector code via a padded copy.
    alignas(64) float buf[W];
    for (int j = 0; j < W; ++j) buf[j] = i + j < n ? x[i + j] : 1.0f;
    F::store(buf, OP(F::load(buf)));
    for (int64_t j = 0; i + j < n; ++j) y[i + j] = buf[j];
  }
}

#endif  // HW_ISA_LEVEL >= 1

}  // namespace

extern const UnaryTable kUnaryTable;
#if HW_ISA_LEVEL >= 1
const UnaryTable kUnaryTable = {
    {&vec_loop<exp_f>, &vec_loop<log_f>, &vec_loop<tanh_f>, &vec_loop<sigmoid_f>},
    {&exp_libm<double>, &log_libm<double>, &tanh_libm<double>, &sigmoid_libm<double>},
};
#else
const UnaryTable kUnaryTable = {
    {&exp_libm<float>, &log_libm<float>, &tanh_libm<float>, &sigmoid_libm<float>},
    {&exp_libm<double>, &log_libm<double>, &tanh_libm<double>, &sigmoid_libm<double>},
};
#endif

}  // namespace HW_ISA_NS
}  // namespace headwater
