"""tf.gradients semantics (TF1): sums over ys, None for unconnected xs, grad_ys, stop
gradients, integer tensors, naming, user-registered rules and overrides, clear errors."""

import numpy as np
import pytest

import headwater as tf
from headwater.framework.op_registry import register_op


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


def run(fetches, feed=None):
    with tf.Session() as s:
        return s.run(fetches, feed)


def test_sum_over_several_ys_and_unconnected_none():
    x = tf.placeholder(tf.float64, [3], name="x")
    z = tf.placeholder(tf.float64, [3], name="z")
    y1 = x * x
    y2 = 3.0 * x
    g = tf.gradients([y1, y2], [x, z])
    assert g[1] is None
    xv = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(run(g[0], {x: xv}), 2 * xv + 3)


def test_grad_ys_seed():
    x = tf.placeholder(tf.float64, [2])
    y = x * x
    (g,) = tf.gradients(y, x, grad_ys=tf.constant([10.0, 100.0], tf.float64))
    np.testing.assert_allclose(run(g, {x: [1.0, 2.0]}), [20.0, 400.0])
    with pytest.raises(ValueError, match="Passed 2 grad_ys for 1 ys"):
        tf.gradients(y, x, grad_ys=[y, y])


def test_stop_gradient_op_and_stop_gradients_argument():
    x = tf.placeholder(tf.float64, [])
    a = x * x
    b = tf.stop_gradient(a) + x
    (g,) = tf.gradients(b, x)
    assert run(g, {x: 3.0}) == 1.0
    # stop_gradients treats `a` as a constant: d(a + x)/dx = 1, not 2x + 1
    c = a + x
    (g2,) = tf.gradients(c, x, stop_gradients=[a])
    assert run(g2, {x: 3.0}) == 1.0
    (g3,) = tf.gradients(c, x)
    assert run(g3, {x: 3.0}) == 7.0


def test_integer_tensors_not_differentiated():
    i = tf.placeholder(tf.int32, [])
    x = tf.placeholder(tf.float32, [])
    y = tf.cast(i, tf.float32) * x
    gi, gx = tf.gradients(y, [i, x])
    assert gi is None
    assert run(gx, {i: 4, x: 1.0}) == 4.0


def test_gradient_ops_named_under_gradients_scope():
    x = tf.placeholder(tf.float32, [2], name="x")
    y = tf.reduce_sum(x * x)
    (g,) = tf.gradients(y, x)
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert any(n.startswith("gradients/mul_grad/") for n in names), names
    assert any(n.startswith("gradients/Sum_grad/") for n in names), names
    tf.gradients(y, x)
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert any(n.startswith("gradients_1/") for n in names)
    assert g.name.startswith("gradients/")


def test_variables_as_xs():
    w = tf.Variable([1.0, 2.0], name="w")
    loss = tf.reduce_sum(w * w)
    (g,) = tf.gradients(loss, w)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        np.testing.assert_allclose(s.run(g), [2.0, 4.0])


def test_second_derivative():
    x = tf.placeholder(tf.float64, [])
    y = x * x * x
    (g,) = tf.gradients(y, x)
    (h,) = tf.gradients(g, x)
    assert run(h, {x: 2.0}) == pytest.approx(12.0)


def test_register_gradient_and_override_map():
    register_op("HwTestTwice", lambda ins, attrs: [(ins[0].dtype, ins[0].shape)],
                lambda op, ctx: (lambda v: v * 2))

    @tf.RegisterGradient("HwTestTwice")
    def _twice_grad(op, grad):
        return [grad * 2.0]

    @tf.RegisterGradient("HwTestCustomSquareGrad")
    def _custom(op, grad):
        return [grad * 100.0]

    x = tf.placeholder(tf.float32, [])
    y = tf.get_default_graph().create_op("HwTestTwice", [x]).outputs[0]
    (g,) = tf.gradients(y, x)
    assert run(g, {x: 5.0}) == 2.0
    with tf.get_default_graph().gradient_override_map({"Square": "HwTestCustomSquareGrad"}):
        s = tf.square(x)
    (gs,) = tf.gradients(s, x)
    assert run(gs, {x: 5.0}) == 100.0
    with pytest.raises(KeyError, match="Registering two gradient"):
        tf.RegisterGradient("HwTestTwice")(_twice_grad)


def test_missing_gradient_names_op_and_type():
    register_op("HwTestNoGrad", lambda ins, attrs: [(ins[0].dtype, ins[0].shape)],
                lambda op, ctx: (lambda v: v))
    x = tf.placeholder(tf.float32, [])
    y = tf.get_default_graph().create_op("HwTestNoGrad", [x], name="opaque").outputs[0]
    with pytest.raises(LookupError) as ei:
        tf.gradients(y * 2.0, x)
    msg = str(ei.value)
    assert "'opaque'" in msg and "HwTestNoGrad" in msg and __file__ in msg


def test_not_differentiable_gives_none():
    register_op("HwTestNotDiff", lambda ins, attrs: [(ins[0].dtype, ins[0].shape)],
                lambda op, ctx: (lambda v: v))
    tf.NotDifferentiable("HwTestNotDiff")
    x = tf.placeholder(tf.float32, [])
    y = tf.get_default_graph().create_op("HwTestNotDiff", [x]).outputs[0]
    assert tf.gradients(y, x) == [None]


def test_shared_subexpression_aggregated_once():
    x = tf.placeholder(tf.float64, [2])
    a = x * 2.0
    y = a * a + a
    (g,) = tf.gradients(y, x)
    xv = np.array([1.0, 3.0])
    np.testing.assert_allclose(run(g, {x: xv}), 8 * xv + 2)
    assert tf.test.compute_gradient_error(x, [2], y, [2], x_init_value=xv,
                                          session=tf.Session()) < 1e-8


def test_compute_gradient_shapes():
    x = tf.placeholder(tf.float64, [2, 3])
    y = tf.reduce_sum(x * x, axis=1)
    with tf.Session():
        theo, num = tf.test.compute_gradient(x, [2, 3], y, [2])
    assert theo.shape == (6, 2) and num.shape == (6, 2)
    np.testing.assert_allclose(theo, num, atol=1e-6)


def test_unconnected_gradients_zero():
    x = tf.placeholder(tf.float32, [2])
    z = tf.placeholder(tf.float32, [3])
    (g,) = tf.gradients(x * 2.0, z, unconnected_gradients="zero")
    np.testing.assert_array_equal(run(g, {x: [1, 2], z: [1, 2, 3]}), [0, 0, 0])


@pytest.mark.parametrize("reduce_fn", [tf.reduce_sum, tf.reduce_mean, tf.reduce_max,
                                       tf.reduce_min, tf.reduce_prod])
def test_reduce_all_axes_of_unknown_rank(reduce_fn):
    x = tf.placeholder(tf.float64)  # unknown rank
    y = reduce_fn(x * 1.0)
    assert y.shape.as_list() == []
    xv = np.array([[1.0, 2.0, 3.5], [0.5, -1.0, 4.0]])
    with tf.Session() as s:
        assert s.run(y, {x: xv}) == pytest.approx(
            {tf.reduce_sum: np.sum, tf.reduce_mean: np.mean, tf.reduce_max: np.max,
             tf.reduce_min: np.min, tf.reduce_prod: np.prod}[reduce_fn](xv))
        err = tf.test.compute_gradient_error(x, [2, 3], y, [], x_init_value=xv)
    assert err < 1e-7
