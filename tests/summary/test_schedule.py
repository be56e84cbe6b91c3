"""Summary ops run as soon as their inputs exist (as TF's executor runs them), so a summary of
a variable fetched together with the train op shows the value before that step's update."""

import numpy as np
import pytest

pytest.importorskip("tensorboard")

import headwater as tf  # noqa: E402
from headwater.runtime import schedule  # noqa: E402
from headwater.summary import _protos  # noqa: E402

Summary = _protos.summary_pb2.Summary


def _model():
    W = tf.Variable(tf.zeros([3, 2]))
    x = tf.constant(np.ones((4, 3), np.float32))
    loss = tf.reduce_sum(tf.square(tf.matmul(x, W) - 1.0))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    return W, loss, train


def _values(data):
    return {v.tag: v for v in Summary.FromString(data).value}


def test_summaries_created_after_minimize_see_the_pre_update_value():
    with tf.Graph().as_default():
        W, loss, train = _model()
        # Created after minimize, as in the tutorials: creation order would run them last.
        s = tf.summary.scalar("w_sum", tf.reduce_sum(W))
        h = tf.summary.histogram("w", W)
        merged = tf.summary.merge_all()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = np.zeros((3, 2), np.float32)
            for _ in range(3):
                m, s_alone, _, after = sess.run([merged, s, train, W])
                v = _values(m)
                assert v["w_sum"].simple_value == pytest.approx(float(before.sum()), abs=1e-5)
                assert _values(s_alone)["w_sum"].simple_value == v["w_sum"].simple_value
                assert v["w"].histo.sum == pytest.approx(float(before.sum()), abs=1e-5)
                assert v["w"].histo.min == pytest.approx(float(before.min()), abs=1e-6)
                assert v["w"].histo.max == pytest.approx(float(before.max()), abs=1e-6)
                assert v["w"].histo.num == 6
                # The update did happen in that run.
                assert not np.allclose(after, before)
                before = after.copy()


def test_control_dependencies_still_order_a_summary_after_the_update():
    with tf.Graph().as_default():
        W, loss, train = _model()
        with tf.control_dependencies([train]):
            s = tf.summary.scalar("after", tf.reduce_sum(tf.identity(W)))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            data, w = sess.run([s, W])
            assert float(w.sum()) != 0.0
            assert _values(data)["after"].simple_value == pytest.approx(float(w.sum()), rel=1e-6)


def test_order_moves_only_summaries_and_what_they_alone_need():
    with tf.Graph().as_default() as g:
        W, loss, train = _model()
        acc = tf.reduce_mean(W, name="acc")
        tf.summary.scalar("acc", acc)
        merged = tf.summary.merge_all()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run([merged, train])
            e = sess._entry([merged, train], ())
        order = [op.name for op in e.plan.ops]
        pos = {n: i for i, n in enumerate(order)}
        update = [n for n in order if g.get_operation_by_name(n).type.startswith("Apply")][0]
        summary = [n for n in order if g.get_operation_by_name(n).type == "ScalarSummary"][0]
        for name in ("acc", summary):
            assert pos[name] < pos[update]
        # The merge only concatenates: it stays where it was created, after the update.
        assert pos[merged.op.name] > pos[update]
        # Ops no summary needs keep creation order.
        cone, stack = set(), [t.op for t in merged.op.inputs]
        while stack:
            op = stack.pop()
            if op not in cone:
                cone.add(op)
                stack.extend(t.op for t in op.inputs)
        ids = [g.get_operation_by_name(n)._id for n in order
               if g.get_operation_by_name(n) not in cone]
        assert len(ids) > 10 and ids == sorted(ids)


def test_control_flow_ancestors_keep_their_place():
    # If/While run sub-graphs that may assign variables: like assignments, they are not moved.
    with tf.Graph().as_default() as g:
        W, loss, train = _model()
        c = tf.cond(tf.constant(True), lambda: tf.reduce_sum(W), lambda: tf.constant(0.0))
        assert c.op.type == "If"
        tf.summary.scalar("c", c)
        merged = tf.summary.merge_all()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            data, _, w = sess.run([merged, train, W])
            order = [op.name for op in sess._entry([merged, train, W], ()).plan.ops]
        pos = {n: i for i, n in enumerate(order)}
        update = [n for n in order if g.get_operation_by_name(n).type.startswith("Apply")][0]
        assert pos[c.op.name] > pos[update]
        # Run where it was created (after the update), the cond sees the updated variable.
        assert _values(data)["c"].simple_value == pytest.approx(float(w.sum()), rel=1e-6)
