// Fused elementwise loops, scalar variant (compiler flags set per file in CMakeLists.txt).
#define HW_ISA_NS scalar
#define HW_ISA_LEVEL 0
#include "common/simd.h"
#include "elementwise/fused_impl.h"
