#include "common/side_worker.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace headwater {
namespace {

// Waking a sleeping thread costs the waker a syscall and the thread tens of microseconds on
// the KVM machines we measured, as much as the work handed over. Like the kernel pool's
// workers, this thread polls (yielding the core) for a while after each task, so a training
// loop submitting every step finds it awake and hands work over without a syscall.
constexpr auto kSpin = std::chrono::microseconds(300);

struct Worker {
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;  // guarded by m
  bool sleeping = false;                    // guarded by m
  std::atomic<int> queued{0};

  void wait_for_work() {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (int i = 0; queued.load(std::memory_order_acquire) == 0; ++i) {
      if (i < 16) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      } else {
        std::this_thread::yield();
      }
      if ((i & 15) == 15 && std::chrono::steady_clock::now() > deadline) break;
    }
  }

  void loop() {
    for (;;) {
      wait_for_work();
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lk(m);
        if (queue.empty()) {
          sleeping = true;
          cv.wait(lk, [this] { return !queue.empty(); });
          sleeping = false;
        }
        task = std::move(queue.front());
        queue.pop_front();
        queued.fetch_sub(1, std::memory_order_relaxed);
      }
      task();
    }
  }
};

// Leaked on purpose, with a detached thread: joining at interpreter shutdown can deadlock. A
// forked child has no such thread, so it starts its own (the pid tells).
std::mutex g_mutex;
Worker* g_worker = nullptr;
long g_pid = 0;

long current_pid() {
#if defined(__unix__) || defined(__APPLE__)
  return static_cast<long>(getpid());
#else
  return 1;
#endif
}

Worker* worker() {
  std::lock_guard<std::mutex> lk(g_mutex);
  const long pid = current_pid();
  if (g_worker == nullptr || g_pid != pid) {
    g_worker = new Worker();
    g_pid = pid;
    std::thread([w = g_worker] { w->loop(); }).detach();
  }
  return g_worker;
}

}  // namespace

void side_submit(std::function<void()> task) {
  Worker* w = worker();
  bool wake;
  {
    std::lock_guard<std::mutex> lk(w->m);
    w->queue.push_back(std::move(task));
    w->queued.fetch_add(1, std::memory_order_release);
    wake = w->sleeping;
  }
  if (wake) w->cv.notify_one();
}

}  // namespace headwater
