#include "elementwise/binary.h"

#include <string>

#include "common/isa.h"
#include "common/thread_pool.h"

namespace headwater {
namespace {

// Below this many elements a parallel region costs more (thread wake-up, ~10 us) than it saves.
constexpr int64_t kParallelMinElements = int64_t(1) << 17;
// Work is handed to threads in blocks of this many elements, which keeps chunk boundaries on
// cache-line and vector boundaries for contiguous outputs.
constexpr int64_t kBlock = 1024;

const BinaryTable* table_for(Isa isa) {
  return HW_ISA_TABLE(isa, kBinaryTable);
}

template <class T>
BinaryLoopFn<T> loop_for(BinaryOp op);
template <>
BinaryLoopFn<float> loop_for<float>(BinaryOp op) {
  return table_for(current_isa())->f32[static_cast<int>(op)];
}
template <>
BinaryLoopFn<double> loop_for<double>(BinaryOp op) {
  return table_for(current_isa())->f64[static_cast<int>(op)];
}

// The iteration space after dropping unit dimensions and merging dimensions that are
// contiguous with each other in all three operands. Dimension nd-1 is the innermost.
struct Plan {
  int nd = 0;
  int64_t shape[64];
  int64_t sa[64], sb[64], so[64];
};

template <class T>
void run_range(const Plan& p, BinaryLoopFn<T> fn, const T* a, const T* b, T* out, int64_t begin,
               int64_t end) {
  const int nd = p.nd;
  const int64_t inner = p.shape[nd - 1];
  int64_t idx[64];
  int64_t row = begin / inner;
  int64_t col = begin % inner;
  int64_t oa = 0, ob = 0, oo = 0;
  for (int d = nd - 2; d >= 0; --d) {
    idx[d] = row % p.shape[d];
    row /= p.shape[d];
    oa += idx[d] * p.sa[d];
    ob += idx[d] * p.sb[d];
    oo += idx[d] * p.so[d];
  }
  const int64_t ia = p.sa[nd - 1], ib = p.sb[nd - 1], io = p.so[nd - 1];
  int64_t pos = begin;
  while (pos < end) {
    const int64_t len = inner - col < end - pos ? inner - col : end - pos;
    fn(len, a + oa + col * ia, ia, b + ob + col * ib, ib, out + oo + col * io, io);
    pos += len;
    col = 0;
    if (pos >= end) break;
    for (int d = nd - 2; d >= 0; --d) {
      oa += p.sa[d];
      ob += p.sb[d];
      oo += p.so[d];
      if (++idx[d] < p.shape[d]) break;
      oa -= p.sa[d] * p.shape[d];
      ob -= p.sb[d] * p.shape[d];
      oo -= p.so[d] * p.shape[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::add:
      return "add";
    case BinaryOp::sub:
      return "sub";
    case BinaryOp::mul:
      return "mul";
    case BinaryOp::div:
      return "div";
  }
  return "binary";
}

bool broadcast_shapes(int ndim_a, const int64_t* shape_a, int ndim_b, const int64_t* shape_b,
                      std::vector<int64_t>* out) {
  const int nd = ndim_a > ndim_b ? ndim_a : ndim_b;
  out->assign(static_cast<size_t>(nd), 1);
  for (int d = 0; d < nd; ++d) {
    const int da = d - (nd - ndim_a), db = d - (nd - ndim_b);
    const int64_t x = da >= 0 ? shape_a[da] : 1;
    const int64_t y = db >= 0 ? shape_b[db] : 1;
    if (x != y && x != 1 && y != 1) return false;
    (*out)[static_cast<size_t>(d)] = x == 1 ? y : x;
  }
  return true;
}

template <class T>
void binary(BinaryOp op, View<const T> a, View<const T> b, View<T> out) {
  const int nd = out.ndim;
  if (nd > 64 || a.ndim > nd || b.ndim > nd) {
    throw std::invalid_argument(std::string(binary_op_name(op)) +
                                ": operand rank exceeds the output rank");
  }
  int64_t total = 1;
  for (int d = 0; d < nd; ++d) total *= out.shape[d];
  if (total == 0) return;

  Plan p;
  for (int d = 0; d < nd; ++d) {
    const int64_t n = out.shape[d];
    const int da = d - (nd - a.ndim), db = d - (nd - b.ndim);
    const int64_t na = da >= 0 ? a.shape[da] : 1;
    const int64_t nb = db >= 0 ? b.shape[db] : 1;
    if ((na != n && na != 1) || (nb != n && nb != 1)) {
      throw std::invalid_argument(std::string(binary_op_name(op)) +
                                  ": operands do not broadcast to the output shape");
    }
    if (n == 1) continue;
    const int64_t sa = na == 1 ? 0 : a.strides[da];
    const int64_t sb = nb == 1 ? 0 : b.strides[db];
    const int64_t so = out.strides[d];
    if (p.nd > 0) {
      const int q = p.nd - 1;
      if (p.sa[q] == sa * n && p.sb[q] == sb * n && p.so[q] == so * n) {
        p.shape[q] *= n;
        p.sa[q] = sa;
        p.sb[q] = sb;
        p.so[q] = so;
        continue;
      }
    }
    p.shape[p.nd] = n;
    p.sa[p.nd] = sa;
    p.sb[p.nd] = sb;
    p.so[p.nd] = so;
    ++p.nd;
  }
  if (p.nd == 0) {
    p.nd = 1;
    p.shape[0] = 1;
    p.sa[0] = p.sb[0] = p.so[0] = 0;
  }

  const BinaryLoopFn<T> fn = loop_for<T>(op);
  if (total < kParallelMinElements) {
    run_range(p, fn, a.data, b.data, out.data, 0, total);
    return;
  }
  const int64_t nblocks = (total + kBlock - 1) / kBlock;
  parallel_for(nblocks, kParallelMinElements / kBlock / 2, [&](int64_t b0, int64_t b1) {
    const int64_t end = b1 * kBlock < total ? b1 * kBlock : total;
    run_range(p, fn, a.data, b.data, out.data, b0 * kBlock, end);
  });
}

template void binary<float>(BinaryOp, View<const float>, View<const float>, View<float>);
template void binary<double>(BinaryOp, View<const double>, View<const double>, View<double>);

}  // namespace headwater
