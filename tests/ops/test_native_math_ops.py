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
