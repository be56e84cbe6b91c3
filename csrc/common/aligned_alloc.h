#pragma once

#include <cstddef>

namespace headwater {

// 64 bytes: one cache line, and one full AVX-512 register.
constexpr std::size_t kAlignment = 64;

// Out of line on purpose: the per-ISA translation units call these instead of instantiating
// allocator templates, which the linker could otherwise share between ISA variants.
void* aligned_malloc(std::size_t bytes);  // throws std::bad_alloc on failure
void aligned_free(void* p) noexcept;

}  // namespace headwater
