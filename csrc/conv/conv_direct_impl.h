// Per-ISA direct-convolution loops. Included once by each conv_direct_<isa>.cpp after
// common/simd.h and conv/lanes.h.

#include "conv/conv_direct.h"

namespace headwater {
namespace HW_ISA_NS {
namespace {

#if HW_ISA_LEVEL == 2
constexpr int kPix = 12;  // forward register tile: kPix pixels x 2 vectors of Cout (24 of 32)
constexpr int kFwdNV = 2;
constexpr int kTaps = 8;  // filter gradient: kTaps taps x 2 vectors (16 of 32)
constexpr int kBwdNV = 2;
#elif HW_ISA_LEVEL == 1
constexpr int kPix = 6;  // 12 accumulators of 16 registers
constexpr int kFwdNV = 2;
constexpr int kTaps = 6;
constexpr int kBwdNV = 1;
#else
constexpr int kPix = 4;
constexpr int kFwdNV = 2;
constexpr int kTaps = 4;
constexpr int kBwdNV = 1;
#endif

// The padded input rows oy*sh - pt + i*dh (i < kh) of image ni, columns u = 0 .. wb - 1 (input
// column u - pl; zeros outside the input, as im2col pads), split by channel and stride phase:
// band[i][ch][u % sw][u / sw]. Tap t then reads pixel ox at band[toff[t] + ox] (see
// direct_tap_offsets): consecutive pixels are consecutive elements for every stride.
template <class T>
void fill_band(const ConvGeom& g, const T* x, int64_t ni, int64_t oy, T* band) {
  const int64_t c = g.c, sw = g.sw;
  const int64_t wb = direct_band_width(g), mlen = (wb + sw - 1) / sw;
  const int64_t u0 = g.pl < wb ? g.pl : wb;              // first column inside the input
  const int64_t u1 = g.pl + g.w < wb ? g.pl + g.w : wb;  // one past the last
  for (int64_t i = 0; i < g.kh; ++i) {
    T* b = band + i * c * sw * mlen;
    const int64_t iy = oy * g.sh - g.pt + i * g.dh;
    if (iy < 0 || iy >= g.h || u1 <= u0) {
      for (int64_t e = 0; e < c * sw * mlen; ++e) b[e] = T(0);
      continue;
    }
    const T* xr = x + (ni * g.h + iy) * g.w * c;  // band column u is xr[(u - pl) * c + ch]
    if (c == 1 && sw == 1) {
      for (int64_t u = 0; u < u0; ++u) b[u] = T(0);
      std::memcpy(b + u0, xr + (u0 - g.pl), sizeof(T) * static_cast<std::size_t>(u1 - u0));
      for (int64_t u = u1; u < mlen; ++u) b[u] = T(0);
      continue;
    }
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t q = 0; q < sw; ++q) {
        T* d = b + (ch * sw + q) * mlen;
        for (int64_t m = 0; m < mlen; ++m) {
          const int64_t u = m * sw + q;
          d[m] = (u >= u0 && u < u1) ? xr[(u - g.pl) * c + ch] : T(0);
        }
      }
  }
}

// y[p][0 : NV*W] for P pixels: sum over the K taps t of rt[toff[t] + p] * f[t][lanes] (rt and
// y at the tile's first pixel, f and y at the block's first lane; n = lanes of a tail block).
template <class T, int NV, bool Tail, int P>
inline void fwd_tile(const T* rt, const int64_t* toff, int64_t K, const T* f, int64_t co,
                     int64_t n, T* y) {
  using L = Lanes<T>;
  using reg = typename L::reg;
  constexpr int W = L::W;
  reg acc[P][NV];
#pragma GCC unroll 32
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[p][v] = L::zero();
  for (int64_t t = 0; t < K; ++t, f += co) {
    const T* r = rt + toff[t];
    reg fv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) fv[v] = Tail ? L::loadn(f + v * W, n) : L::load(f + v * W);
#pragma GCC unroll 32
    for (int p = 0; p < P; ++p) {
      const reg xs = L::set1(r[p]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[p][v] = L::fmadd(fv[v], xs, acc[p][v]);
    }
  }
#pragma GCC unroll 32
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (Tail)
        L::storen(y + p * co + v * W, n, acc[p][v]);
      else
        L::store(y + p * co + v * W, acc[p][v]);
    }
}

// One output row, Cout lanes [cb, cb + NV*W) (or the tail): pixel tiles of kPix, then 4, then 1.
template <class T, int NV, bool Tail>
inline void fwd_row_block(const T* band, const int64_t* toff, int64_t ow, int64_t K, const T* f,
                          int64_t co, int64_t n, T* y) {
  int64_t ox = 0;
  for (; ox + kPix <= ow; ox += kPix)
    fwd_tile<T, NV, Tail, kPix>(band + ox, toff, K, f, co, n, y + ox * co);
  if (kPix > 4)
    for (; ox + 4 <= ow; ox += 4)
      fwd_tile<T, NV, Tail, 4>(band + ox, toff, K, f, co, n, y + ox * co);
  for (; ox < ow; ++ox) fwd_tile<T, NV, Tail, 1>(band + ox, toff, K, f, co, n, y + ox * co);
}

template <class T>
void fwd_rows(const ConvGeom& g, const T* x, const T* f, T* y, int64_t r0, int64_t r1, T* band,
              const int64_t* toff) {
  constexpr int64_t W = Lanes<T>::W;
  const int64_t K = g.kh * g.kw * g.c, co = g.co, ow = g.ow;
  for (int64_t r = r0; r < r1; ++r) {
    fill_band(g, x, r / g.oh, r % g.oh, band);
    T* yr = y + r * ow * co;
    int64_t cb = 0;
    for (; cb + kFwdNV * W <= co; cb += kFwdNV * W)
      fwd_row_block<T, kFwdNV, false>(band, toff, ow, K, f + cb, co, 0, yr + cb);
    for (; cb + W <= co; cb += W)
      fwd_row_block<T, 1, false>(band, toff, ow, K, f + cb, co, 0, yr + cb);
    if (cb < co) fwd_row_block<T, 1, true>(band, toff, ow, K, f + cb, co, co - cb, yr + cb);
  }
}

// part[t][0 : NV*W] += sum over the row's pixels ox of band[boff[t] + ox] * dy[ox], for G taps t
// (part and dy at the block's first lane).
template <class T, int NV, bool Tail, int G>
inline void bwdf_taps(const T* band, const int64_t* boff, int64_t ow,
                      const T* dy, int64_t co, int64_t n, T* part) {
  using L = Lanes<T>;
  using reg = typename L::reg;
  constexpr int W = L::W;
  reg acc[G][NV];
#pragma GCC unroll 16
  for (int t = 0; t < G; ++t)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[t][v] = Tail ? L::loadn(part + t * co + v * W, n) : L::load(part + t * co + v * W);
  int64_t off[G];
#pragma GCC unroll 16
  for (int t = 0; t < G; ++t) off[t] = boff[t];
  for (int64_t ox = 0; ox < ow; ++ox, ++band, dy += co) {
    reg d[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) d[v] = Tail ? L::loadn(dy + v * W, n) : L::load(dy + v * W);
#pragma GCC unroll 16
    for (int t = 0; t < G; ++t) {
      const reg xs = L::set1(band[off[t]]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[t][v] = L::fmadd(d[v], xs, acc[t][v]);
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < G; ++t)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (Tail)
        L::storen(part + t * co + v * W, n, acc[t][v]);
      else
        L::store(part + t * co + v * W, acc[t][v]);
    }
}

// bwdf_taps for the group's actual tap count nt (1 .. G).
template <class T, int NV, bool Tail, int G = kTaps>
inline void bwdf_group(int64_t nt, const T* band, const int64_t* boff, int64_t ow,
                       const T* dy, int64_t co, int64_t n, T* part) {
  if constexpr (G >= 1) {
    if (nt == G) {
      bwdf_taps<T, NV, Tail, G>(band, boff, ow, dy, co, n, part);
      return;
    }
    bwdf_group<T, NV, Tail, G - 1>(nt, band, boff, ow, dy, co, n, part);
  }
}

template <class T>
void bwdf_rows(const ConvGeom& g, const T* x, const T* dy, T* part, int64_t r0, int64_t r1,
               T* band, const int64_t* toff) {
  constexpr int64_t W = Lanes<T>::W;
  const int64_t K = g.kh * g.kw * g.c, co = g.co;
  for (int64_t r = r0; r < r1; ++r) {
    fill_band(g, x, r / g.oh, r % g.oh, band);
    const T* dyr = dy + r * g.ow * co;
    for (int64_t t0 = 0; t0 < K; t0 += kTaps) {
      const int64_t nt = K - t0 < kTaps ? K - t0 : kTaps;
      const int64_t* to = toff + t0;
      T* pt = part + t0 * co;
      int64_t cb = 0;
      for (; cb + kBwdNV * W <= co; cb += kBwdNV * W)
        bwdf_group<T, kBwdNV, false>(nt, band, to, g.ow, dyr + cb, co, 0, pt + cb);
      for (; cb + W <= co; cb += W)
        bwdf_group<T, 1, false>(nt, band, to, g.ow, dyr + cb, co, 0, pt + cb);
      if (cb < co) bwdf_group<T, 1, true>(nt, band, to, g.ow, dyr + cb, co, co - cb, pt + cb);
    }
  }
}

// Input gradient of a stride-1 convolution, P consecutive pixels ix.. of input row iy of image
// ni, channel ch: dx = sum over taps (i, j) and Cout lanes of dy[oy][ox] * f[i][j][ch], with
// oy = iy + pt - i*dh, ox = ix + pl - j*dw. Lanes are summed across at the end. Check: test ox
// per tap (border pixels); otherwise every ox of the tile is inside dy.
template <class T, int P, bool Check>
inline void bwdi_tile(const ConvGeom& g, const T* f, const T* dy, int64_t ni, int64_t iy,
                      int64_t ix, int64_t ch, T* dx) {
  using L = Lanes<T>;
  using reg = typename L::reg;
  constexpr int64_t W = L::W;
  const int64_t co = g.co;
  reg acc[P];
#pragma GCC unroll 32
  for (int p = 0; p < P; ++p) acc[p] = L::zero();
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t oy = iy + g.pt - i * g.dh;
    if (oy < 0 || oy >= g.oh) continue;
    const T* dyr = dy + (ni * g.oh + oy) * g.ow * co;
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t ox = ix + g.pl - j * g.dw;
      if (Check && (ox < 0 || ox >= g.ow)) continue;
      const T* d = dyr + ox * co;
      const T* ft = f + ((i * g.kw + j) * g.c + ch) * co;
      int64_t cb = 0;
      for (; cb + W <= co; cb += W) {
        const reg fv = L::load(ft + cb);
#pragma GCC unroll 32
        for (int p = 0; p < P; ++p) acc[p] = L::fmadd(L::load(d + p * co + cb), fv, acc[p]);
      }
      if (cb < co) {
        const int64_t n = co - cb;
        const reg fv = L::loadn(ft + cb, n);
#pragma GCC unroll 32
        for (int p = 0; p < P; ++p) acc[p] = L::fmadd(L::loadn(d + p * co + cb, n), fv, acc[p]);
      }
    }
  }
#pragma GCC unroll 32
  for (int p = 0; p < P; ++p) dx[p * g.c] = L::sum(acc[p]);
}

// bwdi_tile for Cout = NC whole vectors: the pixels' dy vectors sit at compile-time offsets
// from one pointer.
template <class T, int P, bool Check, int NC>
inline void bwdi_tile_nc(const ConvGeom& g, const T* f, const T* dy, int64_t ni, int64_t iy,
                         int64_t ix, int64_t ch, T* dx) {
  using L = Lanes<T>;
  using reg = typename L::reg;
  constexpr int64_t W = L::W, co = NC * W;
  reg acc[P];
#pragma GCC unroll 32
  for (int p = 0; p < P; ++p) acc[p] = L::zero();
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t oy = iy + g.pt - i * g.dh;
    if (oy < 0 || oy >= g.oh) continue;
    const T* dyr = dy + (ni * g.oh + oy) * g.ow * co;
    const T* ft = f + (i * g.kw * g.c + ch) * co;
    for (int64_t j = 0; j < g.kw; ++j, ft += g.c * co) {
      const int64_t ox = ix + g.pl - j * g.dw;  // of the tile's first pixel
      if (Check && (ox + P <= 0 || ox >= g.ow)) continue;
      reg fv[NC];
#pragma GCC unroll 8
      for (int v = 0; v < NC; ++v) fv[v] = L::load(ft + v * W);
#pragma GCC unroll 32
      for (int p = 0; p < P; ++p) {
        if (Check && (ox + p < 0 || ox + p >= g.ow)) continue;
        const T* d = dyr + (ox + p) * co;  // formed only inside dy
#pragma GCC unroll 8
        for (int v = 0; v < NC; ++v) acc[p] = L::fmadd(L::load(d + v * W), fv[v], acc[p]);
      }
    }
  }
#pragma GCC unroll 32
  for (int p = 0; p < P; ++p) dx[p * g.c] = L::sum(acc[p]);
}

// Interior tile for filter width KW at dilation 1: each dy vector is loaded once and feeds
// every pixel of the tile it reaches (up to KW of them) instead of once per tap, halving the
// loads that otherwise bound the kernel. Needs KW*NC filter vectors + P accumulators in
// registers: AVX-512 only.
template <class T, int P, int KW, int NC, bool Check>
inline void bwdi_tile_kw(const ConvGeom& g, const T* f, const T* dy, int64_t ni, int64_t iy,
                         int64_t ix, int64_t ch, T* dx) {
  using L = Lanes<T>;
  using reg = typename L::reg;
  constexpr int64_t W = L::W, co = NC * W;
  reg acc[P];
#pragma GCC unroll 32
  for (int p = 0; p < P; ++p) acc[p] = L::zero();
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t oy = iy + g.pt - i * g.dh;
    if (oy < 0 || oy >= g.oh) continue;
    // dy pixel q of the run is ox = ox0 + q; pixel p takes tap j = p - q + KW - 1. Check: skip
    // the dy pixels outside the row (border tiles).
    const T* dyr = dy + (ni * g.oh + oy) * g.ow * co;
    const int64_t ox0 = ix + g.pl - (KW - 1);
    const T* fi = f + (i * KW * g.c + ch) * co;
    reg fv[KW][NC];
#pragma GCC unroll 8
    for (int j = 0; j < KW; ++j)
#pragma GCC unroll 8
      for (int v = 0; v < NC; ++v) fv[j][v] = L::load(fi + j * g.c * co + v * W);
#pragma GCC unroll 40
    for (int q = 0; q < P + KW - 1; ++q) {
      if (Check && (ox0 + q < 0 || ox0 + q >= g.ow)) continue;
      const T* dq = dyr + (ox0 + q) * co;
#pragma GCC unroll 8
      for (int v = 0; v < NC; ++v) {
        const reg dv = L::load(dq + v * W);
#pragma GCC unroll 8
        for (int j = 0; j < KW; ++j) {
          const int p = q + j - (KW - 1);
          if (p >= 0 && p < P) acc[p] = L::fmadd(dv, fv[j][v], acc[p]);
        }
      }
    }
  }
#pragma GCC unroll 32
  for (int p = 0; p < P; ++p) dx[p * g.c] = L::sum(acc[p]);
}

// One input row's pixels: borders (taps partly outside dy) checked one pixel at a time, the
// interior in tiles of kPix, 4 and 1.
template <class T, int NC, int KW = 0>
inline void bwdi_row(const ConvGeom& g, const T* f, const T* dy, int64_t ni, int64_t iy,
                     int64_t lo, int64_t hi, T* dxr) {
  for (int64_t ch = 0; ch < g.c; ++ch) {
    T* d = dxr + ch;
    int64_t ix = 0;
    if constexpr (NC > 0) {
      // Border pixels in whole checked tiles (one pixel's taps alone form a dependent chain of
      // FMAs: latency-bound), interior pixels unchecked.
      if (lo > 0 && kPix <= g.w) {
        if constexpr (KW > 0)
          bwdi_tile_kw<T, kPix, KW, NC, true>(g, f, dy, ni, iy, 0, ch, d);
        else
          bwdi_tile_nc<T, kPix, true, NC>(g, f, dy, ni, iy, 0, ch, d);
        ix = kPix;
      }
      for (; ix < lo; ++ix) bwdi_tile_nc<T, 1, true, NC>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
      for (; ix + kPix <= hi; ix += kPix) {
        if constexpr (KW > 0)
          bwdi_tile_kw<T, kPix, KW, NC, false>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
        else
          bwdi_tile_nc<T, kPix, false, NC>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
      }
      for (; ix + kPix <= g.w; ix += kPix) {
        if constexpr (KW > 0)
          bwdi_tile_kw<T, kPix, KW, NC, true>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
        else
          bwdi_tile_nc<T, kPix, true, NC>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
      }
      for (; ix + 4 <= g.w; ix += 4) {
        if constexpr (KW > 0)
          bwdi_tile_kw<T, 4, KW, NC, true>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
        else
          bwdi_tile_nc<T, 4, true, NC>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
      }
      for (; ix < g.w; ++ix) bwdi_tile_nc<T, 1, true, NC>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
    } else {
      for (; ix < lo; ++ix) bwdi_tile<T, 1, true>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
      for (; ix + kPix <= hi; ix += kPix)
        bwdi_tile<T, kPix, false>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
      for (; ix + 4 <= hi; ix += 4) bwdi_tile<T, 4, false>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
      for (; ix < hi; ++ix) bwdi_tile<T, 1, false>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
      for (; ix < g.w; ++ix) bwdi_tile<T, 1, true>(g, f, dy, ni, iy, ix, ch, d + ix * g.c);
    }
  }
}

// Input rows [r0, r1) (row = image * h + iy) of dx, stride 1.
template <class T>
void bwdi_rows(const ConvGeom& g, const T* f, const T* dy, T* dx, int64_t r0, int64_t r1) {
  constexpr int64_t W = Lanes<T>::W;
  // Pixels whose every tap column lands inside dy.
  const int64_t reach = (g.kw - 1) * g.dw - g.pl;
  const int64_t lo = reach > 0 ? (reach < g.w ? reach : g.w) : 0;
  int64_t hi = g.ow - g.pl < g.w ? g.ow - g.pl : g.w;
  if (hi < lo) hi = lo;
  const int64_t nc = g.co % W == 0 ? g.co / W : 0;
  const bool kw5 = g.kw == 5 && g.dw == 1, kw3 = g.kw == 3 && g.dw == 1;
  (void)kw5;
  (void)kw3;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t ni = r / g.h, iy = r % g.h;
    T* dxr = dx + r * g.w * g.c;
    switch (nc) {
      case 1:
#if HW_ISA_LEVEL == 2
        if (kw5) {
          bwdi_row<T, 1, 5>(g, f, dy, ni, iy, lo, hi, dxr);
          break;
        }
        if (kw3) {
          bwdi_row<T, 1, 3>(g, f, dy, ni, iy, lo, hi, dxr);
          break;
        }
#endif
        bwdi_row<T, 1>(g, f, dy, ni, iy, lo, hi, dxr);
        break;
      case 2:
#if HW_ISA_LEVEL == 2
        if (kw5) {
          bwdi_row<T, 2, 5>(g, f, dy, ni, iy, lo, hi, dxr);
          break;
        }
        if (kw3) {
          bwdi_row<T, 2, 3>(g, f, dy, ni, iy, lo, hi, dxr);
          break;
        }
#endif
        bwdi_row<T, 2>(g, f, dy, ni, iy, lo, hi, dxr);
        break;
      case 4:
        bwdi_row<T, 4>(g, f, dy, ni, iy, lo, hi, dxr);
        break;
      case 8:
        bwdi_row<T, 8>(g, f, dy, ni, iy, lo, hi, dxr);
        break;
      default:
        bwdi_row<T, 0>(g, f, dy, ni, iy, lo, hi, dxr);
    }
  }
}

}  // namespace

extern const DirectTable kDirectTable;
const DirectTable kDirectTable = {
    {&fwd_rows<float>, &bwdf_rows<float>, &bwdi_rows<float>},
    {&fwd_rows<double>, &bwdf_rows<double>, &bwdi_rows<double>},
};

}  // namespace HW_ISA_NS
}  // namespace headwater
