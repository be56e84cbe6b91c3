#include <string>

#include "bindings/common.h"
#include "bindings/registry.h"
#include "reduce/softmax.h"

namespace headwater {
namespace bind {
namespace {

// C-contiguous float32/float64 array of rank >= `min_rank` (copied if it is not contiguous).
py::array floats(const char* op, const char* what, py::handle obj, int min_rank) {
  py::array a = as_array(obj);
  if (kind_of(a) == Kind::other) {
    throw py::type_error(std::string(op) + ": unsupported dtype " + dtype_str(a) + " for " +
                         what + " (expected float32 or float64)");
  }
  if (a.ndim() < min_rank) {
    throw py::value_error(std::string(op) + ": " + what + " must have rank >= " +
                          std::to_string(min_rank) + ", got shape " + shape_str(a));
  }
  const py::dtype dt = a.dtype();
  return py::array::ensure(a, py::array::c_style | py::array::forcecast)
      .attr("astype")(dt, py::arg("copy") = false);
}

template <bool LOG>
py::array softmax_py(py::handle x_obj) {
  const char* op = LOG ? "log_softmax" : "softmax";
  py::array x = floats(op, "logits", x_obj, 1);
  const int64_t c = x.shape(x.ndim() - 1);
  const int64_t rows = c > 0 ? x.size() / c : 0;
  std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
  py::array out(x.dtype(), shape);
  const bool f32 = kind_of(x) == Kind::f32;
  auto run = [&] {
    if (f32) {
      auto f = LOG ? &log_softmax_rows<float> : &softmax_rows<float>;
      f(rows, c, static_cast<const float*>(x.data()), static_cast<float*>(out.mutable_data()));
    } else {
      auto f = LOG ? &log_softmax_rows<double> : &softmax_rows<double>;
      f(rows, c, static_cast<const double*>(x.data()), static_cast<double*>(out.mutable_data()));
    }
  };
  run_releasing_gil(x.size(), run);
  return out;
}

py::tuple xent_py(py::handle logits_obj, py::handle labels_obj) {
  const char* op = "softmax_cross_entropy_with_logits";
  py::array x = floats(op, "logits", logits_obj, 2);
  py::array l = floats(op, "labels", labels_obj, 2);
  if (x.ndim() != 2 || l.ndim() != 2 || x.shape(0) != l.shape(0) || x.shape(1) != l.shape(1)) {
    throw py::value_error(std::string(op) + ": logits and labels must be 2-D of the same shape, "
                          "got " + shape_str(x) + " and " + shape_str(l));
  }
  if (!x.dtype().equal(l.dtype())) {
    throw py::type_error(std::string(op) + ": logits are " + dtype_str(x) + " but labels are " +
                         dtype_str(l));
  }
  const int64_t rows = x.shape(0), c = x.shape(1);
  py::array loss(x.dtype(), std::vector<py::ssize_t>{rows});
  py::array back(x.dtype(), std::vector<py::ssize_t>{rows, c});
  const bool f32 = kind_of(x) == Kind::f32;
  {
    py::gil_scoped_release nogil;  // scoped: the tuple below needs the GIL back
    if (f32)
      softmax_xent_rows<float>(rows, c, static_cast<const float*>(x.data()),
                               static_cast<const float*>(l.data()),
                               static_cast<float*>(loss.mutable_data()),
                               static_cast<float*>(back.mutable_data()));
    else
      softmax_xent_rows<double>(rows, c, static_cast<const double*>(x.data()),
                                static_cast<const double*>(l.data()),
                                static_cast<double*>(loss.mutable_data()),
                                static_cast<double*>(back.mutable_data()));
  }
  return py::make_tuple(loss, back);
}

template <class T, class I>
void run_sparse(const py::array& x, const py::array& lab, py::array& loss, py::array& back) {
  const int64_t rows = x.shape(0), c = x.shape(1);
  const I* li = static_cast<const I*>(lab.data());
  for (int64_t r = 0; r < rows; ++r) {
    if (li[r] < 0 || li[r] >= c) {
      std::string vals;
      for (int64_t q = 0; q < rows; ++q) vals += (q ? " " : "") + std::to_string(li[q]);
      throw py::value_error("Received a label value of " + std::to_string(li[r]) +
                            " which is outside the valid range of [0, " + std::to_string(c) +
                            ").  Label values: " + vals);
    }
  }
  py::gil_scoped_release nogil;
  sparse_softmax_xent_rows<T, I>(rows, c, static_cast<const T*>(x.data()), li,
                                 static_cast<T*>(loss.mutable_data()),
                                 static_cast<T*>(back.mutable_data()));
}

py::tuple sparse_xent_py(py::handle logits_obj, py::handle labels_obj) {
  const char* op = "sparse_softmax_cross_entropy_with_logits";
  py::array x = floats(op, "logits", logits_obj, 2);
  py::array lab = as_array(labels_obj);
  const bool i32 = lab.dtype().equal(py::dtype::of<int32_t>());
  const bool i64 = lab.dtype().equal(py::dtype::of<int64_t>());
  if (!i32 && !i64)
    throw py::type_error(std::string(op) + ": labels must be int32 or int64, got " +
                         dtype_str(lab));
  if (x.ndim() != 2 || lab.ndim() != 1 || lab.shape(0) != x.shape(0)) {
    throw py::value_error(std::string(op) + ": logits must be 2-D and labels 1-D with the same "
                          "first dimension, got " + shape_str(x) + " and " + shape_str(lab));
  }
  lab = py::array::ensure(lab, py::array::c_style);
  const int64_t rows = x.shape(0), c = x.shape(1);
  py::array loss(x.dtype(), std::vector<py::ssize_t>{rows});
  py::array back(x.dtype(), std::vector<py::ssize_t>{rows, c});
  if (rows > 0 && c == 0)
    throw py::value_error(std::string(op) + ": logits must have at least one class");
  if (kind_of(x) == Kind::f32) {
    if (i32) run_sparse<float, int32_t>(x, lab, loss, back);
    else run_sparse<float, int64_t>(x, lab, loss, back);
  } else {
    if (i32) run_sparse<double, int32_t>(x, lab, loss, back);
    else run_sparse<double, int64_t>(x, lab, loss, back);
  }
  return py::make_tuple(loss, back);
}

}  // namespace

void register_softmax(py::module_& m) {
  m.def("softmax", &softmax_py<false>, py::arg("logits"),
        "Softmax over the last axis (max-shifted, one pass per row), float32/float64.");
  m.def("log_softmax", &softmax_py<true>, py::arg("logits"),
        "Log-softmax over the last axis: (x - max) - log(sum(exp(x - max))).");
  m.def("softmax_cross_entropy_with_logits", &xent_py, py::arg("logits"), py::arg("labels"),
        "(loss, backprop) for 2-D logits and same-shape labels: loss = -sum(labels * "
        "log_softmax), backprop = softmax - labels.");
  m.def("sparse_softmax_cross_entropy_with_logits", &sparse_xent_py, py::arg("logits"),
        py::arg("labels"),
        "(loss, backprop) for 2-D logits and int32/int64 class labels; ValueError (TF's "
        "message) for a label outside [0, classes).");
}

}  // namespace bind
}  // namespace headwater
