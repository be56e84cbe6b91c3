#include "conv/winograd.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "common/aligned_alloc.h"
#include "common/isa.h"
#include "common/thread_pool.h"
#include "gemm/gemm.h"

namespace headwater {
namespace {

#define HW_WINOGRAD_TABLES_ONLY
#include "conv/winograd_xforms.inc"
#undef HW_WINOGRAD_TABLES_ONLY

std::atomic<int> g_mode{kWinogradAuto};

// Bytes of transformed tiles (V and M, or V and W) per block: they stay in L2 from the
// transform through the GEMMs.
constexpr int64_t kBlockBytes = int64_t(768) << 10;
// Partial filter gradients summed at the end in slot order (fixed, so deterministic). Four
// slots: enough to balance two threads, and summing them costs half of eight (one thread,
// conv2: 9.5 -> 8.9 ms).
constexpr int64_t kFilterSlots = 4;
// Largest partial-sum slot for which the automatic choice takes Winograd for the filter
// gradient, and the memory above which fewer slots are used.
constexpr int64_t kFilterSlotBytes = int64_t(2) << 20;
constexpr int64_t kFilterSlotsBytes = int64_t(8) << 20;

struct Scratch {
  void* p = nullptr;
  std::size_t cap = 0;
  ~Scratch() { aligned_free(p); }
  float* get(int64_t floats) {
    const std::size_t bytes = static_cast<std::size_t>(floats) * sizeof(float);
    if (bytes > cap) {
      aligned_free(p);
      p = nullptr;
      cap = 0;
      p = aligned_malloc(bytes);
      cap = bytes;
    }
    return static_cast<float*>(p);
  }
};
thread_local Scratch t_v, t_m, t_u, t_f, t_s;

const WinogradTable& table() {
  return *HW_ISA_TABLE(current_isa(), kWinogradTable);
}

struct Variant {
  int m = 0, r = 0, idx = -1;
  const double* gmat = nullptr;  // (m + r - 1) x r
  int n() const { return m + r - 1; }
};

Variant make_variant(int m, int r) {
  Variant v;
  v.m = m, v.r = r;
  if (r == 3 && m == 2) v.idx = 0, v.gmat = &kWinoG_2_3[0][0];
  if (r == 3 && m == 4) v.idx = 1, v.gmat = &kWinoG_4_3[0][0];
  if (r == 5 && m == 2) v.idx = 2, v.gmat = &kWinoG_2_5[0][0];
  if (r == 5 && m == 4) v.idx = 3, v.gmat = &kWinoG_4_5[0][0];
  return v;
}

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

// Chooses the variant for a convolution of `cin` -> `cout` channels over an oh x ow output, or
// returns idx -1 for im2col. `g` is the forward geometry.
Variant choose(const ConvGeom& g, int64_t cin, int64_t cout, int64_t oh, int64_t ow,
               bool filter_grad = false) {
  Variant none;
  if (g.kh != g.kw || (g.kh != 3 && g.kh != 5)) return none;
  if (g.sh != 1 || g.sw != 1 || g.dh != 1 || g.dw != 1) return none;
  if (g.n <= 0 || oh <= 0 || ow <= 0 || cin <= 0 || cout <= 0) return none;
  const int mode = g_mode.load(std::memory_order_relaxed);
  if (mode == kWinogradOff) return none;
  const int r = static_cast<int>(g.kh);
  if (mode == 2 || mode == 4) return make_variant(mode, r);
  // Auto: the GEMMs have k = cin instead of r*r*cin, so narrow channel counts lose more to
  // GEMM overheads than the saved multiplies gain.
  if (cin < 16 || cout < 16) return none;
  // On outputs smaller than 4x4 the padded tiles cost more than im2col's padded rows.
  if (oh < 4 || ow < 4) return none;
  // Output tiles of 4 waste less than tiles of 2 saves unless the image is tiny.
  const auto waste = [&](int m) {
    const int64_t th = (oh + m - 1) / m, tw = (ow + m - 1) / m;
    return double(th * tw * (m + r - 1) * (m + r - 1)) / double(oh * ow);
  };
  const Variant v = make_variant(waste(4) < 0.9 * waste(2) ? 4 : 2, r);
  // The filter gradient keeps (m+r-1)^2 x cin x cout partial sums per slot: past a few MB
  // they no longer stay in cache and im2col is faster.
  if (filter_grad && int64_t(v.n()) * v.n() * cin * cout * 4 > kFilterSlotBytes) return none;
  return v;
}

// Dev-only override of kBlockBytes (HEADWATER_WINOGRAD_BLOCK_KB) for tuning sweeps; read once.
int64_t block_bytes() {
  static const int64_t b = [] {
    const char* e = std::getenv("HEADWATER_WINOGRAD_BLOCK_KB");
    const long kb = e ? std::atol(e) : 0;
    return kb > 0 ? int64_t(kb) << 10 : kBlockBytes;
  }();
  return b;
}

int64_t block_tiles(const Variant& v, int64_t c1, int64_t c2, int64_t tiles) {
  const int64_t per_tile = int64_t(v.n()) * v.n() * (c1 + c2) * int64_t(sizeof(float));
  int64_t t = block_bytes() / per_tile;
  t = t < 28 ? 28 : t / 28 * 28;  // whole 14- and 4-row GEMM tiles
  return t < tiles ? t : tiles;
}

// U[a][b][p][q] = sum_ij G[a][i] G[b][j] f[i][j][p][q] for a contiguous (r, r, P, Q) filter.
void filter_xform(const Variant& v, const float* f, int64_t P, int64_t Q, float* u) {
  const int n = v.n(), r = v.r;
  float gm[8][5];
  for (int a = 0; a < n; ++a)
    for (int i = 0; i < r; ++i) gm[a][i] = static_cast<float>(v.gmat[a * r + i]);
  const int64_t PQ = P * Q;
  parallel_for(P, 8, [&](int64_t p0, int64_t p1) {
    float tmp[8 * 5 * 64];  // [a][j][q] for one p and a block of q
    for (int64_t p = p0; p < p1; ++p) {
      for (int64_t q0 = 0; q0 < Q; q0 += 64) {
        const int64_t ql = Q - q0 < 64 ? Q - q0 : 64;
        for (int a = 0; a < n; ++a)
          for (int j = 0; j < r; ++j) {
            float* t = tmp + (a * r + j) * 64;
            for (int64_t q = 0; q < ql; ++q) t[q] = 0.0f;
            for (int i = 0; i < r; ++i) {
              const float gv = gm[a][i];
              const float* fr = f + (i * r + j) * PQ + p * Q + q0;
              for (int64_t q = 0; q < ql; ++q) t[q] += gv * fr[q];
            }
          }
        for (int a = 0; a < n; ++a)
          for (int b = 0; b < n; ++b) {
            float* ur = u + (a * n + b) * PQ + p * Q + q0;
            for (int64_t q = 0; q < ql; ++q) ur[q] = 0.0f;
            for (int j = 0; j < r; ++j) {
              const float gv = gm[b][j];
              const float* t = tmp + (a * r + j) * 64;
              for (int64_t q = 0; q < ql; ++q) ur[q] += gv * t[q];
            }
          }
      }
    }
  });
}

// y = conv(x, filter with transform u), geometry wg (c -> co).
void run_fwd(const Variant& v, const WinoGeom& wg, const float* x, const float* u, float* y) {
  const WinogradKernels& k = table().k[v.idx];
  const int64_t nn = int64_t(v.n()) * v.n();
  const int64_t tiles = wg.n * wg.th * wg.tw;
  const int64_t bt = block_tiles(v, wg.c, wg.co, tiles);
  const int64_t nblocks = (tiles + bt - 1) / bt;
  dynamic_for(nblocks, [&](int64_t b) {
    const int64_t t0 = b * bt, nt = t0 + bt < tiles ? bt : tiles - t0;
    float* vb = t_v.get(nn * bt * wg.c);
    float* mb = t_m.get(nn * bt * wg.co);
    // Tile-major: the transforms stream through whole tiles (measured faster than
    // element-major here, where the GEMM reads and writes rows nn * c apart).
    k.input(wg, x, t0, nt, vb, wg.c, nn * wg.c);
    GemmArgs<float> a;
    a.batch = nn, a.m = nt, a.n = wg.co, a.k = wg.c;
    a.a = vb, a.a_bs = wg.c, a.a_rs = nn * wg.c, a.a_cs = 1;
    a.b = u, a.b_bs = wg.c * wg.co, a.b_rs = wg.co, a.b_cs = 1;
    a.c = mb, a.c_bs = wg.co, a.c_rs = nn * wg.co;
    gemm<float>(a);
    k.output(wg, mb, t0, nt, y, wg.co, nn * wg.co);
  });
}

WinoGeom tile_geom(const Variant& v, int64_t n, int64_t h, int64_t w, int64_t c, int64_t oh,
                   int64_t ow, int64_t co, int64_t pt, int64_t pl) {
  WinoGeom wg;
  wg.n = n, wg.h = h, wg.w = w, wg.c = c, wg.oh = oh, wg.ow = ow, wg.co = co;
  wg.pt = pt, wg.pl = pl;
  wg.th = (oh + v.m - 1) / v.m;
  wg.tw = (ow + v.m - 1) / v.m;
  return wg;
}

}  // namespace

void set_winograd_mode(int mode) {
  if (mode != kWinogradAuto && mode != kWinogradOff && mode != 2 && mode != 4)
    throw std::invalid_argument("winograd mode must be 0 (auto), -1 (off), 2 or 4, got " +
                                std::to_string(mode));
  g_mode.store(mode, std::memory_order_relaxed);
}
int get_winograd_mode() { return g_mode.load(std::memory_order_relaxed); }

bool winograd_conv2d_fwd(const ConvGeom& g, const float* x, const float* f, float* y) {
  const Variant v = choose(g, g.c, g.co, g.oh, g.ow);
  if (v.idx < 0) return false;
  const int64_t nn = int64_t(v.n()) * v.n();
  float* u = t_u.get(nn * g.c * g.co);
  filter_xform(v, f, g.c, g.co, u);
  run_fwd(v, tile_geom(v, g.n, g.h, g.w, g.c, g.oh, g.ow, g.co, g.pt, g.pl), x, u, y);
  return true;
}

bool winograd_conv2d_bwd_input(const ConvGeom& g, const float* f, const float* dy, float* dx) {
  // dx = conv(dy, f rotated by 180 degrees with its channel axes swapped), padded by r-1-pt.
  const Variant v = choose(g, g.co, g.c, g.h, g.w);
  if (v.idx < 0) return false;
  const int64_t r = v.r, C = g.c, Co = g.co;
  const int64_t nn = int64_t(v.n()) * v.n();
  float* fr = t_f.get(r * r * C * Co);
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < r; ++j) {
      const float* s = f + ((r - 1 - i) * r + (r - 1 - j)) * C * Co;
      float* d = fr + (i * r + j) * Co * C;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t o = 0; o < Co; ++o) d[o * C + c] = s[c * Co + o];
    }
  float* u = t_u.get(nn * C * Co);
  filter_xform(v, fr, Co, C, u);
  run_fwd(v, tile_geom(v, g.n, g.oh, g.ow, Co, g.h, g.w, C, r - 1 - g.pt, r - 1 - g.pl), dy, u,
          dx);
  return true;
}

bool winograd_conv2d_bwd_filter(const ConvGeom& g, const float* x, const float* dy, float* df) {
  const Variant v = choose(g, g.c, g.co, g.oh, g.ow, true);
  if (v.idx < 0) return false;
  const WinogradKernels& k = table().k[v.idx];
  const int n = v.n(), r = v.r;
  const int64_t nn = int64_t(n) * n, C = g.c, Co = g.co, CC = C * Co;
  const WinoGeom wg = tile_geom(v, g.n, g.h, g.w, C, g.oh, g.ow, Co, g.pt, g.pl);
  const int64_t tiles = wg.n * wg.th * wg.tw;
  const int64_t bt = block_tiles(v, C, Co, tiles);
  const int64_t nblocks = (tiles + bt - 1) / bt;
  int64_t slots = kFilterSlotsBytes / (nn * CC * int64_t(sizeof(float)));
  slots = slots < 2 ? 2 : slots > kFilterSlots ? kFilterSlots : slots;
  slots = nblocks < slots ? nblocks : slots;
  float* s = t_s.get(slots * nn * CC);
  dynamic_for(slots, [&](int64_t sl) {
    float* out = s + sl * nn * CC;
    bool first = true;
    for (int64_t b = sl; b < nblocks; b += slots) {
      const int64_t t0 = b * bt, nt = t0 + bt < tiles ? bt : tiles - t0;
      float* vb = t_v.get(nn * bt * C);
      float* wb = t_m.get(nn * bt * Co);
      // Element-major: packing the transposed W reads along tiles, which must be adjacent.
      k.input(wg, x, t0, nt, vb, nt * C, C);
      k.grad(wg, dy, t0, nt, wb, nt * Co, Co);
      GemmArgs<float> a;
      // S[e] is kept as (Co x C) = W[e]^T V[e]: Cout usually has more rows to fill the
      // GEMM's row tiles than Cin.
      a.batch = nn, a.m = Co, a.n = C, a.k = nt;
      a.a = wb, a.a_bs = nt * Co, a.a_rs = 1, a.a_cs = Co;
      a.b = vb, a.b_bs = nt * C, a.b_rs = C, a.b_cs = 1;
      a.c = out, a.c_bs = CC, a.c_rs = C;
      a.accumulate = !first;
      gemm<float>(a);
      first = false;
    }
  });
  // Sum the slots in order, then df[i][j] = sum_ab G[a][i] G[b][j] S[a][b].
  float gm[8][5];
  for (int a = 0; a < n; ++a)
    for (int i = 0; i < r; ++i) gm[a][i] = static_cast<float>(v.gmat[a * r + i]);
  // S is [e][co][c] and df [i][j][c][co]: work on (co, block of c) so the sums run along
  // contiguous c, then write df with a stride of Co.
  parallel_for(Co, 4, [&](int64_t o0, int64_t o1) {
    float acc[64 * 64];     // [a][b] for one (co, block of c)
    float tmp[8 * 5 * 64];  // [a][j]
    float res[5 * 5 * 64];  // [i][j]
    for (int64_t o = o0; o < o1; ++o)
      for (int64_t q0 = 0; q0 < C; q0 += 64) {
        const int64_t ql = C - q0 < 64 ? C - q0 : 64;
        for (int64_t e = 0; e < nn; ++e) {
          float* ac = acc + e * 64;
          const float* s0 = s + e * CC + o * C + q0;
          for (int64_t q = 0; q < ql; ++q) ac[q] = s0[q];
          for (int64_t sl = 1; sl < slots; ++sl) {
            const float* sp = s0 + sl * nn * CC;
            for (int64_t q = 0; q < ql; ++q) ac[q] += sp[q];
          }
        }
        for (int a = 0; a < n; ++a)
          for (int j = 0; j < r; ++j) {
            float* t = tmp + (a * r + j) * 64;
            for (int64_t q = 0; q < ql; ++q) t[q] = 0.0f;
            for (int b = 0; b < n; ++b) {
              const float gv = gm[b][j];
              const float* ac = acc + (a * n + b) * 64;
              for (int64_t q = 0; q < ql; ++q) t[q] += gv * ac[q];
            }
          }
        for (int i = 0; i < r; ++i)
          for (int j = 0; j < r; ++j) {
            float* d = res + (i * r + j) * 64;
            for (int64_t q = 0; q < ql; ++q) d[q] = 0.0f;
            for (int a = 0; a < n; ++a) {
              const float gv = gm[a][i];
              const float* t = tmp + (a * r + j) * 64;
              for (int64_t q = 0; q < ql; ++q) d[q] += gv * t[q];
            }
            float* dst = df + (i * r + j) * CC + q0 * Co + o;
            for (int64_t q = 0; q < ql; ++q) dst[q * Co] = d[q];
          }
      }
  });
  return true;
}

}  // namespace headwater
