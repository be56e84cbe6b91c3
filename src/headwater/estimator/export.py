"""Serving inputs and `Estimator.export_saved_model` (TF1's `tf.estimator.export`)."""

from __future__ import annotations

import collections
import os
import time

from headwater.framework import ops as _ops

__all__ = ["ServingInputReceiver", "build_raw_serving_input_receiver_fn"]


class ServingInputReceiver(collections.namedtuple(
        "ServingInputReceiver", ["features", "receiver_tensors",
                                 "receiver_tensors_alternatives"])):
    """`features` given to the model_fn and the `receiver_tensors` (placeholders) a server
    feeds."""

    def __new__(cls, features, receiver_tensors, receiver_tensors_alternatives=None):
        if features is None:
            raise ValueError("features must be defined.")
        if not isinstance(features, dict):
            features = {"feature": features}
        if not isinstance(receiver_tensors, dict):
            receiver_tensors = {"input": receiver_tensors}
        return super().__new__(cls, features, receiver_tensors,
                               receiver_tensors_alternatives)


def build_raw_serving_input_receiver_fn(features, default_batch_size=None):
    """A serving_input_receiver_fn feeding placeholders shaped like `features` (a dict of
    Tensors or arrays) with a `default_batch_size` (None: any) first dimension."""
    def serving_input_receiver_fn():
        from headwater.ops import array_ops

        receivers = {}
        for name, t in features.items():
            t = _ops.convert_to_tensor(t) if not isinstance(t, _ops.Tensor) else t
            shape = [default_batch_size] + t.shape.as_list()[1:]
            receivers[name] = array_ops.placeholder(t.dtype, shape, name=name)
        return ServingInputReceiver(dict(receivers), receivers)
    return serving_input_receiver_fn


def export_saved_model(estimator, export_dir_base, serving_input_receiver_fn,
                       assets_extra=None, as_text=False, checkpoint_path=None,
                       mode="infer"):
    from headwater.client.session import Session
    from headwater.saved_model.simple_save import simple_save
    from headwater.train import training_util
    from headwater.train.saver import Saver

    checkpoint_path = checkpoint_path or estimator.latest_checkpoint()
    if not checkpoint_path:
        raise ValueError(f"Couldn't find trained model at {estimator.model_dir}.")
    export_dir = os.path.join(os.fspath(export_dir_base), str(int(time.time())))
    while os.path.exists(export_dir):
        export_dir = export_dir + "_1"
    with _ops.Graph().as_default() as g:
        training_util.get_or_create_global_step(g)
        receiver = serving_input_receiver_fn()
        spec = estimator._call_model_fn(receiver.features, None, mode, estimator.config)
        preds = spec.predictions
        outputs = preds if isinstance(preds, dict) else {"output": preds}
        with Session(graph=g) as sess:
            Saver().restore(sess, checkpoint_path)
            simple_save(sess, export_dir, receiver.receiver_tensors, outputs)
    return export_dir.encode()
