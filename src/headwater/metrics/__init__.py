"""`tf.metrics`: TF1 streaming metrics returning `(value, update_op)`.

    acc, acc_op = tf.metrics.accuracy(labels, tf.argmax(logits, 1))
    sess.run(tf.local_variables_initializer())
    for batch in batches:
        sess.run(acc_op, feed)
    print(sess.run(acc))
"""

from headwater.metrics.metrics_impl import (  # noqa: F401
                                            accuracy,
                                            auc,
                                            false_negatives,
                                            false_positives,
                                            mean,
                                            mean_absolute_error,
                                            mean_squared_error,
                                            precision,
                                            recall,
                                            root_mean_squared_error,
                                            true_negatives,
                                            true_positives,
)

__all__ = ["accuracy", "auc", "false_negatives", "false_positives", "mean",
           "mean_absolute_error", "mean_squared_error", "precision", "recall",
           "root_mean_squared_error", "true_negatives", "true_positives"]
