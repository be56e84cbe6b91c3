// Dense matrix multiply C = A @ B, batched. Plain cache-blocked loops with a register-tiled
// micro-kernel over a packed copy of B; the BLIS-style fully packed version comes later.
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
};

// Runs on the current ISA, threaded over rows of C when the product is large enough.
// For a fixed ISA the result does not depend on the thread count: every element of C is
// accumulated by one thread in the same order.
template <class T>
void gemm(const GemmArgs<T>& args);

struct GemmTable {
  void (*f32)(const GemmArgs<float>&);
  void (*f64)(const GemmArgs<double>&);
};

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
