// Direct convolution: policy, threading and the choice of ISA; the loops are in
// conv_direct_impl.h.
#include "conv/conv_direct.h"

#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/isa.h"
#include "common/thread_pool.h"

namespace headwater {
namespace {

std::atomic<int> g_mode{kDirectAuto};

// Fixed number of row slots whose filter-gradient partials are summed in slot order.
constexpr int64_t kSlots = 8;

const DirectTable* table() {
  return HW_ISA_TABLE(current_isa(), kDirectTable);
}

const DirectFns<float>& fns(const DirectTable* t, float*) { return t->f32; }
const DirectFns<double>& fns(const DirectTable* t, double*) { return t->f64; }
template <class T>
const DirectFns<T>& fns() {
  return fns(table(), static_cast<T*>(nullptr));
}

// `simd_only`: in auto mode, not on the portable baseline, where the gradient kernels lose to
// im2col + GEMM (measured; the forward kernel still wins there).
bool chosen(const ConvGeom& g, bool simd_only) {
  if (g.n <= 0 || g.oh <= 0 || g.ow <= 0 || g.c <= 0 || g.co <= 0) return false;
  const int mode = g_mode.load(std::memory_order_relaxed);
  if (mode == kDirectOff) return false;
  if (mode == kDirectOn) return true;
  if (simd_only && current_isa() == Isa::scalar) return false;
  // Auto: with few input channels the GEMM depth kh*kw*c is too shallow for im2col + GEMM.
  return g.c <= 4;
}

// Output rows per chunk: enough multiply-adds that a chunk outweighs handing it out.
int64_t row_grain(const ConvGeom& g) {
  const int64_t per_row = g.ow * g.co * g.kh * g.kw * g.c;
  const int64_t grain = per_row > 0 ? (int64_t(1) << 16) / per_row : 1;
  return grain < 1 ? 1 : grain;
}

// Runs fn(scratch, r0, r1) over rows [0, rows) in tasks of at least `grain` rows, about eight
// per thread, each claimed by whichever worker gets there first (a descheduled thread on a
// busy machine does not hold up a fixed share). Every row is computed alone, so the split never
// changes the results. `scratch` holds `band` elements per worker.
template <class T, class F>
void claim_rows(int64_t rows, int64_t grain, std::size_t band, F&& fn) {
  if (rows <= 0) return;
  const int64_t threads = get_num_threads();
  int64_t task = (rows + 8 * threads - 1) / (8 * threads);
  task = task < grain ? grain : task;
  const int64_t ntasks = (rows + task - 1) / task;
  std::atomic<int64_t> next{0};
  parallel_for(threads < ntasks ? threads : ntasks, 1, [&](int64_t, int64_t) {
    std::vector<T> b(band);
    for (;;) {
      const int64_t t = next.fetch_add(1, std::memory_order_relaxed);
      if (t >= ntasks) break;
      const int64_t r0 = t * task, r1 = r0 + task < rows ? r0 + task : rows;
      fn(b.data(), r0, r1);
    }
  });
}

}  // namespace

void set_direct_mode(int mode) {
  if (mode != kDirectAuto && mode != kDirectOff && mode != kDirectOn)
    throw std::invalid_argument("direct conv mode must be 0 (auto), -1 (off) or 1 (on), got " +
                                std::to_string(mode));
  g_mode.store(mode, std::memory_order_relaxed);
}
int get_direct_mode() { return g_mode.load(std::memory_order_relaxed); }

template <class T>
bool direct_conv2d_fwd(const ConvGeom& g, const T* x, const T* f, T* y) {
  if (!chosen(g, false)) return false;
  const auto fn = fns<T>().fwd;
  const std::size_t band = static_cast<std::size_t>(direct_band_size(g));
  std::vector<int64_t> toff(static_cast<std::size_t>(g.kh * g.kw * g.c));
  direct_tap_offsets(g, toff.data());
  claim_rows<T>(g.n * g.oh, row_grain(g), band, [&](T* b, int64_t r0, int64_t r1) {
    fn(g, x, f, y, r0, r1, b, toff.data());
  });
  return true;
}

template <class T>
bool direct_conv2d_bwd_filter(const ConvGeom& g, const T* x, const T* dy, T* df) {
  if (!chosen(g, true)) return false;
  const auto fn = fns<T>().bwd_filter;
  const int64_t rows = g.n * g.oh;
  const int64_t kn = g.kh * g.kw * g.c * g.co;
  // Slots of whole rows, fixed by the shape alone; few rows make few slots.
  const int64_t grain = row_grain(g);
  int64_t slots = rows / grain;
  slots = slots < 1 ? 1 : (slots > kSlots ? kSlots : slots);
  std::vector<T> partial(static_cast<std::size_t>((slots - 1) * kn), T(0));
  std::memset(df, 0, sizeof(T) * static_cast<std::size_t>(kn));
  const std::size_t band = static_cast<std::size_t>(direct_band_size(g));
  std::vector<int64_t> toff(static_cast<std::size_t>(g.kh * g.kw * g.c));
  direct_tap_offsets(g, toff.data());
  std::atomic<int64_t> next{0};
  const int64_t workers = get_num_threads() < slots ? get_num_threads() : slots;
  parallel_for(workers, 1, [&](int64_t, int64_t) {
    std::vector<T> b(band);
    for (;;) {
      const int64_t s = next.fetch_add(1, std::memory_order_relaxed);
      if (s >= slots) break;
      T* out = s == 0 ? df : partial.data() + (s - 1) * kn;
      fn(g, x, dy, out, rows * s / slots, rows * (s + 1) / slots, b.data(), toff.data());
    }
  });
  for (int64_t s = 1; s < slots; ++s) {
    const T* p = partial.data() + (s - 1) * kn;
    for (int64_t e = 0; e < kn; ++e) df[e] += p[e];
  }
  return true;
}

template <class T>
bool direct_conv2d_bwd_input(const ConvGeom& g, const T* f, const T* dy, T* dx) {
  if (g.sh != 1 || g.sw != 1 || g.h <= 0 || g.w <= 0 || !chosen(g, true)) return false;
  // Auto: only Cout of whole vectors on every ISA (the fast tiles); other widths lose to
  // im2col + GEMM.
  if (get_direct_mode() == kDirectAuto && (g.co % 16 != 0 || g.co > 64)) return false;
  const auto fn = fns<T>().bwd_input;
  const int64_t per_row = g.w * g.co * g.kh * g.kw * g.c;
  int64_t grain = per_row > 0 ? (int64_t(1) << 16) / per_row : 1;
  grain = grain < 1 ? 1 : grain;
  claim_rows<T>(g.n * g.h, grain, 0, [&](T*, int64_t r0, int64_t r1) { fn(g, f, dy, dx, r0, r1); });
  return true;
}

template bool direct_conv2d_fwd<float>(const ConvGeom&, const float*, const float*, float*);
template bool direct_conv2d_fwd<double>(const ConvGeom&, const double*, const double*, double*);
template bool direct_conv2d_bwd_input<float>(const ConvGeom&, const float*, const float*,
                                             float*);
template bool direct_conv2d_bwd_input<double>(const ConvGeom&, const double*, const double*,
                                              double*);
template bool direct_conv2d_bwd_filter<float>(const ConvGeom&, const float*, const float*,
                                              float*);
template bool direct_conv2d_bwd_filter<double>(const ConvGeom&, const double*, const double*,
                                               double*);

}  // namespace headwater
