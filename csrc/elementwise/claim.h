// Guided work claiming for the threaded elementwise loops (unary.cpp, fused.cpp). Not for the
// per-ISA files: they never thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace headwater {

// Claims the next chunk of [0, total) from `next`, shared by `parts` threads: half of an even
// split of what is left, rounded up to a multiple of `unit` and at least `unit` (the last chunk
// may be shorter). Returns false when nothing is left; else [*begin, *end) is this caller's.
//
// Why not one fixed block per claim: every claim moves the counter's cache line between
// cores (~100 ns here), which cost several percent of a 1M-element unary call at one claim per
// 4096 elements, and far more for the fused evaluator's 512-element blocks. Why not fixed
// halves: on a shared machine a worker often starts tens of microseconds late, and the other
// thread then simply claims more. A 1M-element call with unit 4096 and two threads makes 17
// claims.
inline bool claim_guided(std::atomic<int64_t>& next, int64_t total, int64_t unit, int64_t parts,
                         int64_t* begin, int64_t* end) {
  int64_t i0 = next.load(std::memory_order_relaxed);
  for (;;) {
    if (i0 >= total) return false;
    int64_t len = (total - i0) / (2 * parts);
    len = len < unit ? unit : (len + unit - 1) / unit * unit;
    if (len > total - i0) len = total - i0;
    if (next.compare_exchange_weak(i0, i0 + len, std::memory_order_relaxed)) {
      *begin = i0;
      *end = i0 + len;
      return true;
    }
  }
}

}  // namespace headwater
