"""SessionRunHooks and MonitoredSession / MonitoredTrainingSession, used as in TF1."""

import logging
import os

import numpy as np
import pytest

import headwater as tf
from headwater.data import Dataset
from headwater.train import basic_session_run_hooks as bh
from headwater.train import monitored_session as ms
from headwater.train.session_run_hook import SessionRunArgs, SessionRunHook

pytest.importorskip("headwater.train.saver")


def _linreg():
    gs = tf.train.get_or_create_global_step()
    W = tf.Variable([.3], name="W")
    b = tf.Variable([-.3], name="b")
    x = tf.constant([1., 2, 3, 4])
    y = tf.constant([0., -1, -2, -3])
    loss = tf.reduce_sum(tf.square(W * x + b - y))
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step=gs)
    return gs, W, loss, train


class _Recorder(SessionRunHook):
    def __init__(self, fetch=None):
        self.calls = []
        self.fetch = fetch
        self.values = []

    def begin(self):
        self.calls.append("begin")

    def after_create_session(self, session, coord):
        self.calls.append("after_create_session")
        assert not coord.should_stop()

    def before_run(self, run_context):
        self.calls.append("before_run")
        return SessionRunArgs(self.fetch) if self.fetch is not None else None

    def after_run(self, run_context, run_values):
        self.calls.append("after_run")
        self.values.append(run_values.results)
        if len(self.values) == 3:
            run_context.request_stop()

    def end(self, session):
        self.calls.append("end")


def test_hook_protocol_order_results_and_request_stop():
    with tf.Graph().as_default():
        gs, W, loss, train = _linreg()
        rec = _Recorder(fetch={"w": W})
        n = 0
        with ms.MonitoredSession(hooks=[rec]) as sess:
            assert tf.get_default_graph().finalized
            while not sess.should_stop():
                out = sess.run([train, loss])
                assert np.isfinite(out[1])
                n += 1
        assert n == 3
        assert rec.calls == ["begin", "after_create_session"] + ["before_run", "after_run"] * 3 \
            + ["end"]
        assert all(set(v) == {"w"} and v["w"].shape == (1,) for v in rec.values)


def test_stop_at_step_and_resume_from_checkpoint(tmp_path):
    d = str(tmp_path)
    for expected_end in (5, 12):
        with tf.Graph().as_default():
            gs, W, loss, train = _linreg()
            hooks = [bh.StopAtStepHook(last_step=expected_end)]
            with tf.train.MonitoredTrainingSession(checkpoint_dir=d, hooks=hooks,
                                                   save_checkpoint_steps=100) as sess:
                while not sess.should_stop():
                    sess.run(train)
            assert tf.train.latest_checkpoint(d).endswith("model.ckpt-%d" % expected_end)
    with tf.Graph().as_default():
        gs, W, loss, train = _linreg()
        with ms.MonitoredSession(ms.ChiefSessionCreator(checkpoint_dir=d)) as sess:
            assert sess.run(gs) == 12
    assert os.path.exists(os.path.join(d, "graph.pbtxt"))


def test_periodic_checkpoints_and_max_to_keep(tmp_path):
    d = str(tmp_path)
    with tf.Graph().as_default():
        gs, W, loss, train = _linreg()
        with tf.train.MonitoredTrainingSession(
                checkpoint_dir=d, hooks=[bh.StopAtStepHook(num_steps=30)],
                save_checkpoint_steps=5) as sess:
            while not sess.should_stop():
                sess.run(train)
    state = tf.train.get_checkpoint_state(d)
    steps = [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]
    assert steps == [10, 15, 20, 25, 30]


def test_out_of_range_ends_cleanly_and_calls_end(tmp_path):
    with tf.Graph().as_default():
        gs = tf.train.get_or_create_global_step()
        x = Dataset.from_tensor_slices(np.arange(5.)).batch(2).make_one_shot_iterator() \
            .get_next()
        w = tf.Variable(0.0, dtype=tf.float64)
        train = tf.group(w.assign_add(tf.reduce_sum(x)), gs.assign_add(1))
        rec = _Recorder()
        with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path),
                                               hooks=[rec]) as sess:
            while not sess.should_stop():
                sess.run(train)
        assert rec.calls[-1] == "end"
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("-3")


def test_other_errors_propagate_without_end():
    with tf.Graph().as_default():
        _linreg()
        rec = _Recorder()
        with pytest.raises(ZeroDivisionError), ms.MonitoredSession(hooks=[rec]):
            1 / 0
        assert "end" not in rec.calls


def test_nan_tensor_hook():
    with tf.Graph().as_default():
        gs = tf.train.get_or_create_global_step()
        loss = tf.constant(np.nan)
        inc = gs.assign_add(1)
        with ms.MonitoredSession(hooks=[bh.NanTensorHook(loss)]) as sess:
            with pytest.raises(bh.NanLossDuringTrainingError, match="NaN loss during training"):
                sess.run(inc)
        with ms.MonitoredSession(hooks=[bh.NanTensorHook(loss, fail_on_nan_loss=False)]) as s:
            s.run(inc)
            assert s.should_stop()


def test_logging_tensor_hook_format(caplog):
    tf.logging.set_verbosity(tf.logging.INFO)
    logger = logging.getLogger("tensorflow")
    logger.addHandler(caplog.handler)
    try:
        with tf.Graph().as_default():
            gs, W, loss, train = _linreg()
            hook = bh.LoggingTensorHook({"loss": loss, "step": gs}, every_n_iter=2)
            with ms.MonitoredSession(hooks=[hook, bh.StopAtStepHook(last_step=5)]) as sess:
                while not sess.should_stop():
                    sess.run(train)
    finally:
        logger.removeHandler(caplog.handler)
    msgs = [r.getMessage() for r in caplog.records if "loss =" in r.getMessage()]
    assert len(msgs) == 3
    assert msgs[0].startswith("loss = 23.66, step = ")
    assert msgs[1].endswith(" sec)")


def test_feed_fn_and_final_ops_hooks():
    with tf.Graph().as_default():
        tf.train.get_or_create_global_step()
        p = tf.placeholder(tf.float32, [])
        v = tf.Variable(0.0)
        upd = v.assign_add(p)
        final = bh.FinalOpsHook(v)
        with ms.MonitoredSession(hooks=[bh.FeedFnHook(lambda: {p: 2.0}), final]) as sess:
            sess.run(upd)
            sess.run(upd)
        assert final.final_ops_values == 4.0


def test_timer_and_argument_errors():
    t = bh.SecondOrStepTimer(every_steps=10)
    assert t.should_trigger_for_step(0)
    assert t.update_last_triggered_step(0) == (None, None)
    assert not t.should_trigger_for_step(9) and t.should_trigger_for_step(10)
    with pytest.raises(ValueError):
        bh.SecondOrStepTimer(every_secs=1, every_steps=1)
    with pytest.raises(ValueError):
        bh.StopAtStepHook()
    with tf.Graph().as_default():
        with pytest.raises(RuntimeError, match="Global step should be created"):
            ms.MonitoredSession(hooks=[bh.StopAtStepHook(num_steps=1)])


def test_scaffold_init_fn_and_ready_check():
    with tf.Graph().as_default():
        v = tf.Variable(1.0)
        calls = []

        def init_fn(scaffold, sess):
            calls.append(scaffold)
        scaffold = ms.Scaffold(init_fn=init_fn)
        with ms.MonitoredSession(ms.ChiefSessionCreator(scaffold=scaffold)) as sess:
            assert sess.run(v) == 1.0
        assert calls == [scaffold]
    with tf.Graph().as_default():
        tf.Variable(1.0, name="lonely")
        with pytest.raises(RuntimeError, match="lonely"):
            ms.MonitoredSession(ms.ChiefSessionCreator(scaffold=ms.Scaffold(init_op=tf.no_op())))
