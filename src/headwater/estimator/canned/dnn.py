"""`DNNClassifier` and `DNNRegressor`: feed-forward networks on feature columns (TF1 names:
"dnn/hiddenlayer_<i>/kernel", "dnn/logits/kernel"; default optimizer Adagrad(0.05))."""

from __future__ import annotations

from headwater.estimator.canned import head as _head
from headwater.estimator.estimator import Estimator
from headwater.estimator.model_fn import ModeKeys


def dnn_logits(features, mode, hidden_units, feature_columns, units, activation_fn,
               dropout, batch_norm=False):
    import headwater as tf
    from headwater.feature_column import input_layer

    if not isinstance(features, dict):
        raise ValueError(f"features should be a dictionary of `Tensor`s. Given type: {type(features)}"
                         )
    with tf.variable_scope("dnn"):
        with tf.variable_scope("input_from_feature_columns"):
            net = input_layer(features, feature_columns)
        for i, n in enumerate(hidden_units):
            with tf.variable_scope("hiddenlayer_%d" % i):
                net = _dense(tf, net, n, activation_fn)
                if dropout is not None and mode == ModeKeys.TRAIN:
                    net = tf.nn.dropout(net, rate=dropout)
        with tf.variable_scope("logits"):
            return _dense(tf, net, units, None)


def _dense(tf, x, units, activation):
    # Variables directly in the current scope ("dnn/hiddenlayer_0/kernel"), as TF1's
    # canned DNN names them.
    n_in = x.shape.as_list()[-1]
    kernel = tf.get_variable("kernel", [n_in, units], dtype=tf.float32,
                             initializer=tf.glorot_uniform_initializer())
    bias = tf.get_variable("bias", [units], dtype=tf.float32,
                           initializer=tf.zeros_initializer())
    y = tf.nn.bias_add(tf.matmul(x, kernel), bias)
    return activation(y) if activation is not None else y


def _dnn_model_fn(features, labels, mode, head, hidden_units, feature_columns, optimizer,
                  activation_fn, dropout):
    import headwater as tf

    logits = dnn_logits(features, mode, hidden_units, feature_columns,
                        head.logits_dimension, activation_fn, dropout)

    def train_op_fn(loss):
        opt = _head.get_optimizer(optimizer, 0.05)
        return opt.minimize(loss, global_step=tf.train.get_global_step())
    return head.create_estimator_spec(features, mode, logits, labels, train_op_fn)


def _relu():
    import headwater as tf

    return tf.nn.relu


class DNNClassifier(Estimator):
    """A feed-forward classifier.

    Args:
      hidden_units: widths of the hidden layers, e.g. [64, 32].
      feature_columns: dense columns (wrap categorical ones in embedding/indicator columns).
      n_classes: number of classes (>= 2).
      optimizer: "Adagrad" (default, learning rate 0.05), another name, or an Optimizer.
      activation_fn: hidden activation (default relu).
      dropout: drop probability of hidden units while training (None: no dropout).
    """

    def __init__(self, hidden_units, feature_columns, model_dir=None, n_classes=2,
                 weight_column=None, label_vocabulary=None, optimizer="Adagrad",
                 activation_fn=None, dropout=None, input_layer_partitioner=None, config=None,
                 warm_start_from=None, loss_reduction=None, batch_norm=False):
        feature_columns = list(feature_columns)
        head = _head.head_for(n_classes, label_vocabulary)
        act = activation_fn or _relu()

        def model_fn(features, labels, mode, config):
            return _dnn_model_fn(features, labels, mode, head, hidden_units, feature_columns,
                                 optimizer, act, dropout)
        super().__init__(model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)


class DNNRegressor(Estimator):
    """A feed-forward regressor (arguments as `DNNClassifier`, plus `label_dimension`)."""

    def __init__(self, hidden_units, feature_columns, model_dir=None, label_dimension=1,
                 weight_column=None, optimizer="Adagrad", activation_fn=None, dropout=None,
                 input_layer_partitioner=None, config=None, warm_start_from=None,
                 loss_reduction=None, batch_norm=False):
        feature_columns = list(feature_columns)
        head = _head.RegressionHead(label_dimension)
        act = activation_fn or _relu()

        def model_fn(features, labels, mode, config):
            return _dnn_model_fn(features, labels, mode, head, hidden_units, feature_columns,
                                 optimizer, act, dropout)
        super().__init__(model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)
