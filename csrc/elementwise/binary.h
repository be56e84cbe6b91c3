// Elementwise binary kernels with numpy broadcasting.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "common/view.h"

namespace headwater {

enum class BinaryOp : int { add = 0, sub = 1, mul = 2, div = 3 };
constexpr int kNumBinaryOps = 4;
const char* binary_op_name(BinaryOp op);

// out = a (op) b. `a` and `b` must broadcast to exactly out's shape (numpy rules, ranks aligned
// on the right); `out` may have any strides but must not partially overlap an input (the exact
// same memory and layout as an input is fine). Runs on the current ISA, threaded above a size
// threshold. Throws std::invalid_argument on shape mismatch.
template <class T>
void binary(BinaryOp op, View<const T> a, View<const T> b, View<T> out);

// numpy's broadcast of two shapes; returns false if they are incompatible.
bool broadcast_shapes(int ndim_a, const int64_t* shape_a, int ndim_b, const int64_t* shape_b,
                      std::vector<int64_t>* out);

// Innermost loop over one run of n elements: out[i*so] = a[i*sa] (op) b[i*sb]. The per-ISA
// files implement these; binary() walks the outer dimensions and calls them.
template <class T>
using BinaryLoopFn = void (*)(int64_t n, const T* a, int64_t sa, const T* b, int64_t sb, T* out,
                              int64_t so);

struct BinaryTable {
  BinaryLoopFn<float> f32[kNumBinaryOps];
  BinaryLoopFn<double> f64[kNumBinaryOps];
};

// Constant-initialised tables, one per compiled ISA. Reading them runs no ISA-specific code.
namespace scalar {
extern const BinaryTable kBinaryTable;
}
namespace avx2 {
extern const BinaryTable kBinaryTable;
}
namespace avx512 {
extern const BinaryTable kBinaryTable;
}

}  // namespace headwater
