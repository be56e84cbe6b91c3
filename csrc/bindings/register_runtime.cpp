#include <pybind11/stl.h>

#include <string>

#include "bindings/common.h"
#include "bindings/registry.h"
#include "common/cpu_features.h"
#include "common/isa.h"
#include "common/thread_pool.h"
#include "headwater_build_info.h"

// Stringified rather than formatted: a dev release's PATCH is not a plain number.
#define HW_STR2(x) #x
#define HW_STR(x) HW_STR2(x)

namespace headwater {
namespace bind {
namespace {

py::list isa_names(const std::vector<Isa>& isas) {
  py::list out;
  for (Isa i : isas) out.append(isa_name(i));
  return out;
}

void warn(const std::string& msg) {
  if (msg.empty()) return;
  // Under `python -W error` the warning becomes the import error, which is what that flag asks.
  if (PyErr_WarnEx(PyExc_RuntimeWarning, msg.c_str(), 1) != 0) throw py::error_already_set();
}

}  // namespace

void register_runtime(py::module_& m) {
  m.attr("__version__") = HEADWATER_VERSION_STRING;

  m.def(
      "get_isa", [] { return std::string(isa_name(current_isa())); },
      "Name of the instruction set the kernels currently run on: 'scalar', 'avx2' or 'avx512'.");
  m.def(
      "set_isa",
      [](const std::string& name) {
        Isa isa;
        if (!isa_from_name(name, &isa)) {
          throw py::value_error("set_isa: unknown ISA '" + name +
                                "' (expected one of 'scalar', 'avx2', 'avx512')");
        }
        set_isa(isa);  // std::invalid_argument -> ValueError when unavailable
      },
      py::arg("name"),
      "Switch every kernel to ISA `name` (process-wide, effective immediately). Raises "
      "ValueError if the name is unknown or this build/CPU cannot run it.");
  m.def(
      "available_isas", [] { return isa_names(available_isas()); },
      "ISAs compiled into this build that this CPU supports, from slowest to fastest.");
  m.def(
      "compiled_isas", [] { return isa_names(compiled_isas()); },
      "ISAs compiled into this build, whether or not this CPU supports them.");

  m.def("get_num_threads", &get_num_threads,
        "Threads used by kernels, including the calling thread.");
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 0) throw py::value_error("set_num_threads: n must be >= 0, got " + std::to_string(n));
        py::gil_scoped_release nogil;  // may wait for a running kernel on another thread
        set_num_threads(n);
      },
      py::arg("n"),
      "Set the kernel thread count; 0 restores the default (HEADWATER_NUM_THREADS if set, else "
      "the CPUs this process may run on).");

  m.def(
      "cpu_info",
      [] {
        const CpuFeatures& f = cpu_features();
        py::dict d;
        d["vendor"] = f.vendor;
        d["brand"] = f.brand;
        d["x86"] = f.x86;
        d["avx2_fma"] = f.avx2_fma;
        d["avx512"] = f.avx512;
        d["logical_cpus"] = hardware_threads();
        return d;
      },
      "What the CPU detection found (cpuid + xgetbv on x86).");

  m.def(
      "build_info",
      [] {
        py::dict d;
        d["version"] = HEADWATER_VERSION_STRING;
        d["compiler_id"] = HEADWATER_COMPILER_ID;
        d["compiler_version"] = HEADWATER_COMPILER_VERSION;
        d["build_type"] = HEADWATER_BUILD_TYPE;
        d["cxx_flags"] = HEADWATER_CXX_FLAGS;
        d["avx2_flags"] = HEADWATER_AVX2_FLAGS;
        d["avx512_flags"] = HEADWATER_AVX512_FLAGS;
        d["native"] = static_cast<bool>(HEADWATER_NATIVE_BUILD);
        d["compiled_isas"] = isa_names(compiled_isas());
        d["system_processor"] = HEADWATER_SYSTEM_PROCESSOR;
        d["system_name"] = HEADWATER_SYSTEM_NAME;
        d["cmake_version"] = HEADWATER_CMAKE_VERSION;
        d["pybind11_version"] = HW_STR(PYBIND11_VERSION_MAJOR) "." HW_STR(
            PYBIND11_VERSION_MINOR) "." HW_STR(PYBIND11_VERSION_PATCH);
        return d;
      },
      "Compile-time facts baked in by CMake: version, compiler, flags, HEADWATER_NATIVE, ISAs.");

  warn(init_isa_from_env());
  warn(init_threads_from_env());
}

}  // namespace bind
}  // namespace headwater
