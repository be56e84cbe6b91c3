// Fused elementwise loops, avx512 variant (compiler flags set per file in CMakeLists.txt).
#define HW_ISA_NS avx512
#define HW_ISA_LEVEL 2
#include "common/simd.h"
#include "elementwise/fused_impl.h"
