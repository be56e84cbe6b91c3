// Plain array views handed to kernels. Strides are in elements (not bytes) and may be negative
// or zero (broadcast); `data` points at the element with all-zero indices.
#pragma once

#include <cstdint>

namespace headwater {

template <class T>
struct View {
  T* data = nullptr;
  int ndim = 0;
  const int64_t* shape = nullptr;
  const int64_t* strides = nullptr;
};

enum class DType : int { f32 = 0, f64 = 1 };

}  // namespace headwater
