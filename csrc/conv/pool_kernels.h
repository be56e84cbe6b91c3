// Per-ISA pooling loops behind conv.h's max_pool_* / avg_pool_* (pool.cpp threads them).
#pragma once

#include <cstdint>

#include "conv/conv.h"

namespace headwater {

// Each function handles output rows [r0, r1) (row r = image * oh + oy), vectorised over the
// contiguous channels. Backward: `acc` adds into dx (overlapping windows, dx zeroed first),
// otherwise each window position of dx is stored (windows that do not overlap).
template <class T>
struct PoolFns {
  void (*max_fwd)(const ConvGeom&, const T* x, T* y, int64_t r0, int64_t r1);
  void (*max_bwd)(const ConvGeom&, const T* x, const T* dy, T* dx, int64_t r0, int64_t r1,
                  bool acc);
  void (*avg_fwd)(const ConvGeom&, const T* x, T* y, int64_t r0, int64_t r1);
  void (*avg_bwd)(const ConvGeom&, const T* dy, T* dx, int64_t r0, int64_t r1, bool acc);
  // max_fwd that also writes each window's first-maximum slot (0 .. kh*kw - 1) to arg, one
  // byte per output element; max_bwd from those slots, for windows that do not overlap (each
  // window position of dx stored, as max_bwd with acc false; `stream`: with non-temporal
  // stores where aligned, fenced before returning).
  void (*max_fwd_arg)(const ConvGeom&, const T* x, T* y, uint8_t* arg, int64_t r0, int64_t r1);
  void (*max_bwd_arg)(const ConvGeom&, const uint8_t* arg, const T* dy, T* dx, int64_t r0,
                      int64_t r1, bool stream);
};

struct PoolTable {
  PoolFns<float> f32;
  PoolFns<double> f64;
};

namespace scalar {
extern const PoolTable kPoolTable;
}
namespace avx2 {
extern const PoolTable kPoolTable;
}
namespace avx512 {
extern const PoolTable kPoolTable;
}

}  // namespace headwater
