#pragma once

#include <pybind11/pybind11.h>

namespace headwater {
namespace bind {

// One per kernel family, called from module.cpp.
void register_runtime(pybind11::module_& m);
void register_elementwise(pybind11::module_& m);
void register_gemm(pybind11::module_& m);
void register_conv(pybind11::module_& m);
void register_optim(pybind11::module_& m);
void register_softmax(pybind11::module_& m);
void register_unary(pybind11::module_& m);
void register_fused(pybind11::module_& m);
void register_reduce(pybind11::module_& m);
void register_io(pybind11::module_& m);
void register_activation(pybind11::module_& m);

}  // namespace bind
}  // namespace headwater
