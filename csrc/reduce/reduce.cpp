#include "reduce/reduce.h"

#include <vector>

#include "common/isa.h"
#include "common/thread_pool.h"

namespace headwater {
namespace {

// Contiguous runs are summed in fixed blocks of this many elements; their partial sums are
// then added in block order, so the result does not depend on how blocks are shared out.
constexpr int64_t kBlock = int64_t(1) << 15;
// Column sums take fixed slabs of rows for the same reason.
constexpr int64_t kSlabElems = int64_t(1) << 15;

const ReduceTable* table() {
  return HW_ISA_TABLE(current_isa(), kReduceTable);
}

double sum_run(const ReduceTable* t, int64_t n, const float* x) { return t->sum_f32(n, x); }
double sum_run(const ReduceTable* t, int64_t n, const double* x) { return t->sum_f64(n, x); }
void add_cols(const ReduceTable* t, int64_t rows, int64_t B, int64_t stride, const float* x,
              double* acc) {
  t->cols_f32(rows, B, stride, x, acc);
}
void add_cols(const ReduceTable* t, int64_t rows, int64_t B, int64_t stride, const double* x,
              double* acc) {
  t->cols_f64(rows, B, stride, x, acc);
}

}  // namespace

template <class T>
void reduce_sum(int64_t A, int64_t R, int64_t B, const T* x, T* out) {
  const ReduceTable* t = table();
  if (A <= 0 || B <= 0) return;
  if (R <= 0) {
    for (int64_t i = 0; i < A * B; ++i) out[i] = T(0);
    return;
  }
  if (B == 1) {
    const int64_t nb = (R + kBlock - 1) / kBlock;
    if (A == 1 && nb > 1) {
      // One long run: block partials in parallel, added in order.
      std::vector<double> part(static_cast<size_t>(nb));
      parallel_for(nb, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
          const int64_t i0 = b * kBlock, len = R - i0 < kBlock ? R - i0 : kBlock;
          part[static_cast<size_t>(b)] = sum_run(t, len, x + i0);
        }
      });
      double s = 0.0;
      for (double p : part) s += p;
      out[0] = static_cast<T>(s);
      return;
    }
    parallel_for(A, (kBlock + R - 1) / R, [&](int64_t a0, int64_t a1) {
      for (int64_t a = a0; a < a1; ++a) {
        const T* row = x + a * R;
        double s = 0.0;
        for (int64_t i0 = 0; i0 < R; i0 += kBlock)
          s += sum_run(t, R - i0 < kBlock ? R - i0 : kBlock, row + i0);
        out[a] = static_cast<T>(s);
      }
    });
    return;
  }
  // B > 1: column sums, vectorised over b. Work items are (a, chunk of columns); each output
  // element is accumulated by one thread over r in order.
  // Column chunks small enough that every thread has work even for one output row (each
  // element's sum runs over r in order whatever the chunking, so this cannot change results).
  const int64_t want = (2 * get_num_threads() + A - 1) / A;
  int64_t bchunk = (B + want - 1) / want;
  bchunk = (bchunk + 15) / 16 * 16;
  bchunk = bchunk < 64 ? 64 : (bchunk > 4096 ? 4096 : bchunk);
  if (bchunk > B) bchunk = B;
  const int64_t nbc = (B + bchunk - 1) / bchunk;
  const int64_t grain = (kSlabElems + R * bchunk - 1) / (R * bchunk);
  parallel_for(A * nbc, grain, [&](int64_t w0, int64_t w1) {
    std::vector<double> acc(static_cast<size_t>(bchunk));
    for (int64_t w = w0; w < w1; ++w) {
      const int64_t a = w / nbc, b0 = (w % nbc) * bchunk;
      const int64_t nbw = B - b0 < bchunk ? B - b0 : bchunk;
      for (int64_t b = 0; b < nbw; ++b) acc[static_cast<size_t>(b)] = 0.0;
      add_cols(t, R, nbw, B, x + a * R * B + b0, acc.data());
      T* o = out + a * B + b0;
      for (int64_t b = 0; b < nbw; ++b) o[b] = static_cast<T>(acc[static_cast<size_t>(b)]);
    }
  });
}

template void reduce_sum<float>(int64_t, int64_t, int64_t, const float*, float*);
template void reduce_sum<double>(int64_t, int64_t, int64_t, const double*, double*);

}  // namespace headwater
