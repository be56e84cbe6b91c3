"""Graph construction: naming, scopes, collections, control deps, devices, lookups."""

import pytest

import headwater as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def test_unique_names_follow_tf1():
    a = tf.constant(1.0)
    b = tf.constant(2.0)
    c = tf.constant(3.0, name="Const")
    assert [a.op.name, b.op.name, c.op.name] == ["Const", "Const_1", "Const_2"]
    s1 = a + b
    s2 = a + b
    assert (s1.name, s2.name) == ("add:0", "add_1:0")
    # TF1 treats names case-insensitively when making them unique.
    assert tf.add(a, b).op.name == "Add_2"
    assert s1.op.type == "AddV2"


def test_explicit_name_collision_gets_suffix():
    tf.constant(1, name="x")
    tf.constant(1, name="x_1")
    assert tf.constant(1, name="x").op.name == "x_2"


def test_name_scopes_nested_reentered_absolute_and_reset():
    with tf.name_scope("outer") as outer:
        assert outer == "outer/"
        with tf.name_scope("inner") as inner:
            assert inner == "outer/inner/"
            assert tf.constant(1).name == "outer/inner/Const:0"
    with tf.name_scope("outer") as outer2:
        assert outer2 == "outer_1/"
    with tf.name_scope(outer):
        assert tf.constant(1).name == "outer/Const:0"
    with tf.name_scope("a"):
        with tf.name_scope(None) as top:
            assert top == ""
            assert tf.constant(1).name == "Const:0"
    with pytest.raises(ValueError, match="not a valid scope name"):
        with tf.name_scope("bad name!"):
            pass


def test_name_scope_default_name_and_values():
    x = tf.constant(1.0)
    with tf.name_scope(None, "Default", [x]) as s:
        assert s == "Default/"
    with tf.name_scope("given", "Default", [x]) as s:
        assert s == "given/"


def test_get_by_name_and_errors():
    g = tf.get_default_graph()
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    assert g.get_tensor_by_name("x:0") is x
    assert g.get_operation_by_name("x") is x.op
    assert g.as_graph_element("x") is x.op
    with pytest.raises(KeyError, match="does not exist"):
        g.get_tensor_by_name("y:0")
    with pytest.raises(KeyError, match="only has 1 outputs"):
        g.get_tensor_by_name("x:1")
    with pytest.raises(ValueError, match="appears to refer to a Tensor"):
        g.get_operation_by_name("x:0")
    with pytest.raises(ValueError, match="refers to an Operation, not a Tensor"):
        g.get_tensor_by_name("x")
    assert g.get_operations() == [x.op]


def test_tensor_properties_and_repr():
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    assert x.name == "x:0"
    assert x.value_index == 0
    assert x.dtype == tf.float32
    assert str(x.shape) == "(?, 784)"
    assert x.get_shape().as_list() == [None, 784]
    assert repr(x) == "<tf.Tensor 'x:0' shape=(?, 784) dtype=float32>"
    assert str(x) == 'Tensor("x:0", shape=(?, 784), dtype=float32)'
    x.set_shape([5, 784])
    assert x.shape.as_list() == [5, 784]
    with pytest.raises(ValueError):
        x.set_shape([5, 3])
    with pytest.raises(TypeError, match="as a Python `bool`"):
        bool(x)
    with pytest.raises(TypeError, match="len is not well defined"):
        len(x)
    y = tf.identity(x)
    assert x.consumers() == [y.op]
    assert y.op.inputs == (x,)
    assert y.op.outputs == [y]


def test_collections():
    g = tf.get_default_graph()
    tf.add_to_collection("c", 1)
    tf.add_to_collections(["c", "d"], 2)
    assert tf.get_collection("c") == [1, 2]
    assert tf.get_collection("d") == [2]
    assert tf.get_collection("missing") == []
    ref = tf.get_collection_ref("e")
    ref.append(3)
    assert g.get_collection("e") == [3]
    a = tf.constant(1.0, name="scope1/a")
    b = tf.constant(1.0, name="other/b")
    tf.add_to_collection("t", a)
    tf.add_to_collection("t", b)
    assert tf.get_collection("t", scope="scope1") == [a]
    assert tf.GraphKeys.TRAINABLE_VARIABLES == "trainable_variables"
    assert tf.GraphKeys.GLOBAL_VARIABLES == "variables"


def test_control_dependencies():
    a = tf.constant(1.0)
    b = tf.constant(2.0)
    with tf.control_dependencies([a]):
        c = tf.constant(3.0)
        d = tf.identity(a)  # a is already a data input: no control edge
        with tf.control_dependencies([b.op]):
            e = tf.constant(4.0)
        with tf.control_dependencies(None):
            f = tf.constant(5.0)
    assert c.op.control_inputs == [a.op]
    assert d.op.control_inputs == []
    assert e.op.control_inputs == [a.op, b.op]
    assert f.op.control_inputs == []
    with pytest.raises(TypeError):
        tf.control_dependencies([object()])


def test_device_recorded_and_canonical():
    with tf.device("/job:worker/task:1"):
        a = tf.constant(1.0)
        with tf.device("/cpu:0"):
            b = tf.constant(1.0)
    assert a.device == "/job:worker/task:1"
    assert b.op.device == "/device:CPU:0"
    assert tf.constant(1.0).device == ""


def test_finalize_blocks_new_ops():
    g = tf.get_default_graph()
    g.finalize()
    with pytest.raises(RuntimeError, match="finalized"):
        tf.constant(1.0)


def test_default_graph_stack_and_reset():
    g1 = tf.Graph()
    with g1.as_default():
        assert tf.get_default_graph() is g1
        with pytest.raises(AssertionError):
            tf.reset_default_graph()
    old = tf.get_default_graph()
    assert old is not g1


def test_reset_default_graph_outside_nesting():
    # The autouse fixture pushed a graph; run in a thread-free way by popping it via new scope.
    import headwater.framework.ops as ops_mod
    stack = ops_mod._default_graph_stack.stack
    saved = list(stack)
    stack.clear()
    try:
        g_before = tf.get_default_graph()
        tf.constant(1.0)
        tf.reset_default_graph()
        assert tf.get_default_graph() is not g_before
        assert tf.get_default_graph().get_operations() == []
    finally:
        stack[:] = saved


def test_ops_from_different_graphs_rejected():
    a = tf.constant(1.0)
    with tf.Graph().as_default():
        b = tf.constant(2.0)
        with pytest.raises(ValueError, match="same graph"):
            tf.add(a, b)


def test_creation_location_points_at_user_line():
    x = tf.constant(1.0)  # this line
    fn, line = x.op._location
    assert fn == __file__
    import inspect
    src = inspect.getsource(test_creation_location_points_at_user_line).splitlines()
    first = test_creation_location_points_at_user_line.__code__.co_firstlineno
    assert src[line - first].strip().startswith("x = tf.constant(1.0)")


def test_operation_attrs_and_str():
    x = tf.placeholder(tf.float32, name="p")
    assert x.op.get_attr("dtype") == tf.float32
    with pytest.raises(ValueError, match="no attr named"):
        x.op.get_attr("nope")
    assert 'op: "Placeholder"' in str(x.op)
    assert repr(x.op) == "<tf.Operation 'p' type=Placeholder>"


def test_compat_v1_is_same_namespace():
    import headwater.compat.v1 as v1
    assert v1 is tf
    assert tf.compat.v1 is tf
    v1.disable_v2_behavior()
    assert v1.placeholder is tf.placeholder
