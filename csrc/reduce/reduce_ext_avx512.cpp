// Max/min/prod/arg reductions, avx512 variant (compiler flags set per file in CMakeLists.txt).
#define HW_ISA_NS avx512
#define HW_ISA_LEVEL 2
#include "common/simd.h"
#include "reduce/reduce_ext_impl.h"
