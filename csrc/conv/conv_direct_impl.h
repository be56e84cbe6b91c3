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

}  // namespace

extern const DirectTable kDirectTable;
const DirectTable kDirectTable = {
    {&fwd_rows<float>, &bwdf_rows<float>},
    {&fwd_rows<double>, &bwdf_rows<double>},
};

}  // namespace HW_ISA_NS
}  // namespace headwater
