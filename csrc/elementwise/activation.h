// ReLU forward and backward, and the bias add + ReLU that follows a convolution or dense layer.
//
// Each element is computed exactly as the separate numpy/TF ops compute it: (x + bias) rounded
// to T, then x <= 0 ? 0 : x (NaN passes through and -0.0 becomes +0.0, like numpy.maximum(x, 0)),
// and the gradient as g * (f > 0) (NaN gradients stay NaN, like TF's multiply by the mask).
#pragma once

#include <cstdint>

namespace headwater {

template <class T>
void relu(int64_t n, const T* x, T* out);
template <class T>
void relu_grad(int64_t n, const T* g, const T* f, T* out);
// x is rows x cols (C-contiguous), bias has cols elements.
template <class T>
void bias_relu(int64_t rows, int64_t cols, const T* x, const T* bias, T* out);

// Per-ISA loops over a contiguous range (activation_impl.h).
template <class T>
struct ActivationFns {
  void (*relu)(int64_t n, const T* x, T* out);
  void (*relu_grad)(int64_t n, const T* g, const T* f, T* out);
  void (*bias_relu)(int64_t rows, int64_t cols, const T* x, const T* bias, T* out);
};
struct ActivationTable {
  ActivationFns<float> f32;
  ActivationFns<double> f64;
};
namespace scalar {
extern const ActivationTable kActivationTable;
}
namespace avx2 {
extern const ActivationTable kActivationTable;
}
namespace avx512 {
extern const ActivationTable kActivationTable;
}

}  // namespace headwater
