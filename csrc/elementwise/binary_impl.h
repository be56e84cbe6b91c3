// Per-ISA inner loops for binary elementwise ops. Included once by each binary_<isa>.cpp after
// common/simd.h; see simd.h for why everything sits in headwater::HW_ISA_NS.

#include "elementwise/binary.h"

namespace headwater {
namespace HW_ISA_NS {
namespace {

struct AddOp {
  template <class T>
  static T s(T x, T y) { return x + y; }
  template <class V>
  static typename V::reg v(typename V::reg x, typename V::reg y) { return V::add(x, y); }
};
struct SubOp {
  template <class T>
  static T s(T x, T y) { return x - y; }
  template <class V>
  static typename V::reg v(typename V::reg x, typename V::reg y) { return V::sub(x, y); }
};
struct MulOp {
  template <class T>
  static T s(T x, T y) { return x * y; }
  template <class V>
  static typename V::reg v(typename V::reg x, typename V::reg y) { return V::mul(x, y); }
};
struct DivOp {
  template <class T>
  static T s(T x, T y) { return x / y; }
  template <class V>
  static typename V::reg v(typename V::reg x, typename V::reg y) { return V::div(x, y); }
};

// Operand access patterns of the contiguous fast paths: A/B = contiguous vector, S = scalar
// broadcast across the run.
enum class Pattern { vv, sv, vs };

template <class Op, Pattern P, class T>
inline void contiguous_loop(int64_t n, const T* a, const T* b, T* out) {
  using V = Vec<T>;
  constexpr int64_t W = V::W;
  using reg = typename V::reg;
  const reg as = P == Pattern::sv ? V::set1(*a) : V::zero();
  const reg bs = P == Pattern::vs ? V::set1(*b) : V::zero();
  auto lhs = [&](int64_t i) { return P == Pattern::sv ? as : V::load(a + i); };
  auto rhs = [&](int64_t i) { return P == Pattern::vs ? bs : V::load(b + i); };

  int64_t i = 0;
  // Two independent vectors per iteration hide the latency of div and of the loads.
  for (; i + 2 * W <= n; i += 2 * W) {
    const reg r0 = Op::template v<V>(lhs(i), rhs(i));
    const reg r1 = Op::template v<V>(lhs(i + W), rhs(i + W));
    V::store(out + i, r0);
    V::store(out + i + W, r1);
  }
  for (; i + W <= n; i += W) V::store(out + i, Op::template v<V>(lhs(i), rhs(i)));
  if (i == n) return;
  if constexpr (V::kMasked) {
    const int64_t r = n - i;
    const reg x = P == Pattern::sv ? as : V::load_partial(a + i, r);
    const reg y = P == Pattern::vs ? bs : V::load_partial(b + i, r);
    V::store_partial(out + i, r, Op::template v<V>(x, y));
  } else {
    for (; i < n; ++i) {
      const T x = P == Pattern::sv ? *a : a[i];
      const T y = P == Pattern::vs ? *b : b[i];
      out[i] = Op::s(x, y);
    }
  }
}

template <class Op, class T>
void binary_loop(int64_t n, const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t so) {
  if (so == 1) {
    if (sa == 1 && sb == 1) return contiguous_loop<Op, Pattern::vv>(n, a, b, out);
    if (sa == 0 && sb == 1) return contiguous_loop<Op, Pattern::sv>(n, a, b, out);
    if (sa == 1 && sb == 0) return contiguous_loop<Op, Pattern::vs>(n, a, b, out);
  }
  // Arbitrary strides (including both operands broadcast): no gathers, plain scalar code.
  for (int64_t i = 0; i < n; ++i) out[i * so] = Op::s(a[i * sa], b[i * sb]);
}

}  // namespace

extern const BinaryTable kBinaryTable;
const BinaryTable kBinaryTable = {
    {&binary_loop<AddOp, float>, &binary_loop<SubOp, float>, &binary_loop<MulOp, float>,
     &binary_loop<DivOp, float>},
    {&binary_loop<AddOp, double>, &binary_loop<SubOp, double>, &binary_loop<MulOp, double>,
     &binary_loop<DivOp, double>},
};

}  // namespace HW_ISA_NS
}  // namespace headwater
