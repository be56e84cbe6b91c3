// Per-ISA pooling loops. Included once by each pool_<isa>.cpp after common/simd.h and
// conv/lanes.h. Every loop runs over channel blocks of W lanes (channels are contiguous in
// NHWC) with the block's running value in a register, and a masked or buffered tail block.

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "conv/pool_kernels.h"

namespace headwater {
namespace HW_ISA_NS {
namespace {

// Valid window rows/cols [lo, hi) of output position o.
inline void window(int64_t o, int64_t s, int64_t pad, int64_t k, int64_t size, int64_t* lo,
                   int64_t* hi) {
  const int64_t start = o * s - pad;
  *lo = start < 0 ? 0 : start;
  *hi = start + k > size ? size : start + k;
}

template <class T, bool Tail>
struct Io {
  using L = Lanes<T>;
  using reg = typename L::reg;
  static constexpr bool kTail = Tail;
  int64_t n;  // lanes in use (tail only)
  reg ld(const T* p) const { return Tail ? L::loadn(p, n) : L::load(p); }
  void st(T* p, reg a) const {
    if (Tail)
      L::storen(p, n, a);
    else
      L::store(p, a);
  }
};

// Store for outputs written once and not read back soon (a large pooling gradient): with
// Stream, a full 64-byte-aligned vector goes out as a non-temporal store, which skips reading
// the line into the cache first (for pool 1 of Deep-MNIST, 10 MB less memory traffic). The
// caller fences (sfence) before its results are handed to another thread.
template <class T, bool Tail, bool Stream>
inline void st_out(const Io<T, Tail>& io, T* p, typename Lanes<T>::reg a) {
#if HW_ISA_LEVEL >= 1
  constexpr uintptr_t kAlign = HW_ISA_LEVEL == 2 ? 64 : 32;
  if (Stream && !Tail && (reinterpret_cast<uintptr_t>(p) & (kAlign - 1)) == 0) {
#if HW_ISA_LEVEL == 2
    if constexpr (sizeof(T) == 4)
      _mm512_stream_ps(p, a);
    else
      _mm512_stream_pd(p, a);
#else
    if constexpr (sizeof(T) == 4)
      _mm256_stream_ps(p, a);
    else
      _mm256_stream_pd(p, a);
#endif
    return;
  }
#endif
  io.st(p, a);
}

// Window-slot indices (0 .. 255) of one channel block as bytes: the argmax workspace that lets
// the backward pass skip re-reading (and re-comparing) the pooled input. In registers they are
// T values, so the Lanes compares and blends apply.
template <class T, bool Tail>
inline void store_idx(const Io<T, Tail>& io, uint8_t* dst, typename Lanes<T>::reg idx) {
#if HW_ISA_LEVEL == 2
  if constexpr (sizeof(T) == 4) {
    const __m128i b = _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(idx));
    if (Tail)
      _mm_mask_storeu_epi8(dst, static_cast<__mmask16>((1u << io.n) - 1u), b);
    else
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), b);
  } else {
    const __m128i b = _mm256_cvtepi32_epi8(_mm512_cvttpd_epi32(idx));
    _mm_mask_storeu_epi8(dst, static_cast<__mmask16>((1u << (Tail ? io.n : 8)) - 1u), b);
  }
#elif HW_ISA_LEVEL == 1
  __m128i w;
  if constexpr (sizeof(T) == 4) {
    const __m256i i = _mm256_cvttps_epi32(idx);
    w = _mm_packs_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
  } else {
    w = _mm_packs_epi32(_mm256_cvttpd_epi32(idx), _mm_setzero_si128());
  }
  alignas(16) uint8_t tmp[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(tmp), _mm_packus_epi16(w, w));
  std::memcpy(dst, tmp, static_cast<std::size_t>(Tail ? io.n : Lanes<T>::W));
#else
  for (int i = 0; i < Lanes<T>::W && (!Tail || i < io.n); ++i)
    dst[i] = static_cast<uint8_t>(idx.v[i]);
#endif
}

template <class T, bool Tail>
inline typename Lanes<T>::reg load_idx(const Io<T, Tail>& io, const uint8_t* src) {
#if HW_ISA_LEVEL == 2
  if constexpr (sizeof(T) == 4) {
    const __m128i b = Tail ? _mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << io.n) - 1u), src)
                           : _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b));
  } else {
    const __m128i b =
        _mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << (Tail ? io.n : 8)) - 1u), src);
    return _mm512_cvtepi32_pd(_mm256_cvtepu8_epi32(b));
  }
#elif HW_ISA_LEVEL == 1
  int64_t bits = 0;
  std::memcpy(&bits, src, static_cast<std::size_t>(Tail ? io.n : Lanes<T>::W));
  const __m128i b = _mm_cvtsi64_si128(bits);
  if constexpr (sizeof(T) == 4)
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
  else
    return _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(b));
#else
  typename Lanes<T>::reg r;
  for (int i = 0; i < Lanes<T>::W; ++i)
    r.v[i] = !Tail || i < io.n ? static_cast<T>(src[i]) : T(0);
  return r;
#endif
}

// First maximum of a rows x cols window (row-major), one channel block: a NaN wins and stays.
template <class T, bool Tail>
inline typename Lanes<T>::reg window_max(const Io<T, Tail>& io, const T* p, int64_t rows,
                                         int64_t cols, int64_t rs, int64_t cs) {
  using L = Lanes<T>;
  typename L::reg m = io.ld(p);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = i == 0 ? 1 : 0; j < cols; ++j) {
      const typename L::reg v = io.ld(p + i * rs + j * cs);
      m = L::blend(L::take_max(v, m), m, v);
    }
  return m;
}

template <class T, bool Tail>
inline void max_fwd_block(const Io<T, Tail>& io, const T* p, int64_t rows, int64_t cols,
                          int64_t rs, int64_t cs, T* out) {
  io.st(out, window_max(io, p, rows, cols, rs, cs));
}

template <class T, bool Tail, bool Acc>
inline void max_bwd_block(const Io<T, Tail>& io, const T* p, int64_t rows, int64_t cols,
                          int64_t rs, int64_t cs, const T* gy, T* d) {
  using L = Lanes<T>;
  using reg = typename L::reg;
  if (rows == 2 && cols == 2) {
    // The common 2x2 window, unrolled. The winner is the last value that replaced the running
    // maximum (take_max is strict, so ties keep the earlier value, and a NaN, once in, stays):
    // three compares give it, with no second pass of equality tests against the maximum.
    const reg v0 = io.ld(p), v1 = io.ld(p + cs), v2 = io.ld(p + rs), v3 = io.ld(p + rs + cs);
    const typename L::msk k1 = L::take_max(v1, v0);
    reg m = L::blend(k1, v0, v1);
    const typename L::msk k2 = L::take_max(v2, m);
    m = L::blend(k2, m, v2);
    const typename L::msk k3 = L::take_max(v3, m);
    const reg gv = io.ld(gy);
    const typename L::msk late = L::or_(k2, k3);
    const reg a3 = L::keep(k3, gv);
    const reg a2 = L::keep(L::andnot(k3, k2), gv);
    const reg a1 = L::keep(L::andnot(late, k1), gv);
    const reg a0 = L::blend(L::or_(late, k1), gv, L::zero());
    io.st(d, Acc ? L::add(io.ld(d), a0) : a0);
    io.st(d + cs, Acc ? L::add(io.ld(d + cs), a1) : a1);
    io.st(d + rs, Acc ? L::add(io.ld(d + rs), a2) : a2);
    io.st(d + rs + cs, Acc ? L::add(io.ld(d + rs + cs), a3) : a3);
    return;
  }
  const typename L::reg m = window_max(io, p, rows, cols, rs, cs);
  const typename L::reg gv = io.ld(gy);
  typename L::msk found = L::none();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t off = i * rs + j * cs;
      const typename L::msk k = L::andnot(found, L::hit(io.ld(p + off), m));
      found = L::or_(found, k);
      const typename L::reg add = L::keep(k, gv);
      io.st(d + off, Acc ? L::add(io.ld(d + off), add) : add);
    }
}

// Forward that also records each window's first maximum as its slot (i * cols + j): the same
// running maximum as window_max, with the slot of the last value that replaced it.
template <class T, bool Tail>
inline void max_fwd_arg_block(const Io<T, Tail>& io, const T* p, int64_t rows, int64_t cols,
                              int64_t rs, int64_t cs, T* out, uint8_t* arg) {
  using L = Lanes<T>;
  using reg = typename L::reg;
  reg m = io.ld(p), idx = L::zero();
  if (rows == 2 && cols == 2) {  // the common 2x2 window, unrolled
    const reg v1 = io.ld(p + cs), v2 = io.ld(p + rs), v3 = io.ld(p + rs + cs);
    typename L::msk k = L::take_max(v1, m);
    m = L::blend(k, m, v1);
    idx = L::blend(k, idx, L::set1(T(1)));
    k = L::take_max(v2, m);
    m = L::blend(k, m, v2);
    idx = L::blend(k, idx, L::set1(T(2)));
    k = L::take_max(v3, m);
    m = L::blend(k, m, v3);
    idx = L::blend(k, idx, L::set1(T(3)));
  } else {
    // The slot counts in T (exact up to 256) rather than being converted from an integer.
    T slot = T(0);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j, slot += T(1)) {
        if (i == 0 && j == 0) continue;
        const reg v = io.ld(p + i * rs + j * cs);
        const typename L::msk k = L::take_max(v, m);
        m = L::blend(k, m, v);
        idx = L::blend(k, idx, L::set1(slot));
      }
  }
  io.st(out, m);
  store_idx(io, arg, idx);
}

// Backward of windows that do not overlap, from the recorded slots: every slot of the window
// is stored (the gradient or 0), so dx needs no zeroing where the windows tile it.
template <class T, bool Tail, bool Stream>
inline void max_bwd_arg_block(const Io<T, Tail>& io, const uint8_t* arg, int64_t rows,
                              int64_t cols, int64_t rs, int64_t cs, const T* gy, T* d) {
  using L = Lanes<T>;
  const typename L::reg idx = load_idx(io, arg);
  const typename L::reg gv = io.ld(gy);
  if (rows == 2 && cols == 2) {
    st_out<T, Tail, Stream>(io, d, L::keep(L::hit(idx, L::zero()), gv));
    st_out<T, Tail, Stream>(io, d + cs, L::keep(L::hit(idx, L::set1(T(1))), gv));
    st_out<T, Tail, Stream>(io, d + rs, L::keep(L::hit(idx, L::set1(T(2))), gv));
    st_out<T, Tail, Stream>(io, d + rs + cs, L::keep(L::hit(idx, L::set1(T(3))), gv));
    return;
  }
  T slot = T(0);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j, slot += T(1))
      st_out<T, Tail, Stream>(io, d + i * rs + j * cs,
                              L::keep(L::hit(idx, L::set1(slot)), gv));
}

template <class T, bool Tail>
inline void avg_fwd_block(const Io<T, Tail>& io, const T* p, int64_t rows, int64_t cols,
                          int64_t rs, int64_t cs, typename Lanes<T>::reg cnt, T* out) {
  using L = Lanes<T>;
  typename L::reg s = io.ld(p);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = i == 0 ? 1 : 0; j < cols; ++j) s = L::add(s, io.ld(p + i * rs + j * cs));
  io.st(out, L::div(s, cnt));
}

template <class T, bool Tail, bool Acc>
inline void avg_bwd_block(const Io<T, Tail>& io, int64_t rows, int64_t cols, int64_t rs,
                          int64_t cs, typename Lanes<T>::reg cnt, const T* gy, T* d) {
  using L = Lanes<T>;
  const typename L::reg gv = L::div(io.ld(gy), cnt);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      T* q = d + i * rs + j * cs;
      io.st(q, Acc ? L::add(io.ld(q), gv) : gv);
    }
}

// Calls fn(io, channel offset) for every channel block, full blocks first.
template <class T, class F>
inline void for_blocks(int64_t c, F&& fn) {
  constexpr int64_t W = Lanes<T>::W;
  int64_t cb = 0;
  const Io<T, false> full{W};
  for (; cb + W <= c; cb += W) fn(full, cb);
  if (cb < c) fn(Io<T, true>{c - cb}, cb);
}

// Calls fn(ni, oy, ox, y0, y1, x0, x1) for every output position of rows [r0, r1).
template <class F>
inline void for_windows(const ConvGeom& g, int64_t r0, int64_t r1, F&& fn) {
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t ni = r / g.oh, oy = r % g.oh;
    int64_t y0, y1;
    window(oy, g.sh, g.pt, g.kh, g.h, &y0, &y1);
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      int64_t x0, x1;
      window(ox, g.sw, g.pl, g.kw, g.w, &x0, &x1);
      fn(ni, r * g.ow + ox, y0, y1, x0, x1);
    }
  }
}

template <class T>
void max_fwd(const ConvGeom& g, const T* x, T* y, int64_t r0, int64_t r1) {
  const int64_t c = g.c, rs = g.w * c;
  for_windows(g, r0, r1, [&](int64_t ni, int64_t o, int64_t y0, int64_t y1, int64_t x0,
                             int64_t x1) {
    T* out = y + o * c;
    if (y0 >= y1 || x0 >= x1) {  // only padding (explicit pads at least the window)
      for (int64_t q = 0; q < c; ++q) out[q] = -static_cast<T>(__builtin_inf());
      return;
    }
    const T* p = x + ((ni * g.h + y0) * g.w + x0) * c;
    for_blocks<T>(c, [&](const auto& io, int64_t cb) {
      max_fwd_block(io, p + cb, y1 - y0, x1 - x0, rs, c, out + cb);
    });
  });
}

template <class T, bool Acc>
void max_bwd_t(const ConvGeom& g, const T* x, const T* dy, T* dx, int64_t r0, int64_t r1) {
  const int64_t c = g.c, rs = g.w * c;
  for_windows(g, r0, r1, [&](int64_t ni, int64_t o, int64_t y0, int64_t y1, int64_t x0,
                             int64_t x1) {
    if (y0 >= y1 || x0 >= x1) return;
    const int64_t at = ((ni * g.h + y0) * g.w + x0) * c;
    const T* gy = dy + o * c;
    for_blocks<T>(c, [&](const auto& io, int64_t cb) {
      max_bwd_block<T, std::decay_t<decltype(io)>::kTail, Acc>(
          io, x + at + cb, y1 - y0, x1 - x0, rs, c, gy + cb, dx + at + cb);
    });
  });
}

template <class T>
void max_bwd(const ConvGeom& g, const T* x, const T* dy, T* dx, int64_t r0, int64_t r1,
             bool acc) {
  if (acc)
    max_bwd_t<T, true>(g, x, dy, dx, r0, r1);
  else
    max_bwd_t<T, false>(g, x, dy, dx, r0, r1);
}

template <class T>
void max_fwd_arg(const ConvGeom& g, const T* x, T* y, uint8_t* arg, int64_t r0, int64_t r1) {
  const int64_t c = g.c, rs = g.w * c;
  for_windows(g, r0, r1, [&](int64_t ni, int64_t o, int64_t y0, int64_t y1, int64_t x0,
                             int64_t x1) {
    T* out = y + o * c;
    uint8_t* a = arg + o * c;
    if (y0 >= y1 || x0 >= x1) {
      for (int64_t q = 0; q < c; ++q) out[q] = -static_cast<T>(__builtin_inf());
      for (int64_t q = 0; q < c; ++q) a[q] = 0;
      return;
    }
    const T* p = x + ((ni * g.h + y0) * g.w + x0) * c;
    for_blocks<T>(c, [&](const auto& io, int64_t cb) {
      max_fwd_arg_block(io, p + cb, y1 - y0, x1 - x0, rs, c, out + cb, a + cb);
    });
  });
}

template <class T, bool Stream>
void max_bwd_arg_t(const ConvGeom& g, const uint8_t* arg, const T* dy, T* dx, int64_t r0,
                   int64_t r1) {
  const int64_t c = g.c, rs = g.w * c;
  for_windows(g, r0, r1, [&](int64_t ni, int64_t o, int64_t y0, int64_t y1, int64_t x0,
                             int64_t x1) {
    if (y0 >= y1 || x0 >= x1) return;
    T* d = dx + ((ni * g.h + y0) * g.w + x0) * c;
    for_blocks<T>(c, [&](const auto& io, int64_t cb) {
      max_bwd_arg_block<T, std::decay_t<decltype(io)>::kTail, Stream>(
          io, arg + o * c + cb, y1 - y0, x1 - x0, rs, c, dy + o * c + cb, d + cb);
    });
  });
#if HW_ISA_LEVEL >= 1
  if (Stream) _mm_sfence();
#endif
}

template <class T>
void max_bwd_arg(const ConvGeom& g, const uint8_t* arg, const T* dy, T* dx, int64_t r0,
                 int64_t r1, bool stream) {
  if (stream)
    max_bwd_arg_t<T, true>(g, arg, dy, dx, r0, r1);
  else
    max_bwd_arg_t<T, false>(g, arg, dy, dx, r0, r1);
}

template <class T>
void avg_fwd(const ConvGeom& g, const T* x, T* y, int64_t r0, int64_t r1) {
  using L = Lanes<T>;
  const int64_t c = g.c, rs = g.w * c;
  for_windows(g, r0, r1, [&](int64_t ni, int64_t o, int64_t y0, int64_t y1, int64_t x0,
                             int64_t x1) {
    T* out = y + o * c;
    if (y0 >= y1 || x0 >= x1) {
      for (int64_t q = 0; q < c; ++q) out[q] = T(0);
      return;
    }
    const typename L::reg cnt = L::set1(static_cast<T>((y1 - y0) * (x1 - x0)));
    const T* p = x + ((ni * g.h + y0) * g.w + x0) * c;
    for_blocks<T>(c, [&](const auto& io, int64_t cb) {
      avg_fwd_block(io, p + cb, y1 - y0, x1 - x0, rs, c, cnt, out + cb);
    });
  });
}

template <class T, bool Acc>
void avg_bwd_t(const ConvGeom& g, const T* dy, T* dx, int64_t r0, int64_t r1) {
  using L = Lanes<T>;
  const int64_t c = g.c, rs = g.w * c;
  for_windows(g, r0, r1, [&](int64_t ni, int64_t o, int64_t y0, int64_t y1, int64_t x0,
                             int64_t x1) {
    if (y0 >= y1 || x0 >= x1) return;
    const typename L::reg cnt = L::set1(static_cast<T>((y1 - y0) * (x1 - x0)));
    T* d = dx + ((ni * g.h + y0) * g.w + x0) * c;
    const T* gy = dy + o * c;
    for_blocks<T>(c, [&](const auto& io, int64_t cb) {
      avg_bwd_block<T, std::decay_t<decltype(io)>::kTail, Acc>(
          io, y1 - y0, x1 - x0, rs, c, cnt, gy + cb, d + cb);
    });
  });
}

template <class T>
void avg_bwd(const ConvGeom& g, const T* dy, T* dx, int64_t r0, int64_t r1, bool acc) {
  if (acc)
    avg_bwd_t<T, true>(g, dy, dx, r0, r1);
  else
    avg_bwd_t<T, false>(g, dy, dx, r0, r1);
}

}  // namespace

extern const PoolTable kPoolTable;
const PoolTable kPoolTable = {
    {&max_fwd<float>, &max_bwd<float>, &avg_fwd<float>, &avg_bwd<float>, &max_fwd_arg<float>,
     &max_bwd_arg<float>},
    {&max_fwd<double>, &max_bwd<double>, &avg_fwd<double>, &avg_bwd<double>,
     &max_fwd_arg<double>, &max_bwd_arg<double>},
};

}  // namespace HW_ISA_NS
}  // namespace headwater
