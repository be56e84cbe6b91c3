// A persistent pool with static, deterministic partitioning.
//
// parallel_for(n, grain, fn) splits [0, n) into `c = min(threads, n / grain)` contiguous chunks
// of near-equal size (chunk i is [n*i/c, n*(i+1)/c)), so for a fixed thread count every call
// splits identically, whatever the scheduling. Chunks go to whichever thread claims them first
// (the caller too), so a chunk must not depend on the thread that runs it. Work of at most
// `grain` items, nested calls and calls that find the pool busy (another Python thread is using
// it) run inline as one chunk, so a kernel must give the same result for any chunking; the
// elementwise and GEMM kernels do, since each output element is computed by one thread.
//
// The pool never calls into numpy or its BLAS, so numpy's own threads and ours are never
// stacked on top of each other inside one kernel.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

namespace headwater {

using RangeFn = void (*)(void* ctx, int64_t begin, int64_t end);

// Requests above this are clamped (the pool packs the chunk count into 16 bits).
constexpr int kMaxThreads = 1024;

// Type-erased core, out of line so per-ISA object files never instantiate std::function or
// other shared inline templates with their own ISA flags.
void parallel_for_impl(int64_t n, int64_t grain, RangeFn fn, void* ctx);

template <class F>
inline void parallel_for(int64_t n, int64_t grain, F&& fn) {
  using Fn = std::remove_reference_t<F>;
  parallel_for_impl(
      n, grain,
      [](void* ctx, int64_t begin, int64_t end) { (*static_cast<Fn*>(ctx))(begin, end); },
      const_cast<void*>(static_cast<const void*>(&fn)));
}

// Threads used by kernels, the caller included (>= 1).
int get_num_threads();
// n <= 0 restores the default (HEADWATER_NUM_THREADS, else the CPUs this process may use).
// Waits for a running parallel region to finish before resizing.
void set_num_threads(int n);
// CPUs available to this process (sched affinity where the OS has it).
int hardware_threads();

// Applies HEADWATER_NUM_THREADS. Returns a warning for the caller to surface (empty if none).
std::string init_threads_from_env();

}  // namespace headwater
