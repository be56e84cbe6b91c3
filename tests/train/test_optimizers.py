"""Optimizers against numpy re-implementations of TF1's update rules, and TF1's numbers."""

import numpy as np
import pytest

import headwater as tf
from headwater import train
from headwater.framework import errors
from headwater.ops import clip_ops
from headwater.train import training_ops


@pytest.fixture
def graph():
    g = tf.Graph()
    with g.as_default():
        yield g


def f32(x):
    """A Python float hyperparameter as TF1 sees it: a float32 constant (cast to the var's
    dtype inside the update)."""
    return float(np.float32(x))


# ---- numpy references of TF1's update rules (float64) ----------------------------------------
# Each updates the state dict `s` (keys: "var" and the optimizer's slot names) for gradient g,
# restricted to `rows` (None: all) for the sparse path.


def _rows(rows):
    return Ellipsis if rows is None else rows


def ref_gd(s, g, t, rows=None, lr=0.1):
    s["var"][_rows(rows)] -= f32(lr) * g


def ref_momentum(s, g, t, rows=None, lr=0.1, momentum=0.9, use_nesterov=False):
    r = _rows(rows)
    lr, momentum = f32(lr), f32(momentum)
    s["momentum"][r] = s["momentum"][r] * momentum + g
    if use_nesterov:
        s["var"][r] -= g * lr + s["momentum"][r] * momentum * lr
    else:
        s["var"][r] -= s["momentum"][r] * lr


def ref_adagrad(s, g, t, rows=None, lr=0.1):
    r = _rows(rows)
    s["accumulator"][r] += g * g
    s["var"][r] -= f32(lr) * g / np.sqrt(s["accumulator"][r])


def ref_adadelta(s, g, t, rows=None, lr=1.0, rho=0.95, epsilon=1e-8):
    r = _rows(rows)
    lr, rho, epsilon = f32(lr), f32(rho), f32(epsilon)
    s["accum"][r] = rho * s["accum"][r] + (1 - rho) * g * g
    update = np.sqrt(s["accum_update"][r] + epsilon) / np.sqrt(s["accum"][r] + epsilon) * g
    s["var"][r] -= lr * update
    s["accum_update"][r] = rho * s["accum_update"][r] + (1 - rho) * update * update


def ref_rmsprop(s, g, t, rows=None, lr=0.01, decay=0.9, momentum=0.0, epsilon=1e-10,
                centered=False):
    r = _rows(rows)
    lr, decay, momentum, epsilon = f32(lr), f32(decay), f32(momentum), f32(epsilon)
    s["rms"][r] = decay * s["rms"][r] + (1 - decay) * g * g
    denom = s["rms"][r] + epsilon
    if centered:
        s["mg"][r] = decay * s["mg"][r] + (1 - decay) * g
        denom = s["rms"][r] - s["mg"][r] ** 2 + epsilon
    s["momentum"][r] = momentum * s["momentum"][r] + lr * g / np.sqrt(denom)
    s["var"][r] -= s["momentum"][r]


def _beta_power(beta, t):
    # beta1_power is a float32 variable: beta, then multiplied by beta (in float32) each step.
    p = np.float32(beta)
    for _ in range(t - 1):
        p = np.float32(p * np.float32(beta))
    return float(p)


def ref_adam(s, g, t, rows=None, lr=0.1, beta1=0.9, beta2=0.999, epsilon=1e-8):
    lr, b1, b2, eps = f32(lr), f32(beta1), f32(beta2), f32(epsilon)
    lr_t = lr * np.sqrt(1 - _beta_power(beta2, t)) / (1 - _beta_power(beta1, t))
    if rows is None:
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["v"] = b2 * s["v"] + (1 - b2) * g * g
    else:
        # TF1's sparse Adam: decay m and v everywhere, add the new rows, move every row.
        s["m"] *= b1
        s["m"][rows] += (1 - b1) * g
        s["v"] *= b2
        s["v"][rows] += (1 - b2) * g * g
    s["var"] -= lr_t * s["m"] / (np.sqrt(s["v"]) + eps)


def ref_ftrl(s, g, t, rows=None, lr=0.5, lr_power=-0.5, l1=0.0, l2=0.0, shrinkage=0.0):
    r = _rows(rows)
    lr, lr_power, l1, l2, shrinkage = f32(lr), f32(lr_power), f32(l1), f32(l2), f32(shrinkage)
    var, accum, linear = s["var"][r], s["accum"][r], s["linear"][r]
    new_accum = accum + g * g
    sigma = (new_accum ** -lr_power - accum ** -lr_power) / lr
    linear = linear + (g + 2 * shrinkage * var) - sigma * var
    quadratic = new_accum ** -lr_power / lr + 2 * l2
    s["var"][r] = np.where(np.abs(linear) > l1, (np.sign(linear) * l1 - linear) / quadratic, 0)
    s["accum"][r] = new_accum
    s["linear"][r] = linear


# name -> (factory, reference, {slot name: initial value})
CASES = {
    "gd": (lambda: train.GradientDescentOptimizer(0.1), ref_gd, {}),
    "momentum": (lambda: train.MomentumOptimizer(0.1, 0.9),
                 ref_momentum, {"momentum": 0.0}),
    "nesterov": (lambda: train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
                 lambda s, g, t, rows=None: ref_momentum(s, g, t, rows, use_nesterov=True),
                 {"momentum": 0.0}),
    "adagrad": (lambda: train.AdagradOptimizer(0.1), ref_adagrad, {"accumulator": 0.1}),
    "adadelta": (lambda: train.AdadeltaOptimizer(1.0), ref_adadelta,
                 {"accum": 0.0, "accum_update": 0.0}),
    "rmsprop": (lambda: train.RMSPropOptimizer(0.01), ref_rmsprop,
                {"rms": 1.0, "momentum": 0.0}),
    "rmsprop_momentum": (lambda: train.RMSPropOptimizer(0.01, momentum=0.5, epsilon=1e-6),
                         lambda s, g, t, rows=None: ref_rmsprop(s, g, t, rows, momentum=0.5,
                                                                epsilon=1e-6),
                         {"rms": 1.0, "momentum": 0.0}),
    "centered_rmsprop": (
        lambda: train.RMSPropOptimizer(0.01, decay=0.8, momentum=0.5, epsilon=1e-3,
                                       centered=True),
        lambda s, g, t, rows=None: ref_rmsprop(s, g, t, rows, decay=0.8, momentum=0.5,
                                               epsilon=1e-3, centered=True),
        {"rms": 1.0, "mg": 0.0, "momentum": 0.0}),
    "adam": (lambda: train.AdamOptimizer(0.1), ref_adam, {"m": 0.0, "v": 0.0}),
    "ftrl": (lambda: train.FtrlOptimizer(0.5), ref_ftrl, {"accum": 0.1, "linear": 0.0}),
    "ftrl_l1_l2": (
        lambda: train.FtrlOptimizer(0.5, l1_regularization_strength=0.05,
                                    l2_regularization_strength=0.1),
        lambda s, g, t, rows=None: ref_ftrl(s, g, t, rows, l1=0.05, l2=0.1),
        {"accum": 0.1, "linear": 0.0}),
    "ftrl_power_shrinkage": (
        lambda: train.FtrlOptimizer(0.5, learning_rate_power=-0.7,
                                    l1_regularization_strength=0.01,
                                    l2_shrinkage_regularization_strength=0.2),
        lambda s, g, t, rows=None: ref_ftrl(s, g, t, rows, lr_power=-0.7, l1=0.01,
                                            shrinkage=0.2),
        {"accum": 0.1, "linear": 0.0}),
}

VAR0 = np.array([[1.0, -2.0, 3.0], [0.5, 0.25, -1.5], [2.0, -0.75, 0.125], [-1.0, 1.5, 0.0]])


def _grads(n, shape, seed=0):
    return np.random.RandomState(seed).randn(n, *shape)


def _slot_values(sess, opt, var):
    return {name: sess.run(opt.get_slot(var, name)) for name in opt.get_slot_names()}


# Each rule has an in-place form (big variables), a form returning new values (small ones,
# and numpy scalars for 1-element variables): "in_place" forces the first on the (4, 3) test
# variable, "scalar" runs a variable of shape [1] and "scalar0d" one of shape [].
PATHS = ["small", "in_place", "scalar", "scalar0d"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_dense_trajectory_matches_tf1_rule(graph, case, path, monkeypatch):
    make, ref, slots0 = CASES[case]
    if path == "in_place":
        monkeypatch.setattr(training_ops, "_SMALL_ELEMENTS", 0)
    var0 = {"scalar": VAR0[0, :1], "scalar0d": VAR0[0, 0]}.get(path, VAR0)
    var = tf.Variable(var0, name="W")
    g_ph = tf.placeholder(tf.float64, var0.shape)
    opt = make()
    step = opt.apply_gradients([(g_ph, var)])
    state = {"var": np.array(var0, copy=True)}
    state.update({k: np.full_like(var0, v) for k, v in slots0.items()})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sorted(opt.get_slot_names()) == sorted(slots0)
        for t, g in enumerate(_grads(6, var0.shape), start=1):
            sess.run(step, {g_ph: g})
            ref(state, g, t)
            np.testing.assert_allclose(sess.run(var), state["var"], rtol=1e-12, atol=1e-12)
            for name, value in _slot_values(sess, opt, var).items():
                np.testing.assert_allclose(value, state[name], rtol=1e-12, atol=1e-12,
                                           err_msg="slot %s" % name)


@pytest.mark.parametrize("case", sorted(CASES))
def test_sparse_trajectory_matches_tf1_rule(graph, case):
    """IndexedSlices gradients, with a repeated index: TF1 sums duplicates, then updates only
    those rows (Adam: decays m and v everywhere and moves every row)."""
    make, ref, slots0 = CASES[case]
    var = tf.Variable(VAR0, name="W")
    values = tf.placeholder(tf.float64, [None, 3])
    indices = tf.placeholder(tf.int32, [None])
    grad = tf.IndexedSlices(values, indices, tf.constant(VAR0.shape))
    opt = make()
    step = opt.apply_gradients([(grad, var)])
    state = {"var": VAR0.copy()}
    state.update({k: np.full_like(VAR0, v) for k, v in slots0.items()})
    idx_seq = [[2, 0, 2], [1], [3, 1, 0, 3], [0, 2]]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t, idx in enumerate(idx_seq, start=1):
            vals = _grads(1, (len(idx), 3), seed=t)[0]
            sess.run(step, {values: vals, indices: idx})
            uniq = sorted(set(idx), key=idx.index)
            summed = np.array([vals[[i for i, j in enumerate(idx) if j == u]].sum(0)
                               for u in uniq])
            ref(state, summed, t, rows=np.array(uniq))
            np.testing.assert_allclose(sess.run(var), state["var"], rtol=1e-12, atol=1e-12)
            for name, value in _slot_values(sess, opt, var).items():
                np.testing.assert_allclose(value, state[name], rtol=1e-12, atol=1e-12,
                                           err_msg="slot %s" % name)


# TF1 (tensorflow.compat.v1) float32 results: W = [1, -2, 3] after each of three steps with
# the gradients below.
TF1_GRADS = np.array([[0.5, -1.0, 2.0], [0.25, 0.75, -1.5], [-0.5, 1.0, 0.125]], np.float32)
TF1_RESULTS = {
    "gd": (lambda: train.GradientDescentOptimizer(0.1),
           [[0.949999988, -1.89999998, 2.79999995], [0.925000012, -1.97500002, 2.95000005],
            [0.975000024, -2.07500005, 2.9375]]),
    "momentum": (lambda: train.MomentumOptimizer(0.1, 0.9),
                 [[0.949999988, -1.89999998, 2.79999995],
                  [0.879999995, -1.88499999, 2.76999998],
                  [0.866999984, -1.97150004, 2.73049998]]),
    "nesterov": (lambda: train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
                 [[0.904999971, -1.80999994, 2.61999989], [0.816999972, -1.8714999, 2.74299979],
                  [0.85529995, -2.04934978, 2.69494987]]),
    "adagrad": (lambda: train.AdagradOptimizer(0.1),
                [[0.915484548, -1.90465379, 2.901227], [0.876559615, -1.96282125, 2.96075273],
                 [0.937989116, -2.0241065, 2.95579839]]),
    "adadelta": (lambda: train.AdadeltaOptimizer(1.0),
                 [[0.999552786, -1.99955285, 2.99955273],
                  [0.999264121, -1.99993849, 2.99993849],
                  [0.999734402, -2.00040865, 2.99990034]]),
    "rmsprop": (lambda: train.RMSPropOptimizer(0.01, momentum=0.5),
                [[0.994801223, -1.99000001, 2.98245883], [0.989472091, -1.9926697, 2.98638821],
                 [0.99246937, -2.00420737, 2.98723793]]),
    "centered_rmsprop": (lambda: train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
                         [[0.99479419, -1.98994958, 2.9821825],
                          [0.989453554, -1.99259496, 2.98597789],
                          [0.992445648, -2.0041604, 2.9867599]]),
    "adam": (lambda: train.AdamOptimizer(0.1),
             [[0.900000036, -1.9000001, 2.9000001], [0.806782424, -1.89106762, 2.89106774],
              [0.795704186, -1.92560363, 2.88097882]]),
    "ftrl": (lambda: train.FtrlOptimizer(0.5, l1_regularization_strength=0.05,
                                         l2_regularization_strength=0.1),
             [[0.000549767516, -0.818379879, 1.92995369],
              [-0.100492768, -1.08828449, 2.21622205],
              [0.118339732, -1.37701535, 2.1923945]]),
    "ftrl_shrinkage": (lambda: train.FtrlOptimizer(0.5, learning_rate_power=-0.7,
                                                   l1_regularization_strength=0.01,
                                                   l2_shrinkage_regularization_strength=0.2),
                       [[-0.343980432, -0.780111432, 2.17930841],
                        [-0.448445201, -0.933526099, 2.26544356],
                        [0.0, -1.09137821, 2.12431502]]),
}


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("case", sorted(TF1_RESULTS))
def test_float32_matches_tf1_numbers(graph, case, in_place, monkeypatch):
    make, expected = TF1_RESULTS[case]
    if in_place:
        monkeypatch.setattr(training_ops, "_SMALL_ELEMENTS", 0)
    var = tf.Variable([1.0, -2.0, 3.0], name="W")
    g_ph = tf.placeholder(tf.float32, [3])
    step = make().apply_gradients([(g_ph, var)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for g, want in zip(TF1_GRADS, expected):
            sess.run(step, {g_ph: g})
            got = sess.run(var)
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)


def test_every_training_op_type_is_exercised():
    # Every op type in training_ops runs in the dense/sparse trajectory tests above (the
    # optimizers that use them are listed here), so a new op type cannot go untested.
    covered = {
        "ApplyGradientDescent", "ApplyMomentum", "SparseApplyMomentum", "ApplyAdagrad",
        "SparseApplyAdagrad", "ApplyAdadelta", "SparseApplyAdadelta", "ApplyRMSProp",
        "SparseApplyRMSProp", "ApplyCenteredRMSProp", "SparseApplyCenteredRMSProp",
        "ApplyAdam", "ApplyFtrl", "ApplyFtrlV2", "SparseApplyFtrl", "SparseApplyFtrlV2",
    }
    assert set(training_ops.registered_training_op_types()) == covered


@pytest.mark.parametrize("case", sorted(CASES))
def test_update_op_types_in_graph(graph, case):
    make = CASES[case][0]
    var = tf.Variable(VAR0, name="W")
    opt = make()
    opt.apply_gradients([(tf.constant(np.ones_like(VAR0)), var)])
    types = {op.type for op in graph.get_operations() if op.name.startswith(
        opt.get_name() + "/update_W/")}
    expected = {"gd": "ApplyGradientDescent", "momentum": "ApplyMomentum",
                "nesterov": "ApplyMomentum", "adagrad": "ApplyAdagrad",
                "adadelta": "ApplyAdadelta", "rmsprop": "ApplyRMSProp",
                "rmsprop_momentum": "ApplyRMSProp", "centered_rmsprop": "ApplyCenteredRMSProp",
                "adam": "ApplyAdam", "ftrl": "ApplyFtrl", "ftrl_l1_l2": "ApplyFtrl",
                "ftrl_power_shrinkage": "ApplyFtrlV2"}[case]
    assert expected in types
    update = [op for op in graph.get_operations() if op.type == expected][0]
    assert update.name == "%s/update_W/%s" % (opt.get_name(), expected)
    assert update.get_attr("use_locking") is False


# ---- end to end: minimize ----------------------------------------------------------------------


def test_getting_started_linear_regression(graph):
    """The TF1 Getting Started program prints
    "W: [-0.9999969] b: [ 0.99999082] loss: 5.69997e-11"."""
    W = tf.Variable([.3], dtype=tf.float32)
    b = tf.Variable([-.3], dtype=tf.float32)
    x = tf.placeholder(tf.float32)
    linear_model = W * x + b
    y = tf.placeholder(tf.float32)
    loss = tf.reduce_sum(tf.square(linear_model - y))
    optimizer = train.GradientDescentOptimizer(0.01)
    train_op = optimizer.minimize(loss)
    x_train = [1, 2, 3, 4]
    y_train = [0, -1, -2, -3]
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    for _ in range(1000):
        sess.run(train_op, {x: x_train, y: y_train})
    curr_W, curr_b, curr_loss = sess.run([W, b, loss], {x: x_train, y: y_train})
    np.testing.assert_allclose(curr_W, [-0.9999969], rtol=1e-5)
    np.testing.assert_allclose(curr_b, [0.99999082], rtol=1e-5)
    assert curr_loss < 1e-9
    np.testing.assert_allclose(curr_loss, 5.69997e-11, rtol=0.05)
    assert train_op.name == "GradientDescent" and train_op.type == "NoOp"


A = np.array([[1.0, 2.0, 0.5], [0.0, 1.0, -1.0], [2.0, -1.0, 1.0], [1.0, 1.0, 1.0]])
B = np.array([1.0, -2.0, 0.5, 3.0])


@pytest.mark.parametrize("case", ["gd", "momentum", "adam", "rmsprop", "ftrl", "adagrad"])
def test_minimize_least_squares_matches_reference(graph, case):
    """loss = sum((A w - b)^2): autodiff gradient 2 A^T (A w - b) plus the update rule."""
    make, ref, slots0 = CASES[case]
    w0 = np.array([0.5, -0.5, 1.0])
    w = tf.Variable(w0, name="w")
    loss = tf.reduce_sum(tf.square(tf.reshape(tf.matmul(tf.constant(A), tf.reshape(w, [3, 1])),
                                              [4]) - B))
    step = make().minimize(loss)
    state = {"var": w0.copy()}
    state.update({k: np.full_like(w0, v) for k, v in slots0.items()})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t in range(1, 8):
            g = 2 * A.T @ (A @ state["var"] - B)
            sess.run(step)
            ref(state, g, t)
            np.testing.assert_allclose(sess.run(w), state["var"], rtol=1e-10, atol=1e-12)


def test_adam_minimize_converges(graph):
    w = tf.Variable(np.zeros(3), name="w")
    loss = tf.reduce_sum(tf.square(tf.reshape(tf.matmul(tf.constant(A), tf.reshape(w, [3, 1])),
                                              [4]) - B))
    gs = train.get_or_create_global_step()
    step = train.AdamOptimizer(0.05).minimize(loss, global_step=gs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(2000):
            sess.run(step)
        best = np.linalg.lstsq(A, B, rcond=None)[0]
        np.testing.assert_allclose(sess.run(w), best, atol=1e-4)
        assert sess.run(gs) == 2000


def test_fetching_loss_and_train_op_in_one_run(graph):
    w = tf.Variable([2.0], name="w")
    loss = tf.reduce_sum(tf.square(w))
    step = train.GradientDescentOptimizer(0.25).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [sess.run([step, loss])[1] for _ in range(3)]
    # The loss is computed from the weights before the update of the same run.
    np.testing.assert_allclose(losses, [4.0, 1.0, 0.25])


def test_fetched_values_are_not_changed_by_later_updates(graph):
    w = tf.Variable([1.0, 2.0], name="w")
    step = train.MomentumOptimizer(0.5, 0.9).apply_gradients([(tf.constant([1.0, 1.0]), w)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(w)
        slot_before = sess.run(tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)[1])
        sess.run(step)
        sess.run(step)
        np.testing.assert_array_equal(before, [1.0, 2.0])
        np.testing.assert_array_equal(slot_before, [0.0, 0.0])


def test_learning_rate_tensor_and_callable(graph):
    w = tf.Variable([1.0], name="w")
    gs = train.get_or_create_global_step()
    lr = train.exponential_decay(0.1, gs, decay_steps=1, decay_rate=0.5)
    step = train.GradientDescentOptimizer(lr).apply_gradients([(tf.constant([1.0]), w)],
                                                             global_step=gs)
    w2 = tf.Variable([1.0], name="w2")
    step2 = train.GradientDescentOptimizer(lambda: tf.constant(0.25)).apply_gradients(
        [(tf.constant([1.0]), w2)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run([step, step2])
        # lr at steps 0, 1, 2: 0.1, 0.05, 0.025.
        np.testing.assert_allclose(sess.run(w), [1.0 - 0.175], rtol=1e-6)
        np.testing.assert_allclose(sess.run(w2), [0.25])


def test_learning_rate_placeholder(graph):
    w = tf.Variable([1.0], name="w")
    lr = tf.placeholder(tf.float32, [])
    step = train.AdamOptimizer(lr).apply_gradients([(tf.constant([1.0]), w)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step, {lr: 0.5})
        np.testing.assert_allclose(sess.run(w), [0.5], rtol=1e-6)


@pytest.mark.parametrize("gate", [train.Optimizer.GATE_NONE, train.Optimizer.GATE_OP,
                                  train.Optimizer.GATE_GRAPH])
def test_gate_gradients_modes_give_same_result(graph, gate):
    w = tf.Variable([1.0, 2.0], name="w")
    v = tf.Variable([3.0], name="v")
    loss = tf.reduce_sum(w * w) + tf.reduce_sum(v * w[0])
    opt = train.GradientDescentOptimizer(0.1)
    gv = opt.compute_gradients(loss, gate_gradients=gate)
    step = opt.apply_gradients(gv)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        grads = sess.run([g for g, _ in gv])
        np.testing.assert_allclose(grads[0], [2.0 + 3.0, 4.0])
        np.testing.assert_allclose(grads[1], [1.0])
        sess.run(step)
        np.testing.assert_allclose(sess.run(w), [0.5, 1.6])
        np.testing.assert_allclose(sess.run(v), [2.9])


def test_gate_graph_with_indexed_slices(graph):
    emb = tf.Variable(np.arange(6.0).reshape(3, 2), name="emb")
    loss = tf.reduce_sum(tf.gather(emb, [2, 0, 2]))
    opt = train.GradientDescentOptimizer(1.0)
    gv = opt.compute_gradients(loss, gate_gradients=train.Optimizer.GATE_GRAPH)
    assert isinstance(gv[0][0], tf.IndexedSlices)
    step = opt.apply_gradients(gv)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        np.testing.assert_allclose(sess.run(emb), [[-1.0, 0.0], [2.0, 3.0], [2.0, 3.0]])


def test_embedding_lookup_minimize_with_adagrad_sparse_path(graph):
    emb = tf.Variable(np.ones((4, 2)), name="emb")
    ids = tf.placeholder(tf.int32, [None])
    loss = tf.reduce_sum(tf.gather(emb, ids))
    opt = train.AdagradOptimizer(0.5)
    step = opt.minimize(loss)
    assert any(op.type == "SparseApplyAdagrad" for op in graph.get_operations())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step, {ids: [1, 1, 3]})
        acc = sess.run(opt.get_slot(emb, "accumulator"))
        # Row 1 got gradient 2 (summed duplicates), row 3 got 1, others untouched.
        np.testing.assert_allclose(acc[:, 0], [0.1, 4.1, 0.1, 1.1])
        np.testing.assert_allclose(sess.run(emb)[:, 0],
                                   [1.0, 1.0 - f32(0.5) * 2 / np.sqrt(4.1),
                                    1.0, 1.0 - f32(0.5) / np.sqrt(1.1)])


def test_variable_constraint_applied_after_update(graph):
    w = tf.Variable([1.0, -1.0], name="w", constraint=lambda t: tf.clip_by_value(t, -0.5, 0.5))
    step = train.GradientDescentOptimizer(1.0).apply_gradients([(tf.constant([-1.0, 0.2]), w)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        np.testing.assert_allclose(sess.run(w), [0.5, -0.5])


# ---- graph structure: names, slots, global step ----------------------------------------------


SLOT_NAMES = {
    "adam": ({"m": "W/Adam:0", "v": "W/Adam_1:0"},
             ["W/Adam:0", "W/Adam_1:0", "beta1_power:0", "beta2_power:0"]),
    "momentum": ({"momentum": "W/Momentum:0"}, ["W/Momentum:0"]),
    "adagrad": ({"accumulator": "W/Adagrad:0"}, ["W/Adagrad:0"]),
    "adadelta": ({"accum": "W/Adadelta:0", "accum_update": "W/Adadelta_1:0"},
                 ["W/Adadelta:0", "W/Adadelta_1:0"]),
    "rmsprop": ({"rms": "W/RMSProp:0", "momentum": "W/RMSProp_1:0"},
                ["W/RMSProp:0", "W/RMSProp_1:0"]),
    "centered_rmsprop": ({"rms": "W/RMSProp:0", "mg": "W/RMSProp_1:0",
                          "momentum": "W/RMSProp_2:0"},
                         ["W/RMSProp:0", "W/RMSProp_1:0", "W/RMSProp_2:0"]),
    "ftrl": ({"accum": "W/Ftrl:0", "linear": "W/Ftrl_1:0"}, ["W/Ftrl:0", "W/Ftrl_1:0"]),
    "gd": ({}, []),
}


@pytest.mark.parametrize("case", sorted(SLOT_NAMES))
def test_slot_names_as_tf1(graph, case):
    slots, all_vars = SLOT_NAMES[case]
    var = tf.Variable([1.0, 2.0], name="W")
    opt = CASES[case][0]()
    opt.apply_gradients([(tf.constant([0.1, 0.2]), var)])
    assert opt.get_slot_names() == sorted(slots)
    for slot_name, var_name in slots.items():
        slot = opt.get_slot(var, slot_name)
        assert slot.name == var_name
        assert not slot.trainable
        assert slot in tf.global_variables()
        assert slot.shape.as_list() == [2]
    assert [v.name for v in opt.variables()] == all_vars
    assert opt.get_slot(var, "nonexistent") is None
    assert tf.trainable_variables() == [var]


def test_slot_initial_values(graph):
    var = tf.Variable([1.0, 2.0], name="W")
    g = tf.constant([0.0, 0.0])
    rms = train.RMSPropOptimizer(0.1, centered=True)
    ada = train.AdagradOptimizer(0.1, initial_accumulator_value=0.3)
    ftrl = train.FtrlOptimizer(0.1, initial_accumulator_value=0.2)
    adam = train.AdamOptimizer(0.1, beta1=0.8, beta2=0.7)
    for opt in (rms, ada, ftrl, adam):
        opt.apply_gradients([(g, var)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(rms.get_slot(var, "rms")), [1.0, 1.0])
        np.testing.assert_array_equal(sess.run(rms.get_slot(var, "mg")), [0.0, 0.0])
        np.testing.assert_allclose(sess.run(ada.get_slot(var, "accumulator")), [0.3, 0.3])
        np.testing.assert_allclose(sess.run(ftrl.get_slot(var, "accum")), [0.2, 0.2])
        np.testing.assert_array_equal(sess.run(ftrl.get_slot(var, "linear")), [0.0, 0.0])
        b1, b2 = adam._get_beta_accumulators()
        np.testing.assert_allclose(sess.run([b1, b2]), [0.8, 0.7], rtol=1e-7)
        assert b1.dtype == tf.float32 and not b1.trainable


def test_slot_names_inside_scopes(graph):
    with tf.variable_scope("layer1"):
        w = tf.get_variable("W", [2], initializer=tf.zeros_initializer())
    with tf.name_scope("train"):
        opt = train.AdamOptimizer()
        op = opt.apply_gradients([(tf.constant([1.0, 1.0]), w)])
    assert opt.get_slot(w, "m").name == "layer1/W/Adam:0"
    assert opt.get_slot(w, "v").name == "layer1/W/Adam_1:0"
    assert op.name == "train/Adam"
    names = [o.name for o in graph.get_operations()]
    assert "train/Adam/update_layer1/W/ApplyAdam" in names
    assert "train/beta1_power" in names


def test_adam_beta_powers_once_per_graph_and_advance_after_updates(graph):
    w = tf.Variable([1.0], name="w")
    a = tf.Variable([2.0], name="a")
    opt = train.AdamOptimizer(0.1)
    step = opt.apply_gradients([(tf.constant([1.0]), w), (tf.constant([1.0]), a)])
    b1, b2 = opt._get_beta_accumulators()
    assert (b1.name, b2.name) == ("beta1_power:0", "beta2_power:0")
    assert len([v for v in opt.variables() if "power" in v.name]) == 2
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(step)
        np.testing.assert_allclose(sess.run(b1), np.float32(0.9) ** 4, rtol=1e-6)
        np.testing.assert_allclose(sess.run(b2), np.float32(0.999) ** 4, rtol=1e-6)
        # Both variables saw the same bias correction each step, hence the same trajectory.
        np.testing.assert_allclose(sess.run(w) - 1.0, sess.run(a) - 2.0, atol=1e-6)


def test_apply_gradients_op_names_and_global_step(graph):
    w = tf.Variable([1.0], name="w")
    gs = train.get_or_create_global_step()
    opt = train.GradientDescentOptimizer(0.1)
    op1 = opt.apply_gradients([(tf.constant([1.0]), w)], global_step=gs)
    assert op1.name == "GradientDescent" and op1.type == "AssignAdd"
    names = [o.name for o in graph.get_operations()]
    assert "GradientDescent/update" in names
    assert "GradientDescent/learning_rate" in names
    op2 = opt.apply_gradients([(tf.constant([1.0]), w)])
    assert op2.name == "GradientDescent_1" and op2.type == "NoOp"
    op3 = opt.apply_gradients([(tf.constant([1.0]), w)], name="my_train")
    assert op3.name == "my_train"
    assert tf.get_collection(tf.GraphKeys.TRAIN_OP) == [op1, op2, op3]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(op1)
        assert sess.run(gs) == 3
        assert train.global_step(sess, gs) == 3
        sess.run(op2)
        assert sess.run(gs) == 3
        np.testing.assert_allclose(sess.run(w), [0.6], rtol=1e-6)


def test_global_step_increment_runs_after_updates(graph):
    w = tf.Variable([0.0], name="w")
    gs = train.get_or_create_global_step()
    # The learning rate depends on the step: the update must read the step before it
    # advances (the increment has a control dependency on the updates).
    lr = tf.cast(gs + 1, tf.float32)
    step = train.GradientDescentOptimizer(lr).apply_gradients([(tf.constant([1.0]), w)],
                                                             global_step=gs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(step)
        np.testing.assert_allclose(sess.run(w), [-(1.0 + 2.0 + 3.0)])


def test_compute_gradients(graph):
    w = tf.Variable([1.0, 2.0], name="w")
    unused = tf.Variable([5.0], name="unused")
    frozen = tf.Variable([1.0], name="frozen", trainable=False)
    loss = tf.reduce_sum(w * w * frozen)
    opt = train.GradientDescentOptimizer(0.1)
    gv = opt.compute_gradients(loss)
    assert [v for _, v in gv] == [w, unused]
    assert gv[1][0] is None
    gv2 = opt.compute_gradients(loss, var_list=[frozen])
    assert [v for _, v in gv2] == [frozen]
    gv3 = opt.compute_gradients(loss, var_list=[w], grad_loss=tf.constant(3.0))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(gv[0][0]), [2.0, 4.0])
        np.testing.assert_allclose(sess.run(gv2[0][0]), [5.0])
        np.testing.assert_allclose(sess.run(gv3[0][0]), [6.0, 12.0])


def test_minimize_skips_variables_without_gradient(graph):
    w = tf.Variable([1.0], name="w")
    other = tf.Variable([7.0], name="other")
    step = train.MomentumOptimizer(0.1, 0.9).minimize(tf.reduce_sum(w * 3.0))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        np.testing.assert_allclose(sess.run(w), [0.7], rtol=1e-6)
        np.testing.assert_allclose(sess.run(other), [7.0])


# ---- errors -----------------------------------------------------------------------------------


def test_no_variables_to_optimize(graph):
    loss = tf.constant(1.0) * 2.0
    with pytest.raises(ValueError, match="No variables to optimize."):
        train.GradientDescentOptimizer(0.1).minimize(loss)
    with pytest.raises(ValueError, match="No variables to optimize."):
        train.AdamOptimizer().compute_gradients(loss, var_list=[])


def test_no_gradients_provided_minimize(graph):
    tf.Variable([1.0], name="w")
    loss = tf.constant(1.0) * 2.0
    with pytest.raises(ValueError, match="No gradients provided for any variable, check your "
                                         "graph for ops that do not support gradients, between "
                                         "variables .*w:0.* and loss .*mul"):
        train.GradientDescentOptimizer(0.1).minimize(loss)


def test_no_gradients_provided_apply_gradients(graph):
    w = tf.Variable([1.0], name="w")
    with pytest.raises(ValueError, match=r"No gradients provided for any variable: \[.*w:0"):
        train.AdamOptimizer().apply_gradients([(None, w)])
    with pytest.raises(ValueError, match="No variables provided."):
        train.AdamOptimizer().apply_gradients([])


def test_argument_errors(graph):
    w = tf.Variable([1.0], name="w")
    with pytest.raises(ValueError, match="Must specify the optimizer name"):
        train.Optimizer(False, "")
    with pytest.raises(ValueError, match="gate_gradients must be one of"):
        train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(w), gate_gradients=7)
    with pytest.raises(ValueError, match="Invalid type .*int32"):
        train.GradientDescentOptimizer(0.1).compute_gradients(tf.constant(1), var_list=[w])
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive"):
        train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)
    with pytest.raises(ValueError, match="learning_rate_power .* needs to be negative"):
        train.FtrlOptimizer(0.1, learning_rate_power=0.5)
    with pytest.raises(ValueError, match="l1_regularization_strength .* positive or zero"):
        train.FtrlOptimizer(0.1, l1_regularization_strength=-1.0)
    with pytest.raises(TypeError, match="Gradient must be convertible"):
        train.GradientDescentOptimizer(0.1).apply_gradients([(object(), w)])
    with pytest.raises(NotImplementedError, match="Trying to update a Tensor"):
        t = tf.constant([1.0])
        train.GradientDescentOptimizer(0.1).apply_gradients([(tf.constant([1.0]), t)])
    with pytest.raises(NotImplementedError, match="unsupported type"):
        train.GradientDescentOptimizer(0.1).apply_gradients([(tf.constant([1.0]), "w")])


def test_base_optimizer_requires_apply_dense(graph):
    w = tf.Variable([1.0], name="w")
    with pytest.raises(NotImplementedError):
        train.Optimizer(False, "Base").apply_gradients([(tf.constant([1.0]), w)])


def test_custom_optimizer_subclass(graph):
    class SignSGD(train.Optimizer):
        def __init__(self, lr):
            super().__init__(False, "SignSGD")
            self._lr = lr

        def _apply_dense(self, grad, var):
            return var.assign_sub(self._lr * tf.sign(grad))

    w = tf.Variable([1.0, 1.0], name="w")
    step = SignSGD(0.25).minimize(tf.reduce_sum(w * tf.constant([3.0, -2.0])))
    assert step.name == "SignSGD"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        np.testing.assert_allclose(sess.run(w), [0.75, 1.25])


# ---- the training ops themselves -----------------------------------------------------------


def test_training_op_static_checks(graph):
    w = tf.Variable(np.zeros((2, 3), np.float32), name="w")
    acc = tf.Variable(np.zeros((2, 3), np.float32), name="acc")
    with pytest.raises(ValueError, match="var and grad do not have the same shape"):
        training_ops.apply_gradient_descent(w, 0.1, tf.zeros([3, 2]))
    with pytest.raises(TypeError, match="Input 'delta' of 'ApplyGradientDescent' Op has type "
                                        "float64 that does not match type float32"):
        training_ops.apply_gradient_descent(w, 0.1, tf.zeros([2, 3], tf.float64))
    with pytest.raises(ValueError, match="lr is not a scalar"):
        training_ops.apply_momentum(w, acc, tf.constant([0.1, 0.2]), tf.zeros([2, 3]), 0.9)
    with pytest.raises(TypeError, match="requires l-value input"):
        training_ops.apply_gradient_descent(tf.zeros([2, 3]), 0.1, tf.zeros([2, 3]))
    with pytest.raises(ValueError, match="grad must be the same size as indices"):
        training_ops.sparse_apply_adagrad(w, acc, 0.1, tf.zeros([3, 3]), [0, 1])
    with pytest.raises(ValueError, match="var and grad must match in dimension 1"):
        training_ops.sparse_apply_adagrad(w, acc, 0.1, tf.zeros([2, 4]), [0, 1])
    with pytest.raises(TypeError, match="indices"):
        training_ops.sparse_apply_adagrad(w, acc, 0.1, tf.zeros([2, 3]), [0.0, 1.0])
    out = training_ops.apply_gradient_descent(w, 0.1, tf.zeros([2, 3]))
    assert out.dtype == tf.float32 and out.shape.as_list() == [2, 3]
    assert out.op.type == "ApplyGradientDescent"


def test_training_op_runtime_errors(graph):
    w = tf.Variable(np.zeros((3, 2)), name="w", validate_shape=False)
    sv = tf.Variable(np.zeros((3, 2)), name="sv")
    acc = tf.Variable(np.ones((3, 2)), name="acc")
    g = tf.placeholder(tf.float64)
    idx = tf.placeholder(tf.int32)
    dense = training_ops.apply_gradient_descent(w, np.float64(0.1), g)
    sparse = training_ops.sparse_apply_adagrad(sv, acc, np.float64(0.1), g, idx)
    with tf.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError,
                           match="Attempting to use uninitialized value w"):
            sess.run(dense, {g: np.ones((3, 2))})
        sess.run(tf.global_variables_initializer())
        with pytest.raises(errors.InvalidArgumentError,
                           match=r"var and grad do not have the same shape\[3,2\] \[2,3\]"):
            sess.run(dense, {g: np.ones((2, 3))})
        with pytest.raises(errors.InvalidArgumentError,
                           match="Index 5 at offset 1 in indices is out of range"):
            sess.run(sparse, {g: np.ones((2, 2)), idx: [0, 5]})
        np.testing.assert_allclose(sess.run(dense, {g: np.ones((3, 2))}), np.full((3, 2), -0.1))


def test_sparse_op_with_duplicate_indices_applies_sequentially(graph):
    # The raw kernel (not the optimizer, which sums duplicates first) applies the rule once
    # per occurrence, as TF's SparseApply* kernels do.
    var = tf.Variable(np.ones((3, 1)), name="var")
    acc = tf.Variable(np.full((3, 1), 0.1), name="acc")
    op = training_ops.sparse_apply_adagrad(var, acc, np.float64(1.0),
                                           np.array([[1.0], [2.0]]), [1, 1])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(op)
        a1 = 0.1 + 1.0
        a2 = a1 + 4.0
        np.testing.assert_allclose(sess.run(acc)[:, 0], [0.1, a2, 0.1])
        np.testing.assert_allclose(sess.run(var)[:, 0],
                                   [1.0, 1.0 - 1.0 / np.sqrt(a1) - 2.0 / np.sqrt(a2), 1.0])


def test_training_op_on_scalar_and_int_global_step(graph):
    s = tf.Variable(3.0, name="s")
    gs = train.get_or_create_global_step()
    step = train.MomentumOptimizer(0.5, 0.5).minimize(s * s, global_step=gs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        assert sess.run(s) == pytest.approx(0.0)
        sess.run(step)
        assert sess.run(s) == pytest.approx(-1.5)
        assert sess.run(gs) == 2
        assert sess.run(gs).dtype == np.int64


def test_two_sessions_have_independent_state(graph):
    w = tf.Variable([1.0], name="w")
    step = train.AdamOptimizer(0.1).minimize(tf.reduce_sum(w * w))
    s1, s2 = tf.Session(), tf.Session()
    for s in (s1, s2):
        s.run(tf.global_variables_initializer())
    for _ in range(3):
        s1.run(step)
    s2.run(step)
    assert s1.run(w)[0] < s2.run(w)[0] < 1.0


# ---- gradient clipping (headwater.ops.clip_ops) ------------------------------------------------


def test_global_norm_and_clip_by_global_norm(graph):
    a = tf.constant([3.0, 4.0])
    b = tf.constant([[12.0]])
    norm = clip_ops.global_norm([a, None, b])
    assert norm.op.name == "global_norm/global_norm"
    clipped, gn = clip_ops.clip_by_global_norm([a, None, b], 6.5)
    assert clipped[1] is None
    assert gn is not None
    unclipped, _ = clip_ops.clip_by_global_norm([a, b], 20.0)
    given, used = clip_ops.clip_by_global_norm([a], 1.0, use_norm=tf.constant(10.0))
    with tf.Session() as sess:
        assert sess.run(norm) == pytest.approx(13.0)
        ca, cb, n = sess.run([clipped[0], clipped[2], gn])
        assert n == pytest.approx(13.0)
        np.testing.assert_allclose(ca, [1.5, 2.0], rtol=1e-6)
        np.testing.assert_allclose(cb, [[6.0]], rtol=1e-6)
        np.testing.assert_allclose(sess.run(unclipped[0]), [3.0, 4.0], rtol=1e-6)
        np.testing.assert_allclose(sess.run(given[0]), [0.3, 0.4], rtol=1e-6)
        assert sess.run(used) == 10.0


def test_clip_by_global_norm_indexed_slices_and_nonfinite(graph):
    values = tf.constant([[3.0, 0.0], [0.0, 4.0]])
    s = tf.IndexedSlices(values, tf.constant([0, 2]), tf.constant([3, 2]))
    dense = tf.constant([0.0])
    (cs, cd), norm = clip_ops.clip_by_global_norm([s, dense], 1.0)
    assert isinstance(cs, tf.IndexedSlices) and cs.indices is s.indices
    inf_clipped, _ = clip_ops.clip_by_global_norm([tf.constant([np.inf, 1.0])], 1.0)
    with tf.Session() as sess:
        assert sess.run(norm) == pytest.approx(5.0)
        np.testing.assert_allclose(sess.run(cs.values), [[0.6, 0.0], [0.0, 0.8]], rtol=1e-6)
        assert np.isnan(sess.run(inf_clipped[0])).all()
    with pytest.raises(TypeError, match="`t_list` should be a sequence"):
        clip_ops.clip_by_global_norm(values, 1.0)


def test_clip_by_global_norm_of_gradients_trains(graph):
    w = tf.Variable([3.0, 4.0], name="w")
    opt = train.GradientDescentOptimizer(1.0)
    grads, variables = zip(*opt.compute_gradients(tf.reduce_sum(w * w)))
    clipped, _ = clip_ops.clip_by_global_norm(list(grads), 1.0)
    step = opt.apply_gradients(zip(clipped, variables))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        # gradient (6, 8) has norm 10, clipped to (0.6, 0.8).
        np.testing.assert_allclose(sess.run(w), [2.4, 3.2], rtol=1e-6)


def test_clip_by_average_norm_and_reexports(graph):
    t = tf.constant([[3.0, 4.0]])
    c = clip_ops.clip_by_average_norm(t, 1.0)
    same = clip_ops.clip_by_average_norm(t, 10.0)
    assert clip_ops.clip_by_value is tf.clip_by_value
    assert clip_ops.clip_by_norm is tf.clip_by_norm
    assert set(clip_ops.__all__) == {"clip_by_average_norm", "clip_by_global_norm",
                                     "clip_by_norm", "clip_by_value", "global_norm"}
    with tf.Session() as sess:
        # l2 norm 5 over 2 elements: average norm 2.5 -> scaled by 1 / 2.5.
        np.testing.assert_allclose(sess.run(c), [[1.2, 1.6]], rtol=1e-6)
        np.testing.assert_allclose(sess.run(same), [[3.0, 4.0]], rtol=1e-6)


def test_native_kernel_used_when_available(graph, monkeypatch):
    """A `headwater._C.apply_<op>_<f32|f64>` function replaces the numpy kernel: called with
    the op's inputs in TF order (arrays updated in place, scalars as Python floats the first
    time, then as the numpy scalars they are) followed by the bool attributes."""
    calls = []

    class FakeNative:
        @staticmethod
        def apply_momentum_f64(var, accum, lr, grad, momentum, use_nesterov):
            assert np.ndim(lr) == 0 and np.ndim(momentum) == 0
            calls.append((float(lr), float(momentum), use_nesterov, grad.dtype))
            accum *= momentum
            accum += grad
            var -= accum * lr

    monkeypatch.setattr(training_ops, "_C", FakeNative)
    w = tf.Variable(np.array([1.0, 2.0]), name="w")
    opt = train.MomentumOptimizer(0.5, 0.5)
    step = opt.apply_gradients([(tf.constant([1.0, 1.0], tf.float64), w)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        sess.run(step)
        assert calls == [(0.5, 0.5, False, np.float64)] * 2
        np.testing.assert_allclose(sess.run(w), [1.0 - 0.5 - 0.75, 2.0 - 0.5 - 0.75])
        np.testing.assert_allclose(sess.run(opt.get_slot(w, "momentum")), [1.5, 1.5])


def test_native_fast_path_rechecks_after_a_variable_changes_shape(graph):
    """Repeated updates skip the full checks only while the variable and slots are the arrays
    checked before: a variable re-assigned to another shape gets the TF error, not a native
    update over mismatched buffers."""
    w = tf.Variable(np.ones(4, np.float32), name="w")
    opt = train.AdamOptimizer(0.1)
    g = tf.placeholder(tf.float32, [None])
    step = opt.apply_gradients([(g, w)])
    grow = tf.assign(w, np.ones(6, np.float32), validate_shape=False)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(step, {g: np.full(4, 0.5, np.float32)})
        np.testing.assert_allclose(sess.run(w), 1.0 - 3 * 0.1, rtol=1e-5)
        with pytest.raises(errors.InvalidArgumentError, match="var and grad do not have the same"):
            sess.run(step, {g: np.full(5, 0.5, np.float32)})
        sess.run(grow)
        with pytest.raises(errors.InvalidArgumentError,
                           match=r"var and m do not have the same shape\[6\] \[4\]"):
            sess.run(step, {g: np.full(6, 0.5, np.float32)})
