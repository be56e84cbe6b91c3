#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "bindings/common.h"
#include "bindings/registry.h"
#include "reduce/reduce.h"
#include "reduce/reduce_ext.h"

namespace headwater {
namespace bind {
namespace {

// An input viewed as (A, R, B) for a reduction over `axes` (None: all): the reduced axes made
// one block (moving them to the end, a copy, when they are not), and the output's shape.
struct Prepared {
  py::array x;
  std::vector<py::ssize_t> out_shape;
  int64_t A = 1, R = 1, B = 1;
};

Prepared prepare(py::array x, const std::optional<std::vector<int64_t>>& axes_opt, bool keepdims,
                 const char* op) {
  const int nd = static_cast<int>(x.ndim());
  std::vector<bool> red(static_cast<size_t>(nd), !axes_opt.has_value());
  if (axes_opt) {
    for (int64_t a : *axes_opt) {
      if (a < -nd || a >= nd) {
        throw py::value_error(std::string(op) + ": axis " + std::to_string(a) +
                              " is out of range for an array of rank " + std::to_string(nd));
      }
      red[static_cast<size_t>((a + nd) % nd)] = true;
    }
  }
  Prepared p;
  for (int d = 0; d < nd; ++d) {
    if (!red[static_cast<size_t>(d)])
      p.out_shape.push_back(x.shape(d));
    else if (keepdims)
      p.out_shape.push_back(1);
  }
  // View as (A, R, B): the reduced axes must be one block once size-1 axes are ignored; if
  // they are not, move them to the end (a copy) so they are.
  int first = -1, last = -1;
  bool block = true;
  for (int d = 0; d < nd; ++d) {
    if (!red[static_cast<size_t>(d)] || x.shape(d) == 1) continue;
    if (first < 0) first = d;
    last = d;
  }
  for (int d = first; first >= 0 && d <= last; ++d)
    if (!red[static_cast<size_t>(d)] && x.shape(d) != 1) block = false;
  const py::dtype dt = x.dtype();
  if (!block) {
    std::vector<py::ssize_t> perm;
    for (int d = 0; d < nd; ++d)
      if (!red[static_cast<size_t>(d)]) perm.push_back(d);
    for (int d = 0; d < nd; ++d)
      if (red[static_cast<size_t>(d)]) perm.push_back(d);
    x = x.attr("transpose")(perm);
    std::vector<bool> r2;
    for (auto q : perm) r2.push_back(red[static_cast<size_t>(q)]);
    red = r2;
    first = -1;
    for (int d = 0; d < nd; ++d)
      if (red[static_cast<size_t>(d)]) {
        first = d;
        break;
      }
    last = nd - 1;
  }
  x = py::array::ensure(x, py::array::c_style | py::array::forcecast)
          .attr("astype")(dt, py::arg("copy") = false);
  int64_t A = 1, R = 1, B = 1;
  for (int d = 0; d < nd; ++d) {
    const int64_t s = x.shape(d);
    if (first < 0 || d < first)
      A *= s;
    else if (d <= last)
      R *= red[static_cast<size_t>(d)] ? s : 1, A *= red[static_cast<size_t>(d)] ? 1 : s;
    else
      B *= s;
  }
  if (first < 0) R = 1;
  p.x = x;
  p.A = A;
  p.R = R;
  p.B = B;
  return p;
}


template <bool MEAN>
py::array reduce_py(py::handle x_obj, std::optional<std::vector<int64_t>> axes_opt,
                    bool keepdims) {
  const char* op = MEAN ? "reduce_mean" : "reduce_sum";
  py::array x = as_array(x_obj);
  if (kind_of(x) == Kind::other) {
    throw py::type_error(std::string(op) + ": unsupported dtype " + dtype_str(x) +
                         " (expected float32 or float64)");
  }
  Prepared p = prepare(x, axes_opt, keepdims, op);
  x = p.x;
  const int64_t A = p.A, R = p.R, B = p.B;
  const py::dtype dt = x.dtype();
  py::array out(dt, p.out_shape);
  const bool f32 = kind_of(x) == Kind::f32;
  run_releasing_gil(x.size(), [&] {
    if (f32) {
      float* o = static_cast<float*>(out.mutable_data());
      reduce_sum<float>(A, R, B, static_cast<const float*>(x.data()), o);
      if (MEAN) {
        const float inv = R > 0 ? static_cast<float>(R) : 0.0f;
        for (int64_t i = 0; i < A * B; ++i) o[i] = o[i] / inv;
      }
    } else {
      double* o = static_cast<double*>(out.mutable_data());
      reduce_sum<double>(A, R, B, static_cast<const double*>(x.data()), o);
      if (MEAN) {
        const double inv = R > 0 ? static_cast<double>(R) : 0.0;
        for (int64_t i = 0; i < A * B; ++i) o[i] = o[i] / inv;
      }
    }
  });
  return out;
}

// float32/float64/int32/int64 in native byte order.
enum class NKind { f32, f64, i32, i64, other };
NKind nkind(const py::array& a) {
  const Kind k = kind_of(a);
  if (k == Kind::f32) return NKind::f32;
  if (k == Kind::f64) return NKind::f64;
  const py::dtype dt = a.dtype();
  if (dt.kind() == 'i' && (dt.byteorder() == '=' || dt.byteorder() == '|' ||
                           py::dtype::of<int32_t>().byteorder() == dt.byteorder())) {
    if (dt.itemsize() == 4) return NKind::i32;
    if (dt.itemsize() == 8) return NKind::i64;
  }
  return NKind::other;
}

template <ReduceOp OP>
py::array reduce_value_py(py::handle x_obj, std::optional<std::vector<int64_t>> axes_opt,
                          bool keepdims) {
  const char* op = OP == ReduceOp::max ? "reduce_max"
                                       : (OP == ReduceOp::min ? "reduce_min" : "reduce_prod");
  py::array x = as_array(x_obj);
  const NKind k = nkind(x);
  if (k == NKind::other) {
    throw py::type_error(std::string(op) + ": unsupported dtype " + dtype_str(x) +
                         " (expected float32, float64, int32 or int64)");
  }
  Prepared p = prepare(x, axes_opt, keepdims, op);
  py::array out(p.x.dtype(), p.out_shape);
  const void* src = p.x.data();
  void* dst = out.mutable_data();
  run_releasing_gil(p.x.size(), [&] {
    switch (k) {
      case NKind::f32:
        reduce_value<float>(OP, p.A, p.R, p.B, static_cast<const float*>(src),
                            static_cast<float*>(dst));
        break;
      case NKind::f64:
        reduce_value<double>(OP, p.A, p.R, p.B, static_cast<const double*>(src),
                             static_cast<double*>(dst));
        break;
      case NKind::i32:
        reduce_value<int32_t>(OP, p.A, p.R, p.B, static_cast<const int32_t*>(src),
                              static_cast<int32_t*>(dst));
        break;
      default:
        reduce_value<int64_t>(OP, p.A, p.R, p.B, static_cast<const int64_t*>(src),
                              static_cast<int64_t*>(dst));
        break;
    }
  });
  return out;
}

template <bool MAX>
py::array arg_py(py::handle x_obj, int64_t axis) {
  const char* op = MAX ? "argmax" : "argmin";
  py::array x = as_array(x_obj);
  const NKind k = nkind(x);
  if (k == NKind::other) {
    throw py::type_error(std::string(op) + ": unsupported dtype " + dtype_str(x) +
                         " (expected float32, float64, int32 or int64)");
  }
  const int64_t nd = x.ndim();
  if (axis < -nd || axis >= nd) {
    throw py::value_error(std::string(op) + ": axis " + std::to_string(axis) +
                          " is out of range for an array of rank " + std::to_string(nd));
  }
  if (x.shape((axis + nd) % nd) == 0) {
    throw py::value_error(std::string(op) + ": reduction axis " +
                          std::to_string((axis + nd) % nd) + " is empty in shape " +
                          shape_str(x));
  }
  Prepared p = prepare(x, std::vector<int64_t>{axis}, false, op);
  py::array out(py::dtype::of<int64_t>(), p.out_shape);
  const void* src = p.x.data();
  int64_t* dst = static_cast<int64_t*>(out.mutable_data());
  run_releasing_gil(p.x.size(), [&] {
    switch (k) {
      case NKind::f32:
        reduce_arg<float>(MAX, p.A, p.R, p.B, static_cast<const float*>(src), dst);
        break;
      case NKind::f64:
        reduce_arg<double>(MAX, p.A, p.R, p.B, static_cast<const double*>(src), dst);
        break;
      case NKind::i32:
        reduce_arg<int32_t>(MAX, p.A, p.R, p.B, static_cast<const int32_t*>(src), dst);
        break;
      default:
        reduce_arg<int64_t>(MAX, p.A, p.R, p.B, static_cast<const int64_t*>(src), dst);
        break;
    }
  });
  return out;
}

py::array logsumexp_py(py::handle x_obj, std::optional<std::vector<int64_t>> axes_opt,
                       bool keepdims) {
  py::array x = as_array(x_obj);
  const Kind k = kind_of(x);
  if (k == Kind::other) {
    throw py::type_error("reduce_logsumexp: unsupported dtype " + dtype_str(x) +
                         " (expected float32 or float64)");
  }
  Prepared p = prepare(x, axes_opt, keepdims, "reduce_logsumexp");
  py::array out(p.x.dtype(), p.out_shape);
  const void* src = p.x.data();
  void* dst = out.mutable_data();
  run_releasing_gil(p.x.size(), [&] {
    if (k == Kind::f32)
      reduce_logsumexp<float>(p.A, p.R, p.B, static_cast<const float*>(src),
                              static_cast<float*>(dst));
    else
      reduce_logsumexp<double>(p.A, p.R, p.B, static_cast<const double*>(src),
                               static_cast<double*>(dst));
  });
  return out;
}

}  // namespace

void register_reduce(py::module_& m) {
  m.def("reduce_sum", &reduce_py<false>, py::arg("x"), py::arg("axes") = py::none(),
        py::arg("keepdims") = false,
        "Sum of a float32/float64 array over `axes` (None: all), accumulated in float64 "
        "partials (a 16M-element float32 sum is within ~1e-7 of the exact value). Results do "
        "not depend on the thread count.");
  m.def("reduce_mean", &reduce_py<true>, py::arg("x"), py::arg("axes") = py::none(),
        py::arg("keepdims") = false,
        "Mean over `axes` (None: all): reduce_sum divided by the count (NaN for none).");
  m.def("reduce_max", &reduce_value_py<ReduceOp::max>, py::arg("x"), py::arg("axes") = py::none(),
        py::arg("keepdims") = false,
        "Maximum over `axes` (None: all) of a float32/float64/int32/int64 array; NaN "
        "propagates, an empty reduction gives -inf (the lowest integer).");
  m.def("reduce_min", &reduce_value_py<ReduceOp::min>, py::arg("x"), py::arg("axes") = py::none(),
        py::arg("keepdims") = false,
        "Minimum over `axes` (None: all); NaN propagates, an empty reduction gives +inf (the "
        "highest integer).");
  m.def("reduce_prod", &reduce_value_py<ReduceOp::prod>, py::arg("x"),
        py::arg("axes") = py::none(), py::arg("keepdims") = false,
        "Product over `axes` (None: all); integers wrap; an empty reduction gives 1.");
  m.def("argmax", &arg_py<true>, py::arg("x"), py::arg("axis"),
        "int64 index of the maximum along `axis`, TF1's rule: the first element strictly "
        "above the running best, which starts at the dtype's lowest finite value (NaN never "
        "wins; all-NaN gives 0). The axis must not be empty.");
  m.def("argmin", &arg_py<false>, py::arg("x"), py::arg("axis"),
        "int64 index of the minimum along `axis` (the mirror of argmax's rule).");
  m.def("reduce_logsumexp", &logsumexp_py, py::arg("x"), py::arg("axes") = py::none(),
        py::arg("keepdims") = false,
        "log(sum(exp(x))) over `axes` (None: all), shifted by the maximum when it is finite, "
        "summed in float64; empty reductions give -inf.");
}

}  // namespace bind
}  // namespace headwater
