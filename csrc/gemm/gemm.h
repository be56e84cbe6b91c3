// Dense matrix multiply C = A @ B (+ bias, ReLU), batched: a BLIS-style packed GEMM.
//
// Each ISA file holds a register-blocked micro-kernel (MR x NR tile of C in registers) and the
// five-loop driver around it: NC columns of B -> KC slice of k (pack B into KC x NR panels) ->
// MC rows of A (pack A into MR x KC panels) -> NR panels -> MR panels -> micro-kernel.
#pragma once

#include <cstdint>

namespace headwater {

// Strides are in elements and may be anything (transposes and slices need no copies).
// Batch strides may be 0 to broadcast one matrix over the batch. C must have unit column
// stride and must not overlap A or B.
template <class T>
struct GemmArgs {
  int64_t batch = 1, m = 0, n = 0, k = 0;
  const T* a = nullptr;
  int64_t a_bs = 0, a_rs = 0, a_cs = 0;
  const T* b = nullptr;
  int64_t b_bs = 0, b_rs = 0, b_cs = 0;
  T* c = nullptr;
  int64_t c_bs = 0, c_rs = 0;
  // Fused epilogue: C = relu(A @ B + bias) with bias a contiguous row of n values (or null).
  const T* bias = nullptr;
  bool relu = false;
  // C += A @ B instead of C = A @ B (before the epilogue).
  bool accumulate = false;
};

// Runs on the current ISA, threaded when the product is large enough. Every element of C is
// accumulated by one thread in an order that depends only on k (never on the thread count or on
// how C is split), so results are identical for any number of threads.
template <class T>
void gemm(const GemmArgs<T>& args);

constexpr int kMaxGemmTiles = 3;

struct GemmTable {
  void (*f32)(const GemmArgs<float>&);
  void (*f64)(const GemmArgs<double>&);
  // Register tiles the driver chooses between per shape (the first is the default), for tests
  // and benchmarks.
  int ntiles_f32, mr_f32[kMaxGemmTiles], nr_f32[kMaxGemmTiles];
  int ntiles_f64, mr_f64[kMaxGemmTiles], nr_f64[kMaxGemmTiles];
};

// Test hook: >= 0 makes the driver use that entry of the tile list (clamped to the list)
// instead of choosing by shape; -1 restores the choice. Results never depend on the tile (each
// C element is computed the same way in any tile), so this only serves edge-case coverage.
void set_gemm_forced_tile(int index);
int gemm_forced_tile();

// Test hook for how operands are read: 0 packs both always, 1 reads A and B in place whenever
// their layout allows, -1 (default) decides by size. Results never depend on it.
void set_gemm_operand_mode(int mode);
int gemm_operand_mode();

// The table of the ISA currently selected.
const GemmTable& gemm_table();

namespace scalar {
extern const GemmTable kGemmTable;
}
namespace avx2 {
extern const GemmTable kGemmTable;
}
namespace avx512 {
extern const GemmTable kGemmTable;
}

}  // namespace headwater
