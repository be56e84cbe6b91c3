// Max/min/prod/arg reductions, scalar variant (compiler flags set per file in CMakeLists.txt).
#define HW_ISA_NS scalar
#define HW_ISA_LEVEL 0
#include "common/simd.h"
#include "reduce/reduce_ext_impl.h"
