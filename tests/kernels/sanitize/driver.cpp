// Exercises every native kernel family on edge shapes, for a build with
// -fsanitize=address,undefined (see run.sh). Checks results loosely against naive loops so a
// kernel that silently does nothing also fails; the sanitizers catch out-of-bounds accesses,
// misaligned loads and undefined arithmetic.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <limits>
#include <vector>

#include "common/isa.h"
#include "common/thread_pool.h"
#include "conv/conv.h"
#include "conv/pool.h"
#include "conv/winograd.h"
#include "elementwise/activation.h"
#include "elementwise/fused.h"
#include "elementwise/unary.h"
#include "gemm/gemm.h"
#include "optim/optim.h"
#include "reduce/histogram.h"
#include "reduce/reduce.h"
#include "reduce/reduce_ext.h"
#include "reduce/softmax.h"

using namespace headwater;

static int failures = 0;
static unsigned seed = 12345;
static double rnd() {
  seed = seed * 1103515245u + 12345u;
  return ((seed >> 8) & 0xffff) / 32768.0 - 1.0;
}

template <class T>
static void check_gemm(int64_t m, int64_t n, int64_t k, bool ta, bool tb, bool bias, bool relu) {
  std::vector<T> a(static_cast<size_t>(m * k) + 1), b(static_cast<size_t>(k * n) + 1),
      c(static_cast<size_t>(m * n) + 1), bv(static_cast<size_t>(n) + 1);
  for (auto& v : a) v = T(rnd());
  for (auto& v : b) v = T(rnd());
  for (auto& v : bv) v = T(rnd());
  GemmArgs<T> g;
  g.m = m, g.n = n, g.k = k;
  g.a = a.data(), g.a_rs = ta ? 1 : k, g.a_cs = ta ? m : 1;
  g.b = b.data(), g.b_rs = tb ? 1 : n, g.b_cs = tb ? k : 1;
  g.c = c.data(), g.c_rs = n;
  g.bias = bias ? bv.data() : nullptr;
  g.relu = relu;
  gemm<T>(g);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) s += double(a[i * g.a_rs + p * g.a_cs]) * b[p * g.b_rs + j * g.b_cs];
      if (bias) s += bv[j];
      if (relu && s < 0) s = 0;
      if (std::fabs(s - c[i * n + j]) > 1e-3 * (k + 1)) {
        if (failures++ < 10)
          std::printf("gemm %ldx%ldx%ld mismatch at %ld,%ld\n", long(m), long(n), long(k), long(i), long(j));
      }
    }
}

template <class T>
static void run_conv_pool() {
  const int64_t cases[][12] = {
      // n h w c kh kw co sh sw dh dw pad(top=left=bottom=right)
      {2, 7, 9, 3, 3, 2, 4, 1, 1, 1, 1, 1}, {1, 8, 8, 2, 3, 3, 5, 2, 2, 1, 1, 0},
      {3, 9, 7, 2, 2, 3, 3, 1, 2, 2, 1, 0}, {2, 5, 5, 1, 5, 5, 2, 1, 1, 1, 1, 2},
      {2, 6, 6, 4, 1, 1, 3, 1, 1, 1, 1, 0}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0},
      // full and tail SIMD blocks of the direct convolution and of the pools
      {2, 13, 11, 3, 5, 5, 35, 1, 2, 1, 1, 2}, {2, 9, 10, 33, 2, 2, 8, 2, 2, 1, 1, 0},
      // direct input-gradient tiles for Cout of whole vectors (5- and 3-wide filters)
      {2, 9, 30, 1, 5, 5, 32, 1, 1, 1, 1, 2}, {1, 7, 29, 2, 3, 3, 16, 1, 1, 1, 1, 1}};
  for (const auto& cs : cases) {
    ConvGeom g;
    g.n = cs[0], g.h = cs[1], g.w = cs[2], g.c = cs[3], g.kh = cs[4], g.kw = cs[5], g.co = cs[6];
    g.sh = cs[7], g.sw = cs[8], g.dh = cs[9], g.dw = cs[10], g.pt = g.pl = cs[11];
    g.oh = (g.h + 2 * g.pt - ((g.kh - 1) * g.dh + 1)) / g.sh + 1;
    g.ow = (g.w + 2 * g.pl - ((g.kw - 1) * g.dw + 1)) / g.sw + 1;
    std::vector<T> x(g.n * g.h * g.w * g.c), f(g.kh * g.kw * g.c * g.co),
        y(g.n * g.oh * g.ow * g.co), dx(x.size()), df(f.size());
    for (auto& v : x) v = T(rnd());
    for (auto& v : f) v = T(rnd());
    conv2d_fwd<T>(g, x.data(), f.data(), y.data());
    conv2d_bwd_input<T>(g, f.data(), y.data(), dx.data());
    conv2d_bwd_filter<T>(g, x.data(), y.data(), df.data());
    ConvGeom p = g;
    p.co = p.c, p.dh = p.dw = 1;
    p.pt = p.pl = 0;
    p.oh = (p.h - p.kh) / p.sh + 1;
    p.ow = (p.w - p.kw) / p.sw + 1;
    if (p.oh > 0 && p.ow > 0) {
      std::vector<T> py(p.n * p.oh * p.ow * p.c);
      max_pool_fwd<T>(p, x.data(), py.data());
      max_pool_bwd<T>(p, x.data(), py.data(), dx.data());
      avg_pool_fwd<T>(p, x.data(), py.data());
      avg_pool_bwd<T>(p, py.data(), dx.data());
      if (max_pool_argmax_ok(p)) {
        std::vector<T> py2(py.size()), dx2(dx.size());
        std::vector<uint8_t> arg(py.size());
        max_pool_fwd_argmax<T>(p, x.data(), py2.data(), arg.data());
        max_pool_bwd_argmax<T>(p, arg.data(), py.data(), dx2.data());
        max_pool_bwd<T>(p, x.data(), py.data(), dx.data());
        if (dx2 != dx && failures++ < 10) std::printf("max_pool_bwd_argmax differs\n");
      }
    }
  }
}

// Winograd forced on (F(2x2) and F(4x4), 3x3 and 5x5): edge tiles, partial channel blocks,
// asymmetric and one-sided padding, several tile blocks and filter-gradient slots.
static void run_winograd() {
  const int64_t cases[][9] = {
      // n h w c co k pt pl trim (output rows/cols fewer than SAME by `trim`)
      {1, 1, 1, 1, 1, 3, 1, 1, 0}, {2, 2, 5, 3, 17, 5, 2, 2, 0}, {1, 7, 13, 17, 3, 5, 4, 1, 0},
      {2, 13, 7, 17, 17, 3, 0, 0, 2}, {3, 14, 14, 40, 33, 5, 2, 2, 0},
      {6, 14, 14, 32, 64, 5, 2, 2, 0}, {0, 5, 5, 2, 3, 3, 1, 1, 0}};
  for (int mode : {2, 4}) {
    set_winograd_mode(mode);
    for (const auto& cs : cases) {
      ConvGeom g;
      g.n = cs[0], g.h = cs[1], g.w = cs[2], g.c = cs[3], g.co = cs[4], g.kh = g.kw = cs[5];
      g.pt = cs[6], g.pl = cs[7];
      g.oh = g.h - cs[8], g.ow = g.w - cs[8];
      std::vector<float> x(g.n * g.h * g.w * g.c + 1), f(g.kh * g.kw * g.c * g.co),
          y(g.n * g.oh * g.ow * g.co + 1), dx(x.size()), df(f.size());
      for (auto& v : x) v = float(rnd());
      for (auto& v : f) v = float(rnd());
      conv2d_fwd<float>(g, x.data(), f.data(), y.data());
      conv2d_bwd_input<float>(g, f.data(), y.data(), dx.data());
      conv2d_bwd_filter<float>(g, x.data(), y.data(), df.data());
    }
  }
  set_winograd_mode(kWinogradAuto);
}

template <class T>
static void run_misc() {
  for (int64_t n : {1, 5, 17, 100003}) {
    std::vector<T> v(n), s1(n), s2(n), s3(n), g(n);
    for (int64_t i = 0; i < n; ++i) {
      v[i] = T(rnd()), s1[i] = T(1 + rnd() * 0.5), s2[i] = T(1 + rnd() * 0.5), s3[i] = T(0.1);
      g[i] = T(rnd());
    }
    apply_gradient_descent<T>(n, v.data(), T(0.1), g.data());
    apply_momentum<T>(n, v.data(), s1.data(), T(0.1), g.data(), T(0.9), true);
    apply_adagrad<T>(n, v.data(), s1.data(), T(0.1), g.data(), true);
    apply_adadelta<T>(n, v.data(), s1.data(), s2.data(), T(1), T(0.95), T(1e-6), g.data());
    apply_rms_prop<T>(n, v.data(), s1.data(), s2.data(), T(0.1), T(0.9), T(0.5), T(1e-6), g.data());
    apply_centered_rms_prop<T>(n, v.data(), s3.data(), s1.data(), s2.data(), T(0.1), T(0.9),
                               T(0.5), T(1e-6), g.data());
    apply_adam<T>(n, v.data(), s1.data(), s2.data(), T(0.5), T(0.5), T(1e-3), T(0.9), T(0.999),
                  T(1e-8), g.data(), false);
  }
  for (int64_t n : {0, 1, 15, 17, 70000}) {
    std::vector<T> x(n + 1), y(n + 1);
    for (auto& v : x) v = T(rnd() * 50);
    for (int op = 0; op < kNumUnaryOps; ++op) unary<T>(static_cast<UnaryOp>(op), n, x.data(), y.data());
    for (int64_t a : {1, 3})
      for (int64_t b : {1, 5, 300}) {
        const int64_t r = n / (a * b);
        std::vector<T> o(a * b + 1);
        reduce_sum<T>(a, r, b, x.data(), o.data());
        std::vector<int64_t> idx(a * b + 1);
        for (int op = 0; op < 3; ++op)
          reduce_value<T>(static_cast<ReduceOp>(op), a, r, b, x.data(), o.data());
        reduce_logsumexp<T>(a, r, b, x.data(), o.data());
        if (r > 0) {
          reduce_arg<T>(true, a, r, b, x.data(), idx.data());
          reduce_arg<T>(false, a, r, b, x.data(), idx.data());
        }
      }
  }
  for (int64_t n : {0, 1, 15, 17, 33, 40000}) {
    std::vector<T> x(n + 1), g(n + 1), o(n + 1);
    for (int64_t i = 0; i <= n; ++i) x[i] = T(rnd()), g[i] = T(rnd());
    relu<T>(n, x.data(), o.data());
    relu_grad<T>(n, g.data(), x.data(), o.data());
    for (int64_t c : {1, 7, 33}) bias_relu<T>(n / c, c, x.data(), g.data(), o.data());
  }
  for (int64_t rows : {0, 1, 7}) {
    for (int64_t c : {1, 3, 33}) {
      std::vector<T> x(rows * c + 1), l(rows * c + 1), o(rows * c + 1), loss(rows + 1);
      std::vector<int32_t> lab(rows + 1, 0);
      for (auto& v : x) v = T(rnd() * 10);
      for (auto& v : l) v = T(1.0 / c);
      softmax_rows<T>(rows, c, x.data(), o.data());
      log_softmax_rows<T>(rows, c, x.data(), o.data());
      softmax_xent_rows<T>(rows, c, x.data(), l.data(), loss.data(), o.data());
      sparse_softmax_xent_rows<T, int32_t>(rows, c, x.data(), lab.data(), loss.data(), o.data());
    }
  }
}

template <class T>
static void run_fused() {
  // relu(x * w + b) * 0.5 - tanh(x), with w a repeated row and b a scalar.
  const std::vector<FusedInstr> prog = {
      {FusedOp::mul, 3, 0, 1, 0}, {FusedOp::add, 3, 3, 2, 0},   {FusedOp::relu, 3, 3, 0, 0},
      {FusedOp::constant, 4, 0, 0, 0.5}, {FusedOp::mul, 3, 3, 4, 0}, {FusedOp::tanh, 5, 0, 0, 0},
      {FusedOp::sub, 3, 3, 5, 0}};
  for (int64_t n : {1, 7, 513, 70001}) {
    for (int64_t row : {1, 3, 1024}) {
      std::vector<T> x(n), w(row), b(1, T(0.25)), out(n);
      for (auto& v : x) v = T(rnd());
      for (auto& v : w) v = T(rnd());
      std::vector<FusedInput<T>> in = {{x.data(), FusedInputKind::full, 0},
                                       {w.data(), FusedInputKind::row, row},
                                       {b.data(), FusedInputKind::scalar, 0}};
      fused_elementwise<T>(prog, in, n, out.data());
    }
  }
}

template <class T>
static void run_int_reductions() {
  for (int64_t n : {0, 1, 15, 17, 70000}) {
    std::vector<T> x(n + 1);
    for (auto& v : x) v = T(rnd() * 1000);
    for (int64_t a : {1, 3})
      for (int64_t b : {1, 5, 300}) {
        const int64_t r = n / (a * b);
        std::vector<T> o(a * b + 1);
        std::vector<int64_t> idx(a * b + 1);
        for (int op = 0; op < 3; ++op)
          reduce_value<T>(static_cast<ReduceOp>(op), a, r, b, x.data(), o.data());
        if (r > 0) reduce_arg<T>(true, a, r, b, x.data(), idx.data());
      }
  }
}

// Histogram (summary ops): TensorFlow's default edges (float32 slot table), a crowded custom
// set (binary-searched slots), values on edges, +-0, +-inf, NaN; counts against upper_bound.
template <class T>
static void run_histogram() {
  std::vector<double> dflt;
  {
    std::vector<double> pos;
    for (double v = 1e-12; v < 1e20; v *= 1.1) pos.push_back(v);
    pos.push_back(std::numeric_limits<double>::max());
    for (auto it = pos.rbegin(); it != pos.rend(); ++it) dflt.push_back(-*it);
    dflt.push_back(0.0);
    for (double v : pos) dflt.push_back(v);
  }
  std::vector<double> crowded;
  for (int i = 0; i < 40; ++i) crowded.push_back(1.0 + i * 1e-4);
  crowded.push_back(5.0);
  for (const std::vector<double>* lim : {&dflt, &crowded}) {
    const int64_t nl = static_cast<int64_t>(lim->size());
    for (int64_t n : {0, 1, 2, 7, 8, 9, 127, 128, 129, 2047, 2048, 2049, 40000}) {
      std::vector<T> x(static_cast<size_t>(n) + 1);
      for (int64_t i = 0; i < n; ++i) {
        const double r = rnd();
        switch (i % 9) {
          case 0: x[i] = T((*lim)[static_cast<size_t>(i % nl)]); break;
          case 1: x[i] = T(i % 2 ? -0.0 : 0.0); break;
          case 2: x[i] = T(r * 1e-3); break;
          case 3: x[i] = T(r * 1e30); break;
          case 4: x[i] = T(i % 2 ? std::numeric_limits<double>::infinity() : -1e300); break;
          default: x[i] = T(1.0 + r * 1e-3);
        }
      }
      if (n > 5) x[5] = T(std::numeric_limits<double>::quiet_NaN());
      std::vector<int64_t> counts(static_cast<size_t>(nl) + 1), expect(static_cast<size_t>(nl));
      HistogramStats st{};
      const char* err = (sizeof(T) == 4)
          ? histogram_buckets_f32(reinterpret_cast<const float*>(x.data()), n, lim->data(), nl,
                                  counts.data(), &st)
          : histogram_buckets_f64(reinterpret_cast<const double*>(x.data()), n, lim->data(), nl,
                                  counts.data(), &st);
      if (err) {
        if (failures++ < 10) std::printf("histogram error %s\n", err);
        continue;
      }
      for (int64_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(x[i]);
        if (v != v) continue;
        const int64_t b = std::upper_bound(lim->begin(), lim->end(), v) - lim->begin();
        ++expect[static_cast<size_t>(std::min(b, nl - 1))];
      }
      for (int64_t i = 0; i < nl; ++i)
        if (counts[i] != expect[i] && failures++ < 10)
          std::printf("histogram n=%ld bucket %ld: %ld != %ld\n", long(n), long(i),
                      long(counts[i]), long(expect[i]));
      std::vector<double> kl(static_cast<size_t>(nl) + 1), kc(static_cast<size_t>(nl) + 1);
      const int64_t k = histogram_collapse(counts.data(), lim->data(), nl, kl.data(), kc.data());
      if ((k < 1 || k > nl || kl[static_cast<size_t>(k - 1)] != lim->back()) && failures++ < 10)
        std::printf("histogram_collapse n=%ld kept %ld\n", long(n), long(k));
    }
  }
}

int main() {
  for (Isa isa : available_isas()) {
    set_isa(isa);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      const int64_t sizes[] = {0, 1, 2, 5, 13, 15, 17, 31, 33, 47};
      for (int64_t m : sizes)
        for (int64_t n : sizes)
          for (int64_t k : {0, 1, 7, 20}) {
            check_gemm<float>(m, n, k, (m + k) % 2, (n + k) % 3 == 0, n % 2, m % 3 == 0);
            check_gemm<double>(m, n, k, (m + n) % 2, k % 2, m % 2, n % 3 == 0);
          }
      // Every register tile the driver may pick for some shape.
      for (int tile = 0; tile < kMaxGemmTiles; ++tile) {
        set_gemm_forced_tile(tile);
        for (int64_t m : {1, 9, 17})
          for (int64_t n : {1, 33, 65}) check_gemm<float>(m, n, 19, m % 2, n % 3 == 0, true, true);
      }
      set_gemm_forced_tile(-1);
      check_gemm<float>(70, 130, 400, false, true, true, true);
      check_gemm<double>(129, 40, 300, true, false, false, false);
      run_conv_pool<float>();
      run_conv_pool<double>();
      run_winograd();
      run_misc<float>();
      run_misc<double>();
      run_int_reductions<int32_t>();
      run_fused<float>();
      run_fused<double>();
      run_int_reductions<int64_t>();
      run_histogram<float>();
      run_histogram<double>();
    }
    std::printf("isa %s done\n", isa_name(isa));
  }
  std::printf("%s (%d failures)\n", failures ? "FAILED" : "ok", failures);
  return failures ? 1 : 0;
}
