"""Plan-time fusion of MatMul -> bias add [-> Relu] into one GEMM call with an epilogue.

Fused plans must return exactly the bits the graph as written returns, leave the user's graph
alone, and still report errors against the user's op and line.
"""

import numpy as np
import pytest

import headwater as tf
from headwater.runtime import fusion


@pytest.fixture
def unfused():
    fusion.ENABLED = False
    try:
        yield
    finally:
        fusion.ENABLED = True


def _fused_steps(sess, fetches, feed_keys=()):
    plan = sess._entry(fetches, tuple(feed_keys)).plan
    return [s for s in plan.run_ops if isinstance(s, fusion.FusedDense)]


def _run_both(build, feed, fetch_names=None, steps=1, dtype=np.float32):
    """Runs `build()`'s fetches in a fused and in an unfused plan of the same graph."""
    results = []
    for enabled in (True, False):
        fusion.ENABLED = enabled
        try:
            with tf.Graph().as_default():
                tf.set_random_seed(1)
                fetches, placeholders, train = build()
                with tf.Session() as sess:
                    sess.run(tf.global_variables_initializer())
                    fd = {placeholders[i]: v for i, v in enumerate(feed)}
                    for _ in range(steps):
                        if train is not None:
                            sess.run(train, fd)
                    out = sess.run(fetches, fd)
                    n_fused = len(_fused_steps(sess, fetches, fd.keys()))
            results.append((out, n_fused))
        finally:
            fusion.ENABLED = True
    (fused, n_f), (plain, n_p) = results
    assert n_p == 0
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)
    return n_f


def _dense(x, n_out, dtype, relu=True, order="mm+b", ta=False, tb=False, use_bias_add=False):
    n_in = int(x.shape[1])
    w0 = tf.random_normal([n_out, n_in] if tb else [n_in, n_out], dtype=dtype)
    w = tf.Variable(w0)
    b = tf.Variable(tf.random_normal([n_out], dtype=dtype))
    xin = tf.transpose(x) if ta else x
    mm = tf.matmul(xin, w, transpose_a=ta, transpose_b=tb)
    if use_bias_add:
        h = tf.nn.bias_add(mm, b)
    else:
        h = mm + b if order == "mm+b" else b + mm
    return tf.nn.relu(h) if relu else h


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("variant", ["relu", "no-relu", "b+mm", "bias_add", "ta", "tb"])
def test_forward_identical_and_fused(dtype, variant):
    rng = np.random.default_rng(0)
    xv = rng.standard_normal((37, 53)).astype(dtype)

    def build():
        x = tf.placeholder(dtype, [None, 53])
        h = _dense(x, 29, dtype, relu=variant != "no-relu", order="b+mm" if variant == "b+mm"
                   else "mm+b", ta=variant == "ta", tb=variant == "tb",
                   use_bias_add=variant == "bias_add")
        return [h], [x], None

    assert _run_both(build, [xv]) == 1


def test_training_mlp_identical_and_every_layer_fused():
    rng = np.random.default_rng(1)
    xv = rng.standard_normal((64, 40)).astype(np.float32)
    yv = rng.integers(0, 10, 64)

    def build():
        x = tf.placeholder(tf.float32, [None, 40])
        y = tf.placeholder(tf.int64, [None])
        h = _dense(x, 32, tf.float32)
        h = _dense(h, 32, tf.float32)
        logits = _dense(h, 10, tf.float32, relu=False)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                             logits=logits))
        train = tf.train.AdamOptimizer(0.01).minimize(loss)
        return [loss] + tf.trainable_variables(), [x, y], train

    # loss + variables after 5 Adam steps: gradients flow through the fused layers' outputs.
    assert _run_both(build, [xv, yv], steps=5) == 3


def test_fetched_intermediate_is_not_fused_away():
    rng = np.random.default_rng(2)
    xv = rng.standard_normal((8, 20)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 20])
        w = tf.Variable(rng.standard_normal((20, 30)).astype(np.float32))
        b = tf.Variable(rng.standard_normal(30).astype(np.float32))
        mm = tf.matmul(x, w)
        pre = mm + b
        out = tf.nn.relu(pre)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            mv, pv, ov = sess.run([mm, pre, out], {x: xv})
            bv = sess.run(b)
            # The MatMul result is fetched: nothing may be fused.
            assert _fused_steps(sess, [mm, pre, out], [x]) == []
            pv2, ov2 = sess.run([pre, out], {x: xv})
            # MatMul + bias fused; the Relu reads the fetched pre-activation separately.
            steps = _fused_steps(sess, [pre, out], [x])
            assert len(steps) == 1 and [o.type for o in steps[0].ops] == ["MatMul", "AddV2"]
    np.testing.assert_array_equal(pv, pv2)
    np.testing.assert_array_equal(ov, ov2)
    np.testing.assert_array_equal(pv, mv + bv)
    np.testing.assert_array_equal(ov, np.maximum(pv, 0))


def test_control_dependency_on_the_add_blocks_fusion():
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((5, 20)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 20])
        w = tf.Variable(rng.standard_normal((20, 30)).astype(np.float32))
        b = tf.Variable(rng.standard_normal(30).astype(np.float32))
        pre = tf.matmul(x, w) + b
        with tf.control_dependencies([pre]):
            c = tf.identity(x)
        out = tf.nn.relu(pre)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            ov, _ = sess.run([out, c], {x: xv})
            assert _fused_steps(sess, [out, c], [x]) == []
            wv, bv = sess.run([w, b])
    want = np.maximum(xv.astype(np.float64) @ wv + bv, 0)
    np.testing.assert_allclose(ov, want, rtol=1e-5, atol=1e-5)


def test_run_time_error_names_the_matmul_and_the_users_line():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, None])
        w = tf.Variable(np.ones((20, 30), np.float32))
        b = tf.Variable(np.zeros(30, np.float32))
        out = tf.nn.relu(tf.matmul(x, w, name="dense_mm") + b)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(out, {x: np.ones((2, 20), np.float32)}),
                                          np.full((2, 30), 20, np.float32))
            assert len(_fused_steps(sess, [out], [x])) == 1
            with pytest.raises(tf.errors.InvalidArgumentError) as ei:
                sess.run(out, {x: np.ones((2, 19), np.float32)})
    msg = str(ei.value)
    assert "dense_mm" in msg and "test_fusion.py" in msg


def test_traced_run_still_times_every_graph_op():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 20])
        w = tf.Variable(np.ones((20, 30), np.float32))
        b = tf.Variable(np.zeros(30, np.float32))
        out = tf.nn.relu(tf.matmul(x, w) + b)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            md = tf.RunMetadata()
            v = sess.run(out, {x: np.ones((3, 20), np.float32)},
                         options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                         run_metadata=md)
    names = {ns.node_name for d in md.step_stats.dev_stats for ns in d.node_stats}
    assert {"MatMul", "add", "Relu"} <= names
    np.testing.assert_array_equal(v, np.full((3, 30), 20, np.float32))


def test_unfused_fixture_disables(unfused):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 20])
        out = tf.nn.relu(tf.matmul(x, tf.ones([20, 30])) + tf.ones([30]))
        with tf.Session() as sess:
            sess.run(out, {x: np.ones((3, 20), np.float32)})
            assert _fused_steps(sess, [out], [x]) == []


def _fused_kinds(sess, fetches, feed_keys=()):
    plan = sess._entry(fetches, tuple(feed_keys)).plan
    return [type(s).__name__ for s in plan.run_ops
            if isinstance(s, (fusion.FusedDense, fusion.FusedBiasRelu))]


@pytest.mark.parametrize("form", ["add", "bias_add", "bias_first"])
def test_conv_bias_relu_fused_and_identical(form):
    rng = np.random.default_rng(4)
    xv = rng.standard_normal((3, 12, 12, 2)).astype(np.float32)
    wv = rng.standard_normal((3, 3, 2, 40)).astype(np.float32)
    outs = []
    for enabled in (True, False):
        fusion.ENABLED = enabled
        try:
            with tf.Graph().as_default():
                x = tf.placeholder(tf.float32, [None, 12, 12, 2])
                w = tf.constant(wv)
                b = tf.Variable(np.linspace(-1, 1, 40, dtype=np.float32))
                c = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
                pre = {"add": lambda: c + b, "bias_add": lambda: tf.nn.bias_add(c, b),
                       "bias_first": lambda: b + c}[form]()
                out = tf.nn.relu(pre)
                with tf.Session() as sess:
                    sess.run(tf.global_variables_initializer())
                    outs.append(sess.run(out, {x: xv}))
                    kinds = _fused_kinds(sess, [out], [x])
        finally:
            fusion.ENABLED = True
        if enabled:
            assert kinds == ["FusedBiasRelu"]
    np.testing.assert_array_equal(outs[0], outs[1])
    assert (outs[0] > 0).any() and (outs[0] == 0).any()


def test_cnn_training_identical_with_conv_and_dense_fusion():
    rng = np.random.default_rng(5)
    xv = rng.standard_normal((8, 10, 10, 1)).astype(np.float32)
    yv = rng.integers(0, 10, 8)

    def build():
        x = tf.placeholder(tf.float32, [None, 10, 10, 1])
        y = tf.placeholder(tf.int64, [None])
        w1 = tf.Variable(tf.truncated_normal([3, 3, 1, 64], stddev=0.1))
        b1 = tf.Variable(tf.constant(0.1, shape=[64]))
        h = tf.nn.relu(tf.nn.conv2d(x, w1, [1, 1, 1, 1], "SAME") + b1)
        h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        h = tf.reshape(h, [-1, 5 * 5 * 64])
        h = _dense(h, 32, tf.float32)
        logits = _dense(h, 10, tf.float32, relu=False)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                             logits=logits))
        return [loss] + tf.trainable_variables(), [x, y], tf.train.AdamOptimizer(1e-3).minimize(
            loss)

    # conv bias+relu, dense+relu and the logits layer: three fused steps.
    assert _run_both(build, [xv, yv], steps=4) == 2  # counts FusedDense steps only


def test_assign_between_matmul_and_bias_add_gives_the_unfused_result():
    # An Assign to W that the plan may run between the MatMul and the bias add: a fused step
    # at the add's place would read the new W. Fused and unfused plans must agree.
    outs = []
    for enabled in (True, False):
        fusion.ENABLED = enabled
        try:
            with tf.Graph().as_default():
                x = tf.placeholder(tf.float32, [None, 20])
                w = tf.Variable(np.ones((20, 30), np.float32))
                b = tf.Variable(np.zeros(30, np.float32))
                mm = tf.matmul(x, w)
                bump = tf.assign(w, w * 2.0)
                with tf.control_dependencies([bump]):
                    b_after = tf.identity(b)
                out = tf.nn.relu(mm + b_after)
                with tf.Session() as sess:
                    sess.run(tf.global_variables_initializer())
                    outs.append(sess.run(out, {x: np.ones((2, 20), np.float32)}))
                    order = sess._entry([out], (x,)).plan.ops
        finally:
            fusion.ENABLED = True
        pos = {o: i for i, o in enumerate(order)}
        assert pos[mm.op] < pos[bump.op] < pos[out.op.inputs[0].op]  # the case under test
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], np.full((2, 30), 20, np.float32))


def test_variable_reads_between_matmul_and_add_do_not_block_fusion():
    # The logits layer: the bias variable is read between the MatMul and the add.
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 256])
        w = tf.Variable(np.ones((256, 10), np.float32))
        mm = tf.matmul(x, w)
        b = tf.Variable(np.arange(10, dtype=np.float32))
        logits = mm + b
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            v = sess.run(logits, {x: np.ones((128, 256), np.float32)})
            assert len(_fused_steps(sess, [logits], [x])) == 1
    np.testing.assert_array_equal(v, np.tile(256 + np.arange(10, dtype=np.float32), (128, 1)))
