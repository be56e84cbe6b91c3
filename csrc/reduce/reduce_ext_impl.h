// Per-ISA loops for max/min/prod/arg reductions, written so the compiler vectorises them with
// the including file's ISA flags. Included once by each reduce_ext_<isa>.cpp after
// common/simd.h; see simd.h for why everything sits in headwater::HW_ISA_NS (and why no std
// templates are instantiated here).

#include <cfloat>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "reduce/reduce_ext.h"

namespace headwater {
namespace HW_ISA_NS {
namespace {

template <class T>
constexpr T highest_v();
template <>
constexpr float highest_v<float>() {
  return FLT_MAX;
}
template <>
constexpr double highest_v<double>() {
  return DBL_MAX;
}
template <>
constexpr int32_t highest_v<int32_t>() {
  return INT32_MAX;
}
template <>
constexpr int64_t highest_v<int64_t>() {
  return INT64_MAX;
}
template <class T>
constexpr T lowest_v();
template <>
constexpr float lowest_v<float>() {
  return -FLT_MAX;
}
template <>
constexpr double lowest_v<double>() {
  return -DBL_MAX;
}
template <>
constexpr int32_t lowest_v<int32_t>() {
  return INT32_MIN;
}
template <>
constexpr int64_t lowest_v<int64_t>() {
  return INT64_MIN;
}

// Branch-free steps. `v != v` is false for integers, so the NaN tests vanish there. Once an
// accumulator holds NaN neither comparison can replace it.
struct MaxOp {
  template <class T>
  static T step(T acc, T v) {
    return (v > acc || v != v) ? v : acc;
  }
};
struct MinOp {
  template <class T>
  static T step(T acc, T v) {
    return (v < acc || v != v) ? v : acc;
  }
};
struct ProdOp {
  template <class T>
  static T step(T acc, T v) {
    return acc * v;
  }
};
// Integer products wrap like TF's (two's complement), computed unsigned to stay defined.
template <>
inline int32_t ProdOp::step<int32_t>(int32_t acc, int32_t v) {
  return static_cast<int32_t>(static_cast<uint32_t>(acc) * static_cast<uint32_t>(v));
}
template <>
inline int64_t ProdOp::step<int64_t>(int64_t acc, int64_t v) {
  return static_cast<int64_t>(static_cast<uint64_t>(acc) * static_cast<uint64_t>(v));
}

// K independent accumulators (two 64-byte vectors' worth) so the loop vectorises; they are
// combined in a fixed order.
template <class Op, class T>
T contig(int64_t n, const T* x) {
  constexpr int K = static_cast<int>(128 / sizeof(T));
  if (n < 2 * K) {
    T r = x[0];
    for (int64_t i = 1; i < n; ++i) r = Op::step(r, x[i]);
    return r;
  }
  T acc[K];
  for (int k = 0; k < K; ++k) acc[k] = x[k];
  int64_t i = K;
  for (; i + K <= n; i += K)
    for (int k = 0; k < K; ++k) acc[k] = Op::step(acc[k], x[i + k]);
  T r = acc[0];
  for (int k = 1; k < K; ++k) r = Op::step(r, acc[k]);
  for (; i < n; ++i) r = Op::step(r, x[i]);
  return r;
}

template <class Op, class T>
void cols(int64_t rows, int64_t B, int64_t stride, const T* x, T* acc) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * stride;
    for (int64_t b = 0; b < B; ++b) acc[b] = Op::step(acc[b], xr[b]);
  }
}

// Max (min) of the non-NaN values, from the lowest (highest) finite value.
template <bool MAX, class T>
T best_contig(int64_t n, const T* x) {
  constexpr int K = static_cast<int>(128 / sizeof(T));
  T acc[K];
  for (int k = 0; k < K; ++k) acc[k] = MAX ? lowest_v<T>() : highest_v<T>();
  int64_t i = 0;
  for (; i + K <= n; i += K)
    for (int k = 0; k < K; ++k) {
      const T v = x[i + k];
      acc[k] = (MAX ? v > acc[k] : v < acc[k]) ? v : acc[k];
    }
  T r = acc[0];
  for (int k = 1; k < K; ++k) r = (MAX ? acc[k] > r : acc[k] < r) ? acc[k] : r;
  for (; i < n; ++i) r = (MAX ? x[i] > r : x[i] < r) ? x[i] : r;
  return r;
}

template <bool MAX, class T>
void arg_cols(int64_t r0, int64_t rows, int64_t B, int64_t stride, const T* x, T* best,
              int64_t* idx) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * stride;
    const int64_t ri = r0 + r;
    for (int64_t b = 0; b < B; ++b) {
      const T v = xr[b];
      const bool better = MAX ? v > best[b] : v < best[b];
      best[b] = better ? v : best[b];
      idx[b] = better ? ri : idx[b];
    }
  }
}

// ---- float/double max, min and arg scans with explicit vectors ---------------------------------
// Vec<T>::max(x, acc) is MAXPS(x, acc) = x > acc ? x : acc: a NaN x leaves acc alone, so NaNs
// are found separately, on the integer bits of each (cache-resident) run: |bits| above the
// infinity pattern.

template <class T>
struct Bits;
template <>
struct Bits<float> {
  using U = uint32_t;
  static constexpr U kAbs = 0x7fffffffu, kInf = 0x7f800000u;
};
template <>
struct Bits<double> {
  using U = uint64_t;
  static constexpr U kAbs = 0x7fffffffffffffffull, kInf = 0x7ff0000000000000ull;
};

template <class T>
bool has_nan(int64_t n, const T* x) {
  using U = typename Bits<T>::U;
  U m = 0;
  for (int64_t i = 0; i < n; ++i) {
    U u;
    std::memcpy(&u, x + i, sizeof(U));
    u &= Bits<T>::kAbs;
    m = u > m ? u : m;
  }
  return m > Bits<T>::kInf;
}

constexpr int64_t kRunF = 2048;

// max (MAX) or min of the non-NaN values of n elements, from `start`; if `nan_out` is given,
// it is set when a NaN is present (and the scan stops there).
template <bool MAX, class T>
T vec_best(int64_t n, const T* x, T start, bool* nan_out) {
  using V = Vec<T>;
  using reg = typename V::reg;
  constexpr int64_t W = V::W;
  reg a0 = V::set1(start), a1 = a0, a2 = a0, a3 = a0;
  T tail = start;
  for (int64_t i0 = 0; i0 < n; i0 += kRunF) {
    const int64_t len = imin(kRunF, n - i0);
    const T* p = x + i0;
    // s sums the run: it can only be non-finite if the run holds a NaN (or an infinity, or
    // overflows), and only then are the run's bits checked exactly.
    reg s = V::zero();
    int64_t i = 0;
    for (; i + 4 * W <= len; i += 4 * W) {
      const reg x0 = V::load(p + i), x1 = V::load(p + i + W);
      const reg x2 = V::load(p + i + 2 * W), x3 = V::load(p + i + 3 * W);
      if (MAX) {
        a0 = V::max(x0, a0);
        a1 = V::max(x1, a1);
        a2 = V::max(x2, a2);
        a3 = V::max(x3, a3);
      } else {
        a0 = V::min(x0, a0);
        a1 = V::min(x1, a1);
        a2 = V::min(x2, a2);
        a3 = V::min(x3, a3);
      }
      if (nan_out != nullptr) s = V::add(s, V::add(V::add(x0, x1), V::add(x2, x3)));
    }
    const int64_t vec_end = i;
    for (; i < len; ++i) tail = (MAX ? p[i] > tail : p[i] < tail) ? p[i] : tail;
    if (nan_out != nullptr) {
      alignas(64) T ls[W];
      V::store(ls, s);
      T t = T(0);
      for (int64_t j = 0; j < W; ++j) t += ls[j];
      for (int64_t j = vec_end; j < len; ++j) t += p[j];
      if (!(t - t == T(0)) && has_nan(len, p)) {
        *nan_out = true;
        return start;
      }
    }
  }
  if (MAX) {
    a0 = V::max(V::max(a0, a1), V::max(a2, a3));
  } else {
    a0 = V::min(V::min(a0, a1), V::min(a2, a3));
  }
  alignas(64) T lanes[W];
  V::store(lanes, a0);
  T r = tail;
  for (int64_t j = 0; j < W; ++j) r = (MAX ? lanes[j] > r : lanes[j] < r) ? lanes[j] : r;
  return r;
}

template <bool MAX, class T>
T vec_contig(int64_t n, const T* x) {
  bool nan = false;
  const T inf = MAX ? -highest_v<T>() * T(2) : highest_v<T>() * T(2);  // -inf / +inf
  const T r = vec_best<MAX>(n, x, inf, &nan);
  return nan ? inf - inf : r;  // inf - inf: a quiet NaN without <cmath>
}

template <bool MAX, class T>
T vec_best_contig(int64_t n, const T* x) {
  return vec_best<MAX>(n, x, MAX ? lowest_v<T>() : highest_v<T>(), nullptr);
}

template <bool MAX, class T>
T best_contig_dispatch(int64_t n, const T* x) {
  if constexpr (T(1) / T(2) != T(0)) {
    return vec_best_contig<MAX, T>(n, x);
  } else {
    return best_contig<MAX, T>(n, x);
  }
}

// Column max/min, row by row (streaming through x) with the accumulators in L1. Vec's max/min
// ignore a NaN in x (an accumulator that already holds NaN keeps it), so every value is also
// summed; a non-finite sum (a NaN, or an inf / overflow) reruns the columns through the exact
// loop from the saved starting values.
constexpr int64_t kColsMax = 4096;

template <bool MAX, class T>
void vec_cols(int64_t rows, int64_t B, int64_t stride, const T* x, T* acc) {
  using V = Vec<T>;
  using reg = typename V::reg;
  constexpr int64_t W = V::W;
  using Op = typename std::conditional<MAX, MaxOp, MinOp>::type;
  const int64_t Bv = B / W * W;
  if (B > kColsMax || Bv == 0) return cols<Op, T>(rows, B, stride, x, acc);
  alignas(64) T saved[kColsMax];
  for (int64_t b = 0; b < Bv; ++b) saved[b] = acc[b];
  reg s0 = V::zero(), s1 = V::zero();
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * stride;
    int64_t b = 0;
    for (; b + 2 * W <= Bv; b += 2 * W) {
      const reg x0 = V::load(xr + b), x1 = V::load(xr + b + W);
      const reg a0 = V::load(acc + b), a1 = V::load(acc + b + W);
      V::store(acc + b, MAX ? V::max(x0, a0) : V::min(x0, a0));
      V::store(acc + b + W, MAX ? V::max(x1, a1) : V::min(x1, a1));
      s0 = V::add(s0, x0);
      s1 = V::add(s1, x1);
    }
    for (; b < Bv; b += W) {
      const reg x0 = V::load(xr + b);
      const reg a0 = V::load(acc + b);
      V::store(acc + b, MAX ? V::max(x0, a0) : V::min(x0, a0));
      s0 = V::add(s0, x0);
    }
  }
  alignas(64) T ls[W];
  V::store(ls, V::add(s0, s1));
  T t = T(0);
  for (int64_t j = 0; j < W; ++j) t += ls[j];
  if (!(t - t == T(0))) {
    for (int64_t b = 0; b < Bv; ++b) acc[b] = saved[b];
    cols<Op, T>(rows, Bv, stride, x, acc);
  }
  cols<Op, T>(rows, B - Bv, stride, x + Bv, acc + Bv);
}

// Index of the first element equal to v (n if none), in short runs: a branch-free "any equal"
// per run vectorises, and only the run that holds it is scanned element by element.
template <class T>
int64_t find_first(int64_t n, const T* x, T v) {
  constexpr int64_t kRun = 64;
  for (int64_t i0 = 0; i0 < n; i0 += kRun) {
    const int64_t len = imin(kRun, n - i0);
    const T* p = x + i0;
    int any = 0;
    for (int64_t j = 0; j < len; ++j) any |= p[j] == v;
    if (any)
      for (int64_t j = 0; j < len; ++j)
        if (p[j] == v) return i0 + j;
  }
  return n;
}

// Arg max/min of n >= 1 contiguous elements (TF's strict rule from the lowest/highest finite
// value): the best value, then its first index.
template <bool MAX, class T>
int64_t arg_two_pass(int64_t n, const T* x) {
  const T start = MAX ? lowest_v<T>() : highest_v<T>();
  const T best = best_contig_dispatch<MAX, T>(n, x);
  if (!(MAX ? best > start : best < start)) return 0;
  const int64_t i = find_first<T>(n, x, best);
  return i < n ? i : 0;
}

#if HW_ISA_LEVEL == 2
// float32 on AVX-512 in one pass: each lane keeps its first best value and that index
// (compare, two masked blends); lanes are merged by value, then lowest index. Lanes past the
// end load `start`, which never wins. Equal to the sequential strict scan.
template <bool MAX>
int64_t arg_one_pass_f32(int64_t n, const float* x) {
  const float start = MAX ? -FLT_MAX : FLT_MAX;
  constexpr int64_t kChunk = int64_t(1) << 30;  // int32 lane indices
  float best = start;
  int64_t bidx = 0;
  for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const int64_t len = imin(kChunk, n - c0);
    const float* p = x + c0;
    // Four independent lane groups hide the compare/blend latency.
    __m512 bv[4];
    __m512i bi[4];
    for (int g = 0; g < 4; ++g) bv[g] = _mm512_set1_ps(start), bi[g] = _mm512_setzero_si512();
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int cmp = MAX ? _CMP_GT_OQ : _CMP_LT_OQ;
    int64_t i = 0;
    for (; i + 64 <= len; i += 64) {
      for (int g = 0; g < 4; ++g) {
        const __m512 v = _mm512_loadu_ps(p + i + 16 * g);
        const __mmask16 m = _mm512_cmp_ps_mask(v, bv[g], cmp);
        bv[g] = _mm512_mask_blend_ps(m, bv[g], v);
        bi[g] = _mm512_mask_blend_epi32(
            m, bi[g], _mm512_add_epi32(iota, _mm512_set1_epi32(static_cast<int>(i + 16 * g))));
      }
    }
    for (; i < len; i += 16) {
      const __mmask16 live = len - i >= 16 ? __mmask16(0xffff)
                                           : static_cast<__mmask16>((1u << (len - i)) - 1u);
      const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(start), live, p + i);
      const __mmask16 m = _mm512_cmp_ps_mask(v, bv[0], cmp);
      bv[0] = _mm512_mask_blend_ps(m, bv[0], v);
      bi[0] = _mm512_mask_blend_epi32(
          m, bi[0], _mm512_add_epi32(iota, _mm512_set1_epi32(static_cast<int>(i))));
    }
    alignas(64) float lv[64];
    alignas(64) int32_t li[64];
    for (int g = 0; g < 4; ++g) {
      _mm512_store_ps(lv + 16 * g, bv[g]);
      _mm512_store_si512(reinterpret_cast<__m512i*>(li + 16 * g), bi[g]);
    }
    for (int k = 0; k < 64; ++k) {
      const int64_t gi = c0 + li[k];
      if ((MAX ? lv[k] > best : lv[k] < best) || (lv[k] == best && gi < bidx && lv[k] != start)) {
        best = lv[k];
        bidx = gi;
      }
    }
  }
  return (MAX ? best > start : best < start) ? bidx : 0;
}
#endif

// Short rows (class scores: argmax over 10 logits per example): the sequential strict scan
// itself. The vector paths pay a fixed lane merge or a second pass that costs more than the row.
constexpr int64_t kArgScanMax = 32;

template <bool MAX, class T>
int64_t arg_scan(int64_t n, const T* x) {
  T best = MAX ? lowest_v<T>() : highest_v<T>();
  int64_t bidx = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    if (MAX ? v > best : v < best) {
      best = v;
      bidx = i;
    }
  }
  return bidx;
}

template <bool MAX, class T>
int64_t arg_contig_dispatch(int64_t n, const T* x) {
  if (n <= kArgScanMax) return arg_scan<MAX, T>(n, x);
#if HW_ISA_LEVEL == 2
  if constexpr (sizeof(T) == 4 && T(1) / T(2) != T(0)) {
    return arg_one_pass_f32<MAX>(n, x);
  } else {
    return arg_two_pass<MAX, T>(n, x);
  }
#else
  return arg_two_pass<MAX, T>(n, x);
#endif
}

template <class T, bool F = (T(1) / T(2) != T(0))>
struct Pick {
  static constexpr ReduceExtFns<T> get() {
    return ReduceExtFns<T>{
        {&contig<MaxOp, T>, &contig<MinOp, T>, &contig<ProdOp, T>},
        {&cols<MaxOp, T>, &cols<MinOp, T>, &cols<ProdOp, T>},
        {&best_contig<true, T>, &best_contig<false, T>},
        {&arg_cols<true, T>, &arg_cols<false, T>},
        &find_first<T>,
        {&arg_contig_dispatch<true, T>, &arg_contig_dispatch<false, T>},
    };
  }
};
template <class T>
struct Pick<T, true> {
  static constexpr ReduceExtFns<T> get() {
    return ReduceExtFns<T>{
        {&vec_contig<true, T>, &vec_contig<false, T>, &contig<ProdOp, T>},
        {&vec_cols<true, T>, &vec_cols<false, T>, &cols<ProdOp, T>},
        {&vec_best_contig<true, T>, &vec_best_contig<false, T>},
        {&arg_cols<true, T>, &arg_cols<false, T>},
        &find_first<T>,
        {&arg_contig_dispatch<true, T>, &arg_contig_dispatch<false, T>},
    };
  }
};

template <class T>
constexpr ReduceExtFns<T> fns() {
  return Pick<T>::get();
}

}  // namespace

extern const ReduceExtTable kReduceExtTable;
const ReduceExtTable kReduceExtTable = {fns<float>(), fns<double>(), fns<int32_t>(),
                                        fns<int64_t>()};

}  // namespace HW_ISA_NS
}  // namespace headwater
