"""Heads of the canned estimators: loss, predictions and eval metrics from logits (TF1 names).

Regression: predictions {"predictions"}; binary: {"logits", "logistic", "probabilities",
"class_ids", "classes"}; multi-class: {"logits", "probabilities", "class_ids", "classes"}.
Training loss is the SUM over the batch of per-example losses (TF1's canned default); eval
reports `loss` (mean of the batch losses), `average_loss` (mean per example), and `accuracy`,
`auc`... for classifiers.
"""

from __future__ import annotations

import numpy as np

from headwater.estimator.model_fn import EstimatorSpec, ModeKeys


def _tf():
    import headwater as tf

    return tf


def _labels_2d(tf, labels, dtype, n):
    if labels is None:
        raise ValueError("You must provide a labels Tensor. Given: None. Suggested "
                         "troubleshooting steps: Check that your data contain your label "
                         "feature. Check that your input_fn properly parses and returns "
                         "labels.")
    if isinstance(labels, dict):
        if len(labels) != 1:
            raise ValueError(f"labels must be a Tensor (or a dict with one entry); got keys {sorted(labels)}"
                             )
        labels = next(iter(labels.values()))
    labels = tf.convert_to_tensor(labels)
    dims = labels.shape._dims
    if dims is not None and len(dims) == 1:
        labels = tf.expand_dims(labels, -1)
    elif dims is not None and len(dims) == 2 and dims[1] not in (None, n):
        raise ValueError("Mismatched label shape. Expected labels dimension=%d. Received %d."
                         % (n, dims[1]))
    return tf.cast(labels, dtype) if labels.dtype != dtype else labels


def _train_op(tf, loss, train_op_fn):
    return train_op_fn(loss)


class _Head:
    def create_estimator_spec(self, features, mode, logits, labels=None, train_op_fn=None):
        tf = _tf()
        predictions = self._predictions(tf, logits)
        if mode == ModeKeys.PREDICT:
            return EstimatorSpec(mode, predictions=predictions)
        unweighted = self._unweighted_loss(tf, logits, labels)  # [batch, 1]
        loss = tf.reduce_sum(unweighted)
        tf.summary.scalar("loss", loss) if hasattr(tf, "summary") and \
            hasattr(tf.summary, "scalar") and mode == ModeKeys.TRAIN else None
        if mode == ModeKeys.EVAL:
            with tf.name_scope("metrics"):
                metrics = self._metrics(tf, logits, predictions, unweighted)
            return EstimatorSpec(mode, predictions=predictions, loss=loss,
                                 eval_metric_ops=metrics)
        return EstimatorSpec(mode, predictions=predictions, loss=loss,
                             train_op=train_op_fn(loss))


class RegressionHead(_Head):
    def __init__(self, label_dimension=1):
        self.logits_dimension = label_dimension

    def _predictions(self, tf, logits):
        return {"predictions": logits}

    def _unweighted_loss(self, tf, logits, labels):
        self._labels = _labels_2d(tf, labels, tf.float32, self.logits_dimension)
        return tf.squared_difference(logits, self._labels)

    def _metrics(self, tf, logits, predictions, unweighted):
        return {"average_loss": tf.metrics.mean(unweighted),
                "label/mean": tf.metrics.mean(self._labels),
                "prediction/mean": tf.metrics.mean(logits)}


class BinaryClassHead(_Head):
    logits_dimension = 1

    def __init__(self, label_vocabulary=None):
        self._vocab = label_vocabulary

    def _predictions(self, tf, logits):
        logistic = tf.sigmoid(logits)
        two = tf.concat([tf.zeros_like(logits), logits], 1)
        class_ids = tf.argmax(two, axis=1)
        class_ids = tf.expand_dims(class_ids, -1)
        names = self._vocab or ["0", "1"]
        classes = tf.gather(tf.constant(np.array(names, dtype=object)), class_ids)
        return {"logits": logits, "logistic": logistic,
                "probabilities": tf.nn.softmax(two), "class_ids": class_ids,
                "classes": classes}

    def _unweighted_loss(self, tf, logits, labels):
        labels = _class_ids(tf, labels, self._vocab, 2)
        self._label_ids = labels
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(labels, tf.float32),
                                                       logits=logits)

    def _metrics(self, tf, logits, predictions, unweighted):
        labels = self._label_ids
        logistic = predictions["logistic"]
        lf = tf.cast(labels, tf.float32)
        m = {"average_loss": tf.metrics.mean(unweighted),
             "accuracy": tf.metrics.accuracy(labels, predictions["class_ids"]),
             "label/mean": tf.metrics.mean(lf),
             "prediction/mean": tf.metrics.mean(logistic),
             "auc": tf.metrics.auc(lf, logistic),
             "auc_precision_recall": tf.metrics.auc(lf, logistic, curve="PR"),
             "precision": tf.metrics.precision(labels, predictions["class_ids"]),
             "recall": tf.metrics.recall(labels, predictions["class_ids"])}
        return m


class MultiClassHead(_Head):
    def __init__(self, n_classes, label_vocabulary=None):
        self.logits_dimension = n_classes
        self._vocab = label_vocabulary

    def _predictions(self, tf, logits):
        class_ids = tf.expand_dims(tf.argmax(logits, axis=1), -1)
        names = self._vocab or [str(i) for i in range(self.logits_dimension)]
        classes = tf.gather(tf.constant(np.array(names, dtype=object)), class_ids)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits),
                "class_ids": class_ids, "classes": classes}

    def _unweighted_loss(self, tf, logits, labels):
        labels = _class_ids(tf, labels, self._vocab, self.logits_dimension)
        self._label_ids = labels
        return tf.expand_dims(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.squeeze(labels, axis=[1]), logits=logits), -1)

    def _metrics(self, tf, logits, predictions, unweighted):
        return {"average_loss": tf.metrics.mean(unweighted),
                "accuracy": tf.metrics.accuracy(self._label_ids, predictions["class_ids"])}


def _class_ids(tf, labels, vocab, n):
    if vocab is not None:
        from headwater.feature_column.feature_column import _ops as fops

        labels = _labels_2d(tf, labels, tf.string, 1)
        return fops.apply_op("HwVocabularyLookup", [labels], {
            "_table": {v: i for i, v in enumerate(vocab)}, "default_value": -1,
            "num_oov_buckets": 0}, name="class_id_lookup")
    labels = _labels_2d(tf, labels, tf.int64, 1)
    if not labels.dtype.is_integer:
        raise ValueError(f"Labels dtype should be integer. Instead got {labels.dtype}.")
    return labels


def head_for(n_classes, label_vocabulary=None, label_dimension=None):
    if label_dimension is not None:
        return RegressionHead(label_dimension)
    if n_classes is None or n_classes < 2:
        raise ValueError(f"n_classes must be > 1 for classification: {n_classes}")
    if n_classes == 2:
        return BinaryClassHead(label_vocabulary)
    return MultiClassHead(n_classes, label_vocabulary)


_OPTIMIZERS = {"Adagrad": "AdagradOptimizer", "Adam": "AdamOptimizer",
               "Ftrl": "FtrlOptimizer", "RMSProp": "RMSPropOptimizer",
               "SGD": "GradientDescentOptimizer"}


def get_optimizer(opt, learning_rate):
    """An optimizer instance from a name ("Adagrad", "Adam", "Ftrl", "RMSProp", "SGD"), an
    instance, or a callable returning one."""
    tf = _tf()
    if isinstance(opt, str):
        if opt not in _OPTIMIZERS:
            raise ValueError(f"Unsupported optimizer name: {opt}. Supported names are: {tuple(sorted(_OPTIMIZERS))}"
                             )
        return getattr(tf.train, _OPTIMIZERS[opt])(learning_rate=learning_rate)
    if callable(opt) and not isinstance(opt, tf.train.Optimizer):
        opt = opt()
    if not isinstance(opt, tf.train.Optimizer):
        raise ValueError(f"The given object is not an Optimizer instance. Given: {opt}")
    return opt
