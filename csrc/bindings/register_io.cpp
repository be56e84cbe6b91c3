#include <cstring>
#include <string>
#include <vector>

#include <pybind11/numpy.h>

#include "bindings/registry.h"
#include "common/crc32c.h"
#include "reduce/histogram.h"

namespace py = pybind11;

namespace headwater {
namespace bind {
namespace {

// Above this size the checksum runs without the GIL so a background writer thread does not
// stall the training loop; below it the release/acquire pair costs more than the CRC.
constexpr size_t kReleaseGilBytes = 64 * 1024;

struct Bytes {
  const uint8_t* ptr;
  size_t size;
};

Bytes as_bytes(const py::buffer& b, py::buffer_info& info) {
  info = b.request();
  if (info.ndim > 1 && info.strides.back() != info.itemsize) {
    throw py::value_error("crc32c: the buffer must be C-contiguous");
  }
  return Bytes{static_cast<const uint8_t*>(info.ptr),
               static_cast<size_t>(info.size) * static_cast<size_t>(info.itemsize)};
}

uint32_t checksum(uint32_t crc, Bytes b, bool portable) {
  auto run = [&] {
    return portable ? crc32c_extend_portable(crc, b.ptr, b.size) : crc32c_extend(crc, b.ptr, b.size);
  };
  if (b.size >= kReleaseGilBytes) {
    py::gil_scoped_release nogil;
    return run();
  }
  return run();
}

// Below this many values the GIL is kept: releasing it costs more than the bucketing.
constexpr int64_t kHistogramReleaseGil = 16384;

template <class T>
py::tuple histogram_buckets(
    const py::array_t<T, py::array::c_style>& values,
    const py::array_t<double, py::array::c_style>& limits,
    const char* (*kernel)(const T*, int64_t, const double*, int64_t, int64_t*, HistogramStats*)) {
  if (limits.ndim() != 1) throw py::value_error("histogram_buckets: bucket_limits must be 1-D");
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t nl = static_cast<int64_t>(limits.shape(0));
  py::array_t<int64_t> counts(static_cast<py::ssize_t>(nl));
  HistogramStats st{};
  const char* err;
  const T* x = values.data();
  const double* lim = limits.data();
  int64_t* c = counts.mutable_data();
  if (n >= kHistogramReleaseGil) {
    py::gil_scoped_release nogil;
    err = kernel(x, n, lim, nl, c, &st);
  } else {
    err = kernel(x, n, lim, nl, c, &st);
  }
  if (err) throw py::value_error(std::string("histogram_buckets: ") + err);
  return py::make_tuple(counts, st.min, st.max, st.sum, st.sum_sq);
}

// Buckets and TensorFlow's collapsed encoding in one call, for the summary op: (kept_limits,
// kept_counts) as float64 arrays (ready to become the proto's packed repeated fields without a
// Python float per bucket), then min, max, sum, sum_sq.
template <class T>
py::tuple histogram_summary(
    const py::array_t<T, py::array::c_style>& values,
    const py::array_t<double, py::array::c_style>& limits,
    const char* (*kernel)(const T*, int64_t, const double*, int64_t, int64_t*, HistogramStats*)) {
  if (limits.ndim() != 1) throw py::value_error("histogram_summary: bucket_limits must be 1-D");
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t nl = static_cast<int64_t>(limits.shape(0));
  // Reused between calls: zero-filling fresh vectors costs more than bucketing a small tensor.
  thread_local std::vector<int64_t> counts;
  thread_local std::vector<double> kept_lim, kept_cnt;
  const size_t cap = static_cast<size_t>(nl > 0 ? nl : 1);
  if (counts.size() < cap) {
    counts.resize(cap);
    kept_lim.resize(cap);
    kept_cnt.resize(cap);
  }
  HistogramStats st{};
  const char* err;
  int64_t k = 0;
  const T* x = values.data();
  const double* lim = limits.data();
  auto run = [&] {
    err = kernel(x, n, lim, nl, counts.data(), &st);
    if (!err) k = histogram_collapse(counts.data(), lim, nl, kept_lim.data(), kept_cnt.data());
  };
  if (n >= kHistogramReleaseGil) {
    py::gil_scoped_release nogil;
    run();
  } else {
    run();
  }
  if (err) throw py::value_error(std::string("histogram_summary: ") + err);
  py::array_t<double> out_lim(static_cast<py::ssize_t>(k)), out_cnt(static_cast<py::ssize_t>(k));
  if (k) {
    std::memcpy(out_lim.mutable_data(), kept_lim.data(), static_cast<size_t>(k) * sizeof(double));
    std::memcpy(out_cnt.mutable_data(), kept_cnt.data(), static_cast<size_t>(k) * sizeof(double));
  }
  return py::make_tuple(out_lim, out_cnt, st.min, st.max, st.sum, st.sum_sq);
}

void put_u32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

void register_io(py::module_& m) {
  m.def(
      "crc32c",
      [](const py::buffer& data, uint32_t crc) {
        py::buffer_info info;
        return checksum(crc, as_bytes(data, info), false);
      },
      py::arg("data"), py::arg("crc") = 0u,
      "CRC-32C (Castagnoli) of a bytes-like object, continuing from `crc` (0 to start).");
  m.def(
      "_crc32c_portable",
      [](const py::buffer& data, uint32_t crc) {
        py::buffer_info info;
        return checksum(crc, as_bytes(data, info), true);
      },
      py::arg("data"), py::arg("crc") = 0u,
      "CRC-32C through the table path only (tests the fallback on SSE4.2 machines).");
  m.def(
      "masked_crc32c",
      [](const py::buffer& data) {
        py::buffer_info info;
        return crc32c_mask(checksum(0, as_bytes(data, info), false));
      },
      py::arg("data"), "TFRecord's masked CRC-32C of a bytes-like object.");
  m.def("crc32c_is_hardware", &crc32c_is_hardware,
        "True when CRC-32C runs on the SSE4.2 crc32 instruction.");
  m.def(
      "tfrecord_frame",
      [](const py::buffer& data) {
        py::buffer_info info;
        Bytes b = as_bytes(data, info);
        // uint64 length, masked CRC of those 8 bytes, the data, masked CRC of the data.
        std::string out(b.size + 16, '\0');
        char* o = &out[0];
        uint64_t len = b.size;
        for (int i = 0; i < 8; ++i) o[i] = static_cast<char>((len >> (8 * i)) & 0xFF);
        put_u32(o + 8, crc32c_mask(crc32c(reinterpret_cast<const uint8_t*>(o), 8)));
        if (b.size) std::memcpy(o + 12, b.ptr, b.size);
        put_u32(o + 12 + b.size, crc32c_mask(checksum(0, b, false)));
        return py::bytes(out);
      },
      py::arg("data"),
      "One TFRecord: little-endian uint64 length, its masked CRC-32C, the data and the data's "
      "masked CRC-32C, as bytes.");

  static const char* kHistDoc =
      "(counts, min, max, sum, sum_sq) of `values` (any shape, read flat) over the sorted "
      "`bucket_limits`: a value goes in the bucket of the first edge greater than it, values at "
      "or past the last edge in the last bucket (TensorFlow's histogram rule). NaNs are not "
      "counted and make `sum` NaN; sums follow numpy's pairwise order. counts is int64.";
  m.def(
      "histogram_buckets_f32",
      [](const py::array_t<float, py::array::c_style>& values,
         const py::array_t<double, py::array::c_style>& bucket_limits) {
        return histogram_buckets<float>(values, bucket_limits, &histogram_buckets_f32);
      },
      py::arg("values"), py::arg("bucket_limits"), kHistDoc);
  m.def(
      "histogram_buckets_f64",
      [](const py::array_t<double, py::array::c_style>& values,
         const py::array_t<double, py::array::c_style>& bucket_limits) {
        return histogram_buckets<double>(values, bucket_limits, &histogram_buckets_f64);
      },
      py::arg("values"), py::arg("bucket_limits"), kHistDoc);
  static const char* kSummaryDoc =
      "(kept_limits, kept_counts, min, max, sum, sum_sq): histogram_buckets followed by "
      "histogram_collapse, the kept buckets as float64 arrays.";
  m.def(
      "histogram_summary_f32",
      [](const py::array_t<float, py::array::c_style>& values,
         const py::array_t<double, py::array::c_style>& bucket_limits) {
        return histogram_summary<float>(values, bucket_limits, &histogram_buckets_f32);
      },
      py::arg("values"), py::arg("bucket_limits"), kSummaryDoc);
  m.def(
      "histogram_summary_f64",
      [](const py::array_t<double, py::array::c_style>& values,
         const py::array_t<double, py::array::c_style>& bucket_limits) {
        return histogram_summary<double>(values, bucket_limits, &histogram_buckets_f64);
      },
      py::arg("values"), py::arg("bucket_limits"), kSummaryDoc);
  m.def(
      "histogram_collapse",
      [](const py::array_t<int64_t, py::array::c_style>& counts,
         const py::array_t<double, py::array::c_style>& bucket_limits) {
        if (counts.ndim() != 1 || bucket_limits.ndim() != 1 ||
            counts.shape(0) != bucket_limits.shape(0)) {
          throw py::value_error("histogram_collapse: counts and bucket_limits must be 1-D of "
                                "the same length");
        }
        const int64_t n = static_cast<int64_t>(counts.shape(0));
        std::vector<double> lim(static_cast<size_t>(n)), cnt(static_cast<size_t>(n));
        const int64_t k =
            histogram_collapse(counts.data(), bucket_limits.data(), n, lim.data(), cnt.data());
        py::list out_lim(static_cast<size_t>(k)), out_cnt(static_cast<size_t>(k));
        for (int64_t i = 0; i < k; ++i) {
          out_lim[static_cast<size_t>(i)] = py::float_(lim[static_cast<size_t>(i)]);
          out_cnt[static_cast<size_t>(i)] = py::float_(cnt[static_cast<size_t>(i)]);
        }
        return py::make_tuple(out_lim, out_cnt);
      },
      py::arg("counts"), py::arg("bucket_limits"),
      "(limits, counts) as lists of floats: the non-empty buckets and the last bucket of each "
      "run of empty ones, as TensorFlow's HistogramProto stores them.");
}

}  // namespace bind
}  // namespace headwater
