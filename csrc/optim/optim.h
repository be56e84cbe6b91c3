// Fused optimizer updates, in place on variable and slot buffers (TF's Apply* ops).
//
// Each update makes one pass over its buffers, in the same order of operations as TF's CPU
// kernels and as headwater's numpy rules (train/training_ops.py). The loops are compiled per ISA
// (optim_impl.h) without FP contraction; sqrt and division round correctly everywhere, so every
// ISA matches the numpy rules bit for bit.
#pragma once

#include <cstdint>

namespace headwater {

template <class T>
void apply_gradient_descent(int64_t n, T* var, T alpha, const T* delta);
template <class T>
void apply_momentum(int64_t n, T* var, T* accum, T lr, const T* grad, T momentum, bool nesterov);
template <class T>
void apply_adagrad(int64_t n, T* var, T* accum, T lr, const T* grad, bool update_slots);
template <class T>
void apply_adadelta(int64_t n, T* var, T* accum, T* accum_update, T lr, T rho, T epsilon,
                    const T* grad);
template <class T>
void apply_rms_prop(int64_t n, T* var, T* ms, T* mom, T lr, T rho, T momentum, T epsilon,
                    const T* grad);
template <class T>
void apply_centered_rms_prop(int64_t n, T* var, T* mg, T* ms, T* mom, T lr, T rho, T momentum,
                             T epsilon, const T* grad);
template <class T>
void apply_adam(int64_t n, T* var, T* m, T* v, T beta1_power, T beta2_power, T lr, T beta1,
                T beta2, T epsilon, const T* grad, bool nesterov);

}  // namespace headwater
