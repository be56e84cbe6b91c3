#include "elementwise/activation.h"

#include "common/isa.h"
#include "common/thread_pool.h"

namespace headwater {
namespace {

// Memory-bound: below this many elements a second thread costs more than it streams.
constexpr int64_t kGrain = int64_t(1) << 14;

const ActivationTable* table() {
  return HW_ISA_TABLE(current_isa(), kActivationTable);
}

const ActivationFns<float>& fns(const float*) { return table()->f32; }
const ActivationFns<double>& fns(const double*) { return table()->f64; }

}  // namespace

template <class T>
void relu(int64_t n, const T* x, T* out) {
  auto k = fns(x).relu;
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { k(e - b, x + b, out + b); });
}

template <class T>
void relu_grad(int64_t n, const T* g, const T* f, T* out) {
  auto k = fns(g).relu_grad;
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { k(e - b, g + b, f + b, out + b); });
}

template <class T>
void bias_relu(int64_t rows, int64_t cols, const T* x, const T* bias, T* out) {
  if (cols <= 0) return;
  auto k = fns(x).bias_relu;
  const int64_t grain = kGrain / cols > 0 ? kGrain / cols : 1;
  parallel_for(rows, grain, [&](int64_t b, int64_t e) {
    k(e - b, cols, x + b * cols, bias, out + b * cols);
  });
}

#define HW_INSTANTIATE(T)                                          \
  template void relu<T>(int64_t, const T*, T*);                    \
  template void relu_grad<T>(int64_t, const T*, const T*, T*);     \
  template void bias_relu<T>(int64_t, int64_t, const T*, const T*, T*);
HW_INSTANTIATE(float)
HW_INSTANTIATE(double)
#undef HW_INSTANTIATE

}  // namespace headwater
