#include "common/aligned_alloc.h"

#include <cstdlib>
#include <new>

#if defined(_WIN32)
#include <malloc.h>
#endif

namespace headwater {

void* aligned_malloc(std::size_t bytes) {
  if (bytes == 0) bytes = kAlignment;
#if defined(_WIN32)
  void* p = _aligned_malloc(bytes, kAlignment);
#else
  void* p = nullptr;
  if (posix_memalign(&p, kAlignment, bytes) != 0) p = nullptr;
#endif
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void aligned_free(void* p) noexcept {
#if defined(_WIN32)
  _aligned_free(p);
#else
  std::free(p);
#endif
}

}  // namespace headwater
