// Max/min/prod/arg reductions, avx2 variant (compiler flags set per file in CMakeLists.txt).
#define HW_ISA_NS avx2
#define HW_ISA_LEVEL 1
#include "common/simd.h"
#include "reduce/reduce_ext_impl.h"
