"""The global step helpers and the learning-rate schedules (TF1's tf.train)."""

import math

import numpy as np
import pytest

import headwater as tf
from headwater import train
from headwater.train import training_util


@pytest.fixture
def graph():
    g = tf.Graph()
    with g.as_default():
        yield g


# ---- global step -------------------------------------------------------------------------------


def test_create_global_step(graph):
    assert train.get_global_step() is None
    gs = train.create_global_step()
    assert gs.name == "global_step:0"
    assert gs.op.name == "global_step"
    assert gs.dtype == tf.int64
    assert gs.shape.as_list() == []
    assert not gs.trainable
    assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [gs]
    assert gs in tf.global_variables()
    assert gs not in tf.trainable_variables()
    assert train.get_global_step() is gs
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value = sess.run(gs)
        assert value == 0 and value.dtype == np.int64
        assert train.global_step(sess, gs) == 0
        assert type(train.global_step(sess, gs)) is int


def test_create_global_step_twice_fails(graph):
    train.create_global_step()
    with pytest.raises(ValueError, match='"global_step" already exists.'):
        train.create_global_step()


def test_get_or_create_global_step_is_idempotent(graph):
    gs = train.get_or_create_global_step()
    assert train.get_or_create_global_step() is gs
    assert len(tf.global_variables()) == 1


def test_global_step_ignores_name_scope(graph):
    with tf.name_scope("outer"):
        gs = train.get_or_create_global_step()
    assert gs.name == "global_step:0"


def test_global_step_in_explicit_graph():
    g = tf.Graph()
    other = tf.Graph()
    with other.as_default():
        gs = train.create_global_step(g)
        assert gs.graph is g
        assert train.get_global_step() is None
        assert train.get_global_step(g) is gs
        assert train.get_or_create_global_step(g) is gs
    assert other.get_collection(tf.GraphKeys.GLOBAL_STEP) == []


def test_get_global_step_by_tensor_name(graph):
    v = tf.Variable(0, dtype=tf.int64, name="global_step")
    found = train.get_global_step()
    assert found is not None and found.name == "global_step:0"
    assert found.graph is graph
    assert v.name == found.name


def test_get_global_step_multiple_in_collection(graph):
    for name in ("a", "b"):
        tf.add_to_collection(tf.GraphKeys.GLOBAL_STEP, tf.Variable(0, name=name))
    assert train.get_global_step() is None


def test_assert_global_step(graph):
    train.assert_global_step(tf.Variable(0, dtype=tf.int64, name="ok"))
    train.assert_global_step(tf.constant(3))
    with pytest.raises(TypeError, match='Existing "global_step" does not have integer type'):
        train.assert_global_step(tf.Variable(0.0, name="f"))
    with pytest.raises(TypeError, match='Existing "global_step" is not scalar'):
        train.assert_global_step(tf.Variable([0, 1], name="v"))
    with pytest.raises(TypeError, match='Existing "global_step" must be a Variable or Tensor'):
        train.assert_global_step(3)
    tf.add_to_collection(tf.GraphKeys.GLOBAL_STEP, tf.Variable(0.5, name="float_step"))
    with pytest.raises(TypeError, match="does not have integer type"):
        train.get_global_step()


def test_global_step_assign_add_int64(graph):
    gs = train.get_or_create_global_step()
    inc = tf.assign_add(gs, 1)
    inc5 = gs.assign_add(5)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(inc)
        assert sess.run(gs) == 3
        assert sess.run(inc5) == 8
        assert sess.run(gs).dtype == np.int64


def test_global_step_read_and_increment(graph):
    gs = train.get_or_create_global_step()
    read = training_util._get_or_create_global_step_read()
    assert training_util._get_or_create_global_step_read() is read
    assert read.name.startswith("global_step/")
    inc = training_util._increment_global_step(2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(inc)
        assert sess.run(gs) == 2
        assert sess.run(read) == 2


def test_minimize_increments_global_step(graph):
    w = tf.Variable([1.0], name="w")
    gs = train.get_or_create_global_step()
    step = train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(w * w), global_step=gs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(1, 4):
            assert sess.run(step) is None
            assert train.global_step(sess, gs) == i


# ---- learning-rate schedules -----------------------------------------------------------------


STEPS = [0, 1, 7, 10, 15, 99, 100, 101, 250]


def _run_schedule(make, steps=STEPS):
    g = tf.Graph()
    with g.as_default():
        gs = train.get_or_create_global_step()
        lr = make(gs)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out = []
            for s in steps:
                gs.load(s, sess)
                out.append(sess.run(lr))
    return lr, np.array(out)


def _check(make, closed_form, rtol=1e-6):
    lr, got = _run_schedule(make)
    want = np.array([closed_form(s) for s in STEPS])
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-7)
    return lr


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay(staircase):
    def closed(s):
        p = s / 10.0
        return 0.1 * 0.96 ** (math.floor(p) if staircase else p)
    lr = _check(lambda gs: train.exponential_decay(0.1, gs, 10, 0.96, staircase=staircase),
                closed)
    assert lr.op.name == "ExponentialDecay"
    assert lr.dtype == tf.float32
    assert lr.shape.as_list() == []


def test_exponential_decay_float64_and_name():
    lr, got = _run_schedule(lambda gs: train.exponential_decay(
        tf.constant(0.5, tf.float64), gs, 100, 0.5, name="my_lr"), steps=[0, 50, 300])
    assert lr.op.name == "my_lr" and lr.dtype == tf.float64
    np.testing.assert_allclose(got, [0.5, 0.5 * 0.5 ** 0.5, 0.5 * 0.5 ** 3], rtol=1e-14)


def test_exponential_decay_requires_global_step():
    with pytest.raises(ValueError, match="global_step is required for exponential_decay"):
        train.exponential_decay(0.1, None, 10, 0.9)


@pytest.mark.parametrize("staircase", [False, True])
def test_natural_exp_decay(staircase):
    def closed(s):
        p = math.floor(s / 10.0) if staircase else s / 10.0
        return 0.1 * math.exp(-0.5 * p)
    _check(lambda gs: train.natural_exp_decay(0.1, gs, 10, 0.5, staircase=staircase), closed)


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay(staircase):
    def closed(s):
        p = math.floor(s / 10.0) if staircase else s / 10.0
        return 0.1 / (1 + 0.5 * p)
    _check(lambda gs: train.inverse_time_decay(0.1, gs, 10, 0.5, staircase=staircase), closed)


def test_polynomial_decay():
    def closed(s):
        s = min(s, 100)
        return (0.1 - 0.001) * (1 - s / 100.0) ** 2.0 + 0.001
    _check(lambda gs: train.polynomial_decay(0.1, gs, 100, 0.001, power=2.0), closed)


def test_polynomial_decay_default_end_and_linear():
    _check(lambda gs: train.polynomial_decay(0.1, gs, 100),
           lambda s: (0.1 - 0.0001) * (1 - min(s, 100) / 100.0) + 0.0001)


def test_polynomial_decay_cycle():
    def closed(s):
        mult = 1.0 if s == 0 else math.ceil(s / 100.0)
        ds = 100.0 * mult
        return (0.1 - 0.01) * (1 - s / ds) ** 0.5 + 0.01
    _check(lambda gs: train.polynomial_decay(0.1, gs, 100, 0.01, power=0.5, cycle=True),
           closed, rtol=1e-5)


@pytest.mark.parametrize("alpha", [0.0, 0.2])
def test_cosine_decay(alpha):
    def closed(s):
        frac = min(s, 100) / 100.0
        return 0.1 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * frac)) + alpha)
    _check(lambda gs: train.cosine_decay(0.1, gs, 100, alpha=alpha), closed)


@pytest.mark.parametrize("t_mul,m_mul", [(2.0, 1.0), (1.0, 0.5), (1.5, 0.8)])
def test_cosine_decay_restarts(t_mul, m_mul):
    def closed(s):
        period, start, i = 20.0, 0.0, 0
        while s >= start + period:
            start += period
            period *= t_mul
            i += 1
        frac = (s - start) / period
        return 0.1 * (m_mul ** i * 0.5 * (1 + math.cos(math.pi * frac)) * (1 - 0.1) + 0.1)
    _check(lambda gs: train.cosine_decay_restarts(0.1, gs, 20, t_mul=t_mul, m_mul=m_mul,
                                                  alpha=0.1), closed, rtol=2e-5)


def test_linear_cosine_decay():
    def closed(s):
        s = min(s, 100)
        linear = (100 - s) / 100.0
        cosine = 0.5 * (1 + math.cos(math.pi * 2 * 0.5 * s / 100.0))
        return 0.1 * ((0.0 + linear) * cosine + 0.001)
    _check(lambda gs: train.linear_cosine_decay(0.1, gs, 100), closed)


def test_piecewise_constant():
    def closed(s):
        if s <= 10:
            return 1.0
        if s <= 100:
            return 0.5
        return 0.1
    lr = _check(lambda gs: train.piecewise_constant(gs, [10, 100], [1.0, 0.5, 0.1]), closed)
    assert lr.dtype == tf.float32


def test_piecewise_constant_single_boundary_and_int_values(graph):
    x = tf.placeholder(tf.int32, [])
    y = train.piecewise_constant(x, [5], [7, 9])
    assert y.dtype == tf.int32
    with tf.Session() as sess:
        assert [sess.run(y, {x: v}) for v in (4, 5, 6)] == [7, 7, 9]


def test_piecewise_constant_errors(graph):
    x = tf.placeholder(tf.float32, [])
    with pytest.raises(ValueError, match="length of boundaries should be 1 less"):
        train.piecewise_constant(x, [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"Boundaries \(int32\) must have the same dtype as x "
                                         r"\(float32\)"):
        train.piecewise_constant(x, [1], [1.0, 2.0])
    with pytest.raises(ValueError, match="Values must have elements all with the same dtype"):
        train.piecewise_constant(x, [1.0], [1.0, 2])


def test_schedule_drives_optimizer(graph):
    w = tf.Variable([0.0], name="w")
    gs = train.get_or_create_global_step()
    lr = train.piecewise_constant(gs, [1], [1.0, 0.1])
    step = train.GradientDescentOptimizer(lr).apply_gradients([(tf.constant([-1.0]), w)],
                                                             global_step=gs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(4):
            sess.run(step)
        # steps 0 and 1 use 1.0, steps 2 and 3 use 0.1.
        np.testing.assert_allclose(sess.run(w), [2.2], rtol=1e-6)
