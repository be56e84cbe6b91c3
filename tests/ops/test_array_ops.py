"""Array ops against numpy: values, dtypes, static shapes, names and TF1 errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import headwater as tf
from headwater.framework import errors


@pytest.fixture
def g():
    graph = tf.Graph()
    with graph.as_default():
        yield graph


def run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def shp(t):
    d = t.shape._dims
    return None if d is None else list(d)


def check(t, expected, dtype=None, static=None):
    """Run `t`, compare with numpy `expected` (values and dtype) and the static shape."""
    expected = np.asarray(expected)
    v = np.asarray(run(t))
    assert v.dtype == (expected.dtype if dtype is None else np.dtype(dtype))
    assert v.shape == expected.shape
    np.testing.assert_array_equal(v, expected)
    assert shp(t) == (list(expected.shape) if static is None else static)
    return v


# ---- sources ----------------------------------------------------------------------------------

def test_zeros_ones(g):
    z = tf.zeros([2, 3])
    assert z.op.name == "zeros" and z.op.type == "Const"
    check(z, np.zeros((2, 3), np.float32))
    o = tf.ones((4,), tf.int32)
    assert o.op.name == "ones"
    check(o, np.ones(4, np.int32))
    check(tf.zeros(tf.TensorShape([2, 1]), tf.bool), np.zeros((2, 1), bool))
    check(tf.ones([2], tf.bool), np.ones(2, bool))
    check(tf.zeros([], tf.int64), np.zeros((), np.int64))
    assert run(tf.zeros([1], tf.string)).tolist() == [b""]
    with pytest.raises(ValueError, match="negative"):
        tf.zeros([-1, 2])


def test_zeros_large_and_tensor_shape(g):
    big = tf.zeros([100, 20], tf.float64)
    assert big.op.type == "Fill" and big.op.name == "zeros"
    check(big, np.zeros((100, 20)))
    p = tf.placeholder(tf.int32, [None])
    n = tf.placeholder(tf.int32, [])
    z = tf.ones([n, 3])
    assert shp(z) == [None, 3] and z.op.type == "Fill"
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(z, {n: 2}), np.ones((2, 3), np.float32))
        np.testing.assert_array_equal(sess.run(tf.zeros(p), {p: [2, 2]}), np.zeros((2, 2)))
    s = tf.zeros(tf.constant([2, 5]), tf.int32)
    assert shp(s) == [2, 5]
    check(s, np.zeros((2, 5), np.int32))


def test_fill(g):
    f = tf.fill([2, 3], 9)
    assert f.op.type == "Fill" and f.op.name == "Fill"
    check(f, np.full((2, 3), 9, np.int32))
    check(tf.fill([3], 0.5), np.full(3, 0.5, np.float32))
    x = tf.placeholder(tf.float32, [None, 4])
    f2 = tf.fill(tf.shape(x), 1.0)
    assert shp(f2) == [None, 4]
    v = run(f2, {x: np.zeros((3, 4))})
    np.testing.assert_array_equal(v, np.ones((3, 4), np.float32))
    with pytest.raises(ValueError, match="rank 0"):
        tf.fill([2], [1, 2])
    with pytest.raises(TypeError, match="DataType float32"):
        tf.fill(tf.constant([2.0]), 1)


def test_zeros_like_ones_like(g):
    x = tf.constant([[1, 2, 3]], tf.int64)
    z = tf.zeros_like(x)
    assert z.op.name == "zeros_like" and z.dtype == tf.int64
    check(z, np.zeros((1, 3), np.int64))
    o = tf.ones_like(x, dtype=tf.float32)
    assert o.op.name == "ones_like"
    check(o, np.ones((1, 3), np.float32))
    p = tf.placeholder(tf.float64, [None, 2])
    zp, op_, oc = tf.zeros_like(p), tf.ones_like(p), tf.ones_like(p, dtype=tf.int32)
    assert zp.op.type == "ZerosLike" and op_.op.type == "OnesLike"
    assert shp(zp) == [None, 2] and shp(oc) == [None, 2] and oc.dtype == tf.int32
    a, b, c = run([zp, op_, oc], {p: np.ones((3, 2))})
    assert a.dtype == np.float64 and b.dtype == np.float64 and c.dtype == np.int32
    np.testing.assert_array_equal(a, np.zeros((3, 2)))
    np.testing.assert_array_equal(c, np.ones((3, 2)))
    z2 = tf.zeros_like(p, dtype=tf.bool)
    assert z2.dtype == tf.bool
    assert run(z2, {p: np.ones((1, 2))}).tolist() == [[False, False]]


def test_range(g):
    r = tf.range(5)
    assert r.op.name == "range" and r.op.type == "Range" and r.dtype == tf.int32
    check(r, np.arange(5, dtype=np.int32))
    check(tf.range(2, 11, 3), np.arange(2, 11, 3, dtype=np.int32))
    check(tf.range(10, 0, -3), np.arange(10, 0, -3, dtype=np.int32))
    check(tf.range(3, 3), np.zeros(0, np.int32))
    f = tf.range(0, 1.0, 0.1)
    assert f.dtype == tf.float32 and shp(f) == [10]
    v = run(f)
    # TF accumulates in float32: 0.70000005 etc.
    acc = np.add.accumulate(np.r_[np.float32(0), np.full(9, 0.1, np.float32)], dtype=np.float32)
    np.testing.assert_array_equal(v, acc)
    assert v[7] == np.float32(0.70000005)
    check(tf.range(1.5, 4), np.array([1.5, 2.5, 3.5], np.float32))
    check(tf.range(4, dtype=tf.float64), np.arange(4, dtype=np.float64))
    check(tf.range(tf.constant(3, tf.int64)), np.arange(3, dtype=np.int64))
    n = tf.placeholder(tf.int32, [])
    rn = tf.range(n)
    assert shp(rn) == [None]
    np.testing.assert_array_equal(run(rn, {n: 4}), np.arange(4))
    with pytest.raises(ValueError, match="delta != 0"):
        tf.range(0, 5, 0)
    with pytest.raises(ValueError, match="start <= limit"):
        tf.range(5, 1)
    with pytest.raises(errors.InvalidArgumentError, match="start <= limit"):
        run(tf.range(n, 1), {n: 5})


def test_linspace(g):
    t = tf.linspace(-1.0, 2.0, 7)
    assert t.op.type == "LinSpace" and t.op.name == "LinSpace"
    np.testing.assert_allclose(check(t, np.linspace(-1, 2, 7).astype(np.float32)
                                     if False else run(t)), np.linspace(-1, 2, 7), rtol=1e-6)
    assert shp(t) == [7] and t.dtype == tf.float32
    t1 = tf.linspace(tf.constant(3.0, tf.float64), 4.0, 1)
    np.testing.assert_array_equal(run(t1), np.array([3.0]))
    with pytest.raises(ValueError, match="num > 0"):
        tf.linspace(0.0, 1.0, 0)


def test_eye(g):
    e = tf.eye(3)
    assert e.op.name == "eye/diag"
    check(e, np.eye(3, dtype=np.float32))
    check(tf.eye(2, 4, dtype=tf.int32), np.eye(2, 4, dtype=np.int32))
    check(tf.eye(3, 2), np.eye(3, 2, dtype=np.float32))
    check(tf.eye(2, batch_shape=[3]), np.broadcast_to(np.eye(2, dtype=np.float32), (3, 2, 2)))


def test_one_hot(g):
    idx = [0, 2, -1, 5, 1]
    t = tf.one_hot(idx, 3)
    assert t.op.type == "OneHot" and t.op.name == "one_hot" and t.dtype == tf.float32
    check(t, np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0], [0, 1, 0]], np.float32))
    t0 = tf.one_hot([[1, 0], [3, 2]], 3, axis=0, on_value=5, off_value=-1)
    exp = np.full((3, 2, 2), -1, np.int32)
    for i, row in enumerate([[1, 0], [3, 2]]):
        for j, k in enumerate(row):
            if 0 <= k < 3:
                exp[k, i, j] = 5
    check(t0, exp)
    t1 = tf.one_hot(tf.constant([1, 0], tf.int64), 2, dtype=tf.bool)
    check(t1, np.array([[False, True], [True, False]]))
    t2 = tf.one_hot([[0, 1]], 4, axis=1, on_value=2.0)
    check(t2, np.eye(4, dtype=np.float32)[[0, 1]].T[None] * 2)
    p = tf.placeholder(tf.int32, [None])
    tp = tf.one_hot(p, 4)
    assert shp(tp) == [None, 4]
    np.testing.assert_array_equal(run(tp, {p: [3, 4]}), [[0, 0, 0, 1], [0, 0, 0, 0]])
    with pytest.raises(TypeError, match="does not match"):
        tf.one_hot([0], 2, on_value=tf.constant(1.0), off_value=tf.constant(0))
    with pytest.raises(ValueError, match="axis"):
        tf.one_hot([0, 1], 2, axis=3)


# ---- shapes -----------------------------------------------------------------------------------

def test_shape_size_rank(g):
    x = tf.constant(np.zeros((2, 3, 4), np.float32))
    s = tf.shape(x)
    assert s.op.name == "Shape" and s.dtype == tf.int32
    check(s, np.array([2, 3, 4], np.int32))
    check(tf.shape(x, out_type=tf.int64), np.array([2, 3, 4], np.int64))
    check(tf.size(x), np.int32(24))
    check(tf.rank(x), np.int32(3))
    p = tf.placeholder(tf.float32, [None, 3])
    u = tf.placeholder(tf.float32)
    ps, pz, pr, us, ur = tf.shape(p), tf.size(p), tf.rank(p), tf.shape(u), tf.rank(u)
    assert ps.op.type == "Shape" and shp(ps) == [2] and shp(us) == [None]
    assert pz.op.type == "Size" and ur.op.type == "Rank" and pr.op.type == "Const"
    feed = {p: np.zeros((5, 3)), u: np.zeros((1, 2, 3, 4))}
    a, b, c, d, e = run([ps, pz, pr, us, ur], feed)
    assert a.dtype == np.int32 and a.tolist() == [5, 3]
    assert b == 15 and b.dtype == np.int32 and c == 2 and d.tolist() == [1, 2, 3, 4] and e == 4
    sn = tf.shape_n([p, x], out_type=tf.int64)
    assert [t.op.type for t in sn] == ["ShapeN", "ShapeN"] and shp(sn[1]) == [3]
    r = run(sn, {p: np.zeros((7, 3))})
    assert r[0].tolist() == [7, 3] and r[1].dtype == np.int64


# ---- reshape ----------------------------------------------------------------------------------

def test_reshape(g):
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = tf.constant(a)
    r = tf.reshape(x, [4, -1])
    assert r.op.type == "Reshape" and r.op.name == "Reshape"
    check(r, a.reshape(4, 6))
    check(tf.reshape(x, [-1]), a.reshape(-1))
    check(tf.reshape(x, tf.constant([2, 12])), a.reshape(2, 12))
    check(tf.reshape(tf.constant(5), [1, 1]), np.array([[5]], np.int32))
    check(tf.reshape(x, tf.TensorShape([6, 4])), a.reshape(6, 4))
    p = tf.placeholder(tf.float32, [None, 3, 4])
    r1 = tf.reshape(p, [-1, 12])
    r2 = tf.reshape(p, tf.stack([tf.shape(p)[0], -1]))
    r3 = tf.reshape(p, tf.concat([tf.shape(p)[:1], [2, 6]], 0))
    r4 = tf.reshape(p, tf.placeholder(tf.int32, [3]))
    assert shp(r1) == [None, 12] and shp(r2) == [None, None] and shp(r3) == [None, 2, 6]
    assert shp(r4) == [None, None, None]
    v1, v2, v3 = run([r1, r2, r3], {p: a})
    np.testing.assert_array_equal(v1, a.reshape(2, 12))
    np.testing.assert_array_equal(v2, a.reshape(2, 12))
    np.testing.assert_array_equal(v3, a.reshape(2, 2, 6))


def test_reshape_errors(g):
    x = tf.constant(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError) as e:
        tf.reshape(x, [4])
    assert str(e.value) == ("Cannot reshape a tensor with 6 elements to shape [4] (4 elements) "
                            "for 'Reshape' (op: 'Reshape') with input shapes: [2,3], [1].")
    with pytest.raises(ValueError, match="'foo' .* 7 elements|does not divide"):
        tf.reshape(tf.zeros([7]), [2, -1], name="foo")
    with pytest.raises(ValueError, match="Only one input size may be -1"):
        tf.reshape(x, [-1, -1])
    with pytest.raises(TypeError, match="DataType float32"):
        tf.reshape(x, tf.constant([6.0]))
    p = tf.placeholder(tf.float32, [None, 3])
    r = tf.reshape(p, [4, 2])
    assert shp(r) == [4, 2]
    with pytest.raises(errors.InvalidArgumentError,
                       match="Input to reshape is a tensor with 6 values, but the requested "
                             "shape has 8"):
        run(r, {p: np.zeros((2, 3))})
    r2 = tf.reshape(p, [-1, 4])
    with pytest.raises(errors.InvalidArgumentError, match="multiple of 4"):
        run(r2, {p: np.zeros((3, 3))})


def test_reshape_result_is_a_private_copy(g):
    c = tf.constant([[1, 2], [3, 4]])
    v = run(tf.reshape(c, [-1]))
    v[0] = 100  # the fetched value is the caller's; the constant must not change
    assert run(c).tolist() == [[1, 2], [3, 4]]


# ---- transpose, expand_dims, squeeze ------------------------------------------------------------

def test_transpose(g):
    a = np.arange(24).reshape(2, 3, 4).astype(np.int32)
    x = tf.constant(a)
    t = tf.transpose(x)
    assert t.op.type == "Transpose" and t.op.name == "transpose"
    check(t, a.T)
    check(tf.transpose(x, [1, 0, 2]), a.transpose(1, 0, 2))
    u = tf.placeholder(tf.int32)
    tu = tf.transpose(u)
    assert shp(tu) is None
    np.testing.assert_array_equal(run(tu, {u: a}), a.T)
    p = tf.placeholder(tf.int32, [None, 3, 4])
    assert shp(tf.transpose(p, [2, 0, 1])) == [4, None, 3]
    with pytest.raises(ValueError, match="Dimension must be 3 but is 2"):
        tf.transpose(x, [1, 0])
    with pytest.raises(ValueError, match="duplicated"):
        tf.transpose(x, [1, 1, 0])
    c = tf.constant(np.array([[1 + 2j, 3j]], np.complex64))
    check(tf.transpose(c, conjugate=True), np.array([[1 - 2j], [-3j]], np.complex64))


def test_expand_dims_squeeze(g):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = tf.constant(a)
    e = tf.expand_dims(x, 1)
    assert e.op.name == "ExpandDims" and e.op.type == "ExpandDims"
    check(e, a[:, None])
    check(tf.expand_dims(x, -1), a[..., None])
    check(tf.expand_dims(x, dim=0), a[None])
    with pytest.raises(ValueError, match="expand dim index 3"):
        tf.expand_dims(x, 3)
    with pytest.raises(ValueError, match="Must specify an axis"):
        tf.expand_dims(x)
    b = np.zeros((1, 2, 1, 3), np.float32)
    y = tf.constant(b)
    s = tf.squeeze(y)
    assert s.op.type == "Squeeze" and s.op.name == "Squeeze"
    check(s, b.squeeze())
    check(tf.squeeze(y, [2]), b.squeeze(2))
    check(tf.squeeze(y, axis=-4), b.squeeze(0))
    with pytest.raises(ValueError) as err:
        tf.squeeze(y, [1])
    assert "Can not squeeze dim[1], expected a dimension of 1, got 2" in str(err.value)
    assert "for 'Squeeze_3' (op: 'Squeeze') with input shapes: [1,2,1,3]." in str(err.value)
    p = tf.placeholder(tf.float32, [None, 1, 3])
    assert shp(tf.squeeze(p)) is None  # an unknown dim may be 1
    sp = tf.squeeze(p, [1])
    assert shp(sp) == [None, 3]
    pe = tf.expand_dims(p, 0)
    assert shp(pe) == [1, None, 1, 3]
    v, w = run([sp, pe], {p: np.ones((2, 1, 3))})
    assert v.shape == (2, 3) and w.shape == (1, 2, 1, 3)
    # Unknown rank, constant axis: checked against the fed value's rank at run time.
    u = tf.placeholder(tf.float32)
    for axis in (0, 2, -1, -3):
        val = np.arange(6, dtype=np.float32).reshape(2, 3)
        np.testing.assert_array_equal(run(tf.expand_dims(u, axis), {u: val}),
                                      np.expand_dims(val, axis))
    np.testing.assert_array_equal(run(tf.expand_dims(u, -1), {u: 5.0}), [5.0])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Tried to expand dim index -4 for tensor with 2 dimensions"):
        run(tf.expand_dims(u, -4), {u: np.ones((2, 3), np.float32)})
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Tried to expand dim index 3 for tensor with 1 dimensions"):
        run(tf.expand_dims(u, 3), {u: np.ones(3, np.float32)})
    q = tf.placeholder(tf.float32, [None, None])
    with pytest.raises(errors.InvalidArgumentError, match="Can not squeeze dim"):
        run(tf.squeeze(q, [0]), {q: np.ones((2, 1))})


# ---- concat, stack, unstack, split --------------------------------------------------------------

def test_concat(g):
    a = np.arange(6).reshape(2, 3).astype(np.float32)
    b = np.arange(8).reshape(2, 4).astype(np.float32)
    c = tf.concat([a, b], -1)
    assert c.op.type == "ConcatV2" and c.op.name == "concat"
    check(c, np.concatenate([a, b], -1))
    check(tf.concat([tf.constant(a), a], 0), np.concatenate([a, a], 0))
    one = tf.concat([tf.constant(a)], 0)
    assert one.op.type == "Identity" and one.op.name == "concat_2"
    p = tf.placeholder(tf.float32, [None, 3])
    q = tf.placeholder(tf.float32, [4, None])
    cp = tf.concat([p, q, a], 0)
    assert shp(cp) == [None, 3]
    cq = tf.concat([q, tf.zeros([4, 2])], 1)
    assert shp(cq) == [4, None]
    c2 = tf.concat([tf.constant(a), tf.constant(a)], 1)
    assert shp(c2) == [2, 6]
    v = run(cp, {p: a, q: np.ones((4, 3), np.float32)})
    np.testing.assert_array_equal(v, np.concatenate([a, np.ones((4, 3)), a]))
    ax = tf.placeholder(tf.int32, [])
    cd = tf.concat([a, a], ax)
    assert shp(cd) == [None, None]
    np.testing.assert_array_equal(run(cd, {ax: 1}), np.concatenate([a, a], 1))


def test_concat_errors(g):
    a = tf.zeros([2, 3])
    with pytest.raises(TypeError, match="don't all match"):
        tf.concat([a, tf.zeros([2, 3], tf.int32)], 0)
    with pytest.raises(ValueError) as e:
        tf.concat([a, tf.zeros([3])], 0)
    assert str(e.value) == ("Shape must be rank 2 but is rank 1 for 'concat_1' (op: 'ConcatV2') "
                            "with input shapes: [2,3], [3], [].")
    with pytest.raises(ValueError, match="Dimension 1 in both shapes must be equal, but are 3 "
                                         "and 4"):
        tf.concat([a, tf.zeros([2, 4])], 0)
    with pytest.raises(ValueError, match=r"range \[-2, 2\), but got 2"):
        tf.concat([a, a], 2)
    with pytest.raises(ValueError, match="Can't concatenate scalars"):
        tf.concat([1.0, 2.0], 0)
    p = tf.placeholder(tf.float32, [None, None])
    with pytest.raises(errors.InvalidArgumentError, match="Dimensions of inputs should match"):
        run(tf.concat([p, a], 0), {p: np.zeros((1, 4))})


def test_stack_unstack_roundtrip(g):
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    x = tf.constant(a)
    assert tf.unstack(x)[0].op.name == "unstack"
    for axis in (0, 1, 2, -1, -3):
        parts = tf.unstack(x, axis=axis)
        assert len(parts) == a.shape[axis]
        assert all(p.op.type == "Unpack" for p in parts)
        assert shp(parts[0]) == list(np.delete(np.array(a.shape), axis % 3))
        back = tf.stack(parts, axis=axis)
        assert back.op.type == "Pack"
        check(back, a)
        vals = run(parts)
        for v, e in zip(vals, np.moveaxis(a, axis, 0)):
            np.testing.assert_array_equal(v, e)
    s = tf.stack([1, 2, 3])
    assert s.op.type == "Const"
    check(s, np.array([1, 2, 3], np.int32))
    n = tf.placeholder(tf.float32, [])
    s2 = tf.stack([n, 2.0, [3.0][0]])
    assert s2.op.type == "Pack" and shp(s2) == [3]
    np.testing.assert_array_equal(run(s2, {n: 1.0}), [1, 2, 3])
    p = tf.placeholder(tf.float32, [None, 2])
    sp = tf.stack([p, p], axis=-1)
    assert shp(sp) == [None, 2, 2]
    one = tf.unstack(tf.zeros([1, 3]))
    assert isinstance(one, list) and len(one) == 1
    with pytest.raises(ValueError, match="Cannot infer num"):
        tf.unstack(p)
    with pytest.raises(ValueError, match="Shapes of all inputs must match"):
        tf.stack([tf.zeros([2]), tf.zeros([3])])
    with pytest.raises(TypeError, match="don't all match"):
        tf.stack([tf.zeros([2]), tf.zeros([2], tf.int32)])
    with pytest.raises(ValueError, match="axis"):
        tf.stack([tf.zeros([2]), tf.zeros([2])], axis=2)


def test_autopacking(g):
    n = tf.placeholder(tf.int32, [])
    t = tf.convert_to_tensor([n, 3])
    assert t.op.type == "Pack" and t.op.name == "packed" and t.dtype == tf.int32
    assert run(t, {n: 7}).tolist() == [7, 3]
    nested = tf.convert_to_tensor([[n, 1], [2, n]])
    assert shp(nested) == [2, 2]
    assert run(nested, {n: 0}).tolist() == [[0, 1], [2, 0]]
    with pytest.raises(TypeError, match="Cannot convert a list containing a tensor"):
        tf.convert_to_tensor([n, tf.constant(1.0)])
    d = tf.convert_to_tensor(tf.TensorShape([3, 4]))
    assert d.dtype == tf.int32 and run(d).tolist() == [3, 4]


def test_split(g):
    a = np.arange(30, dtype=np.float32).reshape(3, 10)
    x = tf.constant(a)
    parts = tf.split(x, 5, axis=1)
    assert [p.op.type for p in parts] == ["Split"] * 5 and parts[0].op.name == "split"
    assert all(shp(p) == [3, 2] for p in parts)
    for v, e in zip(run(parts), np.split(a, 5, 1)):
        np.testing.assert_array_equal(v, e)
    check(tf.concat(parts, 1), a)
    sv = tf.split(x, [2, -1, 3], 1)
    assert sv[0].op.type == "SplitV" and [shp(p) for p in sv] == [[3, 2], [3, 5], [3, 3]]
    for v, e in zip(run(sv), np.split(a, [2, 7], 1)):
        np.testing.assert_array_equal(v, e)
    check(tf.concat(sv, -1), a)
    p = tf.placeholder(tf.float32, [None, 10])
    sp = tf.split(p, [4, 6], axis=1)
    sq = tf.split(p, 3, axis=0)
    assert [shp(t) for t in sp] == [[None, 4], [None, 6]] and shp(sq[0]) == [None, 10]
    vals = run(sp + sq, {p: a})
    np.testing.assert_array_equal(vals[0], a[:, :4])
    np.testing.assert_array_equal(vals[4], a[2:])
    with pytest.raises(ValueError) as e:
        tf.split(x, 3, axis=1)
    assert ("Dimension size must be evenly divisible by 3 but is 10 for 'split_4' (op: 'Split')"
            in str(e.value))
    with pytest.raises(ValueError, match="Determined shape must either match"):
        tf.split(x, [3, 3], 1)
    with pytest.raises(errors.InvalidArgumentError, match="evenly divide"):
        run(tf.split(p, 2, axis=0), {p: a})


# ---- slice and strided slice ------------------------------------------------------------------

def test_slice(g):
    a = np.arange(60, dtype=np.int64).reshape(3, 4, 5)
    x = tf.constant(a)
    s = tf.slice(x, [1, 0, 2], [2, -1, 2])
    assert s.op.type == "Slice" and s.op.name == "Slice"
    check(s, a[1:3, :, 2:4])
    p = tf.placeholder(tf.int64, [None, 4, 5])
    sp = tf.slice(p, [1, 1, 1], [-1, 2, -1])
    assert shp(sp) == [None, 2, 4]
    np.testing.assert_array_equal(run(sp, {p: a}), a[1:, 1:3, 1:])
    with pytest.raises(ValueError, match=r"Expected size\[1\] in \[0, 4\], but got 5"):
        tf.slice(x, [0, 0, 0], [1, 5, 1])
    with pytest.raises(errors.InvalidArgumentError, match=r"Expected size\[0\] in \[0, 2\]"):
        run(tf.slice(p, [1, 0, 0], [3, 1, 1]), {p: a})


def test_strided_slice_masks(g):
    a = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5).astype(np.float32)
    x = tf.constant(a)
    t = tf.strided_slice(x, [0, 1], [0, 3], [1, 1], begin_mask=1, end_mask=1)
    assert t.op.type == "StridedSlice" and t.op.name == "StridedSlice"
    check(t, a[:, 1:3])
    check(tf.strided_slice(x, [1, 0, -1], [2, 0, 0], [1, 1, -1], ellipsis_mask=2,
                           shrink_axis_mask=1, end_mask=4), a[1, ..., ::-1])
    check(tf.strided_slice(x, [1, 0, -1], [2, 0, 0], [1, 1, -1], ellipsis_mask=2,
                           shrink_axis_mask=1), a[1, ..., -1:0:-1])
    check(tf.strided_slice(x, [0, 0, 2], [0, 0, 3], new_axis_mask=1, ellipsis_mask=2,
                           shrink_axis_mask=4), a[None, ..., 2])
    check(tf.strided_slice(x, [5], [-7], [-2]), a[5:-7:-2])
    with pytest.raises(ValueError, match="strides\\[0\\] must be non-zero"):
        tf.strided_slice(x, [0], [1], [0])


def test_getitem_names_and_basics(g):
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    x = tf.constant(a)
    t = x[1:]
    assert t.op.type == "StridedSlice" and t.op.name == "strided_slice"
    assert [i.op.name for i in t.op.inputs[1:]] == ["strided_slice/stack", "strided_slice/stack_1",
                                                   "strided_slice/stack_2"]
    assert x[0].op.name == "strided_slice_1"
    check(t, a[1:])
    check(x[-1], a[-1])
    check(x[:, -1], a[:, -1])
    check(x[::-1, ::2], a[::-1, ::2])
    check(x[..., 1], a[..., 1])
    check(x[tf.newaxis, :, None], a[None, :, None])
    check(x[1, 2], a[1, 2])
    check(x[()], a)
    check(x[[1, 2]], a[1, 2])  # TF1 treats a list like a tuple of indices
    check(x[np.int64(2)], a[2])
    check(x[5:-9:-1], a[5:-9:-1])
    assert tf.newaxis is None
    with pytest.raises(TypeError, match="Only integers, slices"):
        x[1.5]
    with pytest.raises(TypeError, match="Only integers, slices"):
        x[tf.constant([1, 2])]
    with pytest.raises(ValueError, match="slice index 3 of dimension 0 out of bounds"):
        x[3]
    with pytest.raises(ValueError, match="Index out of range using input dim 2"):
        x[0, 0, 0]
    with pytest.raises(ValueError, match="Multiple ellipses"):
        x[..., ...]


def test_getitem_tensor_indices(g):
    a = np.arange(20, dtype=np.float32).reshape(4, 5)
    x = tf.constant(a)
    i = tf.placeholder(tf.int32, [])
    j = tf.constant(2, tf.int64)
    t1, t2, t3 = x[i], x[1:i, j], x[:, i:]
    assert shp(t1) == [5] and shp(t2) == [None] and shp(t3) == [4, None]
    assert t1.op.name == "strided_slice"
    v1, v2, v3 = run([t1, t2, t3], {i: 3})
    np.testing.assert_array_equal(v1, a[3])
    np.testing.assert_array_equal(v2, a[1:3, 2])
    np.testing.assert_array_equal(v3, a[:, 3:])
    with pytest.raises(errors.InvalidArgumentError, match="slice index 7 of dimension 0 out"):
        run(t1, {i: 7})
    p = tf.placeholder(tf.float32, [None, 5])
    with pytest.raises(errors.InvalidArgumentError, match="slice index 9 of dimension 0 out"):
        run(p[9], {p: a})
    # Dims of a partially known shape flow through tf.shape(x)[k].
    s0 = tf.shape(p)[1]
    r = tf.reshape(p, tf.stack([-1, s0]))
    assert shp(r) == [None, 5]


def test_getitem_partial_shapes(g):
    p = tf.placeholder(tf.float32, [None, 5, 3])
    cases = [((slice(None), slice(1, 3)), [None, 2, 3]), ((slice(1, 3),), [None, 5, 3]),
             ((Ellipsis, 0), [None, 5]), ((0, slice(None, None, -2)), [3, 3]),
             ((slice(None), None, -1, slice(4, None, -2)), [None, 1, 2]),
             ((slice(2, None), Ellipsis, None), [None, 5, 3, 1])]
    a = np.arange(60, dtype=np.float32).reshape(4, 5, 3)
    ts = []
    for key, expected in cases:
        t = p[key]
        assert shp(t) == expected, key
        ts.append(t)
    for t, (key, _) in zip(run(ts, {p: a}), cases):
        np.testing.assert_array_equal(t, a[key])
    s = tf.shape(p)[1:]
    assert shp(tf.reshape(tf.zeros([15]), s)) == [5, 3]


def test_getitem_unknown_rank(g):
    u = tf.placeholder(tf.float32)
    t = u[1:, 0]
    assert shp(t) is None
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(run(t, {u: a}), a[1:, 0])


@st.composite
def _index_cases(draw):
    shape = draw(st.lists(st.integers(0, 4), min_size=0, max_size=4))
    rank = len(shape)
    n_consume = draw(st.integers(0, rank))
    use_ellipsis = draw(st.booleans())
    if use_ellipsis:
        k = draw(st.integers(0, n_consume))
        head, tail = list(range(k)), list(range(rank - (n_consume - k), rank))
    else:
        head, tail = list(range(n_consume)), []

    def bound():
        return st.one_of(st.none(), st.integers(-6, 6))

    def elem(axis):
        dim = shape[axis]
        options = [st.builds(slice, bound(), bound(),
                             st.one_of(st.none(), st.sampled_from([-3, -2, -1, 1, 2, 3])))]
        if dim > 0:
            options.append(st.integers(-dim, dim - 1))
        return draw(st.one_of(*options))
    key = [elem(a) for a in head] + ([Ellipsis] if use_ellipsis else []) + [elem(a) for a in tail]
    for _ in range(draw(st.integers(0, 2))):
        key.insert(draw(st.integers(0, len(key))), None)
    tensor_ints = draw(st.booleans())
    return shape, tuple(key), tensor_ints


@settings(max_examples=60, deadline=None)
@given(_index_cases())
def test_getitem_matches_numpy(case):
    shape, key, tensor_ints = case
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    expected = a[key]
    with tf.Graph().as_default():
        x = tf.constant(a)
        tkey = tuple(tf.constant(k) if (tensor_ints and type(k) is int) else k for k in key)
        t = x[tkey]
        assert shp(t) == list(expected.shape)
        p = tf.placeholder(tf.float32, [None] * len(shape))
        tp = p[key]
        assert tp.shape.ndims == expected.ndim
        assert tp.shape.is_compatible_with(expected.shape)
        with tf.Session() as sess:
            v, vp = sess.run([t, tp], {p: a})
    np.testing.assert_array_equal(v, expected)
    np.testing.assert_array_equal(vp, expected)
    assert np.shape(v) == expected.shape


def test_default_op_names():
    cases = [
        (lambda x: x[1:], "strided_slice", "StridedSlice"),
        (lambda x: tf.concat([x, x], 0), "concat", "ConcatV2"),
        (lambda x: tf.reshape(x, [-1]), "Reshape", "Reshape"),
        (lambda x: tf.zeros([2]), "zeros", "Const"),
        (lambda x: tf.ones([2]), "ones", "Const"),
        (lambda x: tf.stack([x, x]), "stack", "Pack"),
        (lambda x: tf.unstack(x)[0], "unstack", "Unpack"),
        (lambda x: tf.split(x, 2)[0], "split", "Split"),
        (lambda x: tf.split(x, [1, 1])[0], "split", "SplitV"),
        (lambda x: tf.transpose(x), "transpose", "Transpose"),
        (lambda x: tf.range(3), "range", "Range"),
        (lambda x: tf.one_hot([1], 2), "one_hot", "OneHot"),
        (lambda x: tf.gather(x, [0]), "GatherV2", "GatherV2"),
        (lambda x: tf.shape(x), "Shape", "Const"),
        (lambda x: tf.fill([2], 1), "Fill", "Fill"),
        (lambda x: tf.pad(x, [[1, 1]]), "Pad", "Pad"),
        (lambda x: tf.tile(x, [2]), "Tile", "Tile"),
        (lambda x: tf.slice(x, [0], [1]), "Slice", "Slice"),
        (lambda x: tf.expand_dims(x, 0), "ExpandDims", "ExpandDims"),
        (lambda x: tf.squeeze(x), "Squeeze", "Squeeze"),
        (lambda x: tf.zeros_like(x), "zeros_like", "Const"),
        (lambda x: tf.ones_like(x), "ones_like", "Const"),
        (lambda x: tf.stop_gradient(x), "StopGradient", "StopGradient"),
    ]
    for fn, name, op_type in cases:
        with tf.Graph().as_default():
            t = fn(tf.placeholder(tf.float32, [2], name="x"))
            assert (t.op.name, t.op.type) == (name, op_type)
    with tf.Graph().as_default():
        t = tf.constant([1.0])[0]
        assert t.op.name == "strided_slice"
        assert tf.reshape(t, [1], name="r").op.name == "r"
        with tf.name_scope("outer"):
            assert tf.concat([[1], [2]], 0).op.name == "outer/concat"


# ---- gather -----------------------------------------------------------------------------------

def test_gather(g):
    a = np.arange(30, dtype=np.float32).reshape(5, 6)
    x = tf.constant(a)
    t = tf.gather(x, [3, 0, 3])
    assert t.op.type == "GatherV2" and t.op.name == "GatherV2"
    check(t, a[[3, 0, 3]])
    check(tf.gather(x, [[1], [5]], axis=1), np.take(a, [[1], [5]], axis=1))
    check(tf.gather(x, 2), a[2])
    check(tf.gather(x, tf.constant([4, 1], tf.int64), axis=-1), a[:, [4, 1]])
    b = np.arange(24).reshape(2, 3, 4).astype(np.int32)
    idx = np.array([[2, 0], [1, 1]], np.int32)
    check(tf.gather(b, idx, axis=1, batch_dims=1),
          np.stack([np.take(b[i], idx[i], axis=0) for i in range(2)]))
    p = tf.placeholder(tf.float32, [None, 6])
    i = tf.placeholder(tf.int32, [None])
    gp = tf.gather(p, i)
    assert shp(gp) == [None, 6]
    np.testing.assert_array_equal(run(gp, {p: a, i: [4, 4]}), a[[4, 4]])
    with pytest.raises(errors.InvalidArgumentError) as e:
        run(tf.gather(p, [1, 7]), {p: a})
    assert "indices[1] = 7 is not in [0, 5)" in str(e.value)
    with pytest.raises(errors.InvalidArgumentError, match=r"indices\[0,1\] = -1 is not in"):
        run(tf.gather(p, [[0, -1]]), {p: a})
    with pytest.raises(TypeError, match="DataType float32"):
        tf.gather(x, [1.0])
    with pytest.raises(ValueError, match="axis"):
        tf.gather(x, [0], axis=2)


def test_gather_nd(g):
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    x = tf.constant(a)
    t = tf.gather_nd(x, [[0, 1], [1, 2]])
    assert t.op.type == "GatherNd" and t.op.name == "GatherNd"
    check(t, np.stack([a[0, 1], a[1, 2]]))
    check(tf.gather_nd(x, [[[1, 2, 3]], [[0, 0, 0]]]), np.array([[a[1, 2, 3]], [a[0, 0, 0]]]))
    check(tf.gather_nd(x, [1]), a[1])
    p = tf.placeholder(tf.int32, [None, 3, 4])
    with pytest.raises(errors.InvalidArgumentError) as e:
        run(tf.gather_nd(p, [[0, 0], [5, 1]]), {p: a})
    assert "indices[1] = [5, 1] does not index into param shape [2,3,4]" in str(e.value)
    with pytest.raises(ValueError, match="must be <= params.rank"):
        tf.gather_nd(x, [[0, 0, 0, 0]])


def test_scatter_nd(g):
    t = tf.scatter_nd([[1], [3], [1]], [1.0, 2.0, 4.0], [5])
    assert shp(t) == [5] and t.op.type == "ScatterNd"
    check(t, np.array([0, 5, 0, 2, 0], np.float32))


# ---- tile, pad, reverse, stop_gradient ----------------------------------------------------------

def test_tile(g):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = tf.tile(a, [2, 3])
    assert t.op.type == "Tile" and t.op.name == "Tile"
    check(t, np.tile(a, (2, 3)))
    p = tf.placeholder(tf.float32, [None, 3])
    tp = tf.tile(p, [1, 2])
    assert shp(tp) == [None, 6]
    np.testing.assert_array_equal(run(tp, {p: a}), np.tile(a, (1, 2)))
    with pytest.raises(ValueError, match="rank"):
        tf.tile(a, [1, 2, 3])


@pytest.mark.parametrize("mode", ["CONSTANT", "REFLECT", "SYMMETRIC", "reflect"])
def test_pad_modes(g, mode):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    pads = [[1, 2], [2, 1]]
    t = tf.pad(a, pads, mode=mode)
    assert t.op.type == ("Pad" if mode == "CONSTANT" else "MirrorPad")
    assert t.op.name == t.op.type
    check(t, np.pad(a, pads, mode=mode.lower()))
    p = tf.placeholder(tf.float32, [None, 4])
    tp = tf.pad(p, pads, mode=mode)
    assert shp(tp) == [None, 7]
    np.testing.assert_array_equal(run(tp, {p: a}), np.pad(a, pads, mode=mode.lower()))


def test_pad_constant_values_and_errors(g):
    a = np.arange(4, dtype=np.int32).reshape(2, 2)
    t = tf.pad(a, [[0, 1], [1, 0]], constant_values=-7)
    assert t.op.type == "PadV2"
    check(t, np.pad(a, [[0, 1], [1, 0]], constant_values=-7))
    with pytest.raises(ValueError, match="less than the dimension size"):
        tf.pad(a, [[2, 0], [0, 0]], "REFLECT")
    check(tf.pad(a, [[2, 0], [0, 0]], "SYMMETRIC"), np.pad(a, [[2, 0], [0, 0]], "symmetric"))
    with pytest.raises(ValueError, match="no greater than"):
        tf.pad(a, [[3, 0], [0, 0]], "SYMMETRIC")
    with pytest.raises(ValueError, match="Unknown padding mode"):
        tf.pad(a, [[0, 0], [0, 0]], "WRAP")
    with pytest.raises(ValueError, match="rank"):
        tf.pad(a, [[0, 0]])
    p = tf.placeholder(tf.int32, [None, 2])
    with pytest.raises(errors.InvalidArgumentError, match="less than the dimension size"):
        run(tf.pad(p, [[1, 1], [0, 0]], "REFLECT"), {p: np.zeros((1, 2))})


def test_reverse_and_stop_gradient(g):
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    t = tf.reverse(a, [0, -1])
    assert t.op.type == "ReverseV2" and t.op.name == "ReverseV2"
    check(t, a[::-1, :, ::-1])
    check(tf.reverse_v2(a, [1]), a[:, ::-1])
    with pytest.raises(ValueError, match="more than once"):
        tf.reverse(a, [0, -3])
    s = tf.stop_gradient(tf.constant(a))
    assert s.op.type == "StopGradient" and s.op.name == "StopGradient"
    check(s, a)
    rs = tf.reverse_sequence(np.arange(12).reshape(3, 4).astype(np.float32), [1, 4, 2],
                             seq_axis=1, batch_axis=0)
    check(rs, np.array([[0, 1, 2, 3], [7, 6, 5, 4], [9, 8, 10, 11]], np.float32))


# ---- masks, broadcast, misc -------------------------------------------------------------------

def test_boolean_mask(g):
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    m = np.array([[True, False, True], [False, False, True]])
    t = tf.boolean_mask(a, m)
    assert t.op.name.startswith("boolean_mask/") and shp(t) == [None, 4]
    np.testing.assert_array_equal(run(t), a[m])
    m1 = np.array([True, False, True, True])
    t1 = tf.boolean_mask(a, m1, axis=2)
    assert shp(t1) == [2, 3, None]
    np.testing.assert_array_equal(run(t1), a[:, :, m1])
    p = tf.placeholder(tf.bool, [None])
    tp = tf.boolean_mask(tf.constant(a), p)
    assert shp(tp) == [None, 3, 4]
    np.testing.assert_array_equal(run(tp, {p: [False, True]}), a[1:])
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(a, True)
    with pytest.raises(ValueError, match="incompatible"):
        tf.boolean_mask(a, [True, False, True])


def test_sequence_mask(g):
    t = tf.sequence_mask([1, 3, 2], 5)
    assert shp(t) == [3, 5] and t.dtype == tf.bool
    check(t, np.arange(5) < np.array([1, 3, 2])[:, None])
    t2 = tf.sequence_mask(tf.constant([[1], [0]]), dtype=tf.float32)
    assert shp(t2) == [2, 1, None] and t2.dtype == tf.float32
    np.testing.assert_array_equal(run(t2), np.array([[[1.0]], [[0.0]]], np.float32))


def test_broadcast_to(g):
    a = np.arange(3, dtype=np.int32)
    t = tf.broadcast_to(a, [2, 3])
    assert t.op.type == "BroadcastTo" and t.op.name == "BroadcastTo"
    v = check(t, np.broadcast_to(a, (2, 3)))
    v[0, 0] = 9  # fetched values are writable copies
    p = tf.placeholder(tf.float32, [None, 1])
    tp = tf.broadcast_to(p, [4, 5])
    assert shp(tp) == [4, 5]
    with pytest.raises(ValueError, match="Incompatible shapes"):
        tf.broadcast_to(a, [2, 4])
    d = tf.broadcast_dynamic_shape([2, 1], [3])
    assert run(d).tolist() == [2, 3]
    bs = tf.broadcast_static_shape(tf.TensorShape([2, 1]), tf.TensorShape([3]))
    assert bs.as_list() == [2, 3]


def test_matrix_diag_family(g):
    d = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    md = tf.matrix_diag(d)
    assert md.op.type == "MatrixDiag"
    exp = np.zeros((2, 3, 3), np.float32)
    for i in range(2):
        exp[i] = np.diag(d[i])
    check(md, exp)
    check(tf.matrix_diag_part(exp), d)
    x = np.ones((2, 3), np.float32)
    check(tf.matrix_set_diag(x, [5.0, 6.0]), np.array([[5, 1, 1], [1, 6, 1]], np.float32))
    check(tf.diag([1, 2]), np.diag([1, 2]).astype(np.int32))
    check(tf.diag_part(np.arange(9).reshape(3, 3).astype(np.int32)),
          np.array([0, 4, 8], np.int32))
    m = np.arange(16, dtype=np.float32).reshape(4, 4)
    check(tf.matrix_band_part(m, 1, 0), np.tril(np.triu(m, -1)))


def test_permutation_unique_setdiff_meshgrid(g):
    check(tf.invert_permutation([3, 0, 2, 1]), np.array([1, 3, 2, 0], np.int32))
    y, idx = tf.unique([4, 1, 4, 7, 1, 1])
    assert y.op.type == "Unique" and shp(y) == [None]
    yv, iv = run([y, idx])
    assert yv.tolist() == [4, 1, 7] and iv.tolist() == [0, 1, 0, 2, 1, 1]
    assert iv.dtype == np.int32
    out, oi = tf.setdiff1d([1, 2, 3, 4, 5], [2, 5])
    ov, oiv = run([out, oi])
    assert ov.tolist() == [1, 3, 4] and oiv.tolist() == [0, 2, 3]
    gx, gy = tf.meshgrid([1, 2, 3], [4, 5])
    ex, ey = np.meshgrid([1, 2, 3], [4, 5])
    assert shp(gx) == [2, 3]
    vx, vy = run([gx, gy])
    np.testing.assert_array_equal(vx, ex)
    np.testing.assert_array_equal(vy, ey)
    ix, iy = tf.meshgrid([1, 2, 3], [4, 5], indexing="ij")
    np.testing.assert_array_equal(run(ix), np.meshgrid([1, 2, 3], [4, 5], indexing="ij")[0])


def test_identity_n_and_parallel_stack(g):
    a, b = tf.identity_n([tf.constant(1), tf.constant([2.0])])
    assert a.op.type == "IdentityN" and shp(b) == [1]
    assert run([a, b])[1].tolist() == [2.0]
    check(tf.parallel_stack([tf.constant([1]), tf.constant([2])]), np.array([[1], [2]], np.int32))


def test_const_inputs_are_never_mutated(g):
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    c = tf.constant(base)
    outs = [tf.reshape(c, [-1]), tf.transpose(c), c[::-1], tf.reverse(c, [1]),
            tf.expand_dims(c, 0), tf.squeeze(tf.expand_dims(c, 0)), tf.split(c, 2, 1)[0],
            tf.unstack(c)[0], tf.slice(c, [0, 0], [2, 2]), tf.broadcast_to(c, [2, 3, 4]),
            tf.stop_gradient(c), tf.pad(c, [[1, 0], [0, 0]]), tf.tile(c, [1, 1])]
    vals = run(outs)
    for v in vals:
        v[...] = -1  # every fetched value is writable and private
    np.testing.assert_array_equal(run(c), base)
