// Helpers shared by the register_<family>.cpp files: turning Python objects into kernel views
// and producing error messages that name the kernel and the offending dtypes and shapes.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/view.h"

namespace headwater {
namespace bind {

namespace py = pybind11;

enum class Kind { f32, f64, other };

// np.asarray(obj) for anything that is not already an ndarray.
py::array as_array(py::handle obj);

// f32/f64 only for native-byte-order float32/float64.
Kind kind_of(const py::array& a);
std::string dtype_str(const py::array& a);
// "(2, 3)", "(5,)" or "()" like numpy.
std::string shape_str(const py::array& a);
std::string shape_str(const std::vector<int64_t>& shape);

// Returns `a` itself when kernels can read it in place, otherwise an aligned C-contiguous copy: for a
// misaligned data pointer, strides that are not a multiple of the item size, or non-native
// byte order.
py::array readable(py::array a);

// Element strides and shape of an array prepared by readable(). Fixed storage (numpy's own
// limit is 64 dims) because heap-allocating per call shows up in small-op latency.
constexpr int kMaxDims = 64;
struct Layout {
  int ndim = 0;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxDims];  // in elements
  std::vector<int64_t> shape_vec() const { return std::vector<int64_t>(shape, shape + ndim); }
};
// Throws ValueError (naming `op`) for arrays with more than kMaxDims dimensions.
void layout_of(const py::array& a, Layout* out, const char* op);
std::string shape_str(const Layout& l);

template <class T>
View<const T> const_view(const py::array& a, const Layout& l) {
  return View<const T>{static_cast<const T*>(a.data()), l.ndim, l.shape, l.strides};
}
template <class T>
View<T> mut_view(py::array& a, const Layout& l) {
  return View<T>{static_cast<T*>(a.mutable_data()), l.ndim, l.shape, l.strides};
}

// [lowest byte, one past the highest byte] touched by the array; empty arrays give {0, 0}.
std::pair<std::uintptr_t, std::uintptr_t> byte_extent(const py::array& a);
bool may_overlap(const py::array& x, const py::array& y);
bool same_layout(const py::array& x, const py::array& y);

// Python float/int (not an ndarray, not a numpy scalar) operands adopt the other operand's
// dtype, as numpy does for "weak" Python scalars.
bool is_python_scalar(py::handle obj);

// Runs f(), releasing the GIL when the kernel touches at least this many elements: below it,
// releasing and re-taking the GIL costs more than the work.
constexpr int64_t kReleaseGilElements = int64_t(1) << 14;
template <class F>
void run_releasing_gil(int64_t n, F&& f) {
  if (n < kReleaseGilElements) {
    f();
  } else {
    py::gil_scoped_release nogil;
    f();
  }
}

}  // namespace bind
}  // namespace headwater
