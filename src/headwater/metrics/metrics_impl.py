"""TF1 streaming metrics: each returns `(value, update_op)` over local "metric" variables.

The running totals live in variables of the LOCAL_VARIABLES and METRIC_VARIABLES collections
("accuracy/total:0", "accuracy/count:0"), zeroed by `tf.local_variables_initializer()`. Running
`update_op` folds a batch in and returns the updated metric; `value` reads it without updating.
"""

from __future__ import annotations

from headwater.framework import dtypes as _dt
from headwater.framework import ops as _ops
from headwater.ops import array_ops, check_ops, math_ops, state_ops
from headwater.ops import variable_scope as vs
from headwater.ops import variables as _variables

__all__ = ["accuracy", "auc", "false_negatives", "false_positives", "mean",
           "mean_absolute_error", "mean_squared_error", "precision", "recall",
           "root_mean_squared_error", "true_negatives", "true_positives"]

_F32 = _dt.float32


def metric_variable(shape, dtype, validate_shape=True, name=None):
    """A zero-initialised, non-trainable local variable for metric state."""
    dtype = _dt.as_dtype(dtype)
    return _variables.Variable(
        lambda: array_ops.zeros(shape, dtype), trainable=False,
        collections=[_ops.GraphKeys.LOCAL_VARIABLES, _ops.GraphKeys.METRIC_VARIABLES],
        validate_shape=validate_shape, name=name)


def _add_to(collections, value):
    if collections:
        _ops.add_to_collections(collections, value)


def _remove_squeezable_dimensions(predictions, labels, weights):
    """Squeeze trailing size-1 dims so labels/predictions/weights line up, as TF1."""
    predictions = _ops.convert_to_tensor(predictions)
    if labels is not None:
        labels = _ops.convert_to_tensor(labels)
        pr, lr = predictions.shape.ndims, labels.shape.ndims
        if pr is not None and lr is not None:
            if pr - lr == 1 and predictions.shape._dims[-1] in (1, None):
                predictions = array_ops.squeeze(predictions, [-1])
            elif pr - lr == -1 and labels.shape._dims[-1] in (1, None):
                labels = array_ops.squeeze(labels, [-1])
        predictions.shape.assert_is_compatible_with(labels.shape)
    if weights is None:
        return predictions, labels, None
    weights = _ops.convert_to_tensor(weights)
    wr, pr = weights.shape.ndims, predictions.shape.ndims
    if wr and pr is not None:
        if wr - pr == 1:
            weights = array_ops.squeeze(weights, [-1])
        elif pr - wr == 1:
            weights = array_ops.expand_dims(weights, -1)
    return predictions, labels, weights


def _broadcast_weights(weights, values):
    """`weights` as float32 broadcast to the shape of `values` (TF1 broadcast_weights)."""
    weights = math_ops.cast(weights, _F32)
    ws, vs_ = weights.shape._dims, values.shape._dims
    if ws is not None and vs_ is not None and ws and len(ws) != len(vs_):
        raise ValueError("weights can not be broadcast to values. values.rank=%d. "
                         "weights.rank=%d. values.shape=%s. weights.shape=%s."
                         % (len(vs_), len(ws), values.shape, weights.shape))
    if weights.shape.is_fully_defined() and values.shape.is_fully_defined() and \
            weights.shape == values.shape:
        return weights
    return math_ops.multiply(weights, array_ops.ones_like(values, dtype=_F32))


def mean(values, weights=None, metrics_collections=None, updates_collections=None,
         name=None):
    """The (weighted) mean of all `values` seen (variables "mean/total", "mean/count").

    Args:
      values: a Tensor of any shape.
      weights: None, or a Tensor broadcastable to `values` (0 excludes an element).
      metrics_collections, updates_collections: collections for value / update_op.
      name: variable scope (default "mean").
    Returns:
      (mean, update_op), float32 scalars; 0 while nothing (or only zero weight) was seen.
    """
    with vs.variable_scope(name, "mean", [values, weights]):
        values = math_ops.cast(values, _F32)
        total = metric_variable([], _F32, name="total")
        count = metric_variable([], _F32, name="count")
        if weights is None:
            num_values = math_ops.cast(array_ops.size(values), _F32)
        else:
            values, _, weights = _remove_squeezable_dimensions(values, None, weights)
            weights = _broadcast_weights(weights, values)
            values = math_ops.multiply(values, weights)
            num_values = math_ops.reduce_sum(weights)
        update_total_op = state_ops.assign_add(total, math_ops.reduce_sum(values))
        with _ops.control_dependencies([values]):
            update_count_op = state_ops.assign_add(count, num_values)
        zero = array_ops.constant(0.0)
        mean_t = math_ops.div_no_nan(total, math_ops.maximum(count, zero), name="value")
        update_op = math_ops.div_no_nan(update_total_op,
                                        math_ops.maximum(update_count_op, zero),
                                        name="update_op")
        _add_to(metrics_collections, mean_t)
        _add_to(updates_collections, update_op)
        return mean_t, update_op


def accuracy(labels, predictions, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """How often `predictions` equal `labels` (variables "accuracy/total", "accuracy/count").

    Args:
      labels: ground truth, same shape as `predictions` (e.g. class ids).
      predictions: predicted values, e.g. `tf.argmax(logits, 1)`.
      weights: None or weights broadcastable to the labels.
    Returns:
      (accuracy, update_op).
    """
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    if labels.dtype.base_dtype != predictions.dtype.base_dtype:
        predictions = math_ops.cast(predictions, labels.dtype.base_dtype)
    is_correct = math_ops.cast(math_ops.equal(predictions, labels), _F32)
    return mean(is_correct, weights, metrics_collections, updates_collections,
                name or "accuracy")


def mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                       updates_collections=None, name=None):
    """Streaming (weighted) mean of (labels - predictions) ** 2."""
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    err = math_ops.squared_difference(math_ops.cast(labels, _F32),
                                      math_ops.cast(predictions, _F32))
    return mean(err, weights, metrics_collections, updates_collections,
                name or "mean_squared_error")


def mean_absolute_error(labels, predictions, weights=None, metrics_collections=None,
                        updates_collections=None, name=None):
    """Streaming (weighted) mean of |labels - predictions|."""
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    err = math_ops.abs(math_ops.subtract(math_ops.cast(predictions, _F32),
                                         math_ops.cast(labels, _F32)))
    return mean(err, weights, metrics_collections, updates_collections,
                name or "mean_absolute_error")


def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    """sqrt of the streaming mean squared error."""
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    mse, update_mse = mean_squared_error(labels, predictions, weights, None, None,
                                         name or "root_mean_squared_error")
    rmse = math_ops.sqrt(mse)
    update_op = math_ops.sqrt(update_mse)
    _add_to(metrics_collections, rmse)
    _add_to(updates_collections, update_op)
    return rmse, update_op


# ---- counts -------------------------------------------------------------------------------------


def _count_condition(values, weights, metrics_collections, updates_collections):
    count = metric_variable([], _F32, name="count")
    values = math_ops.cast(values, _F32)
    if weights is not None:
        values = math_ops.multiply(values, _broadcast_weights(weights, values))
    value = array_ops.identity(count)
    update_op = state_ops.assign_add(count, math_ops.reduce_sum(values))
    _add_to(metrics_collections, value)
    _add_to(updates_collections, update_op)
    return value, update_op


def _bool_pair(labels, predictions, weights):
    return _remove_squeezable_dimensions(math_ops.cast(predictions, _dt.bool),
                                         math_ops.cast(labels, _dt.bool), weights)


def _make_count(default_name, label_value, prediction_value, doc):
    def fn(labels, predictions, weights=None, metrics_collections=None,
           updates_collections=None, name=None):
        with vs.variable_scope(name, default_name, [predictions, labels, weights]):
            predictions, labels, weights = _bool_pair(labels, predictions, weights)
            lab = labels if label_value else math_ops.logical_not(labels)
            pred = predictions if prediction_value else math_ops.logical_not(predictions)
            return _count_condition(math_ops.logical_and(lab, pred), weights,
                                    metrics_collections, updates_collections)
    fn.__name__ = default_name
    fn.__doc__ = ("Streaming (weighted) count of %s (variable \"%s/count\"); labels and "
                  "predictions are cast to bool.\n\n    Returns:\n      (count, update_op)."
                  % (doc, default_name))
    return fn


true_positives = _make_count("true_positives", True, True, "labels and predictions both true")
false_positives = _make_count("false_positives", False, True,
                              "false labels predicted true")
false_negatives = _make_count("false_negatives", True, False,
                              "true labels predicted false")
true_negatives = _make_count("true_negatives", False, False,
                             "labels and predictions both false")


def _ratio(num, den, name):
    """num / den where den > 0, else 0 (TF1's precision/recall formula)."""
    zero = array_ops.zeros_like(num)
    return math_ops.where(math_ops.greater(den, zero), math_ops.truediv(num, den), zero,
                          name=name)


def precision(labels, predictions, weights=None, metrics_collections=None,
              updates_collections=None, name=None):
    """tp / (tp + fp) over all batches seen (variables "precision/true_positives/count",
    "precision/false_positives/count"); 0 when nothing was predicted true.

    Returns:
      (precision, update_op).
    """
    with vs.variable_scope(name, "precision", [predictions, labels, weights]):
        predictions, labels, weights = _bool_pair(labels, predictions, weights)
        tp, tp_up = true_positives(labels, predictions, weights)
        fp, fp_up = false_positives(labels, predictions, weights)
        p = _ratio(tp, tp + fp, "value")
        update_op = _ratio(tp_up, tp_up + fp_up, "update_op")
        _add_to(metrics_collections, p)
        _add_to(updates_collections, update_op)
        return p, update_op


def recall(labels, predictions, weights=None, metrics_collections=None,
           updates_collections=None, name=None):
    """tp / (tp + fn) over all batches seen (variables "recall/true_positives/count",
    "recall/false_negatives/count"); 0 when there were no true labels.

    Returns:
      (recall, update_op).
    """
    with vs.variable_scope(name, "recall", [predictions, labels, weights]):
        predictions, labels, weights = _bool_pair(labels, predictions, weights)
        tp, tp_up = true_positives(labels, predictions, weights)
        fn, fn_up = false_negatives(labels, predictions, weights)
        r = _ratio(tp, tp + fn, "value")
        update_op = _ratio(tp_up, tp_up + fn_up, "update_op")
        _add_to(metrics_collections, r)
        _add_to(updates_collections, update_op)
        return r, update_op


# ---- AUC ----------------------------------------------------------------------------------


def _confusion_matrix_at_thresholds(labels, predictions, thresholds, weights=None):
    """Per-threshold tp/fn/tn/fp variables and their update ops; a prediction is positive
    when it is strictly greater than the threshold."""
    p32 = math_ops.cast(predictions, _F32)
    with _ops.control_dependencies([
            check_ops.assert_greater_equal(p32, array_ops.constant(0.0),
                                           message="predictions must be in [0, 1]"),
            check_ops.assert_less_equal(p32, array_ops.constant(1.0),
                                        message="predictions must be in [0, 1]")]):
        predictions, labels, weights = _remove_squeezable_dimensions(
            array_ops.identity(p32), math_ops.cast(labels, _dt.bool), weights)
    n = len(thresholds)
    preds_row = array_ops.reshape(predictions, [1, -1])
    labels_row = array_ops.reshape(labels, [1, -1])
    thresh_col = array_ops.constant([[float(t)] for t in thresholds], dtype=_F32)
    pred_is_pos = math_ops.greater(preds_row, thresh_col)          # [n, N] by broadcasting
    pred_is_neg = math_ops.logical_not(pred_is_pos)
    ones = array_ops.ones_like(thresh_col, dtype=_dt.bool)
    label_is_pos = math_ops.logical_and(labels_row, ones)
    label_is_neg = math_ops.logical_not(label_is_pos)
    w_row = None
    if weights is not None:
        w_row = array_ops.reshape(_broadcast_weights(weights, predictions), [1, -1])
    values, updates = {}, {}
    for key, name, a, b in (("tp", "true_positives", label_is_pos, pred_is_pos),
                            ("fn", "false_negatives", label_is_pos, pred_is_neg),
                            ("tn", "true_negatives", label_is_neg, pred_is_neg),
                            ("fp", "false_positives", label_is_neg, pred_is_pos)):
        var = metric_variable([n], _F32, name=name)
        hit = math_ops.cast(math_ops.logical_and(a, b), _F32)
        if w_row is not None:
            hit = math_ops.multiply(hit, w_row)
        updates[key] = state_ops.assign_add(var, math_ops.reduce_sum(hit, 1))
        values[key] = var
    return values, updates


def auc(labels, predictions, weights=None, num_thresholds=200, metrics_collections=None,
        updates_collections=None, curve="ROC", name=None, summation_method="trapezoidal",
        thresholds=None):
    """Approximate area under the ROC or PR curve, TF1's bucketed way.

    Thresholds are [-1e-7, 1/(n-1), 2/(n-1), ..., (n-2)/(n-1), 1 + 1e-7] (or the sorted
    `thresholds` between the two end points); per threshold it accumulates tp/fn/tn/fp
    (variables "auc/true_positives" ...), then sums the curve with the trapezoidal rule
    ("minoring"/"majoring" take the lower/upper rectangle; "careful_interpolation" for PR
    interpolates precision between thresholds), with TF1's epsilon = 1e-6 in the rates.

    Args:
      labels: bool (or 0/1) ground truth; predictions: floats in [0, 1], same shape.
      weights: optional weights broadcastable to the labels.
      num_thresholds: number of thresholds (> 1).
      curve: "ROC" or "PR".
    Returns:
      (auc, update_op).
    Raises:
      ValueError: bad curve, summation method or num_thresholds; at run time
        InvalidArgumentError for predictions outside [0, 1].
    """
    with vs.variable_scope(name, "auc", [labels, predictions, weights]):
        if curve not in ("ROC", "PR"):
            raise ValueError("curve must be either ROC or PR, %s unknown" % (curve,))
        if summation_method not in ("trapezoidal", "careful_interpolation", "minoring",
                                    "majoring"):
            raise ValueError("Invalid summation_method: %s" % (summation_method,))
        kepsilon = 1e-7
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        else:
            if num_thresholds < 2:
                raise ValueError("num_thresholds must be > 1, got %d" % num_thresholds)
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        ths = [0.0 - kepsilon] + inner + [1.0 + kepsilon]
        values, updates = _confusion_matrix_at_thresholds(labels, predictions, ths, weights)
        n = num_thresholds
        epsilon = 1.0e-6

        def interpolate_pr_auc(tp, fp, fn):
            dtp = tp[:n - 1] - tp[1:]
            p = tp + fp
            zeros = array_ops.zeros_like(p[1:])
            prec_slope = math_ops.div_no_nan(dtp, math_ops.maximum(p[:n - 1] - p[1:], zeros),
                                             name="prec_slope")
            intercept = tp[1:] - math_ops.multiply(prec_slope, p[1:])
            safe_p_ratio = math_ops.where(
                math_ops.logical_and(math_ops.greater(p[:n - 1], zeros),
                                     math_ops.greater(p[1:], zeros)),
                math_ops.div_no_nan(p[:n - 1], math_ops.maximum(p[1:], zeros),
                                    name="recall_relative_ratio"),
                array_ops.ones_like(p[1:]))
            # log(1) = 0 where the ratio is 1, so the where above keeps log finite.
            return math_ops.reduce_sum(math_ops.div_no_nan(
                prec_slope * (dtp + intercept * math_ops.log(safe_p_ratio)),
                math_ops.maximum(tp[1:] + fn[1:], zeros), name="pr_auc_increment"),
                name="interpolate_pr_auc")

        def compute_auc(tp, fn, tn, fp, name):
            if curve == "PR" and summation_method == "careful_interpolation":
                return interpolate_pr_auc(tp, fp, fn)
            rec = math_ops.truediv(tp + epsilon, tp + fn + epsilon)
            if curve == "ROC":
                x = math_ops.truediv(fp, fp + tn + epsilon)
                y = rec
            else:
                x = rec
                y = math_ops.truediv(tp + epsilon, tp + fp + epsilon)
            if summation_method in ("trapezoidal", "careful_interpolation"):
                heights = (y[:n - 1] + y[1:]) / 2.0
            elif summation_method == "minoring":
                heights = math_ops.minimum(y[:n - 1], y[1:])
            else:
                heights = math_ops.maximum(y[:n - 1], y[1:])
            return math_ops.reduce_sum(math_ops.multiply(x[:n - 1] - x[1:], heights),
                                       name=name)

        value = compute_auc(values["tp"], values["fn"], values["tn"], values["fp"], "value")
        update_op = compute_auc(updates["tp"], updates["fn"], updates["tn"], updates["fp"],
                                "update_op")
        _add_to(metrics_collections, value)
        _add_to(updates_collections, update_op)
        return value, update_op
