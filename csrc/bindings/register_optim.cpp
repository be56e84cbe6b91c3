#include <string>

#include "bindings/common.h"
#include "bindings/registry.h"
#include "optim/optim.h"

namespace headwater {
namespace bind {
namespace {

// Updates run in place, so the buffers must be writable, C-contiguous arrays of exactly T
// (no converting copies: a copy would silently drop the update).
template <class T>
T* buffer(const char* op, const char* what, py::handle obj, int64_t* n, bool writable = true) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(op) + ": " + what + " must be a numpy.ndarray");
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().equal(py::dtype::of<T>())) {
    throw py::type_error(std::string(op) + ": " + what + " has dtype " + dtype_str(a) +
                         " but expected " + py::str(py::dtype::of<T>()).cast<std::string>());
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(op) + ": " + what + " must be a C-contiguous array");
  }
  if (writable && !a.writeable()) {
    throw py::value_error(std::string(op) + ": " + what +
                          " must be writable (it is updated in place)");
  }
  if (*n < 0) {
    *n = a.size();
  } else if (a.size() != *n) {
    throw py::value_error(std::string(op) + ": " + what + " has " + std::to_string(a.size()) +
                          " elements but var has " + std::to_string(*n));
  }
  // data(), not mutable_data(): the latter refuses read-only arrays, and grad may be one.
  return static_cast<T*>(const_cast<void*>(a.data()));
}

template <class T>
const T* grad_buffer(const char* op, py::handle obj, int64_t n) {
  return buffer<T>(op, "grad", obj, &n, false);
}

template <class T>
void def_all(py::module_& m, const char* suffix) {
  const std::string s = suffix;
  m.def(("apply_gradient_descent" + s).c_str(),
        [](py::handle var, double alpha, py::handle delta) {
          const char* op = "apply_gradient_descent";
          int64_t n = -1;
          T* v = buffer<T>(op, "var", var, &n);
          const T* d = grad_buffer<T>(op, delta, n);
          run_releasing_gil(n, [&] { apply_gradient_descent<T>(n, v, T(alpha), d); });
        },
        "var -= alpha * delta, in place.");
  m.def(("apply_momentum" + s).c_str(),
        [](py::handle var, py::handle accum, double lr, py::handle grad, double momentum,
           bool nesterov) {
          const char* op = "apply_momentum";
          int64_t n = -1;
          T* v = buffer<T>(op, "var", var, &n);
          T* a = buffer<T>(op, "accum", accum, &n);
          const T* g = grad_buffer<T>(op, grad, n);
          run_releasing_gil(n, [&] { apply_momentum<T>(n, v, a, T(lr), g, T(momentum), nesterov); });
        },
        "accum = accum * momentum + grad; var -= lr * accum (Nesterov: lr * (grad + momentum "
        "* accum)), in place.");
  m.def(("apply_adagrad" + s).c_str(),
        [](py::handle var, py::handle accum, double lr, py::handle grad, bool update_slots) {
          const char* op = "apply_adagrad";
          int64_t n = -1;
          T* v = buffer<T>(op, "var", var, &n);
          T* a = buffer<T>(op, "accum", accum, &n);
          const T* g = grad_buffer<T>(op, grad, n);
          run_releasing_gil(n, [&] { apply_adagrad<T>(n, v, a, T(lr), g, update_slots); });
        },
        "accum += grad^2; var -= lr * grad / sqrt(accum), in place.");
  m.def(("apply_adadelta" + s).c_str(),
        [](py::handle var, py::handle accum, py::handle accum_update, double lr, double rho,
           double epsilon, py::handle grad) {
          const char* op = "apply_adadelta";
          int64_t n = -1;
          T* v = buffer<T>(op, "var", var, &n);
          T* a = buffer<T>(op, "accum", accum, &n);
          T* u = buffer<T>(op, "accum_update", accum_update, &n);
          const T* g = grad_buffer<T>(op, grad, n);
          run_releasing_gil(n, [&] { apply_adadelta<T>(n, v, a, u, T(lr), T(rho), T(epsilon), g); });
        },
        "Adadelta update, in place.");
  m.def(("apply_rms_prop" + s).c_str(),
        [](py::handle var, py::handle ms, py::handle mom, double lr, double rho,
           double momentum, double epsilon, py::handle grad) {
          const char* op = "apply_rms_prop";
          int64_t n = -1;
          T* v = buffer<T>(op, "var", var, &n);
          T* s2 = buffer<T>(op, "ms", ms, &n);
          T* mo = buffer<T>(op, "mom", mom, &n);
          const T* g = grad_buffer<T>(op, grad, n);
          run_releasing_gil(n, [&] {
            apply_rms_prop<T>(n, v, s2, mo, T(lr), T(rho), T(momentum), T(epsilon), g);
          });
        },
        "RMSProp update, in place.");
  m.def(("apply_centered_rms_prop" + s).c_str(),
        [](py::handle var, py::handle mg, py::handle ms, py::handle mom, double lr, double rho,
           double momentum, double epsilon, py::handle grad) {
          const char* op = "apply_centered_rms_prop";
          int64_t n = -1;
          T* v = buffer<T>(op, "var", var, &n);
          T* g1 = buffer<T>(op, "mg", mg, &n);
          T* s2 = buffer<T>(op, "ms", ms, &n);
          T* mo = buffer<T>(op, "mom", mom, &n);
          const T* g = grad_buffer<T>(op, grad, n);
          run_releasing_gil(n, [&] {
            apply_centered_rms_prop<T>(n, v, g1, s2, mo, T(lr), T(rho), T(momentum), T(epsilon),
                                       g);
          });
        },
        "Centered RMSProp update, in place.");
  m.def(("apply_adam" + s).c_str(),
        [](py::handle var, py::handle mv, py::handle vv, double beta1_power, double beta2_power,
           double lr, double beta1, double beta2, double epsilon, py::handle grad,
           bool nesterov) {
          const char* op = "apply_adam";
          int64_t n = -1;
          T* v = buffer<T>(op, "var", var, &n);
          T* m1 = buffer<T>(op, "m", mv, &n);
          T* v2 = buffer<T>(op, "v", vv, &n);
          const T* g = grad_buffer<T>(op, grad, n);
          run_releasing_gil(n, [&] {
            apply_adam<T>(n, v, m1, v2, T(beta1_power), T(beta2_power), T(lr), T(beta1),
                          T(beta2), T(epsilon), g, nesterov);
          });
        },
        "Adam update (bias correction folded into the step), in place.");
}

}  // namespace

void register_optim(py::module_& m) {
  def_all<float>(m, "_f32");
  def_all<double>(m, "_f64");
}

}  // namespace bind
}  // namespace headwater
