"""`tf.estimator.Estimator`: train, evaluate and predict a `model_fn` with checkpoints,
TensorBoard events and logging handled for the user (TF1 behaviour).

Every call builds a fresh graph: the input_fn's tensors, the model_fn's ops for the mode, then
a `MonitoredSession` restores the latest checkpoint of `model_dir` (or initializes) and runs.
`train` saves checkpoints on the configured interval and at the end, so the next call (or a
new Estimator on the same `model_dir`) continues where it stopped.
"""

from __future__ import annotations

import inspect
import os
import sys
import tempfile
import time

import numpy as np

from headwater.estimator import model_fn as _model_fn_lib
from headwater.estimator.model_fn import EstimatorSpec, ModeKeys
from headwater.estimator.run_config import RunConfig
from headwater.framework import ops as _ops
from headwater.framework import random_seed as _random_seed
from headwater.platform import tf_logging as logging
from headwater.train import basic_session_run_hooks as _hooks
from headwater.train import monitored_session as _ms
from headwater.train import training_util
from headwater.train.session_run_hook import SessionRunArgs, SessionRunHook

__all__ = ["Estimator", "VocabInfo", "WarmStartSettings"]

_VALID_MODEL_FN_ARGS = {"features", "labels", "mode", "params", "self", "config"}


def _fn_args(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return ()
    return tuple(p.name for p in sig.parameters.values()
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def _verify_model_fn_args(model_fn, params):
    args = set(_fn_args(model_fn))
    if "features" not in args:
        raise ValueError("model_fn (%s) must include features argument." % model_fn)
    if params is not None and "params" not in args:
        raise ValueError("model_fn (%s) does not include params argument, but params (%s) is "
                         "passed to Estimator." % (model_fn, params))
    if params is None and "params" in args:
        logging.warning("Estimator's model_fn (%s) includes params argument, but params are "
                        "not passed to Estimator.", model_fn)
    non_valid = sorted(args - _VALID_MODEL_FN_ARGS)
    if non_valid:
        raise ValueError("model_fn (%s) has following not expected args: %s"
                         % (model_fn, non_valid))


class WarmStartSettings:
    """Where to warm-start variables from (TF1's `tf.estimator.WarmStartSettings`).

    Args:
      ckpt_to_initialize_from: a checkpoint file or directory.
      vars_to_warm_start: a regex (default ".*": all trainable variables) or list of names.
      var_name_to_prev_var_name: {current name: name in the checkpoint}.
    """

    def __init__(self, ckpt_to_initialize_from, vars_to_warm_start=".*",
                 var_name_to_vocab_info=None, var_name_to_prev_var_name=None):
        if not ckpt_to_initialize_from:
            raise ValueError("`ckpt_to_initialize_from` MUST be set in WarmStartSettings")
        self.ckpt_to_initialize_from = ckpt_to_initialize_from
        self.vars_to_warm_start = vars_to_warm_start
        self.var_name_to_vocab_info = var_name_to_vocab_info or {}
        self.var_name_to_prev_var_name = var_name_to_prev_var_name or {}


class VocabInfo:
    """Accepted for TF1 compatibility (vocabulary remapping is not supported)."""

    def __init__(self, new_vocab, new_vocab_size, num_oov_buckets, old_vocab,
                 old_vocab_size=-1, backup_initializer=None, axis=0):
        self.new_vocab = new_vocab
        self.old_vocab = old_vocab


def _warm_start(settings):
    import re

    from headwater.train import checkpoint_utils

    if isinstance(settings, str):
        settings = WarmStartSettings(settings)
    logging.info("Warm-starting with WarmStartSettings: %s", vars(settings))
    ckpt_vars = {name for name, _ in checkpoint_utils.list_variables(
        settings.ckpt_to_initialize_from)}
    spec = settings.vars_to_warm_start
    if isinstance(spec, (list, tuple)):
        wanted = [v for v in _ops.get_collection(_ops.GraphKeys.TRAINABLE_VARIABLES)
                  if v.op.name in spec or any(re.match(s, v.op.name) for s in spec)]
    else:
        coll = _ops.GraphKeys.TRAINABLE_VARIABLES if spec in (None, ".*") \
            else _ops.GraphKeys.GLOBAL_VARIABLES
        wanted = [v for v in _ops.get_collection(coll) if re.match(spec or ".*", v.op.name)]
    assignment = {}
    for v in wanted:
        prev = settings.var_name_to_prev_var_name.get(v.op.name, v.op.name)
        if prev in ckpt_vars:
            assignment[prev] = v
            logging.debug("Warm-starting variable: %s; prev_var_name: %s", v.op.name, prev)
    if assignment:
        checkpoint_utils.init_from_checkpoint(settings.ckpt_to_initialize_from, assignment)
    logging.info("Warm-started %d variables.", len(assignment))


class _ProgressBarHook(SessionRunHook):
    """A tqdm progress bar over the steps of `train`/`evaluate`, only on a terminal."""

    def __init__(self, total, desc, start=0):
        self._total = total
        self._desc = desc
        self._start = start
        self._bar = None

    @staticmethod
    def wanted():
        try:
            if not sys.stderr.isatty():
                return False
            import tqdm  # noqa: F401
        except (ImportError, AttributeError, ValueError):
            return False
        return True

    def after_create_session(self, session, coord):
        from tqdm import tqdm

        self._bar = tqdm(total=self._total, desc=self._desc, unit="step", leave=False,
                         dynamic_ncols=True)

    def after_run(self, run_context, run_values):
        if self._bar is not None:
            self._bar.update(1)

    def end(self, session):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class _StopAfterNEvalsHook(SessionRunHook):
    """Stop evaluation after `num_evals` batches; log progress every tenth of them."""

    def __init__(self, num_evals, log_progress=True):
        self._num_evals = num_evals
        self._evals_completed = 0
        self._log_progress = log_progress
        self._log_frequency = 1 if not num_evals or num_evals < 20 else int(num_evals // 10)

    def after_run(self, run_context, run_values):
        self._evals_completed += 1
        if self._num_evals is None:
            return
        if self._log_progress and (self._evals_completed % self._log_frequency == 0
                                   or self._evals_completed == self._num_evals):
            logging.info("Evaluation [%d/%d]", self._evals_completed, self._num_evals)
        if self._evals_completed >= self._num_evals:
            run_context.request_stop()


def _dict_to_str(d):
    return ", ".join("%s = %s" % (k, v) for k, v in sorted(d.items())
                     if not isinstance(v, bytes))


class Estimator:
    """Trains, evaluates and serves the model described by `model_fn`.

    Args:
      model_fn: `model_fn(features, labels, mode, params, config)` -> `EstimatorSpec`
        (`labels`, `mode`, `params` and `config` are optional arguments).
      model_dir: where checkpoints and events go; None: a new temporary directory.
      config: a `RunConfig`.
      params: dict of hyperparameters passed to `model_fn`.
      warm_start_from: a checkpoint (directory or file) or `WarmStartSettings` to initialize
        variables from when training starts from scratch.
    """

    def __init__(self, model_fn, model_dir=None, config=None, params=None,
                 warm_start_from=None):
        if config is None:
            config = RunConfig()
            logging.info("Using default config.")
        elif not isinstance(config, RunConfig):
            raise ValueError("config must be an instance of `RunConfig`, but provided %s."
                             % (config,))
        if model_dir is not None and config.model_dir is not None and \
                os.path.abspath(model_dir) != os.path.abspath(config.model_dir):
            raise ValueError("`model_dir` are set both in constructor and `RunConfig`, but "
                             f"with different values. In constructor: '{model_dir}', in `RunConfig`: "
                             f"'{config.model_dir}' ")
        model_dir = model_dir or config.model_dir
        if model_dir is None:
            model_dir = tempfile.mkdtemp()
            logging.warning("Using temporary folder as model directory: %s", model_dir)
        model_dir = os.fspath(model_dir)
        if config.model_dir != model_dir:
            config = config.replace(model_dir=model_dir)
        logging.info("Using config: %s", config)
        if model_fn is None:
            raise ValueError("model_fn must be provided to Estimator.")
        _verify_model_fn_args(model_fn, params)
        self._model_fn = model_fn
        self._model_dir = model_dir
        self._config = config
        self._params = dict(params or {})
        self._warm_start_settings = warm_start_from

    # ---- properties ----
    @property
    def model_dir(self):
        return self._model_dir

    @property
    def config(self):
        return self._config

    @property
    def params(self):
        return dict(self._params)

    @property
    def model_fn(self):
        def public_model_fn(features, labels, mode, config):
            return self._call_model_fn(features, labels, mode, config)
        return public_model_fn

    # ---- checkpoints ----
    def latest_checkpoint(self):
        """The path of the newest checkpoint in `model_dir`, or None."""
        from headwater.train.checkpoint_management import latest_checkpoint

        return latest_checkpoint(self._model_dir)

    def _checkpoint_or_raise(self):
        path = self.latest_checkpoint()
        if not path:
            raise ValueError(f"Could not find trained model in model_dir: {self._model_dir}."
                             )
        return path

    def get_variable_names(self):
        """Names of the variables saved in the latest checkpoint."""
        from headwater.train import checkpoint_utils

        return [name for name, _ in checkpoint_utils.list_variables(
            self._checkpoint_or_raise())]

    def get_variable_value(self, name):
        """The value (numpy array) of variable `name` in the latest checkpoint."""
        from headwater.train import checkpoint_utils

        return checkpoint_utils.load_variable(self._checkpoint_or_raise(), name)

    # ---- building ----
    def _call_input_fn(self, input_fn, mode):
        args = _fn_args(input_fn)
        kwargs = {}
        if "mode" in args:
            kwargs["mode"] = mode
        if "params" in args:
            kwargs["params"] = self.params
        if "config" in args:
            kwargs["config"] = self._config
        if not callable(input_fn):
            raise TypeError(f"input_fn must be callable; got {type(input_fn).__name__}")
        return input_fn(**kwargs)

    def _get_features_and_labels(self, input_fn, mode):
        from headwater.data.dataset_ops import Dataset

        with _ops.device("/cpu:0"):
            result = self._call_input_fn(input_fn, mode)
        if isinstance(result, Dataset):
            result = result.make_one_shot_iterator().get_next()
        if isinstance(result, (tuple, list)):
            if len(result) != 2:
                raise ValueError("input_fn should return (features, labels) as a len 2 tuple; "
                                 "got a %s of length %d." % (type(result).__name__, len(result)))
            features, labels = result
        elif isinstance(result, dict) or isinstance(result, _ops.Tensor):
            features, labels = result, None
        else:
            raise ValueError("input_fn should return a tf.data.Dataset, (features, labels) as "
                             "a len 2 tuple, a dict of feature Tensors or a Tensor; got %r."
                             % (result,))
        _check_features(features, "features")
        if labels is not None:
            _check_features(labels, "labels")
        return features, labels

    def _call_model_fn(self, features, labels, mode, config):
        args = _fn_args(self._model_fn)
        kwargs = {}
        if "labels" in args:
            kwargs["labels"] = labels
        elif labels is not None:
            raise ValueError("model_fn does not take labels, but input_fn returns labels.")
        if "mode" in args:
            kwargs["mode"] = mode
        if "params" in args:
            kwargs["params"] = self.params
        if "config" in args:
            kwargs["config"] = config
        logging.info("Calling model_fn.")
        spec = self._model_fn(features=features, **kwargs)
        logging.info("Done calling model_fn.")
        if not isinstance(spec, EstimatorSpec):
            raise ValueError("model_fn should return an EstimatorSpec, got %r." % (spec,))
        return spec

    # ---- train ----
    def train(self, input_fn, hooks=None, steps=None, max_steps=None, saving_listeners=None):
        """Train the model on the data of `input_fn`.

        Args:
          input_fn: returns `(features, labels)`, or a `Dataset` of such pairs.
          hooks: extra `SessionRunHook`s.
          steps: train this many more steps (None: until the input ends).
          max_steps: train until the global step reaches this value.
          saving_listeners: `CheckpointSaverListener`s.
        Returns:
          self.
        Raises:
          ValueError: if both `steps` and `max_steps` are set, or either is <= 0.
          NanLossDuringTrainingError: if the loss becomes NaN.
        """
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        hooks = list(hooks or [])
        for h in hooks:
            if not isinstance(h, SessionRunHook):
                raise TypeError(f"All hooks must be SessionRunHook instances, given: {h}"
                                )
        start_step = None
        if max_steps is not None:
            start_step = self._global_step_in_checkpoint()
            if max_steps <= start_step:
                logging.info("Skipping training since max_steps has already saved.")
                return self
        if steps is not None or max_steps is not None:
            hooks.append(_hooks.StopAtStepHook(steps, max_steps))
        loss = self._train_model(input_fn, hooks, saving_listeners, steps, max_steps,
                                 start_step)
        logging.info("Loss for final step: %s.", loss)
        return self

    def _global_step_in_checkpoint(self):
        path = self.latest_checkpoint()
        if not path:
            return 0
        from headwater.train import checkpoint_utils

        try:
            return int(checkpoint_utils.load_variable(path, "global_step"))
        except Exception:  # noqa: BLE001 - a checkpoint without a global step
            return 0

    def _train_model(self, input_fn, hooks, saving_listeners, steps, max_steps, start_step):
        config = self._config
        with _ops.Graph().as_default() as g:
            if config.tf_random_seed is not None:
                _random_seed.set_random_seed(config.tf_random_seed)
            global_step = training_util.get_or_create_global_step(g)
            # The read every hook fetches, made before the model so it sees the step before
            # this run's increment (as TF1).
            training_util._get_or_create_global_step_read(g)
            features, labels = self._get_features_and_labels(input_fn, ModeKeys.TRAIN)
            spec = self._call_model_fn(features, labels, ModeKeys.TRAIN, config)
            if self._warm_start_settings and not self.latest_checkpoint():
                _warm_start(self._warm_start_settings)
            loss = spec.loss
            # TF1 logs the step reached by this run: read the variable after the train op
            # (a plain Identity would reuse the value read before the update).
            from headwater.ops import array_ops, state_ops

            with _ops.control_dependencies([spec.train_op]):
                step_after = state_ops.initialized_value(
                    global_step, array_ops.zeros([], global_step.dtype.base_dtype),
                    name="global_step_after_train")
            _summary_scalar("loss", loss)
            worker_hooks = [_hooks.NanTensorHook(loss)]
            if config.log_step_count_steps:
                worker_hooks.append(_hooks.LoggingTensorHook(
                    {"loss": loss, "step": step_after},
                    every_n_iter=config.log_step_count_steps))
            worker_hooks += list(spec.training_hooks) + hooks
            if _ProgressBarHook.wanted() and (steps or max_steps):
                total = steps if steps else max_steps - (start_step or 0)
                worker_hooks.append(_ProgressBarHook(total, "train"))
            scaffold = spec.scaffold or _ms.Scaffold()
            if scaffold.saver is None and not _ops.get_collection(_ops.GraphKeys.SAVERS):
                from headwater.train.saver import Saver

                saver = Saver(sharded=True, max_to_keep=config.keep_checkpoint_max,
                              keep_checkpoint_every_n_hours=config
                              .keep_checkpoint_every_n_hours, allow_empty=True)
                _ops.add_to_collection(_ops.GraphKeys.SAVERS, saver)
            chief_hooks = list(spec.training_chief_hooks)
            if config.save_checkpoints_secs or config.save_checkpoints_steps:
                listeners = list(saving_listeners or [])
                existing = [h for h in chief_hooks + worker_hooks
                            if isinstance(h, _hooks.CheckpointSaverHook)]
                if existing:
                    existing[0]._listeners.extend(listeners)
                else:
                    chief_hooks.append(_hooks.CheckpointSaverHook(
                        self._model_dir, save_secs=config.save_checkpoints_secs,
                        save_steps=config.save_checkpoints_steps, scaffold=scaffold,
                        listeners=listeners,
                        save_graph_def=config.checkpoint_save_graph_def))
            elif saving_listeners:
                raise ValueError("There should be a CheckpointSaverHook to use "
                                 "saving_listeners. Please set one of the RunConfig."
                                 "save_checkpoints_steps or RunConfig.save_checkpoints_secs.")
            any_step_done = False
            last = None
            with _ms.MonitoredTrainingSession(
                    checkpoint_dir=self._model_dir, scaffold=scaffold, hooks=worker_hooks,
                    chief_only_hooks=chief_hooks, save_checkpoint_secs=0,
                    save_summaries_steps=config.save_summary_steps or 0,
                    config=config.session_config,
                    log_step_count_steps=config.log_step_count_steps) as mon_sess:
                fetches = [spec.train_op, loss]
                while not mon_sess.should_stop():
                    _, last = mon_sess.run(fetches)
                    any_step_done = True
            if not any_step_done:
                logging.warning("Training with estimator made no steps. Perhaps input is "
                                "empty or misspecified.")
            return last

    # ---- evaluate ----
    def evaluate(self, input_fn, steps=None, hooks=None, checkpoint_path=None, name=None):
        """Evaluate the model on `input_fn`'s data (until it ends, or `steps` batches).

        Returns:
          dict with `loss`, `global_step` and every metric of the EstimatorSpec (for canned
          estimators also `average_loss`, `accuracy`, ...).
        Raises:
          ValueError: if `steps` <= 0.
        """
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        hooks = list(hooks or [])
        checkpoint_path = checkpoint_path or self.latest_checkpoint()
        if not checkpoint_path:
            logging.info("Could not find trained model in model_dir: %s, running "
                         "initialization to evaluate.", self._model_dir)
        eval_dir = os.path.join(self._model_dir, "eval" if not name else "eval_" + name)
        with _ops.Graph().as_default() as g:
            if self._config.tf_random_seed is not None:
                _random_seed.set_random_seed(self._config.tf_random_seed)
            global_step = training_util.get_or_create_global_step(g)
            features, labels = self._get_features_and_labels(input_fn, ModeKeys.EVAL)
            spec = self._call_model_fn(features, labels, ModeKeys.EVAL, self._config)
            from headwater import metrics as _metrics
            from headwater.ops import control_flow_ops

            eval_ops = dict(spec.eval_metric_ops)
            if "loss" not in eval_ops:
                eval_ops["loss"] = _metrics.mean(spec.loss)
            if "global_step" in eval_ops:
                raise ValueError("Metric with name `global_step` is not allowed, because "
                                 "Estimator already defines a default metric with the same "
                                 "name.")
            values = {}
            updates = []
            for k, v in eval_ops.items():
                if hasattr(v, "result"):
                    values[k] = v.result()
                else:
                    values[k], up = v
                    updates.append(up)
            values["global_step"] = global_step
            update_op = control_flow_ops.group(*updates)
            final = _hooks.FinalOpsHook(values)
            all_hooks = [_StopAfterNEvalsHook(steps), final] + list(
                spec.evaluation_hooks) + hooks
            if _ProgressBarHook.wanted() and steps:
                all_hooks.append(_ProgressBarHook(steps, "eval"))
            scaffold = spec.scaffold or _ms.Scaffold()
            logging.info("Starting evaluation at %s",
                         time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime()))
            t0 = time.time()
            creator = _ms.ChiefSessionCreator(scaffold=scaffold,
                                              checkpoint_filename_with_path=checkpoint_path,
                                              config=self._config.session_config)
            with _ms.MonitoredSession(session_creator=creator, hooks=all_hooks) as sess:
                while not sess.should_stop():
                    sess.run(update_op)
            logging.info("Inference Time : %.5fs", time.time() - t0)
            logging.info("Finished evaluation at %s",
                         time.strftime("%Y-%m-%d-%H:%M:%S", time.localtime()))
            result = final.final_ops_values
        result = {k: v for k, v in result.items()}
        result["global_step"] = int(result["global_step"])
        logging.info("Saving dict for global step %d: %s", result["global_step"],
                     _dict_to_str(result))
        _write_eval_summaries(eval_dir, result)
        if checkpoint_path:
            logging.info("Saving 'checkpoint_path' summary for global step %d: %s",
                         result["global_step"], checkpoint_path)
        return result

    # ---- predict ----
    def predict(self, input_fn, predict_keys=None, hooks=None, checkpoint_path=None,
                yield_single_examples=True):
        """Yield predictions for the features of `input_fn` (a generator).

        Args:
          predict_keys: the prediction keys to return (default all).
          yield_single_examples: yield one example at a time (True) or whole batches.
        Raises:
          ValueError: if `predict_keys` names no prediction, or batch sizes differ.
        """
        hooks = list(hooks or [])
        checkpoint_path = checkpoint_path or self.latest_checkpoint()
        if not checkpoint_path:
            logging.info("Could not find trained model in model_dir: %s, running "
                         "initialization to predict.", self._model_dir)
        with _ops.Graph().as_default() as g:
            if self._config.tf_random_seed is not None:
                _random_seed.set_random_seed(self._config.tf_random_seed)
            training_util.get_or_create_global_step(g)
            result = self._get_features_and_labels(input_fn, ModeKeys.PREDICT)
            features = result[0]
            spec = self._call_model_fn(features, None, ModeKeys.PREDICT, self._config)
            predictions = _extract_keys(spec.predictions, predict_keys)
            creator = _ms.ChiefSessionCreator(scaffold=spec.scaffold or _ms.Scaffold(),
                                              checkpoint_filename_with_path=checkpoint_path,
                                              config=self._config.session_config)
            with _ms.MonitoredSession(session_creator=creator,
                                      hooks=list(spec.prediction_hooks) + hooks) as sess:
                while not sess.should_stop():
                    preds = sess.run(predictions)
                    if not yield_single_examples:
                        yield preds
                        continue
                    if not isinstance(preds, dict):
                        for p in preds:
                            yield p
                        continue
                    n = _batch_length(preds)
                    for i in range(n):
                        yield {k: v[i] for k, v in preds.items()}

    # ---- export ----
    def export_saved_model(self, export_dir_base, serving_input_receiver_fn,
                           assets_extra=None, as_text=False, checkpoint_path=None,
                           experimental_mode=ModeKeys.PREDICT):
        """Export the PREDICT graph with the latest checkpoint's values as a SavedModel in
        a new timestamped subdirectory of `export_dir_base`; returns its path."""
        from headwater.estimator import export as _export

        return _export.export_saved_model(self, export_dir_base, serving_input_receiver_fn,
                                          assets_extra, as_text, checkpoint_path,
                                          experimental_mode)

    export_savedmodel = export_saved_model


def _check_features(x, what):
    if isinstance(x, dict):
        for k, v in x.items():
            if not (isinstance(v, _ops.Tensor) or hasattr(v, "_as_graph_element")
                    or type(v).__name__ == "SparseTensor"):
                raise ValueError("input_fn returned %s[%r] = %r, which is not a Tensor. Return "
                                 "tensors (e.g. from tf.data or numpy_input_fn), not Python or "
                                 "numpy values." % (what, k, v))
    elif not (isinstance(x, _ops.Tensor) or hasattr(x, "_as_graph_element")):
        raise ValueError("input_fn returned %s = %r, which is not a Tensor or dict of Tensors."
                         % (what, x))


def _extract_keys(predictions, predict_keys):
    if not predict_keys:
        return predictions
    if not isinstance(predictions, dict):
        raise ValueError("predict_keys argument is not valid in case of non-dict "
                         "predictions.")
    if isinstance(predict_keys, str):
        predict_keys = [predict_keys]
    existing = predictions
    predictions = {k: v for k, v in predictions.items() if k in predict_keys}
    if not predictions:
        raise ValueError("Expected to run at least one output from %s, provided %s."
                         % (sorted(existing.keys()), predict_keys))
    return predictions


def _batch_length(preds):
    n = None
    for k, v in preds.items():
        v = np.asarray(v)
        if v.ndim == 0:
            raise ValueError("Prediction %s should have a batch dimension (rank >= 1); got "
                             "shape %s." % (k, v.shape))
        if n is None:
            n = v.shape[0]
        elif v.shape[0] != n:
            raise ValueError("Batch length of predictions should be same. %s has different "
                             "batch length than others." % k)
    return n or 0


def _summary_scalar(name, tensor):
    try:
        from headwater import summary
        scalar = getattr(summary, "scalar", None)
        if scalar is not None:
            scalar(name, tensor)
    except ImportError:
        pass


def _write_eval_summaries(eval_dir, result):
    try:
        from headwater import summary

        writer = summary.FileWriterCache.get(eval_dir)
        values = []
        for k, v in sorted(result.items()):
            if k == "global_step":
                continue
            if isinstance(v, (float, int, np.floating, np.integer, np.bool_)) or (
                    isinstance(v, np.ndarray) and v.size == 1):
                values.append(summary.Summary.Value(tag=k, simple_value=float(v)))
        writer.add_summary(summary.Summary(value=values), result["global_step"])
        writer.flush()
    except (ImportError, AttributeError) as e:
        logging.debug("No evaluation summaries written: %s", e)


del _model_fn_lib, SessionRunArgs
