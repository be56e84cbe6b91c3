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

template <class T>
void softplus_libm(int64_t n, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) {
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, and log1p keeps the tiny results
    // of very negative x accurate. A NaN propagates through both terms.
    const T v = x[i];
    y[i] = (v > T(0) ? v : T(0)) + std::log1p(std::exp(-std::fabs(v)));
    if (v != v) y[i] = v;
  }
}
template <class T>
void erf_libm(int64_t n, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::erf(x[i]);
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
  static f round(f a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // a * 2^n for integral n, exact over/underflow (denormal results rounded once).
  static f scalef(f a, f n) { return _mm512_scalef_ps(a, n); }
  // (VRANGEPS would clamp in one instruction but turns a NaN into the bound.)
  // MAXPS/MINPS return the second operand for a NaN, so NaN x passes through both clamps.
  static f clamp_abs(f x, f c) { return min(c, max(sub(_mm512_setzero_ps(), c), x)); }
  // -min(|x|, c).
  static f neg_clamp_abs(f x, f c) {
    return max(sub(_mm512_setzero_ps(), c),
               _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(x),
                                                   _mm512_set1_epi32(int(0x80000000u)))));
  }
  // One VPTERNLOGD: bits of `sign` where the mask has the sign bit, else bits of `mag`.
  static f copysign(f mag, f sign) {
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(
        _mm512_castps_si512(mag), _mm512_castps_si512(sign),
        _mm512_set1_epi32(int(0x80000000u)), 0xd8));
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
  static f round(f a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // a * 2^n for integral n in [-252, 254] as two power-of-two factors, so results that
  // overflow or are denormal come out right (a NaN a stays NaN whatever n holds).
  static f scalef(f a, f n) {
    const i ni = _mm256_cvtps_epi32(n);
    const i n1 = _mm256_srai_epi32(ni, 1);
    const i n2 = _mm256_sub_epi32(ni, n1);
    const i bias = _mm256_set1_epi32(127);
    const f s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const f s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(a, s1), s2);
  }
  // copysign(min(|x|, c), x); MAXPS/MINPS return the second operand for a NaN, so NaN x
  // passes through.
  static f clamp_abs(f x, f c) { return min(c, max(sub(_mm256_setzero_ps(), c), x)); }
  static f neg_clamp_abs(f x, f c) {
    return max(sub(_mm256_setzero_ps(), c),
               _mm256_or_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(int(0x80000000u)))));
  }
  static f copysign(f mag, f sign) {
    return _mm256_castsi256_ps(_mm256_or_si256(
        _mm256_and_si256(_mm256_castps_si256(mag), _mm256_set1_epi32(0x7fffffff)),
        _mm256_and_si256(_mm256_castps_si256(sign), _mm256_set1_epi32(int(0x80000000u)))));
  }
};
#endif

using f = F::f;

constexpr float kLog2e = 1.44269504088896341f;
// ln 2 split so that n * (kLn2Hi + kLn2Lo) carries ~48 bits: with FMAs the reduction
// x - n ln2 stays accurate to |n| = 150 and beyond.
constexpr float kLn2Hi = 0.693147182464599609375f;
constexpr float kLn2Lo = -1.904654299957768e-09f;
// ln 2 rounded to float (error 1.9e-9), for reductions that tolerate it (see tanh, sigmoid).
constexpr float kLn2 = kLn2Hi;
// 1.5 * 2^23: fma(x, c, kRoundMagic) - kRoundMagic is x * c rounded to an integer, for
// |x * c| < 2^22, and the shifted value's low mantissa bits hold that integer.
constexpr float kRoundMagic = 12582912.0f;

// e^x for x already clamped to [-104, 104] (or NaN): x = n ln2 + r with |r| <= ln2/2, a
// degree-5 minimax polynomial for e^r (relative error 1.1e-7 before rounding), then the exact
// scale by 2^n (scalef: overflow gives inf, deep underflow 0, denormals rounded once).
// 11 vector instructions in all, no integer work.
// e^r for the reduced argument (shared by exp and sigmoid).
inline f exp_poly(f r) {
  f p = F::set1(8.312049321830273e-3f);
  p = F::fma(p, r, F::set1(4.189449921250343e-2f));
  p = F::fma(p, r, F::set1(1.6667133569717407e-1f));
  p = F::fma(p, r, F::set1(4.999920129776001e-1f));
  p = F::fma(p, r, F::set1(1.0f));
  return F::fma(p, r, F::set1(1.0f));
}

inline f exp_clamped(f x) {
  const f n = F::round(F::mul(x, F::set1(kLog2e)));
  f r = F::fma(n, F::set1(-kLn2Hi), x);
  r = F::fma(n, F::set1(-kLn2Lo), r);
  return F::scalef(exp_poly(r), n);
}

// e^x: beyond |x| = 104 the result is inf or 0 anyway, so one clamp covers +-inf.
inline f exp_f(f x) { return exp_clamped(F::clamp_abs(x, F::set1(104.0f))); }

// log x: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then log(1 + (m - 1)) by a polynomial.
// x < 0 gives NaN, 0 gives -inf, inf stays inf.
inline f log_f(f x) {
#if HW_ISA_LEVEL == 2
  // VGETMANTPS/VGETEXPPS split x (denormals included) in two instructions, and one VFIXUPIMMPS
  // gives every special input its result, so the reduction costs 6 instructions instead of
  // ~20 (1.4x faster overall; bit-identical results for every float32 input).
  f m = _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);  // [1, 2)
  f fe = _mm512_getexp_ps(x);
  const __mmask16 high =
      _mm512_cmp_ps_mask(m, F::set1(2.0f * 0.707106781186547524f), _CMP_GE_OQ);
  m = F::sub(_mm512_mask_mul_ps(m, high, m, F::set1(0.5f)), F::set1(1.0f));
  fe = _mm512_mask_add_ps(fe, high, fe, F::set1(1.0f));
#else
  const f orig = x;
  // Denormals are scaled by 2^23 first.
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
#endif
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
#if HW_ISA_LEVEL == 2
  // Response per input class (4 bits each, from QNaN up): QNaN itself, SNaN quieted, +-0 -inf,
  // +1 +0, -inf NaN, +inf +inf, x < 0 NaN, x > 0 the value computed above.
  return _mm512_fixupimm_ps(r, x, _mm512_set1_epi32(0x03538421), 0);
#else
  // Special values, from the original input.
  const f inf = F::set1(INFINITY);
  r = F::select(F::eq(orig, F::set1(0.0f)), r, F::set1(-INFINITY));
  r = F::select(F::lt(orig, F::set1(0.0f)), r, F::set1(NAN));
  r = F::select(F::eq(orig, inf), r, inf);
  r = F::select(F::unord(orig), r, orig);
  return r;
#endif
}

// tanh |x| = -m / (2 + m) with m = expm1(-2|x|) in (-1, 0]: no cancellation anywhere, so the
// relative error stays uniform from 0 (denormals included) to 1. |x| is clamped to 10, where
// tanh already rounds to 1. expm1(y) = 2^n (expm1(r) + 1) - 1 with y = n ln2 + r, where
// 2^n - 1 is exact down to n = -24 (within an ulp of -1 below) and expm1(r) is a degree-5
// minimax polynomial (4.7e-7; tanh's worst case over every float in [1/16, 10] is 7.4e-7).
// The reduction works on h = -r / 2 = |x| + n ln2 / 2 so that -2|x| is never formed; the
// polynomial's coefficients absorb the powers of -2 exactly.
// The loop is bound by issue slots rather than latency, so every instruction counts: one FMA
// against M = 1.5 * 2^23 + 127 rounds to n and leaves n + 127 in the low mantissa bits, so a
// shift gives 2^n (n >= -29 here) with no convert or scalef; and a one-word ln 2 suffices, as
// its 1.9e-9 error times |n| <= 29 moves h by < 3e-8, which only matters where 2^n is tiny
// next to 1 (the worst case over every float stays 7.4e-7). About 10% faster than a
// round + scalef + two-word reduction on Zen 4.
inline f tanh_f(f x) {
  const f a = F::min(F::set1(10.0f), F::abs(x));  // NaN stays NaN (MINPS returns operand 2)
  const f shifted = F::fma(a, F::set1(-2.0f * kLog2e), F::set1(kRoundMagic + 127.0f));
  const f n = F::sub(shifted, F::set1(kRoundMagic + 127.0f));
  const f s = F::from_bits(F::shl23(F::bits(shifted)));  // 2^n
  const f h = F::fma(n, F::set1(0.5f * kLn2), a);
  // expm1(-2h) = h (-2 + 4 c2 h - 8 c3 h^2 + 16 c4 h^3 - 32 c5 h^4)
  f q = F::set1(-32.0f * 8.338157087564468e-3f);
  q = F::fma(q, h, F::set1(16.0f * 4.187667742371559e-2f));
  q = F::fma(q, h, F::set1(-8.0f * 1.666683703660965e-1f));
  q = F::fma(q, h, F::set1(4.0f * 4.9999380111694336e-1f));
  q = F::fma(q, h, F::set1(-2.0f));
  q = F::mul(q, h);
  const f m = F::fma(s, q, F::sub(s, F::set1(1.0f)));
  const f t = F::div(m, F::sub(F::set1(-2.0f), m));  // -m / (2 + m) >= 0 (or -0)
  return F::copysign(t, x);
}

// sigmoid: e = e^-|x| (never overflows), then 1 / (1 + e) for x >= 0 and e / (1 + e) below,
// so the tiny results of very negative x keep their relative accuracy. One division.
// As in tanh, one FMA against a shifter rounds to n, and the reduction uses a one-word ln 2:
// |n| <= 126 for normal results, so r moves by < 2.4e-7 and the worst relative error over
// every float is 4.1e-7 (at x = -87) instead of 2.7e-7, for one FMA fewer out of fifteen
// instructions, ~8% on Zen 4 (scalef still applies 2^n: results run down into the denormals).
inline f sigmoid_f(f x) {
  const f a = F::neg_clamp_abs(x, F::set1(104.0f));
  const f n = F::sub(F::fma(a, F::set1(kLog2e), F::set1(kRoundMagic)), F::set1(kRoundMagic));
  const f r = F::fma(n, F::set1(-kLn2), a);
  const f e = F::scalef(exp_poly(r), n);
  const f num = F::select(F::lt(x, F::set1(0.0f)), F::set1(1.0f), e);
  return F::div(num, F::add(F::set1(1.0f), e));
}

// softplus = max(x, 0) + log1p(e) with e = e^-|x| in (0, 1]; log1p(e) = 2 atanh(s) with
// s = e / (2 + e) in (0, 1/3], an odd series in s (degree-4 fit in s^2, 4.6e-9), so results for
// very negative x, where softplus(x) ~ e^x, keep full relative accuracy.
inline f softplus_f(f x) {
  const f e = exp_clamped(F::neg_clamp_abs(x, F::set1(104.0f)));
  const f s = F::div(e, F::add(F::set1(2.0f), e));
  const f z = F::mul(s, s);
  f w = F::set1(1.401563704e-01f);
  w = F::fma(w, z, F::set1(1.399893178e-01f));
  w = F::fma(w, z, F::set1(2.001088496e-01f));
  w = F::fma(w, z, F::set1(3.333320602e-01f));
  w = F::mul(w, z);
  const f s2 = F::add(s, s);
  const f l = F::fma(s2, w, s2);
  return F::add(F::max(F::set1(0.0f), x), l);  // MAXPS returns x when x is NaN
}

// erf: below |x| = 0.9, x P(x^2) (degree-5 fit of erf(x)/x, 1.2e-8 relative); above,
// 1 - e^(-x^2) R(t) with t = 1 / (1 + 0.47|x|) (degree-6 fit of erfc(x) e^(x^2), 3.1e-8
// relative, so about 1e-8 absolute on a result >= 0.79). |x| is clamped to 3.92, past which
// erf rounds to +-1.
inline f erf_f(f x) {
  const f a = F::min(F::set1(3.92f), F::abs(x));  // NaN stays NaN
  const f z = F::mul(a, a);
  f p = F::set1(-6.090360138e-04f);
  p = F::fma(p, z, F::set1(5.011962849e-03f));
  p = F::fma(p, z, F::set1(-2.677890893e-02f));
  p = F::fma(p, z, F::set1(1.128214081e-01f));
  p = F::fma(p, z, F::set1(-3.761252328e-01f));
  p = F::fma(p, z, F::set1(1.128379154e+00f));
  const f small = F::mul(p, x);  // keeps the sign of x, -0 and denormals included
  const f t = F::div(F::set1(1.0f), F::fma(a, F::set1(0.47f), F::set1(1.0f)));
  f r = F::set1(-1.133545480e-01f);
  r = F::fma(r, t, F::set1(1.609476784e-01f));
  r = F::fma(r, t, F::set1(2.257927420e-01f));
  r = F::fma(r, t, F::set1(1.740787952e-01f));
  r = F::fma(r, t, F::set1(2.918823342e-01f));
  r = F::fma(r, t, F::set1(2.597593500e-01f));
  r = F::fma(r, t, F::set1(4.319549228e-04f));
  const f big = F::copysign(
      F::sub(F::set1(1.0f), F::mul(exp_clamped(F::sub(F::set1(0.0f), z)), r)), x);
  return F::select(F::lt(a, F::set1(0.9f)), big, small);
}

template <f (*OP)(f)>
void vec_loop(int64_t n, const float* x, float* y) {
  constexpr int W = F::W;
  int64_t i = 0;
  // Two independent vectors per iteration keep both FMA pipes busy across the dependency
  // chains of one evaluation.
  for (; i + 2 * W <= n; i += 2 * W) {
    const f a = OP(F::load(x + i));
    const f b = OP(F::load(x + i + W));
    F::store(y + i, a);
    F::store(y + i + W, b);
  }
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
    {&vec_loop<exp_f>, &vec_loop<log_f>, &vec_loop<tanh_f>, &vec_loop<sigmoid_f>,
     &vec_loop<softplus_f>, &vec_loop<erf_f>},
    {&exp_libm<double>, &log_libm<double>, &tanh_libm<double>, &sigmoid_libm<double>,
     &softplus_libm<double>, &erf_libm<double>},
};
#else
const UnaryTable kUnaryTable = {
    {&exp_libm<float>, &log_libm<float>, &tanh_libm<float>, &sigmoid_libm<float>,
     &softplus_libm<float>, &erf_libm<float>},
    {&exp_libm<double>, &log_libm<double>, &tanh_libm<double>, &sigmoid_libm<double>,
     &softplus_libm<double>, &erf_libm<double>},
};
#endif

}  // namespace HW_ISA_NS
}  // namespace headwater
