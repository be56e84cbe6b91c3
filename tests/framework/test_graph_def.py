"""GraphDef export (JSON and protobuf) and import_graph_def."""

import json

import numpy as np
import pytest

import headwater as tf
from headwater.framework.graph_def import (AttrValue, GraphDef, NodeDef, graph_to_graph_def,
                                           import_graph_def)


def _mlp():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        W = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2), name="W")
        h = tf.matmul(x, W, transpose_b=False)
        y = tf.nn.softmax(h + 1.0, name="y")
        tf.constant(["a", "bc"], name="strings")
        with tf.control_dependencies([y]):
            tf.no_op(name="after")
        init = tf.global_variables_initializer()
    return g, x, y, init


def test_nodes_inputs_and_tf_attr_names():
    g, x, y, _ = _mlp()
    gd = g.as_graph_def()
    nodes = {n.name: n for n in gd.node}
    assert [n.name for n in gd.node] == [op.name for op in g.get_operations()]
    mm = nodes["MatMul"]
    assert mm.op == "MatMul" and mm.input == ["x", "W/read"]
    assert mm.attr["T"] == AttrValue("type", tf.float32)
    assert mm.attr["transpose_a"] == AttrValue("b", False)
    assert nodes["x"].attr["shape"].shape.as_list() == [None, 3]
    assert nodes["after"].input == ["^y"]
    c = nodes["add/y"].attr["value"].tensor
    assert c.dtype == np.float32 and c.shape == () and c == 1.0
    assert nodes["W"].op == "VariableV2"
    assert nodes["W/Assign"].input == ["W", "W/initial_value"]
    assert all(not k.startswith("_") for n in gd.node for k in n.attr)
    shaped = g.as_graph_def(add_shapes=True)
    shapes = {n.name: n.attr["_output_shapes"].list for n in shaped.node}
    assert shapes["y"][0].shape.as_list() == [None, 2]
    assert shapes["after"] == []


def test_json_round_trip_is_lossless():
    g, _, _, _ = _mlp()
    with g.as_default():
        tf.cond(tf.constant(True), lambda: tf.constant(1), lambda: tf.constant(2))
        tf.constant(np.array([np.nan, -0.0, np.inf], np.float64), name="special")
    gd = g.as_graph_def(add_shapes=True)
    text = gd.to_json()
    doc = json.loads(text)
    assert doc["format"] == "headwater.GraphDef" and doc["version"] == 1
    back = GraphDef.from_json(text)
    assert back == gd
    special = {n.name: n for n in back.node}["special"].attr["value"].tensor
    assert special.tobytes() == np.array([np.nan, -0.0, np.inf]).tobytes()
    strings = {n.name: n for n in back.node}["strings"].attr["value"].tensor
    assert strings.tolist() == [b"a", b"bc"]


def test_json_version_and_format_checked():
    with pytest.raises(ValueError, match="format"):
        GraphDef.from_json('{"node": []}')
    with pytest.raises(ValueError, match="newer"):
        GraphDef.from_json('{"format": "headwater.GraphDef", "version": 99, "node": []}')


def test_proto_round_trip():
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import graph_pb2

    g, _, _, _ = _mlp()
    with g.as_default():
        tf.cond(tf.constant(True), lambda: tf.constant(1), lambda: tf.constant(2))
    gd = g.as_graph_def(add_shapes=True)
    pb = gd.to_proto()
    assert isinstance(pb, graph_pb2.GraphDef)
    mm = [n for n in pb.node if n.name == "MatMul"][0]
    assert mm.attr["T"].type == 1  # DT_FLOAT
    assert list(mm.input) == ["x", "W/read"]
    data = gd.SerializeToString()
    pb2 = graph_pb2.GraphDef()
    pb2.ParseFromString(data)
    assert GraphDef.from_proto(pb2) == gd
    assert GraphDef.FromString(data) == gd


def test_to_proto_without_tensorboard_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *a, **k):
        if name.startswith("tensorboard"):
            raise ImportError("no tensorboard")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"pip install headwater\[tensorboard\]"):
        GraphDef([NodeDef("a", "NoOp")]).to_proto()


def test_import_runs_the_same_and_prefixes_names():
    g, x, y, init = _mlp()
    gd = g.as_graph_def()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        ref = sess.run(y, {x: np.ones((2, 3))})
    g2 = tf.Graph()
    with g2.as_default():
        out = import_graph_def(gd, return_elements=["y:0", "init", "x:0"])
        y2, init2, x2 = out
        assert y2.name == "import/y:0" and init2.name == "import/init"
        assert y2.shape.as_list() == [None, 2]
        again = tf.import_graph_def(gd) if hasattr(tf, "import_graph_def") else \
            import_graph_def(gd)
        assert again is None
        assert g2.get_operation_by_name("import_1/y").type == "Softmax"
        with tf.Session() as sess:
            sess.run(init2)
            np.testing.assert_array_equal(sess.run(y2, {x2: np.ones((2, 3))}), ref)


def test_import_with_input_map_and_empty_name():
    g, _, _, _ = _mlp()
    gd = g.as_graph_def()
    with tf.Graph().as_default():
        feed = tf.constant(np.ones((4, 3), np.float32), name="feed")
        y, init = import_graph_def(gd, input_map={"x:0": feed}, return_elements=["y:0", "init"],
                                   name="")
        assert y.name == "y:0"
        assert y.shape.as_list() == [4, 2]  # shapes re-inferred from the mapped input
        with tf.Session() as sess:
            sess.run(init)
            assert sess.run(y).shape == (4, 2)
        # "x" (output 0 implied) works as a key too.
        y3, = import_graph_def(gd, input_map={"x": feed}, return_elements=["y:0"], name="n")
        assert y3.name == "n/y:0"


def test_import_errors():
    g, _, _, _ = _mlp()
    gd = g.as_graph_def()
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="not found in graph_def"):
            import_graph_def(gd, input_map={"nope:0": tf.constant(1.0)})
        with pytest.raises(ValueError, match="Requested return tensor 'y:5'"):
            import_graph_def(gd, return_elements=["y:5"])
        with pytest.raises(ValueError, match="Requested return node 'zz'"):
            import_graph_def(gd, return_elements=["zz"])
        bad = GraphDef([NodeDef("a", "NoSuchOp")])
        with pytest.raises(ValueError, match="Op type not registered 'NoSuchOp'"):
            import_graph_def(bad)
        dangling = GraphDef([NodeDef("a", "Identity", ["missing"],
                                     attr={"T": AttrValue("type", tf.float32)})])
        with pytest.raises(ValueError, match="Unknown input node 'missing'"):
            import_graph_def(dangling)
        cyc = GraphDef([NodeDef("a", "Identity", ["b"], attr={"T": AttrValue("type",
                                                                              tf.float32)}),
                        NodeDef("b", "Identity", ["a"], attr={"T": AttrValue("type",
                                                                             tf.float32)})])
        with pytest.raises(ValueError, match="cycle"):
            import_graph_def(cyc)
        # Static checks run again on import: a MatMul with mismatched inner dims fails.
        mm = GraphDef([
            NodeDef("a", "Const", attr={"value": AttrValue("tensor", np.ones((2, 3), np.float32)),
                                        "dtype": AttrValue("type", tf.float32)}),
            NodeDef("m", "MatMul", ["a", "a"], attr={"T": AttrValue("type", tf.float32),
                                                     "transpose_a": AttrValue("b", False),
                                                     "transpose_b": AttrValue("b", False)})])
        with pytest.raises(ValueError, match="Node 'm'"):
            import_graph_def(mm)


def test_import_control_flow():
    g = tf.Graph()
    with g.as_default():
        p = tf.placeholder(tf.bool, [], name="p")
        a = tf.placeholder(tf.float32, [], name="a")
        r = tf.cond(p, lambda: a * 2.0, lambda: a - 1.0)
        i = tf.while_loop(lambda i: i < 10, lambda i: i + 3, [tf.constant(0)])
    gd = GraphDef.from_json(g.as_graph_def().to_json())
    with tf.Graph().as_default():
        r2, i2, p2, a2 = import_graph_def(gd, return_elements=[r.name, i.name, "p:0", "a:0"])
        with tf.Session() as sess:
            assert sess.run(r2, {p2: True, a2: 5.0}) == 10.0
            assert sess.run(r2, {p2: False, a2: 5.0}) == 4.0
            assert sess.run(i2) == 12


def test_graph_def_subset_and_devices():
    g = tf.Graph()
    with g.as_default():
        with tf.device("/cpu:0"):
            tf.constant(1.0, name="c")
        tf.constant(2.0, name="d")
    gd = g.as_graph_def()
    assert gd.node[0].device == "/device:CPU:0"
    assert graph_to_graph_def(g, clear_devices=True).node[0].device == ""
    assert [n.name for n in g.as_graph_def(from_version=1).node] == ["d"]
