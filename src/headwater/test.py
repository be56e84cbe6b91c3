"""`tf.test`: gradient checking and a TestCase with TF1's assertion helpers."""

from __future__ import annotations

import unittest

import numpy as np

from headwater.framework import ops as _ops

__all__ = ["compute_gradient", "compute_gradient_error", "TestCase", "main",
           "is_gpu_available", "gpu_device_name", "is_built_with_cuda"]


def _session(sess):
    s = sess or _ops.get_default_session()
    if s is None:
        raise ValueError("compute_gradient needs a default session (use `with tf.Session():`)"
                         " or an explicit one via `session=`.")
    return s


def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def compute_gradient(x, x_shape, y, y_shape, x_init_value=None, delta=1e-3,
                     init_targets=None, extra_feed_dict=None, session=None):
    """Theoretical and numerical Jacobians of `y` with respect to `x`.

    Returns `(jacobian_theoretical, jacobian_numerical)`, each of shape
    `(x.size, y.size)` (lists of such pairs when `x` is a list). The theoretical one comes from
    `tf.gradients` fed with one-hot `grad_ys`; the numerical one from central differences of
    size `delta`, computed in float64 where x and y are float64.
    """
    from headwater.gradients import gradients
    from headwater.ops import array_ops

    sess = _session(session)
    xs = _as_list(x)
    shapes = x_shape if isinstance(x, (list, tuple)) else [x_shape]
    inits = (x_init_value if isinstance(x, (list, tuple)) else [x_init_value]) \
        if x_init_value is not None else [None] * len(xs)
    if init_targets is not None:
        sess.run(init_targets)
    y_shape = tuple(y_shape)
    ny = int(np.prod(y_shape)) if y_shape else 1
    xdt = [np.dtype(t.dtype.base_dtype.as_numpy_dtype) for t in xs]
    ydt = np.dtype(y.dtype.base_dtype.as_numpy_dtype)
    values = []
    for t, shp, init, dt in zip(xs, shapes, inits, xdt):
        if init is None:
            init = np.random.RandomState(1).random_sample(tuple(shp)).astype(dt)
        values.append(np.asarray(init, dtype=dt).reshape(tuple(shp)))
    base_feed = dict(extra_feed_dict or {})
    for t, v in zip(xs, values):
        base_feed[t] = v

    dy = array_ops.placeholder(y.dtype, shape=y_shape, name="compute_gradient_dy")
    grads = [_ops.convert_to_tensor(g) if type(g).__name__ == "IndexedSlices" else g
             for g in gradients(y, xs, grad_ys=dy)]
    results = []
    for k, (t, v) in enumerate(zip(xs, values)):
        nx = v.size
        theo = np.zeros((nx, ny), dtype=np.float64)
        g = grads[k]
        if g is not None:
            for j in range(ny):
                onehot = np.zeros(ny, dtype=ydt)
                onehot[j] = 1
                feed = dict(base_feed)
                feed[dy] = onehot.reshape(y_shape)
                gv = sess.run(g, feed)
                theo[:, j] = np.asarray(gv, dtype=np.float64).reshape(-1)
        num = np.zeros((nx, ny), dtype=np.float64)
        flat = v.reshape(-1)
        for i in range(nx):
            orig = flat[i]
            feed = dict(base_feed)
            plus = flat.copy()
            plus[i] = orig + delta
            feed[t] = plus.reshape(v.shape)
            yp = np.asarray(sess.run(y, feed), dtype=np.float64).reshape(-1)
            minus = flat.copy()
            minus[i] = orig - delta
            feed[t] = minus.reshape(v.shape)
            ym = np.asarray(sess.run(y, feed), dtype=np.float64).reshape(-1)
            num[i, :] = (yp - ym) / (2 * delta)
        results.append((theo, num))
    return results if isinstance(x, (list, tuple)) else results[0]


def compute_gradient_error(x, x_shape, y, y_shape, x_init_value=None, delta=1e-3,
                           init_targets=None, extra_feed_dict=None, session=None):
    """Max absolute difference between the theoretical and numerical Jacobians."""
    res = compute_gradient(x, x_shape, y, y_shape, x_init_value, delta, init_targets,
                           extra_feed_dict, session)
    if isinstance(res, tuple):
        res = [res]
    err = 0.0
    for theo, num in res:
        if theo.size:
            err = max(err, float(np.max(np.abs(theo - num))))
    return err


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
    return False


def gpu_device_name():
    return ""


def is_built_with_cuda():
    return False


class TestCase(unittest.TestCase):
    """unittest.TestCase with TF1's helpers (`session()`, `assertAllClose`, ...)."""

    def setUp(self):
        super().setUp()
        _ops.reset_default_graph() if not _ops._default_graph_stack.stack else None

    def session(self, graph=None, config=None):
        from headwater.client.session import Session
        return Session(graph=graph, config=config)

    cached_session = session
    test_session = session

    def evaluate(self, tensors):
        sess = _ops.get_default_session()
        if sess is None:
            with self.session() as s:
                return s.run(tensors)
        return sess.run(tensors)

    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol,
                                   err_msg=msg or "")

    def assertAllEqual(self, a, b, msg=None):  # noqa: N802
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=msg or "")

    def assertNear(self, f1, f2, err, msg=None):  # noqa: N802
        self.assertTrue(abs(f1 - f2) <= err, msg or "%r != %r +/- %r" % (f1, f2, err))

    def assertShapeEqual(self, np_array, tf_tensor, msg=None):  # noqa: N802
        self.assertEqual(list(np_array.shape), tf_tensor.get_shape().as_list(), msg)


def main(argv=None):
    unittest.main(argv=argv)
