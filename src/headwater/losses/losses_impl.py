"""TF1 `tf.losses`: weighted losses with reduction modes, added to the LOSSES collection.

Differences from TF1 (deliberate): TF1 casts labels/predictions/losses to float32; here float64
inputs stay float64 so the losses keep full precision (and can be gradient-checked). Values for
float32 inputs are identical.
"""

from __future__ import annotations

import numbers

from headwater.framework import dtypes as _dt
from headwater.framework import ops as _ops
from headwater.losses import util
from headwater.ops import array_ops, math_ops, nn_ops

__all__ = ["Reduction", "absolute_difference", "compute_weighted_loss", "cosine_distance",
           "hinge_loss", "huber_loss", "log_loss", "mean_squared_error",
           "sigmoid_cross_entropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy"]

_LOSSES = _ops.GraphKeys.LOSSES


class Reduction:
    """Types of loss reduction (TF1 `tf.losses.Reduction`).

    NONE: un-reduced weighted losses. SUM: sum of weighted losses. MEAN: SUM divided by the
    sum of the weights. SUM_OVER_BATCH_SIZE: SUM divided by the number of loss elements.
    SUM_BY_NONZERO_WEIGHTS (= SUM_OVER_NONZERO_WEIGHTS): SUM divided by the number of
    elements with a nonzero weight.
    """

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError("Invalid Reduction Key %s." % (key,))


def _compute_dtype(dtype):
    """float64 stays float64; everything else is computed in float32 (as TF1)."""
    return _dt.float64 if dtype.base_dtype == _dt.float64 else _dt.float32


def _to_float(x, name=None):
    x = _ops.convert_to_tensor(x, name=name)
    return math_ops.cast(x, _compute_dtype(x.dtype))


def _assert_broadcastable(weights, values):
    """TF1's static check that `weights` broadcasts to `values` (scalar, or same rank with
    each dimension 1 or equal)."""
    ws, vs = weights.shape._dims, values.shape._dims
    if ws is None or vs is None or len(ws) == 0:
        return
    if len(ws) != len(vs):
        raise ValueError("weights can not be broadcast to values. values.rank=%d. "
                         "weights.rank=%d. values.shape=%s. weights.shape=%s."
                         % (len(vs), len(ws), values.shape, weights.shape))
    for i, (w, v) in enumerate(zip(ws, vs)):
        if w is not None and v is not None and w != 1 and w != v:
            raise ValueError("weights can not be broadcast to values. Mismatch at dim %d. "
                             "values.shape=%s. weights.shape=%s."
                             % (i, values.shape, weights.shape))


def _safe_mean(total, num_present):
    return math_ops.div_no_nan(total, num_present, name="value")


def _num_elements(losses):
    with _ops.name_scope(None, "num_elements", [losses]) as scope:
        return math_ops.cast(array_ops.size(losses, name=scope), losses.dtype)


def _num_present(losses, weights, per_batch=False):
    """Number of loss elements with a nonzero (broadcast) weight."""
    if isinstance(weights, numbers.Real) and not isinstance(weights, bool) and weights != 0.0:
        return _num_elements(losses)
    with _ops.name_scope(None, "num_present", [losses, weights]) as scope:
        weights = math_ops.cast(weights, losses.dtype)
        present = math_ops.where(math_ops.equal(weights, 0.0), array_ops.zeros_like(weights),
                                 array_ops.ones_like(weights))
        if present.shape != losses.shape or not present.shape.is_fully_defined():
            present = math_ops.multiply(present, array_ops.ones_like(losses))
        if per_batch:
            return math_ops.reduce_sum(present, axis=list(range(1, losses.shape.ndims)),
                                       keepdims=True, name=scope)
        return math_ops.reduce_sum(present, name=scope)


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=_LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Multiply `losses` by `weights` and reduce them (named "weighted_loss").

    Args:
      losses: Tensor of per-element losses.
      weights: scalar, or Tensor of the rank of `losses` whose dimensions are 1 or equal to
        those of `losses`.
      scope: name scope.
      loss_collection: collection the result is added to.
      reduction: a `Reduction` key.
    Returns:
      The weighted loss: scalar unless `reduction` is NONE; dtype of `losses`.
    Raises:
      ValueError: bad reduction key or weights that don't broadcast.
    """
    Reduction.validate(reduction)
    with _ops.name_scope(scope, "weighted_loss", [losses, weights]):
        losses = _ops.convert_to_tensor(losses)
        input_dtype = losses.dtype.base_dtype
        compute = _compute_dtype(input_dtype)
        losses = math_ops.cast(losses, compute)
        py_weights = weights
        weights = math_ops.cast(weights, compute)
        _assert_broadcastable(weights, losses)
        weighted_losses = math_ops.multiply(losses, weights)
        if reduction == Reduction.NONE:
            loss = weighted_losses
        else:
            loss = math_ops.reduce_sum(weighted_losses)
            if reduction == Reduction.MEAN:
                loss = _safe_mean(loss, math_ops.reduce_sum(
                    math_ops.multiply(array_ops.ones_like(losses), weights)))
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = _safe_mean(loss, _num_present(losses, py_weights))
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = _safe_mean(loss, _num_elements(losses))
        loss = math_ops.cast(loss, input_dtype)
        util.add_loss(loss, loss_collection)
        return loss


def _check_not_none(**kw):
    for k, v in kw.items():
        if v is None:
            raise ValueError("Argument `%s` must not be None." % k)


def _pair(labels, predictions, pred_name="predictions"):
    predictions = _to_float(predictions, name=pred_name)
    labels = math_ops.cast(_ops.convert_to_tensor(labels, name="labels"),
                           predictions.dtype)
    predictions.shape.assert_is_compatible_with(labels.shape)
    return labels, predictions


def absolute_difference(labels, predictions, weights=1.0, scope=None,
                        loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted |predictions - labels| (scope "absolute_difference").

    Args:
      labels, predictions: Tensors of the same shape.
      weights, scope, loss_collection, reduction: as `compute_weighted_loss`.
    Returns:
      The weighted loss (scalar unless reduction is NONE).
    """
    _check_not_none(labels=labels, predictions=predictions)
    with _ops.name_scope(scope, "absolute_difference", [predictions, labels, weights]) as scope:
        labels, predictions = _pair(labels, predictions)
        losses = math_ops.abs(math_ops.subtract(predictions, labels))
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=_LOSSES,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted (predictions - labels) ** 2 (scope "mean_squared_error"); arguments as
    `absolute_difference`."""
    _check_not_none(labels=labels, predictions=predictions)
    with _ops.name_scope(scope, "mean_squared_error", [predictions, labels, weights]) as scope:
        labels, predictions = _pair(labels, predictions)
        losses = math_ops.squared_difference(predictions, labels)
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None,
             loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted -labels * log(p + eps) - (1 - labels) * log(1 - p + eps) (scope "log_loss").

    Args:
      labels: targets in [0, 1]; predictions: probabilities, same shape.
      epsilon: keeps the logs finite.
    """
    _check_not_none(labels=labels, predictions=predictions)
    with _ops.name_scope(scope, "log_loss", [predictions, labels, weights]) as scope:
        labels, predictions = _pair(labels, predictions)
        dt = predictions.dtype
        eps = array_ops.constant(epsilon, dtype=dt)
        one = array_ops.constant(1.0, dtype=dt)
        losses = math_ops.subtract(
            math_ops.negative(math_ops.multiply(labels, math_ops.log(predictions + eps))),
            math_ops.multiply(one - labels, math_ops.log(one - predictions + eps)))
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def hinge_loss(labels, logits, weights=1.0, scope=None, loss_collection=_LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted max(0, 1 - (2 * labels - 1) * logits) (scope "hinge_loss").

    Args:
      labels: 0/1 targets; logits: same shape, unscaled scores.
    """
    _check_not_none(labels=labels, logits=logits)
    with _ops.name_scope(scope, "hinge_loss", [logits, labels, weights]) as scope:
        labels, logits = _pair(labels, logits, "logits")
        all_ones = array_ops.ones_like(labels)
        labels = math_ops.subtract(2 * labels, all_ones)
        losses = nn_ops.relu(math_ops.subtract(all_ones, math_ops.multiply(labels, logits)))
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None,
               loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted Huber loss: 0.5 * e**2 for |e| <= delta, else delta * (|e| - 0.5 * delta),
    with e = predictions - labels (scope "huber_loss")."""
    _check_not_none(labels=labels, predictions=predictions)
    with _ops.name_scope(scope, "huber_loss", [predictions, labels, weights]) as scope:
        labels, predictions = _pair(labels, predictions)
        dt = predictions.dtype
        error = math_ops.subtract(predictions, labels)
        abs_error = math_ops.abs(error)
        quadratic = math_ops.minimum(abs_error, array_ops.constant(delta, dtype=dt))
        linear = math_ops.subtract(abs_error, quadratic)
        losses = math_ops.add(
            math_ops.multiply(array_ops.constant(0.5, dtype=dt),
                              math_ops.multiply(quadratic, quadratic)),
            math_ops.multiply(array_ops.constant(delta, dtype=dt), linear))
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None,
                    loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
                    dim=None):
    """Weighted 1 - sum(labels * predictions, axis) for unit-normalised inputs
    (scope "cosine_distance_loss")."""
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'.")
        axis = dim
    if axis is None:
        raise ValueError("You must specify 'axis'.")
    _check_not_none(labels=labels, predictions=predictions)
    with _ops.name_scope(scope, "cosine_distance_loss",
                         [predictions, labels, weights]) as scope:
        labels, predictions = _pair(labels, predictions)
        radial = math_ops.multiply(predictions, labels)
        losses = math_ops.subtract(array_ops.constant(1.0, dtype=predictions.dtype),
                                   math_ops.reduce_sum(radial, axis=[axis], keepdims=True))
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0,
                          scope=None, loss_collection=_LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted sigmoid cross-entropy (scope "sigmoid_loss").

    Args:
      multi_class_labels: 0/1 targets, same shape as `logits`.
      logits: unscaled log-odds.
      label_smoothing: if > 0, labels become labels * (1 - s) + 0.5 * s.
    """
    _check_not_none(multi_class_labels=multi_class_labels, logits=logits)
    with _ops.name_scope(scope, "sigmoid_loss",
                         [logits, multi_class_labels, weights]) as scope:
        logits = _ops.convert_to_tensor(logits, name="logits")
        labels = math_ops.cast(multi_class_labels, logits.dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        if label_smoothing > 0:
            labels = (labels * (1 - label_smoothing) + 0.5 * label_smoothing)
        losses = nn_ops.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits,
                                                          name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted softmax cross-entropy (scope "softmax_cross_entropy_loss").

    Args:
      onehot_labels: [batch, classes] target distributions (no gradient flows into them).
      logits: [batch, classes] unscaled log probabilities.
      weights: scalar or [batch] Tensor.
      label_smoothing: if > 0, labels become labels * (1 - s) + s / classes.
    Returns:
      The weighted loss (scalar unless reduction is NONE, then [batch]).
    """
    _check_not_none(onehot_labels=onehot_labels, logits=logits)
    with _ops.name_scope(scope, "softmax_cross_entropy_loss",
                         [logits, onehot_labels, weights]) as scope:
        logits = _ops.convert_to_tensor(logits, name="logits")
        onehot_labels = math_ops.cast(onehot_labels, logits.dtype)
        logits.shape.assert_is_compatible_with(onehot_labels.shape)
        if label_smoothing > 0:
            nc = logits.shape._dims[-1] if logits.shape._dims else None
            if nc is None:
                num_classes = math_ops.cast(array_ops.shape(onehot_labels)[-1], logits.dtype)
            else:
                num_classes = array_ops.constant(float(nc), dtype=logits.dtype)
            smooth_positives = 1.0 - label_smoothing
            smooth_negatives = label_smoothing / num_classes
            onehot_labels = onehot_labels * smooth_positives + smooth_negatives
        onehot_labels = array_ops.stop_gradient(onehot_labels, name="labels_stop_gradient")
        losses = nn_ops.softmax_cross_entropy_with_logits_v2(labels=onehot_labels,
                                                             logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def _remove_squeezable_dimensions(labels, logits, weights):
    """Squeeze a trailing size-1 label dimension ([batch, 1] labels for [batch, C] logits)
    and weights one rank above the labels, as TF1."""
    lr, pr = labels.shape.ndims, logits.shape.ndims
    if lr is not None and pr is not None and pr - lr == 0:
        last = labels.shape._dims[-1]
        if last is None or last == 1:
            labels = array_ops.squeeze(labels, [-1])
    if not isinstance(weights, numbers.Real):
        weights = _ops.convert_to_tensor(weights)
        wr, lr = weights.shape.ndims, labels.shape.ndims
        if wr is not None and lr is not None and wr - lr == 1:
            weights = array_ops.squeeze(weights, [-1])
    return labels, logits, weights


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None,
                                 loss_collection=_LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted cross-entropy with integer class labels (scope
    "sparse_softmax_cross_entropy_loss").

    Args:
      labels: int32/int64 [batch] (or [batch, 1]) class indices.
      logits: [batch, classes] float Tensor.
      weights: scalar or [batch] (or [batch, 1]) Tensor.
    """
    _check_not_none(labels=labels, logits=logits)
    with _ops.name_scope(scope, "sparse_softmax_cross_entropy_loss",
                         [logits, labels, weights]) as scope:
        labels = _ops.convert_to_tensor(labels, name="labels")
        logits = _ops.convert_to_tensor(logits, name="logits")
        labels, logits, weights = _remove_squeezable_dimensions(labels, logits, weights)
        losses = nn_ops.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                                 name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)
