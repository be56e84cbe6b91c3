// Pooling: threading and the choice of ISA; the loops are in pool_impl.h.
//
// Each output element (and, backward, each dx element) is produced by one thread in a fixed
// order, so results are identical for any thread count.
#include <atomic>
#include <cstring>

#include "common/isa.h"
#include "common/thread_pool.h"
#include "conv/conv.h"
#include "conv/pool.h"
#include "conv/pool_kernels.h"

namespace headwater {
namespace {

const PoolTable* table() {
  return HW_ISA_TABLE(current_isa(), kPoolTable);
}

const PoolFns<float>& fns(const PoolTable* t, float*) { return t->f32; }
const PoolFns<double>& fns(const PoolTable* t, double*) { return t->f64; }
template <class T>
const PoolFns<T>& fns() {
  return fns(table(), static_cast<T*>(nullptr));
}

// Output rows per thread chunk: at least ~32K input elements read, so small pools stay on
// the calling thread.
int64_t row_grain(const ConvGeom& g) {
  const int64_t per_row = g.ow * g.c * g.kh * g.kw;
  const int64_t grain = per_row > 0 ? (int64_t(1) << 15) / per_row : 1;
  return grain < 1 ? 1 : grain;
}

// Runs fn(r0, r1) over [0, rows) in tasks of at least `grain`, about eight per thread, each
// claimed by whichever thread gets there first (on a busy machine a descheduled thread does not
// hold up a fixed share). Tasks write disjoint outputs, so the split never changes results.
template <class F>
void claim(int64_t rows, int64_t grain, F&& fn) {
  if (rows <= 0) return;
  const int64_t threads = get_num_threads();
  int64_t task = (rows + 8 * threads - 1) / (8 * threads);
  task = task < grain ? grain : task;
  const int64_t ntasks = (rows + task - 1) / task;
  if (ntasks == 1) {
    fn(int64_t(0), rows);
    return;
  }
  std::atomic<int64_t> next{0};
  parallel_for(threads < ntasks ? threads : ntasks, 1, [&](int64_t, int64_t) {
    for (;;) {
      const int64_t t = next.fetch_add(1, std::memory_order_relaxed);
      if (t >= ntasks) break;
      fn(t * task, t * task + task < rows ? t * task + task : rows);
    }
  });
}

// Windows that never share an input element: dx can be stored instead of accumulated.
bool disjoint(const ConvGeom& g) { return g.sh >= g.kh && g.sw >= g.kw; }
// ... and that cover every input element, so no zeroing pass is needed either.
bool tiles(const ConvGeom& g) {
  return g.sh == g.kh && g.sw == g.kw && g.pt == 0 && g.pl == 0 && g.oh * g.kh == g.h &&
         g.ow * g.kw == g.w;
}

// Runs a backward loop bwd(r0, r1, acc) over all output rows, writing dx.
template <class T, class B>
void run_bwd(const ConvGeom& g, T* dx, B&& bwd) {
  const int64_t in_image = g.h * g.w * g.c;
  if (g.n <= 0 || in_image <= 0) return;
  if (disjoint(g)) {
    if (!tiles(g)) {
      const int64_t total = g.n * in_image;
      parallel_for(total, int64_t(1) << 16, [&](int64_t e0, int64_t e1) {
        std::memset(dx + e0, 0, sizeof(T) * static_cast<std::size_t>(e1 - e0));
      });
    }
    claim(g.n * g.oh, row_grain(g), [&](int64_t r0, int64_t r1) { bwd(r0, r1, false); });
    return;
  }
  // Overlapping windows add into shared dx elements: whole images per thread.
  const int64_t per_image = g.oh * g.ow * g.c * g.kh * g.kw;
  const int64_t grain = per_image > 0 ? (int64_t(1) << 15) / per_image + 1 : 1;
  claim(g.n, grain, [&](int64_t n0, int64_t n1) {
    std::memset(dx + n0 * in_image, 0, sizeof(T) * static_cast<std::size_t>((n1 - n0) * in_image));
    bwd(n0 * g.oh, n1 * g.oh, true);
  });
}

}  // namespace

template <class T>
void max_pool_fwd(const ConvGeom& g, const T* x, T* y) {
  const auto fn = fns<T>().max_fwd;
  claim(g.n * g.oh, row_grain(g), [&](int64_t r0, int64_t r1) { fn(g, x, y, r0, r1); });
}

template <class T>
void max_pool_bwd(const ConvGeom& g, const T* x, const T* dy, T* dx) {
  const auto fn = fns<T>().max_bwd;
  run_bwd(g, dx, [&](int64_t r0, int64_t r1, bool acc) { fn(g, x, dy, dx, r0, r1, acc); });
}

template <class T>
void avg_pool_fwd(const ConvGeom& g, const T* x, T* y) {
  const auto fn = fns<T>().avg_fwd;
  claim(g.n * g.oh, row_grain(g), [&](int64_t r0, int64_t r1) { fn(g, x, y, r0, r1); });
}

template <class T>
void avg_pool_bwd(const ConvGeom& g, const T* dy, T* dx) {
  const auto fn = fns<T>().avg_bwd;
  run_bwd(g, dx, [&](int64_t r0, int64_t r1, bool acc) { fn(g, dy, dx, r0, r1, acc); });
}

bool max_pool_argmax_ok(const ConvGeom& g) { return disjoint(g) && g.kh * g.kw <= 256; }

template <class T>
void max_pool_fwd_argmax(const ConvGeom& g, const T* x, T* y, uint8_t* arg) {
  const auto fn = fns<T>().max_fwd_arg;
  claim(g.n * g.oh, row_grain(g), [&](int64_t r0, int64_t r1) { fn(g, x, y, arg, r0, r1); });
}

// A gradient this large is not going to stay in cache for its consumer anyway (more than a
// core's share of a 32 MB L3 once its inputs are counted), so it is streamed out without first
// reading every line into the cache.
constexpr int64_t kStreamBytes = int64_t(8) << 20;

template <class T>
void max_pool_bwd_argmax(const ConvGeom& g, const uint8_t* arg, const T* dy, T* dx) {
  const auto fn = fns<T>().max_bwd_arg;
  const bool stream = g.n * g.h * g.w * g.c * int64_t(sizeof(T)) >= kStreamBytes;
  // Disjoint windows (max_pool_argmax_ok), so run_bwd never asks for accumulation.
  run_bwd(g, dx, [&](int64_t r0, int64_t r1, bool) { fn(g, arg, dy, dx, r0, r1, stream); });
}

#define HW_INSTANTIATE(T)                                                              \
  template void max_pool_fwd<T>(const ConvGeom&, const T*, T*);                        \
  template void max_pool_bwd<T>(const ConvGeom&, const T*, const T*, T*);              \
  template void avg_pool_fwd<T>(const ConvGeom&, const T*, T*);                        \
  template void avg_pool_bwd<T>(const ConvGeom&, const T*, T*);                        \
  template void max_pool_fwd_argmax<T>(const ConvGeom&, const T*, T*, uint8_t*);       \
  template void max_pool_bwd_argmax<T>(const ConvGeom&, const uint8_t*, const T*, T*);
HW_INSTANTIATE(float)
HW_INSTANTIATE(double)
#undef HW_INSTANTIATE

}  // namespace headwater
