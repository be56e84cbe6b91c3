// Optimizer update loops for one ISA (included once by optim_{scalar,avx2,avx512}.cpp).
//
// The loops keep the order of operations of TF's CPU kernels and of the numpy rules in
// train/training_ops.py. These files are compiled with -ffp-contract=off, and sqrt and division
// are correctly rounded in every instruction set, so each ISA gives bit-identical results; the
// wider ISAs only do more elements per instruction (the baseline ISA made Adam's sqrt and
// division the bottleneck of an MLP training step).
//
// No include guard: see common/simd.h.

#include <cstdint>

#include "optim/optim_table.h"

namespace headwater {
namespace HW_ISA_NS {
namespace {

// __builtin_sqrt rather than std::sqrt: std's inline overloads would be shared between the
// per-ISA copies by the linker (see common/simd.h).
inline float hw_sqrt(float x) { return __builtin_sqrtf(x); }
inline double hw_sqrt(double x) { return __builtin_sqrt(x); }

template <class T>
void gradient_descent(int64_t n, T* __restrict var, T alpha, const T* __restrict delta) {
  for (int64_t i = 0; i < n; ++i) var[i] = var[i] - delta[i] * alpha;
}

template <class T>
void momentum(int64_t n, T* __restrict var, T* __restrict accum, T lr,
              const T* __restrict grad, T mom, bool nesterov) {
  for (int64_t i = 0; i < n; ++i) {
    const T a = accum[i] * mom + grad[i];
    accum[i] = a;
    var[i] = var[i] - (nesterov ? grad[i] * lr + a * mom * lr : a * lr);
  }
}

template <class T>
void adagrad(int64_t n, T* __restrict var, T* __restrict accum, T lr, const T* __restrict grad,
             bool update_slots) {
  if (update_slots) {
    for (int64_t i = 0; i < n; ++i) {
      const T g = grad[i];
      const T a = accum[i] + g * g;
      accum[i] = a;
      var[i] = var[i] - g * lr / hw_sqrt(a);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) var[i] = var[i] - grad[i] * lr / hw_sqrt(accum[i]);
  }
}

template <class T>
void adadelta(int64_t n, T* __restrict var, T* __restrict accum, T* __restrict accum_update,
              T lr, T rho, T epsilon, const T* __restrict grad) {
  const T one_minus_rho = T(1) - rho;
  for (int64_t i = 0; i < n; ++i) {
    const T g = grad[i];
    const T a = accum[i] * rho + g * g * one_minus_rho;
    accum[i] = a;
    const T update = hw_sqrt(accum_update[i] + epsilon) / hw_sqrt(a + epsilon) * g;
    var[i] = var[i] - update * lr;
    accum_update[i] = accum_update[i] * rho + update * update * one_minus_rho;
  }
}

template <class T>
void rms_prop(int64_t n, T* __restrict var, T* __restrict ms, T* __restrict mom, T lr, T rho,
              T momentum_, T epsilon, const T* __restrict grad) {
  const T one_minus_rho = T(1) - rho;
  for (int64_t i = 0; i < n; ++i) {
    const T g = grad[i];
    const T s = ms[i] + (g * g - ms[i]) * one_minus_rho;
    ms[i] = s;
    const T m = mom[i] * momentum_ + g * lr / hw_sqrt(s + epsilon);
    mom[i] = m;
    var[i] = var[i] - m;
  }
}

template <class T>
void centered_rms_prop(int64_t n, T* __restrict var, T* __restrict mg, T* __restrict ms,
                       T* __restrict mom, T lr, T rho, T momentum_, T epsilon,
                       const T* __restrict grad) {
  const T one_minus_rho = T(1) - rho;
  for (int64_t i = 0; i < n; ++i) {
    const T g = grad[i];
    const T s = ms[i] + (g * g - ms[i]) * one_minus_rho;
    ms[i] = s;
    const T a = mg[i] + (g - mg[i]) * one_minus_rho;
    mg[i] = a;
    const T m = mom[i] * momentum_ + g * lr / hw_sqrt(s - a * a + epsilon);
    mom[i] = m;
    var[i] = var[i] - m;
  }
}

template <class T>
void adam(int64_t n, T* __restrict var, T* __restrict m, T* __restrict v, T alpha,
          T one_minus_b1, T one_minus_b2, T beta1, T epsilon, const T* __restrict grad,
          bool nesterov) {
  // The loop-invariant `nesterov` test is unswitched by the compiler.
  for (int64_t i = 0; i < n; ++i) {
    const T g = grad[i];
    const T mi = m[i] + (g - m[i]) * one_minus_b1;
    m[i] = mi;
    const T vi = v[i] + (g * g - v[i]) * one_minus_b2;
    v[i] = vi;
    const T step = nesterov ? g * one_minus_b1 + mi * beta1 : mi;
    var[i] = var[i] - step * alpha / (hw_sqrt(vi) + epsilon);
  }
}

template <class T>
constexpr OptimFns<T> fns() {
  return {&gradient_descent<T>, &momentum<T>, &adagrad<T>,          &adadelta<T>,
          &rms_prop<T>,         &centered_rms_prop<T>, &adam<T>};
}

}  // namespace

extern const OptimTable kOptimTable;
const OptimTable kOptimTable = {fns<float>(), fns<double>()};

}  // namespace HW_ISA_NS
}  // namespace headwater
