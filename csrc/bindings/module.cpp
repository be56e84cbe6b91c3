#include <pybind11/pybind11.h>

#include "bindings/registry.h"

PYBIND11_MODULE(_C, m) {
  m.doc() =
      "headwater's native kernels. Arrays in, arrays out: no graph knowledge lives here. Every "
      "kernel releases the GIL while it runs and dispatches at call time to the ISA reported by "
      "get_isa().";
  headwater::bind::register_runtime(m);
  headwater::bind::register_elementwise(m);
  headwater::bind::register_gemm(m);
  headwater::bind::register_conv(m);
  headwater::bind::register_optim(m);
  headwater::bind::register_softmax(m);
  headwater::bind::register_unary(m);
  headwater::bind::register_fused(m);
  headwater::bind::register_reduce(m);
  headwater::bind::register_io(m);
  headwater::bind::register_activation(m);
}
