#pragma once

#include <string>

namespace headwater {

struct CpuFeatures {
  bool x86 = false;
  // AVX2 + FMA, with the OS saving YMM state.
  bool avx2_fma = false;
  // AVX-512 F/BW/VL/DQ, with the OS saving opmask and ZMM state.
  bool avx512 = false;
  std::string vendor;
  std::string brand;
};

// Detected once (thread-safe static), then cached.
const CpuFeatures& cpu_features();

}  // namespace headwater
