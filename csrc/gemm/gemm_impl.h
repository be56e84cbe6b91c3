// Per-ISA GEMM: BLIS-style packed, cache-blocked driver around a register-blocked micro-kernel.
// Included once by each gemm_<isa>.cpp after common/simd.h; see simd.h for why everything sits
// in headwater::HW_ISA_NS.
//
// Loop nest run by each thread on its own rectangle of C (rows [m0, m1), columns [n0, n1)):
//   for jc in columns, step NC:
//     for pc in k, step KC:                 pack B[pc:+kc, jc:+nc] into KC x NR panels (L2/L3)
//       for ic in rows, step MC:            pack A[ic:+mc, pc:+kc] into MR x KC panels (L2)
//         for jr in NR panels:              this KC x NR panel of B stays in L1
//           for ir in MR panels:            micro-kernel: MR x NR tile of C in registers
// Packing reads A and B through arbitrary strides, so transposed and sliced operands cost
// nothing extra. Panels are zero-padded to whole tiles; tiles hanging over the edge of C are
// computed into a stack tile and only their valid part is written back.
//
// Determinism: the k blocking depends only on k, and each element of C is produced by one
// micro-kernel call per k block (FMAs in order of p) followed by C + acc, so the result never
// depends on the thread count or on how C is split between threads.

#include <cstdlib>

#include "common/aligned_alloc.h"
#include "common/thread_pool.h"
#include "gemm/gemm.h"

#if defined(__clang__)
#define HW_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define HW_UNROLL _Pragma("GCC unroll 32")
#else
#define HW_UNROLL
#endif

namespace headwater {
namespace HW_ISA_NS {
namespace {

// Register tiles and cache blocking per ISA and dtype. MR x NR accumulators plus the NV vectors
// of B and one broadcast of A must fit in the register file (32 zmm / 16 ymm). MC x KC of A is
// sized for L2, KC x NR of B for L1, KC x NC of B for L2/L3.
template <class T>
struct Cfg;
#if HW_ISA_LEVEL == 2
template <>
struct Cfg<float> {
  static constexpr int MR = 14, NV = 2, MR_NARROW = 24;
  static constexpr int64_t MC = 126, KC = 384, NC = 2048;
};
template <>
struct Cfg<double> {
  static constexpr int MR = 14, NV = 2, MR_NARROW = 24;
  static constexpr int64_t MC = 126, KC = 256, NC = 1024;
};
#elif HW_ISA_LEVEL == 1
template <>
struct Cfg<float> {
  static constexpr int MR = 6, NV = 2, MR_NARROW = 12;
  static constexpr int64_t MC = 120, KC = 256, NC = 2048;
};
template <>
struct Cfg<double> {
  static constexpr int MR = 6, NV = 2, MR_NARROW = 12;
  static constexpr int64_t MC = 96, KC = 256, NC = 1024;
};
#else
template <>
struct Cfg<float> {
  static constexpr int MR = 4, NV = 2, MR_NARROW = 8;
  static constexpr int64_t MC = 64, KC = 256, NC = 1024;
};
template <>
struct Cfg<double> {
  static constexpr int MR = 4, NV = 2, MR_NARROW = 8;
  static constexpr int64_t MC = 64, KC = 256, NC = 1024;
};
#endif

// Multiply-adds below which one more thread is not worth waking.
constexpr int64_t kMinFmaPerThread = int64_t(1) << 17;

// Grow-only, 64-byte aligned scratch owned by one thread: packing buffers are reused across
// calls instead of being allocated in the hot path.
struct Scratch {
  void* p = nullptr;
  std::size_t cap = 0;
  ~Scratch() { aligned_free(p); }
  void* get(std::size_t bytes) {
    if (bytes > cap) {
      aligned_free(p);
      p = nullptr;
      cap = 0;
      p = aligned_malloc(bytes);
      cap = bytes;
    }
    return p;
  }
};
thread_local Scratch t_pack_a;
thread_local Scratch t_pack_b;

struct Blocks {
  int64_t mc, kc, nc;
};

// Dev-only override "MC,KC,NC" for tuning sweeps; read once.
const Blocks* env_blocks() {
  static Blocks b{0, 0, 0};
  static const bool have = [] {
    const char* s = std::getenv("HEADWATER_GEMM_BLOCKS");
    if (s == nullptr) return false;
    char* e = nullptr;
    b.mc = std::strtol(s, &e, 10);
    if (*e != ',') return false;
    b.kc = std::strtol(e + 1, &e, 10);
    if (*e != ',') return false;
    b.nc = std::strtol(e + 1, &e, 10);
    return b.mc > 0 && b.kc > 0 && b.nc > 0;
  }();
  return have ? &b : nullptr;
}

template <class T, int MR_, int NV_>
struct Gemm {
  using V = Vec<T>;
  using reg = typename V::reg;
  static constexpr int W = V::W;
  static constexpr int MR = MR_;
  static constexpr int NV = NV_;
  static constexpr int NR = NV * W;

  // acc = Ap (MR x kc, packed) * Bp (kc x NR, packed); then the MR x NR tile at c becomes
  // [C +] acc [+ bias] [relu].
  static void micro(int64_t kc, const T* __restrict ap, const T* __restrict bp, T* __restrict c,
                    int64_t c_rs, bool accumulate, const T* bias, bool relu) {
    reg acc[MR][NV];
    HW_UNROLL
    for (int r = 0; r < MR; ++r) {
      HW_UNROLL
      for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
    }
    for (int64_t p = 0; p < kc; ++p) {
      reg b[NV];
      HW_UNROLL
      for (int v = 0; v < NV; ++v) b[v] = V::load(bp + v * W);
      HW_UNROLL
      for (int r = 0; r < MR; ++r) {
        const reg a = V::set1(ap[r]);
        HW_UNROLL
        for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(a, b[v], acc[r][v]);
      }
      ap += MR;
      bp += NR;
    }
    if (accumulate) {
      HW_UNROLL
      for (int r = 0; r < MR; ++r) {
        HW_UNROLL
        for (int v = 0; v < NV; ++v) acc[r][v] = V::add(V::load(c + r * c_rs + v * W), acc[r][v]);
      }
    }
    if (bias != nullptr) {
      HW_UNROLL
      for (int v = 0; v < NV; ++v) {
        const reg bv = V::load(bias + v * W);
        HW_UNROLL
        for (int r = 0; r < MR; ++r) acc[r][v] = V::add(acc[r][v], bv);
      }
    }
    if (relu) {
      const reg z = V::zero();
      HW_UNROLL
      for (int r = 0; r < MR; ++r) {
        HW_UNROLL
        for (int v = 0; v < NV; ++v) acc[r][v] = V::max(z, acc[r][v]);
      }
    }
    HW_UNROLL
    for (int r = 0; r < MR; ++r) {
      HW_UNROLL
      for (int v = 0; v < NV; ++v) V::store(c + r * c_rs + v * W, acc[r][v]);
    }
  }

  // A tile hanging over the edge of C: the same micro-kernel into a stack tile, then the same
  // arithmetic as micro() on the valid part, so edge elements round exactly like inner ones.
  static void micro_edge(int64_t mr, int64_t nr, int64_t kc, const T* ap, const T* bp, T* c,
                         int64_t c_rs, bool accumulate, const T* bias, bool relu) {
    alignas(64) T tile[MR * NR];
    micro(kc, ap, bp, tile, NR, false, nullptr, false);
    for (int64_t i = 0; i < mr; ++i) {
      T* cr = c + i * c_rs;
      const T* tr = tile + i * NR;
      for (int64_t j = 0; j < nr; ++j) {
        T v = tr[j];
        if (accumulate) v = cr[j] + v;
        if (bias != nullptr) v = v + bias[j];
        if (relu) v = T(0) > v ? T(0) : v;
        cr[j] = v;
      }
    }
  }

  // Zeroes n elements (a multiple of W) with vector stores: GCC would turn a
  // plain loop into a memset call, whose start-up cost dominates these short runs.
  static void zero_fill(T* d, int64_t n) {
    const reg z = V::zero();
    for (int64_t i = 0; i < n; i += W) V::store(d + i, z);
  }

  // B[0:kc, 0:nc] (strides rs, cs) -> panels of NR columns, each kc x NR row-major.
  static void pack_b(const T* b, int64_t rs, int64_t cs, int64_t kc, int64_t nc, T* dst) {
    for (int64_t jp = 0; jp < nc; jp += NR) {
      const int64_t cols = imin(NR, nc - jp);
      T* d = dst + (jp / NR) * kc * NR;
      const T* s = b + jp * cs;
      if (cs == 1 && cols == NR) {
        for (int64_t p = 0; p < kc; ++p) {
          const T* sp = s + p * rs;
          T* dp = d + p * NR;
          HW_UNROLL
          for (int v = 0; v < NV; ++v) V::store(dp + v * W, V::load(sp + v * W));
        }
        continue;
      }
      if (cols < NR) zero_fill(d, kc * NR);
      if (cs == 1) {
        for (int64_t p = 0; p < kc; ++p) {
          const T* sp = s + p * rs;
          T* dp = d + p * NR;
          for (int64_t j = 0; j < cols; ++j) dp[j] = sp[j];
        }
      } else if (rs == 1) {
        // Transposed B: each column is contiguous along k. Four columns at a time keep four
        // read streams and one write stream open.
        int64_t j = 0;
        for (; j + 4 <= cols; j += 4) {
          const T* s0 = s + j * cs;
          const T* s1 = s0 + cs;
          const T* s2 = s1 + cs;
          const T* s3 = s2 + cs;
          T* dp = d + j;
          for (int64_t p = 0; p < kc; ++p) {
            dp[0] = s0[p];
            dp[1] = s1[p];
            dp[2] = s2[p];
            dp[3] = s3[p];
            dp += NR;
          }
        }
        for (; j < cols; ++j) {
          const T* sj = s + j * cs;
          for (int64_t p = 0; p < kc; ++p) d[p * NR + j] = sj[p];
        }
      } else {
        for (int64_t p = 0; p < kc; ++p) {
          const T* sp = s + p * rs;
          T* dp = d + p * NR;
          for (int64_t j = 0; j < cols; ++j) dp[j] = sp[j * cs];
        }
      }
    }
  }

  // A[0:mc, 0:kc] (strides rs, cs) -> panels of MR rows, each kc x MR (k-major).
  static void pack_a(const T* a, int64_t rs, int64_t cs, int64_t mc, int64_t kc, T* dst) {
    for (int64_t ip = 0; ip < mc; ip += MR) {
      const int64_t rows = imin(MR, mc - ip);
      T* d = dst + (ip / MR) * kc * MR;
      const T* s = a + ip * rs;
      // kc * MR is not always a multiple of W; the buffers have room for the round-up.
      if (rows < MR) zero_fill(d, (kc * MR + W - 1) / W * W);
      if (rs == 1 && cs != 1) {
        // Transposed A: the rows of one k are contiguous.
        if (rows == MR) {
          for (int64_t p = 0; p < kc; ++p) {
            const T* sp = s + p * cs;
            T* dp = d + p * MR;
            HW_UNROLL
            for (int r = 0; r < MR; ++r) dp[r] = sp[r];
          }
        } else {
          for (int64_t p = 0; p < kc; ++p) {
            const T* sp = s + p * cs;
            T* dp = d + p * MR;
            for (int64_t r = 0; r < rows; ++r) dp[r] = sp[r];
          }
        }
      } else if (rows == MR) {
        // One k at a time across all MR rows: MR independent loads, one contiguous run of stores.
        const T* sr[MR];
        HW_UNROLL
        for (int r = 0; r < MR; ++r) sr[r] = s + r * rs;
        if (cs == 1) {
          for (int64_t p = 0; p < kc; ++p) {
            T* dp = d + p * MR;
            HW_UNROLL
            for (int r = 0; r < MR; ++r) dp[r] = sr[r][p];
          }
        } else {
          for (int64_t p = 0; p < kc; ++p) {
            T* dp = d + p * MR;
            HW_UNROLL
            for (int r = 0; r < MR; ++r) dp[r] = sr[r][p * cs];
          }
        }
      } else {
        for (int64_t r = 0; r < rows; ++r) {
          const T* sr = s + r * rs;
          for (int64_t p = 0; p < kc; ++p) d[p * MR + r] = sr[p * cs];
        }
      }
    }
  }

  static Blocks blocks() {
    const Blocks* e = env_blocks();
    Blocks b = e ? *e : Blocks{Cfg<T>::MC, Cfg<T>::KC, Cfg<T>::NC};
    b.mc = imax(MR, (b.mc + MR - 1) / MR * MR);
    b.nc = imax(NR, b.nc / NR * NR);
    return b;
  }

  // k is cut into equal blocks of at most KC (a multiple of 8): no short trailing block, and the
  // cut depends on k alone.
  static int64_t k_block(int64_t k, int64_t kc_max) {
    const int64_t nb = (k + kc_max - 1) / kc_max;
    const int64_t kb = (k + nb - 1) / nb;
    return imin(k, (kb + 7) / 8 * 8);
  }

  // Single-threaded GEMM of C[m0:m1, n0:n1] for one batch entry.
  static void region(const GemmArgs<T>& g, const T* A, const T* B, T* C, int64_t m0, int64_t m1,
                     int64_t n0, int64_t n1, const Blocks& bl) {
    const int64_t k = g.k;
    const int64_t kb = k_block(k, bl.kc);
    const int64_t nc_max = imin(bl.nc, (n1 - n0 + NR - 1) / NR * NR);
    const int64_t mc_max = imin(bl.mc, (m1 - m0 + MR - 1) / MR * MR);
    T* bp = static_cast<T*>(t_pack_b.get(static_cast<std::size_t>(kb * nc_max) * sizeof(T)));
    T* ap = static_cast<T*>(t_pack_a.get(static_cast<std::size_t>(kb * mc_max + W) * sizeof(T)));
    for (int64_t jc = n0; jc < n1; jc += bl.nc) {
      const int64_t nc = imin(bl.nc, n1 - jc);
      for (int64_t pc = 0; pc < k; pc += kb) {
        const int64_t kc = imin(kb, k - pc);
        const bool first = pc == 0;
        const bool last = pc + kc == k;
        pack_b(B + pc * g.b_rs + jc * g.b_cs, g.b_rs, g.b_cs, kc, nc, bp);
        for (int64_t ic = m0; ic < m1; ic += bl.mc) {
          const int64_t mc = imin(bl.mc, m1 - ic);
          pack_a(A + ic * g.a_rs + pc * g.a_cs, g.a_rs, g.a_cs, mc, kc, ap);
          for (int64_t jr = 0; jr < nc; jr += NR) {
            const int64_t nr = imin(NR, nc - jr);
            const T* bpp = bp + (jr / NR) * kc * NR;
            const T* bias = last && g.bias != nullptr ? g.bias + jc + jr : nullptr;
            const bool relu = last && g.relu;
            for (int64_t ir = 0; ir < mc; ir += MR) {
              const int64_t mr = imin(MR, mc - ir);
              T* ct = C + (ic + ir) * g.c_rs + jc + jr;
              const T* app = ap + (ir / MR) * kc * MR;
              if (mr == MR && nr == NR)
                micro(kc, app, bpp, ct, g.c_rs, !first, bias, relu);
              else
                micro_edge(mr, nr, kc, app, bpp, ct, g.c_rs, !first, bias, relu);
            }
          }
        }
      }
    }
  }

  static void fill_no_k(const GemmArgs<T>& g) {
    for (int64_t bi = 0; bi < g.batch; ++bi)
      for (int64_t i = 0; i < g.m; ++i) {
        T* cr = g.c + bi * g.c_bs + i * g.c_rs;
        for (int64_t j = 0; j < g.n; ++j) {
          T v = g.bias != nullptr ? g.bias[j] : T(0);
          if (g.relu) v = T(0) > v ? T(0) : v;
          cr[j] = v;
        }
      }
  }

  static void run(const GemmArgs<T>& g) {
    const int64_t m = g.m, n = g.n, k = g.k;
    if (g.batch <= 0 || m <= 0 || n <= 0) return;
    if (k <= 0) return fill_no_k(g);
    const Blocks bl = blocks();
    const int64_t fma = m * n * k;
    const int64_t threads = get_num_threads();

    // Many small products: one thread per batch entry range, each running the whole GEMM.
    if (g.batch > 1 && (fma < kMinFmaPerThread * threads || g.batch >= 4 * threads)) {
      const int64_t grain = imax(1, kMinFmaPerThread / fma);
      parallel_for(g.batch, grain, [&](int64_t b0, int64_t b1) {
        for (int64_t bi = b0; bi < b1; ++bi)
          region(g, g.a + bi * g.a_bs, g.b + bi * g.b_bs, g.c + bi * g.c_bs, 0, m, 0, n, bl);
      });
      return;
    }

    // Otherwise split each product into a tm x tn grid of rectangles aligned to whole tiles,
    // choosing the grid that minimises the padded tiles of the busiest thread plus its packing.
    const int64_t nth = imax(1, imin(threads, fma / kMinFmaPerThread));
    const int64_t mp = (m + MR - 1) / MR, np = (n + NR - 1) / NR;
    int64_t best_tm = 1;
    double best_cost = -1;
    for (int64_t tm = 1; tm <= nth; ++tm) {
      if (nth % tm != 0) continue;
      const int64_t tn = nth / tm;
      if (tm > mp || tn > np) continue;
      const double rows = double((mp + tm - 1) / tm * MR), cols = double((np + tn - 1) / tn * NR);
      const double cost = rows * cols * double(k) + (rows + cols) * double(k) * 4.0;
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        best_tm = tm;
      }
    }
    if (best_cost < 0) best_tm = mp >= np ? imin(nth, mp) : 1;
    const int64_t tm = best_tm;
    const int64_t tn = imax(1, imin(nth / tm, np));
    for (int64_t bi = 0; bi < g.batch; ++bi) {
      const T* A = g.a + bi * g.a_bs;
      const T* B = g.b + bi * g.b_bs;
      T* C = g.c + bi * g.c_bs;
      parallel_for(tm * tn, 1, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t ti = t / tn, tj = t % tn;
          const int64_t r0 = imin(m, mp * ti / tm * MR), r1 = imin(m, mp * (ti + 1) / tm * MR);
          const int64_t c0 = imin(n, np * tj / tn * NR), c1 = imin(n, np * (tj + 1) / tn * NR);
          if (r0 < r1 && c0 < c1) region(g, A, B, C, r0, r1, c0, c1, bl);
        }
      });
    }
  }
};

// Products at most one vector wide (n <= W) use a one-vector-wide tile with more rows, so
// columns are not wasted on zero padding; everything else uses the main tile. The choice
// depends on n alone, never on the thread count.
template <class T>
void gemm_any(const GemmArgs<T>& g) {
  using Main = Gemm<T, Cfg<T>::MR, Cfg<T>::NV>;
  using Narrow = Gemm<T, Cfg<T>::MR_NARROW, 1>;
  if (g.n <= Vec<T>::W)
    Narrow::run(g);
  else
    Main::run(g);
}

void gemm_f32(const GemmArgs<float>& g) { gemm_any<float>(g); }
void gemm_f64(const GemmArgs<double>& g) { gemm_any<double>(g); }

using MainF32 = Gemm<float, Cfg<float>::MR, Cfg<float>::NV>;
using MainF64 = Gemm<double, Cfg<double>::MR, Cfg<double>::NV>;

}  // namespace

extern const GemmTable kGemmTable;
const GemmTable kGemmTable = {&gemm_f32,          &gemm_f64,      MainF32::MR,
                              MainF32::NR,        MainF64::MR,    MainF64::NR};

}  // namespace HW_ISA_NS
}  // namespace headwater
