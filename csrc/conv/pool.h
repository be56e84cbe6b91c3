// Max pooling with an argmax workspace: the forward pass records each window's first maximum
// as one byte per output element, and the backward pass spreads the gradient from those bytes
// instead of re-reading the pooled input (for pool 1 of Deep-MNIST: 0.6 MB instead of 10 MB,
// and no compares). Only for windows that do not overlap and hold at most 256 elements.
#pragma once

#include <cstdint>

#include "conv/conv.h"

namespace headwater {

// Whether the argmax variants below apply to this geometry.
bool max_pool_argmax_ok(const ConvGeom& g);

// y as max_pool_fwd; arg[n, oh, ow, c] = i * cols + j of the first maximum in the window's
// valid rows x cols (0 for a window that is only padding).
template <class T>
void max_pool_fwd_argmax(const ConvGeom& g, const T* x, T* y, uint8_t* arg);
// dx as max_pool_bwd, from the forward pass's arg. Requires max_pool_argmax_ok(g).
template <class T>
void max_pool_bwd_argmax(const ConvGeom& g, const uint8_t* arg, const T* dy, T* dx);

}  // namespace headwater
