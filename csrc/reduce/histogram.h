// Histogram bucketing for summary ops (TensorBoard's HistogramProto).
//
// A value v is counted in bucket min(upper_bound(limits, v), n_limits - 1): the first edge
// greater than v, values at or past the last edge going to the last bucket, as TensorFlow's
// histogram does. NaN values are not counted (callers reject them, as TF does); they make
// `sum` NaN so a caller can detect them without a second pass.
#pragma once

#include <cstdint>

namespace headwater {

struct HistogramStats {
  double min;     // +inf for no values
  double max;     // -inf for no values
  double sum;     // numpy's pairwise summation order, so it equals np.sum of the float64 values
  double sum_sq;  // same order over the squares
};

// Returns an error message, or nullptr on success. `limits` must be strictly increasing and
// free of NaN; `counts` receives n_limits entries (overwritten). Results do not depend on the
// thread count.
const char* histogram_buckets_f32(const float* values, int64_t n, const double* limits,
                                  int64_t n_limits, int64_t* counts, HistogramStats* stats);
const char* histogram_buckets_f64(const double* values, int64_t n, const double* limits,
                                  int64_t n_limits, int64_t* counts, HistogramStats* stats);

// TensorFlow's encoding of a histogram: the non-empty buckets and the last bucket of each run
// of empty ones (and always the last bucket). Writes up to n entries to out_limits/out_counts
// and returns how many.
int64_t histogram_collapse(const int64_t* counts, const double* limits, int64_t n,
                           double* out_limits, double* out_counts);

}  // namespace headwater
