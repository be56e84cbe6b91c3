"""The graph TensorBoard draws (scopes, inputs, control edges, attrs, shapes) and traced runs."""

import numpy as np
import pytest

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402

import headwater as tf  # noqa: E402
import headwater.summary as summary  # noqa: E402
from headwater.framework import errors  # noqa: E402
from headwater.summary.tracing import traced_run  # noqa: E402


def _model():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        y_ = tf.placeholder(tf.float32, [None, 10], name="y_")
        with tf.name_scope("layer"):
            W = tf.Variable(tf.zeros([784, 10]), name="W")
            b = tf.Variable(tf.zeros([10]), name="b")
            logits = tf.matmul(x, W, name="logits") + b
        with tf.name_scope("loss"):
            xent = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(
                labels=y_, logits=logits))
            summary.scalar("xent", xent)
        with tf.control_dependencies([xent]):
            done = tf.no_op(name="done")
        train = tf.train.GradientDescentOptimizer(0.01).minimize(xent)
    return g, dict(x=x, y_=y_, W=W, b=b, logits=logits, xent=xent, done=done, train=train)


def _graph_def_from_events(logdir):
    acc = ea.EventAccumulator(str(logdir))
    acc.Reload()
    assert acc.Tags()["graph"] is True
    return acc.Graph()


def _shape(pb):
    """Dims of a TensorShapeProto, or of an AttrValue holding one."""
    shape = pb.shape if hasattr(pb, "shape") else pb
    return None if shape.unknown_rank else [d.size for d in shape.dim]


def test_graph_nodes_scopes_inputs_attrs_and_shapes(tmp_path):
    g, m = _model()
    with summary.FileWriter(str(tmp_path), graph=g):
        pass
    gd = _graph_def_from_events(tmp_path)
    nodes = {n.name: n for n in gd.node}
    assert set(nodes) == {op.name for op in g.get_operations()}
    # Scoped names (TensorBoard draws "layer", "loss", "gradients" as collapsible boxes).
    for scope in ("layer/", "loss/", "gradients/", "GradientDescent"):
        assert any(name.startswith(scope) for name in nodes), scope
    mm = nodes["layer/logits"]
    assert mm.op == "MatMul"
    assert list(mm.input) == ["x", "layer/W/read"] or list(mm.input)[0] == "x"
    assert mm.attr["T"].type == tf.float32.as_datatype_enum
    assert mm.attr["transpose_a"].b is False and mm.attr["transpose_b"].b is False
    assert [_shape(s) for s in mm.attr["_output_shapes"].list.shape] == [[-1, 10]]
    ph = nodes["x"]
    assert ph.op == "Placeholder" and ph.attr["dtype"].type == tf.float32.as_datatype_enum
    assert _shape(ph.attr["shape"]) == [-1, 784]
    var = nodes["layer/W"]
    assert var.op == "VariableV2" and _shape(var.attr["shape"]) == [784, 10]
    assert [_shape(s) for s in var.attr["_output_shapes"].list.shape] == [[784, 10]]
    # Control input spelled "^name".
    assert "^" + m["xent"].op.name in list(nodes["done"].input)
    # Every edge points at an existing node, every node carries its output shapes.
    for n in gd.node:
        for inp in n.input:
            assert inp.lstrip("^").split(":")[0] in nodes, (n.name, inp)
        assert "_output_shapes" in n.attr
    # Small constants carry their value.
    consts = [n for n in gd.node if n.op == "Const"]
    assert consts and all("value" in n.attr and "dtype" in n.attr for n in consts)


def test_add_graph_accepts_graph_def_forms(tmp_path):
    g, _ = _model()
    pb = g.as_graph_def(add_shapes=True).to_proto()
    with summary.FileWriter(str(tmp_path / "a")) as w:
        w.add_graph(pb)
    with summary.FileWriter(str(tmp_path / "b")) as w:
        w.add_graph(None, graph_def=g.as_graph_def())
    with summary.FileWriter(str(tmp_path / "c")) as w:
        with pytest.raises(ValueError, match="only graph, or graph_def"):
            w.add_graph(g, graph_def=g.as_graph_def())
        with pytest.raises(TypeError, match="must be an instance of `Graph`"):
            w.add_graph(42)
    assert len(_graph_def_from_events(tmp_path / "a").node) == len(pb.node)
    assert len(_graph_def_from_events(tmp_path / "b").node) == len(pb.node)


def _feed(m, n=8, seed=0):
    rng = np.random.default_rng(seed)
    xs = rng.random((n, 784)).astype(np.float32)
    ys = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    return {m["x"]: xs, m["y_"]: ys}


def test_traced_run_matches_plain_run_and_fills_step_stats(tmp_path):
    g, m = _model()
    with g.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = _feed(m)
        md = tf.RunMetadata()
        opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        xent0, _ = traced_run(sess, [m["xent"], m["train"]], feed, opts, md)
        # Same numbers as an untraced run, and the train op really ran (W changed).
        w_after = sess.run(m["W"])
        assert np.abs(w_after).sum() > 0
        assert xent0 == pytest.approx(np.log(10.0), rel=1e-6)
        xent1 = sess.run(m["xent"], feed)
        assert xent1 < xent0
        stats = md.step_stats
        (dev,) = stats.dev_stats
        assert dev.device.endswith("device:CPU:0")
        by_name = {ns.node_name: ns for ns in dev.node_stats}
        assert "layer/logits" in by_name and "loss/xent" not in by_name
        ns = by_name["layer/logits"]
        assert ns.all_end_rel_micros >= 1 and ns.all_start_micros > 0
        assert ns.all_end_rel_nanos >= 0
        (out,) = ns.output
        assert [d.size for d in out.tensor_description.shape.dim] == [8, 10]
        assert out.tensor_description.allocation_description.requested_bytes == 8 * 10 * 4
        assert ns.memory[0].total_bytes == 320
        assert ns.timeline_label.startswith("layer/logits = MatMul(x, ")
        starts = [n.all_start_nanos for n in dev.node_stats]
        assert starts == sorted(starts)
        with summary.FileWriter(str(tmp_path), g) as w:
            w.add_run_metadata(md, "step0", global_step=0)
    acc = ea.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert acc.Tags()["run_metadata"] == ["step0"]
    rm = acc.RunMetadata("step0")
    assert len(rm.step_stats.dev_stats[0].node_stats) == len(dev.node_stats)


def test_traced_run_structures_and_errors():
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [None], name="a")
        b = a * 2.0
        c = tf.reduce_sum(b)
        with tf.Session() as sess:
            md = tf.RunMetadata()
            out = traced_run(sess, {"b": b, "c": [c, a]}, {a: [1.0, 2.0]}, None, md)
            assert out["b"].tolist() == [2.0, 4.0] and out["c"][0] == 6.0
            assert out["c"][1].tolist() == [1.0, 2.0]
            assert traced_run(sess, c, {a: [3.0]}) == 6.0
            assert traced_run(sess, c.op, {a: [3.0]}) is None
            bad = tf.reshape(a, [3])
            with pytest.raises(errors.InvalidArgumentError) as ei:
                traced_run(sess, bad, {a: [1.0, 2.0]})
            assert "Reshape" in str(ei.value)


def test_session_run_with_full_trace_uses_traced_path():
    g, m = _model()
    with g.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        md = tf.RunMetadata()
        opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        sess.run(m["train"], _feed(m), options=opts, run_metadata=md)
        if md.step_stats is None:
            pytest.skip("Session.run does not route traced runs to summary.tracing yet")
        names = {ns.node_name for ns in md.step_stats.dev_stats[0].node_stats}
        assert "layer/logits" in names
