"""headwater._C.reduce_sum / reduce_mean against float64 numpy over every axis set."""

import itertools

import numpy as np
import pytest

from headwater import _C

from conftest import DTYPES


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 1, 5), (4, 6, 5), (2, 3, 1, 4), (0, 3),
                                   (3, 0, 2), (1000, 33)])
def test_every_axis_set(isa, dtype, shape):
    rng = np.random.default_rng(len(shape))
    x = rng.uniform(-1, 1, shape).astype(dtype)
    nd = len(shape)
    sets = [None] + [list(c) for k in range(nd + 1) for c in itertools.combinations(range(nd), k)]
    for axes in sets:
        for kd in (False, True):
            want = np.sum(x.astype(np.float64), axis=None if axes is None else tuple(axes),
                          keepdims=kd)
            got = _C.reduce_sum(x, axes, kd)
            assert got.dtype == dtype and got.shape == np.shape(want), (axes, kd)
            # Rounding of short runs in the data's dtype: bounded by the sum of magnitudes.
            mag = np.sum(np.abs(x.astype(np.float64)), axis=None if axes is None else
                         tuple(axes), keepdims=kd)
            eps = np.finfo(dtype).eps
            assert np.all(np.abs(got - want) <= 2 * eps * np.abs(want) + 4 * eps * mag), axes
            if x.size and (axes is None or all(shape[a] for a in axes)):
                m = _C.reduce_mean(x, axes, kd)
                n = x.size // max(got.size, 1)
                assert np.all(np.abs(m - want / n) <= (4 * eps * np.abs(want) + 4 * eps * mag) / n)
    if nd:
        # Negative axes and a non-contiguous input.
        eps = np.finfo(dtype).eps
        x64 = x.astype(np.float64)
        got = _C.reduce_sum(x, [-1])
        assert np.all(np.abs(got - x64.sum(-1)) <= 4 * eps * np.abs(x64).sum(-1) + 1e-30)
        xt = np.swapaxes(x, 0, -1)
        got = _C.reduce_sum(xt, [0])
        assert np.all(np.abs(got - xt.astype(np.float64).sum(0))
                      <= 4 * eps * np.abs(xt.astype(np.float64)).sum(0) + 1e-30)


def test_16m_float32_sum_is_accurate(restore_threads):
    x = np.random.default_rng(0).uniform(0, 1, 1 << 24).astype(np.float32)
    exact = x.astype(np.float64).sum()
    results = []
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        s = _C.reduce_sum(x)
        assert abs(float(s) - exact) / exact <= 1e-6
        results.append(s)
    assert results[0] == results[1] == results[2]


def test_axis_sums_thread_independent(restore_threads):
    x = np.random.default_rng(1).standard_normal((513, 700)).astype(np.float32)
    outs = []
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        outs.append((_C.reduce_sum(x, [0]), _C.reduce_sum(x, [1]), _C.reduce_mean(x)))
    for o in outs[1:]:
        for a, b in zip(o, outs[0]):
            np.testing.assert_array_equal(a, b)


def test_errors():
    with pytest.raises(ValueError, match="axis 2 is out of range for an array of rank 2"):
        _C.reduce_sum(np.ones((2, 2), np.float32), [2])
    with pytest.raises(TypeError, match="unsupported dtype int32"):
        _C.reduce_sum(np.ones(3, np.int32))
