"""Variables, state ops and variable scopes against TF1 behaviour."""

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


def _op_names(g):
    return [op.name for op in g.get_operations()]


# ---- Variable basics -----------------------------------------------------------------------


def test_getting_started_counter(graph):
    state = tf.Variable(0, name="counter")
    one = tf.constant(1)
    new_value = tf.add(state, one)
    update = tf.assign(state, new_value)
    init_op = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init_op)
        assert sess.run(state) == 0
        seen = []
        for _ in range(3):
            sess.run(update)
            seen.append(sess.run(state))
    assert seen == [1, 2, 3]
    assert state.dtype == tf.int32


def test_variable_creates_tf1_ops(graph):
    w = tf.Variable([1.0, 2.0], name="W")
    assert _op_names(graph) == ["W/initial_value", "W", "W/Assign", "W/read"]
    assert [op.type for op in graph.get_operations()] == ["Const", "VariableV2", "Assign",
                                                          "Identity"]
    assert w.name == "W:0"
    assert w.op.name == "W"
    assert w.op.type == "VariableV2"
    assert w.initializer.name == "W/Assign"
    assert w.initial_value.name == "W/initial_value:0"
    assert w.value().name == "W/read:0"
    assert w.dtype == tf.float32
    assert w.shape.as_list() == [2]
    assert w.get_shape().as_list() == [2]
    assert w.graph is graph
    assert repr(w) == "<tf.Variable 'W:0' shape=(2,) dtype=float32_ref>"
    w2 = tf.Variable(1.0, name="W")
    assert w2.name == "W_1:0"
    v = tf.Variable(3)
    assert v.name == "Variable:0"
    assert tf.Variable(4).name == "Variable_1:0"


def test_variable_inside_name_scope(graph):
    with tf.name_scope("layer"):
        w = tf.Variable(tf.constant([[1.0]]), name="w")
    assert w.name == "layer/w:0"
    assert w.initializer.name == "layer/w/Assign"


def test_callable_initial_value(graph):
    v = tf.Variable(lambda: [1.0, 2.0, 3.0], name="v")
    assert v.initial_value.name == "v/Initializer/initial_value:0"
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0, 3.0])


def test_dtype_argument_and_numpy_initial_value(graph):
    v = tf.Variable(np.arange(6).reshape(2, 3), dtype=tf.float64)
    assert v.dtype == tf.float64
    assert v.shape.as_list() == [2, 3]
    with tf.Session() as sess:
        sess.run(v.initializer)
        out = sess.run(v)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.arange(6).reshape(2, 3))


def test_initial_value_requires_static_shape(graph):
    p = tf.placeholder(tf.float32)
    with pytest.raises(ValueError, match="initial_value must have a shape specified"):
        tf.Variable(p)
    with pytest.raises(ValueError, match="initial_value must be specified"):
        tf.Variable()


def test_uninitialized_variable_error(graph):
    w = tf.Variable([1.0, 2.0], name="W")
    y = w * 2.0
    with tf.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError,
                           match="Attempting to use uninitialized value W"):
            sess.run(y)
        with pytest.raises(errors.FailedPreconditionError,
                           match="Attempting to use uninitialized value W"):
            sess.run(w.assign_add([1.0, 1.0]))


def test_two_sessions_hold_independent_values(graph):
    v = tf.Variable(10.0)
    inc = v.assign_add(1.0)
    s1, s2 = tf.Session(), tf.Session()
    s1.run(v.initializer)
    s2.run(v.initializer)
    s1.run(inc)
    s1.run(inc)
    assert s1.run(v) == 12.0
    assert s2.run(v) == 10.0
    s2.close()
    with pytest.raises(errors.FailedPreconditionError):
        tf.Session().run(v)
    s1.close()


def test_fetch_returns_a_copy(graph):
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        a = sess.run(v)
        a[0] = 100.0
        b = sess.run(v.value())
        b[1] = 100.0
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_assign_ops_values(graph):
    v = tf.Variable([1.0, 2.0])
    a = v.assign([5.0, 6.0])
    add = v.assign_add([1.0, 1.0])
    sub = tf.assign_sub(v, [0.5, 0.5])
    assert a.op.type == "Assign" and add.op.type == "AssignAdd" and sub.op.type == "AssignSub"
    assert a.shape.as_list() == [2] and a.dtype == tf.float32
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(a), [5.0, 6.0])
        np.testing.assert_array_equal(sess.run(add), [6.0, 7.0])
        np.testing.assert_array_equal(sess.run(sub), [5.5, 6.5])
        np.testing.assert_array_equal(sess.run(v), [5.5, 6.5])
        # Python values adopt the variable's dtype
        np.testing.assert_array_equal(sess.run(tf.assign_add(v, [1, 1])), [6.5, 7.5])


def test_assign_read_value_false_returns_op(graph):
    v = tf.Variable(1.0)
    op = v.assign(2.0, read_value=False)
    assert isinstance(op, tf.Operation)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(op) is None
        assert sess.run(v) == 2.0


def test_earlier_fetch_not_changed_by_later_update(graph):
    v = tf.Variable([1.0, 2.0])
    r = v.read_value()
    inc = v.assign_add([1.0, 1.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        before = sess.run(r)
        sess.run(inc)
        np.testing.assert_array_equal(before, [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(r), [2.0, 3.0])


def test_assign_shape_checks(graph):
    v = tf.Variable([1.0, 2.0], name="v")
    with pytest.raises(ValueError, match="Shapes must be equal"):
        v.assign([1.0, 2.0, 3.0])
    p = tf.placeholder(tf.float32)
    a = v.assign(p)
    assert a.shape.as_list() == [2]
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(errors.InvalidArgumentError,
                           match=r"Assign requires shapes of both tensors to match. "
                                 r"lhs shape= \[2\] rhs shape= \[3\]"):
            sess.run(a, {p: [1.0, 2.0, 3.0]})
        add = v.assign_add(p)
        with pytest.raises(errors.InvalidArgumentError, match="shapes must be equal"):
            sess.run(add, {p: [1.0, 2.0, 3.0]})
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_validate_shape_false(graph):
    v = tf.Variable([1.0, 2.0], validate_shape=False)
    assert v.shape.ndims is None
    p = tf.placeholder(tf.float32)
    a = tf.assign(v, p, validate_shape=False)
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(a, {p: [[1.0, 2.0, 3.0]]})
        np.testing.assert_array_equal(sess.run(v), [[1.0, 2.0, 3.0]])


def test_assign_dtype_and_target_errors(graph):
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(TypeError, match="Assign"):
        v.assign(tf.constant([1, 2]))
    with pytest.raises(TypeError, match="l-value"):
        tf.assign(tf.constant([1.0, 2.0]), [1.0, 2.0])
    with pytest.raises(TypeError, match="l-value"):
        tf.assign(v.value(), [1.0, 2.0])


def test_variable_operators(graph):
    v = tf.Variable([1.0, 2.0])
    m = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    exprs = {
        "v*2+1": v * 2 + 1,
        "1-v": 1 - v,
        "v/2": v / 2,
        "-v": -v,
        "v**2": v ** 2,
        "v+v": v + v,
        "np*v": np.array([3.0, 4.0], dtype=np.float32) * v,
        "m@m": m @ m,
        "v<2": v < 2,
    }
    assert exprs["v*2+1"].name == "add:0"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(exprs)
    np.testing.assert_array_equal(out["v*2+1"], [3.0, 5.0])
    np.testing.assert_array_equal(out["1-v"], [0.0, -1.0])
    np.testing.assert_array_equal(out["v/2"], [0.5, 1.0])
    np.testing.assert_array_equal(out["-v"], [-1.0, -2.0])
    np.testing.assert_array_equal(out["v**2"], [1.0, 4.0])
    np.testing.assert_array_equal(out["v+v"], [2.0, 4.0])
    np.testing.assert_array_equal(out["np*v"], [3.0, 8.0])
    np.testing.assert_array_equal(out["m@m"], [[7.0, 10.0], [15.0, 22.0]])
    np.testing.assert_array_equal(out["v<2"], [True, False])
    with pytest.raises(TypeError):
        bool(v)
    with pytest.raises(TypeError):
        iter(v)


@pytest.mark.skipif(not hasattr(tf.Tensor, "__getitem__"), reason="array ops not built yet")
def test_variable_getitem(graph):
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    row = v[1]
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(row), [3.0, 4.0])


def test_variable_tensor_conversion(graph):
    v = tf.Variable([1.0, 2.0], name="v")
    t = tf.convert_to_tensor(v)
    assert t is v.value()
    assert t.name == "v/read:0"
    with pytest.raises(ValueError, match="Incompatible type conversion requested to type "
                                         "'int32' for variable of type 'float32_ref'"):
        tf.convert_to_tensor(v, dtype=tf.int32)
    assert tf.is_tensor(v)


def test_feeding_a_variable(graph):
    v = tf.Variable([1.0, 2.0])
    y = v * 2.0
    with tf.Session() as sess:
        # The variable need not be initialized when it is fed.
        np.testing.assert_array_equal(sess.run(y, {v: [10.0, 20.0]}), [20.0, 40.0])
        np.testing.assert_array_equal(sess.run(v, {v: [7.0, 8.0]}), [7.0, 8.0])


def test_load_and_eval(graph):
    v = tf.Variable([1.0, 2.0])
    n_ops = len(graph.get_operations())
    with tf.Session() as sess:
        sess.run(v.initializer)
        v.load([3.0, 4.0], sess)
        np.testing.assert_array_equal(sess.run(v), [3.0, 4.0])
        v.load([5.0, 6.0])  # default session
        np.testing.assert_array_equal(v.eval(), [5.0, 6.0])
        np.testing.assert_array_equal(v.value().eval(), [5.0, 6.0])
    assert len(graph.get_operations()) == n_ops
    with pytest.raises(ValueError, match="session"):
        v.load([1.0, 1.0])


def test_initialized_value_and_dependent_initial_values(graph):
    w1 = tf.Variable(tf.constant([1.0, 2.0]), name="w1")
    w2 = tf.Variable(w1.initialized_value() * 2.0, name="w2")
    # TF1 rewrites initial values that read other variables, so one init run suffices.
    w3 = tf.Variable(w1 * 3.0, name="w3")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(w2), [2.0, 4.0])
        np.testing.assert_array_equal(sess.run(w3), [3.0, 6.0])
        sess.run(w1.assign([10.0, 10.0]))
        np.testing.assert_array_equal(sess.run(w1.initialized_value()), [10.0, 10.0])
    with tf.Session() as sess:
        # Initializing only w3 works even though w1 is uninitialized.
        sess.run(w3.initializer)
        np.testing.assert_array_equal(sess.run(w3), [3.0, 6.0])
        with pytest.raises(errors.FailedPreconditionError):
            sess.run(w1)


def test_variable_ignores_control_dependencies(graph):
    c = tf.constant(1.0)
    with tf.control_dependencies([c]):
        v = tf.Variable(2.0)
    assert v.op.control_inputs == [] and v.initializer.control_inputs == []


def test_set_shape_and_count_up_to(graph):
    v = tf.Variable([1.0, 2.0], validate_shape=False)
    v.set_shape([2])
    assert v.shape.as_list() == [2] and v.value().shape.as_list() == [2]
    c = tf.Variable(0, name="c")
    up = c.count_up_to(2)
    with tf.Session() as sess:
        sess.run(c.initializer)
        assert [sess.run(up), sess.run(up)] == [0, 1]
        with pytest.raises(errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(up)


# ---- collections and initializers ---------------------------------------------------------


def test_collections(graph):
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b", trainable=False)
    c = tf.Variable(3.0, name="c", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    with tf.name_scope("foo"):
        d = tf.Variable(4.0, name="d")
    assert tf.global_variables() == [a, b, d]
    assert tf.all_variables() == [a, b, d]
    assert tf.trainable_variables() == [a, c, d]
    assert tf.local_variables() == [c]
    assert tf.global_variables("foo") == [d]
    assert tf.trainable_variables(scope="foo") == [d]
    assert tf.model_variables() == [] and tf.moving_average_variables() == []
    with pytest.raises(ValueError, match="collections argument"):
        tf.Variable(1.0, collections="variables")


def test_global_and_local_initializers(graph):
    a = tf.Variable(1.0)
    loc = tf.Variable(2.0, collections=[tf.GraphKeys.LOCAL_VARIABLES])
    init = tf.global_variables_initializer()
    assert init.name == "init" and init.type == "NoOp"
    assert {op.name for op in init.control_inputs} == {a.initializer.name}
    linit = tf.local_variables_initializer()
    assert linit.name == "init_1"
    with tf.Session() as sess:
        sess.run(init)
        assert sess.run(a) == 1.0
        with pytest.raises(errors.FailedPreconditionError):
            sess.run(loc)
        sess.run(linit)
        assert sess.run(loc) == 2.0


def test_initializer_with_no_variables(graph):
    init = tf.global_variables_initializer()
    assert init.type == "NoOp"
    with tf.Session() as sess:
        assert sess.run(init) is None


def test_variables_initializer_subset_and_report(graph):
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b")
    with tf.variable_scope("s"):
        c = tf.get_variable("c", initializer=3.0)
    report = tf.report_uninitialized_variables()
    assert report.dtype == tf.string and report.shape.as_list() == [None]
    is_init = tf.is_variable_initialized(a)
    assert is_init.dtype == tf.bool and is_init.shape.ndims == 0
    with tf.Session() as sess:
        out = sess.run(report)
        assert out.dtype == object
        assert list(out) == [b"a", b"b", b"s/c"]
        assert not sess.run(is_init)
        sess.run(tf.variables_initializer([a, c]))
        assert list(sess.run(report)) == [b"b"]
        assert sess.run(is_init)
        assert list(sess.run(tf.report_uninitialized_variables([a]))) == []
        sess.run(tf.variables_initializer([b]))
        assert sess.run(report).shape == (0,)
        sess.run(tf.assert_variables_initialized())
    with tf.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError):
            sess.run(tf.assert_variables_initialized([a]))


# ---- scatter ops ---------------------------------------------------------------------------


def test_scatter_ops_match_numpy(graph):
    init = np.arange(12, dtype=np.float32).reshape(4, 3)
    v = tf.Variable(init)
    idx = np.array([2, 0, 2])
    upd = np.ones((3, 3), dtype=np.float32) * np.array([[1.0], [2.0], [3.0]], np.float32)
    ops = {
        "update": tf.scatter_update(v, [1, 3], [[9.0, 9.0, 9.0], [8.0, 8.0, 8.0]]),
        "add": tf.scatter_add(v, idx, upd),
        "sub": tf.scatter_sub(v, idx, upd),
        "mul": tf.scatter_mul(v, [0], [[2.0, 2.0, 2.0]]),
    }
    assert ops["add"].shape.as_list() == [4, 3]
    with tf.Session() as sess:
        sess.run(v.initializer)
        expect = init.copy()
        expect[[1, 3]] = [[9.0] * 3, [8.0] * 3]
        np.testing.assert_array_equal(sess.run(ops["update"]), expect)
        np.add.at(expect, idx, upd)  # duplicate indices accumulate
        np.testing.assert_array_equal(sess.run(ops["add"]), expect)
        np.subtract.at(expect, idx, upd)
        np.testing.assert_array_equal(sess.run(ops["sub"]), expect)
        expect[0] *= 2.0
        np.testing.assert_array_equal(sess.run(ops["mul"]), expect)
        np.testing.assert_array_equal(sess.run(v), expect)


def test_scatter_errors(graph):
    v = tf.Variable([1.0, 2.0, 3.0])
    bad = tf.scatter_update(v, [5], [1.0])
    with pytest.raises(ValueError, match="updates must have shape"):
        tf.scatter_update(v, [0, 1], [1.0])
    with pytest.raises(TypeError, match="indices"):
        tf.scatter_update(v, tf.constant([0.0]), [1.0])
    with tf.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError):
            sess.run(bad)
        sess.run(v.initializer)
        with pytest.raises(errors.InvalidArgumentError, match=r"indices\[0\] = 5 is not in "
                                                              r"\[0, 3\)"):
            sess.run(bad)


def test_scatter_nd_ops(graph):
    v = tf.Variable(np.zeros((2, 3), dtype=np.float32))
    upd = tf.scatter_nd_update(v, [[0, 1], [1, 2]], [5.0, 6.0])
    add = tf.scatter_nd_add(v, [[0, 1], [0, 1]], [1.0, 1.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(upd), [[0, 5, 0], [0, 0, 6]])
        np.testing.assert_array_equal(sess.run(add), [[0, 7, 0], [0, 0, 6]])


# ---- variable scopes and get_variable ------------------------------------------------------


def test_nested_scope_names(graph):
    with tf.variable_scope("foo"):
        with tf.variable_scope("bar"):
            v = tf.get_variable("v", [1])
            c = tf.constant(1.0, name="c")
            assert tf.get_variable_scope().name == "foo/bar"
            assert tf.get_variable_scope().original_name_scope == "foo/bar/"
    assert v.name == "foo/bar/v:0"
    assert c.name == "foo/bar/c:0"
    assert v.initializer.name == "foo/bar/v/Assign"
    assert any(n.startswith("foo/bar/v/Initializer/") for n in _op_names(graph))
    assert tf.get_variable_scope().name == ""


def test_reuse_rules_and_error_texts(graph):
    with tf.variable_scope("foo"):
        v = tf.get_variable("v", [2])
    with pytest.raises(ValueError) as e:
        with tf.variable_scope("foo"):
            tf.get_variable("v", [2])
    assert str(e.value).startswith(
        "Variable foo/v already exists, disallowed. Did you mean to set reuse=True or "
        "reuse=tf.AUTO_REUSE in VarScope?")
    with pytest.raises(ValueError) as e:
        with tf.variable_scope("foo", reuse=True):
            tf.get_variable("w", [2])
    assert str(e.value) == ("Variable foo/w does not exist, or was not created with "
                            "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                            "VarScope?")
    with pytest.raises(ValueError) as e:
        with tf.variable_scope("foo", reuse=True):
            tf.get_variable("v", [3])
    assert str(e.value) == ("Trying to share variable foo/v, but specified shape (3,) and "
                            "found shape (2,).")
    with pytest.raises(ValueError, match="specified dtype int32 and found dtype float32"):
        with tf.variable_scope("foo", reuse=True):
            tf.get_variable("v", [2], dtype=tf.int32)
    with tf.variable_scope("foo", reuse=True):
        assert tf.get_variable("v", [2]) is v
        assert tf.get_variable("v") is v  # shape may be omitted on reuse
    with pytest.raises(ValueError, match="The reuse parameter must be True or False or None"):
        tf.variable_scope("foo", reuse="yes")
    with pytest.raises(TypeError, match="If default_name is None then name_or_scope is "
                                        "required"):
        tf.variable_scope(None)


def test_tf_variable_is_not_shared_by_get_variable(graph):
    with tf.variable_scope("foo"):
        tf.Variable(1.0, name="v")
    with pytest.raises(ValueError, match="was not created with tf.get_variable"):
        with tf.variable_scope("foo", reuse=True):
            tf.get_variable("v", [])


def test_auto_reuse(graph):
    def layer():
        with tf.variable_scope("shared", reuse=tf.AUTO_REUSE):
            return tf.get_variable("w", [3])
    a = layer()
    b = layer()
    assert a is b and a.name == "shared/w:0"
    assert len(tf.global_variables()) == 1
    assert tf.AUTO_REUSE is not True


def test_reuse_inheritance_and_reuse_variables(graph):
    with tf.variable_scope("root"):
        with tf.variable_scope("inner"):
            v = tf.get_variable("v", [1])
    with tf.variable_scope("root", reuse=True):
        with tf.variable_scope("inner", reuse=False):  # cannot switch reuse off
            assert tf.get_variable_scope().reuse is True
            assert tf.get_variable("v", [1]) is v
    with tf.variable_scope("other") as scope:
        w = tf.get_variable("w", [1])
        scope.reuse_variables()
        assert tf.get_variable("w", [1]) is w
        with tf.variable_scope("deeper"):
            assert tf.get_variable_scope().reuse is True


def test_reentering_scope_names(graph):
    with tf.variable_scope("foo") as foo_scope:
        c1 = tf.constant(1.0, name="c")
    with tf.variable_scope("foo"):
        c2 = tf.constant(1.0, name="c")
        v = tf.get_variable("v", [1])
    # ops get a fresh name scope; variables keep the variable-scope name.
    assert c1.name == "foo/c:0" and c2.name == "foo_1/c:0" and v.name == "foo/v:0"
    with tf.variable_scope("other"):
        with tf.variable_scope(foo_scope, reuse=True) as s:
            assert s.name == "foo" and s.original_name_scope == "foo/"
            assert tf.get_variable("v", [1]) is v
            c3 = tf.constant(1.0, name="c")
    # TF1 re-opens a name scope named after the scope's last component.
    assert c3.name == "other/foo/c:0"
    with tf.variable_scope(foo_scope):
        u = tf.get_variable("u", [1])
    assert u.name == "foo/u:0"


def test_default_name_uniquified(graph):
    names = []
    for _ in range(3):
        with tf.variable_scope(None, default_name="layer"):
            names.append(tf.get_variable("w", [1]).name)
    assert names == ["layer/w:0", "layer_1/w:0", "layer_2/w:0"]
    with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
        with tf.variable_scope(None, default_name="x", reuse=True):
            pass


def test_scope_defaults(graph):
    with tf.variable_scope("s", initializer=tf.constant_initializer(0.5), dtype=tf.float64):
        v = tf.get_variable("v", [2])
        w = tf.get_variable("w", [2], initializer=tf.ones_initializer())
        with tf.variable_scope("t"):
            u = tf.get_variable("u", [1])
    assert v.dtype == tf.float64 and u.dtype == tf.float64
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(v), [0.5, 0.5])
        np.testing.assert_array_equal(sess.run(w), [1.0, 1.0])
        np.testing.assert_array_equal(sess.run(u), [0.5])


def test_get_variable_initializer_kinds(graph):
    a = tf.get_variable("a", initializer=[[1.0, 2.0]])
    assert a.shape.as_list() == [1, 2] and a.dtype == tf.float32
    b = tf.get_variable("b", initializer=tf.constant([1, 2, 3]))
    assert b.shape.as_list() == [3] and b.dtype == tf.int32
    c = tf.get_variable("c", [2, 2], dtype=tf.int32)
    d = tf.get_variable("d", initializer=lambda: tf.constant(7.0))
    e = tf.get_variable("e", [3], initializer=tf.zeros_initializer)  # a class works too
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape."):
        tf.get_variable("f", [2], initializer=[1.0, 2.0])
    with pytest.raises(ValueError, match="Initializer type 'float32' and explicit dtype "
                                         "'float64' don't match."):
        tf.get_variable("g", initializer=1.0, dtype=tf.float64)
    with pytest.raises(ValueError, match="The initializer passed is not valid"):
        tf.get_variable("h", initializer=tf.ones_initializer())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(a), [[1.0, 2.0]])
        np.testing.assert_array_equal(sess.run(b), [1, 2, 3])
        np.testing.assert_array_equal(sess.run(c), np.zeros((2, 2), np.int32))
        assert sess.run(d) == 7.0
        np.testing.assert_array_equal(sess.run(e), [0.0, 0.0, 0.0])


def test_get_variable_default_initializer_is_glorot_uniform(graph):
    tf.set_random_seed(3)
    w = tf.get_variable("w", [200, 300])
    assert any("random_uniform" in n for n in _op_names(graph))
    with tf.Session() as sess:
        sess.run(w.initializer)
        x = sess.run(w)
    limit = np.sqrt(6.0 / 500)
    assert x.min() >= -limit and x.max() < limit
    assert abs(x.max() - limit) < 0.01 * limit
    assert abs(x.std() - limit / np.sqrt(3)) < 0.01 * limit


def test_get_variable_collections_trainable_local(graph):
    a = tf.get_variable("a", [1], trainable=False)
    b = tf.get_variable("b", [1], collections=["mine"])
    c = tf.get_local_variable("c", [1])
    assert tf.trainable_variables() == [b]
    assert tf.global_variables() == [a]
    assert tf.get_collection("mine") == [b]
    assert tf.local_variables() == [c]
    assert not c.trainable


def test_regularizer_and_custom_getter(graph):
    with tf.variable_scope("r", regularizer=lambda v: tf.reduce_sum(v * v)):
        v = tf.get_variable("v", initializer=[1.0, 2.0])
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 1 and losses[0].name.startswith("r/v/Regularizer/")
    calls = []

    def getter(getter, name, *args, **kwargs):
        calls.append(name)
        kwargs["trainable"] = False
        return getter(name, *args, **kwargs)

    with tf.variable_scope("cg", custom_getter=getter):
        w = tf.get_variable("w", [1])
    assert calls == ["cg/w"] and not w.trainable
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(losses[0]) == 5.0


def test_variable_store_is_per_graph():
    g1 = tf.Graph()
    with g1.as_default():
        tf.get_variable("v", [1])
    g2 = tf.Graph()
    with g2.as_default():
        v = tf.get_variable("v", [1])  # no "already exists" error in a new graph
        assert v.graph is g2
    with g1.as_default():
        with pytest.raises(ValueError, match="already exists"):
            tf.get_variable("v", [1])


def test_reset_default_graph_resets_store():
    tf.reset_default_graph()
    tf.get_variable("reset_me", [1])
    tf.reset_default_graph()
    assert tf.get_variable("reset_me", [1]).name == "reset_me:0"
    tf.reset_default_graph()


def test_auxiliary_name_scope_false(graph):
    with tf.variable_scope("aux", auxiliary_name_scope=False) as s:
        c = tf.constant(1.0, name="c")
        v = tf.get_variable("v", [1])
    assert c.name == "c:0" and v.name == "aux/v:0" and s.original_name_scope == ""


def test_get_variable_ignores_name_scope(graph):
    with tf.name_scope("ns"):
        v = tf.get_variable("v", [1])
        with tf.variable_scope("vs"):
            c = tf.constant(1.0, name="c")
            w = tf.get_variable("w", [1])
            u = tf.Variable(1.0, name="u")
    assert v.name == "v:0" and v.initializer.name == "v/Assign"
    assert c.name == "ns/vs/c:0" and w.name == "vs/w:0"
    # tf.Variable follows the name scope, not the variable scope
    assert u.name == "ns/vs/u:0"


def test_variable_scope_picks_graph_from_values():
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(1.0)
    with tf.variable_scope("s", values=[x]):
        assert tf.get_default_graph() is g
        v = tf.get_variable("v", [1])
    assert v.graph is g
    assert tf.get_default_graph() is not g


def test_scatter_update_scalar_updates(graph):
    v = tf.Variable([1.0, 2.0, 3.0, 4.0])
    s = tf.scatter_update(v, [0, 2], 0.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(s), [0.0, 2.0, 0.0, 4.0])


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 6), cols=st.integers(0, 3), data=st.data())
def test_scatter_add_sub_property(rows, cols, data):
    idx = data.draw(st.lists(st.integers(0, rows - 1), min_size=0, max_size=8))
    rng = np.random.default_rng(len(idx) * 31 + rows)
    init = rng.standard_normal((rows, cols)).astype(np.float32)
    upd = rng.standard_normal((len(idx), cols)).astype(np.float32)
    with tf.Graph().as_default():
        v = tf.Variable(init)
        i = tf.constant(np.array(idx, dtype=np.int32).reshape(len(idx)))
        add = tf.scatter_add(v, i, upd)
        sub = tf.scatter_sub(v, i, upd)
        upd_op = tf.scatter_update(v, i, upd)
        with tf.Session() as sess:
            sess.run(v.initializer)
            expect = init.copy()
            np.add.at(expect, idx, upd)
            np.testing.assert_allclose(sess.run(add), expect, rtol=1e-6, atol=1e-6)
            np.subtract.at(expect, idx, upd)
            np.testing.assert_allclose(sess.run(sub), expect, rtol=1e-6, atol=1e-6)
            expect[idx] = upd
            np.testing.assert_allclose(sess.run(upd_op), expect, rtol=1e-6, atol=1e-6)


@pytest.mark.skipif(not hasattr(tf, "cond"), reason="control flow not built yet")
def test_variables_created_inside_cond_are_lifted(graph):
    p = tf.placeholder(tf.bool, [])

    def branch():
        v = tf.get_variable("v", [2], initializer=tf.ones_initializer())
        return v * 2.0

    out = tf.cond(p, branch, lambda: tf.constant([0.0, 0.0]))
    (v,) = tf.global_variables()
    assert v.op._cond_context is None and v.initializer._cond_context is None
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(out, {p: True}), [2.0, 2.0])

    def bad():
        tf.Variable(tf.constant([1.0]) * 2.0)
        return tf.constant(1.0)

    with pytest.raises(ValueError, match="is from inside a control-flow construct"):
        tf.cond(p, bad, lambda: tf.constant(2.0))
