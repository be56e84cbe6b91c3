"""Math ops against numpy references: values, dtypes, static shapes, names and errors."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import headwater as tf
from headwater.framework import errors


@pytest.fixture
def graph():
    g = tf.Graph()
    with g.as_default():
        yield g


def run(fetches, feed_dict=None):
    t = fetches[0] if isinstance(fetches, (list, tuple)) else fetches
    with tf.Session(graph=t.graph) as sess:
        return sess.run(fetches, feed_dict)


def check(t, expected, rtol=1e-6, atol=0.0, feed_dict=None):
    """Run `t` and compare value, runtime dtype (== static dtype) and shape with `expected`."""
    v = run(t, feed_dict)
    expected = np.asarray(expected)
    v_arr = np.asarray(v)
    assert v_arr.dtype == np.dtype(t.dtype.as_numpy_dtype), (v_arr.dtype, t.dtype)
    assert v_arr.dtype == expected.dtype, (v_arr.dtype, expected.dtype)
    assert v_arr.shape == expected.shape
    assert t.shape.is_compatible_with(v_arr.shape)
    if expected.dtype.kind in "fc":
        np.testing.assert_allclose(v_arr, expected, rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(v_arr, expected)
    return v


RNG = np.random.default_rng(0)


def sample(dtype, shape, positive=False, nonzero=False):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        v = RNG.uniform(-3, 3, size=shape)
        if positive:
            v = np.abs(v) + 0.1
        if nonzero:
            v = np.where(np.abs(v) < 0.1, 0.5, v)
        return v.astype(dtype)
    if dtype.kind == "b":
        return RNG.random(shape) > 0.5
    v = RNG.integers(-9, 10, size=shape)
    if positive:
        v = np.abs(v) + 1
    if nonzero:
        v = np.where(v == 0, 3, v)
    return v.astype(dtype)


# ---- binary ops -----------------------------------------------------------------------------

BINARY = [
    # name, tf function, numpy reference, dtypes, operand constraints for y
    ("add", tf.add, np.add, ["float32", "float64", "int32"], {}),
    ("subtract", tf.subtract, np.subtract, ["float32", "float64", "int32"], {}),
    ("multiply", tf.multiply, np.multiply, ["float32", "float64", "int32"], {}),
    ("maximum", tf.maximum, np.maximum, ["float32", "float64", "int32"], {}),
    ("minimum", tf.minimum, np.minimum, ["float32", "float64", "int32"], {}),
    ("squared_difference", tf.squared_difference, lambda x, y: (x - y) ** 2,
     ["float32", "float64", "int32"], {}),
    ("realdiv", tf.realdiv, np.true_divide, ["float32", "float64"], {"nonzero": True}),
    ("floordiv", tf.floordiv, np.floor_divide, ["float32", "float64", "int32"],
     {"nonzero": True}),
    ("floor_div", tf.floor_div, np.floor_divide, ["float32", "int32"], {"nonzero": True}),
    ("floormod", tf.floormod, np.mod, ["float32", "float64", "int32"], {"nonzero": True}),
    ("mod", tf.mod, np.mod, ["int32"], {"nonzero": True}),
    ("truncatediv", tf.truncatediv, lambda x, y: (np.trunc(x / y)).astype(x.dtype), ["int32"],
     {"nonzero": True}),
    ("truncatemod", tf.truncatemod, np.fmod, ["int32", "float32"], {"nonzero": True}),
    ("pow", tf.pow, np.power, ["float32", "float64"], {}),
    ("pow_int", tf.pow, np.power, ["int32"], {"positive": True}),
    ("div_no_nan", tf.div_no_nan, lambda x, y: np.where(y == 0, 0, x / np.where(y == 0, 1, y))
     .astype(x.dtype), ["float32", "float64"], {}),
]


@pytest.mark.parametrize("name,fn,ref,dtypes,ycons", BINARY, ids=[b[0] for b in BINARY])
def test_binary_matches_numpy(graph, name, fn, ref, dtypes, ycons):
    for dtype in dtypes:
        x = sample(dtype, (3, 4), positive=name == "pow")
        y = sample(dtype, (4,), **ycons)
        if name.startswith("pow"):
            y = np.abs(y) % 4 if dtype == "int32" else y
        t = fn(tf.constant(x), tf.constant(y))
        assert t.shape.as_list() == [3, 4]
        assert t.dtype == tf.as_dtype(dtype)
        check(t, ref(x, y), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "int8", "uint8",
                                   "float16"])
def test_add_mul_keep_dtype(graph, dtype):
    x, y = sample(dtype, (5,)), sample(dtype, (5,))
    if dtype == "uint8":
        x, y = np.abs(x).astype(dtype), np.abs(y).astype(dtype)
    check(tf.add(tf.constant(x), tf.constant(y)), np.add(x, y), rtol=1e-3)
    check(tf.multiply(tf.constant(x), tf.constant(y)), np.multiply(x, y), rtol=1e-3)
    check(tf.reduce_sum(tf.constant(x)), np.sum(x, dtype=dtype), rtol=1e-2)


def test_large_binary_ops_match_numpy(graph):
    # Above the native-kernel threshold (uses headwater._C when it is built).
    for dtype in ("float32", "float64"):
        x = sample(dtype, (70, 70))
        y = sample(dtype, (70,), nonzero=True)
        tx, ty = tf.constant(x), tf.constant(y)
        check(tx + ty, x + y)
        check(tx - ty, x - y)
        check(tx * ty, x * y)
        check(tx / ty, x / y, rtol=1e-6)
        p = tf.placeholder(dtype, [None, 70])
        check(p * ty, x * y, feed_dict={p: x})


def test_truediv_casts_integers_like_tf1(graph):
    a = tf.constant([7, -7], dtype=tf.int32)
    b = tf.constant([2, 2], dtype=tf.int32)
    t = a / b
    assert t.dtype == tf.float64
    assert t.op.type == "RealDiv" and t.op.name == "truediv"
    assert [i.op.name for i in t.op.inputs] == ["truediv/Cast", "truediv/Cast_1"]
    check(t, np.array([3.5, -3.5]))
    small = tf.constant([3], dtype=tf.int16) / tf.constant([2], dtype=tf.int16)
    assert small.dtype == tf.float32
    check(small, np.array([1.5], np.float32))
    check(tf.divide(a, b), np.array([3.5, -3.5]))
    assert tf.divide(a, b).op.name.startswith("truediv")
    f = tf.constant([1.0, 2.0]) / 4
    assert f.dtype == tf.float32
    check(f, np.array([0.25, 0.5], np.float32))


def test_div_python2_semantics(graph):
    a = tf.constant([7, -7])
    b = tf.constant([2, 2])
    t = tf.div(a, b)
    assert t.op.type == "FloorDiv" and t.op.name == "div"
    check(t, np.array([3, -4], np.int32))
    f = tf.div(tf.constant([7.0, -7.0]), 2.0)
    assert f.op.type == "RealDiv"
    check(f, np.array([3.5, -3.5], np.float32))
    with pytest.raises(TypeError, match="x and y must have the same dtype"):
        tf.div(tf.constant([1.0]), tf.constant([1.0], tf.float64))


@pytest.mark.parametrize("make", [
    lambda a, b: a // b, lambda a, b: a % b, lambda a, b: tf.div(a, b),
    lambda a, b: tf.floor_div(a, b), lambda a, b: tf.floormod(a, b),
    lambda a, b: tf.truncatediv(a, b), lambda a, b: tf.realdiv(a, b)])
def test_integer_division_by_zero_raises(graph, make):
    a = tf.constant([4, 5, 6])
    b = tf.constant([1, 0, 2])
    t = make(a, b)
    with pytest.raises(errors.InvalidArgumentError, match="Integer division by zero"):
        run(t)


def test_float_division_by_zero_is_inf(graph):
    with np.errstate(divide="ignore"):
        v = run(tf.constant([1.0, -1.0]) / tf.constant([0.0, 0.0]))
    assert np.isinf(v).all() and v.dtype == np.float32


def test_pow_integer_negative_exponent_fails(graph):
    t = tf.pow(tf.constant([2]), tf.constant([-1]))
    with pytest.raises(errors.InvalidArgumentError, match="negative integer powers"):
        run(t)


# ---- dtype and shape errors -------------------------------------------------------------------


def test_mixed_dtypes_raise_type_error(graph):
    a = tf.constant([1.0, 2.0])
    b = tf.constant([1, 2])
    for make in (lambda: a + b, lambda: tf.add(a, b), lambda: tf.multiply(a, b),
                 lambda: tf.maximum(a, b), lambda: a < b, lambda: tf.equal(a, b),
                 lambda: tf.matmul([[1.0]], tf.constant([[1]]))):
        with pytest.raises(TypeError):
            make()
    with pytest.raises(TypeError, match="Input 'y' of 'AddV2' Op has type int32 that does not "
                                        "match type float32 of argument 'x'"):
        tf.add(a, b)


def test_python_scalar_adopts_tensor_dtype(graph):
    x = tf.constant([1.5, 2.5])
    for t in (x * 2, 2 * x, x + 1, 1 - x, x / 2, 2 / x, x ** 2, 2 ** x):
        assert t.dtype == tf.float32
    check(x * 2, np.array([3.0, 5.0], np.float32))
    check(1 - x, np.array([-0.5, -1.5], np.float32))
    check(2 ** x, np.power(np.float32(2), np.array([1.5, 2.5], np.float32)))
    i = tf.constant([1, 2])
    with pytest.raises(TypeError, match="Expected int32, got 2.5 of type 'float' instead."):
        i * 2.5
    with pytest.raises(TypeError, match="Expected int32, got 2.5 of type 'float' instead."):
        2.5 * i
    with tf.Graph().as_default():
        x = tf.constant([1.5, 2.5])
        assert (x * 2).op.inputs[1].op.name == "mul/y"
        assert (2 * x).op.inputs[0].op.name == "mul_1/x"


def test_numpy_operand_is_converted_to_tensor_dtype(graph):
    # TF1 converts numpy operands of an operator with the tensor's dtype (make_tensor_proto
    # casts ndarrays), so float64 arrays combine with float32 tensors into float32.
    x = tf.constant([1.0, 2.0])
    t = x + np.array([0.5, 0.25])
    assert t.dtype == tf.float32
    check(t, np.array([1.5, 2.25], np.float32))
    r = np.array([0.5, 0.25]) + x
    assert isinstance(r, tf.Tensor) and r.dtype == tf.float32


def test_disallowed_dtypes(graph):
    b = tf.constant([True, False])
    with pytest.raises(TypeError, match="DataType bool not in list of allowed values"):
        tf.add(b, b)
    with pytest.raises(TypeError, match="DataType int32 not in list of allowed values"):
        tf.sqrt(tf.constant([4]))
    with pytest.raises(TypeError, match="expected type of bool"):
        tf.logical_and(tf.constant([1]), tf.constant([0]))
    with pytest.raises(TypeError):
        tf.logical_not(tf.constant([1.0]))
    with pytest.raises(TypeError):
        tf.constant([1]) & tf.constant([0])
    with pytest.raises(TypeError):
        tf.reduce_any(tf.constant([1, 0]))


def test_incompatible_shapes_raise_at_build(graph):
    a = tf.constant(np.zeros((2, 3), np.float32))
    b = tf.constant(np.zeros((4,), np.float32))
    with pytest.raises(ValueError) as e:
        a + b
    assert str(e.value) == ("Dimensions must be equal, but are 3 and 4 for 'add' (op: 'AddV2') "
                            "with input shapes: [2,3], [4].")
    with pytest.raises(ValueError, match="for 'Mul' \\(op: 'Mul'\\)"):
        tf.multiply(a, b)
    with pytest.raises(ValueError, match="for 'my_sub' \\(op: 'Sub'\\)"):
        tf.subtract(a, b, name="my_sub")
    p = tf.placeholder(tf.float32, [None, 3])
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 4"):
        p * b


# ---- broadcasting property test ---------------------------------------------------------------


@st.composite
def broadcast_case(draw):
    rank = draw(st.integers(0, 4))
    base = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))

    def operand():
        r = draw(st.integers(0, rank))
        dims = base[rank - r:]
        shape = [1 if draw(st.booleans()) else d for d in dims]
        static = [None if draw(st.integers(0, 3)) == 0 else d for d in shape]
        return shape, static
    return operand(), operand(), draw(st.sampled_from(["float32", "float64", "int32"])), \
        draw(st.sampled_from(["add", "sub", "mul", "maximum", "greater"]))


def _static_broadcast(a, b):
    """Expected static broadcast of two partially known shapes (TF's rules)."""
    n = max(len(a), len(b))
    a = [1] * (n - len(a)) + list(a)
    b = [1] * (n - len(b)) + list(b)
    out = []
    for x, y in zip(a, b):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None:
            out.append(y)
        else:
            out.append(x)
    return out


@settings(max_examples=50, deadline=None)
@given(broadcast_case())
def test_broadcasting_matches_numpy(case):
    (sa, pa), (sb, pb), dtype, opname = case
    fns = {"add": (tf.add, np.add), "sub": (tf.subtract, np.subtract),
           "mul": (tf.multiply, np.multiply), "maximum": (tf.maximum, np.maximum),
           "greater": (tf.greater, np.greater)}
    fn, ref = fns[opname]
    x, y = sample(dtype, sa), sample(dtype, sb)
    with tf.Graph().as_default():
        px = tf.placeholder(dtype, pa)
        py = tf.placeholder(dtype, pb)
        t = fn(px, py)
        expected = ref(x, y)
        assert t.shape.as_list() == _static_broadcast(pa, pb)
        assert t.shape.is_compatible_with(np.broadcast_shapes(tuple(sa), tuple(sb)))
        if None not in pa and None not in pb:
            assert tuple(t.shape.as_list()) == np.broadcast_shapes(tuple(sa), tuple(sb))
        v = np.asarray(run(t, {px: x, py: y}))
        assert v.dtype == expected.dtype
        assert v.shape == expected.shape
        np.testing.assert_array_equal(v, expected)


def test_unknown_rank_broadcast(graph):
    p = tf.placeholder(tf.float32)
    q = tf.placeholder(tf.float32, [2, 3])
    t = p + q
    assert t.shape.ndims is None
    check(t, np.full((2, 3), 3.0, np.float32),
          feed_dict={p: np.float32(1.0), q: np.full((2, 3), 2.0, np.float32)})


# ---- unary ops ----------------------------------------------------------------------------------

UNARY = [
    ("negative", tf.negative, np.negative, ["float32", "float64", "int32"], {}),
    ("abs", tf.abs, np.abs, ["float32", "float64", "int32"], {}),
    ("sign", tf.sign, np.sign, ["float32", "float64", "int32"], {}),
    ("square", tf.square, np.square, ["float32", "float64", "int32"], {}),
    ("sqrt", tf.sqrt, np.sqrt, ["float32", "float64"], {"positive": True}),
    ("rsqrt", tf.rsqrt, lambda x: 1 / np.sqrt(x), ["float32", "float64"], {"positive": True}),
    ("exp", tf.exp, np.exp, ["float32", "float64"], {}),
    ("expm1", tf.expm1, np.expm1, ["float32", "float64"], {}),
    ("log", tf.log, np.log, ["float32", "float64"], {"positive": True}),
    ("log1p", tf.log1p, np.log1p, ["float32", "float64"], {"positive": True}),
    ("sin", tf.sin, np.sin, ["float32", "float64"], {}),
    ("cos", tf.cos, np.cos, ["float32", "float64"], {}),
    ("tan", tf.tan, np.tan, ["float32", "float64"], {}),
    ("tanh", tf.tanh, np.tanh, ["float32", "float64"], {}),
    ("sigmoid", tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)), ["float32", "float64"], {}),
    ("reciprocal", tf.reciprocal, np.reciprocal, ["float32", "float64"], {"nonzero": True}),
    ("floor", tf.floor, np.floor, ["float32", "float64"], {}),
    ("ceil", tf.ceil, np.ceil, ["float32", "float64"], {}),
    ("round", tf.round, np.round, ["float32", "float64"], {}),
    ("erf", tf.erf, lambda x: np.vectorize(__import__("math").erf)(x).astype(x.dtype),
     ["float32", "float64"], {}),
]

_UNARY_TYPES = {"negative": "Neg", "abs": "Abs", "sign": "Sign", "square": "Square",
                "sqrt": "Sqrt", "rsqrt": "Rsqrt", "exp": "Exp", "expm1": "Expm1", "log": "Log",
                "log1p": "Log1p", "sin": "Sin", "cos": "Cos", "tan": "Tan", "tanh": "Tanh",
                "sigmoid": "Sigmoid", "reciprocal": "Reciprocal", "floor": "Floor",
                "ceil": "Ceil", "round": "Round", "erf": "Erf"}


@pytest.mark.parametrize("name,fn,ref,dtypes,cons", UNARY, ids=[u[0] for u in UNARY])
def test_unary_matches_numpy(graph, name, fn, ref, dtypes, cons):
    for dtype in dtypes:
        x = sample(dtype, (2, 5), **cons)
        t = fn(tf.constant(x))
        assert t.op.type == _UNARY_TYPES[name]
        assert t.op.name == _UNARY_TYPES[name] if dtype == dtypes[0] else True
        assert t.shape.as_list() == [2, 5]
        check(t, ref(x).astype(dtype), rtol=2e-6 if dtype == "float32" else 1e-12,
              atol=1e-7)


def test_unary_on_scalars_and_partial_shapes(graph):
    p = tf.placeholder(tf.float32, [None, 2])
    t = tf.exp(p)
    assert t.shape.as_list() == [None, 2]
    check(t, np.exp(np.ones((3, 2), np.float32)), feed_dict={p: np.ones((3, 2), np.float32)})
    s = tf.sqrt(tf.constant(4.0))
    assert s.shape.as_list() == []
    check(s, np.float32(2.0))


def test_round_is_bankers(graph):
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6], np.float32)
    check(tf.round(tf.constant(x)), np.array([0, 2, 2, -0, -2, 2, 3], np.float32))
    i = tf.constant([1, 2])
    assert tf.round(i) is i


def test_sigmoid_is_stable(graph):
    x = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 1000.0], np.float32)
    v = run(tf.sigmoid(tf.constant(x)))
    assert v.dtype == np.float32 and np.all(np.isfinite(v))
    np.testing.assert_allclose(v[2], 2.0611537e-09, rtol=1e-5)
    np.testing.assert_allclose(v[[0, 3, 5]], [0.0, 0.5, 1.0])


def test_nan_inf_predicates(graph):
    x = tf.constant([1.0, np.nan, np.inf, -np.inf])
    for fn, ref in ((tf.is_nan, np.isnan), (tf.is_inf, np.isinf),
                    (tf.is_finite, np.isfinite)):
        t = fn(x)
        assert t.dtype == tf.bool
        check(t, ref(np.array([1.0, np.nan, np.inf, -np.inf], np.float32)))


def test_operators_unary(graph):
    x = tf.constant([1.0, -2.0])
    n = -x
    assert n.op.type == "Neg" and n.op.name == "Neg"
    a = abs(x)
    assert a.op.type == "Abs" and a.op.name == "Abs"
    check(n, np.array([-1.0, 2.0], np.float32))
    check(a, np.array([1.0, 2.0], np.float32))
    b = tf.constant([True, False])
    inv = ~b
    assert inv.op.type == "LogicalNot"
    check(inv, np.array([False, True]))


# ---- comparisons and logic ----------------------------------------------------------------------


def test_comparisons(graph):
    x = sample("float32", (3, 4))
    y = sample("float32", (4,))
    tx, ty = tf.constant(x), tf.constant(y)
    cases = [(tf.equal, np.equal), (tf.not_equal, np.not_equal), (tf.less, np.less),
             (tf.less_equal, np.less_equal), (tf.greater, np.greater),
             (tf.greater_equal, np.greater_equal)]
    for fn, ref in cases:
        t = fn(tx, ty)
        assert t.dtype == tf.bool and t.shape.as_list() == [3, 4]
        check(t, ref(x, y))
    for t, ref, typ in ((tx < ty, x < y, "Less"), (tx <= ty, x <= y, "LessEqual"),
                        (tx > ty, x > y, "Greater"), (tx >= ty, x >= y, "GreaterEqual"),
                        (0.5 < tx, x > 0.5, "Greater")):
        assert t.op.type == typ
        check(t, ref)


def test_eq_is_identity_based(graph):
    a = tf.constant(1.0)
    b = tf.constant(1.0)
    assert (a == b) is False and a == a and a != b
    assert len({a, b}) == 2


def test_logical_ops(graph):
    x = np.array([True, True, False, False])
    y = np.array([True, False, True, False])
    tx, ty = tf.constant(x), tf.constant(y)
    check(tf.logical_and(tx, ty), x & y)
    check(tf.logical_or(tx, ty), x | y)
    check(tf.logical_xor(tx, ty), x ^ y)
    check(tf.logical_not(tx), ~x)
    for t, ref, scope in ((tx & ty, x & y, "and"), (tx | ty, x | y, "or"),
                          (tx ^ ty, x ^ y, "xor")):
        assert t.op.name == scope
        check(t, ref)
    check(True & tx, x)


# ---- op names ---------------------------------------------------------------------------------


def test_default_op_names(graph):
    a = tf.constant(1.0)
    b = tf.constant(2.0)
    t1 = a + b
    assert t1.op.name == "add" and t1.op.type == "AddV2"
    t2 = a + b
    assert t2.op.name == "add_1"
    with tf.Graph().as_default():
        c = tf.constant(1.0)
        assert tf.add(c, c).op.name == "Add"
        assert tf.add(c, c).op.name == "Add_1"
        assert tf.add(c, c, name="foo").op.name == "foo"
    # Names are unique case-insensitively (as in TF1), so each case gets a fresh graph.
    cases = [(lambda a, b: a - b, "sub", "Sub"), (lambda a, b: a * b, "mul", "Mul"),
             (lambda a, b: a / b, "truediv", "RealDiv"),
             (lambda a, b: a // b, "floordiv", "FloorDiv"), (lambda a, b: a % b, "mod",
                                                             "FloorMod"),
             (lambda a, b: a ** b, "pow", "Pow"), (lambda a, b: a @ b, "matmul", "MatMul"),
             (tf.subtract, "Sub", "Sub"), (tf.multiply, "Mul", "Mul"), (tf.pow, "Pow", "Pow"),
             (tf.maximum, "Maximum", "Maximum"), (tf.minimum, "Minimum", "Minimum"),
             (tf.floordiv, "floordiv", "FloorDiv"), (tf.floor_div, "FloorDiv", "FloorDiv"),
             (tf.floormod, "FloorMod", "FloorMod"), (tf.realdiv, "RealDiv", "RealDiv"),
             (tf.truediv, "truediv", "RealDiv"), (tf.divide, "truediv", "RealDiv"),
             (tf.squared_difference, "SquaredDifference", "SquaredDifference"),
             (tf.equal, "Equal", "Equal"), (tf.less, "Less", "Less"),
             (lambda a, b: a < b, "Less", "Less"), (tf.matmul, "MatMul", "MatMul"),
             (lambda a, b: tf.reduce_sum(a), "Sum", "Sum"),
             (lambda a, b: tf.reduce_mean(a), "Mean", "Mean"),
             (lambda a, b: tf.reduce_max(a), "Max", "Max"),
             (lambda a, b: tf.reduce_min(a), "Min", "Min"),
             (lambda a, b: tf.reduce_prod(a), "Prod", "Prod"),
             (lambda a, b: tf.argmax(a), "ArgMax", "ArgMax"),
             (lambda a, b: tf.cast(a, tf.int32), "Cast", "Cast"),
             (lambda a, b: tf.to_int32(a), "ToInt32", "Cast"),
             (lambda a, b: tf.to_double(a), "ToDouble", "Cast"),
             (lambda a, b: tf.add_n([a, b]), "AddN", "AddN"),
             (lambda a, b: tf.sigmoid(a), "Sigmoid", "Sigmoid"),
             (lambda a, b: -a, "Neg", "Neg"), (lambda a, b: tf.abs(a), "Abs", "Abs"),
             (lambda a, b: tf.where(a > b, a, b), "Select", "Select"),
             (lambda a, b: tf.where_v2(a > b, a, b), "SelectV2", "SelectV2"),
             (lambda a, b: tf.einsum("ij,jk->ik", a, b), "einsum", "Einsum"),
             (lambda a, b: tf.tensordot(a, b, 1), "Tensordot", "Einsum"),
             (lambda a, b: tf.clip_by_value(a, 0.0, 1.0), "clip_by_value", "Maximum"),
             (lambda a, b: tf.reduce_logsumexp(a), "ReduceLogSumExp", "AddV2")]
    for make, name, typ in cases:
        with tf.Graph().as_default():
            a = tf.constant([[1.0]])
            b = tf.constant([[2.0]])
            t = make(a, b)
            assert (t.op.name, t.op.type) == (name, typ)
    with tf.Graph().as_default():
        c = tf.constant(1.0)
        assert tf.add(c, c).op.name == "Add"
        assert (c + c).op.name == "add_1"  # "add" is taken case-insensitively, as in TF1


def test_name_scopes_prefix_ops(graph):
    a = tf.constant([1.0])
    with tf.name_scope("layer"):
        t = a * 2 + 1
        m = tf.matmul([[1.0]], [[2.0]])
    assert t.op.name == "layer/add"
    assert t.op.inputs[0].op.name == "layer/mul"
    assert m.op.name == "layer/MatMul"


# ---- add_n ------------------------------------------------------------------------------------


def test_add_n(graph):
    xs = [sample("float32", (2, 3)) for _ in range(4)]
    t = tf.add_n([tf.constant(x) for x in xs])
    assert t.op.type == "AddN" and t.shape.as_list() == [2, 3]
    check(t, xs[0] + xs[1] + xs[2] + xs[3], rtol=1e-6)
    s = tf.add_n([tf.constant(1), tf.constant(2), tf.constant(3)])
    check(s, np.int32(6))
    one = tf.constant([1.0])
    assert tf.add_n([one]) is one
    check(tf.accumulate_n([one, one]), np.array([2.0], np.float32))
    p = tf.placeholder(tf.float32, [None, 3])
    q = tf.placeholder(tf.float32, [2, None])
    assert tf.add_n([p, q]).shape.as_list() == [2, 3]


def test_add_n_errors(graph):
    with pytest.raises(ValueError, match="at least one"):
        tf.add_n([])
    with pytest.raises(ValueError, match="Shapes must be equal"):
        tf.add_n([tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0, 3.0])])
    with pytest.raises(TypeError):
        tf.add_n([tf.constant([1.0]), tf.constant([1])])
    p = tf.placeholder(tf.float32, [None])
    t = tf.add_n([p, tf.constant([1.0, 2.0])])
    with pytest.raises(errors.InvalidArgumentError, match="same size and shape"):
        run(t, {p: np.ones(1, np.float32)})


# ---- where ------------------------------------------------------------------------------------


def test_where_v1_same_shape_and_vector_condition(graph):
    x = sample("float32", (3, 2))
    y = sample("float32", (3, 2))
    c = np.array([[True, False], [False, False], [True, True]])
    t = tf.where(tf.constant(c), tf.constant(x), tf.constant(y))
    assert t.op.type == "Select" and t.shape.as_list() == [3, 2]
    check(t, np.where(c, x, y))
    rows = np.array([True, False, True])
    t2 = tf.where(tf.constant(rows), tf.constant(x), tf.constant(y))
    assert t2.shape.as_list() == [3, 2]
    check(t2, np.where(rows[:, None], x, y))
    with pytest.raises(ValueError):
        tf.where(tf.constant([True, False]), tf.constant(x), tf.constant(y))
    with pytest.raises(ValueError):
        tf.where(tf.constant(c), tf.constant(x), tf.constant(np.zeros((2,), np.float32)))
    with pytest.raises(TypeError):
        tf.where(tf.constant(c), tf.constant(x), tf.constant(y.astype(np.float64)))
    with pytest.raises(TypeError):
        tf.where(tf.constant(x), tf.constant(x), tf.constant(y))


def test_where_v1_runtime_shape_mismatch(graph):
    p = tf.placeholder(tf.float32, [None])
    q = tf.placeholder(tf.float32, [None])
    t = tf.where(tf.constant([True, False]), p, q)
    with pytest.raises(errors.InvalidArgumentError):
        run(t, {p: np.ones(2, np.float32), q: np.ones(3, np.float32)})


def test_where_coordinates(graph):
    c = np.array([[True, False, True], [False, True, False]])
    t = tf.where(tf.constant(c))
    assert t.op.type == "Where" and t.dtype == tf.int64 and t.shape.as_list() == [None, 2]
    check(t, np.argwhere(c).astype(np.int64))
    p = tf.placeholder(tf.bool)
    assert tf.where(p).shape.as_list() == [None, None]
    assert tf.where_v2(tf.constant(c)).op.type == "Where"


def test_where_v2_broadcasts(graph):
    c = np.array([True, False, True])
    x = sample("float32", (2, 1))
    y = np.float32(7.0)
    t = tf.where_v2(tf.constant(c), tf.constant(x), y)
    assert t.shape.as_list() == [2, 3]
    check(t, np.where(c, x, y))
    p = tf.placeholder(tf.bool, [None, 1])
    assert tf.where_v2(p, tf.constant(x), y).shape.as_list() == [2, 1]
    with pytest.raises(ValueError):
        tf.where_v2(tf.constant([True, False]), tf.constant([1.0, 2.0, 3.0]), 1.0)


# ---- cast -------------------------------------------------------------------------------------


def test_cast_truncates_toward_zero(graph):
    x = tf.constant([1.8, -1.8, 2.5, -0.5, 0.0])
    t = tf.cast(x, tf.int32)
    assert t.dtype == tf.int32 and t.op.type == "Cast"
    assert t.op.get_attr("SrcT") == tf.float32 and t.op.get_attr("DstT") == tf.int32
    check(t, np.array([1, -1, 2, 0, 0], np.int32))
    check(tf.cast(x, tf.bool), np.array([True, True, True, True, False]))
    check(tf.cast(tf.constant([True, False]), tf.float32), np.array([1.0, 0.0], np.float32))
    check(tf.cast(tf.constant([3, -2]), tf.float64), np.array([3.0, -2.0]))
    check(tf.to_float(tf.constant([1, 2])), np.array([1.0, 2.0], np.float32))
    check(tf.to_int64(x), np.array([1, -1, 2, 0, 0], np.int64))
    check(tf.cast([1.8, -2.2], tf.int64), np.array([1, -2], np.int64))
    assert tf.cast(x, tf.float32) is x
    with pytest.raises(TypeError):
        tf.cast(x, tf.string)


def test_saturate_cast(graph):
    x = tf.constant([-300.0, 12.7, 300.0])
    check(tf.saturate_cast(x, tf.uint8), np.array([0, 12, 255], np.uint8))
    check(tf.saturate_cast(tf.constant([70000, -5]), tf.int16),
          np.array([32767, -5], np.int16))


# ---- clipping ---------------------------------------------------------------------------------


def test_clip_by_value(graph):
    x = sample("float32", (3, 4))
    t = tf.clip_by_value(tf.constant(x), -1.0, 0.5)
    assert t.op.name == "clip_by_value" and t.shape.as_list() == [3, 4]
    check(t, np.clip(x, -1.0, 0.5))
    lo = sample("float32", (4,))
    # minimum then maximum: where min > max the lower bound wins, as in TF1.
    check(tf.clip_by_value(tf.constant(x), lo, 2.0), np.maximum(np.minimum(x, 2.0), lo))
    with pytest.raises(ValueError, match="broadcast"):
        tf.clip_by_value(tf.constant([1.0, 2.0]), tf.constant([[0.0], [1.0]]), 3.0)


def test_clip_by_norm(graph):
    x = np.array([[3.0, 4.0], [0.3, 0.4]], np.float32)
    check(tf.clip_by_norm(tf.constant(x), 1.0), x * (1.0 / np.linalg.norm(x)), rtol=1e-6)
    check(tf.clip_by_norm(tf.constant(x), 1.0, axes=[1]),
          np.array([[0.6, 0.8], [0.3, 0.4]], np.float32), rtol=1e-6)
    check(tf.clip_by_norm(tf.zeros([2]) if hasattr(tf, "zeros") else tf.constant([0.0, 0.0]),
                          1.0), np.zeros(2, np.float32))


# ---- reductions -------------------------------------------------------------------------------

REDUCTIONS = [
    (tf.reduce_sum, np.sum, ["float32", "float64", "int32"]),
    (tf.reduce_mean, np.mean, ["float32", "float64"]),
    (tf.reduce_max, np.max, ["float32", "float64", "int32"]),
    (tf.reduce_min, np.min, ["float32", "float64", "int32"]),
    (tf.reduce_prod, np.prod, ["float32", "float64", "int32"]),
    (tf.reduce_any, np.any, ["bool"]),
    (tf.reduce_all, np.all, ["bool"]),
    (tf.reduce_logsumexp, lambda x, axis, keepdims:
     np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)), ["float32", "float64"]),
]


def _axis_combinations(rank):
    combos = [None]
    for k in range(rank + 1):
        for c in itertools.combinations(range(rank), k):
            combos.append(list(c))
            combos.append([a - rank for a in c])  # the same axes, negative
    combos += [0, -1, 1]
    return combos


@pytest.mark.parametrize("fn,ref,dtypes", REDUCTIONS, ids=[r[0].__name__ for r in REDUCTIONS])
def test_reductions_over_every_axis_combination(graph, fn, ref, dtypes):
    shape = (2, 3, 4)
    fetches, expected = [], []
    for dtype in dtypes:
        x = sample(dtype, shape)
        if fn is tf.reduce_prod and dtype == "int32":
            x = (np.abs(x) % 3 + 1).astype(dtype)
        tx = tf.constant(x)
        for axis in _axis_combinations(3):
            for keepdims in (False, True):
                t = fn(tx, axis=axis, keepdims=keepdims)
                e = np.asarray(ref(x, axis=None if axis is None else tuple(np.atleast_1d(axis)),
                                   keepdims=keepdims)).astype(dtype)
                assert t.dtype == tf.as_dtype(dtype)
                assert tuple(t.shape.as_list()) == e.shape, (axis, keepdims)
                fetches.append(t)
                expected.append(e)
    values = run(fetches)
    for t, v, e in zip(fetches, values, expected):
        v = np.asarray(v)
        assert v.dtype == e.dtype and v.shape == e.shape, t.name
        if e.dtype.kind == "f":
            # atol: results that cancel to near zero (a sum, a logsumexp) carry the float32
            # rounding of their inputs' size, not of their own.
            np.testing.assert_allclose(v, e, rtol=1e-5, atol=2e-6 if e.dtype == np.float32
                                       else 1e-12, err_msg=t.name)
        else:
            np.testing.assert_array_equal(v, e, err_msg=t.name)


def test_reduction_aliases_and_conflicts(graph):
    x = sample("float32", (2, 3))
    tx = tf.constant(x)
    # float64 references: a float32 sum that nearly cancels carries its inputs' rounding
    # (the native sums accumulate in float64).
    x64 = x.astype(np.float64)
    check(tf.reduce_sum(tx, reduction_indices=[1]), x64.sum(axis=1).astype(np.float32),
          rtol=1e-6)
    check(tf.reduce_sum(tx, 1, keep_dims=True),
          x64.sum(axis=1, keepdims=True).astype(np.float32), rtol=1e-6)
    check(tf.reduce_mean(tx, reduction_indices=0, keep_dims=True),
          x64.mean(0, keepdims=True).astype(np.float32), rtol=1e-6)
    with pytest.raises(ValueError, match="Cannot specify both 'axis' and 'reduction_indices'"):
        tf.reduce_sum(tx, axis=0, reduction_indices=0)
    with pytest.raises(ValueError, match="Cannot specify both 'keepdims' and 'keep_dims'"):
        tf.reduce_sum(tx, keepdims=True, keep_dims=True)
    with pytest.raises(ValueError, match="Invalid reduction dimension 2 for input with 2 "
                                         "dimensions. for 'total' \\(op: 'Sum'\\)"):
        tf.reduce_sum(tx, 2, name="total")
    with pytest.raises(ValueError, match="Invalid reduction dimension -3"):
        tf.reduce_max(tx, [0, -3])
    # Duplicate axes are allowed, as in TF.
    check(tf.reduce_sum(tx, [1, -1]), x64.sum(axis=1).astype(np.float32), rtol=1e-6)


def test_reduction_dtypes_follow_tf(graph):
    i = tf.constant(np.array([[1, 2], [3, 4]], np.int32))
    check(tf.reduce_sum(i), np.int32(10))
    check(tf.reduce_prod(i), np.int32(24))
    # Integer mean is integer division (toward zero), as TF's kernel computes it.
    check(tf.reduce_mean(i), np.int32(2))
    check(tf.reduce_mean(tf.constant([-1, -2])), np.int32(-1))
    check(tf.reduce_mean(i, 1), np.array([1, 3], np.int32))
    h = tf.constant(np.array([1.0, 2.0], np.float16))
    check(tf.reduce_sum(h), np.float16(3.0))
    b = tf.constant(np.array([1, 2, 3], np.int8))
    check(tf.reduce_sum(b), np.int8(6))
    check(tf.reduce_max(b), np.int8(3))


def test_reductions_of_empty_tensors(graph):
    e = tf.placeholder(tf.float32, [None])
    empty = np.zeros((0,), np.float32)
    v = run([tf.reduce_sum(e), tf.reduce_prod(e), tf.reduce_max(e), tf.reduce_min(e)],
            {e: empty})
    assert v == [0.0, 1.0, -np.inf, np.inf]
    ei = tf.placeholder(tf.int32, [None])
    vi = run([tf.reduce_max(ei), tf.reduce_min(ei), tf.reduce_sum(ei)],
             {ei: np.zeros((0,), np.int32)})
    assert vi == [np.iinfo(np.int32).min, np.iinfo(np.int32).max, 0]
    eb = tf.placeholder(tf.bool, [None])
    assert run([tf.reduce_any(eb), tf.reduce_all(eb)], {eb: np.zeros(0, bool)}) == [False, True]


def test_reduction_with_tensor_axis_and_partial_shapes(graph):
    x = sample("float32", (2, 3, 4))
    p = tf.placeholder(tf.float32, [None, 3, 4])
    assert tf.reduce_sum(p, 1).shape.as_list() == [None, 4]
    assert tf.reduce_sum(p, 0, keepdims=True).shape.as_list() == [1, 3, 4]
    assert tf.reduce_sum(p).shape.as_list() == []
    ax = tf.placeholder(tf.int32, [None])
    t = tf.reduce_sum(p, ax)
    assert t.shape.ndims is None
    tk = tf.reduce_max(p, ax, keepdims=True)
    assert tk.shape.as_list() == [None, None, None]
    v = run([t, tk], {p: x, ax: [0, -1]})
    np.testing.assert_allclose(v[0], x.sum(axis=(0, 2)), rtol=1e-6)
    np.testing.assert_allclose(v[1], x.max(axis=(0, 2), keepdims=True))
    with pytest.raises(errors.InvalidArgumentError, match="Invalid reduction dimension"):
        run(t, {p: x, ax: [3]})
    u = tf.placeholder(tf.float32)
    assert tf.reduce_sum(u, 0).shape.ndims is None
    np.testing.assert_allclose(run(tf.reduce_sum(u, 0), {u: x}), x.sum(0), rtol=1e-6)


def test_reduce_logsumexp_is_stable(graph):
    x = np.array([[1000.0, 1000.0], [-1000.0, -1000.0], [-np.inf, -np.inf]], np.float32)
    t = tf.reduce_logsumexp(tf.constant(x), axis=1)
    assert t.shape.as_list() == [3]
    with np.errstate(divide="ignore"):
        v = run(t)
    np.testing.assert_allclose(v[:2], [1000.0 + np.log(2), -1000.0 + np.log(2)], rtol=1e-6)
    assert v[2] == -np.inf
    k = tf.reduce_logsumexp(tf.constant(x[:2]), keepdims=True)
    assert k.shape.as_list() == [1, 1]
    np.testing.assert_allclose(run(k), [[1000.0 + np.log(2)]], rtol=1e-6)


# ---- argmax / argmin / cumsum ---------------------------------------------------------------


def test_argmax_argmin(graph):
    x = sample("float32", (3, 4))
    tx = tf.constant(x)
    t = tf.argmax(tx)  # TF1 default axis is 0
    assert t.op.type == "ArgMax" and t.dtype == tf.int64 and t.shape.as_list() == [4]
    check(t, np.argmax(x, 0).astype(np.int64))
    check(tf.argmax(tx, 1), np.argmax(x, 1).astype(np.int64))
    check(tf.argmax(tx, -1), np.argmax(x, 1).astype(np.int64))
    check(tf.argmin(tx, dimension=1), np.argmin(x, 1).astype(np.int64))
    i32 = tf.argmin(tx, axis=0, output_type=tf.int32)
    assert i32.dtype == tf.int32
    check(i32, np.argmin(x, 0).astype(np.int32))
    check(tf.argmax(tf.constant([1, 5, 2])), np.int64(1))
    with pytest.raises(ValueError, match="Expected dimension in the range"):
        tf.argmax(tx, 2)
    with pytest.raises(ValueError, match="Cannot specify both"):
        tf.argmax(tx, axis=0, dimension=0)
    p = tf.placeholder(tf.float32, [None])
    with pytest.raises(errors.InvalidArgumentError, match="Reduction axis 0 is empty"):
        run(tf.argmax(p), {p: np.zeros(0, np.float32)})


def test_cumsum_cumprod(graph):
    x = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
    tx = tf.constant(x)
    check(tf.cumsum(tx), np.cumsum(x, 0, dtype=np.int32))
    check(tf.cumsum(tx, axis=1, exclusive=True), np.array([[0, 1, 3], [0, 4, 9]], np.int32))
    check(tf.cumsum(tx, axis=1, reverse=True), np.array([[6, 5, 3], [15, 11, 6]], np.int32))
    check(tf.cumsum(tx, axis=1, exclusive=True, reverse=True),
          np.array([[5, 3, 0], [11, 6, 0]], np.int32))
    check(tf.cumprod(tx, axis=1), np.cumprod(x, 1, dtype=np.int32))


# ---- matmul -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_matmul_transposes(graph, dtype):
    a = sample(dtype, (3, 4))
    b = sample(dtype, (4, 5))
    ta, tb = tf.constant(a), tf.constant(b)
    at, bt = tf.constant(a.T.copy()), tf.constant(b.T.copy())
    expected = a @ b
    cases = [tf.matmul(ta, tb), tf.matmul(at, tb, transpose_a=True),
             tf.matmul(ta, bt, transpose_b=True),
             tf.matmul(at, bt, transpose_a=True, transpose_b=True),
             tf.matmul(at, bt, adjoint_a=True, adjoint_b=True), ta @ tb]
    for t in cases:
        assert t.op.type == "MatMul" and t.shape.as_list() == [3, 5] and t.dtype == ta.dtype
    for v in run(cases):
        np.testing.assert_allclose(v, expected, rtol=1e-5)
        assert v.dtype == np.dtype(dtype)


def test_matmul_large_uses_fast_path_correctly(graph):
    a = sample("float32", (64, 80))
    b = sample("float32", (80, 48))
    check(tf.matmul(tf.constant(a), tf.constant(b)), a @ b, rtol=1e-4, atol=1e-4)
    check(tf.matmul(tf.constant(a.T.copy()), tf.constant(b), transpose_a=True), a @ b,
          rtol=1e-4, atol=1e-4)


def test_batch_matmul_broadcasts_batch_dims(graph):
    a = sample("float32", (2, 1, 3, 4))
    b = sample("float32", (5, 4, 2))
    t = tf.matmul(tf.constant(a), tf.constant(b))
    assert t.op.type == "BatchMatMulV2" and t.shape.as_list() == [2, 5, 3, 2]
    check(t, np.matmul(a, b), rtol=1e-5)
    c = sample("float32", (3, 4))
    t2 = tf.matmul(tf.constant(c), tf.constant(b))
    assert t2.shape.as_list() == [5, 3, 2]
    check(t2, np.matmul(c, b), rtol=1e-5)
    at = np.swapaxes(a, -1, -2).copy()
    bt = np.swapaxes(b, -1, -2).copy()
    t3 = tf.matmul(tf.constant(at), tf.constant(bt), transpose_a=True, transpose_b=True)
    check(t3, np.matmul(a, b), rtol=1e-5)
    p = tf.placeholder(tf.float32, [None, 3, 4])
    t4 = tf.matmul(p, tf.constant(b[:1]))
    assert t4.shape.as_list() == [None, 3, 2]
    x = sample("float32", (6, 3, 4))
    check(t4, np.matmul(x, b[:1]), rtol=1e-5, feed_dict={p: x})
    u = tf.placeholder(tf.float32)
    assert tf.matmul(u, tf.constant(c.T.copy())).shape.ndims is None


def test_batch_matmul_complex_adjoint(graph):
    a = (sample("float64", (2, 3)) + 1j * sample("float64", (2, 3))).astype(np.complex128)
    b = (sample("float64", (2, 4)) + 1j * sample("float64", (2, 4))).astype(np.complex128)
    t = tf.matmul(tf.constant(a), tf.constant(b), adjoint_a=True)
    check(t, a.conj().T @ b, rtol=1e-12)


def test_matmul_errors(graph):
    a = tf.constant(np.zeros((2, 3), np.float32))
    b = tf.constant(np.zeros((4, 5), np.float32))
    with pytest.raises(ValueError) as e:
        tf.matmul(a, b)
    assert str(e.value) == ("Dimensions must be equal, but are 3 and 4 for 'MatMul' "
                            "(op: 'MatMul') with input shapes: [2,3], [4,5].")
    with pytest.raises(ValueError, match="for 'MatMul_1' \\(op: 'MatMul'\\)"):
        tf.matmul(a, b)
    with pytest.raises(ValueError, match="for 'dense' \\(op: 'MatMul'\\)"):
        tf.matmul(a, b, name="dense")
    with pytest.raises(ValueError, match="for 'matmul_2' \\(op: 'MatMul'\\)"):
        a @ b  # "matmul" collides with "MatMul" case-insensitively, as in TF1
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 4 and 5 for "
                                         "'MatMul_3' \\(op: 'BatchMatMulV2'\\)"):
        tf.matmul(tf.zeros([2, 3, 4]) if hasattr(tf, "zeros") else
                  tf.constant(np.zeros((2, 3, 4), np.float32)),
                  tf.constant(np.zeros((2, 5, 4), np.float32)))
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
        tf.matmul(tf.constant(np.zeros((2, 3, 4), np.float32)),
                  tf.constant(np.zeros((3, 4, 5), np.float32)))
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 1"):
        tf.matmul(tf.constant([1.0, 2.0]), tf.constant([[1.0], [2.0]]))
    with pytest.raises(TypeError, match="Input 'b' of 'MatMul' Op has type float64 that does "
                                        "not match type float32 of argument 'a'"):
        tf.matmul(a, tf.constant(np.zeros((3, 5), np.float64)))
    with pytest.raises(ValueError, match="Only one of transpose_a and adjoint_a"):
        tf.matmul(a, a, transpose_a=True, adjoint_a=True)


# ---- einsum / tensordot -------------------------------------------------------------------------


def test_einsum(graph):
    a = sample("float32", (2, 3))
    b = sample("float32", (3, 4))
    c = sample("float32", (5, 2, 3))
    sq = sample("float32", (3, 3))
    cases = [("ij,jk->ik", (a, b)), ("ij->ji", (a,)), ("ij->", (a,)), ("ii->", (sq,)),
             ("ii->i", (sq,)), ("ij,jk", (a, b)), ("bij,jk->bik", (c, b)),
             ("...ij,jk->...ik", (c, b)), ("i,j->ij", (a[0], b[0])), ("ij,ij->i", (a, a))]
    fetches = []
    for eq, xs in cases:
        t = tf.einsum(eq, *[tf.constant(x) for x in xs])
        assert t.op.type == "Einsum"
        assert tuple(t.shape.as_list()) == np.einsum(eq, *xs).shape, eq
        fetches.append(t)
    for (eq, xs), v in zip(cases, run(fetches)):
        np.testing.assert_allclose(v, np.einsum(eq, *xs), rtol=1e-5, atol=1e-6, err_msg=eq)
        assert np.asarray(v).dtype == np.float32
    p = tf.placeholder(tf.float32, [None, 3])
    assert tf.einsum("ij,jk->ik", p, tf.constant(b)).shape.as_list() == [None, 4]
    with pytest.raises(ValueError, match="differ"):
        tf.einsum("ij,jk->ik", tf.constant(a), tf.constant(a))
    with pytest.raises(ValueError):
        tf.einsum("ij,jk->iz", tf.constant(a), tf.constant(b))
    with pytest.raises(TypeError):
        tf.einsum("ij,jk->ik", tf.constant(a), tf.constant(b.astype(np.float64)))


def test_tensordot(graph):
    a = sample("float32", (2, 3, 4))
    b = sample("float32", (4, 3, 5))
    ta, tb = tf.constant(a), tf.constant(b)
    cases = [(1, np.tensordot(a, b, 1)), ([[1, 2], [1, 0]], np.tensordot(a, b, ([1, 2], [1, 0]))),
             ([2, 0], np.tensordot(a, b, ([2], [0]))), (0, np.tensordot(a, b, 0))]
    fetches = []
    for axes, e in cases:
        t = tf.tensordot(ta, tb, axes)
        assert tuple(t.shape.as_list()) == e.shape
        fetches.append(t)
    assert fetches[0].op.name == "Tensordot"
    for (_, e), v in zip(cases, run(fetches)):
        np.testing.assert_allclose(v, e, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.tensordot(ta, tb, [[0], [0]])


# ---- kernel selection ---------------------------------------------------------------------------


class _FakeC:
    """Stands in for headwater._C: records which kernels the ops bind to."""

    def __init__(self):
        self.calls = []

    def _binary(self, name, fn):
        def k(a, b, out=None):
            assert a.dtype == b.dtype and a.dtype in (np.float32, np.float64)
            self.calls.append(name)
            return fn(a, b)
        return k

    def __getattr__(self, name):
        fns = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}
        if name in fns:
            return self._binary(name, fns[name])
        raise AttributeError(name)

    def matmul(self, a, b, transpose_a=False, transpose_b=False):
        assert a.ndim in (2, 3) and b.ndim in (2, 3)
        self.calls.append(("matmul", transpose_a, transpose_b))
        return np.matmul(np.swapaxes(a, -1, -2) if transpose_a else a,
                         np.swapaxes(b, -1, -2) if transpose_b else b)


def test_native_kernels_bound_for_large_float_inputs_only(graph, monkeypatch):
    from headwater.ops import math_ops

    fake = _FakeC()
    monkeypatch.setattr(math_ops, "_C", fake)
    big = sample("float32", (80, 80))
    small = sample("float32", (3,))
    tb, ts = tf.constant(big), tf.constant(small)
    p = tf.placeholder(tf.float32, [None, 80])
    fetches = [tb + tb, tb * tb, tb - tb, tb / (tb * tb + 1), ts + ts, ts * ts, p + p]
    v = run(fetches, {p: big})
    np.testing.assert_allclose(v[0], big + big)
    np.testing.assert_allclose(v[3], big / (big * big + 1), rtol=1e-6)
    np.testing.assert_allclose(v[6], big + big)
    assert sorted(c for c in fake.calls) == sorted(["add", "mul", "sub", "mul", "add", "div",
                                                    "add"])
    fake.calls.clear()
    # A partially known shape decides at run time: small feeds stay on numpy.
    run(p + p, {p: big[:2]})
    assert fake.calls == []
    ti = tf.constant(np.ones((80, 80), np.int32))
    run(ti + ti)
    assert fake.calls == []


def test_native_matmul_bound_with_transposes(graph, monkeypatch):
    from headwater.ops import math_ops

    fake = _FakeC()
    monkeypatch.setattr(math_ops, "_C", fake)
    a = sample("float32", (40, 30))
    b = sample("float32", (20, 30))
    t = tf.matmul(tf.constant(a), tf.constant(b), transpose_b=True)
    np.testing.assert_allclose(run(t), a @ b.T, rtol=1e-5)
    assert fake.calls == [("matmul", False, True)]
    fake.calls.clear()
    run(tf.matmul(tf.constant(a[:2, :2]), tf.constant(b[:2, :2])))
    assert fake.calls == []  # tiny products stay on numpy
    x = sample("float64", (3, 40, 30))
    y = sample("float64", (1, 40, 30))
    t3 = tf.matmul(tf.constant(x), tf.constant(y), adjoint_a=True)
    np.testing.assert_allclose(run(t3), np.matmul(np.swapaxes(x, 1, 2), y), rtol=1e-10)
    assert fake.calls == [("matmul", True, False)]


def test_ops_accept_numpy_scalar_values(graph):
    # 0-d results travel between kernels as numpy scalars.
    x = tf.constant(np.array([[1.5, -2.5], [3.0, 4.0]], np.float32))
    s = tf.reduce_sum(x)
    chain = [tf.reduce_sum(s), tf.reduce_max(s, keepdims=True), tf.cast(s, tf.int32),
             tf.where(s > 0, s, -s), tf.add_n([s, s, s]), tf.rsqrt(s),
             tf.cumsum(tf.reduce_sum(x, 0)), s * s, tf.sigmoid(s), tf.argmax(tf.reduce_sum(x, 1))]
    v = run(chain)
    assert v[0] == np.float32(6.0) and v[1] == np.float32(6.0) and v[2] == 6
    assert v[3] == np.float32(6.0) and v[4] == np.float32(18.0)
    np.testing.assert_allclose(v[5], 1 / np.sqrt(6.0), rtol=1e-6)
    assert np.asarray(v[7]).dtype == np.float32 and v[7] == 36.0
    assert v[9] == 1
