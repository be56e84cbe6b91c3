"""The native histogram kernel (`_C.histogram_buckets_f32/f64`) against numpy.

Counts must equal TensorFlow's rule exactly (bucket of the first edge greater than the value,
clamped to the last bucket: `searchsorted(limits, v, "right")`), sums must equal np.sum's
pairwise order bit for bit, and `histogram_proto` must build the same proto with and without
the native kernel.
"""

import numpy as np
import pytest

pytest.importorskip("tensorboard")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from headwater._native import _C  # noqa: E402
from headwater.framework import errors  # noqa: E402
from headwater.summary import summary_ops  # noqa: E402

if _C is None or not hasattr(_C, "histogram_buckets_f32"):
    pytest.skip("headwater._C without the histogram kernel", allow_module_level=True)

LIM = summary_ops.default_bucket_limits()
DMAX = np.finfo(np.float64).max
KERNELS = {np.float32: _C.histogram_buckets_f32, np.float64: _C.histogram_buckets_f64}


def _reference(values, limits=LIM):
    d = np.asarray(values, np.float64).ravel()
    d = d[~np.isnan(d)]
    idx = np.minimum(np.searchsorted(limits, d, side="right"), len(limits) - 1)
    return np.bincount(idx, minlength=len(limits))


def _check(values, limits=LIM):
    values = np.asarray(values)
    counts, lo, hi, s, ss = KERNELS[values.dtype.type](values, limits)
    assert counts.dtype == np.int64 and counts.shape == (len(limits),)
    np.testing.assert_array_equal(counts, _reference(values, limits))
    d = values.astype(np.float64).ravel()
    if d.size == 0:
        assert (lo, hi, s, ss) == (np.inf, -np.inf, 0.0, 0.0)
    else:
        assert lo == d.min() and hi == d.max()
        # Same summation order as numpy: equal bit for bit, not just close.
        with np.errstate(over="ignore", invalid="ignore"):
            np.testing.assert_array_equal([s, ss], [d.sum(), np.sum(d * d)])
    return counts


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 8, 13, 127, 128, 129, 997, 7840, 32768, 32769,
                               65537, 1_000_003])
def test_counts_and_sums_match_numpy(n, dtype):
    rng = np.random.default_rng(n)
    v = (rng.normal(size=n) * 10.0 ** rng.integers(-14, 21, size=n)).astype(dtype)
    _check(v)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_on_and_beside_every_edge(dtype):
    inner = LIM[1:-1]
    v = np.concatenate([inner, np.nextafter(inner, -np.inf), np.nextafter(inner, np.inf),
                        [0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 2.2e-308, -2.2e-308]])
    if dtype == np.float64:
        v = np.concatenate([v, [DMAX, -DMAX, np.nextafter(DMAX, 0), -np.nextafter(DMAX, 0)]])
    with np.errstate(over="ignore"):
        v = v.astype(dtype)
    v = v[np.isfinite(v)]
    _check(v)
    # Each edge value lands in the bucket after its own edge (upper_bound), as in TF.
    counts = KERNELS[np.float64](np.array([LIM[776], -LIM[776], 0.0, DMAX]), LIM)[0]
    assert counts[777] == 1 and counts[775] == 1 and counts[776] == 1 and counts[1550] == 1


def test_non_finite_values():
    v = np.array([1.0, np.nan, np.inf, -np.inf, 2.0])
    counts, lo, hi, s, _ = _C.histogram_buckets_f64(v, LIM)
    # NaN is not counted and makes the sum NaN; infinities go to the first and last buckets.
    assert counts.sum() == 4 and counts[0] == 1 and counts[-1] == 1
    assert np.isnan(s)
    counts, lo, hi, s, _ = _C.histogram_buckets_f32(np.array([np.inf, 1.0], np.float32), LIM)
    assert counts[-1] == 1 and s == np.inf and hi == np.inf


@pytest.mark.parametrize("n", [5, 2047, 2048, 9001, 70001])
def test_float32_nans_are_not_counted(n):
    # The float32 loop counts every value and takes NaNs (either sign, any payload) back out.
    rng = np.random.default_rng(n)
    v = (rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)).astype(np.float32)
    bits = v.view(np.uint32)
    pick = rng.random(n)
    bits[pick < 0.05] = 0x7FC00000
    bits[(pick >= 0.05) & (pick < 0.08)] = 0xFFC00001
    bits[(pick >= 0.08) & (pick < 0.09)] = 0x7F800001  # signalling NaN
    v[0] = np.nan
    v[-1] = np.inf
    with np.errstate(invalid="ignore"):  # the signalling NaN, widened by the reference
        want = _reference(v)
    old = _C.get_num_threads()
    try:
        for threads in (1, 2):
            _C.set_num_threads(threads)
            counts, lo, hi, s, _ = _C.histogram_buckets_f32(v, LIM)
            np.testing.assert_array_equal(counts, want)
            assert np.isnan(s) and hi == np.inf
    finally:
        _C.set_num_threads(old)


@pytest.mark.parametrize("native", [True, False])
def test_histogram_proto_rejects_non_finite_as_before(native, monkeypatch):
    if not native:
        monkeypatch.setattr(summary_ops, "_C", None)
    for bad, word in ((np.nan, "Nan"), (np.inf, "Infinity"), (-np.inf, "Infinity")):
        for dtype in (np.float32, np.float64):
            with pytest.raises(errors.InvalidArgumentError,
                               match="%s in summary histogram for: w" % word):
                summary_ops.histogram_proto(np.array([1.0, bad, 2.0], dtype), "w")
    # Finite values whose sum overflows are fine (TF reports an infinite sum).
    hp = summary_ops.histogram_proto(np.array([DMAX, DMAX]), "w")
    assert hp.sum == np.inf and hp.num == 2 and sum(hp.bucket) == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.float16])
@pytest.mark.parametrize("n", [0, 1, 10, 7840, 50_001])
def test_histogram_proto_same_with_and_without_native(n, dtype, monkeypatch):
    rng = np.random.default_rng(7)
    v = rng.normal(size=(n,)) * 50
    v = v.astype(dtype).reshape(-1, 1) if n % 2 == 0 else v.astype(dtype)
    native = summary_ops.histogram_proto(v).SerializeToString()
    monkeypatch.setattr(summary_ops, "_C", None)
    assert summary_ops.histogram_proto(v).SerializeToString() == native


def test_non_contiguous_and_shaped_input():
    rng = np.random.default_rng(3)
    m = rng.normal(size=(40, 30))
    _check(m[:, ::3])
    _check(m.astype(np.float32).T)


def test_custom_limits_including_crowded_slots():
    rng = np.random.default_rng(11)
    # Clusters of close edges put many edges in one lookup slot (the binary-search path).
    limits = np.unique(np.concatenate([np.linspace(1.0, 1.01, 200), rng.normal(size=50),
                                       [-np.inf, np.inf]]))
    v = np.concatenate([rng.uniform(0.99, 1.02, 5000), rng.normal(size=5000), limits,
                        [np.inf, -np.inf]])
    _check(v, limits)
    _check(v.astype(np.float32), limits)
    for limits in (np.array([0.5]), np.array([-1.0, 1.0]), np.array([1e-310, 2e-310])):
        _check(v, limits)


def test_bad_limits_rejected():
    v = np.ones(3)
    for limits, msg in ((np.array([1.0, 1.0]), "strictly increasing"),
                        (np.array([2.0, 1.0]), "strictly increasing"),
                        (np.array([0.0, np.nan]), "NaN"), (np.array([]), "empty")):
        with pytest.raises(ValueError, match=msg):
            _C.histogram_buckets_f64(v, limits)
    with pytest.raises(ValueError, match="1-D"):
        _C.histogram_buckets_f64(v, np.ones((2, 2)))


def test_independent_of_thread_count():
    v = np.random.default_rng(5).normal(size=300_001)
    before = _C.get_num_threads()
    try:
        results = []
        for n in (1, 2, 3):
            _C.set_num_threads(n)
            counts, lo, hi, s, ss = _C.histogram_buckets_f64(v, LIM)
            results.append((counts.tobytes(), lo, hi, s, ss))
    finally:
        _C.set_num_threads(before)
    assert results[0] == results[1] == results[2]


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(st.sampled_from([np.float32, np.float64]), st.integers(0, 300),
                  elements=st.floats(allow_nan=False, allow_infinity=False, width=32)))
def test_random_arrays(v):
    _check(v)


def test_collapse_keeps_nonempty_and_the_last_of_each_empty_run():
    lim = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    for counts, expect in (([0, 0, 3, 0, 0, 0], [1, 2, 5]), ([1, 0, 0, 2, 0, 1], [0, 2, 3, 4, 5]),
                           ([0, 0, 0, 0, 0, 0], [5]), ([4, 4, 4, 4, 4, 4], [0, 1, 2, 3, 4, 5])):
        kept_limits, kept_counts = _C.histogram_collapse(np.array(counts, np.int64), lim)
        assert kept_limits == [lim[i] for i in expect]
        assert kept_counts == [float(counts[i]) for i in expect]
        assert all(type(x) is float for x in kept_limits + kept_counts)
    assert _C.histogram_collapse(np.array([7], np.int64), np.array([9.0])) == ([9.0], [7.0])
    with pytest.raises(ValueError, match="same length"):
        _C.histogram_collapse(np.zeros(3, np.int64), lim)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 31, 1551])
def test_collapse_random_sparsity_against_definition(n):
    rng = np.random.default_rng(n)
    lim = np.cumsum(rng.random(n) + 0.1)
    for density in (0.0, 0.02, 0.2, 0.7, 1.0):
        for _ in range(5):
            counts = np.where(rng.random(n) < density, rng.integers(1, 9, n), 0).astype(np.int64)
            keep = [i for i in range(n)
                    if counts[i] or i == n - 1 or (i + 1 < n and counts[i + 1])]
            kept_limits, kept_counts = _C.histogram_collapse(counts, lim)
            assert kept_limits == [lim[i] for i in keep]
            assert kept_counts == [float(counts[i]) for i in keep]
