"""Graph ops on their native (headwater._C) paths: Softplus, SoftplusGrad, Erf on tensors large
enough to take them, against float64 references, with TF1's special values; the numpy paths
(tiny tensors, float16) agree."""

import math

import numpy as np
import pytest

import headwater as tf
from headwater import nn

_erf64 = np.vectorize(math.erf, otypes=[np.float64])


@pytest.fixture
def sess():
    with tf.Graph().as_default() as g, tf.Session(graph=g) as s:
        yield s


def _inputs(dtype, n=5000):
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-30, 30, n), rng.uniform(-2, 2, n),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 100, -100, 89]])
    return x.astype(dtype)


def _check(got, want, dtype):
    assert got.dtype == dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got[ok], want[ok].astype(dtype), rtol=tol,
                               atol=float(np.finfo(dtype).tiny))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_native(sess, dtype):
    x = _inputs(dtype)
    p = tf.placeholder(dtype, [None])
    with np.errstate(all="ignore"):
        want = np.logaddexp(0, x.astype(np.float64))
    _check(sess.run(nn.softplus(p), {p: x}), want, dtype)
    # The tiny-tensor numpy path gives the same values.
    small = sess.run(nn.softplus(p), {p: x[-10:]})
    _check(small, want[-10:], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_grad_native(sess, dtype):
    x = _inputs(dtype)
    g = np.linspace(-2, 2, x.size).astype(dtype)
    p = tf.placeholder(dtype, [None])
    y = nn.softplus(p)
    (dx,) = tf.gradients(y, [p], grad_ys=tf.constant(g))
    assert dx.op.type == "SoftplusGrad"
    with np.errstate(all="ignore"):
        x64 = x.astype(np.float64)
        want = g.astype(np.float64) * np.exp(-np.logaddexp(0, -x64))
    _check(sess.run(dx, {p: x}), want, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_native(sess, dtype):
    x = _inputs(dtype)
    p = tf.placeholder(dtype, [None])
    got = sess.run(tf.erf(p), {p: x})
    _check(got, _erf64(x.astype(np.float64)), dtype)
    assert np.signbit(got[np.flatnonzero((x == 0) & np.signbit(x))[0]])
    np.testing.assert_array_equal(got[-8:-5], [1, -1, np.nan])


def test_float16_keeps_numpy_paths(sess):
    x = np.linspace(-4, 4, 200).astype(np.float16)
    p = tf.placeholder(tf.float16, [None])
    sp, ef = sess.run([nn.softplus(p), tf.erf(p)], {p: x})
    assert sp.dtype == np.float16 and ef.dtype == np.float16
    np.testing.assert_allclose(sp, np.logaddexp(0, x.astype(np.float64)), rtol=2e-3)
    np.testing.assert_allclose(ef, _erf64(x.astype(np.float64)), rtol=2e-3, atol=1e-3)


# ---- reductions: the same answers on the native path (big) and the numpy path (small) ----------

import itertools  # noqa: E402

_RED = {"Max": (tf.reduce_max, "max"), "Min": (tf.reduce_min, "min"),
        "Prod": (tf.reduce_prod, "prod")}


def _np_reduce(kind, x, axes, kd):
    dt = x.dtype
    if kind == "prod":
        return np.prod(x, axis=axes, keepdims=kd, dtype=dt)
    if kind == "max":
        init = -np.inf if dt.kind == "f" else np.iinfo(dt).min
        return np.max(x, axis=axes, keepdims=kd, initial=init)
    init = np.inf if dt.kind == "f" else np.iinfo(dt).max
    return np.min(x, axis=axes, keepdims=kd, initial=init)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("op_type", sorted(_RED))
def test_reductions_every_axis_set(sess, op_type, dtype):
    fn, kind = _RED[op_type]
    rng = np.random.default_rng(11)
    for shape in [(3, 5, 7), (40, 30, 9), (2, 0, 3)]:
        if np.dtype(dtype).kind == "f":
            x = (1 + 0.01 * rng.standard_normal(shape)).astype(dtype)
            if x.size:
                x.flat[rng.integers(0, x.size, 3)] = np.nan
        else:
            x = rng.integers(-3, 4, shape).astype(dtype)
        p = tf.placeholder(dtype, shape)
        for k in range(4):
            for axes in itertools.combinations(range(3), k):
                for kd in (False, True):
                    t = fn(p, axis=list(axes), keepdims=kd)
                    assert t.op.type == op_type
                    got = sess.run(t, {p: x})
                    want = _np_reduce(kind, x, axes, kd)
                    assert got.dtype == dtype and got.shape == want.shape
                    if kind == "prod" and np.dtype(dtype).kind == "f":
                        np.testing.assert_allclose(got, want, rtol=1e-5)
                    else:
                        np.testing.assert_array_equal(got, want)


def _tf_arg(x, axis, is_max):
    x = np.moveaxis(x, axis, -1)
    if x.dtype.kind == "f":
        start = np.finfo(x.dtype).min if is_max else np.finfo(x.dtype).max
        clean = np.where(np.isnan(x), -np.inf if is_max else np.inf, x)
    else:
        start = np.iinfo(x.dtype).min if is_max else np.iinfo(x.dtype).max
        clean = x
    best = clean.max(-1, keepdims=True) if is_max else clean.min(-1, keepdims=True)
    beyond = best[..., 0] > start if is_max else best[..., 0] < start
    return np.where(beyond, np.argmax(clean == best, axis=-1), 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("is_max", [True, False])
def test_argmax_argmin_native_and_numpy(sess, dtype, is_max):
    rng = np.random.default_rng(12)
    for shape in [(4, 6), (64, 100, 3)]:  # numpy path, native path
        if np.dtype(dtype).kind == "f":
            x = rng.standard_normal(shape).astype(dtype)
            x.flat[rng.integers(0, x.size, max(2, x.size // 10))] = np.nan
            x[0] = np.nan  # whole all-NaN slices along axis 1/2
        else:
            x = rng.integers(-5, 5, shape).astype(dtype)
        p = tf.placeholder(dtype, shape)
        for axis in range(-len(shape), len(shape)):
            for out_t in (tf.int64, tf.int32):
                fn = tf.argmax if is_max else tf.argmin
                got = sess.run(fn(p, axis, output_type=out_t), {p: x})
                assert got.dtype == out_t.as_numpy_dtype
                np.testing.assert_array_equal(got, _tf_arg(x, axis % len(shape), is_max))


def test_argmax_tf_nan_rows(sess):
    nan, inf = np.nan, np.inf
    rows = np.array([[nan, -inf, nan], [-inf, nan, -inf], [nan, 3, 3], [1, nan, 3],
                     [nan, -1, 7]], np.float32)
    for x in (rows, np.tile(rows, (1, 2000))):  # numpy path, native path
        mx, mn = sess.run([tf.argmax(x, 1), tf.argmin(x, 1)])
        np.testing.assert_array_equal(mx, [0, 0, 1, 2, 2])  # as printed by TF 2.15 (v1 graph)
        np.testing.assert_array_equal(mn, [1, 0, 1, 0, 1])


def test_empty_reductions(sess):
    e = np.zeros((0, 5000), np.float32)
    got = sess.run([tf.reduce_max(e, 0), tf.reduce_min(e, 0), tf.reduce_prod(e, 0),
                    tf.reduce_logsumexp(e, 0)])
    for g, v in zip(got, [-np.inf, np.inf, 1, -np.inf]):
        assert g.shape == (5000,) and np.all(g == v)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Reduction axis 0 is empty"):
        sess.run(tf.argmax(e, 0))


def test_reduce_logsumexp_big(sess):
    x = np.random.default_rng(13).standard_normal((300, 70)).astype(np.float32) * 50
    x[3, 5] = np.inf
    x[7, :] = -np.inf
    x[9, 2] = np.nan
    for axis in (0, 1, None):
        got = sess.run(tf.reduce_logsumexp(x, axis))
        x64 = x.astype(np.float64)
        with np.errstate(all="ignore"):
            m = np.max(x64, axis=axis, keepdims=True)
            m = np.where(np.isfinite(m), m, 0)
            want = np.log(np.sum(np.exp(x64 - m), axis=axis, keepdims=True)) + m
        want = want.reshape(got.shape)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        ok = ~np.isnan(want)
        np.testing.assert_allclose(got[ok], want[ok], rtol=2e-6)
