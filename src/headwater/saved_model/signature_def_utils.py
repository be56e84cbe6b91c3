"""Building SignatureDefs (TF1's `tf.saved_model.signature_def_utils`)."""

from headwater.framework.meta_graph import SignatureDef, TensorInfo
from headwater.saved_model import signature_constants
from headwater.saved_model.utils import build_tensor_info

__all__ = ["build_signature_def", "predict_signature_def", "classification_signature_def",
           "regression_signature_def", "is_valid_signature"]


def build_signature_def(inputs=None, outputs=None, method_name=None):
    """A SignatureDef from {key: TensorInfo} maps and a method name."""
    return SignatureDef(inputs or {}, outputs or {}, method_name or "")


def _infos(d, what):
    out = {}
    for k, v in d.items():
        out[k] = v if isinstance(v, TensorInfo) else build_tensor_info(v)
    return out


def predict_signature_def(inputs, outputs):
    """A predict SignatureDef from {key: Tensor} inputs and outputs.

    Raises:
      ValueError: if inputs or outputs is empty or None.
    """
    if inputs is None or not inputs:
        raise ValueError("Prediction inputs cannot be None or empty.")
    if outputs is None or not outputs:
        raise ValueError("Prediction outputs cannot be None or empty.")
    return build_signature_def(_infos(inputs, "input"), _infos(outputs, "output"),
                               signature_constants.PREDICT_METHOD_NAME)


def classification_signature_def(examples, classes, scores):
    """A classify SignatureDef (examples -> classes and/or scores)."""
    if examples is None:
        raise ValueError("Classification examples cannot be None.")
    if classes is None and scores is None:
        raise ValueError("Classification classes and scores cannot both be None.")
    outputs = {}
    if classes is not None:
        outputs[signature_constants.CLASSIFY_OUTPUT_CLASSES] = build_tensor_info(classes)
    if scores is not None:
        outputs[signature_constants.CLASSIFY_OUTPUT_SCORES] = build_tensor_info(scores)
    return build_signature_def({signature_constants.CLASSIFY_INPUTS:
                                build_tensor_info(examples)}, outputs,
                               signature_constants.CLASSIFY_METHOD_NAME)


def regression_signature_def(examples, predictions):
    """A regress SignatureDef (examples -> predictions)."""
    if examples is None:
        raise ValueError("Regression examples cannot be None.")
    if predictions is None:
        raise ValueError("Regression predictions cannot be None.")
    return build_signature_def(
        {signature_constants.REGRESS_INPUTS: build_tensor_info(examples)},
        {signature_constants.REGRESS_OUTPUTS: build_tensor_info(predictions)},
        signature_constants.REGRESS_METHOD_NAME)


def is_valid_signature(signature_def):
    """True if the signature has a method name and non-empty inputs and outputs."""
    return bool(isinstance(signature_def, SignatureDef) and signature_def.method_name
                and signature_def.inputs and signature_def.outputs)
