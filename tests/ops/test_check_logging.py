"""Print, tf.print, Assert, check_numerics and the tf.assert_* family."""

import io
import sys

import numpy as np
import pytest

import headwater as tf
from headwater.ops.logging_ops import summarize_v1, summarize_v2


@pytest.fixture
def g():
    with tf.Graph().as_default() as graph:
        yield graph


# ---- formatting ----------------------------------------------------------------------------

@pytest.mark.parametrize("value,summarize,expected", [
    (np.array([1, 2, 3]), 3, "1 2 3"),
    (np.arange(5), 3, "0 1 2..."),
    (np.arange(5), -1, "0 1 2 3 4"),
    (np.int32(7), 3, "7"),
    (np.array([[1, 2], [3, 4]]), 3, "[1 2][3...]..."),
    (np.array([[1, 2], [3, 4]]), 4, "[1 2][3 4]"),
    (np.arange(6).reshape(2, 3), 3, "[0 1 2]..."),
    (np.array([True, False]), 3, "1 0"),
    (np.array([0.5, 1.0, 1e10], np.float32), 3, "0.5 1 1e+10"),
    (np.float32(1 / 3), 3, "0.333333343"),
    (np.float64(1 / 3), 3, "0.33333333333333331"),
    (np.float32(0.1), 3, "0.1"),
    (np.array([np.nan, -np.inf], np.float32), 3, "nan -inf"),
    (np.array([b"ab", b"c\n"], object), 3, "ab c\\n"),
    (np.zeros((0,)), 3, ""),
])
def test_summarize_v1(value, summarize, expected):
    assert summarize_v1(value, summarize) == expected


@pytest.mark.parametrize("value,summarize,expected", [
    (np.array([1, 2, 3]), 3, "[1 2 3]"),
    (np.arange(10), 3, "[0 1 2 ... 7 8 9]"),
    (np.arange(10), None, "[0 1 2 3 4 5 6 7 8 9]"),
    (np.int64(5), 3, "5"),
    (np.array([[1, 2], [3, 4]]), 3, "[[1 2]\n [3 4]]"),
    (np.arange(8).reshape(2, 2, 2), 3, "[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]]"),
    (np.arange(16).reshape(8, 2), 1, "[[0 1]\n ...\n [14 15]]"),
    (np.array([1.5, 2.0], np.float32), 3, "[1.5 2]"),
    (np.array(["a", "b"], object), 3, '["a" "b"]'),
])
def test_summarize_v2(value, summarize, expected):
    assert summarize_v2(value, summarize) == expected


# ---- Print ---------------------------------------------------------------------------------

def test_print_identity_and_format(g, capfd):
    x = tf.constant([1, 2, 3, 4])
    y = tf.Print(x, [x, tf.constant(2.5), tf.constant([[1, 2], [3, 4]])], "x = ")
    assert y.op.type == "Print" and y.op.name == "Print"
    assert y.dtype == tf.int32 and y.shape.as_list() == [4]
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(y), [1, 2, 3, 4])
    assert capfd.readouterr().err == "x = [1 2 3...][2.5][[1 2][3...]...]\n"


def test_print_summarize_first_n_and_message_none(g, capfd):
    x = tf.placeholder(tf.float32, [None])
    y = tf.Print(x, [x], summarize=5, first_n=2, name="p")
    z = tf.Print(x, [], "only message")
    assert y.op.name == "p"
    with tf.Session() as s:
        for v in ([1.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [7.0]):
            s.run(y, {x: v})
        s.run(z, {x: [1.0]})
    assert capfd.readouterr().err == "[1]\n[1 2 3 4 5...]\nonly message\n"


def test_print_counts_across_plans_of_one_session(g, capfd):
    x = tf.constant(1)
    y = tf.Print(x, [x], "n", first_n=1)
    with tf.Session() as s:
        s.run(y)
        s.run([y, x])  # another plan, same session: no second print
    with tf.Session() as s:
        s.run(y)  # a new session starts counting again
    assert capfd.readouterr().err == "n[1]\nn[1]\n"


# ---- tf.print ------------------------------------------------------------------------------

def test_tf_print_stderr_default_and_returns_op(g, capfd):
    x = tf.constant([[1, 2], [3, 4]])
    op = tf.print("x:", x, 7, [x, "s"], {"k": 1.5})
    assert isinstance(op, tf.Operation) and op.type == "PrintV2"
    with tf.Session() as s:
        assert s.run(op) is None
    out = capfd.readouterr()
    assert out.out == ""
    assert out.err == "x: [[1 2]\n [3 4]] 7 [[[1 2]\n [3 4]], 's'] {'k': 1.5}\n"


def test_tf_print_stdout_sep_end_summarize(g, capsys):
    x = tf.range(10) if hasattr(tf, "range") else tf.constant(np.arange(10, dtype=np.int32))
    op = tf.print(x, tf.constant(True), output_stream=sys.stdout, sep="|", end="!\n",
                  summarize=2)
    op2 = tf.print(x, output_stream=sys.stdout, summarize=-1)
    with tf.Session() as s:
        s.run(op)
        s.run(op2)
    assert capsys.readouterr().out == "[0 1 ... 8 9]|1!\n[0 1 2 3 4 5 6 7 8 9]\n"


def test_tf_print_control_dependency_and_streams(g, tmp_path):
    buf = io.StringIO()
    logged = []
    x = tf.constant(3.0)
    with tf.control_dependencies([tf.print("value", x, output_stream=buf)]):
        y = x + 1.0
    p2 = tf.print("logged", x, output_stream=logged.append)
    path = tmp_path / "out.txt"
    p3 = tf.print("to file", x, output_stream="file://%s" % path)
    with tf.Session() as s:
        assert s.run(y) == 4.0
        s.run([p2, p3])
    assert buf.getvalue() == "value 3\n"
    assert logged == ["logged 3"]
    assert path.read_text() == "to file 3\n"
    with pytest.raises(ValueError, match="Unsupported output stream"):
        tf.print(x, output_stream="stdout")


# ---- Assert --------------------------------------------------------------------------------

def test_assert_passes_and_fails(g):
    c = tf.placeholder(tf.bool, [])
    x = tf.constant([1, 2, 3, 4])
    a = tf.Assert(c, ["x is", x, 7, 2.5])
    assert isinstance(a, tf.Operation) and a.type == "Assert" and a.name == "Assert/Assert"
    assert tf.Assert(c, [x], name="check").name == "check/Assert"
    with tf.Session() as s:
        assert s.run(a, {c: True}) is None
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            s.run(a, {c: False})
    assert e.value.message.startswith("assertion failed: [x is] [1 2 3...] [7] [2.5]")
    assert e.value.op is a
    with pytest.raises(TypeError, match="condition"):
        tf.Assert(tf.constant(1), [x])


def test_assert_summarize_and_control_dependency(g):
    x = tf.placeholder(tf.int32, [None])
    a = tf.Assert(tf.reduce_all(tf.greater(x, 0)), [x], summarize=10)
    with tf.control_dependencies([a]):
        y = tf.identity(x)
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(y, {x: [1, 2]}), [1, 2])
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"assertion failed: \[1 2 3 4 0\]"):
            s.run(y, {x: [1, 2, 3, 4, 0]})


# ---- check_numerics ------------------------------------------------------------------------

def test_check_numerics(g):
    x = tf.placeholder(tf.float32, [None])
    y = tf.check_numerics(x, "my tensor")
    assert y.op.type == "CheckNumerics" and y.shape.as_list() == [None]
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(y, {x: [1.0, 2.0]}), [1.0, 2.0])
        for val, what in (([np.nan], "NaN"), ([np.inf, 1.0], "Inf"),
                          ([np.nan, -np.inf], "Inf and NaN")):
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match="my tensor : Tensor had %s values" % what):
                s.run(y, {x: val})
    with pytest.raises(TypeError, match="DataType int32 not in list of allowed values"):
        tf.check_numerics(tf.constant([1]), "m")


def test_verify_tensor_all_finite(g):
    x = tf.placeholder(tf.float64, [])
    y = tf.verify_tensor_all_finite(x, "x bad")
    with tf.Session() as s:
        assert s.run(y, {x: 2.0}) == 2.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="x bad : Tensor had Inf"):
            s.run(y, {x: np.inf})


# ---- assert_* ------------------------------------------------------------------------------

BINARY = [
    (tf.assert_equal, "==", [1, 2], [1, 3], [1, 2]),
    (tf.assert_none_equal, "!=", [1, 2], [1, 3], [3, 4]),
    (tf.assert_less, "<", [1, 2], [2, 2], [2, 3]),
    (tf.assert_less_equal, "<=", [1, 2], [1, 1], [1, 2]),
    (tf.assert_greater, ">", [1, 2], [0, 2], [0, 1]),
    (tf.assert_greater_equal, ">=", [1, 2], [1, 3], [1, 2]),
]


@pytest.mark.parametrize("fn,sym,x,bad_y,good_y", BINARY)
def test_binary_asserts_at_run_time(g, fn, sym, x, bad_y, good_y):
    xt = tf.placeholder(tf.int32, [2], name="xt")
    yt = tf.placeholder(tf.int32, [2], name="yt")
    a = fn(xt, yt)
    assert a.type == "Assert"
    with tf.Session() as s:
        s.run(a, {xt: x, yt: good_y})
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            s.run(a, {xt: x, yt: bad_y})
    msg = e.value.message
    assert msg.startswith(
        "assertion failed: [Condition x %s y did not hold element-wise:] [x (xt:0) = ] "
        "[%d %d] [y (yt:0) = ] [%d %d]" % ((sym,) + tuple(x) + tuple(bad_y)))


@pytest.mark.parametrize("fn,sym,x,bad_y,good_y", BINARY)
def test_binary_asserts_static(g, fn, sym, x, bad_y, good_y):
    fn(tf.constant(x), tf.constant(good_y))  # passes statically: returns an op
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        fn(tf.constant(x, name="cx"), tf.constant(bad_y, name="cy"), message="custom")
    assert e.value.message == (
        "custom\nCondition x %s y did not hold element-wise:\nx (cx:0) = \n%s\ny (cy:0) = \n%s"
        % (sym, np.array(x), np.array(bad_y)))


def test_binary_assert_python_values_broadcast_and_dtypes(g):
    x = tf.placeholder(tf.float32, [None])
    a = tf.assert_less(x, 10.0, data=["x too big:", x], summarize=2)
    with tf.Session() as s:
        s.run(a, {x: [1.0, 2.0, 9.5]})
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"^assertion failed: \[x too big:\] \[1 20...\]"):
            s.run(a, {x: [1.0, 20.0, 3.0]})
    with pytest.raises(TypeError):
        tf.assert_equal(x, tf.constant(1))
    with pytest.raises(ValueError):
        tf.assert_equal(tf.placeholder(tf.int32, [2]), tf.placeholder(tf.int32, [3]))
    same = tf.assert_equal(x, x)
    assert same.type == "NoOp"


@pytest.mark.parametrize("fn,sym,good,bad", [
    (tf.assert_positive, ">", [1, 2], [1, 0]),
    (tf.assert_negative, "<", [-1, -2], [-1, 0]),
    (tf.assert_non_negative, ">=", [0, 2], [0, -1]),
    (tf.assert_non_positive, "<=", [0, -2], [0, 1]),
])
def test_sign_asserts(g, fn, sym, good, bad):
    x = tf.placeholder(tf.int32, [2], name="x")
    a = fn(x)
    with tf.Session() as s:
        s.run(a, {x: good})
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            s.run(a, {x: bad})
    assert e.value.message.startswith(
        "assertion failed: [] [Condition x %s 0 did not hold element-wise:] [x (x:0) = ] "
        "[%d %d]" % (sym, bad[0], bad[1]))
    fn(tf.constant(good))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Condition x %s 0 did not hold" % sym):
        fn(tf.constant(bad), message="msg")
    x2 = tf.placeholder(tf.float32, [None])
    with tf.Session() as s:
        s.run(fn(x2), {x2: np.asarray(good, np.float32)})


def test_assert_rank_static(g):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    ok = tf.assert_rank(x, 2)
    assert ok.type == "NoOp"
    assert tf.assert_rank_at_least(x, 1).type == "NoOp"
    assert tf.assert_rank_in(x, [1, 2]).type == "NoOp"
    with pytest.raises(ValueError) as e:
        tf.assert_rank(x, 3, message="rank msg")
    assert str(e.value) == ("rank msg.  Tensor x:0 must have rank 3.  Received rank 2, "
                            "shape (?, 3)")
    with pytest.raises(ValueError, match=r"must have rank at least 3\.  Received rank 2"):
        tf.assert_rank_at_least(x, 3)
    with pytest.raises(ValueError, match=r"must have rank in \(0, 1\)"):
        tf.assert_rank_in(x, [0, 1])
    with pytest.raises(ValueError, match="Rank must be a scalar"):
        tf.assert_rank(x, [2])


def test_assert_rank_dynamic(g):
    x = tf.placeholder(tf.float32, name="x")
    a = tf.assert_rank(x, 2)
    b = tf.assert_rank_at_least(x, 2)
    c = tf.assert_rank_in(x, [0, 2])
    with tf.Session() as s:
        s.run([a, b, c], {x: np.zeros((2, 3))})
        s.run(b, {x: np.zeros((1, 1, 1))})
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            s.run(a, {x: np.zeros(4)})
        assert e.value.message.startswith(
            "assertion failed: [] [Tensor x:0 must have rank] [2] [Received shape: ] [4]")
        with pytest.raises(tf.errors.InvalidArgumentError, match="must have rank at least"):
            s.run(b, {x: np.zeros(4)})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must have rank in"):
            s.run(c, {x: np.zeros(4)})


def test_assert_type_integer_scalar(g):
    x = tf.constant([1.0], name="f")
    i = tf.constant(3, name="i")
    assert tf.assert_type(x, tf.float32).type == "NoOp"
    with pytest.raises(TypeError, match=r"f:0 must be of type <dtype: 'int32'>"):
        tf.assert_type(x, tf.int32)
    assert tf.assert_integer(i).type == "NoOp"
    with pytest.raises(TypeError, match=r'Expected "x" to be integer type.  Found: f:0 of '
                                        r"dtype <dtype: 'float32'>"):
        tf.assert_integer(x)
    assert tf.assert_scalar(i) is i
    with pytest.raises(ValueError, match=r"Expected scalar shape for f:0, saw shape: \(1,\)"):
        tf.assert_scalar(x)
    with pytest.raises(ValueError, match="Expected scalar shape"):
        tf.assert_scalar(tf.placeholder(tf.int32))


def test_assert_proper_iterable():
    tf.assert_proper_iterable([1, 2])
    tf.assert_proper_iterable((x for x in range(2)))
    for bad in ("abc", np.zeros(2), 3):
        with pytest.raises(TypeError):
            tf.assert_proper_iterable(bad)


def test_is_non_decreasing_and_strictly_increasing(g):
    x = tf.placeholder(tf.int32)
    nd = tf.is_non_decreasing(x)
    si = tf.is_strictly_increasing(x)
    assert nd.dtype == tf.bool and nd.shape.as_list() == []
    with tf.Session() as s:
        assert s.run([nd, si], {x: [1, 2, 2]}) == [True, False]
        assert s.run([nd, si], {x: [[1, 2], [3, 4]]}) == [True, True]
        assert s.run([nd, si], {x: [3, 1]}) == [False, False]
        assert s.run([nd, si], {x: [5]}) == [True, True]
    with pytest.raises(TypeError, match="numeric"):
        tf.is_non_decreasing(tf.constant([True]))
    assert tf.is_numeric_tensor(x) and not tf.is_numeric_tensor(tf.constant(True))


def test_assert_inside_cond_only_checked_in_taken_branch(g):
    x = tf.placeholder(tf.int32, [])

    def checked():
        with tf.control_dependencies([tf.assert_positive(x)]):
            return tf.identity(x)

    out = tf.cond(tf.greater(x, -100), checked, lambda: x)
    out2 = tf.cond(tf.greater(x, 100), checked, lambda: x)
    with tf.Session() as s:
        assert s.run(out, {x: 5}) == 5
        assert s.run(out2, {x: -5}) == -5  # the assert lives in the untaken branch
        with pytest.raises(tf.errors.InvalidArgumentError, match="Condition x > 0"):
            s.run(out, {x: -5})
