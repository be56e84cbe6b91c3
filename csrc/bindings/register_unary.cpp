#include <string>

#include "bindings/common.h"
#include "bindings/registry.h"
#include "elementwise/unary.h"

namespace headwater {
namespace bind {
namespace {

template <UnaryOp OP>
py::array unary_py(py::handle x_obj, py::object out_obj) {
  const char* name = unary_op_name(OP);
  py::array x = as_array(x_obj);
  if (kind_of(x) == Kind::other) {
    throw py::type_error(std::string(name) + ": unsupported dtype " + dtype_str(x) +
                         " (expected float32 or float64)");
  }
  const py::dtype dt = x.dtype();
  x = py::array::ensure(x, py::array::c_style | py::array::forcecast).attr("astype")(
      dt, py::arg("copy") = false);
  py::array out;
  if (out_obj.is_none()) {
    out = py::array(dt, std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
  } else {
    out = py::reinterpret_borrow<py::array>(out_obj);
    if (!out.dtype().equal(dt) || !(out.flags() & py::array::c_style) || !out.writeable() ||
        out.size() != x.size()) {
      throw py::value_error(std::string(name) + ": out must be a writable C-contiguous " +
                            dtype_str(x) + " array with " + std::to_string(x.size()) +
                            " elements");
    }
  }
  const int64_t n = x.size();
  auto run = [&] {
    if (kind_of(x) == Kind::f32)
      unary<float>(OP, n, static_cast<const float*>(x.data()),
                   static_cast<float*>(out.mutable_data()));
    else
      unary<double>(OP, n, static_cast<const double*>(x.data()),
                    static_cast<double*>(out.mutable_data()));
  };
  run_releasing_gil(n, run);
  return out;
}

template <UnaryOp OP>
void def_unary(py::module_& m, const char* what) {
  const std::string doc = std::string(unary_op_name(OP)) + "(x, out=None) -> numpy.ndarray\n\n" +
                          what + ", elementwise, for float32/float64 (out may be x).";
  m.def(unary_op_name(OP), &unary_py<OP>, py::arg("x"), py::arg("out") = py::none(),
        doc.c_str());
}

}  // namespace

void register_unary(py::module_& m) {
  def_unary<UnaryOp::exp>(m, "e**x");
  def_unary<UnaryOp::log>(m, "Natural logarithm");
  def_unary<UnaryOp::tanh>(m, "Hyperbolic tangent");
  def_unary<UnaryOp::sigmoid>(m, "Logistic sigmoid 1 / (1 + e**-x)");
  def_unary<UnaryOp::softplus>(m, "Softplus log(1 + e**x), computed without overflow");
  def_unary<UnaryOp::erf>(m, "Gauss error function");
}

}  // namespace bind
}  // namespace headwater
