// Sum over a block of axes of a C-contiguous array viewed as (A, R, B): out[a, b] =
// sum_r x[a, r, b]. Accurate: float32 data is summed in short vector runs whose partial sums are
// accumulated in float64, float64 data in blocked partials; a 16M-element float32 sum is within
// ~1e-7 of the float64 result. Blocks are fixed by the shape, so any thread count gives
// bit-identical results.
#pragma once

#include <cstdint>

namespace headwater {

template <class T>
void reduce_sum(int64_t A, int64_t R, int64_t B, const T* x, T* out);

// Per-ISA inner loops.
struct ReduceTable {
  // Sum of n contiguous elements, as double.
  double (*sum_f32)(int64_t n, const float* x);
  double (*sum_f64)(int64_t n, const double* x);
  // acc[b] += x[r * stride + b] for r < rows, b < B (acc in double).
  void (*cols_f32)(int64_t rows, int64_t B, int64_t stride, const float* x, double* acc);
  void (*cols_f64)(int64_t rows, int64_t B, int64_t stride, const double* x, double* acc);
};

namespace scalar {
extern const ReduceTable kReduceTable;
}
namespace avx2 {
extern const ReduceTable kReduceTable;
}
namespace avx512 {
extern const ReduceTable kReduceTable;
}

}  // namespace headwater
