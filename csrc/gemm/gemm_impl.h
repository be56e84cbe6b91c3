// Per-ISA GEMM driver and micro-kernel. Included once by each gemm_<isa>.cpp after
// common/simd.h; see simd.h for why everything sits in headwater::HW_ISA_NS.
//
// Loop nest (per batch entry):
//   pack B into column panels of NR = 2 vectors, zero-padded, k-major (B_p[k][0..NR))
//   parallel over row blocks of MR rows:
//     for each KC slice of k:            the B slices of all panels stay in L2
//       for each MC block of rows:       those rows of A stay in L1/L2 across panels
//         for each NR panel:             the KC x NR panel slice stays in L1
//           for each MR rows: micro-kernel, an MR x NR tile of C in registers
// A is read in place through its strides, so transposed or sliced A costs nothing extra.

#include "common/aligned_alloc.h"
#include "common/thread_pool.h"
#include "gemm/gemm.h"

namespace headwater {
namespace HW_ISA_NS {
namespace {

constexpr int64_t MR = 6;
constexpr int64_t KC = 256;
constexpr int64_t MC = 72;
// Below this many multiply-adds per thread a parallel region is not worth waking threads for.
constexpr int64_t kMinFmaPerChunk = int64_t(1) << 18;

class Buffer {
 public:
  explicit Buffer(std::size_t bytes) : p_(aligned_malloc(bytes)) {}
  ~Buffer() { aligned_free(p_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void* get() const { return p_; }

 private:
  void* p_;
};

template <class T>
struct Kernel {
  using V = Vec<T>;
  using reg = typename V::reg;
  static constexpr int64_t W = V::W;
  static constexpr int64_t NR = 2 * W;
  // Columns of packed B visited per pass over a row block: a KC x (panels * NR) slice of about
  // 256 KiB, which stays in L2 while every MC block of this thread's rows streams past it.
  static constexpr int64_t kPanelsPerBlock =
      imax(1, (int64_t(256) << 10) / (KC * NR * static_cast<int64_t>(sizeof(T))));

  // C[0..rows, 0..nvalid) (+)= A[0..rows, 0..kc) * Bp[0..kc, 0..NR).
  template <int ROWS>
  static void micro(int64_t kc, const T* a, int64_t a_rs, int64_t a_cs, const T* bp, T* c,
                    int64_t c_rs, int64_t nvalid, bool accumulate) {
    reg acc0[ROWS], acc1[ROWS];
    for (int r = 0; r < ROWS; ++r) {
      acc0[r] = V::zero();
      acc1[r] = V::zero();
    }
    const T* arow[ROWS];
    for (int r = 0; r < ROWS; ++r) arow[r] = a + r * a_rs;
    for (int64_t p = 0; p < kc; ++p) {
      const reg b0 = V::load(bp + p * NR);
      const reg b1 = V::load(bp + p * NR + W);
      for (int r = 0; r < ROWS; ++r) {
        const reg av = V::set1(arow[r][p * a_cs]);
        acc0[r] = V::fmadd(av, b0, acc0[r]);
        acc1[r] = V::fmadd(av, b1, acc1[r]);
      }
    }
    if (nvalid == NR) {
      for (int r = 0; r < ROWS; ++r) {
        T* cr = c + r * c_rs;
        if (accumulate) {
          acc0[r] = V::add(V::load(cr), acc0[r]);
          acc1[r] = V::add(V::load(cr + W), acc1[r]);
        }
        V::store(cr, acc0[r]);
        V::store(cr + W, acc1[r]);
      }
      return;
    }
    if constexpr (V::kMasked) {
      const int64_t n0 = nvalid < W ? nvalid : W;
      const int64_t n1 = nvalid - n0;
      for (int r = 0; r < ROWS; ++r) {
        T* cr = c + r * c_rs;
        if (accumulate) {
          acc0[r] = V::add(V::load_partial(cr, n0), acc0[r]);
          if (n1 > 0) acc1[r] = V::add(V::load_partial(cr + W, n1), acc1[r]);
        }
        V::store_partial(cr, n0, acc0[r]);
        if (n1 > 0) V::store_partial(cr + W, n1, acc1[r]);
      }
    } else {
      alignas(64) T tile[NR];
      for (int r = 0; r < ROWS; ++r) {
        T* cr = c + r * c_rs;
        V::store(tile, acc0[r]);
        V::store(tile + W, acc1[r]);
        for (int64_t j = 0; j < nvalid; ++j) cr[j] = accumulate ? cr[j] + tile[j] : tile[j];
      }
    }
  }

  static void micro_any(int64_t rows, int64_t kc, const T* a, int64_t a_rs, int64_t a_cs,
                        const T* bp, T* c, int64_t c_rs, int64_t nvalid, bool accumulate) {
    switch (rows) {
      case 6:
        return micro<6>(kc, a, a_rs, a_cs, bp, c, c_rs, nvalid, accumulate);
      case 5:
        return micro<5>(kc, a, a_rs, a_cs, bp, c, c_rs, nvalid, accumulate);
      case 4:
        return micro<4>(kc, a, a_rs, a_cs, bp, c, c_rs, nvalid, accumulate);
      case 3:
        return micro<3>(kc, a, a_rs, a_cs, bp, c, c_rs, nvalid, accumulate);
      case 2:
        return micro<2>(kc, a, a_rs, a_cs, bp, c, c_rs, nvalid, accumulate);
      default:
        return micro<1>(kc, a, a_rs, a_cs, bp, c, c_rs, nvalid, accumulate);
    }
  }

  static void pack_panel(const T* b, int64_t b_rs, int64_t b_cs, int64_t k, int64_t n,
                         int64_t panel, T* dst) {
    const int64_t j0 = panel * NR;
    const int64_t cols = imin(NR, n - j0);
    const T* src = b + j0 * b_cs;
    if (b_cs <= b_rs || b_rs == 0) {
      // Row-major-ish B: walk each row of the panel left to right.
      for (int64_t p = 0; p < k; ++p) {
        T* d = dst + p * NR;
        const T* s = src + p * b_rs;
        int64_t j = 0;
        for (; j < cols; ++j) d[j] = s[j * b_cs];
        for (; j < NR; ++j) d[j] = T(0);
      }
    } else {
      // Column-major-ish B (transpose_b): walk down each column instead.
      for (int64_t j = 0; j < cols; ++j) {
        const T* s = src + j * b_cs;
        for (int64_t p = 0; p < k; ++p) dst[p * NR + j] = s[p * b_rs];
      }
      for (int64_t p = 0; p < k; ++p)
        for (int64_t j = cols; j < NR; ++j) dst[p * NR + j] = T(0);
    }
  }

  static void run(const GemmArgs<T>& g) {
    const int64_t m = g.m, n = g.n, k = g.k;
    if (g.batch <= 0 || m <= 0 || n <= 0) return;
    if (k <= 0) {
      for (int64_t bi = 0; bi < g.batch; ++bi)
        for (int64_t i = 0; i < m; ++i) {
          T* cr = g.c + bi * g.c_bs + i * g.c_rs;
          for (int64_t j = 0; j < n; ++j) cr[j] = T(0);
        }
      return;
    }
    const int64_t npanels = (n + NR - 1) / NR;
    Buffer packed(static_cast<std::size_t>(npanels * NR * k) * sizeof(T));
    T* bp = static_cast<T*>(packed.get());
    const int64_t row_blocks = (m + MR - 1) / MR;
    const int64_t fma_per_block = MR * n * k;
    const int64_t grain = imax(1, kMinFmaPerChunk / imax(1, fma_per_block));
    const int64_t pack_grain = imax(1, (int64_t(1) << 16) / imax(1, NR * k));

    for (int64_t bi = 0; bi < g.batch; ++bi) {
      const T* A = g.a + bi * g.a_bs;
      const T* B = g.b + bi * g.b_bs;
      T* C = g.c + bi * g.c_bs;
      // A batch stride of 0 means the same B for every entry: pack it once.
      if (bi == 0 || g.b_bs != 0) {
        parallel_for(npanels, pack_grain, [&](int64_t p0, int64_t p1) {
          for (int64_t p = p0; p < p1; ++p) pack_panel(B, g.b_rs, g.b_cs, k, n, p, bp + p * k * NR);
        });
      }
      parallel_for(row_blocks, grain, [&](int64_t u0, int64_t u1) {
        const int64_t r0 = u0 * MR, r1 = imin(u1 * MR, m);
        for (int64_t kb = 0; kb < k; kb += KC) {
          const int64_t kc = imin(KC, k - kb);
          for (int64_t pc = 0; pc < npanels; pc += kPanelsPerBlock) {
            const int64_t pe = imin(pc + kPanelsPerBlock, npanels);
            for (int64_t ib = r0; ib < r1; ib += MC) {
              const int64_t ie = imin(ib + MC, r1);
              for (int64_t p = pc; p < pe; ++p) {
                const int64_t nvalid = imin(NR, n - p * NR);
                const T* bpp = bp + p * k * NR + kb * NR;
                for (int64_t i = ib; i < ie; i += MR) {
                  micro_any(imin(MR, ie - i), kc, A + i * g.a_rs + kb * g.a_cs, g.a_rs, g.a_cs,
                            bpp, C + i * g.c_rs + p * NR, g.c_rs, nvalid, kb > 0);
                }
              }
            }
          }
        }
      });
    }
  }
};

void gemm_f32(const GemmArgs<float>& g) { Kernel<float>::run(g); }
void gemm_f64(const GemmArgs<double>& g) { Kernel<double>::run(g); }

}  // namespace

extern const GemmTable kGemmTable;
const GemmTable kGemmTable = {&gemm_f32, &gemm_f64};

}  // namespace HW_ISA_NS
}  // namespace headwater
