// Direct convolution for inputs with few channels (the first layer of an image model: 1-4
// channels). im2col + GEMM there has a GEMM depth of only kh*kw*Cin (25 for 5x5x1) and spends
// its time packing; the direct kernels instead keep a register tile of output pixels x Cout
// lanes and stream the filter taps, reading each input row band once.
//
// Work is split in output rows, each output element (forward) or each fixed slot of rows
// (filter gradient, summed in slot order) belongs to one thread, so results are identical for
// any thread count.
#pragma once

#include <cstdint>

#include "conv/conv.h"

namespace headwater {

// Policy: kDirectAuto uses the direct kernels where they are faster (few input channels);
// kDirectOff never; kDirectOn wherever they apply (any shape; tests and benchmarks).
constexpr int kDirectAuto = 0;
constexpr int kDirectOff = -1;
constexpr int kDirectOn = 1;
void set_direct_mode(int mode);  // throws std::invalid_argument for anything else
int get_direct_mode();

// Each returns false (doing nothing) when the direct kernel is not chosen for `g`.
template <class T>
bool direct_conv2d_fwd(const ConvGeom& g, const T* x, const T* f, T* y);
template <class T>
bool direct_conv2d_bwd_filter(const ConvGeom& g, const T* x, const T* dy, T* df);
// Stride-1 convolutions only (any dilation): dx pixel by pixel as dot products of dy windows
// with the filter over Cout.
template <class T>
bool direct_conv2d_bwd_input(const ConvGeom& g, const T* f, const T* dy, T* dx);

// Per-ISA loops over output rows [r0, r1) (row = image * oh + oy). `band` is scratch of
// direct_band_size(g) elements, `toff` the direct_tap_offsets. bwd_filter adds into `part`
// (kh*kw*c x co).
template <class T>
struct DirectFns {
  void (*fwd)(const ConvGeom&, const T* x, const T* f, T* y, int64_t r0, int64_t r1, T* band,
              const int64_t* toff);
  void (*bwd_filter)(const ConvGeom&, const T* x, const T* dy, T* part, int64_t r0, int64_t r1,
                     T* band, const int64_t* toff);
  // Stride 1 only; rows [r0, r1) of dx (row = image * h + iy), each written once.
  void (*bwd_input)(const ConvGeom&, const T* f, const T* dy, T* dx, int64_t r0, int64_t r1);
};
struct DirectTable {
  DirectFns<float> f32;
  DirectFns<double> f64;
};

// Padded input columns one output row reads.
inline int64_t direct_band_width(const ConvGeom& g) { return (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1; }
// Elements of one output row's input band: kh rows x c channels x sw stride phases.
inline int64_t direct_band_size(const ConvGeom& g) {
  return g.kh * g.c * g.sw * ((direct_band_width(g) + g.sw - 1) / g.sw);
}
// toff[t] for tap t = (i*kw + j)*c + ch: where in the band tap t reads output pixel 0 (pixel ox
// reads toff[t] + ox).
inline void direct_tap_offsets(const ConvGeom& g, int64_t* toff) {
  const int64_t mlen = (direct_band_width(g) + g.sw - 1) / g.sw;
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t j = 0; j < g.kw; ++j)
      for (int64_t ch = 0; ch < g.c; ++ch) {
        const int64_t u = j * g.dw;
        toff[(i * g.kw + j) * g.c + ch] = ((i * g.c + ch) * g.sw + u % g.sw) * mlen + u / g.sw;
      }
}

namespace scalar {
extern const DirectTable kDirectTable;
}
namespace avx2 {
extern const DirectTable kDirectTable;
}
namespace avx512 {
extern const DirectTable kDirectTable;
}

}  // namespace headwater
