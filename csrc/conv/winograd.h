// Winograd convolution F(m x m, r x r) for stride-1, dilation-1, float32 NHWC convolutions with
// square 3x3 or 5x5 filters (m = 2 or 4).
//
// Per block of output tiles: input transform V = B^T d B (per ISA) -> (m+r-1)^2 batched GEMMs
// of (tiles x Cin) . (Cin x Cout) on the packed GEMM -> output transform Y = A^T M A. The filter
// gradient is the adjoint of the same algorithm: df = G^T [sum over tiles (B^T d B) . (A dY A^T)] G,
// so its GEMMs are (Cin x tiles) . (tiles x Cout) accumulated per fixed slot of tile blocks.
//
// Blocks are fixed by the shapes alone and every output element is produced by one thread in a
// fixed order, so results are identical for any thread count.
#pragma once

#include <cstdint>

#include "conv/conv.h"

namespace headwater {

// Winograd policy for conv2d: kWinogradAuto picks per shape; kWinogradOff always uses im2col;
// 2 or 4 force F(m x m, .) wherever Winograd applies (tests, benchmarks).
constexpr int kWinogradAuto = 0;
constexpr int kWinogradOff = -1;
void set_winograd_mode(int mode);  // throws std::invalid_argument for anything else
int get_winograd_mode();

// Each returns false (doing nothing) when Winograd does not apply to `g` or is not chosen; the
// caller then runs its im2col path.
bool winograd_conv2d_fwd(const ConvGeom& g, const float* x, const float* f, float* y);
bool winograd_conv2d_bwd_input(const ConvGeom& g, const float* f, const float* dy, float* dx);
bool winograd_conv2d_bwd_filter(const ConvGeom& g, const float* x, const float* dy, float* df);

// Tile geometry handed to the per-ISA transforms.
struct WinoGeom {
  int64_t n = 0, h = 0, w = 0, c = 0;  // transform input (x, or dy for the gradient)
  int64_t oh = 0, ow = 0, co = 0;      // output of the convolution
  int64_t pt = 0, pl = 0;              // padding before
  int64_t th = 0, tw = 0;              // tiles per column / row
};

// Per-ISA tile transforms of tiles [t0, t0 + nt). The transformed data of tile t0 + i, element
// e (of nn = (m + r - 1)^2), channel c sits at [i * ts + e * es + c] (V, W) and the output
// transform reads M the same way: tile-major (es = c, ts = nn * c) keeps each tile contiguous,
// element-major (es = nt * c, ts = c) keeps each GEMM operand contiguous.
struct WinogradKernels {
  void (*input)(const WinoGeom& g, const float* x, int64_t t0, int64_t nt, float* v, int64_t es,
                int64_t ts);
  void (*output)(const WinoGeom& g, const float* m, int64_t t0, int64_t nt, float* y,
                 int64_t es, int64_t ts);
  void (*grad)(const WinoGeom& g, const float* dy, int64_t t0, int64_t nt, float* w, int64_t es,
               int64_t ts);
};
// variant: 0 = F(2,3), 1 = F(4,3), 2 = F(2,5), 3 = F(4,5).
struct WinogradTable {
  WinogradKernels k[4];
};

namespace scalar {
extern const WinogradTable kWinogradTable;
}
namespace avx2 {
extern const WinogradTable kWinogradTable;
}
namespace avx512 {
extern const WinogradTable kWinogradTable;
}

}  // namespace headwater
