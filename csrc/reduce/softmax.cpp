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

// Rows go through exp a block at a time: one call of the vectorised kernel for a block of
// short rows instead of one per row (its per-call set-up cost more than ten classes' worth of
// exps). The kernel is elementwise, so the values do not depend on the blocking.
constexpr int64_t kBlockRows = 64;

// For rows [r0, r1) (at most kBlockRows): m[i] = max of row r0 + i, e = exp(x - m) row-wise.
template <class T>
inline void shifted_exp_block(const T* x, int64_t r0, int64_t r1, int64_t c, T* e, T* m) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* xr = x + r * c;
    T* er = e + r * c;
    const T mr = row_max(xr, c);
    m[r - r0] = mr;
    for (int64_t j = 0; j < c; ++j) er[j] = xr[j] - mr;
  }
  exp_inplace(e + r0 * c, (r1 - r0) * c);
}

// Calls fn(r, row max, sum of the row's exps) for each row of [r0, r1), with `e` holding the
// row's exps.
template <class T, class Fn>
inline void for_rows_exp(const T* x, int64_t r0, int64_t r1, int64_t c, T* e, Fn fn) {
  T m[kBlockRows];
  for (int64_t b0 = r0; b0 < r1; b0 += kBlockRows) {
    const int64_t b1 = b0 + kBlockRows < r1 ? b0 + kBlockRows : r1;
    shifted_exp_block(x, b0, b1, c, e, m);
    for (int64_t r = b0; r < b1; ++r) fn(r, m[r - b0], row_sum(e + r * c, c));
  }
}

}  // namespace

template <class T>
void softmax_rows(int64_t rows, int64_t classes, const T* x, T* out) {
  parallel_for(rows, grain_rows(classes), [&](int64_t r0, int64_t r1) {
    for_rows_exp(x, r0, r1, classes, out, [&](int64_t r, T, T s) {
      T* o = out + r * classes;
      for (int64_t j = 0; j < classes; ++j) o[j] = o[j] / s;
    });
  });
}

template <class T>
void log_softmax_rows(int64_t rows, int64_t classes, const T* x, T* out) {
  parallel_for(rows, grain_rows(classes), [&](int64_t r0, int64_t r1) {
    for_rows_exp(x, r0, r1, classes, out, [&](int64_t r, T m, T s) {
      const T* xr = x + r * classes;
      T* o = out + r * classes;
      const T lse = std::log(s);
      for (int64_t j = 0; j < classes; ++j) o[j] = (xr[j] - m) - lse;
    });
  });
}

template <class T>
void softmax_xent_rows(int64_t rows, int64_t classes, const T* logits, const T* labels, T* loss,
                       T* backprop) {
  parallel_for(rows, grain_rows(classes), [&](int64_t r0, int64_t r1) {
    for_rows_exp(logits, r0, r1, classes, backprop, [&](int64_t r, T m, T s) {
      const T* xr = logits + r * classes;
      const T* lr = labels + r * classes;
      T* b = backprop + r * classes;
      const T lse = std::log(s);
      T l = T(0);
      for (int64_t j = 0; j < classes; ++j) {
        l += lr[j] * ((xr[j] - m) - lse);
        b[j] = b[j] / s - lr[j];
      }
      loss[r] = -l;
    });
  });
}

template <class T, class I>
void sparse_softmax_xent_rows(int64_t rows, int64_t classes, const T* logits, const I* labels,
                              T* loss, T* backprop) {
  parallel_for(rows, grain_rows(classes), [&](int64_t r0, int64_t r1) {
    for_rows_exp(logits, r0, r1, classes, backprop, [&](int64_t r, T m, T s) {
      const T* xr = logits + r * classes;
      T* b = backprop + r * classes;
      const T lse = std::log(s);
      for (int64_t j = 0; j < classes; ++j) b[j] = b[j] / s;
      const int64_t t = static_cast<int64_t>(labels[r]);
      loss[r] = -((xr[t] - m) - lse);
      b[t] -= T(1);
    });
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
