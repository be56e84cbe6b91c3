#include "reduce/softmax.h"

#include <cmath>
#include <limits>

#include "common/thread_pool.h"
#include "elementwise/unary.h"

namespace headwater {
namespace {

// Rows per parallel chunk scale with the row length so each chunk has a few thousand elements.
inline int64_t grain_rows(int64_t classes) {
  const int64_t g = (int64_t(1) << 14) / (classes > 0 ? classes : 1);
  return g > 0 ? g : 1;
}

// Eight independent lanes (fixed order, so results do not depend on anything but the row)
// let the max and the sums below pipeline and vectorise instead of waiting on one chain.
template <class T>
inline T row_max(const T* x, int64_t c) {
  T m[8];
  for (int k = 0; k < 8; ++k) m[k] = -std::numeric_limits<T>::infinity();
  int64_t j = 0;
  for (; j + 8 <= c; j += 8)
    for (int k = 0; k < 8; ++k) {
      const T v = x[j + k];
      m[k] = ((v > m[k]) | (v != v)) ? v : m[k];
    }
  for (; j < c; ++j) m[0] = ((x[j] > m[0]) | (x[j] != x[j])) ? x[j] : m[0];
  T r = m[0];
  for (int k = 1; k < 8; ++k) r = ((m[k] > r) | (m[k] != m[k])) ? m[k] : r;
  return r;
}

template <class T>
inline T row_sum(const T* x, int64_t c) {
  T s[8] = {};
  int64_t j = 0;
  for (; j + 8 <= c; j += 8)
    for (int k = 0; k < 8; ++k) s[k] += x[j + k];
  for (; j < c; ++j) s[0] += x[j];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// v[j] = exp(v[j]) in place: the vectorised kernels for float32 (runs inline here: a row is far
// below their threading threshold), libm for float64.
inline void exp_inplace(float* v, int64_t n) { unary<float>(UnaryOp::exp, n, v, v); }
inline void exp_inplace(double* v, int64_t n) {
  for (int64_t j = 0; j < n; ++j) v[j] = std::exp(v[j]);
}

// e[j] = exp(x[j] - m) and returns their sum.
template <class T>
inline T shifted_exp(const T* x, int64_t c, T m, T* e) {
  for (int64_t j = 0; j < c; ++j) e[j] = x[j] - m;
  exp_inplace(e, c);
  return row_sum(e, c);
}

}  // namespace

template <class T>
void softmax_rows(int64_t rows, int64_t classes, const T* x, T* out) {
  parallel_for(rows, grain_rows(classes), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * classes;
      T* o = out + r * classes;
      const T s = shifted_exp(xr, classes, row_max(xr, classes), o);
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
      const T lse = std::log(shifted_exp(xr, classes, m, o));
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
      const T s = shifted_exp(xr, classes, m, b);
      const T lse = std::log(s);
      T l = T(0);
      for (int64_t j = 0; j < classes; ++j) {
        l += lr[j] * ((xr[j] - m) - lse);
        b[j] = b[j] / s - lr[j];
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
      const T s = shifted_exp(xr, classes, m, b);
      const T lse = std::log(s);
      for (int64_t j = 0; j < classes; ++j) b[j] = b[j] / s;
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
