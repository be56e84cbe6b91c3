#include <string>

#include "bindings/common.h"
#include "bindings/registry.h"
#include "elementwise/activation.h"

namespace headwater {
namespace bind {
namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// The operand as a C-contiguous array of T; other dtypes are refused rather than converted,
// so a caller never gets a silently different precision.
template <class T>
CArray<T> operand(const char* op, const char* what, const py::array& a) {
  if (!a.dtype().equal(py::dtype::of<T>())) {
    throw py::type_error(std::string(op) + ": " + what + " has dtype " + dtype_str(a) +
                         " but expected " + py::str(py::dtype::of<T>()).cast<std::string>());
  }
  return CArray<T>::ensure(a);
}

template <class T>
py::array relu_t(const py::array& xa) {
  CArray<T> x = operand<T>("relu", "x", xa);
  CArray<T> out(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
  const int64_t n = x.size();
  const T* xp = x.data();
  T* op = out.mutable_data();
  run_releasing_gil(n, [&] { relu<T>(n, xp, op); });
  return std::move(out);
}

template <class T>
py::array relu_grad_t(const py::array& ga, const py::array& fa) {
  CArray<T> g = operand<T>("relu_grad", "gradients", ga);
  CArray<T> f = operand<T>("relu_grad", "features", fa);
  if (g.ndim() != f.ndim() ||
      !std::equal(g.shape(), g.shape() + g.ndim(), f.shape())) {
    throw py::value_error("relu_grad: gradients shape " + shape_str(g) +
                          " does not match features shape " + shape_str(f));
  }
  CArray<T> out(std::vector<py::ssize_t>(g.shape(), g.shape() + g.ndim()));
  const int64_t n = g.size();
  const T *gp = g.data(), *fp = f.data();
  T* op = out.mutable_data();
  run_releasing_gil(n, [&] { relu_grad<T>(n, gp, fp, op); });
  return std::move(out);
}

template <class T>
py::array bias_relu_t(const py::array& xa, const py::array& ba) {
  CArray<T> x = operand<T>("bias_relu", "x", xa);
  CArray<T> b = operand<T>("bias_relu", "bias", ba);
  if (x.ndim() < 1 || b.ndim() != 1 || x.shape(x.ndim() - 1) != b.shape(0)) {
    throw py::value_error("bias_relu: bias of shape " + shape_str(b) +
                          " must be 1-D with as many elements as the last dimension of x, "
                          "whose shape is " + shape_str(x));
  }
  CArray<T> out(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
  const int64_t cols = b.shape(0);
  const int64_t rows = cols > 0 ? x.size() / cols : 0;
  const T *xp = x.data(), *bp = b.data();
  T* op = out.mutable_data();
  run_releasing_gil(x.size(), [&] { bias_relu<T>(rows, cols, xp, bp, op); });
  return std::move(out);
}

Kind checked_kind(const char* op, const py::array& a) {
  const Kind k = kind_of(a);
  if (k == Kind::other) {
    throw py::type_error(std::string(op) + ": unsupported dtype " + dtype_str(a) +
                         " (expected float32 or float64)");
  }
  return k;
}

}  // namespace

void register_activation(py::module_& m) {
  m.def(
      "relu",
      [](py::handle x) {
        py::array a = as_array(x);
        return checked_kind("relu", a) == Kind::f32 ? relu_t<float>(a) : relu_t<double>(a);
      },
      py::arg("x"),
      "relu(x) -> ndarray: x <= 0 ? 0 : x elementwise (NaN passes through, -0.0 becomes 0, like "
      "numpy.maximum(x, 0)); float32/float64.");
  m.def(
      "relu_grad",
      [](py::handle g, py::handle f) {
        py::array ga = as_array(g), fa = as_array(f);
        return checked_kind("relu_grad", ga) == Kind::f32 ? relu_grad_t<float>(ga, fa)
                                                          : relu_grad_t<double>(ga, fa);
      },
      py::arg("gradients"), py::arg("features"),
      "relu_grad(gradients, features) -> ndarray: gradients * (features > 0), same shapes.");
  m.def(
      "bias_relu",
      [](py::handle x, py::handle bias) {
        py::array xa = as_array(x), ba = as_array(bias);
        return checked_kind("bias_relu", xa) == Kind::f32 ? bias_relu_t<float>(xa, ba)
                                                          : bias_relu_t<double>(xa, ba);
      },
      py::arg("x"), py::arg("bias"),
      "bias_relu(x, bias) -> ndarray: relu(x + bias) with bias along the last axis, each "
      "element rounded as the separate add and relu round it.");
}

}  // namespace bind
}  // namespace headwater
