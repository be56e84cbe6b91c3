// One background thread for work that may overlap the caller's (a summary's histogram while
// the training step goes on). Not the kernel pool: pool regions are synchronous, and a task
// holding the pool would make the caller's next GEMM run single-threaded.
#pragma once

#include <functional>

namespace headwater {

// Runs `task` on the background thread, after the tasks submitted before it. The task must
// not touch Python objects (it runs without the GIL) and must not throw.
void side_submit(std::function<void()> task);

}  // namespace headwater
