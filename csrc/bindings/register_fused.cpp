#include <pybind11/stl.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "bindings/common.h"
#include "bindings/registry.h"
#include "elementwise/binary.h"
#include "elementwise/fused.h"

namespace headwater {
namespace bind {
namespace {

const std::unordered_map<std::string, FusedOp>& op_names() {
  static const std::unordered_map<std::string, FusedOp> m = {
      {"add", FusedOp::add},       {"sub", FusedOp::sub},         {"mul", FusedOp::mul},
      {"div", FusedOp::div},       {"maximum", FusedOp::maximum}, {"minimum", FusedOp::minimum},
      {"neg", FusedOp::neg},       {"abs", FusedOp::abs},         {"relu", FusedOp::relu},
      {"square", FusedOp::square}, {"sqrt", FusedOp::sqrt},       {"exp", FusedOp::exp},
      {"log", FusedOp::log},       {"tanh", FusedOp::tanh},       {"sigmoid", FusedOp::sigmoid},
      {"const", FusedOp::constant},
  };
  return m;
}

[[noreturn]] void bad(size_t j, const std::string& why) {
  throw py::value_error("fused_elementwise: instruction " + std::to_string(j) + ": " + why);
}

std::vector<FusedInstr> parse_program(const py::sequence& program, int ninputs) {
  std::vector<FusedInstr> prog;
  bool defined[kFusedMaxRegs] = {};
  for (int i = 0; i < ninputs; ++i) defined[i] = true;
  const size_t n = py::len(program);
  if (n == 0) throw py::value_error("fused_elementwise: the program is empty");
  for (size_t j = 0; j < n; ++j) {
    py::sequence ins = py::reinterpret_borrow<py::sequence>(program[j]);
    const size_t len = py::len(ins);
    if (len < 3) bad(j, "expected (op, dst, operand[, operand])");
    const std::string name = py::str(ins[0]);
    auto it = op_names().find(name);
    if (it == op_names().end()) bad(j, "unknown op '" + name + "'");
    FusedInstr in{it->second, 0, 0, 0, 0.0};
    auto reg = [&](size_t pos, bool read) {
      const int64_t r = py::cast<int64_t>(ins[pos]);
      if (r < 0 || r >= kFusedMaxRegs)
        bad(j, "register " + std::to_string(r) + " is out of range [0, " +
                   std::to_string(kFusedMaxRegs) + ")");
      if (read && !defined[r])
        bad(j, "register " + std::to_string(r) + " is read before it is set");
      return static_cast<int>(r);
    };
    const size_t want = in.op == FusedOp::constant ? 3 : (fused_is_binary(in.op) ? 4 : 3);
    if (len != want)
      bad(j, "'" + name + "' takes " + std::to_string(want - 1) + " arguments, got " +
                 std::to_string(len - 1));
    if (in.op == FusedOp::constant) {
      in.value = py::cast<double>(ins[2]);
    } else {
      in.a = reg(2, true);
      if (fused_is_binary(in.op)) in.b = reg(3, true);
    }
    in.dst = reg(1, false);
    defined[in.dst] = true;
    prog.push_back(in);
  }
  return prog;
}

template <class T>
py::array run(const std::vector<FusedInstr>& prog, std::vector<py::array>& arrays,
              const std::vector<int64_t>& shape, py::object out_obj, const py::dtype& dt) {
  py::array out;
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  if (out_obj.is_none()) {
    out = py::array(dt, std::vector<py::ssize_t>(shape.begin(), shape.end()));
  } else {
    out = py::reinterpret_borrow<py::array>(out_obj);
    bool ok = out.dtype().equal(dt) && (out.flags() & py::array::c_style) && out.writeable() &&
              out.ndim() == static_cast<py::ssize_t>(shape.size());
    for (size_t d = 0; ok && d < shape.size(); ++d) ok = out.shape(d) == shape[d];
    if (!ok)
      throw py::value_error("fused_elementwise: out must be a writable C-contiguous " +
                            std::string(py::str(dt)) + " array of shape " + shape_str(shape));
  }
  std::vector<FusedInput<T>> inputs;
  py::module_ np = py::module_::import("numpy");
  for (auto& a : arrays) {
    FusedInput<T> in{nullptr, FusedInputKind::full, 0};
    const int64_t size = a.size();
    // Trailing-dims broadcast of a C-contiguous array: a repeated row.
    bool trailing = a.ndim() <= static_cast<py::ssize_t>(shape.size());
    bool started = false;
    for (py::ssize_t d = 0; trailing && d < a.ndim(); ++d) {
      const int64_t od = shape[shape.size() - static_cast<size_t>(a.ndim() - d)];
      // Leading size-1 dims of the input are fine; from the first other dim on, all match.
      if (!started && a.shape(d) == 1) continue;
      started = true;
      trailing = a.shape(d) == od;
    }
    if (!out_obj.is_none() && may_overlap(a, out) && !same_layout(a, out)) {
      a = np.attr("array")(a);  // partial overlap with out: read a copy
    }
    if (size == 1) {
      a = np.attr("ascontiguousarray")(a);
      in.kind = FusedInputKind::scalar;
    } else if (size == n && (a.flags() & py::array::c_style)) {
      in.kind = FusedInputKind::full;
    } else if (trailing && (a.flags() & py::array::c_style) && size > 0) {
      in.kind = FusedInputKind::row;
      in.len = size;
    } else {
      // Any other broadcast (columns, strided views): materialise it once.
      std::vector<py::ssize_t> sh(shape.begin(), shape.end());
      a = np.attr("ascontiguousarray")(np.attr("broadcast_to")(a, sh));
      in.kind = FusedInputKind::full;
    }
    in.data = static_cast<const T*>(a.data());
    inputs.push_back(in);
  }
  T* o = static_cast<T*>(out.mutable_data());
  run_releasing_gil(n, [&] { fused_elementwise<T>(prog, inputs, n, o); });
  return out;
}

py::array fused_py(py::sequence program, py::sequence inputs_obj, py::object out_obj) {
  const size_t nin = py::len(inputs_obj);
  if (nin > static_cast<size_t>(kFusedMaxRegs))
    throw py::value_error("fused_elementwise: at most " + std::to_string(kFusedMaxRegs) +
                          " inputs");
  // The dtype comes from the arrays; bare Python numbers adopt it.
  py::object dt_obj = py::none();
  for (size_t i = 0; i < nin; ++i) {
    py::handle h = inputs_obj[i];
    if (is_python_scalar(h)) continue;
    py::array a = as_array(h);
    if (kind_of(a) == Kind::other)
      throw py::type_error("fused_elementwise: input " + std::to_string(i) +
                           " has unsupported dtype " + dtype_str(a) +
                           " (expected float32 or float64)");
    if (dt_obj.is_none()) {
      dt_obj = a.dtype();
    } else if (!a.dtype().equal(py::reinterpret_borrow<py::dtype>(dt_obj))) {
      throw py::type_error("fused_elementwise: input " + std::to_string(i) + " is " +
                           dtype_str(a) + " but input 0 is " +
                           std::string(py::str(dt_obj)) + " (all inputs share one dtype)");
    }
  }
  if (dt_obj.is_none() && !out_obj.is_none())
    dt_obj = py::reinterpret_borrow<py::array>(out_obj).dtype();
  if (dt_obj.is_none()) dt_obj = py::dtype::of<double>();
  const py::dtype dt = py::reinterpret_borrow<py::dtype>(dt_obj);
  py::module_ np = py::module_::import("numpy");
  std::vector<py::array> arrays;
  std::vector<int64_t> shape;
  for (size_t i = 0; i < nin; ++i) {
    py::array a = np.attr("asarray")(inputs_obj[i], dt);
    a = readable(a);
    std::vector<int64_t> s(a.shape(), a.shape() + a.ndim()), b;
    if (!broadcast_shapes(static_cast<int>(shape.size()), shape.data(), static_cast<int>(s.size()),
                          s.data(), &b))
      throw py::value_error("fused_elementwise: input " + std::to_string(i) + " of shape " +
                            shape_str(s) + " does not broadcast with " + shape_str(shape));
    shape = b;
    arrays.push_back(a);
  }
  const std::vector<FusedInstr> prog = parse_program(program, static_cast<int>(nin));
  if (kind_of(py::array(dt, std::vector<py::ssize_t>{0})) == Kind::f32)
    return run<float>(prog, arrays, shape, out_obj, dt);
  if (kind_of(py::array(dt, std::vector<py::ssize_t>{0})) == Kind::f64)
    return run<double>(prog, arrays, shape, out_obj, dt);
  throw py::type_error("fused_elementwise: out has unsupported dtype " + std::string(py::str(dt)));
}

}  // namespace

void register_fused(py::module_& m) {
  m.def("fused_elementwise", &fused_py, py::arg("program"), py::arg("inputs"),
        py::arg("out") = py::none(),
        "fused_elementwise(program, inputs, out=None) -> numpy.ndarray\n\n"
        "Evaluates a straight-line program over registers in one pass, without full-size "
        "temporaries. `inputs` (float32 or float64 arrays, or Python numbers) fill registers "
        "0..len(inputs)-1 and broadcast to a common shape. Each instruction is a tuple: "
        "(\"const\", dst, value), (unary, dst, a) with unary in neg, abs, relu, square, sqrt, "
        "exp, log, tanh, sigmoid, or (binary, dst, a, b) with binary in add, sub, mul, div, "
        "maximum, minimum (NaN-propagating like numpy). Registers are 0..31; the result is the "
        "last instruction's. Example, relu(x * w + b) * 0.5 with inputs [x, w, b]: "
        "[(\"mul\", 3, 0, 1), (\"add\", 3, 3, 2), (\"relu\", 3, 3), (\"const\", 4, 0.5), "
        "(\"mul\", 3, 3, 4)].");
}

}  // namespace bind
}  // namespace headwater
