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
// sized for L2, KC x NR of B for L1, KC x NC of B for L2/L3. A k of at most K_ONE is done in
// one block instead: C is then written once instead of read back per block, which measured
// 1.5-3.5% faster at 256^3 to 1024^3 with AVX-512 (2 threads, interleaved runs) and the MLP's
// 128x784x256 unchanged to 2% faster; an MC x 4 KB block of A still fits L2. float32 only, the
// only case measured.
template <class T>
struct Cfg;
#if HW_ISA_LEVEL == 2
template <>
struct Cfg<float> {
  static constexpr int MR = 14, NV = 2, MR_NARROW = 24;
  static constexpr int64_t MC = 126, KC = 384, NC = 2048, K_ONE = 1024;
};
template <>
struct Cfg<double> {
  static constexpr int MR = 14, NV = 2, MR_NARROW = 24;
  static constexpr int64_t MC = 126, KC = 256, NC = 1024, K_ONE = 0;  // not measured
};
#elif HW_ISA_LEVEL == 1
template <>
struct Cfg<float> {
  static constexpr int MR = 6, NV = 2, MR_NARROW = 12;
  static constexpr int64_t MC = 120, KC = 256, NC = 2048, K_ONE = 0;
};
template <>
struct Cfg<double> {
  static constexpr int MR = 6, NV = 2, MR_NARROW = 12;
  static constexpr int64_t MC = 96, KC = 256, NC = 1024, K_ONE = 0;
};
#else
template <>
struct Cfg<float> {
  static constexpr int MR = 4, NV = 2, MR_NARROW = 8;
  static constexpr int64_t MC = 64, KC = 256, NC = 1024, K_ONE = 0;
};
template <>
struct Cfg<double> {
  static constexpr int MR = 4, NV = 2, MR_NARROW = 8;
  static constexpr int64_t MC = 64, KC = 256, NC = 1024, K_ONE = 0;
};
#endif

// Multiply-adds below which one more thread is not worth waking.
constexpr int64_t kMinFmaPerThread = int64_t(1) << 16;

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
  int64_t k_one;  // k up to this is one block
};

// Dev-only override "MC,KC,NC" for tuning sweeps; read once.
const Blocks* env_blocks() {
  static Blocks b{0, 0, 0, 0};
  static const bool have = [] {
    const char* s = std::getenv("HEADWATER_GEMM_BLOCKS");
    if (s == nullptr) return false;
    char* e = nullptr;
    b.mc = std::strtol(s, &e, 10);
    if (*e != ',') return false;
    b.kc = std::strtol(e + 1, &e, 10);
    if (*e != ',') return false;
    b.nc = std::strtol(e + 1, &e, 10);
    b.k_one = 0;
    return b.mc > 0 && b.kc > 0 && b.nc > 0;
  }();
  return have ? &b : nullptr;
}

#if HW_ISA_LEVEL >= 1
// Row-major A into k-major panels through register transposes: 8x8 floats or 4x4 doubles per
// step instead of one scalar load and store per element.
template <class T>
struct Transpose;

template <>
struct Transpose<float> {
  static constexpr int B = 8;
  using reg = __m256;
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static reg zero() { return _mm256_setzero_ps(); }
  static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
  static void store_n(float* p, reg v, int n) {
#if HW_ISA_LEVEL >= 2
    _mm256_mask_storeu_ps(p, static_cast<__mmask8>((1u << n) - 1u), v);
#else
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_maskstore_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx), v);
#endif
  }
  static void run(reg r[8]) {
    const reg t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const reg t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const reg t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const reg t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const reg u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    const reg u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    const reg u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    const reg u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    const reg u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    const reg u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const reg u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    const reg u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
  }
};

template <>
struct Transpose<double> {
  static constexpr int B = 4;
  using reg = __m256d;
  static reg load(const double* p) { return _mm256_loadu_pd(p); }
  static reg zero() { return _mm256_setzero_pd(); }
  static void store(double* p, reg v) { _mm256_storeu_pd(p, v); }
  static void store_n(double* p, reg v, int n) {
#if HW_ISA_LEVEL >= 2
    _mm256_mask_storeu_pd(p, static_cast<__mmask8>((1u << n) - 1u), v);
#else
    const __m256i idx = _mm256_setr_epi64x(0, 1, 2, 3);
    _mm256_maskstore_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), idx), v);
#endif
  }
  static void run(reg r[4]) {
    const reg t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    const reg t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
  }
};
#endif

template <class T, int MR_, int NV_>
struct Gemm {
  using V = Vec<T>;
  using reg = typename V::reg;
  static constexpr int W = V::W;
  static constexpr int MR = MR_;
  static constexpr int NV = NV_;
  static constexpr int NR = NV * W;

  // The store phase of micro() for a tile whose last columns fall outside C: the same
  // arithmetic through masked loads and stores, so edge columns round exactly like the rest.
  static void store_masked(reg (&acc)[MR][NV], T* c, int64_t c_rs, bool accumulate,
                           const T* bias, bool relu, int64_t nr) {
    if constexpr (V::kMasked) {
      const reg z = V::zero();
      HW_UNROLL
      for (int v = 0; v < NV; ++v) {
        const int64_t cols = imin(W, nr - v * W);
        if (cols <= 0) break;
        const reg bv = bias != nullptr ? V::load_partial(bias + v * W, cols) : z;
        HW_UNROLL
        for (int r = 0; r < MR; ++r) {
          T* cp = c + r * c_rs + v * W;
          reg x = acc[r][v];
          if (accumulate) x = V::add(V::load_partial(cp, cols), x);
          if (bias != nullptr) x = V::add(x, bv);
          if (relu) x = V::max(z, x);
          V::store_partial(cp, cols, x);
        }
      }
    }
  }

  // acc = A (MR x kc) * B (kc x NR); then the MR x NR tile at c becomes
  // [C +] acc [+ bias] [relu].
  //
  // A is read at ap[r + p * a_st] (a packed panel: a_st = MR; a column-major A in place:
  // a_st = its column stride), or with kRowA at ap[r * a_st + p] (a row-major A in place).
  // B row p is read at bp + p * b_ks (NR for a packed panel, B's row stride in place). The FMAs
  // are the same whichever way the operands are read, so packing never changes a result.
  //
  // nr < NR (only with masked ISAs) touches just the first nr columns of C and bias.
  template <bool kRowA = false>
  static void micro(int64_t kc, const T* __restrict ap, int64_t a_st, const T* __restrict bp,
                    int64_t b_ks, T* __restrict c, int64_t c_rs, bool accumulate, const T* bias,
                    bool relu, int64_t nr = NR) {
    reg acc[MR][NV];
    HW_UNROLL
    for (int r = 0; r < MR; ++r) {
      HW_UNROLL
      for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
    }
#if HW_ISA_LEVEL >= 1
    // A tile that accumulates reads C back after the k loop; on large products its rows sit a
    // long stride apart and have left L1 and L2 since the previous k block. Fetching them now
    // hides that miss behind the loop (2048^3: 84% -> 89% of peak).
    if (accumulate) {
      HW_UNROLL
      for (int r = 0; r < MR; ++r) {
        HW_UNROLL
        for (int j = 0; j < NR; j += 64 / int(sizeof(T)))
          if (j < nr) _mm_prefetch(reinterpret_cast<const char*>(c + r * c_rs + j), _MM_HINT_T0);
      }
    }
#endif
    for (int64_t p = 0; p < kc; ++p) {
      reg b[NV];
      HW_UNROLL
      for (int v = 0; v < NV; ++v) b[v] = V::load(bp + v * W);
      HW_UNROLL
      for (int r = 0; r < MR; ++r) {
        const reg a = V::set1(kRowA ? ap[r * a_st] : ap[r]);
        HW_UNROLL
        for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(a, b[v], acc[r][v]);
      }
      ap += kRowA ? 1 : a_st;
      bp += b_ks;
    }
    if constexpr (V::kMasked) {
      if (nr < NR) return store_masked(acc, c, c_rs, accumulate, bias, relu, nr);
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
  template <bool kRowA = false>
  static void micro_edge(int64_t mr, int64_t nr, int64_t kc, const T* ap, int64_t a_st,
                         const T* bp, int64_t b_ks, T* c, int64_t c_rs, bool accumulate,
                         const T* bias, bool relu) {
    alignas(64) T tile[MR * NR];
    micro<kRowA>(kc, ap, a_st, bp, b_ks, tile, NR, false, nullptr, false);
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
    int64_t jp0 = 0;
    if (cs == 1 && nc >= NR) {
      // Row-major B, whole panels: a few rows at a time across all panels, so each source row
      // is read front to back (panel by panel down the rows would jump a whole row of B per
      // access, which the prefetchers cannot follow across pages: on a 3136 x 1024 B that
      // made packing cost as much as multiplying 50 rows).
      constexpr int64_t kRows = 8;
      const int64_t full = nc / NR;
      for (int64_t p0 = 0; p0 < kc; p0 += kRows) {
        const int64_t p1 = imin(kc, p0 + kRows);
        for (int64_t jn = 0; jn < full; ++jn) {
          const T* s = b + jn * NR;
          T* d = dst + jn * kc * NR;
          for (int64_t p = p0; p < p1; ++p) {
            const T* sp = s + p * rs;
            T* dp = d + p * NR;
            HW_UNROLL
            for (int v = 0; v < NV; ++v) V::store(dp + v * W, V::load(sp + v * W));
          }
        }
      }
      jp0 = full * NR;
    }
    for (int64_t jp = jp0; jp < nc; jp += NR) {
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
      } else if (rs == 1 && kHaveTranspose && cols == NR) {
        pack_b_transposed(s, cs, kc, d);
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

#if HW_ISA_LEVEL >= 1
  static constexpr bool kHaveTranspose = true;
  // One MR-row panel from row-major rows (unit column stride); rows >= `rows` become zeros.
  static void pack_a_transposed(const T* s, int64_t rs, int64_t kc, int64_t rows, T* d) {
    using X = Transpose<T>;
    constexpr int B = X::B;
    int64_t p = 0;
    if (rows == MR) {
      for (; p + B <= kc; p += B) {
        HW_UNROLL
        for (int r0 = 0; r0 < MR; r0 += B) {
          constexpr int kFull = B;
          const int nr = MR - r0 < B ? MR - r0 : kFull;
          typename X::reg v[B];
          HW_UNROLL
          for (int i = 0; i < B; ++i)
            v[i] = r0 + i < MR ? X::load(s + (r0 + i) * rs + p) : X::zero();
          X::run(v);
          T* dp = d + p * MR + r0;
          HW_UNROLL
          for (int j = 0; j < B; ++j) {
            if (nr == B)
              X::store(dp + j * MR, v[j]);
            else
              X::store_n(dp + j * MR, v[j], nr);
          }
        }
      }
    } else {
      for (; p + B <= kc; p += B) {
        for (int r0 = 0; r0 < MR; r0 += B) {
          const int nr = MR - r0 < B ? MR - r0 : B;
          typename X::reg v[B];
          HW_UNROLL
          for (int i = 0; i < B; ++i)
            v[i] = r0 + i < rows ? X::load(s + (r0 + i) * rs + p) : X::zero();
          X::run(v);
          T* dp = d + p * MR + r0;
          HW_UNROLL
          for (int j = 0; j < B; ++j) X::store_n(dp + j * MR, v[j], nr);
        }
      }
    }
    for (; p < kc; ++p)
      for (int r = 0; r < MR; ++r) d[p * MR + r] = r < rows ? s[r * rs + p] : T(0);
  }
  // One full NR-column panel of B from columns that are contiguous along k (B^T row-major).
  static void pack_b_transposed(const T* s, int64_t cs, int64_t kc, T* d) {
    using X = Transpose<T>;
    constexpr int B = X::B;
    static_assert(NR % B == 0, "panel width must be a multiple of the transpose block");
    // B source columns at a time, each read front to back along k: B read streams the
    // prefetchers can follow (all NR columns at once would be too many streams, and on a
    // big B every access became a cache miss). The writes land in the packed panel, in cache.
    const int64_t kfull = kc / B * B;
    for (int j0 = 0; j0 < NR; j0 += B) {
      for (int64_t p = 0; p < kfull; p += B) {
        typename X::reg v[B];
        HW_UNROLL
        for (int i = 0; i < B; ++i) v[i] = X::load(s + (j0 + i) * cs + p);
        X::run(v);
        HW_UNROLL
        for (int i = 0; i < B; ++i) X::store(d + (p + i) * NR + j0, v[i]);
      }
    }
    for (int64_t p = kfull; p < kc; ++p)
      for (int j = 0; j < NR; ++j) d[p * NR + j] = s[j * cs + p];
  }
#else
  static constexpr bool kHaveTranspose = false;
  static void pack_a_transposed(const T*, int64_t, int64_t, int64_t, T*) {}
  static void pack_b_transposed(const T*, int64_t, int64_t, T*) {}
#endif

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
          constexpr int kVec = MR / W * W;
          for (int64_t p = 0; p < kc; ++p) {
            const T* sp = s + p * cs;
            T* dp = d + p * MR;
            HW_UNROLL
            for (int r = 0; r < kVec; r += W) V::store(dp + r, V::load(sp + r));
            if constexpr (kVec < MR) {
              if constexpr (V::kMasked) {
                V::store_partial(dp + kVec, MR - kVec, V::load_partial(sp + kVec, MR - kVec));
              } else {
                HW_UNROLL
                for (int r = kVec; r < MR; ++r) dp[r] = sp[r];
              }
            }
          }
        } else {
          for (int64_t p = 0; p < kc; ++p) {
            const T* sp = s + p * cs;
            T* dp = d + p * MR;
            for (int64_t r = 0; r < rows; ++r) dp[r] = sp[r];
          }
        }
      } else if (kHaveTranspose && cs == 1 && kc >= 8) {
        pack_a_transposed(s, rs, kc, rows, d);
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
    Blocks b = e ? *e : Blocks{Cfg<T>::MC, Cfg<T>::KC, Cfg<T>::NC, Cfg<T>::K_ONE};
    b.mc = imax(MR, (b.mc + MR - 1) / MR * MR);
    b.nc = imax(NR, b.nc / NR * NR);
    return b;
  }

  // k is cut into equal blocks of at most KC (a multiple of 8): no short trailing block, and the
  // cut depends on k alone.
  static int64_t k_block(int64_t k, const Blocks& bl) {
    if (k <= bl.k_one) return k;
    const int64_t kc_max = bl.kc;
    const int64_t nb = (k + kc_max - 1) / kc_max;
    const int64_t kb = (k + nb - 1) / nb;
    return imin(k, (kb + 7) / 8 * 8);
  }

  // How region() reads the operands: A packed, or in place when its rows (kRowA) or columns
  // (kColA) are contiguous; B packed, or in place when its rows are contiguous. In place skips
  // the packing pass, which on products of a few hundred rows costs as much as 5-10% of the
  // multiply; the micro-kernel runs as fast on in-place operands that sit in L2. Only whole
  // MR x NR tiles read in place: the last partial panels are always packed, so nothing outside
  // the operands is ever read.
  enum AMode { kPackA, kColA, kRowA };
  struct Plan {
    AMode a = kPackA;
    bool b_direct = false;
  };

  // A in place up to 4 MB: measured as fast as packing at 1024^3 and 2048^3, faster below. B in
  // place only up to 1 MB (about L2): a kc x NR panel read down B's rows touches one pair of
  // cache lines per row, and with long rows those fall into a few sets of L1 and L2 (2048^3:
  // 25% slower in place). The choice depends on the shape and strides alone.
  static Plan plan(const GemmArgs<T>& g) {
    Plan pl;
    const int mode = gemm_operand_mode();
    if (mode == 0) return pl;
    const bool any = mode == 1;
    const int64_t kLimitA = (int64_t(4) << 20) / int64_t(sizeof(T));
    const int64_t kLimitB = (int64_t(1) << 20) / int64_t(sizeof(T));
    // Nor when the stride between the rows (or k steps) read together is a multiple of 4 KB:
    // those all fall into one set of L1 and evict each other (float64 512^3 with A in place:
    // 22% slower than packed).
    auto aliased = [](int64_t stride) {
      return (stride < 0 ? -stride : stride) * int64_t(sizeof(T)) % 4096 == 0;
    };
    if (any || g.m * g.k <= kLimitA) {
      if (g.a_cs == 1 && (any || !aliased(g.a_rs)))
        pl.a = kRowA;
      else if (g.a_rs == 1 && (any || !aliased(g.a_cs)))
        pl.a = kColA;
    }
    pl.b_direct = g.b_cs == 1 && (any || (g.k * g.n <= kLimitB && !aliased(g.b_rs)));
    return pl;
  }

  // Single-threaded GEMM of C[m0:m1, n0:n1] for one batch entry.
  static void region(const GemmArgs<T>& g, const T* A, const T* B, T* C, int64_t m0, int64_t m1,
                     int64_t n0, int64_t n1, const Blocks& bl, const Plan& pl) {
    const int64_t k = g.k;
    const int64_t kb = k_block(k, bl);
    const int64_t nc_max = imin(bl.nc, (n1 - n0 + NR - 1) / NR * NR);
    const int64_t mc_max = imin(bl.mc, (m1 - m0 + MR - 1) / MR * MR);
    T* bp = static_cast<T*>(
        t_pack_b.get(static_cast<std::size_t>(kb * (pl.b_direct ? NR : nc_max)) * sizeof(T)));
    T* ap = static_cast<T*>(t_pack_a.get(
        static_cast<std::size_t>(kb * (pl.a != kPackA ? MR : mc_max) + W) * sizeof(T)));
    for (int64_t jc = n0; jc < n1; jc += bl.nc) {
      const int64_t nc = imin(bl.nc, n1 - jc);
      // Columns [0, nc_in) of this block are read in place, the rest from bp.
      const int64_t nc_in = pl.b_direct ? nc / NR * NR : 0;
      for (int64_t pc = 0; pc < k; pc += kb) {
        const int64_t kc = imin(kb, k - pc);
        const bool first = pc == 0 && !g.accumulate;
        const bool last = pc + kc == k;
        const T* bsrc = B + pc * g.b_rs + jc * g.b_cs;
        if (nc_in < nc) pack_b(bsrc + nc_in * g.b_cs, g.b_rs, g.b_cs, kc, nc - nc_in, bp);
        for (int64_t ic = m0; ic < m1; ic += bl.mc) {
          const int64_t mc = imin(bl.mc, m1 - ic);
          const int64_t mc_in = pl.a != kPackA ? mc / MR * MR : 0;
          const T* asrc = A + ic * g.a_rs + pc * g.a_cs;
          if (mc_in < mc) pack_a(asrc + mc_in * g.a_rs, g.a_rs, g.a_cs, mc - mc_in, kc, ap);
          for (int64_t jr = 0; jr < nc; jr += NR) {
            const int64_t nr = imin(NR, nc - jr);
            const bool b_in = jr < nc_in;
            const T* bpp = b_in ? bsrc + jr : bp + ((jr - nc_in) / NR) * kc * NR;
            const int64_t b_ks = b_in ? g.b_rs : NR;
            const T* bias = last && g.bias != nullptr ? g.bias + jc + jr : nullptr;
            const bool relu = last && g.relu;
            for (int64_t ir = 0; ir < mc; ir += MR) {
              const int64_t mr = imin(MR, mc - ir);
              T* ct = C + (ic + ir) * g.c_rs + jc + jr;
              const bool full = mr == MR && (nr == NR || V::kMasked);
              if (ir < mc_in && pl.a == kRowA) {
                const T* app = asrc + ir * g.a_rs;
                if (full)
                  micro<true>(kc, app, g.a_rs, bpp, b_ks, ct, g.c_rs, !first, bias, relu, nr);
                else
                  micro_edge<true>(mr, nr, kc, app, g.a_rs, bpp, b_ks, ct, g.c_rs, !first, bias,
                                   relu);
                continue;
              }
              const bool a_in = ir < mc_in;
              const T* app = a_in ? asrc + ir * g.a_rs : ap + ((ir - mc_in) / MR) * kc * MR;
              const int64_t a_st = a_in ? g.a_cs : MR;
              if (full)
                micro(kc, app, a_st, bpp, b_ks, ct, g.c_rs, !first, bias, relu, nr);
              else
                micro_edge(mr, nr, kc, app, a_st, bpp, b_ks, ct, g.c_rs, !first, bias, relu);
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
          T v = g.accumulate ? cr[j] : T(0);
          if (g.bias != nullptr) v = v + g.bias[j];
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
    const Plan pl = plan(g);
    const int64_t fma = m * n * k;
    const int64_t threads = get_num_threads();

    // Many small products: one thread per batch entry range, each running the whole GEMM.
    if (g.batch > 1 && (fma < kMinFmaPerThread * threads || g.batch >= 4 * threads)) {
      const int64_t grain = imax(1, kMinFmaPerThread / fma);
      parallel_for(g.batch, grain, [&](int64_t b0, int64_t b1) {
        for (int64_t bi = b0; bi < b1; ++bi)
          region(g, g.a + bi * g.a_bs, g.b + bi * g.b_bs, g.c + bi * g.c_bs, 0, m, 0, n, bl, pl);
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
          if (r0 < r1 && c0 < c1) region(g, A, B, C, r0, r1, c0, c1, bl, pl);
        }
      });
    }
  }
};

// Horizontal sum of one vector, in a fixed order.
template <class T>
inline T hsum(typename Vec<T>::reg v) {
#if HW_ISA_LEVEL == 2
  if constexpr (sizeof(T) == 4)
    return _mm512_reduce_add_ps(v);
  else
    return _mm512_reduce_add_pd(v);
#else
  alignas(64) T t[Vec<T>::W];
  Vec<T>::store(t, v);
  T s = T(0);
  for (int i = 0; i < Vec<T>::W; ++i) s += t[i];
  return s;
#endif
}

// Narrow products (n <= W) with row-major A: each C element is a dot product of a row of A
// with a row of B^T, vectorised along k. Unlike the broadcast kernel no lanes are wasted on
// zero-padded columns and A is read in place, unpacked.
template <class T>
struct Dot {
  using V = Vec<T>;
  using reg = typename V::reg;
  static constexpr int W = V::W;
  static constexpr int R = 3;  // rows of A per tile: R x 8 accumulators + R rows + 1 column

  // C[0:RR, 0:CC] = A[0:RR, :] . Bt[0:CC, :]^T (+ bias, relu).
  template <int RR, int CC>
  static void tile(int64_t k, const T* a, int64_t a_rs, const T* bt, int64_t ldb, T* c,
                   int64_t c_rs, const T* bias, bool relu, bool accumulate) {
    reg acc[RR][CC];
    HW_UNROLL
    for (int r = 0; r < RR; ++r) {
      HW_UNROLL
      for (int j = 0; j < CC; ++j) acc[r][j] = V::zero();
    }
    int64_t p = 0;
    for (; p + W <= k; p += W) {
      reg av[RR];
      HW_UNROLL
      for (int r = 0; r < RR; ++r) av[r] = V::load(a + r * a_rs + p);
      HW_UNROLL
      for (int j = 0; j < CC; ++j) {
        const reg bv = V::load(bt + j * ldb + p);
        HW_UNROLL
        for (int r = 0; r < RR; ++r) acc[r][j] = V::fmadd(av[r], bv, acc[r][j]);
      }
    }
    // Packed B^T rows are zero-padded to a multiple of W, so its tail loads are in bounds.
    if constexpr (V::kMasked) {
      if (p < k) {
        reg av[RR];
        HW_UNROLL
        for (int r = 0; r < RR; ++r) av[r] = V::load_partial(a + r * a_rs + p, k - p);
        HW_UNROLL
        for (int j = 0; j < CC; ++j) {
          const reg bv = V::load(bt + j * ldb + p);
          HW_UNROLL
          for (int r = 0; r < RR; ++r) acc[r][j] = V::fmadd(av[r], bv, acc[r][j]);
        }
        p = k;
      }
    }
    HW_UNROLL
    for (int r = 0; r < RR; ++r) {
      HW_UNROLL
      for (int j = 0; j < CC; ++j) {
        T v = hsum<T>(acc[r][j]);
        for (int64_t q = p; q < k; ++q) v += a[r * a_rs + q] * bt[j * ldb + q];
        if (accumulate) v = c[r * c_rs + j] + v;
        if (bias != nullptr) v = v + bias[j];
        if (relu) v = T(0) > v ? T(0) : v;
        c[r * c_rs + j] = v;
      }
    }
  }

  template <int RR, int CC>
  static void chunk(int64_t k, const T* a, int64_t a_rs, const T* bt, int64_t ldb, T* c,
                    int64_t c_rs, const T* bias, bool relu, bool accumulate) {
    tile<RR, CC>(k, a, a_rs, bt, ldb, c, c_rs, bias, relu, accumulate);
  }

  // Columns in near-equal chunks of at most 8 (n = 10 -> 5 + 5, not 8 + 2: a 2-column tile
  // is bound by its loads, not its FMAs). The split depends on n alone.
  template <int RR>
  static void row_tile(int64_t k, int64_t n, const T* a, int64_t a_rs, const T* bt, int64_t ldb,
                       T* c, int64_t c_rs, const T* bias, bool relu, bool acc) {
    const int64_t nchunks = (n + 7) / 8;
    for (int64_t q = 0; q < nchunks; ++q) {
      const int64_t j0 = n * q / nchunks, j1 = n * (q + 1) / nchunks;
      const T* bj = bias != nullptr ? bias + j0 : nullptr;
      const T* b = bt + j0 * ldb;
      T* cj = c + j0;
      switch (j1 - j0) {
        case 8: chunk<RR, 8>(k, a, a_rs, b, ldb, cj, c_rs, bj, relu, acc); break;
        case 7: chunk<RR, 7>(k, a, a_rs, b, ldb, cj, c_rs, bj, relu, acc); break;
        case 6: chunk<RR, 6>(k, a, a_rs, b, ldb, cj, c_rs, bj, relu, acc); break;
        case 5: chunk<RR, 5>(k, a, a_rs, b, ldb, cj, c_rs, bj, relu, acc); break;
        case 4: chunk<RR, 4>(k, a, a_rs, b, ldb, cj, c_rs, bj, relu, acc); break;
        case 3: chunk<RR, 3>(k, a, a_rs, b, ldb, cj, c_rs, bj, relu, acc); break;
        case 2: chunk<RR, 2>(k, a, a_rs, b, ldb, cj, c_rs, bj, relu, acc); break;
        default: chunk<RR, 1>(k, a, a_rs, b, ldb, cj, c_rs, bj, relu, acc); break;
      }
    }
  }

  static void rows(const GemmArgs<T>& g, const T* A, const T* bt, int64_t ldb, T* C, int64_t r0,
                   int64_t r1) {
    int64_t i = r0;
    for (; i + R <= r1; i += R)
      row_tile<R>(g.k, g.n, A + i * g.a_rs, g.a_rs, bt, ldb, C + i * g.c_rs, g.c_rs, g.bias, g.relu,
                     g.accumulate);
    if (r1 - i == 2)
      row_tile<2>(g.k, g.n, A + i * g.a_rs, g.a_rs, bt, ldb, C + i * g.c_rs, g.c_rs, g.bias, g.relu,
                     g.accumulate);
    else if (r1 - i == 1)
      row_tile<1>(g.k, g.n, A + i * g.a_rs, g.a_rs, bt, ldb, C + i * g.c_rs, g.c_rs, g.bias, g.relu,
                     g.accumulate);
  }

  // B^T packed as n rows of k, each padded with zeros to a multiple of W.
  static void pack_bt(const T* B, int64_t b_rs, int64_t b_cs, int64_t k, int64_t n, int64_t ldb,
                      T* bt) {
    for (int64_t j = 0; j < n; ++j) {
      T* d = bt + j * ldb;
      const T* s = B + j * b_cs;
      for (int64_t p = 0; p < k; ++p) d[p] = s[p * b_rs];
      for (int64_t p = k; p < ldb; ++p) d[p] = T(0);
    }
  }

  static void run(const GemmArgs<T>& g) {
    const int64_t m = g.m, n = g.n, k = g.k;
    const int64_t ldb = (k + W - 1) / W * W;
    const int64_t threads = get_num_threads();
    const int64_t fma = m * n * k;
    auto one = [&](int64_t bi, int64_t r0, int64_t r1) {
      T* bt = static_cast<T*>(t_pack_b.get(static_cast<std::size_t>(n * ldb) * sizeof(T)));
      pack_bt(g.b + bi * g.b_bs, g.b_rs, g.b_cs, k, n, ldb, bt);
      rows(g, g.a + bi * g.a_bs, bt, ldb, g.c + bi * g.c_bs, r0, r1);
    };
    if (g.batch > 1 && (fma < kMinFmaPerThread * threads || g.batch >= 4 * threads)) {
      parallel_for(g.batch, imax(1, kMinFmaPerThread / fma), [&](int64_t b0, int64_t b1) {
        for (int64_t bi = b0; bi < b1; ++bi) one(bi, 0, m);
      });
      return;
    }
    // Rows are split at multiples of R; every element sees the same tile shape and k order
    // whatever the split, except that a split can change which rows fall in a 1- or 2-row
    // remainder tile, which computes each element exactly as the R-row tile does.
    const int64_t nth = imax(1, imin(threads, fma / kMinFmaPerThread));
    const int64_t units = (m + R - 1) / R;
    for (int64_t bi = 0; bi < g.batch; ++bi) {
      parallel_for(units, imax(1, units / nth), [&](int64_t u0, int64_t u1) {
        one(bi, u0 * R, imin(m, u1 * R));
      });
    }
  }
};

// Alternative main tiles per ISA and dtype, tried after Cfg's. With AVX-512 float32 an 8 x 32
// or 4 x 64 tile keeps the FMA ports as busy as 14 x 32 does, and fits the row counts of typical
// batches (128, 100, 50) without computing padded rows: 14 x 32 wastes 9% of a 128-row product.
template <class T>
struct AltTiles {
  static constexpr int count = 0;
};
#if HW_ISA_LEVEL == 2
template <>
struct AltTiles<float> {
  static constexpr int count = 2;
};
#endif

template <class T, int I>
struct AltTile;  // (MR, NV) of alternative I
template <class T>
struct AltTile<T, 0> {
  static constexpr int MR = 8, NV = 2;
};
template <class T>
struct AltTile<T, 1> {
  static constexpr int MR = 4, NV = 4;
};

inline int64_t padded(int64_t x, int64_t t) { return (x + t - 1) / t * t; }

// Index of the tile with the least padded area of C (earlier tiles win ties): depends on the
// shape alone, never on the thread count.
template <class T>
int pick_tile(int64_t m, int64_t n) {
  constexpr int W = Vec<T>::W;
  int64_t cand_mr[kMaxGemmTiles] = {Cfg<T>::MR, AltTile<T, 0>::MR, AltTile<T, 1>::MR};
  int64_t cand_nr[kMaxGemmTiles] = {Cfg<T>::NV * W, AltTile<T, 0>::NV * W,
                                    AltTile<T, 1>::NV * W};
  const int count = 1 + AltTiles<T>::count;
  const int forced = gemm_forced_tile();
  if (forced >= 0) return forced < count ? forced : count - 1;
  int best = 0;
  int64_t best_area = padded(m, cand_mr[0]) * padded(n, cand_nr[0]);
  for (int i = 1; i < count; ++i) {
    const int64_t area = padded(m, cand_mr[i]) * padded(n, cand_nr[i]);
    if (area < best_area) {
      best_area = area;
      best = i;
    }
  }
  return best;
}

// Products at most one vector wide (n <= W) use a one-vector-wide tile with more rows, so
// columns are not wasted on zero padding; everything else uses the main tile that pads C least.
// The choice depends on the shape alone, never on the thread count.
template <class T>
void gemm_any(const GemmArgs<T>& g) {
  using Main = Gemm<T, Cfg<T>::MR, Cfg<T>::NV>;
  using Narrow = Gemm<T, Cfg<T>::MR_NARROW, 1>;
  if (g.n <= Vec<T>::W && g.a_cs == 1 && g.k >= Vec<T>::W && g.m > 0 && g.n > 0) {
    Dot<T>::run(g);
    return;
  }
  if (g.n <= Vec<T>::W) {
    Narrow::run(g);
    return;
  }
  if constexpr (AltTiles<T>::count >= 2) {
    switch (pick_tile<T>(g.m, g.n)) {
      case 1:
        return Gemm<T, AltTile<T, 0>::MR, AltTile<T, 0>::NV>::run(g);
      case 2:
        return Gemm<T, AltTile<T, 1>::MR, AltTile<T, 1>::NV>::run(g);
      default:
        break;
    }
  }
  Main::run(g);
}

void gemm_f32(const GemmArgs<float>& g) { gemm_any<float>(g); }
void gemm_f64(const GemmArgs<double>& g) { gemm_any<double>(g); }

template <class T>
constexpr int tile_count() {
  return 1 + AltTiles<T>::count;
}
template <class T>
constexpr int tile_mr(int i) {
  return i == 0 ? Cfg<T>::MR : i == 1 ? AltTile<T, 0>::MR : AltTile<T, 1>::MR;
}
template <class T>
constexpr int tile_nr(int i) {
  return (i == 0 ? Cfg<T>::NV : i == 1 ? AltTile<T, 0>::NV : AltTile<T, 1>::NV) * Vec<T>::W;
}

}  // namespace

extern const GemmTable kGemmTable;
const GemmTable kGemmTable = {
    &gemm_f32,
    &gemm_f64,
    tile_count<float>(),
    {tile_mr<float>(0), tile_mr<float>(1), tile_mr<float>(2)},
    {tile_nr<float>(0), tile_nr<float>(1), tile_nr<float>(2)},
    tile_count<double>(),
    {tile_mr<double>(0), tile_mr<double>(1), tile_mr<double>(2)},
    {tile_nr<double>(0), tile_nr<double>(1), tile_nr<double>(2)}};

}  // namespace HW_ISA_NS
}  // namespace headwater
