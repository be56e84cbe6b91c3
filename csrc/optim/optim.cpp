#include "optim/optim.h"

#include <cmath>

#include "common/thread_pool.h"

namespace headwater {
namespace {

// Below this many elements one thread streams the buffers faster than two can be woken.
constexpr int64_t kGrain = int64_t(1) << 16;

// Elementwise: each element's update is independent, so any split gives identical results.
template <class F>
void for_range(int64_t n, F&& f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { f(b, e); });
}

}  // namespace

template <class T>
void apply_gradient_descent(int64_t n, T* var, T alpha, const T* delta) {
  for_range(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) var[i] = var[i] - delta[i] * alpha;
  });
}

template <class T>
void apply_momentum(int64_t n, T* var, T* accum, T lr, const T* grad, T momentum,
                    bool nesterov) {
  for_range(n, [&](int64_t b, int64_t e) {
    if (nesterov) {
      for (int64_t i = b; i < e; ++i) {
        const T a = accum[i] * momentum + grad[i];
        accum[i] = a;
        var[i] = var[i] - (grad[i] * lr + a * momentum * lr);
      }
    } else {
      for (int64_t i = b; i < e; ++i) {
        const T a = accum[i] * momentum + grad[i];
        accum[i] = a;
        var[i] = var[i] - a * lr;
      }
    }
  });
}

template <class T>
void apply_adagrad(int64_t n, T* var, T* accum, T lr, const T* grad, bool update_slots) {
  for_range(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T g = grad[i];
      T a = accum[i];
      if (update_slots) {
        a = a + g * g;
        accum[i] = a;
      }
      var[i] = var[i] - g * lr / std::sqrt(a);
    }
  });
}

template <class T>
void apply_adadelta(int64_t n, T* var, T* accum, T* accum_update, T lr, T rho, T epsilon,
                    const T* grad) {
  const T one_minus_rho = T(1) - rho;
  for_range(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T g = grad[i];
      const T a = accum[i] * rho + g * g * one_minus_rho;
      accum[i] = a;
      const T update = std::sqrt(accum_update[i] + epsilon) / std::sqrt(a + epsilon) * g;
      var[i] = var[i] - update * lr;
      accum_update[i] = accum_update[i] * rho + update * update * one_minus_rho;
    }
  });
}

template <class T>
void apply_rms_prop(int64_t n, T* var, T* ms, T* mom, T lr, T rho, T momentum, T epsilon,
                    const T* grad) {
  const T one_minus_rho = T(1) - rho;
  for_range(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T g = grad[i];
      const T s = ms[i] + (g * g - ms[i]) * one_minus_rho;
      ms[i] = s;
      const T m = mom[i] * momentum + g * lr / std::sqrt(s + epsilon);
      mom[i] = m;
      var[i] = var[i] - m;
    }
  });
}

template <class T>
void apply_centered_rms_prop(int64_t n, T* var, T* mg, T* ms, T* mom, T lr, T rho, T momentum,
                             T epsilon, const T* grad) {
  const T one_minus_rho = T(1) - rho;
  for_range(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T g = grad[i];
      const T s = ms[i] + (g * g - ms[i]) * one_minus_rho;
      ms[i] = s;
      const T a = mg[i] + (g - mg[i]) * one_minus_rho;
      mg[i] = a;
      const T m = mom[i] * momentum + g * lr / std::sqrt(s - a * a + epsilon);
      mom[i] = m;
      var[i] = var[i] - m;
    }
  });
}

template <class T>
void apply_adam(int64_t n, T* var, T* m, T* v, T beta1_power, T beta2_power, T lr, T beta1,
                T beta2, T epsilon, const T* grad, bool nesterov) {
  // The bias correction folded into the step size, in T, as TF computes it.
  const T alpha = lr * std::sqrt(T(1) - beta2_power) / (T(1) - beta1_power);
  const T one_minus_b1 = T(1) - beta1, one_minus_b2 = T(1) - beta2;
  for_range(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T g = grad[i];
      const T mi = m[i] + (g - m[i]) * one_minus_b1;
      m[i] = mi;
      const T vi = v[i] + (g * g - v[i]) * one_minus_b2;
      v[i] = vi;
      const T u = nesterov ? (g * one_minus_b1 + mi * beta1) * alpha : mi * alpha;
      var[i] = var[i] - u / (std::sqrt(vi) + epsilon);
    }
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
