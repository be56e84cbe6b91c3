"""headwater._C reduce_max/min/prod, argmax/argmin and reduce_logsumexp: every axis set, empty
and size-1 dims, NaN/inf semantics as TF1, int32/int64, odd and non-contiguous layouts, every
ISA, 1 and 2 threads."""

import itertools

import numpy as np
import pytest

from headwater import _C

ALL_DTYPES = [np.float32, np.float64, np.int32, np.int64]
SHAPES = [(), (0,), (1,), (7,), (3, 0), (0, 5), (2, 3), (5, 1, 4), (3, 4, 5), (2, 0, 3),
          (2, 3, 1, 17)]


def _axis_sets(nd):
    for k in range(nd + 1):
        yield from itertools.combinations(range(nd), k)


def _data(shape, dtype, rng, nan_frac=0.0):
    if np.dtype(dtype).kind == "f":
        x = rng.standard_normal(shape).astype(dtype)
        if nan_frac and x.size:
            x[rng.random(shape) < nan_frac] = np.nan
        return x
    return rng.integers(-50, 50, shape).astype(dtype)


def _np_value(op, x, axes, keepdims):
    dt = x.dtype
    if op == "prod":
        return np.prod(x, axis=axes, keepdims=keepdims, dtype=dt)
    init = (-np.inf if dt.kind == "f" else np.iinfo(dt).min) if op == "max" else \
        (np.inf if dt.kind == "f" else np.iinfo(dt).max)
    fn = np.max if op == "max" else np.min
    return fn(x, axis=axes, keepdims=keepdims, initial=init)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("op", ["max", "min", "prod"])
def test_value_every_axis_set(isa, op, dtype, rng):
    fn = getattr(_C, "reduce_" + op)
    for shape in SHAPES:
        x = _data(shape, dtype, rng, nan_frac=0.1)
        if op == "prod" and np.dtype(dtype).kind == "f":
            x = (1 + 0.1 * x).astype(dtype)
        for axes in _axis_sets(len(shape)):
            for kd in (False, True):
                got = fn(x, list(axes), kd)
                want = _np_value(op, x, axes, kd)
                assert got.dtype == x.dtype and got.shape == want.shape, (shape, axes)
                if op == "prod" and np.dtype(dtype).kind == "f":
                    np.testing.assert_allclose(got, want, rtol=1e-5)
                else:
                    np.testing.assert_array_equal(got, want)
        got = fn(x)
        np.testing.assert_array_equal(np.isnan(got) if got.dtype.kind == "f" else got,
                                      np.isnan(_np_value(op, x, None, False))
                                      if got.dtype.kind == "f" else _np_value(op, x, None, False))


def test_value_special_cases(isa):
    nan, inf = np.nan, np.inf
    x = np.array([[1, nan, 3], [5, 2, 0], [nan, -1, 7], [-inf, -inf, -inf]], np.float32)
    np.testing.assert_array_equal(_C.reduce_max(x, [1]), [nan, 5, nan, -inf])
    np.testing.assert_array_equal(_C.reduce_min(x, [1]), [nan, 0, nan, -inf])
    np.testing.assert_array_equal(_C.reduce_max(x, [0]), [nan, nan, 7])
    np.testing.assert_array_equal(_C.reduce_prod(x, [1]), [nan, 0, nan, -inf])
    assert np.isnan(_C.reduce_max(x))
    e = np.zeros((0, 3), np.float32)
    np.testing.assert_array_equal(_C.reduce_max(e, [0]), [-inf] * 3)
    np.testing.assert_array_equal(_C.reduce_min(e, [0]), [inf] * 3)
    np.testing.assert_array_equal(_C.reduce_prod(e, [0]), [1] * 3)
    ei = np.zeros((0, 2), np.int32)
    np.testing.assert_array_equal(_C.reduce_max(ei, [0]), [np.iinfo(np.int32).min] * 2)
    np.testing.assert_array_equal(_C.reduce_min(ei.astype(np.int64), [0]),
                                  [np.iinfo(np.int64).max] * 2)
    # Integer products wrap as in TF (two's complement).
    big = np.array([2 ** 20, 2 ** 20, 3], np.int32)
    assert _C.reduce_prod(big) == np.prod(big, dtype=np.int32)
    # NaN anywhere in long runs and columns.
    for n in (1, 31, 33, 1000, 70001):
        v = np.arange(n, dtype=np.float64)
        v[n // 2] = nan
        assert np.isnan(_C.reduce_max(v)) and np.isnan(_C.reduce_min(v.astype(np.float32)))
        m = np.ones((n, 3), np.float32)
        m[n // 3, 1] = nan
        np.testing.assert_array_equal(np.isnan(_C.reduce_max(m, [0])), [False, True, False])
        # Wide columns (the vector path), with a NaN, and with infinities but no NaN.
        w = np.tile(np.arange(70, dtype=np.float64), (n, 1))
        w[n // 2, 33] = nan
        w[n - 1, 5] = inf
        w[0, 6] = -inf
        for f, ref in ((_C.reduce_max, np.max), (_C.reduce_min, np.min)):
            for dt in (np.float32, np.float64):
                np.testing.assert_array_equal(f(w.astype(dt), [0]), ref(w.astype(dt), 0))
                w2 = np.where(np.isnan(w), 0, w).astype(dt)
                np.testing.assert_array_equal(f(w2, [0]), ref(w2, 0))
    # A NaN at every position of a row (vector body and tail), and infinities without NaN.
    for dt in (np.float32, np.float64):
        rows = np.tile(np.arange(70, dtype=dt), (70, 1))
        rows[np.arange(70), np.arange(70)] = nan
        assert np.isnan(_C.reduce_max(rows, [1])).all() and np.isnan(_C.reduce_min(rows, [1])).all()
        infs = np.tile(np.array([inf, -inf, 1], dt), 30)
        assert _C.reduce_max(infs) == inf and _C.reduce_min(infs) == -inf
        huge = np.full(100, np.finfo(dt).max, dt)  # the sum overflows; still no NaN
        assert _C.reduce_max(huge) == np.finfo(dt).max
    with pytest.raises(TypeError, match="unsupported dtype uint8"):
        _C.reduce_max(np.ones(3, np.uint8))
    with pytest.raises(ValueError, match="out of range"):
        _C.reduce_min(np.ones(3, np.float32), [1])


def _tf_arg(x, axis, is_max):
    """TF1's rule: first index strictly beyond a running best that starts at the dtype's
    lowest (highest) finite value; NaNs never win."""
    x = np.moveaxis(x, axis, -1)
    dt = x.dtype
    if dt.kind == "f":
        start = np.finfo(dt).min if is_max else np.finfo(dt).max
        clean = np.where(np.isnan(x), -np.inf if is_max else np.inf, x)
    else:
        start = np.iinfo(dt).min if is_max else np.iinfo(dt).max
        clean = x
    best = clean.max(-1, keepdims=True) if is_max else clean.min(-1, keepdims=True)
    idx = np.argmax(clean == best, axis=-1)
    beyond = (best[..., 0] > start) if is_max else (best[..., 0] < start)
    return np.where(beyond, idx, 0)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("is_max", [True, False])
def test_arg_every_axis(isa, dtype, is_max, rng):
    fn = _C.argmax if is_max else _C.argmin
    # Rows of 31-33 straddle the switch from the scalar scan to the vector paths.
    for shape in [(1,), (7,), (2, 3), (5, 1, 4), (3, 4, 5), (2, 3, 1, 17), (40, 33), (3, 31),
                  (3, 32), (2, 65)]:
        x = _data(shape, dtype, rng, nan_frac=0.15)
        if np.dtype(dtype).kind == "i":
            x = (x // 10).astype(dtype)  # ties
        for axis in range(-len(shape), len(shape)):
            got = fn(x, axis)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, _tf_arg(x, axis % len(shape), is_max))


def test_arg_tf_cases(isa):
    nan, inf, big = np.nan, np.inf, np.finfo(np.float32).max
    rows = np.array([[-inf, -inf, -inf], [nan, nan, nan], [nan, -inf, nan], [-inf, nan, -inf],
                     [inf, nan, inf], [nan, 3, 3], [-big, -inf, -big], [1, nan, 3],
                     [5, 2, 0], [nan, -1, 7]], np.float32)
    # Values printed by TensorFlow 2.15 (tf.compat.v1 graph mode) for these rows.
    want_max = [0, 0, 0, 0, 0, 1, 0, 2, 0, 2]
    want_min = [0, 0, 1, 0, 0, 1, 1, 0, 2, 1]
    for x in (rows, np.tile(rows, (1, 40))):
        np.testing.assert_array_equal(_C.argmax(x, 1), want_max)
        np.testing.assert_array_equal(_C.argmin(x, 1), want_min)
        np.testing.assert_array_equal(_C.argmax(np.ascontiguousarray(x.T), 0), want_max)
        np.testing.assert_array_equal(_C.argmin(np.ascontiguousarray(x.T), 0), want_min)
    ii = np.array([[np.iinfo(np.int32).min] * 3, [3, 5, 5]], np.int32)
    np.testing.assert_array_equal(_C.argmax(ii, 1), [0, 1])
    np.testing.assert_array_equal(_C.argmin(ii, 1), [0, 0])
    v = np.zeros(100003, np.float32)
    v[77777] = 2
    v[90000] = 2
    assert _C.argmax(v, 0) == 77777
    # Long runs are split in blocks: ties across blocks go to the first; NaN / -inf only runs
    # give 0, and NaNs never win.
    for dt in (np.float32, np.float64, np.int32, np.int64):
        w = np.zeros(200001, dt)
        w[[40000, 70000, 150000]] = 3
        assert _C.argmax(w, 0) == 40000 and _C.argmin(-w, 0) == 40000
    w = np.full(100000, nan, np.float32)
    assert _C.argmax(w, 0) == 0 and _C.argmin(w, 0) == 0
    w[99999] = 1
    w[:50000] = -inf
    assert _C.argmax(w, 0) == 99999 and _C.argmin(w, 0) == 0
    with pytest.raises(ValueError, match="reduction axis 0 is empty"):
        _C.argmax(np.zeros((0, 3), np.float32), 0)


def _lse_ref(x, axes, keepdims):
    x = x.astype(np.float64)
    with np.errstate(all="ignore"):
        m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)
        r = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
    if not keepdims:
        r = np.squeeze(r, axis=axes) if axes is not None else r.reshape(())
    return r


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_every_axis_set(isa, dtype, rng):
    for shape in SHAPES:
        x = (rng.standard_normal(shape) * 30).astype(dtype)
        for axes in _axis_sets(len(shape)):
            for kd in (False, True):
                got = _C.reduce_logsumexp(x, list(axes), kd)
                want = _lse_ref(x, axes, kd)
                assert got.dtype == dtype and got.shape == want.shape
                np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-13)


def test_logsumexp_special(isa):
    nan, inf = np.nan, np.inf
    x = np.array([[inf, 1], [-inf, -inf], [inf, -inf], [nan, 1], [1000, 1000], [-1000, -1000]],
                 np.float32)
    got = _C.reduce_logsumexp(x, [1])
    np.testing.assert_array_equal(got[:4], [inf, -inf, inf, nan])
    np.testing.assert_allclose(got[4:], [1000 + np.log(2), -1000 + np.log(2)], rtol=1e-7)
    np.testing.assert_array_equal(_C.reduce_logsumexp(np.zeros((0, 3), np.float32), [0]),
                                  [-inf] * 3)
    big = np.random.default_rng(0).standard_normal(300001).astype(np.float32)
    np.testing.assert_allclose(_C.reduce_logsumexp(big), _lse_ref(big, None, False), rtol=1e-6)
    with pytest.raises(TypeError, match="unsupported dtype int32"):
        _C.reduce_logsumexp(np.ones(3, np.int32))


def test_threads_and_layouts(restore_threads):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((301, 257)).astype(np.float32)
    x[5, 7] = np.nan
    xt = x.T  # non-contiguous
    flat = rng.standard_normal(200003).astype(np.float64)
    results = []
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        r = []
        for ax in ([0], [1], None):
            r += [_C.reduce_max(xt, ax), _C.reduce_prod(1 + 0.01 * xt, ax),
                  _C.reduce_logsumexp(x[:, ::2], ax)]
        r += [_C.argmax(x, 0), _C.argmin(xt, 0), _C.argmax(flat, 0), _C.reduce_min(flat),
              _C.reduce_prod(1 + 1e-6 * flat), _C.reduce_logsumexp(flat)]
        results.append(r)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
    r = results[0]
    np.testing.assert_array_equal(r[0], np.max(xt, 0))
    np.testing.assert_allclose(r[4], np.prod((1 + 0.01 * xt).astype(np.float64), 1), rtol=1e-5)
    np.testing.assert_array_equal(r[9], _tf_arg(x, 0, True))
    assert r[11] == np.argmax(flat)
