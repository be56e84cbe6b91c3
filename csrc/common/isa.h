// Which instruction-set variant of the kernels runs. Each kernel family keeps a table per ISA
// and looks up current_isa() on every call, so switching is cheap and takes effect at once.
#pragma once

#include <string>
#include <vector>

namespace headwater {

enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2 };
constexpr int kNumIsas = 3;

const char* isa_name(Isa isa);
// Returns false for an unknown name.
bool isa_from_name(const std::string& name, Isa* out);

bool isa_compiled(Isa isa);       // built into this binary
bool isa_cpu_supported(Isa isa);  // this CPU and OS can run it
// Compiled and supported, in increasing order of preference.
std::vector<Isa> available_isas();
std::vector<Isa> compiled_isas();
Isa best_isa();

Isa current_isa();
// Throws std::invalid_argument if `isa` is not available on this machine.
void set_isa(Isa isa);

// Applies HEADWATER_ISA. Returns a warning for the caller to surface (empty if none): an
// unknown or unavailable value falls back to the best ISA instead of failing the import.
std::string init_isa_from_env();

// The entry of a per-ISA kernel table for `isa`: each family defines one table per ISA in
// namespaces scalar/avx2/avx512 and its dispatcher calls HW_ISA_TABLE(isa, kFamilyTable). An
// ISA that is not compiled in (nullptr here) falls back to the scalar table. For dispatchers
// only: per-ISA files must not instantiate it (see common/simd.h).
template <class T>
inline const T* isa_table(Isa isa, const T* scalar, const T* avx2, const T* avx512) {
  if (isa == Isa::avx512 && avx512 != nullptr) return avx512;
  if (isa == Isa::avx2 && avx2 != nullptr) return avx2;
  return scalar;
}

}  // namespace headwater

#if defined(HEADWATER_HAVE_AVX2)
#define HW_ISA_TABLE_AVX2_(name) (&::headwater::avx2::name)
#else
#define HW_ISA_TABLE_AVX2_(name) nullptr
#endif
#if defined(HEADWATER_HAVE_AVX512)
#define HW_ISA_TABLE_AVX512_(name) (&::headwater::avx512::name)
#else
#define HW_ISA_TABLE_AVX512_(name) nullptr
#endif
#define HW_ISA_TABLE(isa, name)                                                          \
  ::headwater::isa_table((isa), &::headwater::scalar::name, HW_ISA_TABLE_AVX2_(name),     \
                         HW_ISA_TABLE_AVX512_(name))
