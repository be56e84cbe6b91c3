"""`LinearRegressor` and `LinearClassifier` (default optimizer FTRL, as TF1)."""

from __future__ import annotations

import math

from headwater.estimator.canned import head as _head
from headwater.estimator.estimator import Estimator


def _default_lr(feature_columns):
    return min(0.2, 1.0 / math.sqrt(len(feature_columns)))


def linear_logits(features, feature_columns, units, sparse_combiner="sum"):
    import headwater as tf
    from headwater.feature_column import linear_model

    with tf.variable_scope("linear", values=list(features.values())
                           if isinstance(features, dict) else None):
        return linear_model(features, feature_columns, units=units,
                            sparse_combiner=sparse_combiner)


def _linear_model_fn(features, labels, mode, head, feature_columns, optimizer,
                     sparse_combiner):
    import headwater as tf

    if not isinstance(features, dict):
        raise ValueError(f"features should be a dictionary of `Tensor`s. Given type: {type(features)}"
                         )
    logits = linear_logits(features, feature_columns, head.logits_dimension, sparse_combiner)

    def train_op_fn(loss):
        opt = _head.get_optimizer(optimizer, _default_lr(feature_columns))
        return opt.minimize(loss, global_step=tf.train.get_global_step())
    return head.create_estimator_spec(features, mode, logits, labels, train_op_fn)


class LinearRegressor(Estimator):
    """Linear regression on `feature_columns`.

    Args:
      feature_columns: columns describing the features.
      model_dir, config, warm_start_from: as `Estimator`.
      label_dimension: number of regression targets per example.
      optimizer: "Ftrl" (default, learning rate min(0.2, 1/sqrt(#columns))), another name,
        or an Optimizer.
      sparse_combiner: how categorical weights combine ("sum", "mean", "sqrtn").
    """

    def __init__(self, feature_columns, model_dir=None, label_dimension=1,
                 weight_column=None, optimizer="Ftrl", config=None, partitioner=None,
                 warm_start_from=None, loss_reduction=None, sparse_combiner="sum"):
        feature_columns = list(feature_columns)
        head = _head.RegressionHead(label_dimension)

        def model_fn(features, labels, mode, config):
            return _linear_model_fn(features, labels, mode, head, feature_columns, optimizer,
                                    sparse_combiner)
        super().__init__(model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)


class LinearClassifier(Estimator):
    """Linear (logistic / softmax) classifier on `feature_columns`; `n_classes` >= 2."""

    def __init__(self, feature_columns, model_dir=None, n_classes=2, weight_column=None,
                 label_vocabulary=None, optimizer="Ftrl", config=None, partitioner=None,
                 warm_start_from=None, loss_reduction=None, sparse_combiner="sum"):
        feature_columns = list(feature_columns)
        head = _head.head_for(n_classes, label_vocabulary)

        def model_fn(features, labels, mode, config):
            return _linear_model_fn(features, labels, mode, head, feature_columns, optimizer,
                                    sparse_combiner)
        super().__init__(model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)
