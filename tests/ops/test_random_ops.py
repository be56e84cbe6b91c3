"""Random ops, seeding rules and initializers: shapes, dtypes, names and statistics."""

import math

import numpy as np
import pytest

import headwater as tf
from headwater.framework import errors
from headwater.ops import init_ops

N = 100_000


@pytest.fixture
def graph():
    g = tf.Graph()
    with g.as_default():
        yield g


def _run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


# ---- random_normal / truncated_normal / random_uniform -------------------------------------


def test_random_normal_graph_structure(graph):
    r = tf.random_normal([2, 3])
    assert r.name == "random_normal:0"
    assert r.dtype == tf.float32 and r.shape.as_list() == [2, 3]
    types = {op.name: op.type for op in graph.get_operations()}
    assert types["random_normal/RandomStandardNormal"] == "RandomStandardNormal"
    assert types["random_normal/mul"] == "Mul"
    assert types["random_normal"] == "AddV2"
    assert tf.random_normal([1], name="noise").name == "noise:0"
    assert tf.truncated_normal([1]).name == "truncated_normal:0"
    assert tf.random_uniform([1]).name == "random_uniform:0"
    assert tf.random_uniform([1], maxval=3, dtype=tf.int32).op.type == "RandomUniformInt"


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64])
def test_random_normal_statistics(graph, dtype):
    r = tf.random_normal([N], mean=3.0, stddev=2.0, dtype=dtype, seed=1)
    x = _run(r)
    assert x.dtype == dtype.as_numpy_dtype and x.shape == (N,)
    x = x.astype(np.float64)
    assert abs(x.mean() - 3.0) < 0.03
    assert abs(x.std() - 2.0) < 0.03


def test_truncated_normal_bounds_and_statistics(graph):
    x = _run(tf.truncated_normal([N], mean=1.0, stddev=0.5, seed=2)).astype(np.float64)
    assert np.all(np.abs(x - 1.0) <= 1.0)
    assert abs(x.mean() - 1.0) < 0.01
    # std of the unit normal truncated to [-2, 2]
    assert abs(x.std() - 0.5 * 0.87962566103423978) < 0.01


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64])
def test_random_uniform_float(graph, dtype):
    x = _run(tf.random_uniform([N], minval=-2.0, maxval=3.0, dtype=dtype, seed=3))
    assert x.dtype == dtype.as_numpy_dtype
    x = x.astype(np.float64)
    assert x.min() >= -2.0 and x.max() < 3.0
    assert abs(x.mean() - 0.5) < 0.03
    assert abs(x.std() - 5.0 / math.sqrt(12)) < 0.03


def test_random_uniform_default_range(graph):
    x = _run(tf.random_uniform([1000], seed=4))
    assert x.min() >= 0.0 and x.max() < 1.0


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_random_uniform_int(graph, dtype):
    x = _run(tf.random_uniform([N], minval=-3, maxval=4, dtype=dtype, seed=5))
    assert x.dtype == dtype.as_numpy_dtype
    assert set(np.unique(x)) == set(range(-3, 4))
    counts = np.bincount(x + 3) / N
    np.testing.assert_allclose(counts, 1 / 7, atol=0.01)


def test_random_uniform_errors(graph):
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
        tf.random_uniform([2], dtype=tf.int32)
    with pytest.raises(ValueError, match="Invalid dtype"):
        tf.random_uniform([2], dtype=tf.bool)
    bad = tf.random_uniform([2], minval=5, maxval=5, dtype=tf.int32)
    with pytest.raises(errors.InvalidArgumentError, match="Need minval < maxval: 5 >= 5"):
        _run(bad)
    with pytest.raises(TypeError):
        tf.random_normal([2], dtype=tf.int32)


def test_shape_as_tensor(graph):
    shp = tf.placeholder(tf.int32, [2])
    r = tf.random_normal(shp)
    assert r.shape.as_list() == [None, None]
    assert _run(r, {shp: [3, 4]}).shape == (3, 4)
    c = tf.random_uniform(tf.constant([5, 2]))
    assert c.shape.as_list() == [5, 2]
    u = tf.random_uniform(tf.placeholder(tf.int32))
    assert u.shape.ndims is None
    assert tf.random_normal(tf.TensorShape([2, 2])).shape.as_list() == [2, 2]
    assert _run(tf.random_normal([])).shape == ()
    assert _run(tf.random_uniform([0, 3])).shape == (0, 3)
    with pytest.raises(TypeError, match="shape"):
        tf.random_normal(tf.constant([2.0, 3.0]))


# ---- seeding -------------------------------------------------------------------------------


def _values_in_fresh_sessions(t, n=2):
    out = []
    for _ in range(n):
        with tf.Session() as sess:
            out.append(sess.run(t))
    return out


def test_graph_seed_reproducible_across_sessions(graph):
    tf.set_random_seed(1234)
    a = tf.random_uniform([5])
    b = tf.random_uniform([5])
    s1 = _values_in_fresh_sessions([a, b])
    np.testing.assert_array_equal(s1[0][0], s1[1][0])
    np.testing.assert_array_equal(s1[0][1], s1[1][1])
    # two ops get different streams
    assert not np.array_equal(s1[0][0], s1[0][1])
    with tf.Session() as sess:
        first, second = sess.run(a), sess.run(a)
    # successive runs continue the stream
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, s1[0][0])


def test_graph_seed_reproducible_across_graphs():
    def build():
        g = tf.Graph()
        with g.as_default():
            tf.set_random_seed(7)
            t = tf.random_normal([4]) + tf.truncated_normal([4])
            with tf.Session() as sess:
                return sess.run(t)
    np.testing.assert_array_equal(build(), build())


def test_op_seed_without_graph_seed(graph):
    a = tf.random_normal([5], seed=42)
    b = tf.random_normal([5], seed=42)
    rnd = graph.get_operation_by_name("random_normal/RandomStandardNormal")
    assert rnd.get_attr("seed") == 87654321  # TF1's default graph seed
    assert rnd.get_attr("seed2") == 42
    s = _values_in_fresh_sessions([a, b])
    np.testing.assert_array_equal(s[0][0], s[1][0])
    # same (graph seed, op seed) -> same sequence, as in TF1
    np.testing.assert_array_equal(s[0][0], s[0][1])


def test_no_seed_is_nondeterministic(graph):
    a = tf.random_normal([10])
    rnd = graph.get_operation_by_name("random_normal/RandomStandardNormal")
    assert rnd.get_attr("seed") == 0 and rnd.get_attr("seed2") == 0
    s = _values_in_fresh_sessions(a)
    assert not np.array_equal(s[0], s[1])


def test_random_op_not_rerun_within_one_run(graph):
    tf.set_random_seed(0)
    r = tf.random_uniform([3])
    d = r - r
    np.testing.assert_array_equal(_run(d), [0.0, 0.0, 0.0])


# ---- shuffle, multinomial, gamma, poisson -------------------------------------------------


def test_random_shuffle(graph):
    x = np.arange(20, dtype=np.int32).reshape(10, 2)
    s = tf.random_shuffle(x, seed=1)
    assert s.op.type == "RandomShuffle" and s.op.name == "RandomShuffle"
    assert s.shape.as_list() == [10, 2] and s.dtype == tf.int32
    with tf.Session() as sess:
        outs = [sess.run(s) for _ in range(5)]
    for out in outs:
        # rows move together; the multiset of rows is preserved
        assert sorted(map(tuple, out)) == sorted(map(tuple, x))
    assert any(not np.array_equal(o, x) for o in outs)
    assert _run(tf.random_shuffle(tf.constant(3.0))) == 3.0


def test_multinomial(graph):
    with np.errstate(divide="ignore"):
        logits = np.log(np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]))
    m = tf.multinomial(logits.astype(np.float32), N, seed=3)
    assert m.name == "multinomial/Multinomial:0"
    assert m.dtype == tf.int64 and m.shape.as_list() == [2, N]
    out = _run(m)
    assert out.dtype == np.int64
    np.testing.assert_allclose(np.bincount(out[0], minlength=3) / N, [0.2, 0.3, 0.5],
                               atol=0.01)
    assert np.all(out[1] == 0)  # -inf logits are never drawn
    from headwater.ops import random_ops
    c = random_ops.categorical([[0.0, 0.0]], 7, dtype=tf.int32)
    assert c.dtype == tf.int32 and c.name.startswith("categorical/")
    assert set(np.unique(_run(c))) <= {0, 1}


def test_multinomial_large_batch(graph):
    logits = np.zeros((100, 4), dtype=np.float32)
    logits[:, 2] = 5.0
    out = _run(tf.multinomial(logits, 200, seed=1))
    assert out.shape == (100, 200) and out.min() >= 0 and out.max() <= 3
    frac = (out == 2).mean()
    p = math.exp(5) / (math.exp(5) + 3)
    assert abs(frac - p) < 0.01


def test_random_gamma_and_poisson(graph):
    g = tf.random_gamma([N], alpha=[2.0, 5.0], beta=2.0, seed=1)
    assert g.shape.as_list() == [N, 2]
    x = _run(g)
    np.testing.assert_allclose(x.mean(axis=0), [1.0, 2.5], rtol=0.02)
    p = tf.random_poisson([3.0], [N], seed=2)
    assert p.shape.as_list() == [N, 1]
    y = _run(p)
    assert y.dtype == np.float32
    assert abs(y.mean() - 3.0) < 0.03


# ---- initializers --------------------------------------------------------------------------


def _init_value(init, shape, dtype=tf.float32):
    t = init(shape, dtype=dtype)
    assert t.shape.as_list() == list(shape)
    return _run(t)


def test_constant_initializers(graph):
    np.testing.assert_array_equal(_init_value(tf.zeros_initializer(), [2, 3]),
                                  np.zeros((2, 3)))
    np.testing.assert_array_equal(_init_value(tf.ones_initializer(), [2]), [1.0, 1.0])
    np.testing.assert_array_equal(_init_value(tf.constant_initializer(0.25), [2]),
                                  [0.25, 0.25])
    np.testing.assert_array_equal(
        _init_value(tf.constant_initializer([0, 1, 2, 3, 4, 5, 6, 7]), [2, 4]),
        np.arange(8).reshape(2, 4))
    # fewer values: the last one fills the rest (TF1)
    np.testing.assert_array_equal(_init_value(tf.constant_initializer([1, 2]), [4]),
                                  [1, 2, 2, 2])
    with pytest.raises(TypeError, match="Too many elements provided"):
        tf.constant_initializer([1, 2, 3])([2])
    z = tf.zeros_initializer(dtype=tf.int32)([3])
    assert z.dtype == tf.int32 and z.op.name == "zeros_1"
    with pytest.raises(TypeError, match="Invalid type for initial value"):
        tf.constant_initializer({"a": 1})


def test_random_initializers_statistics(graph):
    x = _init_value(tf.random_normal_initializer(1.0, 0.5, seed=1), [N])
    assert abs(x.mean() - 1.0) < 0.01 and abs(x.std() - 0.5) < 0.01
    x = _init_value(tf.truncated_normal_initializer(0.0, 2.0, seed=1), [N])
    assert np.abs(x).max() <= 4.0 and abs(x.std() - 2.0 * 0.8796) < 0.03
    x = _init_value(tf.random_uniform_initializer(-1.0, 1.0, seed=1), [N])
    assert x.min() >= -1.0 and x.max() < 1.0 and abs(x.mean()) < 0.01
    with pytest.raises(ValueError, match="Expected floating point type"):
        tf.random_normal_initializer(dtype=tf.int32)


@pytest.mark.parametrize("shape,fan_in,fan_out", [
    ([300, 200], 300, 200),
    ([3, 3, 16, 32], 144, 288),
    ([5, 40, 60], 200, 300),
])
def test_glorot_uniform_limits(graph, shape, fan_in, fan_out):
    assert init_ops._compute_fans(shape) == (fan_in, fan_out)
    x = _init_value(tf.glorot_uniform_initializer(seed=1), shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    assert x.min() >= -limit and x.max() < limit
    assert abs(np.abs(x).max() - limit) < 0.02 * limit
    assert abs(x.std() - limit / math.sqrt(3)) < 0.02 * limit


def test_variance_scaling_distributions(graph):
    shape = [400, 250]
    # "normal" and "truncated_normal": truncated with the stddev correction -> std sqrt(s/n)
    for dist in ("normal", "truncated_normal"):
        x = _init_value(tf.variance_scaling_initializer(2.0, "fan_in", dist, seed=1), shape)
        std = math.sqrt(2.0 / 400)
        assert abs(x.std() - std) < 0.02 * std
        assert np.abs(x).max() <= 2 * std / 0.87962566103423978 + 1e-6
    x = _init_value(tf.variance_scaling_initializer(1.0, "fan_out", "untruncated_normal",
                                                    seed=1), shape)
    assert abs(x.std() - math.sqrt(1.0 / 250)) < 0.02 * math.sqrt(1.0 / 250)
    x = _init_value(tf.variance_scaling_initializer(3.0, "fan_avg", "uniform", seed=1), shape)
    limit = math.sqrt(3.0 * 3.0 / 325)
    assert x.max() < limit and abs(np.abs(x).max() - limit) < 0.02 * limit
    x = _init_value(tf.glorot_normal_initializer(seed=1), shape)
    assert abs(x.std() - math.sqrt(2.0 / 650)) < 0.02 * math.sqrt(2.0 / 650)
    with pytest.raises(ValueError, match="Invalid `mode` argument"):
        tf.variance_scaling_initializer(mode="fan")
    with pytest.raises(ValueError, match="Invalid `distribution` argument"):
        tf.variance_scaling_initializer(distribution="cauchy")
    with pytest.raises(ValueError, match="`scale` must be positive float."):
        tf.variance_scaling_initializer(scale=0.0)


def test_he_and_lecun(graph):
    shape = [3, 3, 64, 64]  # fan_in = 576
    x = _init_value(init_ops.he_normal(seed=1), shape)
    assert abs(x.std() - math.sqrt(2 / 576)) < 0.02 * math.sqrt(2 / 576)
    x = _init_value(init_ops.he_uniform(seed=1), shape)
    assert abs(np.abs(x).max() - math.sqrt(6 / 576)) < 0.02 * math.sqrt(6 / 576)
    x = _init_value(init_ops.lecun_normal(seed=1), shape)
    assert abs(x.std() - math.sqrt(1 / 576)) < 0.02 * math.sqrt(1 / 576)
    x = _init_value(init_ops.lecun_uniform(seed=1), shape)
    assert x.max() < math.sqrt(3 / 576)


@pytest.mark.parametrize("shape", [[6, 4], [4, 6], [2, 3, 5]])
def test_orthogonal_initializer(graph, shape):
    x = _init_value(tf.orthogonal_initializer(gain=2.0, seed=1), shape).astype(np.float64)
    flat = x.reshape(-1, shape[-1])
    if flat.shape[0] >= flat.shape[1]:
        np.testing.assert_allclose(flat.T @ flat, 4.0 * np.eye(flat.shape[1]), atol=1e-5)
    else:
        np.testing.assert_allclose(flat @ flat.T, 4.0 * np.eye(flat.shape[0]), atol=1e-5)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        tf.orthogonal_initializer()([3])


def test_identity_and_uniform_unit_scaling(graph):
    np.testing.assert_array_equal(_init_value(init_ops.Identity(gain=3.0), [2, 3]),
                                  3.0 * np.eye(2, 3))
    x = _init_value(tf.uniform_unit_scaling_initializer(factor=1.0, seed=1), [300, 10])
    assert x.max() < math.sqrt(3 / 300)


def test_initializer_config_roundtrip():
    init = tf.variance_scaling_initializer(2.0, "fan_out", "uniform", seed=3)
    again = init_ops.VarianceScaling.from_config(init.get_config())
    assert (again.scale, again.mode, again.distribution, again.seed) == (2.0, "fan_out",
                                                                         "uniform", 3)


def test_seeded_initializer_reproducible_in_get_variable():
    def build():
        g = tf.Graph()
        with g.as_default():
            v = tf.get_variable("v", [3, 3], initializer=tf.truncated_normal_initializer(
                seed=11))
            with tf.Session() as sess:
                sess.run(v.initializer)
                return sess.run(v)
    np.testing.assert_array_equal(build(), build())
