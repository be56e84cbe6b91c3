// Fused elementwise chains: one pass over the output evaluating a small expression DAG given as
// straight-line "bytecode" over registers, e.g. relu(x * w + b) * 0.5, with no full-size
// temporaries. The output is processed in blocks of kFusedBlock elements; each instruction runs
// as one vectorised loop over the block, reading registers that are inputs in place (full
// arrays), broadcast scalars (stride 0) or per-thread block buffers (L1-resident). Scalar-only
// instructions are folded once before the pass. Threaded above a size threshold; every
// element is computed the same way whatever the split.
#pragma once

#include <cstdint>
#include <vector>

namespace headwater {

enum class FusedOp : int {
  // binary
  add = 0, sub = 1, mul = 2, div = 3, maximum = 4, minimum = 5,
  // unary
  neg = 10, abs = 11, relu = 12, square = 13, sqrt = 14,
  exp = 15, log = 16, tanh = 17, sigmoid = 18,
  // dst = value
  constant = 30,
};
constexpr int kNumFusedBinary = 6;
constexpr int kNumFusedSimpleUnary = 5;  // neg .. sqrt
constexpr int kFusedMaxRegs = 32;
// 1024: a quarter faster than 256 and 8% faster than 512 on the dense-layer chain (the fixed
// cost per block and instruction is amortised), while the few registers a chain uses stay in
// L1 (2048 spilled out of it: 30% slower).
constexpr int64_t kFusedBlock = 1024;

inline bool fused_is_binary(FusedOp op) { return static_cast<int>(op) < 10; }
inline bool fused_is_unary(FusedOp op) {
  return static_cast<int>(op) >= 10 && static_cast<int>(op) < 30;
}

struct FusedInstr {
  FusedOp op;
  int dst, a, b;  // registers (b unused for unary, a and b for constants)
  double value;   // constants only
};

// How an input register is read: a full array (one value per output element), one value for
// all, or a contiguous "row" of `len` values repeated along the output (trailing-dims
// broadcast).
enum class FusedInputKind : int { full = 0, scalar = 1, row = 2 };

template <class T>
struct FusedInput {
  const T* data;
  FusedInputKind kind;
  int64_t len;  // row length (rows only)
};

// Inputs occupy registers 0 .. inputs.size() - 1. The result is the last instruction's
// destination, written to out[0 .. n). The program must be validated by the caller (registers
// in range, read only after being defined, at least one instruction).
template <class T>
void fused_elementwise(const std::vector<FusedInstr>& prog,
                       const std::vector<FusedInput<T>>& inputs, int64_t n, T* out);

// Per-ISA loops. Patterns: 0 = vector op vector, 1 = scalar op vector, 2 = vector op scalar.
template <class T>
struct FusedFns {
  void (*binary[kNumFusedBinary][3])(int64_t n, const T* a, const T* b, T* out);
  void (*unary[kNumFusedSimpleUnary])(int64_t n, const T* a, T* out);
};
struct FusedTable {
  FusedFns<float> f32;
  FusedFns<double> f64;
};

namespace scalar {
extern const FusedTable kFusedTable;
}
namespace avx2 {
extern const FusedTable kFusedTable;
}
namespace avx512 {
extern const FusedTable kFusedTable;
}

}  // namespace headwater
