#include "common/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#elif defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#endif

namespace headwater {
namespace {

thread_local bool t_in_parallel = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// Poll this long before sleeping on a condition variable. Waking a sleeping thread took ~45 us
// on the 2-vCPU KVM machines we measured, more than a mid-sized kernel takes. A training step
// has gaps of tens to a few hundred microseconds of Python-side ops between its big kernels
// (50 us left a 128x784x256 matmul after a 100 us gap at 302 us instead of 256 us), so the
// window covers them. After a few PAUSEs the loop yields instead: long
// PAUSE loops trip the hypervisor's pause-loop exiting (measured: no better than sleeping),
// and yielding hands the core over if something else, e.g. numpy's BLAS, wants to run.
constexpr auto kSpin = std::chrono::microseconds(300);

template <class Pred>
bool spin_until(Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (done()) return true;
    if (i < 16)
      cpu_relax();
    else
      std::this_thread::yield();
    if ((i & 15) == 15 && std::chrono::steady_clock::now() > deadline) return done();
  }
}

class ThreadPool {
 public:
  explicit ThreadPool(int nthreads) {
    workers_.reserve(static_cast<size_t>(nthreads - 1));
    for (int i = 1; i < nthreads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
  }

  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_.store(true);
    }
    cv_work_.notify_all();
    for (auto& t : workers_) t.join();
  }

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Serialises whole parallel regions; try_lock lets a second concurrent caller fall back to
  // running inline rather than queueing behind the first.
  std::mutex& submit_mutex() { return submit_; }

  // Caller holds submit_mutex().
  void run(int64_t n, int nchunks, RangeFn fn, void* ctx) {
    fn_ = fn;
    ctx_ = ctx;
    n_ = n;
    nchunks_ = nchunks;
    error_ = nullptr;
    pending_.store(nchunks, std::memory_order_relaxed);
    uint64_t gen;
    bool wake;
    {
      std::lock_guard<std::mutex> lk(m_);
      gen = ++generation_;
      next_.store(gen << 16, std::memory_order_release);
      // The chunk count travels in the same word as the generation, so workers without a chunk
      // never read the other job fields, which the next job may already be rewriting.
      word_.store((gen << 16) | static_cast<uint64_t>(nchunks), std::memory_order_release);
      wake = sleepers_ > 0;
    }
    if (wake) cv_work_.notify_all();

    // The caller claims chunks like any worker: a worker that is asleep (waking one costs tens
    // of microseconds) or descheduled on a busy machine leaves its chunk to the caller instead
    // of stalling the whole region. Chunk bounds are fixed, so who runs a chunk never changes
    // the result.
    claim_chunks(gen, nchunks);

    auto done = [this] { return pending_.load(std::memory_order_acquire) == 0; };
    if (!spin_until(done)) {
      std::unique_lock<std::mutex> lk(m_);
      cv_done_.wait(lk, done);
    }
    if (error_) {
      std::exception_ptr e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

 private:
  // Runs unclaimed chunks of job `gen` until none is left. The generation sits in the same
  // word as the next index, so a thread still looking at a finished job can never claim a
  // chunk of the next one by mistake.
  void claim_chunks(uint64_t gen, int nchunks) {
    uint64_t cur = next_.load(std::memory_order_acquire);
    for (;;) {
      if ((cur >> 16) != gen) return;
      const int i = static_cast<int>(cur & 0xffffu);
      if (i >= nchunks) return;
      if (!next_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire))
        continue;
      run_chunk(i);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(m_);
        cv_done_.notify_one();
      }
      cur = next_.load(std::memory_order_acquire);
    }
  }

  void run_chunk(int i) {
    const int64_t begin = chunk_bound(i);
    const int64_t end = chunk_bound(i + 1);
    if (begin >= end) return;
    const bool was = t_in_parallel;
    t_in_parallel = true;
    try {
      fn_(ctx_, begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lk(m_);
      if (!error_) error_ = std::current_exception();
    }
    t_in_parallel = was;
  }

  int64_t chunk_bound(int i) const {
    // n * i / c without overflow for any n that fits in int64.
    const int64_t q = n_ / nchunks_, r = n_ % nchunks_;
    return q * i + (r * i) / nchunks_;
  }

  void worker_loop(int id) {
    uint64_t seen = 0;
    for (;;) {
      uint64_t w = word_.load(std::memory_order_acquire);
      auto fresh = [&] {
        w = word_.load(std::memory_order_acquire);
        return (w >> 16) != seen || stop_.load(std::memory_order_relaxed);
      };
      if (!spin_until(fresh)) {
        std::unique_lock<std::mutex> lk(m_);
        ++sleepers_;
        cv_work_.wait(lk, fresh);
        --sleepers_;
      }
      if (stop_.load()) return;
      seen = w >> 16;
      const int nchunks = static_cast<int>(w & 0xffffu);
      if (id >= nchunks) continue;
      claim_chunks(seen, nchunks);
    }
  }

  std::vector<std::thread> workers_;
  std::mutex submit_;
  std::mutex m_;
  std::condition_variable cv_work_;
  std::condition_variable cv_done_;
  uint64_t generation_ = 0;          // guarded by m_
  int sleepers_ = 0;                 // guarded by m_
  std::atomic<uint64_t> word_{0};    // generation << 16 | chunk count
  std::atomic<uint64_t> next_{0};    // generation << 16 | next unclaimed chunk
  std::atomic<int> pending_{0};      // chunks not yet finished
  std::atomic<bool> stop_{false};
  // Job fields: written by the caller before word_ is published, read only by workers that
  // own a chunk, and not rewritten until all of those have finished (pending_ == 0).
  RangeFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0;
  int nchunks_ = 1;
  std::exception_ptr error_;
};

// Deliberately leaked: joining workers from a static destructor during interpreter shutdown
// can deadlock, and after fork() the child must not touch the parent's pool at all.
std::mutex g_config_mutex;
ThreadPool* g_pool = nullptr;
std::atomic<int> g_requested{0};  // 0 = not yet decided
int g_env_threads = 0;            // from HEADWATER_NUM_THREADS, 0 if unset or invalid

#if defined(__unix__) || defined(__APPLE__)
void atfork_prepare() { g_config_mutex.lock(); }
void atfork_parent() { g_config_mutex.unlock(); }
void atfork_child() {
  // The workers did not survive the fork; a fresh pool is built on first use.
  g_pool = nullptr;
  g_config_mutex.unlock();
}
#endif

void register_atfork_once() {
#if defined(__unix__) || defined(__APPLE__)
  static const bool done = [] {
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    return true;
  }();
  (void)done;
#endif
}

int default_threads() {
  const int n = g_env_threads > 0 ? g_env_threads : hardware_threads();
  return n < kMaxThreads ? n : kMaxThreads;
}

int resolved_threads() {
  int n = g_requested.load(std::memory_order_relaxed);
  if (n > 0) return n;
  n = default_threads();
  int expected = 0;
  g_requested.compare_exchange_strong(expected, n);
  return g_requested.load(std::memory_order_relaxed);
}

// Waits for the running parallel region, if any, then destroys the pool. Caller holds
// g_config_mutex, which is what keeps anyone from starting a new region on this pool between
// the unlock and the delete (regions are only started with g_config_mutex held).
void destroy_pool_locked() {
  if (g_pool == nullptr) return;
  g_pool->submit_mutex().lock();
  g_pool->submit_mutex().unlock();
  delete g_pool;
  g_pool = nullptr;
}

// Returns the pool sized for `nthreads`, creating it if needed. Caller holds g_config_mutex.
ThreadPool* pool_locked(int nthreads) {
  register_atfork_once();
  if (g_pool == nullptr || g_pool->size() != nthreads) {
    destroy_pool_locked();
    g_pool = new ThreadPool(nthreads);
  }
  return g_pool;
}

}  // namespace

int hardware_threads() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

int get_num_threads() { return resolved_threads(); }

void set_num_threads(int n) {
  std::lock_guard<std::mutex> lk(g_config_mutex);
  const int target = n > 0 ? (n < kMaxThreads ? n : kMaxThreads) : default_threads();
  g_requested.store(target, std::memory_order_relaxed);
  if (g_pool != nullptr && g_pool->size() != target) destroy_pool_locked();
}

std::string init_threads_from_env() {
  const char* env = std::getenv("HEADWATER_NUM_THREADS");
  if (env == nullptr || *env == '\0') return {};
  char* end = nullptr;
  const long v = std::strtol(env, &end, 10);
  if (end == env || *end != '\0' || v < 1 || v > kMaxThreads) {
    return std::string("HEADWATER_NUM_THREADS='") + env +
           "' is not a positive integer; using the default thread count";
  }
  std::lock_guard<std::mutex> lk(g_config_mutex);
  g_env_threads = static_cast<int>(v);
  g_requested.store(g_env_threads, std::memory_order_relaxed);
  return {};
}

void parallel_for_impl(int64_t n, int64_t grain, RangeFn fn, void* ctx) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  const int nthreads = resolved_threads();
  if (nthreads <= 1 || n <= grain || t_in_parallel) {
    fn(ctx, 0, n);
    return;
  }
  const int nchunks = static_cast<int>(std::min<int64_t>(nthreads, n / grain));
  if (nchunks <= 1) {
    fn(ctx, 0, n);
    return;
  }

  ThreadPool* pool;
  {
    std::lock_guard<std::mutex> lk(g_config_mutex);
    pool = pool_locked(nthreads);
    // Taking the submit lock while still holding the config lock keeps set_num_threads from
    // deleting this pool between the lookup and the run.
    if (!pool->submit_mutex().try_lock()) pool = nullptr;
  }
  if (pool == nullptr) {
    fn(ctx, 0, n);
    return;
  }
  std::lock_guard<std::mutex> submit(pool->submit_mutex(), std::adopt_lock);
  pool->run(n, nchunks, fn, ctx);
}

}  // namespace headwater
