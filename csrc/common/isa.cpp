#include "common/isa.h"

#include <atomic>
#include <cstdlib>
#include <stdexcept>

#include "common/cpu_features.h"

namespace headwater {
namespace {

std::atomic<int>& current_slot() {
  static std::atomic<int> slot{static_cast<int>(best_isa())};
  return slot;
}

std::string join_names(const std::vector<Isa>& isas) {
  std::string s;
  for (Isa i : isas) {
    if (!s.empty()) s += ", ";
    s += isa_name(i);
  }
  return s;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return "scalar";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
  }
  return "unknown";
}

bool isa_from_name(const std::string& name, Isa* out) {
  for (int i = 0; i < kNumIsas; ++i) {
    if (name == isa_name(static_cast<Isa>(i))) {
      *out = static_cast<Isa>(i);
      return true;
    }
  }
  return false;
}

bool isa_compiled(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return true;
    case Isa::avx2:
#if defined(HEADWATER_HAVE_AVX2)
      return true;
#else
      return false;
#endif
    case Isa::avx512:
#if defined(HEADWATER_HAVE_AVX512)
      return true;
#else
      return false;
#endif
  }
  return false;
}

bool isa_cpu_supported(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::scalar:
      return true;
    case Isa::avx2:
      return f.avx2_fma;
    case Isa::avx512:
      return f.avx512;
  }
  return false;
}

std::vector<Isa> compiled_isas() {
  std::vector<Isa> v;
  for (int i = 0; i < kNumIsas; ++i)
    if (isa_compiled(static_cast<Isa>(i))) v.push_back(static_cast<Isa>(i));
  return v;
}

std::vector<Isa> available_isas() {
  std::vector<Isa> v;
  for (int i = 0; i < kNumIsas; ++i) {
    const Isa isa = static_cast<Isa>(i);
    if (isa_compiled(isa) && isa_cpu_supported(isa)) v.push_back(isa);
  }
  return v;
}

Isa best_isa() { return available_isas().back(); }

Isa current_isa() { return static_cast<Isa>(current_slot().load(std::memory_order_relaxed)); }

void set_isa(Isa isa) {
  if (!isa_compiled(isa)) {
    throw std::invalid_argument(std::string("ISA '") + isa_name(isa) +
                                "' is not compiled into this build of headwater (compiled: " +
                                join_names(compiled_isas()) + ")");
  }
  if (!isa_cpu_supported(isa)) {
    throw std::invalid_argument(std::string("ISA '") + isa_name(isa) +
                                "' is not supported by this CPU (available: " +
                                join_names(available_isas()) + ")");
  }
  current_slot().store(static_cast<int>(isa), std::memory_order_relaxed);
}

std::string init_isa_from_env() {
  const char* env = std::getenv("HEADWATER_ISA");
  if (env == nullptr || *env == '\0') return {};
  const std::string value = env;
  Isa isa;
  if (!isa_from_name(value, &isa)) {
    return "HEADWATER_ISA='" + value + "' is not one of scalar, avx2, avx512; using '" +
           isa_name(current_isa()) + "'";
  }
  try {
    set_isa(isa);
  } catch (const std::invalid_argument& e) {
    return std::string("HEADWATER_ISA: ") + e.what() + "; using '" + isa_name(current_isa()) +
           "'";
  }
  return {};
}

}  // namespace headwater
