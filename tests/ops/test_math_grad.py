"""Gradient rules of math ops: float64 Jacobian checks for every differentiable op type, TF1's
conventions (ties, None gradients, op names), partial shapes and second derivatives."""

import numpy as np
import pytest

import headwater as tf
from headwater.framework import ops as _ops
from headwater.framework.op_registry import _OP_DEFS, register_op
from headwater.gradients import _NOT_DIFFERENTIABLE
from headwater.ops import math_ops

TOL = 1e-7
DELTA = 1e-5


@pytest.fixture(autouse=True)
def graph():
    g = tf.Graph()
    with g.as_default():
        yield g


def rand(shape, lo=0.0, hi=1.0, seed=0):
    return np.random.RandomState(seed).uniform(lo, hi, size=shape)


def grad_error(fn, values, static_shapes=None, extra_feed=None):
    """Max |theoretical - numerical| Jacobian entry of `fn(*placeholders)` at `values`.

    `static_shapes` gives the placeholders' static shapes (default: the values' shapes), so
    partially known and unknown shapes can be exercised.
    """
    values = [np.asarray(v, dtype=np.float64) for v in values]
    if static_shapes is None:
        static_shapes = [v.shape for v in values]
    xs = [tf.placeholder(tf.float64, s) for s in static_shapes]
    y = fn(*xs)
    with tf.Session() as sess:
        feed = dict(zip(xs, values))
        feed.update(extra_feed or {})
        y_shape = np.shape(sess.run(y, feed))
        return tf.test.compute_gradient_error(xs, [v.shape for v in values], y, y_shape,
                                              x_init_value=values, delta=DELTA,
                                              extra_feed_dict=extra_feed)


def op_types_in_default_graph():
    return {op.type for op in tf.get_default_graph().get_operations()}


# Op types exercised by the tables below (checked against the registry at the end).
COVERED = set()


# ---- unary ---------------------------------------------------------------------------------------

def signed(shape, lo, hi, seed=0):
    """Values with |v| in [lo, hi] and mixed signs (away from kinks at 0)."""
    rs = np.random.RandomState(seed)
    return rs.uniform(lo, hi, size=shape) * rs.choice([-1.0, 1.0], size=shape)


UNARY = [
    # op type, function, input values
    ("Neg", tf.negative, signed((2, 3), 0.1, 2)),
    ("Abs", tf.abs, signed((2, 3), 0.1, 2)),
    ("Square", tf.square, signed((2, 3), 0.1, 2)),
    ("Sqrt", tf.sqrt, rand((2, 3), 0.5, 2)),
    ("Rsqrt", tf.rsqrt, rand((2, 3), 0.5, 2)),
    ("Exp", tf.exp, signed((2, 3), 0.1, 2)),
    ("Expm1", tf.expm1, signed((2, 3), 0.1, 2)),
    ("Log", tf.log, rand((2, 3), 0.5, 2)),
    ("Log1p", tf.log1p, rand((2, 3), -0.5, 2)),
    ("Sin", tf.sin, signed((2, 3), 0.1, 3)),
    ("Cos", tf.cos, signed((2, 3), 0.1, 3)),
    ("Tan", tf.tan, signed((2, 3), 0.1, 1.2)),
    ("Asin", tf.asin, signed((2, 3), 0.1, 0.8)),
    ("Acos", tf.acos, signed((2, 3), 0.1, 0.8)),
    ("Atan", tf.atan, signed((2, 3), 0.1, 3)),
    ("Sinh", tf.sinh, signed((2, 3), 0.1, 2)),
    ("Cosh", tf.cosh, signed((2, 3), 0.1, 2)),
    ("Tanh", tf.tanh, signed((2, 3), 0.1, 2)),
    ("Sigmoid", tf.sigmoid, signed((2, 3), 0.1, 4)),
    ("Reciprocal", tf.reciprocal, signed((2, 3), 0.5, 2)),
    ("Erf", tf.erf, signed((2, 3), 0.1, 2)),
]
COVERED.update(t for t, _, _ in UNARY)


@pytest.mark.parametrize("op_type,fn,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary_gradient(op_type, fn, x):
    assert grad_error(fn, [x]) < TOL
    assert op_type in op_types_in_default_graph()


@pytest.mark.parametrize("op_type,fn,x", UNARY[:6], ids=[u[0] for u in UNARY[:6]])
def test_unary_gradient_partial_shape(op_type, fn, x):
    assert grad_error(fn, [x], static_shapes=[(None, 3)]) < TOL
    tf.get_default_graph()
    p = tf.placeholder(tf.float64, [None, 3])
    (g,) = tf.gradients(fn(p), p)
    assert g.shape.as_list() == [None, 3]


ZERO_GRAD = [("Sign", tf.sign, "zeros"), ("Floor", tf.floor, None), ("Ceil", tf.ceil, None),
             ("Round", tf.round, None), ("Rint", tf.rint, None)]
COVERED.update(t for t, _, _ in ZERO_GRAD)


@pytest.mark.parametrize("op_type,fn,kind", ZERO_GRAD, ids=[z[0] for z in ZERO_GRAD])
def test_piecewise_constant_ops_as_tf1(op_type, fn, kind):
    # TF1: Sign's gradient is zeros; Floor/Ceil/Round/Rint return None.
    x = tf.placeholder(tf.float64, [2, 2])
    y = fn(x)
    assert y.op.type == op_type
    (g,) = tf.gradients(y, x)
    if kind is None:
        assert g is None
    else:
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(g, {x: rand((2, 2))}), np.zeros((2, 2)))


# ---- binary with broadcasting ------------------------------------------------------------------

def fmod_x(shape, seed=0):
    return rand(shape, 5.1, 5.4, seed)


def fmod_y(shape, seed=1):
    return rand(shape, 2.3, 2.45, seed)


def spaced(shape, seed):
    # Distinct values on a grid with random offsets: no ties between two such arrays.
    rs = np.random.RandomState(seed)
    return rs.randint(0, 10, size=shape) * 0.5 + (0.1 if seed % 2 else 0.3)


def vx(shape):
    return signed(shape, 0.2, 2, 7)


def vy(shape):
    return signed(shape, 0.5, 2, 8)


BINARY = [
    # op type, function, x maker, y maker (makers take a shape)
    ("AddV2", tf.add, vx, vy),
    ("AddV2", lambda a, b: a + b, vx, vy),
    ("Sub", tf.subtract, vx, vy),
    ("Mul", tf.multiply, vx, vy),
    ("RealDiv", tf.realdiv, vx, vy),
    ("RealDiv", tf.truediv, vx, vy),
    ("RealDiv", tf.div, vx, vy),
    ("DivNoNan", tf.div_no_nan, vx, vy),
    ("FloorMod", tf.floormod, fmod_x, fmod_y),
    ("TruncateMod", tf.truncatemod, lambda s: -fmod_x(s), fmod_y),
    ("Pow", tf.pow, lambda s: rand(s, 0.5, 1.5), lambda s: rand(s, 0.5, 2.0, 5)),
    ("Maximum", tf.maximum, lambda s: spaced(s, 1), lambda s: spaced(s, 2)),
    ("Minimum", tf.minimum, lambda s: spaced(s, 1), lambda s: spaced(s, 2)),
    ("SquaredDifference", tf.squared_difference, vx, vy),
]
COVERED.update(t for t, _, _, _ in BINARY)

BROADCAST_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 1), (1, 3)),
                    ((), (2, 3)), ((2, 3), ()), ((2, 1, 3), (2, 1))]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("op_type,fn,mx,my", BINARY, ids=[b[0] for b in BINARY])
def test_binary_gradient_broadcasting(op_type, fn, mx, my, shapes):
    sx, sy = shapes
    x, y = mx(sx), my(sy)
    assert grad_error(fn, [x, y]) < TOL
    assert op_type in op_types_in_default_graph()


@pytest.mark.parametrize("op_type,fn,mx,my", BINARY, ids=[b[0] for b in BINARY])
def test_binary_gradient_partial_shapes(op_type, fn, mx, my):
    # Batch dimension unknown statically; y broadcast along it.
    x, y = mx((2, 3)), my((1, 3))
    assert grad_error(fn, [x, y], static_shapes=[(None, 3), (None, 3)]) < TOL
    # Unknown rank as well.
    assert grad_error(fn, [x, y[0]], static_shapes=[None, (3,)]) < TOL
    a = tf.placeholder(tf.float64, [None, 3])
    b = tf.placeholder(tf.float64, [3])
    ga, gb = tf.gradients(fn(a, b), [a, b])
    assert ga.shape.as_list() == [None, 3]
    assert gb.shape.as_list() == [3]


def test_unbroadcast_adds_no_op_for_equal_static_shapes(graph):
    a = tf.placeholder(tf.float32, [2, 3])
    b = tf.placeholder(tf.float32, [2, 3])
    tf.gradients(a + b, [a, b])
    assert "SumToShape" not in op_types_in_default_graph()
    c = tf.placeholder(tf.float32, [3])
    ga, gc = tf.gradients(a * c, [a, c])
    ops = [op for op in graph.get_operations() if op.type == "SumToShape"]
    assert len(ops) == 1 and ops[0].outputs[0] is gc
    # The target shape is a constant when it is statically known.
    assert ops[0].inputs[1].op.type == "Const"
    assert ga.op.type == "Mul"


def test_unbroadcast_uses_runtime_shape_for_partial_shapes(graph):
    a = tf.placeholder(tf.float32, [None, 3])
    b = tf.placeholder(tf.float32, [None, 1])
    ga, gb = tf.gradients(a * b, [a, b])
    assert gb.op.type == "SumToShape" and gb.op.inputs[1].op.type == "Shape"
    assert gb.shape.as_list() == [None, 1]
    with tf.Session() as sess:
        va, vb = sess.run([ga, gb], {a: np.ones((4, 3)), b: np.full((4, 1), 2.0)})
    np.testing.assert_array_equal(va, np.full((4, 3), 2.0))
    np.testing.assert_array_equal(vb, np.full((4, 1), 3.0))


def test_sum_to_shape_op():
    g = tf.placeholder(tf.float64, [None, 2, 3])
    s = tf.placeholder(tf.int32, [2])
    out = math_ops.sum_to_shape(g, s)
    assert out.shape.as_list() == [None, None]
    v = rand((4, 2, 3))
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(out, {g: v, s: [1, 3]}),
                                   v.sum(axis=(0, 1)).reshape(1, 3))
        np.testing.assert_allclose(sess.run(out, {g: v, s: [2, 3]}), v.sum(axis=0))
        with pytest.raises(tf.errors.InvalidArgumentError, match="cannot sum"):
            sess.run(out, {g: v, s: [4, 3]})
    with pytest.raises(ValueError, match="target must broadcast"):
        math_ops.sum_to_shape(tf.zeros([2, 3]), [2, 2])
    # Its own gradient broadcasts back.
    assert grad_error(lambda x: math_ops.sum_to_shape(x, [1, 3]), [rand((2, 3))]) < TOL


def test_floordiv_and_truncatediv_have_no_gradient():
    x = tf.placeholder(tf.float64, [3])
    y = tf.placeholder(tf.float64, [3])
    assert tf.gradients(tf.floordiv(x, y), [x, y]) == [None, None]
    assert tf.gradients(x // y, [x, y]) == [None, None]
    assert "TruncateDiv" in _NOT_DIFFERENTIABLE


def test_pow_y_gradient_zero_for_nonpositive_x():
    x = tf.constant([-2.0, 0.0, 2.0], dtype=tf.float64)
    y = tf.placeholder(tf.float64, [3])
    (gy,) = tf.gradients(tf.pow(x, y), y)
    with tf.Session() as sess:
        v = sess.run(gy, {y: [2.0, 2.0, 2.0]})
    np.testing.assert_allclose(v, [0.0, 0.0, 4.0 * np.log(2.0)])


def test_maximum_minimum_ties_as_tf1():
    x = tf.placeholder(tf.float64, [3])
    y = tf.placeholder(tf.float64, [3])
    feed = {x: [1.0, 2.0, 3.0], y: [1.0, 5.0, 0.0]}
    with tf.Session() as sess:
        gx, gy = sess.run(tf.gradients(tf.maximum(x, y), [x, y]), feed)
        np.testing.assert_array_equal(gx, [1, 0, 1])  # the tie goes to x (x >= y)
        np.testing.assert_array_equal(gy, [0, 1, 0])
        gx, gy = sess.run(tf.gradients(tf.minimum(x, y), [x, y]), feed)
        np.testing.assert_array_equal(gx, [1, 1, 0])  # x <= y
        np.testing.assert_array_equal(gy, [0, 0, 1])


def test_clip_by_value_gradient():
    # clip_by_value is Minimum then Maximum: gradient 1 inside the range (and at its edges).
    x = tf.placeholder(tf.float64, [5])
    y = tf.clip_by_value(x, 0.0, 1.0)
    (g,) = tf.gradients(y, x)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(g, {x: [-1.0, 0.0, 0.5, 1.0, 2.0]}),
                                      [0, 1, 1, 1, 0])


# ---- n-ary, selection, cast ----------------------------------------------------------------------

def test_add_n_gradient():
    vals = [rand((2, 3), seed=i) for i in range(3)]
    assert grad_error(lambda a, b, c: tf.add_n([a, b, c]), vals) < TOL
    assert "AddN" in op_types_in_default_graph()
    # The same input twice gets both contributions.
    assert grad_error(lambda a: tf.add_n([a, a * 2.0]), vals[:1]) < TOL


def test_select_gradient():
    c = tf.constant([[True, False, True], [False, True, True]])
    assert grad_error(lambda x, y: tf.where(c, x, y), [rand((2, 3)), rand((2, 3), seed=1)]) \
        < TOL
    # A vector condition selects rows.
    rows = tf.constant([True, False])
    assert grad_error(lambda x, y: tf.where(rows, x, y), [rand((2, 3)), rand((2, 3), seed=1)]) \
        < TOL
    x = tf.placeholder(tf.float64, [2, 3])
    y = tf.placeholder(tf.float64, [2, 3])
    out = tf.where(c, x, y)
    gc, gx, gy = tf.gradients(out, [c, x, y])
    assert gc is None
    with tf.Session() as sess:
        vx, vy = sess.run([gx, gy], {x: rand((2, 3)), y: rand((2, 3))})
    np.testing.assert_array_equal(vx, [[1, 0, 1], [0, 1, 1]])
    np.testing.assert_array_equal(vy, [[0, 1, 0], [1, 0, 0]])


@pytest.mark.parametrize("cshape,xshape,yshape", [((2, 3), (2, 3), (2, 3)),
                                                   ((2, 1), (3,), (2, 3)),
                                                   ((3,), (2, 3), ()),
                                                   ((), (2, 1), (1, 3))], ids=str)
def test_select_v2_gradient_broadcasting(cshape, xshape, yshape):
    cond = tf.constant(np.random.RandomState(3).rand(*cshape) > 0.4)
    assert grad_error(lambda x, y: tf.where_v2(cond, x, y),
                      [rand(xshape), rand(yshape, seed=1)]) < TOL
    assert "SelectV2" in op_types_in_default_graph()


def test_cast_gradient():
    x = tf.placeholder(tf.float64, [3])
    y = tf.cast(x, tf.float32)
    (g,) = tf.gradients(y * 3.0, x)
    assert g.dtype == tf.float64
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(g, {x: [1.0, 2.0, 3.0]}), [3.0, 3.0, 3.0])
    # Integer sources (and integer destinations) get None, as TF1.
    i = tf.placeholder(tf.int32, [3])
    assert tf.gradients(tf.cast(i, tf.float32) * 2.0, i) == [None]
    assert tf.gradients(tf.cast(tf.cast(x, tf.int32), tf.float64), x) == [None]


def test_integer_inputs_get_none():
    i = tf.placeholder(tf.int32, [3])
    f = tf.placeholder(tf.float32, [3])
    y = tf.cast(i * 2, tf.float32) * f
    gi, gf = tf.gradients(y, [i, f])
    assert gi is None and gf is not None


# ---- reductions ----------------------------------------------------------------------------------

REDUCTIONS = [("Sum", tf.reduce_sum), ("Mean", tf.reduce_mean), ("Prod", tf.reduce_prod),
              ("Max", tf.reduce_max), ("Min", tf.reduce_min)]
COVERED.update(t for t, _ in REDUCTIONS)
AXES = [None, 0, 1, -1, [0, 2], [-1, 0, 1], []]
STATIC = [(2, 3, 2), (None, 3, None), None]


@pytest.mark.parametrize("static", STATIC, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op_type,fn", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_gradients(op_type, fn, keepdims, static):
    x = rand((2, 3, 2), 0.5, 1.5, seed=4)  # distinct values, no zeros
    for axis in AXES:
        if static is None and axis is None:
            continue  # reducing all axes of unknown rank needs axis given
        err = grad_error(lambda t, a=axis: fn(t, a, keepdims=keepdims), [x],
                         static_shapes=[static])
        assert err < TOL, (axis, err)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op_type,fn", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_gradients_axis_tensor(op_type, fn, keepdims):
    x = rand((2, 3, 2), 0.5, 1.5, seed=4)
    ax = tf.placeholder(tf.int32, [None])
    for axis in ([0], [1, -1], [0, 1, 2]):
        err = grad_error(lambda t: fn(t, ax, keepdims=keepdims), [x], extra_feed={ax: axis})
        assert err < TOL, (axis, err)


def test_reduction_gradient_static_shapes():
    x = tf.placeholder(tf.float64, [None, 3, 4])
    for fn in (tf.reduce_sum, tf.reduce_mean, tf.reduce_prod, tf.reduce_max):
        for kd in (False, True):
            (g,) = tf.gradients(fn(x, [1], keepdims=kd), x)
            assert g.shape.as_list() == [None, 3, 4]


def test_reduce_prod_with_zeros():
    x = tf.placeholder(tf.float64, [2, 3])
    (g,) = tf.gradients(tf.reduce_prod(x, 1), x)
    with tf.Session() as sess:
        v = sess.run(g, {x: [[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]]})
    np.testing.assert_allclose(v, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])
    vals = np.array([[2.0, 0.0, 3.0], [1.5, 0.5, 5.0]])
    assert grad_error(lambda t: tf.reduce_prod(t, 1), [vals]) < TOL


def test_reduce_max_min_ties_share_gradient():
    x = tf.placeholder(tf.float64, [2, 3])
    feed = {x: [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]}
    with tf.Session() as sess:
        (g,) = sess.run(tf.gradients(tf.reduce_max(x, 1), x), feed)
        np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
        (g,) = sess.run(tf.gradients(tf.reduce_max(x), x), feed)
        np.testing.assert_allclose(g, [[0, 0.5, 0.5], [0, 0, 0]])
        (g,) = sess.run(tf.gradients(tf.reduce_min(x, 1, keepdims=True), x), feed)
        np.testing.assert_allclose(g, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_reduce_logsumexp_gradient():
    if _OP_DEFS["StopGradient"].gradient is None and "StopGradient" not in _NOT_DIFFERENTIABLE:
        pytest.skip("reduce_logsumexp needs StopGradient declared by array_ops")
    vals = signed((2, 3), 0.1, 3)
    for axis in (None, 0, 1):
        for kd in (False, True):
            assert grad_error(lambda t, a=axis, k=kd: tf.reduce_logsumexp(t, a, keepdims=k),
                              [vals]) < TOL


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumulative_gradients(exclusive, reverse):
    x = rand((2, 3), 0.5, 1.5)
    for axis in (0, 1, -1):
        assert grad_error(lambda t: tf.cumsum(t, axis, exclusive, reverse), [x]) < TOL
        assert grad_error(lambda t: tf.cumprod(t, axis, exclusive, reverse), [x]) < TOL


# ---- matrix products -----------------------------------------------------------------------------

@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_matmul_gradient(ta, tb):
    a = rand((3, 2) if ta else (2, 3))
    b = rand((4, 3) if tb else (3, 4), seed=1)
    assert grad_error(lambda x, y: tf.matmul(x, y, transpose_a=ta, transpose_b=tb), [a, b]) \
        < TOL
    assert "MatMul" in op_types_in_default_graph()
    # Unknown leading / trailing dims.
    sa = (None, 2) if ta else (2, None)
    assert grad_error(lambda x, y: tf.matmul(x, y, transpose_a=ta, transpose_b=tb), [a, b],
                      static_shapes=[sa, None]) < TOL


@pytest.mark.parametrize("adj", [(False, False), (True, False), (False, True), (True, True)],
                         ids=str)
@pytest.mark.parametrize("shapes", [((2, 2, 3), (2, 3, 2)), ((2, 3), (4, 3, 2)),
                                    ((1, 2, 3), (3, 3, 2)), ((3, 1, 2, 3), (2, 3, 2))],
                         ids=str)
def test_batch_matmul_gradient_with_broadcast_batch(adj, shapes):
    adj_a, adj_b = adj
    sa, sb = shapes

    def t(s, flag):
        return s[:-2] + (s[-1], s[-2]) if flag else s
    a = rand(t(sa, adj_a))
    b = rand(t(sb, adj_b), seed=1)
    fn = lambda x, y: tf.matmul(x, y, adjoint_a=adj_a, adjoint_b=adj_b)  # noqa: E731
    assert grad_error(fn, [a, b]) < TOL
    assert "BatchMatMulV2" in op_types_in_default_graph()


def test_batch_matmul_gradient_partial_shapes():
    a, b = rand((2, 2, 3)), rand((3, 2), seed=1)
    assert grad_error(tf.matmul, [a, b], static_shapes=[(None, 2, 3), None]) < TOL
    x = tf.placeholder(tf.float64, [None, 2, 3])
    y = tf.placeholder(tf.float64, [3, 4])
    gx, gy = tf.gradients(tf.matmul(x, y), [x, y])
    assert gx.shape.as_list() == [None, 2, 3]
    assert gy.shape.as_list() == [3, 4]


EINSUMS = [("ij,jk->ik", (2, 3), (3, 4)), ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
           ("ij->ji", (2, 3)), ("ii->", (3, 3)), ("ii->i", (3, 3)), ("ij->", (2, 3)),
           ("ij,k->ik", (2, 3), (2,)), ("ij,ij->", (2, 3), (2, 3)), ("i,j->ij", (2,), (3,)),
           ("ij,jk", (2, 3), (3, 2)), ("...ij,...jk->...ik", (2, 3), (4, 3, 2)),
           ("bi,bi->b", (3, 2), (3, 2)), ("iij,jk->ik", (2, 2, 3), (3, 2)),
           ("ij,jk,kl->il", (2, 3), (3, 2), (2, 2))]


@pytest.mark.parametrize("case", EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum_gradient(case):
    eq, shapes = case[0], case[1:]
    vals = [rand(s, seed=i) for i, s in enumerate(shapes)]
    assert grad_error(lambda *xs: tf.einsum(eq, *xs), vals) < TOL


def test_einsum_gradient_partial_shapes():
    vals = [rand((2, 3)), rand((3, 4), seed=1)]
    assert grad_error(lambda a, b: tf.einsum("ij,jk->ik", a, b), vals,
                      static_shapes=[(None, 3), (3, None)]) < TOL
    assert grad_error(lambda a: tf.einsum("ii->i", a), [rand((3, 3))],
                      static_shapes=[(None, None)]) < TOL
    assert grad_error(lambda a: tf.einsum("ij->", a), [rand((2, 3))],
                      static_shapes=[(None, None)]) < TOL


@pytest.mark.parametrize("axes,sa,sb", [(1, (2, 3), (3, 4)), (2, (2, 3, 2), (3, 2, 2)),
                                        ([[0], [1]], (3, 2), (4, 3)), (0, (2,), (3,)),
                                        ([[0, 2], [1, 0]], (2, 3, 4), (4, 2, 2))], ids=str)
def test_tensordot_gradient(axes, sa, sb):
    vals = [rand(sa), rand(sb, seed=1)]
    assert grad_error(lambda a, b: tf.tensordot(a, b, axes), vals) < TOL


def test_einsum_gradient_unsupported_equation_raises_lookup_error():
    x = tf.placeholder(tf.float64, [2, 3])
    y = tf.einsum("...i->i", x)
    with pytest.raises(LookupError, match=r"einsum equation '\.\.\.i->i'"):
        tf.gradients(y, x)


def test_unsorted_segment_sum_gradient():
    ids = tf.constant([0, 2, -1, 0])
    assert grad_error(lambda d: tf.unsorted_segment_sum(d, ids, 3), [rand((4, 2))]) < TOL
    ids2 = tf.constant([[1, 0], [-1, 1]])
    assert grad_error(lambda d: tf.unsorted_segment_sum(d, ids2, 2), [rand((2, 2, 3))],
                      static_shapes=[None]) < TOL


# ---- larger shapes: one random direction ---------------------------------------------------------

def test_matmul_random_direction_64x64():
    rs = np.random.RandomState(0)
    av, bv, w, va, vb = (rs.randn(64, 64) for _ in range(5))
    a = tf.placeholder(tf.float64, [64, 64])
    b = tf.placeholder(tf.float64, [64, 64])
    loss = tf.reduce_sum(tf.tanh(tf.matmul(a, b) * 0.1) * w)
    ga, gb = tf.gradients(loss, [a, b])
    eps = 1e-6
    with tf.Session() as sess:
        ga_v, gb_v = sess.run([ga, gb], {a: av, b: bv})
        plus = sess.run(loss, {a: av + eps * va, b: bv + eps * vb})
        minus = sess.run(loss, {a: av - eps * va, b: bv - eps * vb})
    directional = (plus - minus) / (2 * eps)
    analytic = np.sum(ga_v * va) + np.sum(gb_v * vb)
    assert abs(directional - analytic) < 1e-6 * max(1.0, abs(analytic))


# ---- second derivatives --------------------------------------------------------------------------

def test_second_derivative_of_cube():
    x = tf.placeholder(tf.float64, [3])
    y = x * x * x
    (g,) = tf.gradients(y, x)
    (h,) = tf.gradients(g, x)
    v = np.array([-1.0, 0.5, 2.0])
    with tf.Session() as sess:
        gv, hv = sess.run([g, h], {x: v})
    np.testing.assert_allclose(gv, 3 * v ** 2)
    np.testing.assert_allclose(hv, 6 * v)


def test_second_derivative_of_tanh_and_sigmoid():
    x = tf.placeholder(tf.float64, [4])
    v = np.array([-2.0, -0.3, 0.4, 1.5])
    (g,) = tf.gradients(tf.tanh(x), x)
    (h,) = tf.gradients(g, x)
    (gs,) = tf.gradients(tf.sigmoid(x), x)
    (hs,) = tf.gradients(gs, x)
    with tf.Session() as sess:
        hv, hsv = sess.run([h, hs], {x: v})
    t = np.tanh(v)
    np.testing.assert_allclose(hv, -2 * t * (1 - t ** 2))
    s = 1 / (1 + np.exp(-v))
    np.testing.assert_allclose(hsv, s * (1 - s) * (1 - 2 * s))


def test_second_derivative_cross_terms():
    x = tf.placeholder(tf.float64, [])
    y = tf.placeholder(tf.float64, [])
    f = x * x * y + tf.sin(x * y)
    gx, gy = tf.gradients(f, [x, y])
    (gxy,) = tf.gradients(gx, y)
    (gyx,) = tf.gradients(gy, x)
    (gxx,) = tf.gradients(gx, x)
    xv, yv = 0.7, -1.3
    with tf.Session() as sess:
        vxy, vyx, vxx = sess.run([gxy, gyx, gxx], {x: xv, y: yv})
    expected_xy = 2 * xv + np.cos(xv * yv) - xv * yv * np.sin(xv * yv)
    np.testing.assert_allclose([vxy, vyx], [expected_xy, expected_xy])
    np.testing.assert_allclose(vxx, 2 * yv - yv ** 2 * np.sin(xv * yv))


def test_second_derivatives_numerically():
    # The gradient graphs of several ops are themselves differentiated and checked.
    fns = [lambda t: tf.reduce_sum(tf.gradients(t * t * t, t)[0] * tf.exp(t)),
           lambda t: tf.gradients(tf.reduce_sum(tf.sqrt(t) * tf.log(t)), t)[0],
           lambda t: tf.gradients(tf.reduce_sum(tf.pow(t, t)), t)[0],
           lambda t: tf.gradients(tf.reduce_sum(tf.reciprocal(t) / (t + 1.0)), t)[0],
           lambda t: tf.gradients(tf.reduce_sum(tf.maximum(t, 1.0) * t), t)[0]]
    for fn in fns:
        assert grad_error(fn, [rand((3,), 0.5, 1.5)]) < 1e-6


def test_second_derivatives_through_broadcasting_and_reductions():
    # Differentiating these gradients goes through SumToShape, BroadcastTo and Reshape.
    if any(_OP_DEFS[t].gradient is None for t in ("BroadcastTo", "Reshape")):
        pytest.skip("needs the array-op gradient rules (BroadcastTo, Reshape)")
    x, y = rand((2, 3), 0.5, 1.5), rand((3,), 0.5, 1.5, seed=1)
    cases = [
        (lambda a, b: tf.gradients(tf.reduce_sum(tf.sin(a * b)), b)[0], [x, y]),
        (lambda a, b: tf.gradients(tf.reduce_sum(tf.sin(a * b)), a)[0], [x, y]),
        (lambda a: tf.gradients(tf.reduce_mean(tf.square(a), 1), a)[0], [x]),
        (lambda a: tf.gradients(tf.reduce_prod(a, 0), a)[0], [x]),
        (lambda a: tf.gradients(tf.reduce_max(a * a, 1), a)[0], [x]),
        (lambda a, b: tf.gradients(tf.reduce_sum(tf.einsum("ij,j->i", a, b) ** 2), b)[0],
         [x, y]),
        (lambda a: tf.gradients(tf.reduce_sum(tf.matmul(a, a, transpose_b=True)), a)[0], [x]),
    ]
    for fn, vals in cases:
        assert grad_error(fn, vals) < 1e-6


def test_hessian_of_quadratic_form():
    a_val = np.array([[1.0, 2.0, 0.5], [0.0, 3.0, -1.0], [4.0, 1.0, 2.0]])
    a = tf.constant(a_val)
    x = tf.placeholder(tf.float64, [3])
    # x^T A x without array ops: (A * x) sums rows to A x.
    y = tf.reduce_sum(x * tf.reduce_sum(a * x, axis=1))
    (g,) = tf.gradients(y, x)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(g, {x: [1.0, 2.0, 3.0]}),
                                   (a_val + a_val.T) @ [1.0, 2.0, 3.0])
    if _OP_DEFS["Reshape"].gradient is None or _OP_DEFS["StridedSlice"].gradient is None:
        pytest.skip("tf.hessians needs the array-op gradient rules (Reshape, StridedSlice)")
    (h,) = tf.hessians(y, x)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(h, {x: [1.0, 2.0, 3.0]}), a_val + a_val.T)


def test_hessian_of_matmul_quadratic_form():
    if _OP_DEFS["Reshape"].gradient is None or _OP_DEFS["StridedSlice"].gradient is None:
        pytest.skip("tf.hessians needs the array-op gradient rules (Reshape, StridedSlice)")
    a_val = np.array([[2.0, -1.0], [0.5, 1.0]])
    x = tf.placeholder(tf.float64, [2, 1])
    y = tf.matmul(tf.matmul(x, tf.constant(a_val), transpose_a=True), x)
    (h,) = tf.hessians(y, x)
    with tf.Session() as sess:
        hv = sess.run(h, {x: [[1.0], [2.0]]})
    np.testing.assert_allclose(hv.reshape(2, 2), a_val + a_val.T)


# ---- naming and errors --------------------------------------------------------------------------

def test_gradient_ops_are_named_like_tf1(graph):
    a = tf.placeholder(tf.float32, [2, 3], name="a")
    b = tf.placeholder(tf.float32, [3], name="b")
    c = a + b
    ga, gb = tf.gradients(c, [a, b])
    assert c.op.name == "add"
    names = [op.name for op in graph.get_operations()]
    assert any(n.startswith("gradients/add_grad/") for n in names)
    assert gb.name.startswith("gradients/add_grad/")
    m = tf.matmul(a, tf.ones([3, 2]))
    gm = tf.gradients(m, a)[0]
    assert gm.name.startswith("gradients_1/MatMul_grad/MatMul")


def test_missing_gradient_raises_lookup_error():
    def infer(inputs, attrs):
        return [(inputs[0].dtype, inputs[0].shape)]

    if "HwTestNoGradient" not in _OP_DEFS:
        register_op("HwTestNoGradient", infer, lambda op, ctx: (lambda v: v))
    x = tf.placeholder(tf.float32, [2])
    y = _ops.apply_op("HwTestNoGradient", [x], {}, name="nograd")
    with pytest.raises(LookupError, match=r"No gradient defined for operation 'nograd' "
                                          r"\(op type: HwTestNoGradient\)"):
        tf.gradients(y * 2.0, x)


# ---- coverage ------------------------------------------------------------------------------------

def math_op_types():
    return {t for t, od in _OP_DEFS.items()
            if getattr(od.kernel, "__module__", None) == "headwater.ops.math_ops"}


def test_every_math_op_has_gradient_or_is_not_differentiable():
    missing = sorted(t for t in math_op_types()
                     if _OP_DEFS[t].gradient is None and t not in _NOT_DIFFERENTIABLE)
    assert not missing, "math op types without a gradient rule or NotDifferentiable: %s" % missing


# Op types checked by the dedicated tests above (besides the tables).
COVERED.update(["SumToShape", "FloorDiv", "AddN", "Select", "SelectV2", "Cast", "Cumsum",
                "Cumprod", "MatMul", "BatchMatMulV2", "Einsum", "UnsortedSegmentSum"])


def test_every_differentiable_math_op_is_checked_here():
    # A new differentiable op must be added to a table (or to the list above with a test).
    differentiable = {t for t in math_op_types() if _OP_DEFS[t].gradient is not None}
    unchecked = sorted(differentiable - COVERED)
    assert not unchecked, "differentiable math ops without a gradient check: %s" % unchecked


def test_random_and_state_ops_are_not_differentiable():
    for t in ("RandomStandardNormal", "TruncatedNormal", "RandomUniform", "RandomUniformInt",
              "RandomShuffle", "Multinomial", "RandomGamma", "RandomPoissonV2",
              "InitializedValue", "IsVariableInitialized", "Assign", "AssignAdd", "AssignSub",
              "ScatterUpdate", "ScatterAdd", "ScatterSub", "ScatterMul", "ScatterDiv",
              "ScatterMax", "ScatterMin", "ScatterNdUpdate", "ScatterNdAdd", "ScatterNdSub",
              "CountUpTo", "ReportUninitializedVariables", "AssertVariablesInitialized",
              "Orthogonalize"):
        assert t in _NOT_DIFFERENTIABLE, t
    for t in ("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual",
              "LogicalAnd", "LogicalOr", "LogicalNot", "IsNan", "IsInf", "IsFinite",
              "ArgMax", "ArgMin", "Where"):
        assert t in _NOT_DIFFERENTIABLE, t
    # A random draw's parameters get None rather than a LookupError.
    m = tf.placeholder(tf.float32, [])
    y = tf.random_normal([3], mean=m) * m
    (g,) = tf.gradients(y, m)
    assert g is not None


@tf.RegisterGradient("HwTestRowsOneAndThree")
def _rows_one_and_three_grad(op, grad):
    # A gather-like sparse gradient: only rows 1 and 3 of the input receive it.
    idx = tf.constant([1, 3])
    return [tf.IndexedSlices(tf.gather(grad, idx), idx, tf.shape(op.inputs[0]))]


def test_sparse_incoming_gradients_are_densified(graph):
    w = tf.placeholder(tf.float64, [4, 2])
    b = tf.placeholder(tf.float64, [2])
    with graph.gradient_override_map({"Identity": "HwTestRowsOneAndThree"}):
        y = tf.identity(tf.cast(tf.cast(w, tf.float32) * 2.0 + tf.cast(b, tf.float32),
                                tf.float64))
    gw, gb = tf.gradients(y, [w, b], grad_ys=np.ones((4, 2)))
    with tf.Session() as sess:
        vw, vb = sess.run([gw, gb], {w: np.zeros((4, 2)), b: np.zeros(2)})
    np.testing.assert_array_equal(vw, [[0, 0], [2, 2], [0, 0], [2, 2]])
    np.testing.assert_array_equal(vb, [2, 2])
