// Vectorised elementwise math: exp, log, tanh, sigmoid, softplus, erf on contiguous arrays.
//
// float32 on AVX2/AVX-512 uses range reduction plus minimax polynomials (exp, tanh, sigmoid,
// softplus, erf: our own fits, evaluated with FMAs and an exact 2^n scaling; log: Cephes' logf
// coefficients): max relative error against float64 over the normal range below 3e-7
// (sigmoid: 4.1e-7, tanh: 7.4e-7; the tests assert 1e-6), and IEEE-correct at +-inf, NaN, +-0,
// denormal inputs and the overflow/underflow thresholds. float64, and every dtype on the scalar ISA, go through libm.
#pragma once

#include <cstdint>

namespace headwater {

enum class UnaryOp : int { exp = 0, log = 1, tanh = 2, sigmoid = 3, softplus = 4, erf = 5 };
constexpr int kNumUnaryOps = 6;
const char* unary_op_name(UnaryOp op);

// y[i] = op(x[i]) for i < n; x and y may be the same array. Threaded above a size threshold;
// every element is computed the same way whatever the split.
template <class T>
void unary(UnaryOp op, int64_t n, const T* x, T* y);

template <class T>
using UnaryLoopFn = void (*)(int64_t n, const T* x, T* y);

struct UnaryTable {
  UnaryLoopFn<float> f32[kNumUnaryOps];
  UnaryLoopFn<double> f64[kNumUnaryOps];
};

namespace scalar {
extern const UnaryTable kUnaryTable;
}
namespace avx2 {
extern const UnaryTable kUnaryTable;
}
namespace avx512 {
extern const UnaryTable kUnaryTable;
}

}  // namespace headwater
