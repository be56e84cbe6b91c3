#include "elementwise/unary.h"

#include <atomic>

#include "common/isa.h"
#include "common/thread_pool.h"
#include "elementwise/claim.h"

namespace headwater {
namespace {

// Work is handed out in multiples of kBlock elements: whole vectors, so no element changes
// path with the split.
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
  // Chunks are claimed from a shared counter (claim.h) rather than split in fixed halves. Every
  // element is computed the same way whoever takes its chunk.
  const int64_t threads = get_num_threads();
  const int64_t parts = (n + kBlock - 1) / kBlock < threads ? (n + kBlock - 1) / kBlock : threads;
  std::atomic<int64_t> next{0};
  parallel_for(parts, 1, [&](int64_t, int64_t) {
    int64_t i0, i1;
    while (claim_guided(next, n, kBlock, parts, &i0, &i1)) fn(i1 - i0, x + i0, y + i0);
  });
}

template void unary<float>(UnaryOp, int64_t, const float*, float*);
template void unary<double>(UnaryOp, int64_t, const double*, double*);

}  // namespace headwater
