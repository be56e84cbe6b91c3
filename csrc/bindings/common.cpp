#include "bindings/common.h"

#include <sstream>

namespace headwater {
namespace bind {

py::array as_array(py::handle obj) {
  if (py::isinstance<py::array>(obj)) return py::reinterpret_borrow<py::array>(obj);
  return py::module_::import("numpy").attr("asarray")(obj);
}

Kind kind_of(const py::array& a) {
  const py::dtype dt = a.dtype();
  if (dt.equal(py::dtype::of<float>())) return Kind::f32;
  if (dt.equal(py::dtype::of<double>())) return Kind::f64;
  // Byte-swapped floats are still floats; readable() converts them.
  if (dt.kind() == 'f' && dt.itemsize() == 4) return Kind::f32;
  if (dt.kind() == 'f' && dt.itemsize() == 8) return Kind::f64;
  return Kind::other;
}

std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << '(';
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s << ", ";
    s << shape[i];
  }
  if (shape.size() == 1) s << ',';
  s << ')';
  return s.str();
}

std::string shape_str(const py::array& a) {
  std::vector<int64_t> shape(static_cast<size_t>(a.ndim()));
  for (py::ssize_t i = 0; i < a.ndim(); ++i) shape[static_cast<size_t>(i)] = a.shape(i);
  return shape_str(shape);
}

py::array readable(py::array a) {
  const py::ssize_t item = a.itemsize();
  bool ok = a.dtype().equal(py::dtype::of<float>()) || a.dtype().equal(py::dtype::of<double>());
  ok = ok && reinterpret_cast<std::uintptr_t>(a.data()) % static_cast<std::uintptr_t>(item) == 0;
  for (py::ssize_t d = 0; ok && d < a.ndim(); ++d) ok = a.strides(d) % item == 0;
  if (ok) return a;
  const py::dtype native =
      a.dtype().itemsize() == 4 ? py::dtype::of<float>() : py::dtype::of<double>();
  return py::module_::import("numpy").attr("ascontiguousarray")(a, native);
}

Layout layout_of(const py::array& a) {
  Layout l;
  const py::ssize_t item = a.itemsize();
  l.shape.resize(static_cast<size_t>(a.ndim()));
  l.strides.resize(static_cast<size_t>(a.ndim()));
  for (py::ssize_t d = 0; d < a.ndim(); ++d) {
    l.shape[static_cast<size_t>(d)] = a.shape(d);
    l.strides[static_cast<size_t>(d)] = a.strides(d) / item;
  }
  return l;
}

std::pair<std::uintptr_t, std::uintptr_t> byte_extent(const py::array& a) {
  if (a.size() == 0) return {0, 0};
  auto lo = reinterpret_cast<std::uintptr_t>(a.data());
  auto hi = lo;
  for (py::ssize_t d = 0; d < a.ndim(); ++d) {
    const py::ssize_t span = (a.shape(d) - 1) * a.strides(d);
    if (span < 0)
      lo -= static_cast<std::uintptr_t>(-span);
    else
      hi += static_cast<std::uintptr_t>(span);
  }
  return {lo, hi + static_cast<std::uintptr_t>(a.itemsize())};
}

bool may_overlap(const py::array& x, const py::array& y) {
  const auto ex = byte_extent(x), ey = byte_extent(y);
  if (ex.first == ex.second || ey.first == ey.second) return false;
  return ex.first < ey.second && ey.first < ex.second;
}

bool same_layout(const py::array& x, const py::array& y) {
  if (x.data() != y.data() || x.ndim() != y.ndim()) return false;
  for (py::ssize_t d = 0; d < x.ndim(); ++d)
    if (x.shape(d) != y.shape(d) || x.strides(d) != y.strides(d)) return false;
  return true;
}

bool is_python_scalar(py::handle obj) {
  return PyFloat_CheckExact(obj.ptr()) || (PyLong_CheckExact(obj.ptr()));
}

}  // namespace bind
}  // namespace headwater
