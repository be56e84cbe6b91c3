#include <string>

#include "bindings/common.h"
#include "bindings/registry.h"
#include "elementwise/binary.h"

namespace headwater {
namespace bind {
namespace {

// Releasing and re-taking the GIL costs about as much as adding a few thousand floats, so tiny
// calls keep it; they finish before another Python thread could have used it.
constexpr int64_t kReleaseGilMinElements = 4096;

// Converts both operands, letting a bare Python float/int take the other operand's dtype.
std::pair<py::array, py::array> operands(const char* name, py::handle a_obj, py::handle b_obj) {
  const bool a_weak = is_python_scalar(a_obj), b_weak = is_python_scalar(b_obj);
  py::array a, b;
  if (a_weak && !b_weak) {
    b = as_array(b_obj);
    if (kind_of(b) != Kind::other)
      a = py::module_::import("numpy").attr("asarray")(a_obj, b.dtype());
    else
      a = as_array(a_obj);
  } else if (b_weak && !a_weak) {
    a = as_array(a_obj);
    if (kind_of(a) != Kind::other)
      b = py::module_::import("numpy").attr("asarray")(b_obj, a.dtype());
    else
      b = as_array(b_obj);
  } else {
    a = as_array(a_obj);
    b = as_array(b_obj);
  }
  const char* names[2] = {"a", "b"};
  const py::array* arrs[2] = {&a, &b};
  for (int i = 0; i < 2; ++i) {
    if (kind_of(*arrs[i]) == Kind::other) {
      throw py::type_error(std::string(name) + ": unsupported dtype " + dtype_str(*arrs[i]) +
                           " for operand '" + names[i] + "' (expected float32 or float64)");
    }
  }
  if (kind_of(a) != kind_of(b)) {
    throw py::type_error(std::string(name) + ": dtype mismatch: a is " + dtype_str(a) +
                         " but b is " + dtype_str(b) +
                         " (both operands must have the same dtype; cast one explicitly)");
  }
  return {readable(a), readable(b)};
}

template <class T>
py::array run_binary(BinaryOp op, py::array a, py::array b, py::object out_obj) {
  const char* name = binary_op_name(op);
  Layout la, lb, lo;
  layout_of(a, &la, name);
  layout_of(b, &lb, name);
  std::vector<int64_t> shape;
  if (!broadcast_shapes(la.ndim, la.shape, lb.ndim, lb.shape, &shape)) {
    throw py::value_error(std::string(name) +
                          ": operands could not be broadcast together with shapes " +
                          shape_str(la) + " and " + shape_str(lb));
  }

  py::array out;
  if (out_obj.is_none()) {
    out = py::array(py::dtype::of<T>(), std::vector<py::ssize_t>(shape.begin(), shape.end()));
  } else {
    if (!py::isinstance<py::array>(out_obj)) {
      throw py::type_error(std::string(name) + ": out must be a numpy.ndarray, got " +
                           py::str(py::type::of(out_obj).attr("__name__")).cast<std::string>());
    }
    out = py::reinterpret_borrow<py::array>(out_obj);
    if (!out.dtype().equal(py::dtype::of<T>())) {
      throw py::type_error(std::string(name) + ": out has dtype " + dtype_str(out) +
                           " but the result dtype is " + dtype_str(a));
    }
    layout_of(out, &lo, name);
    if (lo.shape_vec() != shape) {
      throw py::value_error(std::string(name) + ": out has shape " + shape_str(out) +
                            " but the result has shape " + shape_str(shape));
    }
    if (!out.writeable()) throw py::value_error(std::string(name) + ": out is read-only");
    bool ok = reinterpret_cast<std::uintptr_t>(out.data()) % sizeof(T) == 0;
    for (py::ssize_t d = 0; ok && d < out.ndim(); ++d) ok = out.strides(d) % sizeof(T) == 0;
    if (!ok) {
      throw py::value_error(std::string(name) +
                            ": out must be aligned, with strides that are multiples of " +
                            std::to_string(sizeof(T)) + " bytes");
    }
    // An input that shares memory with out in any other way than exactly (out=a) would be
    // overwritten while still being read.
    if (may_overlap(a, out) && !same_layout(a, out)) {
      a = py::array(a.attr("copy")());
      layout_of(a, &la, name);
    }
    if (may_overlap(b, out) && !same_layout(b, out)) {
      b = py::array(b.attr("copy")());
      layout_of(b, &lb, name);
    }
  }
  if (out_obj.is_none()) layout_of(out, &lo, name);
  int64_t total = 1;
  for (int d = 0; d < lo.ndim; ++d) total *= lo.shape[d];
  if (total < kReleaseGilMinElements) {
    binary<T>(op, const_view<T>(a, la), const_view<T>(b, lb), mut_view<T>(out, lo));
  } else {
    py::gil_scoped_release nogil;
    binary<T>(op, const_view<T>(a, la), const_view<T>(b, lb), mut_view<T>(out, lo));
  }
  return out;
}

template <BinaryOp OP>
py::array binary_py(py::handle a_obj, py::handle b_obj, py::object out) {
  auto [a, b] = operands(binary_op_name(OP), a_obj, b_obj);
  if (kind_of(a) == Kind::f32) return run_binary<float>(OP, a, b, out);
  return run_binary<double>(OP, a, b, out);
}

template <BinaryOp OP>
void def_binary(py::module_& m, const char* symbol) {
  const std::string doc =
      std::string(binary_op_name(OP)) + "(a, b, out=None) -> numpy.ndarray\n\n" +
      "Elementwise a " + symbol +
      " b with numpy broadcasting, for float32 or float64 operands of the same dtype. A Python "
      "float/int operand takes the other operand's dtype. Returns a new C-contiguous array, or "
      "`out` (same dtype, exactly the broadcast shape) when given.\n\n"
      "Raises TypeError on unsupported or mismatched dtypes and ValueError on shapes that do "
      "not broadcast.";
  m.def(binary_op_name(OP), &binary_py<OP>, py::arg("a"), py::arg("b"),
        py::arg("out") = py::none(), doc.c_str());
}

}  // namespace

void register_elementwise(py::module_& m) {
  def_binary<BinaryOp::add>(m, "+");
  def_binary<BinaryOp::sub>(m, "-");
  def_binary<BinaryOp::mul>(m, "*");
  def_binary<BinaryOp::div>(m, "/");
}

}  // namespace bind
}  // namespace headwater
