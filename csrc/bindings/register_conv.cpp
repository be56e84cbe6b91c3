#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <string>

#include "bindings/common.h"
#include "bindings/registry.h"
#include "conv/conv.h"
#include "conv/conv_direct.h"
#include "conv/pool.h"
#include "conv/winograd.h"

namespace headwater {
namespace bind {
namespace {

using Pair = std::array<int64_t, 2>;
using Pads = std::array<int64_t, 4>;  // top, bottom, left, right

// C-contiguous float32/float64 4-D array of the expected dtype (copied if it is not).
py::array nhwc(const char* op, const char* what, py::handle obj, const py::dtype* want) {
  py::array a = as_array(obj);
  if (kind_of(a) == Kind::other) {
    throw py::type_error(std::string(op) + ": unsupported dtype " + dtype_str(a) + " for " +
                         what + " (expected float32 or float64)");
  }
  if (want != nullptr && !a.dtype().equal(*want)) {
    throw py::type_error(std::string(op) + ": " + what + " has dtype " + dtype_str(a) +
                         " but expected " + py::str(*want).cast<std::string>());
  }
  if (a.ndim() != 4) {
    throw py::value_error(std::string(op) + ": " + what + " must be 4-D, got shape " +
                          shape_str(a));
  }
  const py::dtype dt = a.dtype();
  return py::array::ensure(a, py::array::c_style | py::array::forcecast).attr("astype")(
      dt, py::arg("copy") = false);
}

void check_positive(const char* op, const Pair& s, const char* what) {
  if (s[0] < 1 || s[1] < 1)
    throw py::value_error(std::string(op) + ": " + what + " must be >= 1, got (" +
                          std::to_string(s[0]) + ", " + std::to_string(s[1]) + ")");
}

// Output size along one dimension; throws when the window does not fit.
int64_t out_size(const char* op, int64_t in, int64_t k, int64_t s, int64_t d, int64_t before,
                 int64_t after) {
  const int64_t eff = (k - 1) * d + 1;
  const int64_t span = in + before + after;
  if (before < 0 || after < 0) throw py::value_error(std::string(op) + ": negative padding");
  if (span < eff) {
    throw py::value_error(std::string(op) + ": computed output size would be negative: input " +
                          std::to_string(in) + " (padded " + std::to_string(span) +
                          ") is smaller than the window " + std::to_string(eff));
  }
  return (span - eff) / s + 1;
}

ConvGeom geom(const char* op, int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw,
              int64_t co, const Pair& strides, const Pair& dil, const Pads& pads) {
  check_positive(op, strides, "strides");
  check_positive(op, dil, "dilations");
  ConvGeom g;
  g.n = n, g.h = h, g.w = w, g.c = c, g.kh = kh, g.kw = kw, g.co = co;
  g.sh = strides[0], g.sw = strides[1], g.dh = dil[0], g.dw = dil[1];
  g.pt = pads[0], g.pl = pads[2];
  g.oh = out_size(op, h, kh, g.sh, g.dh, pads[0], pads[1]);
  g.ow = out_size(op, w, kw, g.sw, g.dw, pads[2], pads[3]);
  return g;
}

std::string dims(const ConvGeom& g, bool out) {
  return shape_str(std::vector<int64_t>{g.n, out ? g.oh : g.h, out ? g.ow : g.w,
                                        out ? g.co : g.c});
}

template <class T>
T* ptr(py::array& a) {
  return static_cast<T*>(a.mutable_data());
}
template <class T>
const T* cptr(const py::array& a) {
  return static_cast<const T*>(a.data());
}

py::array new_array(const py::dtype& dt, std::vector<py::ssize_t> shape) {
  return py::array(dt, shape);
}

py::array conv2d_py(py::handle x_obj, py::handle f_obj, Pair strides, Pair dil, Pads pads) {
  const char* op = "conv2d";
  py::array x = nhwc(op, "input", x_obj, nullptr);
  const py::dtype dt = x.dtype();
  py::array f = nhwc(op, "filter", f_obj, &dt);
  if (f.shape(2) != x.shape(3)) {
    throw py::value_error("conv2d: input depth " + std::to_string(x.shape(3)) +
                          " does not match filter depth " + std::to_string(f.shape(2)));
  }
  const ConvGeom g = geom(op, x.shape(0), x.shape(1), x.shape(2), x.shape(3), f.shape(0),
                          f.shape(1), f.shape(3), strides, dil, pads);
  py::array y = new_array(dt, {g.n, g.oh, g.ow, g.co});
  py::gil_scoped_release nogil;
  if (kind_of(x) == Kind::f32)
    conv2d_fwd<float>(g, cptr<float>(x), cptr<float>(f), ptr<float>(y));
  else
    conv2d_fwd<double>(g, cptr<double>(x), cptr<double>(f), ptr<double>(y));
  return y;
}

py::array conv2d_bwd_input_py(std::array<int64_t, 4> in, py::handle f_obj, py::handle dy_obj,
                              Pair strides, Pair dil, Pads pads) {
  const char* op = "conv2d_backprop_input";
  py::array f = nhwc(op, "filter", f_obj, nullptr);
  const py::dtype dt = f.dtype();
  py::array dy = nhwc(op, "out_backprop", dy_obj, &dt);
  if (f.shape(2) != in[3]) {
    throw py::value_error(std::string(op) + ": input depth " + std::to_string(in[3]) +
                          " does not match filter depth " + std::to_string(f.shape(2)));
  }
  const ConvGeom g = geom(op, in[0], in[1], in[2], in[3], f.shape(0), f.shape(1), f.shape(3),
                          strides, dil, pads);
  if (dy.shape(0) != g.n || dy.shape(1) != g.oh || dy.shape(2) != g.ow || dy.shape(3) != g.co) {
    throw py::value_error(std::string(op) + ": out_backprop has shape " + shape_str(dy) +
                          " but the convolution gives " + dims(g, true));
  }
  py::array dx = new_array(dt, {g.n, g.h, g.w, g.c});
  py::gil_scoped_release nogil;
  if (kind_of(f) == Kind::f32)
    conv2d_bwd_input<float>(g, cptr<float>(f), cptr<float>(dy), ptr<float>(dx));
  else
    conv2d_bwd_input<double>(g, cptr<double>(f), cptr<double>(dy), ptr<double>(dx));
  return dx;
}

py::array conv2d_bwd_filter_py(py::handle x_obj, std::array<int64_t, 4> fs, py::handle dy_obj,
                               Pair strides, Pair dil, Pads pads) {
  const char* op = "conv2d_backprop_filter";
  py::array x = nhwc(op, "input", x_obj, nullptr);
  const py::dtype dt = x.dtype();
  py::array dy = nhwc(op, "out_backprop", dy_obj, &dt);
  if (fs[2] != x.shape(3)) {
    throw py::value_error(std::string(op) + ": input depth " + std::to_string(x.shape(3)) +
                          " does not match filter depth " + std::to_string(fs[2]));
  }
  const ConvGeom g = geom(op, x.shape(0), x.shape(1), x.shape(2), x.shape(3), fs[0], fs[1],
                          fs[3], strides, dil, pads);
  if (dy.shape(0) != g.n || dy.shape(1) != g.oh || dy.shape(2) != g.ow || dy.shape(3) != g.co) {
    throw py::value_error(std::string(op) + ": out_backprop has shape " + shape_str(dy) +
                          " but the convolution gives " + dims(g, true));
  }
  py::array df = new_array(dt, {fs[0], fs[1], fs[2], fs[3]});
  py::gil_scoped_release nogil;
  if (kind_of(x) == Kind::f32)
    conv2d_bwd_filter<float>(g, cptr<float>(x), cptr<float>(dy), ptr<float>(df));
  else
    conv2d_bwd_filter<double>(g, cptr<double>(x), cptr<double>(dy), ptr<double>(df));
  return df;
}

ConvGeom pool_geom(const char* op, int64_t n, int64_t h, int64_t w, int64_t c, Pair ksize,
                   Pair strides, Pads pads) {
  check_positive(op, ksize, "ksize");
  return geom(op, n, h, w, c, ksize[0], ksize[1], c, strides, Pair{1, 1}, pads);
}

template <bool MAX>
py::array pool_py(py::handle x_obj, Pair ksize, Pair strides, Pads pads) {
  const char* op = MAX ? "max_pool" : "avg_pool";
  py::array x = nhwc(op, "input", x_obj, nullptr);
  const ConvGeom g =
      pool_geom(op, x.shape(0), x.shape(1), x.shape(2), x.shape(3), ksize, strides, pads);
  py::array y = new_array(x.dtype(), {g.n, g.oh, g.ow, g.c});
  const bool f32 = kind_of(x) == Kind::f32;
  py::gil_scoped_release nogil;
  if (MAX) {
    if (f32)
      max_pool_fwd<float>(g, cptr<float>(x), ptr<float>(y));
    else
      max_pool_fwd<double>(g, cptr<double>(x), ptr<double>(y));
  } else {
    if (f32)
      avg_pool_fwd<float>(g, cptr<float>(x), ptr<float>(y));
    else
      avg_pool_fwd<double>(g, cptr<double>(x), ptr<double>(y));
  }
  return y;
}

void check_grad(const char* op, const py::array& dy, const ConvGeom& g) {
  if (dy.shape(0) != g.n || dy.shape(1) != g.oh || dy.shape(2) != g.ow || dy.shape(3) != g.c) {
    throw py::value_error(std::string(op) + ": grad has shape " + shape_str(dy) +
                          " but the pooled output has shape " + dims(g, true));
  }
}

py::array max_pool_grad_py(py::handle x_obj, py::handle dy_obj, Pair ksize, Pair strides,
                           Pads pads) {
  const char* op = "max_pool_grad";
  py::array x = nhwc(op, "input", x_obj, nullptr);
  const py::dtype dt = x.dtype();
  py::array dy = nhwc(op, "grad", dy_obj, &dt);
  const ConvGeom g =
      pool_geom(op, x.shape(0), x.shape(1), x.shape(2), x.shape(3), ksize, strides, pads);
  check_grad(op, dy, g);
  py::array dx = new_array(dt, {g.n, g.h, g.w, g.c});
  py::gil_scoped_release nogil;
  if (kind_of(x) == Kind::f32)
    max_pool_bwd<float>(g, cptr<float>(x), cptr<float>(dy), ptr<float>(dx));
  else
    max_pool_bwd<double>(g, cptr<double>(x), cptr<double>(dy), ptr<double>(dx));
  return dx;
}

py::tuple max_pool_argmax_py(py::handle x_obj, Pair ksize, Pair strides, Pads pads) {
  const char* op = "max_pool_argmax";
  py::array x = nhwc(op, "input", x_obj, nullptr);
  const ConvGeom g =
      pool_geom(op, x.shape(0), x.shape(1), x.shape(2), x.shape(3), ksize, strides, pads);
  if (!max_pool_argmax_ok(g)) {
    throw py::value_error(std::string(op) + ": needs windows that do not overlap (strides >= "
                          "ksize) of at most 256 elements");
  }
  py::array y = new_array(x.dtype(), {g.n, g.oh, g.ow, g.c});
  py::array arg = new_array(py::dtype::of<uint8_t>(), {g.n, g.oh, g.ow, g.c});
  const bool f32 = kind_of(x) == Kind::f32;
  {
    py::gil_scoped_release nogil;
    if (f32)
      max_pool_fwd_argmax<float>(g, cptr<float>(x), ptr<float>(y), ptr<uint8_t>(arg));
    else
      max_pool_fwd_argmax<double>(g, cptr<double>(x), ptr<double>(y), ptr<uint8_t>(arg));
  }
  return py::make_tuple(y, arg);
}

// A C-contiguous array whose data starts on a 64-byte boundary (a view into a slightly larger
// one), so that the streaming stores of max_pool_bwd_argmax line up with whole vectors.
py::array new_array_aligned64(const py::dtype& dt, const std::vector<py::ssize_t>& shape) {
  py::ssize_t total = 1;
  for (py::ssize_t d : shape) total *= d;
  const py::ssize_t item = dt.itemsize();
  py::array big(dt, std::vector<py::ssize_t>{total + 64 / item});
  const auto addr = reinterpret_cast<std::uintptr_t>(big.data());
  const py::ssize_t off = static_cast<py::ssize_t>((64 - addr % 64) % 64) / item;
  py::array flat = big[py::slice(off, off + total, 1)];
  return flat.attr("reshape")(py::tuple(py::cast(shape)));
}

py::array max_pool_grad_argmax_py(std::array<int64_t, 4> in, py::handle arg_obj,
                                  py::handle dy_obj, Pair ksize, Pair strides, Pads pads) {
  const char* op = "max_pool_grad_argmax";
  py::array dy = nhwc(op, "grad", dy_obj, nullptr);
  const ConvGeom g = pool_geom(op, in[0], in[1], in[2], in[3], ksize, strides, pads);
  check_grad(op, dy, g);
  if (!max_pool_argmax_ok(g)) {
    throw py::value_error(std::string(op) + ": needs windows that do not overlap (strides >= "
                          "ksize) of at most 256 elements");
  }
  // The slots index into each window, so an argmax from another geometry could point outside
  // it: only the exact uint8 array max_pool_argmax returns for this shape is accepted.
  py::array arg = as_array(arg_obj);
  if (!arg.dtype().equal(py::dtype::of<uint8_t>()) || arg.ndim() != 4 ||
      !(arg.flags() & py::array::c_style) || arg.shape(0) != g.n || arg.shape(1) != g.oh ||
      arg.shape(2) != g.ow || arg.shape(3) != g.c) {
    throw py::value_error(std::string(op) + ": argmax must be a C-contiguous uint8 array of "
                          "shape " + dims(g, true) + ", got " + dtype_str(arg) + " " +
                          shape_str(arg));
  }
  py::array dx = new_array_aligned64(dy.dtype(), {g.n, g.h, g.w, g.c});
  py::gil_scoped_release nogil;
  if (kind_of(dy) == Kind::f32)
    max_pool_bwd_argmax<float>(g, cptr<uint8_t>(arg), cptr<float>(dy), ptr<float>(dx));
  else
    max_pool_bwd_argmax<double>(g, cptr<uint8_t>(arg), cptr<double>(dy), ptr<double>(dx));
  return dx;
}

py::array avg_pool_grad_py(std::array<int64_t, 4> in, py::handle dy_obj, Pair ksize,
                           Pair strides, Pads pads) {
  const char* op = "avg_pool_grad";
  py::array dy = nhwc(op, "grad", dy_obj, nullptr);
  const ConvGeom g = pool_geom(op, in[0], in[1], in[2], in[3], ksize, strides, pads);
  check_grad(op, dy, g);
  py::array dx = new_array(dy.dtype(), {g.n, g.h, g.w, g.c});
  py::gil_scoped_release nogil;
  if (kind_of(dy) == Kind::f32)
    avg_pool_bwd<float>(g, cptr<float>(dy), ptr<float>(dx));
  else
    avg_pool_bwd<double>(g, cptr<double>(dy), ptr<double>(dx));
  return dx;
}

}  // namespace

void register_conv(py::module_& m) {
  const auto s = py::arg("strides") = Pair{1, 1};
  const auto d = py::arg("dilations") = Pair{1, 1};
  const auto p = py::arg("padding") = Pads{0, 0, 0, 0};
  m.def("conv2d", &conv2d_py, py::arg("input"), py::arg("filter"), s, d, p,
        "conv2d(input, filter, strides=(1, 1), dilations=(1, 1), padding=(0, 0, 0, 0))\n\n"
        "NHWC convolution with an HWIO filter, float32/float64. `padding` is explicit "
        "(top, bottom, left, right); the caller computes TF's SAME/VALID amounts.");
  m.def("conv2d_backprop_input", &conv2d_bwd_input_py, py::arg("input_sizes"),
        py::arg("filter"), py::arg("out_backprop"), s, d, p,
        "Gradient of conv2d with respect to its input, shape `input_sizes` (N, H, W, C).");
  m.def("conv2d_backprop_filter", &conv2d_bwd_filter_py, py::arg("input"),
        py::arg("filter_sizes"), py::arg("out_backprop"), s, d, p,
        "Gradient of conv2d with respect to its filter, shape `filter_sizes` (KH, KW, C, CO).");
  m.def("set_conv_winograd", &set_winograd_mode, py::arg("mode"),
        "Winograd policy of float32 stride-1 3x3/5x5 convolutions: 0 picks per shape (default), "
        "-1 always uses im2col, 2 or 4 force F(2x2) / F(4x4) output tiles wherever they apply.");
  m.def("get_conv_winograd", &get_winograd_mode, "The policy set by set_conv_winograd.");
  m.def("set_conv_direct", &set_direct_mode, py::arg("mode"),
        "Direct-convolution policy (conv2d forward, filter gradient, stride-1 input gradient): "
        "0 picks per shape (default: inputs of at most 4 channels), -1 never, 1 wherever it "
        "applies.");
  m.def("get_conv_direct", &get_direct_mode, "The policy set by set_conv_direct.");
  const auto k = py::arg("ksize");
  m.def("max_pool", &pool_py<true>, py::arg("input"), k, s, p,
        "NHWC max pooling; padding positions never win.");
  m.def("avg_pool", &pool_py<false>, py::arg("input"), k, s, p,
        "NHWC average pooling over the valid (unpadded) elements of each window.");
  m.def("max_pool_grad", &max_pool_grad_py, py::arg("input"), py::arg("grad"), k, s, p,
        "Gradient of max_pool: each window's gradient goes to its first maximum.");
  m.def("max_pool_argmax", &max_pool_argmax_py, py::arg("input"), k, s, p,
        "max_pool that also returns each window's first-maximum slot (i * cols + j in the "
        "window's valid rows x cols) as a uint8 array of the output's shape, for "
        "max_pool_grad_argmax. Windows must not overlap and hold at most 256 elements.");
  m.def("max_pool_grad_argmax", &max_pool_grad_argmax_py, py::arg("input_sizes"),
        py::arg("argmax"), py::arg("grad"), k, s, p,
        "max_pool_grad from the argmax max_pool_argmax returned (the input is not needed).");
  m.def("avg_pool_grad", &avg_pool_grad_py, py::arg("input_sizes"), py::arg("grad"), k, s, p,
        "Gradient of avg_pool with respect to an input of shape `input_sizes`.");
}

}  // namespace bind
}  // namespace headwater
