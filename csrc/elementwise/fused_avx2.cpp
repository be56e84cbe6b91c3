// Fused elementwise loops, avx2 variant (compiler flags set per file in CMakeLists.txt).
#define HW_ISA_NS avx2
#define HW_ISA_LEVEL 1
#include "common/simd.h"
#include "elementwise/fused_impl.h"
