// 2-D convolution and pooling, NHWC, float32/float64. Convolutions lower onto the packed GEMM
// through im2col / col2im in cache-sized row chunks; pooling is direct.
//
// Chunks have a fixed size that depends only on the shapes, and each output element is produced
// by one thread in a fixed order, so results are identical for any thread count.
#pragma once

#include <cstdint>

namespace headwater {

struct ConvGeom {
  int64_t n = 0, h = 0, w = 0, c = 0;  // input
  int64_t kh = 0, kw = 0, co = 0;      // filter (kh, kw, c, co); pools use co = c
  int64_t oh = 0, ow = 0;              // output
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0;  // padding before; padding after is implied by oh/ow
};

// y[n, oh, ow, co] = sum x[n, oh*sh - pt + i*dh, ow*sw - pl + j*dw, c] * f[i, j, c, co].
template <class T>
void conv2d_fwd(const ConvGeom& g, const T* x, const T* f, T* y);
// dx (n, h, w, c) from dy (n, oh, ow, co) and f.
template <class T>
void conv2d_bwd_input(const ConvGeom& g, const T* f, const T* dy, T* dx);
// df (kh, kw, c, co) from x and dy.
template <class T>
void conv2d_bwd_filter(const ConvGeom& g, const T* x, const T* dy, T* df);

// Pools: window kh x kw, padding positions excluded (SAME averages over valid elements only).
template <class T>
void max_pool_fwd(const ConvGeom& g, const T* x, T* y);
// Each window's gradient goes to its first maximum (row-major in the window; NaN counts as
// the maximum, as numpy's argmax).
template <class T>
void max_pool_bwd(const ConvGeom& g, const T* x, const T* dy, T* dx);
template <class T>
void avg_pool_fwd(const ConvGeom& g, const T* x, T* y);
template <class T>
void avg_pool_bwd(const ConvGeom& g, const T* dy, T* dx);

}  // namespace headwater
