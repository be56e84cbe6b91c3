#include "conv/conv.h"

#include <atomic>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "common/aligned_alloc.h"
#include "common/thread_pool.h"
#include "conv/conv_direct.h"
#include "conv/winograd.h"
#include "gemm/gemm.h"

namespace headwater {
namespace {

// Bytes of im2col rows handled per GEMM call: the column buffer stays in L2 between being
// written and being packed.
constexpr int64_t kChunkBytes = int64_t(512) << 10;
// Partial filter gradients summed at the end, in slot order (fixed, so deterministic).
constexpr int64_t kFilterSlots = 8;

struct Scratch {
  void* p = nullptr;
  std::size_t cap = 0;
  ~Scratch() { aligned_free(p); }
  void* get(std::size_t bytes) {
    if (bytes > cap) {
      aligned_free(p);
      p = nullptr;
      cap = 0;
      p = aligned_malloc(bytes);
      cap = bytes;
    }
    return p;
  }
};
thread_local Scratch t_cols;

// A multiple of 84 rows (divisible by every GEMM row tile: 14, 6 and 4), so chunks end on
// whole micro-tiles instead of a padded edge tile.
// Runs fn(i) for i in [0, ntasks), each pool thread taking the next task from a shared counter.
// Tasks write disjoint outputs, so results do not depend on which thread runs which task; and
// a thread the OS has descheduled (a busy shared machine) no longer holds up a fixed share of
// the work as it would under a static split.
template <class F>
void dynamic_for(int64_t ntasks, F&& fn) {
  if (ntasks <= 0) return;
  std::atomic<int64_t> next{0};
  const int64_t workers = get_num_threads() < ntasks ? get_num_threads() : ntasks;
  parallel_for(workers, 1, [&](int64_t, int64_t) {
    for (;;) {
      const int64_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= ntasks) break;
      fn(i);
    }
  });
}

// Short runs (a few channels of a few pixels) are copied inline: a memcpy/memset call per run
// costs more than the run. (This file is built with -fno-tree-loop-distribute-patterns so
// GCC keeps these loops as loops.)
// Copies of a compile-time size compile to a few moves; the switch picks one for the short
// runs of small-channel layers (5 floats for a 5x5 window over one channel).
template <class T, int N>
inline void copy_fixed(T* d, const T* s) {
  std::memcpy(d, s, sizeof(T) * N);
}
template <class T>
inline void copy_run(T* d, const T* s, int64_t n) {
  switch (n) {
#define HW_CASE(N) \
  case N:          \
    return copy_fixed<T, N>(d, s);
    HW_CASE(1) HW_CASE(2) HW_CASE(3) HW_CASE(4) HW_CASE(5) HW_CASE(6) HW_CASE(7) HW_CASE(8)
    HW_CASE(9) HW_CASE(10) HW_CASE(11) HW_CASE(12) HW_CASE(13) HW_CASE(14) HW_CASE(15)
    HW_CASE(16)
#undef HW_CASE
    default:
      break;
  }
  if (n > 64) {
    std::memcpy(d, s, sizeof(T) * n);
    return;
  }
  for (int64_t q = 0; q < n; ++q) d[q] = s[q];
}
template <class T>
inline void zero_run(T* d, int64_t n) {
  if (n > 64) {
    std::memset(d, 0, sizeof(T) * n);
    return;
  }
  for (int64_t q = 0; q < n; ++q) d[q] = T(0);
}

int64_t chunk_rows(int64_t k, std::size_t item) {
  const int64_t r = kChunkBytes / static_cast<int64_t>(k * static_cast<int64_t>(item));
  return r < 84 ? 84 : (r + 42) / 84 * 84;
}

// Rows [r0, r1) of the im2col matrix (row = (n, oy, ox), column = (i, j, c)) into `cols`.
template <class T>
void im2col(const ConvGeom& g, const T* x, int64_t r0, int64_t r1, T* cols) {
  const int64_t K = g.kh * g.kw * g.c;
  const int64_t c = g.c;
  const int64_t run = g.kw * c;
  int64_t ox = r0 % g.ow;
  int64_t oy = (r0 / g.ow) % g.oh;
  int64_t ni = r0 / (g.ow * g.oh);
  T* d = cols;
  for (int64_t r = r0; r < r1; ++r, d += K) {
    const T* xn = x + ni * g.h * g.w * c;
    const int64_t x0 = ox * g.sw - g.pl;
    // Valid window columns [j0, j1) (for dilation 1 they are one contiguous input run).
    const int64_t j0 = x0 < 0 ? -x0 : 0;
    const int64_t j1 = x0 + g.kw > g.w ? g.w - x0 : g.kw;
    const bool full = j0 == 0 && j1 == g.kw && g.dw == 1;
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t iy = oy * g.sh - g.pt + i * g.dh;
      T* di = d + i * run;
      if (iy < 0 || iy >= g.h) {
        zero_run(di, run);
        continue;
      }
      const T* xr = xn + iy * g.w * c;
      if (full) {
        copy_run(di, xr + x0 * c, run);
      } else if (g.dw == 1) {
        if (j0 > 0) zero_run(di, j0 * c);
        if (j1 > j0) copy_run(di + j0 * c, xr + (x0 + j0) * c, (j1 - j0) * c);
        const int64_t tail = g.kw - (j1 > j0 ? j1 : j0);
        if (tail > 0) zero_run(di + (g.kw - tail) * c, tail * c);
      } else {
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t ix = x0 + j * g.dw;
          if (ix < 0 || ix >= g.w)
            zero_run(di + j * c, c);
          else
            copy_run(di + j * c, xr + ix * c, c);
        }
      }
    }
    if (++ox == g.ow) {
      ox = 0;
      if (++oy == g.oh) {
        oy = 0;
        ++ni;
      }
    }
  }
}

// dx += col2im(dcols) for rows [r0, r1).
template <class T>
void col2im_add(const ConvGeom& g, const T* dcols, int64_t r0, int64_t r1, T* dx) {
  const int64_t K = g.kh * g.kw * g.c;
  const int64_t c = g.c;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t ox = r % g.ow;
    const int64_t oy = (r / g.ow) % g.oh;
    const int64_t ni = r / (g.ow * g.oh);
    const T* s = dcols + (r - r0) * K;
    T* xn = dx + ni * g.h * g.w * c;
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t iy = oy * g.sh - g.pt + i * g.dh;
      if (iy < 0 || iy >= g.h) continue;
      T* xr = xn + iy * g.w * c;
      const T* si = s + i * g.kw * c;
      const int64_t x0 = ox * g.sw - g.pl;
      if (g.dw == 1) {
        // The valid part of the window row is one contiguous run in both buffers.
        const int64_t j0 = x0 < 0 ? -x0 : 0;
        const int64_t j1 = x0 + g.kw > g.w ? g.w - x0 : g.kw;
        T* dst = xr + (x0 + j0) * c;
        const T* src = si + j0 * c;
        for (int64_t q = 0, e = (j1 - j0) * c; q < e; ++q) dst[q] += src[q];
        continue;
      }
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t ix = x0 + j * g.dw;
        if (ix < 0 || ix >= g.w) continue;
        T* dst = xr + ix * c;
        const T* src = si + j * c;
        for (int64_t q = 0; q < c; ++q) dst[q] += src[q];
      }
    }
  }
}

template <class T>
GemmArgs<T> plain_gemm(int64_t m, int64_t n, int64_t k) {
  GemmArgs<T> a;
  a.m = m;
  a.n = n;
  a.k = k;
  a.c_rs = n;
  return a;
}

bool is_pointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 &&
         g.oh == g.h && g.ow == g.w;
}

}  // namespace

template <class T>
void conv2d_fwd(const ConvGeom& g, const T* x, const T* f, T* y) {
  const int64_t M = g.n * g.oh * g.ow, K = g.kh * g.kw * g.c, N = g.co;
  if (M <= 0 || N <= 0) return;
  if (direct_conv2d_fwd(g, x, f, y)) return;
  if constexpr (std::is_same_v<T, float>) {
    if (winograd_conv2d_fwd(g, x, f, y)) return;
  }
  if (is_pointwise(g)) {
    GemmArgs<T> a = plain_gemm<T>(M, N, K);
    a.a = x, a.a_rs = K, a.a_cs = 1, a.b = f, a.b_rs = N, a.b_cs = 1, a.c = y;
    gemm<T>(a);
    return;
  }
  const int64_t rows = chunk_rows(K, sizeof(T));
  const int64_t nchunks = (M + rows - 1) / rows;
  auto do_chunk = [&](int64_t ci) {
    const int64_t r0 = ci * rows, r1 = r0 + rows < M ? r0 + rows : M;
    T* cols = static_cast<T*>(t_cols.get(static_cast<std::size_t>(rows * K) * sizeof(T)));
    im2col(g, x, r0, r1, cols);
    GemmArgs<T> a = plain_gemm<T>(r1 - r0, N, K);
    a.a = cols, a.a_rs = K, a.a_cs = 1, a.b = f, a.b_rs = N, a.b_cs = 1, a.c = y + r0 * N;
    gemm<T>(a);
  };
  if (nchunks >= 2 * get_num_threads()) {
    dynamic_for(nchunks, do_chunk);
  } else {
    for (int64_t ci = 0; ci < nchunks; ++ci) do_chunk(ci);  // the GEMM threads itself
  }
}

template <class T>
void conv2d_bwd_input(const ConvGeom& g, const T* f, const T* dy, T* dx) {
  const int64_t K = g.kh * g.kw * g.c, N = g.co;
  const int64_t per_image = g.oh * g.ow;
  const int64_t in_image = g.h * g.w * g.c;
  if (g.n <= 0 || in_image <= 0) return;
  if (direct_conv2d_bwd_input(g, f, dy, dx)) return;
  if constexpr (std::is_same_v<T, float>) {
    if (winograd_conv2d_bwd_input(g, f, dy, dx)) return;
  }
  if (is_pointwise(g)) {
    GemmArgs<T> a = plain_gemm<T>(g.n * per_image, g.c, N);
    a.a = dy, a.a_rs = N, a.a_cs = 1, a.b = f, a.b_rs = 1, a.b_cs = N, a.c = dx;
    gemm<T>(a);
    return;
  }
  // Whole images per task, so no two threads add into the same part of dx.
  const int64_t rows = chunk_rows(K, sizeof(T));
  const int64_t imgs = per_image >= rows ? 1 : rows / per_image;
  const int64_t ntasks = (g.n + imgs - 1) / imgs;
  auto do_task = [&](int64_t t) {
    const int64_t n0 = t * imgs, n1 = n0 + imgs < g.n ? n0 + imgs : g.n;
    std::memset(dx + n0 * in_image, 0, sizeof(T) * (n1 - n0) * in_image);
    const int64_t R0 = n0 * per_image, R1 = n1 * per_image;
    T* dcols = static_cast<T*>(t_cols.get(static_cast<std::size_t>(rows * K) * sizeof(T)));
    for (int64_t r0 = R0; r0 < R1; r0 += rows) {
      const int64_t r1 = r0 + rows < R1 ? r0 + rows : R1;
      GemmArgs<T> a = plain_gemm<T>(r1 - r0, K, N);
      a.a = dy + r0 * N, a.a_rs = N, a.a_cs = 1;
      a.b = f, a.b_rs = 1, a.b_cs = N;  // f is (K, N): its transpose without a copy
      a.c = dcols;
      gemm<T>(a);
      col2im_add(g, dcols, r0, r1, dx);
    }
  };
  if (ntasks >= 2) {
    dynamic_for(ntasks, do_task);
  } else {
    do_task(0);
  }
}

template <class T>
void conv2d_bwd_filter(const ConvGeom& g, const T* x, const T* dy, T* df) {
  const int64_t M = g.n * g.oh * g.ow, K = g.kh * g.kw * g.c, N = g.co;
  if (K <= 0 || N <= 0) return;
  if (M <= 0) {
    std::memset(df, 0, sizeof(T) * K * N);
    return;
  }
  if (direct_conv2d_bwd_filter(g, x, dy, df)) return;
  if constexpr (std::is_same_v<T, float>) {
    if (winograd_conv2d_bwd_filter(g, x, dy, df)) return;
  }
  if (is_pointwise(g)) {
    GemmArgs<T> a = plain_gemm<T>(K, N, M);
    a.a = x, a.a_rs = 1, a.a_cs = K, a.b = dy, a.b_rs = N, a.b_cs = 1, a.c = df;
    gemm<T>(a);
    return;
  }
  const int64_t rows = chunk_rows(K, sizeof(T));
  const int64_t nchunks = (M + rows - 1) / rows;
  const int64_t slots = nchunks < kFilterSlots ? nchunks : kFilterSlots;
  std::vector<T> partial(static_cast<std::size_t>((slots - 1) * K * N));
  auto slot_out = [&](int64_t s) { return s == 0 ? df : partial.data() + (s - 1) * K * N; };
  auto do_slot = [&](int64_t s) {
    T* out = slot_out(s);
    T* cols = static_cast<T*>(t_cols.get(static_cast<std::size_t>(rows * K) * sizeof(T)));
    bool first = true;
    for (int64_t ci = s; ci < nchunks; ci += slots) {
      const int64_t r0 = ci * rows, r1 = r0 + rows < M ? r0 + rows : M;
      im2col(g, x, r0, r1, cols);
      GemmArgs<T> a = plain_gemm<T>(K, N, r1 - r0);
      a.a = cols, a.a_rs = 1, a.a_cs = K;  // cols^T without a copy
      a.b = dy + r0 * N, a.b_rs = N, a.b_cs = 1;
      a.c = out;
      a.accumulate = !first;
      gemm<T>(a);
      first = false;
    }
  };
  if (slots >= 2) {
    dynamic_for(slots, do_slot);
  } else {
    do_slot(0);
  }
  if (slots > 1) {
    const int64_t total = K * N;
    parallel_for(total, 1 << 14, [&](int64_t e0, int64_t e1) {
      for (int64_t s = 1; s < slots; ++s) {
        const T* p = partial.data() + (s - 1) * total;
        for (int64_t e = e0; e < e1; ++e) df[e] += p[e];
      }
    });
  }
}

#define HW_INSTANTIATE(T)                                                   \
  template void conv2d_fwd<T>(const ConvGeom&, const T*, const T*, T*);     \
  template void conv2d_bwd_input<T>(const ConvGeom&, const T*, const T*, T*); \
  template void conv2d_bwd_filter<T>(const ConvGeom&, const T*, const T*, T*);
HW_INSTANTIATE(float)
HW_INSTANTIATE(double)
#undef HW_INSTANTIATE

}  // namespace headwater
