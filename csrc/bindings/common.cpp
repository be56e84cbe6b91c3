#include "bindings/common.h"

#include <sstream>

namespace headwater {
namespace bind {

py::array as_array(py::handle obj) {
  if (py::isinstance<py::array>(obj)) return py::reinterpret_borrow<py::array>(obj);
  return py::module_::import("numpy").attr("asarray")(obj);
}

namespace {

// numpy type numbers of float32/float64 (NPY_FLOAT, NPY_DOUBLE): part of numpy's stable ABI.
constexpr int kNpyFloat = 11;
constexpr int kNpyDouble = 12;

bool little_endian() {
  const uint16_t probe = 1;
  return *reinterpret_cast<const unsigned char*>(&probe) == 1;
}

// Reads the descriptor fields directly: cheaper than comparing dtype objects, which matters for
// small arrays where the binding is most of the cost.
bool native_order(const py::dtype& dt) {
  const char bo = dt.byteorder();
  return bo == '=' || bo == '|' || bo == (little_endian() ? '<' : '>');
}

}  // namespace

Kind kind_of(const py::array& a) {
  const py::dtype dt = a.dtype();
  // Byte-swapped floats count too; readable() converts them.
  switch (dt.num()) {
    case kNpyFloat:
      return Kind::f32;
    case kNpyDouble:
      return Kind::f64;
    default:
      return Kind::other;
  }
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
  bool ok = native_order(a.dtype());
  ok = ok && reinterpret_cast<std::uintptr_t>(a.data()) % static_cast<std::uintptr_t>(item) == 0;
  for (py::ssize_t d = 0; ok && d < a.ndim(); ++d) ok = a.strides(d) % item == 0;
  if (ok) return a;
  const py::dtype native =
      a.dtype().itemsize() == 4 ? py::dtype::of<float>() : py::dtype::of<double>();
  // np.array(copy=True), not np.ascontiguousarray: the latter returns a misaligned but
  // contiguous array unchanged, and turns 0-d arrays into 1-d ones.
  return py::module_::import("numpy").attr("array")(a, native, py::arg("copy") = true,
                                                    py::arg("order") = "C");
}

std::string shape_str(const Layout& l) { return shape_str(l.shape_vec()); }

void layout_of(const py::array& a, Layout* l, const char* op) {
  const py::ssize_t nd = a.ndim();
  if (nd > kMaxDims) {
    throw py::value_error(std::string(op) + ": arrays with more than " +
                          std::to_string(kMaxDims) + " dimensions are not supported");
  }
  const py::ssize_t item = a.itemsize();
  const py::ssize_t* shape = a.shape();
  const py::ssize_t* strides = a.strides();
  l->ndim = static_cast<int>(nd);
  for (py::ssize_t d = 0; d < nd; ++d) {
    l->shape[d] = shape[d];
    l->strides[d] = strides[d] / item;
  }
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
