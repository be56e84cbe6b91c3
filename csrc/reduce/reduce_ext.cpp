#include "reduce/reduce_ext.h"

#include <cmath>
#include <limits>
#include <vector>

#include "common/isa.h"
#include "common/thread_pool.h"
#include "elementwise/unary.h"

namespace headwater {
namespace {

// Contiguous runs are reduced in fixed blocks of this many elements (partials combined in
// block order); other work items hold about this many elements.
constexpr int64_t kBlock = int64_t(1) << 15;
// logsumexp evaluates e^(x - shift) through this buffer with the vectorised exp.
constexpr int64_t kExpBuf = 1024;

const ReduceExtTable* table() {
  return HW_ISA_TABLE(current_isa(), kReduceExtTable);
}

template <class T>
const ReduceExtFns<T>& fns_of(const ReduceExtTable* t);
template <>
const ReduceExtFns<float>& fns_of<float>(const ReduceExtTable* t) {
  return t->f32;
}
template <>
const ReduceExtFns<double>& fns_of<double>(const ReduceExtTable* t) {
  return t->f64;
}
template <>
const ReduceExtFns<int32_t>& fns_of<int32_t>(const ReduceExtTable* t) {
  return t->i32;
}
template <>
const ReduceExtFns<int64_t>& fns_of<int64_t>(const ReduceExtTable* t) {
  return t->i64;
}

template <class T>
T identity(ReduceOp op) {
  using L = std::numeric_limits<T>;
  switch (op) {
    case ReduceOp::max:
      return L::has_infinity ? -L::infinity() : L::lowest();
    case ReduceOp::min:
      return L::has_infinity ? L::infinity() : L::max();
    case ReduceOp::prod:
      break;
  }
  return T(1);
}

template <class T>
T combine(ReduceOp op, T a, T b) {
  switch (op) {
    case ReduceOp::max:
      return (b > a || b != b) ? b : a;
    case ReduceOp::min:
      return (b < a || b != b) ? b : a;
    case ReduceOp::prod:
      break;
  }
  return a * b;
}
template <>
int32_t combine<int32_t>(ReduceOp op, int32_t a, int32_t b) {
  if (op == ReduceOp::prod)
    return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
  return op == ReduceOp::max ? (b > a ? b : a) : (b < a ? b : a);
}
template <>
int64_t combine<int64_t>(ReduceOp op, int64_t a, int64_t b) {
  if (op == ReduceOp::prod)
    return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  return op == ReduceOp::max ? (b > a ? b : a) : (b < a ? b : a);
}

// op over a long contiguous run: fixed blocks in parallel, partials combined in order.
template <class T>
T contig_blocked(const ReduceExtFns<T>& f, ReduceOp op, int64_t n, const T* x) {
  const int64_t nb = (n + kBlock - 1) / kBlock;
  std::vector<T> part(static_cast<size_t>(nb));
  const int k = static_cast<int>(op);
  parallel_for(nb, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t i0 = b * kBlock, len = n - i0 < kBlock ? n - i0 : kBlock;
      part[static_cast<size_t>(b)] = f.contig[k](len, x + i0);
    }
  });
  T r = part[0];
  for (size_t b = 1; b < part.size(); ++b) r = combine(op, r, part[b]);
  return r;
}

// Column chunking shared by the B > 1 paths (as in reduce_sum): chunks small enough that
// every thread has work even for one output row. Each output element is reduced over r in
// order by one thread whatever the chunking.
struct ColSplit {
  int64_t bchunk, nbc, grain;
};
ColSplit col_split(int64_t A, int64_t R, int64_t B) {
  const int64_t want = (2 * get_num_threads() + A - 1) / A;
  int64_t bchunk = (B + want - 1) / want;
  bchunk = (bchunk + 15) / 16 * 16;
  bchunk = bchunk < 64 ? 64 : (bchunk > 4096 ? 4096 : bchunk);
  if (bchunk > B) bchunk = B;
  const int64_t nbc = (B + bchunk - 1) / bchunk;
  const int64_t grain = (kBlock + R * bchunk - 1) / (R * bchunk);
  return {bchunk, nbc, grain};
}

// First index of the strict running arg max/min of one contiguous run (R > 0).
template <class T>
int64_t arg_contig(const ReduceExtFns<T>& f, bool is_max, int64_t R, const T* x, bool split) {
  const int k = is_max ? 0 : 1;
  if (!(split && R > kBlock)) return f.arg_contig[k](R, x);
  // Fixed blocks in parallel, merged in order with the same strict rule: a block whose
  // values never beat the start reports its first index, which cannot win the merge.
  const int64_t nb = (R + kBlock - 1) / kBlock;
  std::vector<int64_t> bidx(static_cast<size_t>(nb));
  parallel_for(nb, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t i0 = b * kBlock, len = R - i0 < kBlock ? R - i0 : kBlock;
      bidx[static_cast<size_t>(b)] = i0 + f.arg_contig[k](len, x + i0);
    }
  });
  using L = std::numeric_limits<T>;
  T best = is_max ? L::lowest() : L::max();
  int64_t idx = 0;
  for (int64_t i : bidx) {
    const T v = x[i];
    if (is_max ? v > best : v < best) best = v, idx = i;
  }
  return idx;
}

template <class T>
void exp_inplace(int64_t n, T* v) {
  unary<T>(UnaryOp::exp, n, v, v);  // n <= kExpBuf: never threads
}

// sum over i < n of e^(x[i] - shift), in double.
template <class T>
double sum_exp(int64_t n, const T* x, T shift) {
  T buf[kExpBuf];
  double s = 0.0;
  for (int64_t i0 = 0; i0 < n; i0 += kExpBuf) {
    const int64_t len = n - i0 < kExpBuf ? n - i0 : kExpBuf;
    for (int64_t j = 0; j < len; ++j) buf[j] = x[i0 + j] - shift;
    exp_inplace(len, buf);
    for (int64_t j = 0; j < len; ++j) s += static_cast<double>(buf[j]);
  }
  return s;
}

template <class T>
T lse_finish(double s, T shift) {
  return static_cast<T>(std::log(s) + static_cast<double>(shift));
}

template <class T>
T lse_shift(T m) {
  return std::isfinite(m) ? m : T(0);
}

}  // namespace

template <class T>
void reduce_value(ReduceOp op, int64_t A, int64_t R, int64_t B, const T* x, T* out) {
  if (A <= 0 || B <= 0) return;
  if (R <= 0) {
    const T id = identity<T>(op);
    for (int64_t i = 0; i < A * B; ++i) out[i] = id;
    return;
  }
  const ReduceExtFns<T>& f = fns_of<T>(table());
  const int k = static_cast<int>(op);
  if (B == 1) {
    if (A == 1) {
      out[0] = R > kBlock ? contig_blocked(f, op, R, x) : f.contig[k](R, x);
      return;
    }
    parallel_for(A, (kBlock + R - 1) / R, [&](int64_t a0, int64_t a1) {
      for (int64_t a = a0; a < a1; ++a) out[a] = f.contig[k](R, x + a * R);
    });
    return;
  }
  const ColSplit cs = col_split(A, R, B);
  parallel_for(A * cs.nbc, cs.grain, [&](int64_t w0, int64_t w1) {
    for (int64_t w = w0; w < w1; ++w) {
      const int64_t a = w / cs.nbc, b0 = (w % cs.nbc) * cs.bchunk;
      const int64_t nbw = B - b0 < cs.bchunk ? B - b0 : cs.bchunk;
      const T* xa = x + a * R * B + b0;
      T* o = out + a * B + b0;
      for (int64_t b = 0; b < nbw; ++b) o[b] = xa[b];
      f.cols[k](R - 1, nbw, B, xa + B, o);
    }
  });
}

template <class T>
void reduce_arg(bool is_max, int64_t A, int64_t R, int64_t B, const T* x, int64_t* out) {
  if (A <= 0 || B <= 0 || R <= 0) return;
  const ReduceExtFns<T>& f = fns_of<T>(table());
  if (B == 1) {
    if (A == 1) {
      out[0] = arg_contig(f, is_max, R, x, true);
      return;
    }
    parallel_for(A, (kBlock + R - 1) / R, [&](int64_t a0, int64_t a1) {
      for (int64_t a = a0; a < a1; ++a) out[a] = arg_contig(f, is_max, R, x + a * R, false);
    });
    return;
  }
  const ColSplit cs = col_split(A, R, B);
  using L = std::numeric_limits<T>;
  const T start = is_max ? L::lowest() : L::max();
  parallel_for(A * cs.nbc, cs.grain, [&](int64_t w0, int64_t w1) {
    std::vector<T> best(static_cast<size_t>(cs.bchunk));
    for (int64_t w = w0; w < w1; ++w) {
      const int64_t a = w / cs.nbc, b0 = (w % cs.nbc) * cs.bchunk;
      const int64_t nbw = B - b0 < cs.bchunk ? B - b0 : cs.bchunk;
      int64_t* o = out + a * B + b0;
      for (int64_t b = 0; b < nbw; ++b) {
        best[static_cast<size_t>(b)] = start;
        o[b] = 0;
      }
      f.arg_cols[is_max ? 0 : 1](0, R, nbw, B, x + a * R * B + b0, best.data(), o);
    }
  });
}

template <class T>
void reduce_logsumexp(int64_t A, int64_t R, int64_t B, const T* x, T* out) {
  if (A <= 0 || B <= 0) return;
  if (R <= 0) {
    for (int64_t i = 0; i < A * B; ++i) out[i] = -std::numeric_limits<T>::infinity();
    return;
  }
  const ReduceExtFns<T>& f = fns_of<T>(table());
  const int kmax = static_cast<int>(ReduceOp::max);
  if (B == 1) {
    if (A == 1 && R > kBlock) {
      const T shift = lse_shift(contig_blocked(f, ReduceOp::max, R, x));
      const int64_t nb = (R + kBlock - 1) / kBlock;
      std::vector<double> part(static_cast<size_t>(nb));
      parallel_for(nb, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
          const int64_t i0 = b * kBlock, len = R - i0 < kBlock ? R - i0 : kBlock;
          part[static_cast<size_t>(b)] = sum_exp(len, x + i0, shift);
        }
      });
      double s = 0.0;
      for (double p : part) s += p;
      out[0] = lse_finish(s, shift);
      return;
    }
    parallel_for(A, (kBlock + R - 1) / R, [&](int64_t a0, int64_t a1) {
      for (int64_t a = a0; a < a1; ++a) {
        const T* row = x + a * R;
        const T shift = lse_shift(f.contig[kmax](R, row));
        out[a] = lse_finish(sum_exp(R, row, shift), shift);
      }
    });
    return;
  }
  const ColSplit cs = col_split(A, R, B);
  parallel_for(A * cs.nbc, cs.grain, [&](int64_t w0, int64_t w1) {
    std::vector<T> shift(static_cast<size_t>(cs.bchunk)), buf(static_cast<size_t>(cs.bchunk));
    std::vector<double> acc(static_cast<size_t>(cs.bchunk));
    for (int64_t w = w0; w < w1; ++w) {
      const int64_t a = w / cs.nbc, b0 = (w % cs.nbc) * cs.bchunk;
      const int64_t nbw = B - b0 < cs.bchunk ? B - b0 : cs.bchunk;
      const T* xa = x + a * R * B + b0;
      T* sh = shift.data();
      for (int64_t b = 0; b < nbw; ++b) sh[b] = xa[b];
      f.cols[kmax](R - 1, nbw, B, xa + B, sh);
      for (int64_t b = 0; b < nbw; ++b) {
        sh[b] = lse_shift(sh[b]);
        acc[static_cast<size_t>(b)] = 0.0;
      }
      T* bf = buf.data();
      for (int64_t r = 0; r < R; ++r) {
        const T* xr = xa + r * B;
        for (int64_t b = 0; b < nbw; ++b) bf[b] = xr[b] - sh[b];
        exp_inplace(nbw, bf);
        for (int64_t b = 0; b < nbw; ++b) acc[static_cast<size_t>(b)] += bf[b];
      }
      T* o = out + a * B + b0;
      for (int64_t b = 0; b < nbw; ++b) o[b] = lse_finish(acc[static_cast<size_t>(b)], sh[b]);
    }
  });
}

#define HW_INSTANTIATE(T)                                                              \
  template void reduce_value<T>(ReduceOp, int64_t, int64_t, int64_t, const T*, T*);  \
  template void reduce_arg<T>(bool, int64_t, int64_t, int64_t, const T*, int64_t*);
HW_INSTANTIATE(float)
HW_INSTANTIATE(double)
HW_INSTANTIATE(int32_t)
HW_INSTANTIATE(int64_t)
#undef HW_INSTANTIATE
template void reduce_logsumexp<float>(int64_t, int64_t, int64_t, const float*, float*);
template void reduce_logsumexp<double>(int64_t, int64_t, int64_t, const double*, double*);

}  // namespace headwater
