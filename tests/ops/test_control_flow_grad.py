"""Gradients through tf.cond (the If op) and tf.while_loop (the While op)."""

import numpy as np
import pytest

import headwater as tf

F64 = tf.float64


def _graph():
    return tf.Graph().as_default()


def test_cond_gradient_depends_on_taken_branch():
    with _graph():
        x = tf.placeholder(F64, [])
        p = tf.placeholder(tf.bool, [])
        y = tf.cond(p, lambda: x * x, lambda: 3 * x)
        g, = tf.gradients(y, x)
        assert g.dtype == F64 and g.shape.as_list() == []
        with tf.Session() as sess:
            assert sess.run(g, {x: 5.0, p: True}) == 10.0
            assert sess.run(g, {x: 5.0, p: False}) == 3.0


def test_cond_gradient_numeric_both_branches():
    with _graph():
        x = tf.placeholder(F64, [2, 3])
        p = tf.placeholder(tf.bool, [])
        y = tf.cond(p, lambda: tf.exp(x) * tf.transpose(tf.sin(x))[::-1][0:1, :1],
                    lambda: tf.reshape(tf.tile(x[:, :1], [1, 3]), [2, 3]) * x)
        init = np.random.RandomState(0).uniform(-1, 1, (2, 3))
        with tf.Session():
            for pv in (True, False):
                err = tf.test.compute_gradient_error(x, [2, 3], y, [2, 3], x_init_value=init,
                                                     extra_feed_dict={p: pv})
                assert err < 1e-6, (pv, err)


def test_cond_branch_not_using_x_gives_zeros_and_unused_gives_none():
    with _graph():
        x = tf.placeholder(F64, [2])
        z = tf.placeholder(F64, [2])
        p = tf.placeholder(tf.bool, [])
        y = tf.cond(p, lambda: x * 2.0, lambda: tf.constant([1.0, 1.0], F64) + z)
        gx, gz = tf.gradients(y, [x, z])
        w = tf.placeholder(F64, [2])
        assert tf.gradients(y, w) == [None]
        with tf.Session() as sess:
            vx, vz = sess.run([gx, gz], {x: [1, 2], z: [0, 0], p: True})
            np.testing.assert_array_equal(vx, [2, 2])
            np.testing.assert_array_equal(vz, [0, 0])
            vx, vz = sess.run([gx, gz], {x: [1, 2], z: [0, 0], p: False})
            np.testing.assert_array_equal(vx, [0, 0])
            np.testing.assert_array_equal(vz, [1, 1])


def test_pred_and_integer_captures_get_no_gradient():
    with _graph():
        x = tf.placeholder(F64, [])
        k = tf.placeholder(tf.int32, [])
        p = tf.placeholder(tf.bool, [])
        y = tf.cond(p, lambda: x * tf.cast(k, F64), lambda: x)
        op = y.op
        assert op.type == "If"
        from headwater.ops.control_flow_ops import _if_grad
        with tf.name_scope("g"):
            grads = _if_grad(op, tf.constant(1.0, F64))
        assert grads[0] is None
        caps = list(op.inputs[1:])
        assert grads[1 + caps.index(k)] is None
        assert grads[1 + caps.index(x)] is not None


def test_nested_cond_gradients_and_second_derivatives():
    with _graph():
        x = tf.placeholder(F64, [3])
        p = tf.placeholder(tf.bool, [])
        q = tf.placeholder(tf.bool, [])

        def outer_true():
            e = tf.exp(x)
            return tf.cond(q, lambda: tf.reduce_sum(e * x), lambda: tf.reduce_sum(tf.sin(e)))

        y = tf.cond(p, outer_true, lambda: tf.reduce_sum(x * x * x))
        g, = tf.gradients(y, x)
        xv = np.array([0.1, 0.2, 0.3])
        expect = {(True, True): np.exp(xv) * xv + np.exp(xv),
                  (True, False): np.cos(np.exp(xv)) * np.exp(xv),
                  (False, True): 3 * xv * xv, (False, False): 3 * xv * xv}
        with tf.Session() as sess:
            for (pv, qv), e in expect.items():
                np.testing.assert_allclose(sess.run(g, {x: xv, p: pv, q: qv}), e, rtol=1e-12)
            for pv in (True, False):
                for qv in (True, False):
                    err = tf.test.compute_gradient_error(x, [3], g, [3], x_init_value=xv,
                                                         extra_feed_dict={p: pv, q: qv})
                    assert err < 1e-5, (pv, qv, err)


def test_cond_second_derivative_values():
    with _graph():
        x = tf.placeholder(F64, [])
        p = tf.placeholder(tf.bool, [])
        y = tf.cond(p, lambda: x * x * x, lambda: tf.sin(x))
        g, = tf.gradients(y, x)
        h, = tf.gradients(g, x)
        with tf.Session() as sess:
            assert sess.run(h, {x: 2.0, p: True}) == pytest.approx(12.0)
            assert sess.run(h, {x: 2.0, p: False}) == pytest.approx(-np.sin(2.0))


def test_gradient_only_runs_taken_branch_side_effects_once():
    with _graph():
        x = tf.placeholder(F64, [])
        p = tf.placeholder(tf.bool, [])
        ct = tf.Variable(0, name="count_true")
        cf = tf.Variable(0, name="count_false")

        def t():
            with tf.control_dependencies([tf.assign_add(ct, 1)]):
                return x * x

        def f():
            with tf.control_dependencies([tf.assign_add(cf, 1)]):
                return 3.0 * x

        y = tf.cond(p, t, f)
        g, = tf.gradients(y, x)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(g, {x: 2.0, p: True}) == 4.0
            assert sess.run([ct, cf]) == [1, 0]
            yv, gv = sess.run([y, g], {x: 2.0, p: True})
            assert (yv, gv) == (4.0, 4.0)
            assert sess.run([ct, cf]) == [2, 0]
            assert sess.run(g, {x: 2.0, p: False}) == 3.0
            assert sess.run([ct, cf]) == [2, 1]


def test_gradient_uses_forward_values_of_random_ops():
    with _graph():
        x = tf.placeholder(F64, [50])
        p = tf.placeholder(tf.bool, [])

        def dropout_like():
            keep = tf.cast(tf.random_uniform([50], dtype=F64) < 0.5, F64)
            return x * keep

        y = tf.cond(p, dropout_like, lambda: x)
        g, = tf.gradients(tf.reduce_sum(y), x)
        with tf.Session() as sess:
            yv, gv = sess.run([y, g], {x: np.ones(50), p: True})
            # The mask of the gradient is the one the forward pass drew, not a new draw.
            np.testing.assert_array_equal(gv, yv)
            assert 0 < gv.sum() < 50
            yv, gv = sess.run([y, g], {x: np.ones(50), p: False})
            np.testing.assert_array_equal(gv, np.ones(50))


def test_cond_with_variables_and_optimizer():
    with _graph():
        w = tf.Variable([1.0, 2.0], dtype=F64)
        p = tf.placeholder(tf.bool, [])
        loss = tf.cond(p, lambda: tf.reduce_sum(w * w), lambda: tf.reduce_sum(3.0 * w))
        gw, = tf.gradients(loss, w)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_allclose(sess.run(gw, {p: True}), [2.0, 4.0])
            sess.run(train, {p: True})
            np.testing.assert_allclose(sess.run(w), [0.8, 1.6])
            sess.run(train, {p: False})
            np.testing.assert_allclose(sess.run(w), [0.5, 1.3])


def test_cond_with_gather_of_variable_in_branch():
    with _graph():
        w = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=F64)
        p = tf.placeholder(tf.bool, [])
        loss = tf.cond(p, lambda: tf.reduce_sum(tf.gather(w, [2, 2, 0])),
                       lambda: tf.reduce_sum(w * 0.5))
        gw, = tf.gradients(loss, w)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_allclose(sess.run(gw, {p: True}), [[1, 1], [0, 0], [2, 2]])
            np.testing.assert_allclose(sess.run(gw, {p: False}), np.full((3, 2), 0.5))


def test_cond_with_unknown_shapes_and_tuple_outputs():
    with _graph():
        x = tf.placeholder(F64, [None, None])
        p = tf.placeholder(tf.bool, [])
        a, b = tf.cond(p, lambda: (tf.reshape(x, [-1]), tf.reduce_sum(x, axis=1)),
                       lambda: (tf.reshape(tf.transpose(x), [-1]) * 2.0, x[:, 0]))
        g, = tf.gradients([tf.reduce_sum(a * a), b], x)
        xv = np.arange(6.0).reshape(2, 3)
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(g, {x: xv, p: True}), 2 * xv + 1)
            expect = 8 * xv
            expect[:, 0] += 1
            np.testing.assert_allclose(sess.run(g, {x: xv, p: False}), expect)


def test_forward_plan_before_and_after_gradient_and_repeated_gradients():
    with _graph():
        x = tf.placeholder(F64, [])
        p = tf.placeholder(tf.bool, [])
        y = tf.cond(p, lambda: tf.exp(x) * x, lambda: x)
        with tf.Session() as sess:
            assert sess.run(y, {x: 1.0, p: True}) == pytest.approx(np.e)
            g1, = tf.gradients(y, x)
            g2, = tf.gradients(y * y, x)
            assert sess.run(y, {x: 1.0, p: True}) == pytest.approx(np.e)
            v1, v2, vy = sess.run([g1, g2, y], {x: 1.0, p: True})
            assert vy == pytest.approx(np.e)
            assert v1 == pytest.approx(2 * np.e)
            assert v2 == pytest.approx(2 * np.e * 2 * np.e)
            assert sess.run([g1, g2], {x: 1.0, p: False}) == [1.0, 2.0]
        # The user's outputs are unchanged; extra outputs only carry values for gradients.
        assert y.op.outputs[0] is y


def test_case_gradient():
    with _graph():
        x = tf.placeholder(F64, [])
        i = tf.placeholder(tf.int32, [])
        y = tf.case([(tf.equal(i, 0), lambda: x * x), (tf.equal(i, 1), lambda: 5.0 * x)],
                    default=lambda: tf.sin(x))
        g, = tf.gradients(y, x)
        with tf.Session() as sess:
            assert sess.run(g, {x: 3.0, i: 0}) == 6.0
            assert sess.run(g, {x: 3.0, i: 1}) == 5.0
            assert sess.run(g, {x: 3.0, i: 2}) == pytest.approx(np.cos(3.0))


def test_gradients_inside_a_cond_branch():
    with _graph():
        x = tf.placeholder(F64, [])
        p = tf.placeholder(tf.bool, [])
        y = tf.cond(p, lambda: tf.gradients(x * x * x, x)[0], lambda: x)
        with tf.Session() as sess:
            assert sess.run(y, {x: 2.0, p: True}) == 12.0
            assert sess.run(y, {x: 2.0, p: False}) == 2.0


def test_branch_tensors_still_cannot_be_used_in_other_branches_outside_gradients():
    with _graph():
        x = tf.placeholder(F64, [])
        p = tf.placeholder(tf.bool, [])
        inner = []

        def t():
            inner.append(x * 2.0)
            return inner[0]

        tf.cond(p, t, lambda: x)
        with pytest.raises(ValueError, match="cannot be used"):
            tf.cond(p, lambda: inner[0] + 1.0, lambda: x)


def _loop_np(xv, wv, steps):
    v = xv.copy()
    for _ in range(steps):
        v = np.tanh(v @ wv) + 0.1 * v
    return v


def test_while_loop_gradient_numeric_rnn_like():
    # h <- tanh(h W) + 0.1 h, five times; gradients w.r.t. the initial state and the captured
    # weights against finite differences (float64, full Jacobians).
    rng = np.random.RandomState(1)
    h0 = rng.uniform(-1, 1, (2, 3))
    w0 = rng.uniform(-1, 1, (3, 3))
    with _graph():
        h = tf.placeholder(F64, [2, 3])
        w = tf.placeholder(F64, [3, 3])
        _, out = tf.while_loop(lambda i, v: i < 5,
                               lambda i, v: (i + 1, tf.tanh(tf.matmul(v, w)) + 0.1 * v),
                               [tf.constant(0), h])
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(out, {h: h0, w: w0}), _loop_np(h0, w0, 5),
                                       rtol=1e-12)
            err_h = tf.test.compute_gradient_error(h, [2, 3], out, [2, 3], x_init_value=h0,
                                                   delta=1e-5, extra_feed_dict={w: w0})
            err_w = tf.test.compute_gradient_error(w, [3, 3], out, [2, 3], x_init_value=w0,
                                                   delta=1e-5, extra_feed_dict={h: h0})
    assert err_h < 1e-7 and err_w < 1e-7, (err_h, err_w)


def test_while_loop_gradient_closed_form_and_iteration_counts():
    # v <- v * x, n times: d/dx = n x^(n-1) v0, d/dv0 = x^n; zero iterations pass the
    # gradient through to v0 and give the capture a zero gradient.
    with _graph():
        x = tf.placeholder(F64, [])
        v0 = tf.placeholder(F64, [])
        n = tf.placeholder(tf.int32, [])
        r = tf.while_loop(lambda i, v: i < n, lambda i, v: (i + 1, v * x), [0, v0])[1]
        gx, gv = tf.gradients(r, [x, v0])
        with tf.Session() as sess:
            for steps in (0, 1, 3, 6):
                got = sess.run([r, gx, gv], {x: 1.5, v0: 2.0, n: steps})
                np.testing.assert_allclose(got, [2.0 * 1.5 ** steps,
                                                 steps * 1.5 ** max(steps - 1, 0) * 2.0,
                                                 1.5 ** steps], rtol=1e-12)


def test_while_loop_gradient_with_maximum_iterations_and_several_outputs():
    with _graph():
        x = tf.placeholder(F64, [2])
        a, b = tf.while_loop(lambda a, b: tf.reduce_sum(a) < 1e9,
                             lambda a, b: (a * 2.0 + b, b * x), [x, tf.ones([2], F64)],
                             maximum_iterations=4)
        y = tf.reduce_sum(a) + 3.0 * tf.reduce_sum(b)
        g, = tf.gradients(y, x)
        xv = np.array([0.4, -1.3])

        def f(xv):
            a, b = xv.copy(), np.ones(2)
            for _ in range(4):
                a, b = a * 2.0 + b, b * xv
            return a.sum() + 3.0 * b.sum()
        fd = [(f(xv + 1e-6 * e) - f(xv - 1e-6 * e)) / 2e-6 for e in np.eye(2)]
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(g, {x: xv}), fd, rtol=1e-7)


def test_while_loop_gradient_trains_a_variable():
    # Minimise (w^4 x - 1)^2 where the loop multiplies by w four times.
    with _graph():
        w = tf.Variable(0.9, dtype=F64)
        r = tf.while_loop(lambda i, v: i < 4, lambda i, v: (i + 1, v * w),
                          [0, tf.constant(2.0, F64)])[1]
        loss = tf.square(r - 1.0)
        train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            wv = 0.9
            for _ in range(5):
                sess.run(train)
                wv -= 0.01 * 2 * (2 * wv ** 4 - 1) * 8 * wv ** 3
                np.testing.assert_allclose(sess.run(w), wv, rtol=1e-8)


def test_while_loop_integer_vars_get_no_gradient_and_stop_gradient_still_works():
    with _graph():
        x = tf.placeholder(F64, [])
        i_out, r = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), [0, x])
        assert tf.gradients(tf.cast(i_out, F64), x) == [None]
        assert tf.gradients(tf.stop_gradient(r) + x, x)[0] is not None
        with tf.Session() as sess:
            assert sess.run(tf.gradients(r, x)[0], {x: 2.0}) == 4 * 2.0 ** 3


def test_gradient_through_cond_containing_while():
    with _graph():
        x = tf.placeholder(F64, [])
        p = tf.placeholder(tf.bool, [])
        y = tf.cond(p, lambda: tf.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, [x]),
                    lambda: x * x)
        g, = tf.gradients(y, x)
        with tf.Session() as sess:
            # 1.5 -> 3 -> 6 -> 12: three doublings.
            assert sess.run([y, g], {x: 1.5, p: True}) == [12.0, 8.0]
            assert sess.run([y, g], {x: 1.5, p: False}) == [2.25, 3.0]

