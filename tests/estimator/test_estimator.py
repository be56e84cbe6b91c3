"""Estimator with a custom model_fn: train/evaluate/predict, checkpoints, resume, errors."""

import logging
import os

import numpy as np
import pytest

import headwater as tf
from headwater import estimator as est
from headwater.data import Dataset
from headwater.estimator.inputs import numpy_input_fn
from headwater.train import basic_session_run_hooks as bh

X_TRAIN = np.array([1., 2., 3., 4.])
Y_TRAIN = np.array([0., -1., -2., -3.])


def model_fn(features, labels, mode):
    W = tf.get_variable("W", [1], dtype=tf.float64)
    b = tf.get_variable("b", [1], dtype=tf.float64)
    y = W * features["x"] + b
    if mode == est.ModeKeys.PREDICT:
        return est.EstimatorSpec(mode=mode, predictions={"y": y})
    loss = tf.reduce_sum(tf.square(y - labels))
    global_step = tf.train.get_global_step()
    train = tf.group(tf.train.GradientDescentOptimizer(0.01).minimize(loss),
                     tf.assign_add(global_step, 1))
    return est.EstimatorSpec(mode=mode, predictions=y, loss=loss, train_op=train,
                             eval_metric_ops={"mae": tf.metrics.mean_absolute_error(labels, y)})


def _train_fn(**kw):
    kw.setdefault("num_epochs", None)
    kw.setdefault("shuffle", True)
    return numpy_input_fn({"x": X_TRAIN}, Y_TRAIN, batch_size=4, **kw)


@pytest.fixture
def quiet_config():
    return est.RunConfig(log_step_count_steps=None, save_summary_steps=None)


def test_getting_started_custom_model(tmp_path):
    e = est.Estimator(model_fn=model_fn, model_dir=str(tmp_path))
    e.train(_train_fn(), steps=1000)
    train_m = e.evaluate(numpy_input_fn({"x": X_TRAIN}, Y_TRAIN, batch_size=4, num_epochs=1000,
                                        shuffle=False))
    eval_m = e.evaluate(numpy_input_fn({"x": np.array([2., 5., 8., 1.])},
                                       np.array([-1.01, -4.1, -7., 0.]), batch_size=4,
                                       num_epochs=1000, shuffle=False))
    assert train_m["global_step"] == 1000 and eval_m["global_step"] == 1000
    assert train_m["loss"] < 1e-8
    assert abs(eval_m["loss"] - 0.0101) < 2e-3
    assert set(eval_m) == {"loss", "mae", "global_step"}
    preds = list(e.predict(numpy_input_fn({"x": np.array([5., 6., 0.])}, shuffle=False)))
    np.testing.assert_allclose([p["y"][()] for p in preds], [-4, -5, 1], atol=1e-3)
    assert e.latest_checkpoint().endswith("model.ckpt-1000")
    assert "W" in e.get_variable_names()
    np.testing.assert_allclose(e.get_variable_value("W"), [-1], atol=1e-4)
    assert os.path.isdir(os.path.join(str(tmp_path), "eval"))


def test_resume_steps_and_max_steps(tmp_path, quiet_config):
    d = str(tmp_path)
    e = est.Estimator(model_fn, model_dir=d, config=quiet_config)
    e.train(_train_fn(), steps=7)
    assert e.get_variable_value("global_step") == 7
    e2 = est.Estimator(model_fn, model_dir=d, config=quiet_config)
    e2.train(_train_fn(), steps=5)
    assert e2.get_variable_value("global_step") == 12
    e2.train(_train_fn(), max_steps=20)
    assert e2.get_variable_value("global_step") == 20
    e2.train(_train_fn(), max_steps=15)  # already past: skipped
    assert e2.get_variable_value("global_step") == 20
    with pytest.raises(ValueError, match="Can not provide both steps and max_steps"):
        e2.train(_train_fn(), steps=1, max_steps=30)
    with pytest.raises(ValueError, match="steps > 0"):
        e2.train(_train_fn(), steps=0)


def test_training_stops_at_end_of_input(tmp_path, quiet_config):
    e = est.Estimator(model_fn, model_dir=str(tmp_path), config=quiet_config)
    e.train(numpy_input_fn({"x": X_TRAIN}, Y_TRAIN, batch_size=3, num_epochs=3, shuffle=False))
    assert e.get_variable_value("global_step") == 4  # 12 rows in batches of 3


def test_periodic_checkpoints_and_killed_run_resumes(tmp_path):
    d = str(tmp_path)
    cfg = est.RunConfig(save_checkpoints_steps=10, log_step_count_steps=None,
                        keep_checkpoint_max=3)

    class Boom(tf.train.SessionRunHook):
        def __init__(self):
            self.n = 0

        def after_run(self, run_context, run_values):
            self.n += 1
            if self.n == 25:
                raise KeyboardInterrupt

    e = est.Estimator(model_fn, model_dir=d, config=cfg)
    with pytest.raises(KeyboardInterrupt):
        e.train(_train_fn(), steps=100, hooks=[Boom()])
    # the crash came at step 25: the last checkpoint is step 20, at most 5 steps lost
    assert e.latest_checkpoint().endswith("-20")
    e.train(_train_fn(), steps=10)
    assert e.get_variable_value("global_step") == 30
    state = tf.train.get_checkpoint_state(d)
    assert [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths] == [20, 30] or \
        len(state.all_model_checkpoint_paths) <= 3


def test_nan_loss_raises(tmp_path, quiet_config):
    def nan_model(features, labels, mode):
        w = tf.get_variable("w", [1], dtype=tf.float64)
        loss = tf.reduce_sum(w * features["x"]) * np.nan
        train = tf.group(tf.train.GradientDescentOptimizer(0.1).minimize(loss),
                         tf.assign_add(tf.train.get_global_step(), 1))
        return est.EstimatorSpec(mode, loss=loss, train_op=train)
    e = est.Estimator(nan_model, model_dir=str(tmp_path), config=quiet_config)
    with pytest.raises(tf.train.NanLossDuringTrainingError):
        e.train(_train_fn(), steps=10)


def test_bad_input_fn_returns(tmp_path, quiet_config):
    e = est.Estimator(model_fn, model_dir=str(tmp_path), config=quiet_config)
    with pytest.raises(ValueError, match="len 2 tuple"):
        e.train(lambda: (1, 2, 3), steps=1)
    with pytest.raises(ValueError, match="not a Tensor"):
        e.train(lambda: ({"x": X_TRAIN}, Y_TRAIN), steps=1)
    with pytest.raises(ValueError, match="input_fn should return"):
        e.train(lambda: 42, steps=1)
    with pytest.raises(ValueError, match="model_fn should return an EstimatorSpec"):
        est.Estimator(lambda features, labels: None, config=quiet_config).train(
            _train_fn(), steps=1)
    with pytest.raises(ValueError, match="must include features"):
        est.Estimator(lambda x: None)


def test_dataset_input_fn_and_params(tmp_path, quiet_config):
    seen = {}

    def mf(features, labels, mode, params, config):
        seen["params"] = params
        seen["config"] = config
        return model_fn(features, labels, mode)

    def input_fn(params):
        return Dataset.from_tensor_slices(({"x": X_TRAIN}, Y_TRAIN)).repeat(5).batch(2)
    e = est.Estimator(mf, model_dir=str(tmp_path), config=quiet_config, params={"lr": 1})
    e.train(input_fn)
    assert e.get_variable_value("global_step") == 10
    assert seen["params"] == {"lr": 1} and seen["config"].model_dir == str(tmp_path)
    m = e.evaluate(input_fn, steps=3)
    assert m["global_step"] == 10 and np.isfinite(m["loss"])


def test_predict_options(tmp_path, quiet_config):
    e = est.Estimator(model_fn, model_dir=str(tmp_path), config=quiet_config)
    e.train(_train_fn(), steps=3)
    x = {"x": np.arange(5.)}
    batches = list(e.predict(numpy_input_fn(x, batch_size=2, shuffle=False),
                             yield_single_examples=False))
    assert [len(b["y"]) for b in batches] == [2, 2, 1]
    assert len(list(e.predict(numpy_input_fn(x, shuffle=False), predict_keys=["y"]))) == 5
    with pytest.raises(ValueError, match="Expected to run at least one output"):
        list(e.predict(numpy_input_fn(x, shuffle=False), predict_keys=["nope"]))


def test_model_dir_none_uses_temp_dir_and_config_conflict(tmp_path):
    e = est.Estimator(model_fn)
    assert os.path.isdir(e.model_dir)
    with pytest.raises(ValueError, match="both in constructor and `RunConfig`"):
        est.Estimator(model_fn, model_dir=str(tmp_path / "a"),
                      config=est.RunConfig(model_dir=str(tmp_path / "b")))


def test_logs_loss_and_steps_per_sec(tmp_path, caplog):
    tf.logging.set_verbosity(tf.logging.INFO)
    logger = logging.getLogger("tensorflow")
    logger.addHandler(caplog.handler)
    try:
        cfg = est.RunConfig(log_step_count_steps=10)
        est.Estimator(model_fn, model_dir=str(tmp_path), config=cfg).train(_train_fn(),
                                                                           steps=30)
    finally:
        logger.removeHandler(caplog.handler)
    msgs = [r.getMessage() for r in caplog.records]
    losses = [m for m in msgs if m.startswith("loss = ")]
    assert losses[0].endswith("step = 1") and "step = 11 (" in losses[1]
    assert any(m.startswith("global_step/sec: ") for m in msgs)
    assert any(m.startswith("Saving checkpoints for 30 into") for m in msgs)
    assert any(m.startswith("Loss for final step: ") for m in msgs)


def test_estimator_spec_validation():
    with tf.Graph().as_default():
        loss = tf.constant(1.0)
        with pytest.raises(ValueError, match="Missing train_op"):
            est.EstimatorSpec(est.ModeKeys.TRAIN, loss=loss)
        with pytest.raises(ValueError, match="Missing loss"):
            est.EstimatorSpec(est.ModeKeys.EVAL)
        with pytest.raises(ValueError, match="Missing predictions"):
            est.EstimatorSpec(est.ModeKeys.PREDICT)
        with pytest.raises(ValueError, match="Loss must be scalar"):
            est.EstimatorSpec(est.ModeKeys.EVAL, loss=tf.constant([1.0, 2.0]))
        s = est.EstimatorSpec(est.ModeKeys.EVAL, loss=loss)
        assert s.predictions == {} and s.eval_metric_ops == {}
    assert isinstance(bh.StopAtStepHook(1), tf.train.SessionRunHook)
