// Per-ISA entry points of the optimizer updates; each works on a range of n elements (the
// dispatcher in optim.cpp splits the buffers between threads).
#pragma once

#include <cstdint>

namespace headwater {

template <class T>
struct OptimFns {
  void (*gradient_descent)(int64_t n, T* var, T alpha, const T* delta);
  void (*momentum)(int64_t n, T* var, T* accum, T lr, const T* grad, T momentum, bool nesterov);
  void (*adagrad)(int64_t n, T* var, T* accum, T lr, const T* grad, bool update_slots);
  void (*adadelta)(int64_t n, T* var, T* accum, T* accum_update, T lr, T rho, T epsilon,
                   const T* grad);
  void (*rms_prop)(int64_t n, T* var, T* ms, T* mom, T lr, T rho, T momentum, T epsilon,
                   const T* grad);
  void (*centered_rms_prop)(int64_t n, T* var, T* mg, T* ms, T* mom, T lr, T rho, T momentum,
                            T epsilon, const T* grad);
  // alpha: the bias-corrected step size; the (1 - beta) factors precomputed once per call.
  void (*adam)(int64_t n, T* var, T* m, T* v, T alpha, T one_minus_b1, T one_minus_b2, T beta1,
               T epsilon, const T* grad, bool nesterov);
};

struct OptimTable {
  OptimFns<float> f32;
  OptimFns<double> f64;
};

namespace scalar {
extern const OptimTable kOptimTable;
}
namespace avx2 {
extern const OptimTable kOptimTable;
}
namespace avx512 {
extern const OptimTable kOptimTable;
}

}  // namespace headwater
