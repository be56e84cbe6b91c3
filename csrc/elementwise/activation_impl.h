// ReLU loops for one ISA (included once by activation_{scalar,avx2,avx512}.cpp). Plain loops:
// the compiler vectorises them for the file's ISA; they are memory-bound.
//
// No include guard: see common/simd.h.

#include <cstdint>

#include "elementwise/activation.h"

namespace headwater {
namespace HW_ISA_NS {
namespace {

template <class T>
void relu_loop(int64_t n, const T* __restrict x, T* __restrict out) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] <= T(0) ? T(0) : x[i];
}

template <class T>
void relu_grad_loop(int64_t n, const T* __restrict g, const T* __restrict f, T* __restrict out) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] * (f[i] > T(0) ? T(1) : T(0));
}

template <class T>
void bias_relu_loop(int64_t rows, int64_t cols, const T* __restrict x, const T* __restrict bias,
                    T* __restrict out) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* o = out + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const T v = xr[c] + bias[c];
      o[c] = v <= T(0) ? T(0) : v;
    }
  }
}

template <class T>
constexpr ActivationFns<T> fns() {
  return {&relu_loop<T>, &relu_grad_loop<T>, &bias_relu_loop<T>};
}

}  // namespace

extern const ActivationTable kActivationTable;
const ActivationTable kActivationTable = {fns<float>(), fns<double>()};

}  // namespace HW_ISA_NS
}  // namespace headwater
