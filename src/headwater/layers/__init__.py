"""`tf.layers`: TF1's functional layers and layer classes.

    h = tf.layers.dense(x, 128, activation=tf.nn.relu)         # dense/kernel, dense/bias
    h = tf.layers.conv2d(images, 32, 5, padding="same")         # conv2d/kernel, conv2d/bias
    h = tf.layers.batch_normalization(h, training=is_training)  # updates in UPDATE_OPS
"""

from headwater.layers.base import InputSpec, Layer  # noqa: F401
from headwater.layers.core import (  # noqa: F401
                                   AveragePooling2D,
                                   Conv2D,
                                   Convolution2D,
                                   Dense,
                                   Dropout,
                                   Flatten,
                                   MaxPooling2D,
                                   average_pooling2d,
                                   conv2d,
                                   dense,
                                   dropout,
                                   flatten,
                                   max_pooling2d,
)
from headwater.layers.normalization import BatchNormalization, batch_normalization  # noqa: F401

__all__ = [n for n in dir() if not n.startswith("_")
           and n not in ("base", "core", "normalization")]
