#include "optim/optim.h"

#include <cmath>

#include "common/isa.h"
#include "common/thread_pool.h"
#include "optim/optim_table.h"

namespace headwater {
namespace {

// Below this many elements one thread streams the buffers faster than two can share them
// (the pool's workers spin between a training step's kernels, so they start at once): a
// 256x256 Adam update takes half the time on two threads.
constexpr int64_t kGrain = int64_t(1) << 14;

const OptimTable* table() {
  return HW_ISA_TABLE(current_isa(), kOptimTable);
}

const OptimFns<float>& fns(float*) { return table()->f32; }
const OptimFns<double>& fns(double*) { return table()->f64; }

// Elementwise: each element's update is independent, so any split gives identical results.
template <class F>
void for_range(int64_t n, F&& f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { f(b, e - b); });
}

}  // namespace

template <class T>
void apply_gradient_descent(int64_t n, T* var, T alpha, const T* delta) {
  auto k = fns(var).gradient_descent;
  for_range(n, [&](int64_t b, int64_t c) { k(c, var + b, alpha, delta + b); });
}

template <class T>
void apply_momentum(int64_t n, T* var, T* accum, T lr, const T* grad, T momentum,
                    bool nesterov) {
  auto k = fns(var).momentum;
  for_range(n, [&](int64_t b, int64_t c) {
    k(c, var + b, accum + b, lr, grad + b, momentum, nesterov);
  });
}

template <class T>
void apply_adagrad(int64_t n, T* var, T* accum, T lr, const T* grad, bool update_slots) {
  auto k = fns(var).adagrad;
  for_range(n, [&](int64_t b, int64_t c) { k(c, var + b, accum + b, lr, grad + b, update_slots); });
}

template <class T>
void apply_adadelta(int64_t n, T* var, T* accum, T* accum_update, T lr, T rho, T epsilon,
                    const T* grad) {
  auto k = fns(var).adadelta;
  for_range(n, [&](int64_t b, int64_t c) {
    k(c, var + b, accum + b, accum_update + b, lr, rho, epsilon, grad + b);
  });
}

template <class T>
void apply_rms_prop(int64_t n, T* var, T* ms, T* mom, T lr, T rho, T momentum, T epsilon,
                    const T* grad) {
  auto k = fns(var).rms_prop;
  for_range(n, [&](int64_t b, int64_t c) {
    k(c, var + b, ms + b, mom + b, lr, rho, momentum, epsilon, grad + b);
  });
}

template <class T>
void apply_centered_rms_prop(int64_t n, T* var, T* mg, T* ms, T* mom, T lr, T rho, T momentum,
                             T epsilon, const T* grad) {
  auto k = fns(var).centered_rms_prop;
  for_range(n, [&](int64_t b, int64_t c) {
    k(c, var + b, mg + b, ms + b, mom + b, lr, rho, momentum, epsilon, grad + b);
  });
}

template <class T>
void apply_adam(int64_t n, T* var, T* m, T* v, T beta1_power, T beta2_power, T lr, T beta1,
                T beta2, T epsilon, const T* grad, bool nesterov) {
  // The bias correction folded into the step size, in T, as TF computes it.
  const T alpha = lr * std::sqrt(T(1) - beta2_power) / (T(1) - beta1_power);
  const T one_minus_b1 = T(1) - beta1, one_minus_b2 = T(1) - beta2;
  auto k = fns(var).adam;
  for_range(n, [&](int64_t b, int64_t c) {
    k(c, var + b, m + b, v + b, alpha, one_minus_b1, one_minus_b2, beta1, epsilon, grad + b,
      nesterov);
  });
}

#define HW_INSTANTIATE(T)                                                                    \
  template void apply_gradient_descent<T>(int64_t, T*, T, const T*);                         \
  template void apply_momentum<T>(int64_t, T*, T*, T, const T*, T, bool);                    \
  template void apply_adagrad<T>(int64_t, T*, T*, T, const T*, bool);                        \
  template void apply_adadelta<T>(int64_t, T*, T*, T*, T, T, T, const T*);                   \
  template void apply_rms_prop<T>(int64_t, T*, T*, T*, T, T, T, T, const T*);                \
  template void apply_centered_rms_prop<T>(int64_t, T*, T*, T*, T*, T, T, T, T, const T*);   \
  template void apply_adam<T>(int64_t, T*, T*, T*, T, T, T, T, T, T, const T*, bool);
HW_INSTANTIATE(float)
HW_INSTANTIATE(double)
#undef HW_INSTANTIATE

}  // namespace headwater
