#include "elementwise/unary.h"

#include <atomic>

#include "common/isa.h"
#include "common/thread_pool.h"

namespace headwater {
namespace {

// Blocks handed to threads: whole vectors, so no element changes path with the split.
constexpr int64_t kBlock = 4096;
constexpr int64_t kParallelMin = int64_t(1) << 16;

const UnaryTable* table_for(Isa isa) {
  return HW_ISA_TABLE(isa, kUnaryTable);
}

template <class T>
UnaryLoopFn<T> loop_for(UnaryOp op);
template <>
UnaryLoopFn<float> loop_for<float>(UnaryOp op) {
  return table_for(current_isa())->f32[static_cast<int>(op)];
}
template <>
UnaryLoopFn<double> loop_for<double>(UnaryOp op) {
  return table_for(current_isa())->f64[static_cast<int>(op)];
}

}  // namespace

const char* unary_op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::exp:
      return "exp";
    case UnaryOp::log:
      return "log";
    case UnaryOp::tanh:
      return "tanh";
    case UnaryOp::sigmoid:
      return "sigmoid";
    case UnaryOp::softplus:
      return "softplus";
    case UnaryOp::erf:
      return "erf";
  }
  return "unknown";
}

template <class T>
void unary(UnaryOp op, int64_t n, const T* x, T* y) {
  const UnaryLoopFn<T> fn = loop_for<T>(op);
  if (n < kParallelMin) {
    fn(n, x, y);
    return;
  }
  // Blocks are claimed from a shared counter rather than split in fixed halves: on a shared
  // machine a worker often starts tens of microseconds late, and the caller then simply takes
  // more blocks. Every element is computed the same way whoever takes its block.
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::atomic<int64_t> next{0};
  const int64_t parts = blocks < get_num_threads() ? blocks : get_num_threads();
  parallel_for(parts, 1, [&](int64_t, int64_t) {
    for (;;) {
      const int64_t b = next.fetch_add(1, std::memory_order_relaxed);
      if (b >= blocks) break;
      const int64_t i0 = b * kBlock, i1 = i0 + kBlock < n ? i0 + kBlock : n;
      fn(i1 - i0, x + i0, y + i0);
    }
  });
}

template void unary<float>(UnaryOp, int64_t, const float*, float*);
template void unary<double>(UnaryOp, int64_t, const double*, double*);

}  // namespace headwater
