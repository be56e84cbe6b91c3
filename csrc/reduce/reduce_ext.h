// Max, min, product, arg max/min and logsumexp over a block of axes of a C-contiguous array
// viewed as (A, R, B): out[a, b] = op over r of x[a, r, b]. float32/float64/int32/int64
// (logsumexp: float32/float64).
//
// Semantics are TF1's: max/min propagate NaN; an empty reduction gives the identity (lowest
// value for max, highest for min, 1 for prod, -inf for logsumexp); arg max/min return the
// first index whose value is strictly beyond the running best, starting from the dtype's
// lowest (highest) finite value, so NaNs never win and ties go to the first index.
// logsumexp shifts by the maximum when it is finite (by 0 otherwise) and sums e^(x - shift)
// in float64. Work is split in blocks fixed by the shape, so results do not depend on the
// thread count.
#pragma once

#include <cstdint>

namespace headwater {

enum class ReduceOp : int { max = 0, min = 1, prod = 2 };

template <class T>
void reduce_value(ReduceOp op, int64_t A, int64_t R, int64_t B, const T* x, T* out);
// R must be > 0.
template <class T>
void reduce_arg(bool is_max, int64_t A, int64_t R, int64_t B, const T* x, int64_t* out);
template <class T>
void reduce_logsumexp(int64_t A, int64_t R, int64_t B, const T* x, T* out);

// Per-ISA inner loops for one dtype.
template <class T>
struct ReduceExtFns {
  // op over n >= 1 contiguous elements (max/min NaN-propagating).
  T (*contig[3])(int64_t n, const T* x);
  // acc[b] = op(acc[b], x[r * stride + b]) for r < rows, b < B.
  void (*cols[3])(int64_t rows, int64_t B, int64_t stride, const T* x, T* acc);
  // [0]: max, [1]: min of the non-NaN values among n contiguous elements, starting from the
  // lowest (highest) finite value.
  T (*best_contig[2])(int64_t n, const T* x);
  // Running strict arg max/min down columns: rows r0 <= r < r0 + rows.
  void (*arg_cols[2])(int64_t r0, int64_t rows, int64_t B, int64_t stride, const T* x, T* best,
                      int64_t* idx);
  // Index of the first element == v among n contiguous ones (n if none).
  int64_t (*find_first)(int64_t n, const T* x, T v);
  // [0]: arg max, [1]: arg min of n >= 1 contiguous elements (TF's strict rule).
  int64_t (*arg_contig[2])(int64_t n, const T* x);
};

struct ReduceExtTable {
  ReduceExtFns<float> f32;
  ReduceExtFns<double> f64;
  ReduceExtFns<int32_t> i32;
  ReduceExtFns<int64_t> i64;
};

namespace scalar {
extern const ReduceExtTable kReduceExtTable;
}
namespace avx2 {
extern const ReduceExtTable kReduceExtTable;
}
namespace avx512 {
extern const ReduceExtTable kReduceExtTable;
}

}  // namespace headwater
