"""`EstimatorSpec` and `ModeKeys`: what a `model_fn` returns for each mode (TF1)."""

from __future__ import annotations

import collections

from headwater.framework import ops as _ops

__all__ = ["EstimatorSpec", "ModeKeys"]


class ModeKeys:
    """The three modes a `model_fn` is called in."""

    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"


_Spec = collections.namedtuple("EstimatorSpec", [
    "mode", "predictions", "loss", "train_op", "eval_metric_ops", "export_outputs",
    "training_chief_hooks", "training_hooks", "scaffold", "evaluation_hooks",
    "prediction_hooks"])


def _check_tensor(x, name):
    if not (isinstance(x, _ops.Tensor) or hasattr(x, "_as_graph_element")):
        raise TypeError(f"{name} must be Tensor, given: {x}")
    return x


class EstimatorSpec(_Spec):
    """Ops and objects returned by a `model_fn`.

    Required per mode: PREDICT needs `predictions`; EVAL needs `loss`; TRAIN needs `loss`
    and `train_op`.

    Args:
      mode: a `ModeKeys` value.
      predictions: a Tensor or dict of Tensors.
      loss: a scalar Tensor.
      train_op: the op running one training step.
      eval_metric_ops: dict {name: (value_tensor, update_op)} (e.g. from `tf.metrics`).
      export_outputs: dict {name: ExportOutput} for `export_saved_model`.
      training_chief_hooks, training_hooks, evaluation_hooks, prediction_hooks: hooks.
      scaffold: a `tf.train.Scaffold`.
    """

    def __new__(cls, mode, predictions=None, loss=None, train_op=None, eval_metric_ops=None,
                export_outputs=None, training_chief_hooks=None, training_hooks=None,
                scaffold=None, evaluation_hooks=None, prediction_hooks=None):
        if mode not in (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT):
            raise ValueError(f"mode={mode} unrecognized.")
        if train_op is None and mode == ModeKeys.TRAIN:
            raise ValueError("Missing train_op.")
        if loss is None and mode in (ModeKeys.TRAIN, ModeKeys.EVAL):
            raise ValueError("Missing loss.")
        if loss is not None:
            loss = _check_tensor(_ops.convert_to_tensor(loss), "loss")
            dims = loss.shape._dims
            if dims is not None and any(d != 1 for d in dims):
                raise ValueError(f"Loss must be scalar, given: {loss}")
        if predictions is None:
            if mode == ModeKeys.PREDICT:
                raise ValueError("Missing predictions.")
            predictions = {}
        elif isinstance(predictions, dict):
            for k, v in predictions.items():
                _check_tensor(v, f"predictions[{k}]")
        else:
            _check_tensor(predictions, "predictions")
        if train_op is not None and not isinstance(train_op, (_ops.Operation, _ops.Tensor)) \
                and not hasattr(train_op, "_as_graph_element"):
            raise TypeError(f"train_op must be Operation or Tensor, given: {train_op}")
        eval_metric_ops = dict(eval_metric_ops or {})
        for k, v in eval_metric_ops.items():
            if hasattr(v, "result") and hasattr(v, "update_state"):
                continue  # a Keras-style Metric object
            if not isinstance(v, tuple) or len(v) != 2:
                raise TypeError("Values of eval_metric_ops must be (metric_value, update_op) "
                                f"tuples, given: {v} for key: {k}")
        hooks = []
        for hs, name in ((training_chief_hooks, "training_chief_hooks"),
                         (training_hooks, "training_hooks"),
                         (evaluation_hooks, "evaluation_hooks"),
                         (prediction_hooks, "prediction_hooks")):
            hs = tuple(hs or ())
            from headwater.train.session_run_hook import SessionRunHook

            for h in hs:
                if not isinstance(h, SessionRunHook):
                    raise TypeError(f"All hooks must be SessionRunHook instances, given: {h}"
                                    )
            hooks.append(hs)
        return super().__new__(cls, mode, predictions, loss, train_op, eval_metric_ops,
                               export_outputs, hooks[0], hooks[1], scaffold, hooks[2],
                               hooks[3])

    def _replace(self, **kwds):
        d = self._asdict()
        d.update(kwds)
        return EstimatorSpec(**d)
