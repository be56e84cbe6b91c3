// Per-ISA loops of the fused elementwise evaluator: plain loops the compiler vectorises with
// the including file's flags. Included once by each fused_<isa>.cpp after common/simd.h; see
// simd.h for why everything sits in headwater::HW_ISA_NS.

#include <cmath>

#include "elementwise/fused.h"

namespace headwater {
namespace HW_ISA_NS {
namespace {

// NaN-propagating like numpy's maximum/minimum.
struct Add {
  template <class T>
  static T f(T a, T b) { return a + b; }
};
struct Sub {
  template <class T>
  static T f(T a, T b) { return a - b; }
};
struct Mul {
  template <class T>
  static T f(T a, T b) { return a * b; }
};
struct Div {
  template <class T>
  static T f(T a, T b) { return a / b; }
};
struct Max {
  template <class T>
  static T f(T a, T b) { return (a > b || a != a) ? a : b; }
};
struct Min {
  template <class T>
  static T f(T a, T b) { return (a < b || a != a) ? a : b; }
};

template <class Op, int P, class T>
void bin(int64_t n, const T* __restrict a, const T* __restrict b, T* out) {
  if (P == 0) {
    for (int64_t i = 0; i < n; ++i) out[i] = Op::f(a[i], b[i]);
  } else if (P == 1) {
    const T s = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = Op::f(s, b[i]);
  } else {
    const T s = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = Op::f(a[i], s);
  }
}

template <class T>
void neg(int64_t n, const T* a, T* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = -a[i];
}
template <class T>
void absv(int64_t n, const T* a, T* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] < T(0) ? -a[i] : (a[i] == T(0) ? T(0) : a[i]);
}
template <class T>
void relu(int64_t n, const T* a, T* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = (a[i] > T(0) || a[i] != a[i]) ? a[i] : T(0);
}
template <class T>
void square(int64_t n, const T* a, T* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] * a[i];
}
template <class T>
void sqrtv(int64_t n, const T* a, T* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::sqrt(a[i]);
}

template <class T>
constexpr FusedFns<T> fused_fns() {
  return FusedFns<T>{
      {{&bin<Add, 0, T>, &bin<Add, 1, T>, &bin<Add, 2, T>},
       {&bin<Sub, 0, T>, &bin<Sub, 1, T>, &bin<Sub, 2, T>},
       {&bin<Mul, 0, T>, &bin<Mul, 1, T>, &bin<Mul, 2, T>},
       {&bin<Div, 0, T>, &bin<Div, 1, T>, &bin<Div, 2, T>},
       {&bin<Max, 0, T>, &bin<Max, 1, T>, &bin<Max, 2, T>},
       {&bin<Min, 0, T>, &bin<Min, 1, T>, &bin<Min, 2, T>}},
      {&neg<T>, &absv<T>, &relu<T>, &square<T>, &sqrtv<T>},
  };
}

}  // namespace

extern const FusedTable kFusedTable;
const FusedTable kFusedTable = {fused_fns<float>(), fused_fns<double>()};

}  // namespace HW_ISA_NS
}  // namespace headwater
