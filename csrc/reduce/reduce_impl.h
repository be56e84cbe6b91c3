// Per-ISA summation loops. Included once by each reduce_<isa>.cpp after common/simd.h; see
// simd.h for why everything sits in headwater::HW_ISA_NS.

#include "reduce/reduce.h"

namespace headwater {
namespace HW_ISA_NS {
namespace {

// Four vector accumulators over a run of at most kRun elements, then the lanes are added in
// double: each lane sums only kRun / (4 W) values in T, so the T rounding stays tiny. The lanes
// go into per-lane double accumulators (a loop the compiler vectorises: convert and add) that
// are summed once per call; adding the 4 W lanes one after another into one double, a chain of
// dependent adds, took longer than summing the run itself.
constexpr int64_t kRun = 1024;

template <class T>
double sum_contiguous(int64_t n, const T* x) {
  using V = Vec<T>;
  using reg = typename V::reg;
  constexpr int64_t W = V::W;
  alignas(64) double acc[4 * W] = {};
  double tail = 0.0;
  for (int64_t i0 = 0; i0 < n; i0 += kRun) {
    const int64_t len = imin(kRun, n - i0);
    const T* p = x + i0;
    reg a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
    int64_t i = 0;
    for (; i + 4 * W <= len; i += 4 * W) {
      a0 = V::add(a0, V::load(p + i));
      a1 = V::add(a1, V::load(p + i + W));
      a2 = V::add(a2, V::load(p + i + 2 * W));
      a3 = V::add(a3, V::load(p + i + 3 * W));
    }
    alignas(64) T lanes[4 * W];
    V::store(lanes, a0);
    V::store(lanes + W, a1);
    V::store(lanes + 2 * W, a2);
    V::store(lanes + 3 * W, a3);
    for (int64_t j = 0; j < 4 * W; ++j) acc[j] += static_cast<double>(lanes[j]);
    for (; i < len; ++i) tail += static_cast<double>(p[i]);
  }
  double total = tail;
  for (int64_t j = 0; j < 4 * W; ++j) total += acc[j];
  return total;
}

// Groups of kGroup rows are added in T first (a short run, like the contiguous case), then
// into the double accumulators: one conversion and double add per kGroup elements.
constexpr int64_t kGroup = 8;

template <class T>
void add_columns(int64_t rows, int64_t B, int64_t stride, const T* x, double* acc) {
  int64_t r = 0;
  for (; r + kGroup <= rows; r += kGroup) {
    const T* x0 = x + r * stride;
    for (int64_t b = 0; b < B; ++b) {
      T s = x0[b];
      for (int64_t g = 1; g < kGroup; ++g) s += x0[g * stride + b];
      acc[b] += static_cast<double>(s);
    }
  }
  for (; r < rows; ++r) {
    const T* xr = x + r * stride;
    for (int64_t b = 0; b < B; ++b) acc[b] += static_cast<double>(xr[b]);
  }
}

}  // namespace

extern const ReduceTable kReduceTable;
const ReduceTable kReduceTable = {&sum_contiguous<float>, &sum_contiguous<double>,
                                  &add_columns<float>, &add_columns<double>};

}  // namespace HW_ISA_NS
}  // namespace headwater
