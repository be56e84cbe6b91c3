#include "reduce/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "common/isa.h"
#include "common/thread_pool.h"

#if defined(HEADWATER_HAVE_AVX2) && (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HW_HISTOGRAM_AVX2 1
#endif

namespace headwater {
namespace {

// ---- bucket lookup --------------------------------------------------------------------------
//
// Doubles map to integers of the same order (sign flipped in, negatives complemented); the
// top kSlotBits of that key pick a slot, and a table gives the index of the first edge in each
// slot. A value's bucket is then the slot's first edge index plus the edges of its own slot
// that are <= v. With 16 bits (sign, exponent, 4 mantissa bits) a slot spans a ratio of at most
// 17/16, so TensorFlow's default edges (ratio 1.1) put at most one edge in a slot: one table
// load and one comparison per value instead of an 11-step binary search. Arbitrary edges stay
// exact; a slot holding many of them is binary searched.

constexpr int kSlotBits = 16;
constexpr int kSlotShift = 64 - kSlotBits;
constexpr int64_t kSlots = int64_t{1} << kSlotBits;
// Slots with more edges than this are binary searched instead of compared edge by edge.
constexpr int kUnrolled = 4;

inline uint64_t order_key(double v) {
  v += 0.0;  // -0.0 -> +0.0: they compare equal, so they must share a key
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  // Branch-free (weights are positive and negative at random, a branch would mispredict):
  // negatives are complemented, positives get the sign bit set.
  const uint64_t neg = static_cast<uint64_t>(static_cast<int64_t>(b) >> 63);
  return b ^ (neg | (uint64_t{1} << 63));
}

inline uint32_t slot_of(double v) { return static_cast<uint32_t>(order_key(v) >> kSlotShift); }

// float32 values get their own, smaller table keyed by the float's bits (sign, exponent and
// 4 mantissa bits: 8192 slots, 64 KB, mostly cold). Each entry holds the slot's first edge
// index and that edge rounded up to a float, so a value's bucket is `l0 + (v >= thr)`: one
// load and one float comparison, exact because v is a float (v >= thr iff v >= the edge).
// Used when no slot holds two edges (true for TensorFlow's default edges).
constexpr int kSlotBits32 = 13;
constexpr int kSlotShift32 = 32 - kSlotBits32;
constexpr int64_t kSlots32 = int64_t{1} << kSlotBits32;

struct Slot32 {
  int32_t first;
  float thr;
};

struct BucketIndex {
  std::vector<double> limits;  // the edges as given, then kUnrolled copies of +inf
  int64_t n = 0;
  std::vector<int32_t> first;  // first[s] = number of edges in slots < s; kSlots + 1 entries
  int max_per_slot = 0;
  // Indexed by a float's raw top kSlotBits32 bits (sign, exponent, 4 mantissa bits), so a
  // lookup needs no key transform; empty when some float slot holds two edges.
  std::vector<Slot32> slots32;
};

inline uint32_t key32(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b ^ (static_cast<uint32_t>(static_cast<int32_t>(b) >> 31) | 0x80000000u);
}

// The smallest float >= d (+inf above FLT_MAX).
float ceil_to_float(double d) {
  float f = static_cast<float>(d);
  if (static_cast<double>(f) < d) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

void build_index32(BucketIndex* idx) {
  const double* lim = idx->limits.data();
  const int64_t n = idx->n;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<Slot32> slots(static_cast<size_t>(kSlots32));
  std::vector<int64_t> start(static_cast<size_t>(kSlots32 + 1));
  for (int64_t s = 0; s < kSlots32; ++s) {
    // The slot's smallest value: keys grow with the value, so it has the slot's lowest key.
    const uint32_t key = static_cast<uint32_t>(s) << kSlotShift32;
    const uint32_t bits = (key & 0x80000000u) ? (key ^ 0x80000000u) : ~key;
    float lo_f;
    std::memcpy(&lo_f, &bits, sizeof lo_f);
    double lo = lo_f;
    if (lo != lo) lo = (key & 0x80000000u) ? inf : -inf;  // NaN slots (NaNs are skipped)
    start[static_cast<size_t>(s)] = std::lower_bound(lim, lim + n, lo) - lim;
  }
  start[static_cast<size_t>(kSlots32)] = n;
  for (int64_t s = 0; s < kSlots32; ++s) {
    const int64_t l0 = start[static_cast<size_t>(s)];
    // Edges in [lo_s, lo_{s+1}): more than one and a single comparison is not enough.
    if (start[static_cast<size_t>(s + 1)] - l0 > 1) return;
    slots[static_cast<size_t>(s)] = Slot32{static_cast<int32_t>(l0), ceil_to_float(lim[l0])};
  }
  // Reorder from key order to raw-bit order: slot s holds the floats whose key is in it.
  std::vector<Slot32> raw(static_cast<size_t>(kSlots32));
  for (uint32_t r = 0; r < static_cast<uint32_t>(kSlots32); ++r) {
    const uint32_t bits = r << kSlotShift32;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    raw[r] = slots[key32(f) >> kSlotShift32];
  }
  idx->slots32 = std::move(raw);
}

std::shared_ptr<const BucketIndex> build_index(const double* limits, int64_t n) {
  auto idx = std::make_shared<BucketIndex>();
  idx->n = n;
  idx->limits.assign(limits, limits + n);
  idx->limits.resize(static_cast<size_t>(n + kUnrolled), std::numeric_limits<double>::infinity());
  idx->first.resize(static_cast<size_t>(kSlots + 1));
  int64_t j = 0;
  for (int64_t s = 0; s < kSlots; ++s) {
    while (j < n && static_cast<int64_t>(slot_of(limits[j])) < s) ++j;
    idx->first[static_cast<size_t>(s)] = static_cast<int32_t>(j);
  }
  idx->first[static_cast<size_t>(kSlots)] = static_cast<int32_t>(n);
  int most = 0;
  for (int64_t s = 0; s < kSlots; ++s) {
    most = std::max(most, idx->first[static_cast<size_t>(s + 1)] - idx->first[static_cast<size_t>(s)]);
  }
  idx->max_per_slot = most;
  build_index32(idx.get());
  return idx;
}

// Summary ops pass the same edges every step: keep the last table (~256 KB) and reuse it when
// the edges are identical.
std::shared_ptr<const BucketIndex> index_for(const double* limits, int64_t n, const char** err) {
  static std::mutex m;
  static std::shared_ptr<const BucketIndex> last;
  {
    std::lock_guard<std::mutex> lk(m);
    if (last && last->n == n &&
        std::memcmp(last->limits.data(), limits, static_cast<size_t>(n) * sizeof(double)) == 0) {
      return last;
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(limits[i])) {
      *err = "bucket_limits must not contain NaN";
      return nullptr;
    }
    if (i && !(limits[i - 1] < limits[i])) {
      *err = "bucket_limits must be strictly increasing";
      return nullptr;
    }
  }
  auto built = build_index(limits, n);
  std::lock_guard<std::mutex> lk(m);
  last = built;
  return built;
}

// ---- numpy's pairwise summation ---------------------------------------------------------------
//
// np.sum of a contiguous float64 array adds in this order (8 accumulators over blocks of at
// most 128, halves split at a multiple of 8); following it exactly makes `sum` equal to the
// numpy implementation's, bit for bit, whatever the thread count.

constexpr int64_t kBlock = 128;

struct Sums {
  double sum, sum_sq, min, max;
};

// NaN never replaces a bound (the comparisons are false), so min/max ignore NaNs.
inline double min_of(double a, double v) { return v < a ? v : a; }
inline double max_of(double a, double v) { return v > a ? v : a; }

// Both sums in one pass over the data, each in numpy's order, with min and max riding along
// (eight independent lanes instead of one loop-carried chain).
#ifdef HW_HISTOGRAM_AVX2
// One block of 8 <= n <= kBlock values with the eight accumulators of the scalar loop below in
// two 4-lane registers each: the same additions in the same order (no FMA: the file is not
// compiled for it and the product is rounded before the add, as numpy does), min/max with
// minpd/maxpd, whose (a < b ? a : b) rule is min_of's.
inline __attribute__((target("avx2"))) __m256d load4(const float* p) {
  return _mm256_cvtps_pd(_mm_loadu_ps(p));
}
inline __attribute__((target("avx2"))) __m256d load4(const double* p) {
  return _mm256_loadu_pd(p);
}

template <class T>
__attribute__((target("avx2"))) Sums block_avx2(const T* a, int64_t n) {
  const double inf = std::numeric_limits<double>::infinity();
  __m256d v0 = load4(a), v1 = load4(a + 4);
  __m256d r0 = v0, r1 = v1;
  __m256d q0 = _mm256_mul_pd(v0, v0), q1 = _mm256_mul_pd(v1, v1);
  const __m256d pinf = _mm256_set1_pd(inf), ninf = _mm256_set1_pd(-inf);
  __m256d lo0 = _mm256_min_pd(v0, pinf), lo1 = _mm256_min_pd(v1, pinf);
  __m256d hi0 = _mm256_max_pd(v0, ninf), hi1 = _mm256_max_pd(v1, ninf);
  int64_t i = 8;
  for (; i < n - (n % 8); i += 8) {
    v0 = load4(a + i);
    v1 = load4(a + i + 4);
    r0 = _mm256_add_pd(r0, v0);
    r1 = _mm256_add_pd(r1, v1);
    q0 = _mm256_add_pd(q0, _mm256_mul_pd(v0, v0));
    q1 = _mm256_add_pd(q1, _mm256_mul_pd(v1, v1));
    lo0 = _mm256_min_pd(v0, lo0);
    lo1 = _mm256_min_pd(v1, lo1);
    hi0 = _mm256_max_pd(v0, hi0);
    hi1 = _mm256_max_pd(v1, hi1);
  }
  alignas(32) double r[8], q[8], lo[8], hi[8];
  _mm256_store_pd(r, r0);
  _mm256_store_pd(r + 4, r1);
  _mm256_store_pd(q, q0);
  _mm256_store_pd(q + 4, q1);
  _mm256_store_pd(lo, lo0);
  _mm256_store_pd(lo + 4, lo1);
  _mm256_store_pd(hi, hi0);
  _mm256_store_pd(hi + 4, hi1);
  Sums out{((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])),
           ((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7])), inf, -inf};
  for (int j = 0; j < 8; ++j) {
    out.min = min_of(out.min, lo[j]);
    out.max = max_of(out.max, hi[j]);
  }
  for (; i < n; ++i) {
    const double v = static_cast<double>(a[i]);
    out.sum += v;
    out.sum_sq += v * v;
    out.min = min_of(out.min, v);
    out.max = max_of(out.max, v);
  }
  return out;
}
#endif

template <class T>
Sums pairwise(const T* x, int64_t off, int64_t n, bool avx2) {
  const double inf = std::numeric_limits<double>::infinity();
#ifdef HW_HISTOGRAM_AVX2
  if (avx2 && n >= 8 && n <= kBlock) return block_avx2(x + off, n);
#else
  (void)avx2;
#endif
  if (n < 8) {
    Sums r{-0.0, -0.0, inf, -inf};
    for (int64_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(x[off + i]);
      r.sum += v;
      r.sum_sq += v * v;
      r.min = min_of(r.min, v);
      r.max = max_of(r.max, v);
    }
    return r;
  }
  if (n <= kBlock) {
    const T* a = x + off;
    double r[8], r2[8], lo[8], hi[8];
    for (int j = 0; j < 8; ++j) {
      const double v = static_cast<double>(a[j]);
      r[j] = v;
      r2[j] = v * v;
      lo[j] = min_of(inf, v);
      hi[j] = max_of(-inf, v);
    }
    int64_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) {
        const double v = static_cast<double>(a[i + j]);
        r[j] += v;
        r2[j] += v * v;
        lo[j] = min_of(lo[j], v);
        hi[j] = max_of(hi[j], v);
      }
    }
    Sums out{((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])),
             ((r2[0] + r2[1]) + (r2[2] + r2[3])) + ((r2[4] + r2[5]) + (r2[6] + r2[7])),
             inf, -inf};
    for (int j = 0; j < 8; ++j) {
      out.min = min_of(out.min, lo[j]);
      out.max = max_of(out.max, hi[j]);
    }
    for (; i < n; ++i) {
      const double v = static_cast<double>(a[i]);
      out.sum += v;
      out.sum_sq += v * v;
      out.min = min_of(out.min, v);
      out.max = max_of(out.max, v);
    }
    return out;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  const Sums a = pairwise(x, off, n2, avx2);
  const Sums b = pairwise(x, off + n2, n - n2, avx2);
  return {a.sum + b.sum, a.sum_sq + b.sum_sq, min_of(a.min, b.min), max_of(a.max, b.max)};
}

// Leaves of the pairwise tree no larger than kLeaf, left to right: the unit of parallel work.
constexpr int64_t kLeaf = 32768;

void collect_leaves(int64_t off, int64_t n, int64_t leaf,
                    std::vector<std::pair<int64_t, int64_t>>* out) {
  if (n <= leaf) {
    out->emplace_back(off, n);
    return;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  collect_leaves(off, n2, leaf, out);
  collect_leaves(off + n2, n - n2, leaf, out);
}

double combine_leaves(int64_t n, int64_t leaf, const double* leaf_sums, size_t* cursor) {
  if (n <= leaf) return leaf_sums[(*cursor)++];
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  const double a = combine_leaves(n2, leaf, leaf_sums, cursor);
  return a + combine_leaves(n - n2, leaf, leaf_sums, cursor);
}

// ---- the kernel -------------------------------------------------------------------------------

template <class T, int K>
void count_range(const T* x, int64_t begin, int64_t end, const BucketIndex& ix, int64_t* counts) {
  // Locals rather than ix's members: stores to counts (int64) could alias ix.n otherwise.
  const int32_t* first = ix.first.data();
  const double* lim = ix.limits.data();
  const int64_t last = ix.n - 1;
  for (int64_t i = begin; i < end; ++i) {
    const double v = static_cast<double>(x[i]);
    if (v != v) continue;  // NaN: not counted (sum turns NaN and the caller rejects it)
    const uint32_t s = slot_of(v);
    const int64_t l0 = first[s];
    int64_t b = l0;
    if (K > 0) {
      // Edges past this slot are > v (or the +inf padding), so they never add to the count
      // except for v = +inf, which the clamp below sends to the last bucket anyway.
      for (int k = 0; k < K; ++k) b += lim[l0 + k] <= v;
    } else {
      b = std::upper_bound(lim + l0, lim + first[s + 1], v) - lim;
    }
    ++counts[b < last ? b : last];
  }
}

// float32 through the raw-bit table: one table load, one float comparison and one increment
// per value. NaNs are counted too, wherever their slot puts them (no test in the loop);
// `uncount_nans` takes them out again in the rare call that has any. Two count arrays taken in
// turn keep a run of equal buckets from serialising on one counter; indexes n and n + 1
// (+inf, NaN) fold into the last.
inline uint32_t raw_slot(const float* x, int64_t i) {
  uint32_t b;
  std::memcpy(&b, x + i, sizeof b);
  return b >> kSlotShift32;
}

inline int64_t f32_bucket(const Slot32* slots, int64_t n, const float* x, int64_t i) {
  const Slot32 sa = slots[raw_slot(x, i)];
  const int64_t b = sa.first + (x[i] >= sa.thr);
  return b < n ? b : n - 1;
}

void count_f32(const float* x, int64_t begin, int64_t end, const BucketIndex& ix,
               int64_t* counts) {
  const Slot32* slots = ix.slots32.data();
  const int64_t n = ix.n;
  if (end - begin < 2048) {  // clearing and folding the scratch counts would dominate
    for (int64_t i = begin; i < end; ++i) ++counts[f32_bucket(slots, n, x, i)];
    return;
  }
  thread_local std::vector<int32_t> scratch;
  scratch.assign(static_cast<size_t>(2 * (n + 2)), 0);
  int32_t* c0 = scratch.data();
  int32_t* c1 = c0 + n + 2;
  int64_t i = begin;
  for (; i + 1 < end; i += 2) {
    const Slot32 sa = slots[raw_slot(x, i)];
    const Slot32 sb = slots[raw_slot(x, i + 1)];
    ++c0[sa.first + (x[i] >= sa.thr)];
    ++c1[sb.first + (x[i + 1] >= sb.thr)];
  }
  if (i < end) {
    const Slot32 sa = slots[raw_slot(x, i)];
    ++c0[sa.first + (x[i] >= sa.thr)];
  }
  for (int64_t j = 0; j < n; ++j) counts[j] += c0[j] + c1[j];
  counts[n - 1] += int64_t{c0[n]} + c1[n] + c0[n + 1] + c1[n + 1];
}

// Takes back the counts count_f32 gave the NaNs among x[0, len).
void uncount_nans(const float* x, int64_t len, const BucketIndex& ix, int64_t* counts) {
  for (int64_t i = 0; i < len; ++i)
    if (x[i] != x[i]) --counts[f32_bucket(ix.slots32.data(), ix.n, x, i)];
}

bool uses_f32_table(const BucketIndex& ix, int64_t len) {
  return !ix.slots32.empty() && len < (int64_t{1} << 30);
}

// Adds the counts of x[begin, end) to counts.
template <class T>
void count_any(const T* x, int64_t begin, int64_t end, const BucketIndex& ix, int64_t* counts) {
  if (std::is_same<T, float>::value && uses_f32_table(ix, end - begin)) {
    return count_f32(reinterpret_cast<const float*>(x), begin, end, ix, counts);
  }
  switch (ix.max_per_slot) {
    case 0:
    case 1: return count_range<T, 1>(x, begin, end, ix, counts);
    case 2: return count_range<T, 2>(x, begin, end, ix, counts);
    case 3:
    case 4: return count_range<T, kUnrolled>(x, begin, end, ix, counts);
    default: return count_range<T, 0>(x, begin, end, ix, counts);
  }
}

template <class T>
const char* histogram_impl(const T* x, int64_t n, const double* limits, int64_t n_limits,
                           int64_t* counts, HistogramStats* st) {
  if (n_limits <= 0) return "bucket_limits must not be empty";
  if (n_limits > std::numeric_limits<int32_t>::max() - kUnrolled) return "too many bucket_limits";
  const char* err = nullptr;
  auto ix_ptr = index_for(limits, n_limits, &err);
  if (!ix_ptr) return err;
  std::fill(counts, counts + n_limits, int64_t{0});
  st->min = std::numeric_limits<double>::infinity();
  st->max = -std::numeric_limits<double>::infinity();
  st->sum = 0.0;
  st->sum_sq = 0.0;
  if (n == 0) return nullptr;
  const BucketIndex& ix = *ix_ptr;
  const bool avx2 = current_isa() != Isa::scalar;
  // Splitting summary-sized arrays (thousands of values) over the pool measured slower: the
  // workers' wake-up and the per-thread count arrays cost more than the counting saved.
  const int64_t leaf = kLeaf;
  // A NaN makes the sum NaN; then the NaNs count_f32 counted are taken out again.
  auto drop_nans = [&] {
    if (std::is_same<T, float>::value && !ix.slots32.empty() && st->sum != st->sum)
      uncount_nans(reinterpret_cast<const float*>(x), n, ix, counts);
  };
  if (n <= leaf) {
    count_any(x, 0, n, ix, counts);
    const Sums t = pairwise(x, 0, n, avx2);
    *st = HistogramStats{t.min, t.max, t.sum, t.sum_sq};
    drop_nans();
    return nullptr;
  }

  std::vector<std::pair<int64_t, int64_t>> leaves;
  collect_leaves(0, n, leaf, &leaves);
  std::vector<double> sums(leaves.size()), sums_sq(leaves.size());
  std::mutex merge;
  double mn = st->min, mx = st->max;
  parallel_for(static_cast<int64_t>(leaves.size()), 1, [&](int64_t b, int64_t e) {
    std::vector<int64_t> local(static_cast<size_t>(n_limits), 0);
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
    for (int64_t l = b; l < e; ++l) {
      const auto& leaf = leaves[static_cast<size_t>(l)];
      count_any(x, leaf.first, leaf.first + leaf.second, ix, local.data());
      const Sums t = pairwise(x, leaf.first, leaf.second, avx2);
      sums[static_cast<size_t>(l)] = t.sum;
      sums_sq[static_cast<size_t>(l)] = t.sum_sq;
      lo = min_of(lo, t.min);
      hi = max_of(hi, t.max);
    }
    // Integer counts and min/max do not depend on the order chunks finish in.
    std::lock_guard<std::mutex> lk(merge);
    for (int64_t i = 0; i < n_limits; ++i) counts[i] += local[static_cast<size_t>(i)];
    mn = lo < mn ? lo : mn;
    mx = hi > mx ? hi : mx;
  });
  st->min = mn;
  st->max = mx;
  size_t cursor = 0;
  st->sum = combine_leaves(n, leaf, sums.data(), &cursor);
  cursor = 0;
  st->sum_sq = combine_leaves(n, leaf, sums_sq.data(), &cursor);
  drop_nans();
  return nullptr;
}

}  // namespace

int64_t histogram_collapse(const int64_t* counts, const double* limits, int64_t n,
                           double* out_limits, double* out_counts) {
  // Kept: every non-empty bucket, the bucket before it, and the last. Jumping from one
  // non-empty bucket to the next (four counters at a time through the empty stretches) is
  // what makes this cheap: most of the 1551 default buckets are empty.
  int64_t k = 0;
  int64_t emitted = -1;  // highest index written so far
  auto emit = [&](int64_t j) {
    out_limits[k] = limits[j];
    out_counts[k] = static_cast<double>(counts[j]);
    ++k;
    emitted = j;
  };
  int64_t j = 0;
  while (true) {
    while (j + 4 <= n && (counts[j] | counts[j + 1] | counts[j + 2] | counts[j + 3]) == 0) j += 4;
    while (j < n && counts[j] == 0) ++j;
    if (j >= n) break;
    if (j - 1 > emitted) emit(j - 1);
    emit(j);
    ++j;
  }
  if (n > 0 && emitted != n - 1) emit(n - 1);
  return k;
}

const char* histogram_buckets_f32(const float* values, int64_t n, const double* limits,
                                  int64_t n_limits, int64_t* counts, HistogramStats* stats) {
  return histogram_impl(values, n, limits, n_limits, counts, stats);
}

const char* histogram_buckets_f64(const double* values, int64_t n, const double* limits,
                                  int64_t n_limits, int64_t* counts, HistogramStats* stats) {
  return histogram_impl(values, n, limits, n_limits, counts, stats);
}

}  // namespace headwater
