// Per-ISA Winograd tile transforms. Included once by each winograd_<isa>.cpp after
// common/simd.h; everything sits in headwater::HW_ISA_NS (see simd.h).
//
// Each transform works on L = 16 channels at a time: the generated 1-D transforms are loops over
// those lanes with compile-time trip counts, which the compiler turns into one AVX-512 vector,
// two AVX2 vectors or four SSE2 vectors per term. Tiles that overhang the image, and the last
// partial channel block, go through a zero-padded local copy; full interior tiles are read and
// written in place.

#include <cstring>

#include "conv/winograd.h"

namespace headwater {
namespace HW_ISA_NS {
namespace {

#include "conv/winograd_xforms.inc"

constexpr int L = 16;

// Tile index -> (image, tile row, tile column), advanced in row-major order.
struct TileIter {
  int64_t ni, ty, tx;
  const WinoGeom& g;
  TileIter(const WinoGeom& geom, int64_t t) : g(geom) {
    tx = t % g.tw;
    ty = (t / g.tw) % g.th;
    ni = t / (g.tw * g.th);
  }
  void next() {
    if (++tx == g.tw) {
      tx = 0;
      if (++ty == g.th) {
        ty = 0;
        ++ni;
      }
    }
  }
};

inline void copy16(float* __restrict d, const float* __restrict s) {
  std::memcpy(d, s, sizeof(float) * L);
}

inline void copy_lanes(float* __restrict d, const float* __restrict s, int64_t cl) {
  for (int64_t l = 0; l < cl; ++l) d[l] = s[l];
  for (int64_t l = cl; l < L; ++l) d[l] = 0.0f;
}

template <int M, int R>
void input_xform(const WinoGeom& g, const float* x, int64_t t0, int64_t nt, float* v,
          int64_t es, int64_t ts) {
  constexpr int N = M + R - 1;
  using X = Xf<M, R>;
  const int64_t C = g.c;
  const int64_t vs = es;
  alignas(64) float d[N * N * L];
  alignas(64) float tmp[N * N * L];
  alignas(64) float out[N * N * L];
  TileIter it(g, t0);
  for (int64_t t = 0; t < nt; ++t, it.next()) {
    const int64_t y0 = it.ty * M - g.pt, x0 = it.tx * M - g.pl;
    const float* xn = x + it.ni * g.h * g.w * C;
    const bool inside = y0 >= 0 && x0 >= 0 && y0 + N <= g.h && x0 + N <= g.w;
    for (int64_t c0 = 0; c0 < C; c0 += L) {
      const int64_t cl = C - c0 < L ? C - c0 : L;
      const float* src;
      int64_t rs, cs;
      if (inside && cl == L) {
        src = xn + (y0 * g.w + x0) * C + c0;
        rs = g.w * C;
        cs = C;
      } else {
        // Valid columns [j0, j1) of the window are the same for every row.
        const int64_t j0 = x0 < 0 ? (-x0 < N ? -x0 : N) : 0;
        int64_t j1 = g.w - x0 < N ? g.w - x0 : N;
        if (j1 < j0) j1 = j0;
        for (int i = 0; i < N; ++i) {
          const int64_t iy = y0 + i;
          float* dr = d + i * N * L;
          if (iy < 0 || iy >= g.h) {
            std::memset(dr, 0, sizeof(float) * N * L);
            continue;
          }
          std::memset(dr, 0, sizeof(float) * L * j0);
          if (j1 > j0) {
            const float* s = xn + (iy * g.w + x0 + j0) * C + c0;
            if (cl == L) {
              for (int64_t j = j0; j < j1; ++j) copy16(dr + j * L, s + (j - j0) * C);
            } else {
              for (int64_t j = j0; j < j1; ++j) copy_lanes(dr + j * L, s + (j - j0) * C, cl);
            }
          }
          std::memset(dr + j1 * L, 0, sizeof(float) * L * (N - j1));
        }
        src = d;
        rs = N * L;
        cs = L;
      }
      for (int j = 0; j < N; ++j) X::template bt<L>(src + j * cs, rs, tmp + j * L, N * L);
      float* vt = v + t * ts + c0;
      if (cl == L) {
        for (int i = 0; i < N; ++i) X::template bt<L>(tmp + i * N * L, L, vt + i * N * vs, vs);
      } else {
        for (int i = 0; i < N; ++i) X::template bt<L>(tmp + i * N * L, L, out + i * N * L, L);
        for (int e = 0; e < N * N; ++e)
          for (int64_t l = 0; l < cl; ++l) vt[e * vs + l] = out[e * L + l];
      }
    }
  }
}

template <int M, int R>
void output_xform(const WinoGeom& g, const float* m, int64_t t0, int64_t nt, float* y,
          int64_t es, int64_t ts) {
  constexpr int N = M + R - 1;
  using X = Xf<M, R>;
  const int64_t C = g.co;
  const int64_t ms = es;
  alignas(64) float buf[N * N * L];
  alignas(64) float tmp[M * N * L];
  alignas(64) float out[M * M * L];
  TileIter it(g, t0);
  for (int64_t t = 0; t < nt; ++t, it.next()) {
    const int64_t oy0 = it.ty * M, ox0 = it.tx * M;
    float* yn = y + it.ni * g.oh * g.ow * C;
    const bool inside = oy0 + M <= g.oh && ox0 + M <= g.ow;
    for (int64_t c0 = 0; c0 < C; c0 += L) {
      const int64_t cl = C - c0 < L ? C - c0 : L;
      const float* src;
      int64_t es;
      if (cl == L) {
        src = m + t * ts + c0;
        es = ms;
      } else {
        for (int e = 0; e < N * N; ++e) copy_lanes(buf + e * L, m + e * ms + t * ts + c0, cl);
        src = buf;
        es = L;
      }
      for (int j = 0; j < N; ++j) X::template at<L>(src + j * es, N * es, tmp + j * L, N * L);
      if (inside && cl == L) {
        for (int i = 0; i < M; ++i)
          X::template at<L>(tmp + i * N * L, L, yn + ((oy0 + i) * g.ow + ox0) * C + c0, C);
      } else {
        for (int i = 0; i < M; ++i) X::template at<L>(tmp + i * N * L, L, out + i * M * L, L);
        const int64_t mi = g.oh - oy0 < M ? g.oh - oy0 : M;
        const int64_t mk = g.ow - ox0 < M ? g.ow - ox0 : M;
        for (int64_t i = 0; i < mi; ++i) {
          float* dst = yn + ((oy0 + i) * g.ow + ox0) * C + c0;
          const float* s = out + i * M * L;
          if (cl == L) {
            for (int64_t k = 0; k < mk; ++k) copy16(dst + k * C, s + k * L);
          } else {
            for (int64_t k = 0; k < mk; ++k)
              for (int64_t l = 0; l < cl; ++l) dst[k * C + l] = s[k * L + l];
          }
        }
      }
    }
  }
}

// W = A dY A^T for the m x m block of the output gradient at each tile (zero past its edge).
template <int M, int R>
void grad_xform(const WinoGeom& g, const float* dy, int64_t t0, int64_t nt, float* w,
          int64_t es, int64_t ts) {
  constexpr int N = M + R - 1;
  using X = Xf<M, R>;
  const int64_t C = g.co;
  const int64_t ws = es;
  alignas(64) float d[M * M * L];
  alignas(64) float tmp[N * M * L];
  alignas(64) float out[N * N * L];
  TileIter it(g, t0);
  for (int64_t t = 0; t < nt; ++t, it.next()) {
    const int64_t oy0 = it.ty * M, ox0 = it.tx * M;
    const float* dn = dy + it.ni * g.oh * g.ow * C;
    const bool inside = oy0 + M <= g.oh && ox0 + M <= g.ow;
    for (int64_t c0 = 0; c0 < C; c0 += L) {
      const int64_t cl = C - c0 < L ? C - c0 : L;
      const float* src;
      int64_t rs, cs;
      if (inside && cl == L) {
        src = dn + (oy0 * g.ow + ox0) * C + c0;
        rs = g.ow * C;
        cs = C;
      } else {
        const int64_t mi = g.oh - oy0 < M ? g.oh - oy0 : M;
        const int64_t mk = g.ow - ox0 < M ? g.ow - ox0 : M;
        for (int64_t i = 0; i < M; ++i) {
          float* dr = d + i * M * L;
          if (i >= mi) {
            std::memset(dr, 0, sizeof(float) * M * L);
            continue;
          }
          const float* s = dn + ((oy0 + i) * g.ow + ox0) * C + c0;
          if (cl == L) {
            for (int64_t k = 0; k < mk; ++k) copy16(dr + k * L, s + k * C);
          } else {
            for (int64_t k = 0; k < mk; ++k) copy_lanes(dr + k * L, s + k * C, cl);
          }
          std::memset(dr + mk * L, 0, sizeof(float) * L * (M - mk));
        }
        src = d;
        rs = M * L;
        cs = L;
      }
      for (int j = 0; j < M; ++j) X::template a<L>(src + j * cs, rs, tmp + j * L, M * L);
      float* wt = w + t * ts + c0;
      if (cl == L) {
        for (int i = 0; i < N; ++i) X::template a<L>(tmp + i * M * L, L, wt + i * N * ws, ws);
      } else {
        for (int i = 0; i < N; ++i) X::template a<L>(tmp + i * M * L, L, out + i * N * L, L);
        for (int e = 0; e < N * N; ++e)
          for (int64_t l = 0; l < cl; ++l) wt[e * ws + l] = out[e * L + l];
      }
    }
  }
}

template <int M, int R>
constexpr WinogradKernels kernels() {
  return WinogradKernels{&input_xform<M, R>, &output_xform<M, R>, &grad_xform<M, R>};
}

}  // namespace

extern const WinogradTable kWinogradTable;
const WinogradTable kWinogradTable = {
    {kernels<2, 3>(), kernels<4, 3>(), kernels<2, 5>(), kernels<4, 5>()}};

}  // namespace HW_ISA_NS
}  // namespace headwater
