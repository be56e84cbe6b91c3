#include "reduce/softmax.h"

#include <cmath>
#include <limits>

#include "common/thread_pool.h"

namespace headwater {
namespace {

// Rows per parallel chunk scale with the row length so each chunk has a few thousand elements.
inline int64_t grain_rows(int64_t classes) {
  const int64_t g = (int64_t(1) << 14) / (classes > 0 ? classes : 1);
  return g > 0 ? g : 1;
}

template <class T>
inline T row_max(const T* x, int64_t c) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t j = 0; j < c; ++j) m = x[j] > m || x[j] != x[j] ? x[j] : m;
  return m;
}

// log(sum(exp(x - m))) over the row.
template <class T>
inline T log_sum_exp_shifted(const T* x, int64_t c, T m) {
  T s = T(0);
  for (int64_t j = 0; j < c; ++j) s += std::exp(x[j] - m);
  return std::log(s);
}

}  // namespace

template <class T>
void softmax_rows(int64_t rows, int64_t classes, const T* x, T* out) {
  parallel_for(rows, grain_rows(classes), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * classes;
      T* o = out + r * classes;
      const T m = row_max(xr, classes);
      T s = T(0);
      for (int64_t j = 0; j < classes; ++j) {
        const T e = std::exp(xr[j] - m);
        o[j] = e;
        s += e;
      }
      for (int64_t j = 0; j < classes; ++j) o[j] = o[j] / s;
    }
  });
}

template <class T>
void log_softmax_rows(int64_t rows, int64_t classes, const T* x, T* out) {
  parallel_for(rows, grain_rows(classes), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * classes;
      T* o = out + r * classes;
      const T m = row_max(xr, classes);
      const T lse = log_sum_exp_shifted(xr, classes, m);
      for (int64_t j = 0; j < classes; ++j) o[j] = (xr[j] - m) - lse;
    }
  });
}

template <class T>
void softmax_xent_rows(int64_t rows, int64_t classes, const T* logits, const T* labels, T* loss,
                       T* backprop) {
  parallel_for(rows, grain_rows(classes), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = logits + r * classes;
      const T* lr = labels + r * classes;
      T* b = backprop + r * classes;
      const T m = row_max(xr, classes);
      const T lse = log_sum_exp_shifted(xr, classes, m);
      T l = T(0);
      for (int64_t j = 0; j < classes; ++j) {
        const T ls = (xr[j] - m) - lse;
        l += lr[j] * ls;
        b[j] = std::exp(ls) - lr[j];
      }
      loss[r] = -l;
    }
  });
}

template <class T, class I>
void sparse_softmax_xent_rows(int64_t rows, int64_t classes, const T* logits, const I* labels,
                              T* loss, T* backprop) {
  parallel_for(rows, grain_rows(classes), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = logits + r * classes;
      T* b = backprop + r * classes;
      const T m = row_max(xr, classes);
      const T lse = log_sum_exp_shifted(xr, classes, m);
      for (int64_t j = 0; j < classes; ++j) b[j] = std::exp((xr[j] - m) - lse);
      const int64_t t = static_cast<int64_t>(labels[r]);
      loss[r] = -((xr[t] - m) - lse);
      b[t] -= T(1);
    }
  });
}

#define HW_INSTANTIATE(T)                                                                     \
  template void softmax_rows<T>(int64_t, int64_t, const T*, T*);                              \
  template void log_softmax_rows<T>(int64_t, int64_t, const T*, T*);                          \
  template void softmax_xent_rows<T>(int64_t, int64_t, const T*, const T*, T*, T*);           \
  template void sparse_softmax_xent_rows<T, int32_t>(int64_t, int64_t, const T*, const int32_t*, \
                                                     T*, T*);                                 \
  template void sparse_softmax_xent_rows<T, int64_t>(int64_t, int64_t, const T*, const int64_t*, \
                                                     T*, T*);
HW_INSTANTIATE(float)
HW_INSTANTIATE(double)
#undef HW_INSTANTIATE

}  // namespace headwater
