#include <string>

#include "bindings/common.h"
#include "bindings/registry.h"
#include "gemm/gemm.h"

namespace headwater {
namespace bind {
namespace {

// A 2-D or 3-D operand seen as (batch, rows, cols) after an optional transpose of the last two
// axes; a 2-D operand has batch 1 and batch stride 0 so it broadcasts over the other's batch.
struct Operand {
  int64_t batch = 1, rows = 0, cols = 0;
  int64_t bs = 0, rs = 0, cs = 0;
};

Operand describe(const Layout& l, bool transpose) {
  Operand o;
  const int nd = l.ndim;
  if (nd == 3) {
    o.batch = l.shape[0];
    o.bs = o.batch == 1 ? 0 : l.strides[0];
  }
  o.rows = l.shape[nd - 2];
  o.cols = l.shape[nd - 1];
  o.rs = l.strides[nd - 2];
  o.cs = l.strides[nd - 1];
  if (transpose) {
    std::swap(o.rows, o.cols);
    std::swap(o.rs, o.cs);
  }
  return o;
}

std::string bool_str(bool v) { return v ? "True" : "False"; }

template <class T>
py::array run_gemm(const py::array& a, const py::array& b, bool ta, bool tb,
                   const py::object& bias_obj, bool relu) {
  Layout la, lb;
  layout_of(a, &la, "matmul");
  layout_of(b, &lb, "matmul");
  const Operand A = describe(la, ta), B = describe(lb, tb);
  if (A.cols != B.rows) {
    throw py::value_error("matmul: contraction dimensions differ: a has shape " + shape_str(a) +
                          " (transpose_a=" + bool_str(ta) + ") and b has shape " + shape_str(b) +
                          " (transpose_b=" + bool_str(tb) + "): " + std::to_string(A.cols) +
                          " != " + std::to_string(B.rows));
  }
  if (A.batch != B.batch && A.batch != 1 && B.batch != 1) {
    throw py::value_error("matmul: batch dimensions differ: a has shape " + shape_str(a) +
                          " and b has shape " + shape_str(b));
  }
  const int64_t batch = A.batch > B.batch ? A.batch : B.batch;
  const int64_t m = A.rows, n = B.cols, k = A.cols;
  std::vector<py::ssize_t> shape;
  if (a.ndim() == 3 || b.ndim() == 3) shape.push_back(batch);
  shape.push_back(m);
  shape.push_back(n);
  // py::array() is an empty float64 array, not a null handle: track presence separately.
  py::array bias;
  const bool has_bias = !bias_obj.is_none();
  if (has_bias) {
    bias = as_array(bias_obj);
    if (!bias.dtype().equal(py::dtype::of<T>())) {
      throw py::type_error("matmul: bias has dtype " + dtype_str(bias) + " but a and b are " +
                           dtype_str(a));
    }
    if (bias.ndim() != 1 || bias.shape(0) != n) {
      throw py::value_error("matmul: bias must have shape (" + std::to_string(n) +
                            ",) to match the result's columns, got " + shape_str(bias));
    }
    // The epilogue reads bias as a contiguous, aligned row.
    bias = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(bias);
  }
  py::array c(py::dtype::of<T>(), shape);

  GemmArgs<T> g;
  g.batch = batch;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = static_cast<const T*>(a.data());
  g.a_bs = A.bs;
  g.a_rs = A.rs;
  g.a_cs = A.cs;
  g.b = static_cast<const T*>(b.data());
  g.b_bs = B.bs;
  g.b_rs = B.rs;
  g.b_cs = B.cs;
  g.c = static_cast<T*>(c.mutable_data());
  g.c_bs = m * n;
  g.c_rs = n;
  g.bias = has_bias ? static_cast<const T*>(bias.data()) : nullptr;
  g.relu = relu;
  {
    py::gil_scoped_release nogil;
    gemm<T>(g);
  }
  return c;
}

py::array matmul_py(py::handle a_obj, py::handle b_obj, bool transpose_a, bool transpose_b,
                    py::object bias, bool relu) {
  py::array a = as_array(a_obj), b = as_array(b_obj);
  if (kind_of(a) == Kind::other) {
    throw py::type_error("matmul: unsupported dtype " + dtype_str(a) +
                         " for operand 'a' (expected float32 or float64)");
  }
  if (kind_of(b) == Kind::other) {
    throw py::type_error("matmul: unsupported dtype " + dtype_str(b) +
                         " for operand 'b' (expected float32 or float64)");
  }
  if (kind_of(a) != kind_of(b)) {
    throw py::type_error("matmul: dtype mismatch: a is " + dtype_str(a) + " but b is " +
                         dtype_str(b) + " (both operands must have the same dtype)");
  }
  if (a.ndim() != 2 && a.ndim() != 3) {
    throw py::value_error("matmul: a must be 2-D or 3-D (batched), got shape " + shape_str(a));
  }
  if (b.ndim() != 2 && b.ndim() != 3) {
    throw py::value_error("matmul: b must be 2-D or 3-D (batched), got shape " + shape_str(b));
  }
  a = readable(a);
  b = readable(b);
  if (kind_of(a) == Kind::f32) return run_gemm<float>(a, b, transpose_a, transpose_b, bias, relu);
  return run_gemm<double>(a, b, transpose_a, transpose_b, bias, relu);
}

}  // namespace

void register_gemm(py::module_& m) {
  m.def("matmul", &matmul_py, py::arg("a"), py::arg("b"), py::arg("transpose_a") = false,
        py::arg("transpose_b") = false, py::kw_only(), py::arg("bias") = py::none(),
        py::arg("relu") = false,
        "matmul(a, b, transpose_a=False, transpose_b=False, *, bias=None, relu=False) -> "
        "numpy.ndarray\n\n"
        "Matrix product of 2-D (M, K) x (K, N) float32/float64 arrays of the same dtype, or "
        "batched 3-D (B, M, K) x (B, K, N) where a 2-D or batch-1 operand broadcasts over the "
        "batch. transpose_a/transpose_b use the transpose of the last two axes without copying. "
        "With `bias` (shape (N,), same dtype) and/or `relu` the result is relu(a @ b + bias), "
        "fused into the GEMM's last pass over C. Returns a new C-contiguous array.\n\n"
        "Raises TypeError on unsupported or mismatched dtypes and ValueError on incompatible "
        "shapes.");
  m.def(
      "_gemm_tiles",
      [] {
        const GemmTable& t = gemm_table();
        py::dict d;
        py::list f32, f64;
        for (int i = 0; i < t.ntiles_f32; ++i) f32.append(py::make_tuple(t.mr_f32[i], t.nr_f32[i]));
        for (int i = 0; i < t.ntiles_f64; ++i) f64.append(py::make_tuple(t.mr_f64[i], t.nr_f64[i]));
        d["float32"] = f32;
        d["float64"] = f64;
        return d;
      },
      "Register tiles [(MR, NR), ...] the current ISA's GEMM chooses between per dtype (for "
      "tests).");
  m.def(
      "_gemm_force_tile", [](int index) { set_gemm_forced_tile(index); }, py::arg("index"),
      "Test hook: use entry `index` of _gemm_tiles() for every product (-1: choose by shape).");
  m.def(
      "_gemm_operand_mode", [](int mode) { set_gemm_operand_mode(mode); }, py::arg("mode"),
      "Test hook: 0 packs both operands always, 1 reads them in place whenever their layout "
      "allows, -1 decides by size (the default).");
}

}  // namespace bind
}  // namespace headwater
