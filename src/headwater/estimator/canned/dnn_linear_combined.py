"""`DNNLinearCombinedClassifier` / `Regressor`: wide (linear, FTRL) + deep (DNN, Adagrad)
logits summed, each part trained by its own optimizer on its own variables (TF1)."""

from __future__ import annotations

from headwater.estimator.canned import head as _head
from headwater.estimator.canned.dnn import _relu, dnn_logits
from headwater.estimator.canned.linear import _default_lr, linear_logits
from headwater.estimator.estimator import Estimator


def _combined_model_fn(features, labels, mode, head, linear_columns, linear_optimizer,
                       dnn_columns, dnn_optimizer, hidden_units, activation_fn, dropout):
    import headwater as tf

    if not linear_columns and not dnn_columns:
        raise ValueError("Either linear_feature_columns or dnn_feature_columns must be "
                         "defined.")
    parts = []
    if dnn_columns:
        parts.append(dnn_logits(features, mode, hidden_units, dnn_columns,
                                head.logits_dimension, activation_fn, dropout))
    if linear_columns:
        parts.append(linear_logits(features, linear_columns, head.logits_dimension))
    logits = parts[0] if len(parts) == 1 else tf.add_n(parts)

    def train_op_fn(loss):
        ops = []
        if dnn_columns:
            opt = _head.get_optimizer(dnn_optimizer, 0.05)
            ops.append(opt.minimize(loss, var_list=tf.get_collection(
                tf.GraphKeys.TRAINABLE_VARIABLES, scope="dnn")))
        if linear_columns:
            opt = _head.get_optimizer(linear_optimizer, _default_lr(linear_columns))
            ops.append(opt.minimize(loss, var_list=tf.get_collection(
                tf.GraphKeys.TRAINABLE_VARIABLES, scope="linear")))
        with tf.control_dependencies(ops):
            return tf.assign_add(tf.train.get_global_step(), 1).op
    return head.create_estimator_spec(features, mode, logits, labels, train_op_fn)


class DNNLinearCombinedClassifier(Estimator):
    """Wide-and-deep classifier: `linear_feature_columns` (any columns) through a linear
    model, `dnn_feature_columns` (dense) through `dnn_hidden_units`."""

    def __init__(self, model_dir=None, linear_feature_columns=None, linear_optimizer="Ftrl",
                 dnn_feature_columns=None, dnn_optimizer="Adagrad", dnn_hidden_units=None,
                 dnn_activation_fn=None, dnn_dropout=None, n_classes=2, weight_column=None,
                 label_vocabulary=None, input_layer_partitioner=None, config=None,
                 warm_start_from=None, loss_reduction=None, batch_norm=False,
                 linear_sparse_combiner="sum"):
        lin = list(linear_feature_columns or [])
        dnn = list(dnn_feature_columns or [])
        if dnn and not dnn_hidden_units:
            raise ValueError("dnn_hidden_units must be defined when dnn_feature_columns is "
                             "specified.")
        head = _head.head_for(n_classes, label_vocabulary)
        act = dnn_activation_fn or _relu()

        def model_fn(features, labels, mode, config):
            return _combined_model_fn(features, labels, mode, head, lin, linear_optimizer,
                                      dnn, dnn_optimizer, dnn_hidden_units, act, dnn_dropout)
        super().__init__(model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)


class DNNLinearCombinedRegressor(Estimator):
    """Wide-and-deep regressor (arguments as `DNNLinearCombinedClassifier`)."""

    def __init__(self, model_dir=None, linear_feature_columns=None, linear_optimizer="Ftrl",
                 dnn_feature_columns=None, dnn_optimizer="Adagrad", dnn_hidden_units=None,
                 dnn_activation_fn=None, dnn_dropout=None, label_dimension=1,
                 weight_column=None, input_layer_partitioner=None, config=None,
                 warm_start_from=None, loss_reduction=None, batch_norm=False,
                 linear_sparse_combiner="sum"):
        lin = list(linear_feature_columns or [])
        dnn = list(dnn_feature_columns or [])
        head = _head.RegressionHead(label_dimension)
        act = dnn_activation_fn or _relu()

        def model_fn(features, labels, mode, config):
            return _combined_model_fn(features, labels, mode, head, lin, linear_optimizer,
                                      dnn, dnn_optimizer, dnn_hidden_units, act, dnn_dropout)
        super().__init__(model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)
