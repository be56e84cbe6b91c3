"""TF1 core layers: `Dense`, `Dropout`, `Flatten`, `Conv2D`, 2-D pooling, and their functional
forms (`tf.layers.dense`, ...)."""

from __future__ import annotations

import numbers

import numpy as np

from headwater.framework import ops as _ops
from headwater.layers.base import Layer
from headwater.ops import array_ops, control_flow_ops, init_ops, math_ops, nn_ops

__all__ = ["AveragePooling2D", "Conv2D", "Convolution2D", "Dense", "Dropout", "Flatten",
           "MaxPooling2D", "average_pooling2d", "conv2d", "dense", "dropout", "flatten",
           "max_pooling2d"]


def _normalize_tuple(value, n, name):
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    try:
        t = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError("The `%s` argument must be a tuple of %d integers. Received: %r"
                         % (name, n, value)) from None
    if len(t) != n:
        raise ValueError("The `%s` argument must be a tuple of %d integers. Received: %r"
                         % (name, n, value))
    return t


def _normalize_padding(padding):
    p = str(padding).lower()
    if p not in ("valid", "same"):
        raise ValueError("The `padding` argument must be one of \"valid\", \"same\". "
                         "Received: %r" % (padding,))
    return p


def _normalize_data_format(data_format):
    df = "channels_last" if data_format is None else str(data_format).lower()
    if df not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of \"channels_first\", "
                         "\"channels_last\". Received: %r" % (data_format,))
    return df


def _nhwc(df):
    return "NHWC" if df == "channels_last" else "NCHW"


def _smart_cond(pred, true_fn, false_fn, name=None):
    """Python bools pick a branch at build time; tensors build a `cond`."""
    if isinstance(pred, (bool, np.bool_)):
        return true_fn() if pred else false_fn()
    if isinstance(pred, _ops.Tensor) and pred.op.type == "Const":
        return true_fn() if bool(pred.op.get_attr("value")) else false_fn()
    return control_flow_ops.cond(pred, true_fn, false_fn, name=name)


# ---- Dense ------------------------------------------------------------------------------------


class Dense(Layer):
    """Densely-connected layer: activation(inputs @ kernel + bias).

    Args:
      units: output size.
      activation: callable applied to the output (None: linear).
      use_bias: add a bias vector.
      kernel_initializer: default glorot_uniform; bias_initializer: default zeros.
      kernel_regularizer, bias_regularizer: their losses go to REGULARIZATION_LOSSES.
      activity_regularizer: regularizer of the output (divided by the batch size).
      kernel_constraint, bias_constraint: projections applied by optimizers.
      trainable, name: as for every layer.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.kernel = self.bias = None

    def build(self, input_shape):
        dims = input_shape._dims
        if dims is None or not dims or dims[-1] is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. "
                             "Found `None`.")
        self.kernel = self.add_weight("kernel", [dims[-1], self.units],
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.units],
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs):
        dims = inputs.shape._dims
        if len(dims) == 2:
            outputs = math_ops.matmul(inputs, self.kernel)
        else:
            # [..., in] @ [in, units] as one matmul over the flattened leading dimensions.
            flat = array_ops.reshape(inputs, [-1, dims[-1]])
            outputs = math_ops.matmul(flat, self.kernel)
            if None in dims[:-1]:
                lead = array_ops.strided_slice(array_ops.shape(inputs), [0], [-1])
                outputs = array_ops.reshape(outputs, array_ops.concat([lead, [self.units]],
                                                                      0))
                outputs.set_shape(list(dims[:-1]) + [self.units])
            else:
                outputs = array_ops.reshape(outputs, list(dims[:-1]) + [self.units])
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias)
        if self.activation is not None:
            return self.activation(outputs)
        return outputs


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
          bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
          bias_constraint=None, trainable=True, name=None, reuse=None):
    """Functional `Dense`: variables "<name or dense_N>/kernel" and ".../bias".

    Args:
      inputs: Tensor [..., in] with a defined last dimension.
      units: output size.
      reuse: reuse the variables of a previous layer with the same `name`.
      (other arguments as `Dense`)
    Returns:
      Tensor [..., units].
    """
    layer = Dense(units, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable, name=name, dtype=None, _scope=name, _reuse=reuse)
    return layer.apply(inputs)


# ---- Dropout / Flatten ----------------------------------------------------------------------


class Dropout(Layer):
    """Drop inputs with probability `rate` (scaling the rest by 1 / (1 - rate)) when
    `training` is true; identity otherwise. `training` may be a bool Tensor."""

    def __init__(self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs, training=False):
        def dropped():
            return nn_ops.dropout(inputs, noise_shape=self.noise_shape, seed=self.seed,
                                  rate=self.rate)

        def kept():
            return array_ops.identity(inputs)
        return _smart_cond(training, dropped, kept)


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """Functional `Dropout`.

    Args:
      inputs: float Tensor.
      rate: fraction of the inputs to drop (not the keep probability).
      noise_shape: shape of the keep/drop mask (broadcast against `inputs`).
      seed: op-level random seed.
      training: Python bool or scalar bool Tensor: apply dropout, or return the input.
    """
    return Dropout(rate, noise_shape=noise_shape, seed=seed, name=name).apply(
        inputs, training=training)


class Flatten(Layer):
    """Reshape [batch, d1, d2, ...] to [batch, d1 * d2 * ...]."""

    def __init__(self, data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.data_format = _normalize_data_format(data_format)

    def call(self, inputs):
        dims = inputs.shape._dims
        if dims is None:
            raise ValueError("Flatten needs inputs of known rank.")
        if self.data_format == "channels_first" and len(dims) > 2:
            inputs = array_ops.transpose(inputs, [0] + list(range(2, len(dims))) + [1])
            dims = inputs.shape._dims
        rest = dims[1:]
        if len(dims) == 1:
            return array_ops.expand_dims(inputs, 1)
        if None not in rest:
            n = int(np.prod(rest)) if rest else 1
            if dims[0] is not None:
                return array_ops.reshape(inputs, [dims[0], n])
            return array_ops.reshape(inputs, [-1, n])
        out = array_ops.reshape(inputs, array_ops.stack([array_ops.shape(inputs)[0], -1]))
        out.set_shape([dims[0], None])
        return out


def flatten(inputs, name=None, data_format="channels_last"):
    """Functional `Flatten`: [batch, ...] -> [batch, prod(...)]."""
    return Flatten(data_format=data_format, name=name).apply(inputs)


# ---- Conv2D -------------------------------------------------------------------------------------


class Conv2D(Layer):
    """2-D convolution layer: activation(conv2d(inputs, kernel) + bias).

    Args:
      filters: number of output channels.
      kernel_size: int or (kh, kw).
      strides: int or (sh, sw).
      padding: "valid" or "same" (case-insensitive).
      data_format: "channels_last" (NHWC) or "channels_first" (NCHW).
      dilation_rate: int or (dh, dw).
      (other arguments as `Dense`; the kernel is [kh, kw, in_channels, filters])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format="channels_last", dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer=None,
                 bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.filters = int(filters)
        self.kernel_size = _normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = _normalize_tuple(strides, 2, "strides")
        self.padding = _normalize_padding(padding)
        self.data_format = _normalize_data_format(data_format)
        self.dilation_rate = _normalize_tuple(dilation_rate, 2, "dilation_rate")
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.kernel = self.bias = None

    def build(self, input_shape):
        dims = input_shape._dims
        if dims is None or len(dims) != 4:
            raise ValueError("Input 0 of layer %s is incompatible with the layer: expected "
                             "ndim=4, found ndim=%s. Full shape received: %s"
                             % (self.name, None if dims is None else len(dims), input_shape))
        c = dims[-1] if self.data_format == "channels_last" else dims[1]
        if c is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found "
                             "`None`.")
        self.kernel = self.add_weight("kernel", list(self.kernel_size) + [c, self.filters],
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.filters],
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs):
        fmt = _nhwc(self.data_format)
        if fmt == "NHWC":
            strides = [1, self.strides[0], self.strides[1], 1]
            dil = [1, self.dilation_rate[0], self.dilation_rate[1], 1]
        else:
            strides = [1, 1, self.strides[0], self.strides[1]]
            dil = [1, 1, self.dilation_rate[0], self.dilation_rate[1]]
        outputs = nn_ops.conv2d(inputs, self.kernel, strides=strides,
                                padding=self.padding.upper(), data_format=fmt, dilations=dil)
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias, data_format=fmt)
        if self.activation is not None:
            return self.activation(outputs)
        return outputs


Convolution2D = Conv2D


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1), activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=init_ops.zeros_initializer(),
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
           reuse=None):
    """Functional `Conv2D`: variables "<name or conv2d_N>/kernel" and ".../bias".

    Returns:
      4-D Tensor; spatial size ceil(in / stride) for "same", ceil((in - (k - 1) * d) / stride)
      for "valid".
    """
    layer = Conv2D(filters, kernel_size, strides=strides, padding=padding,
                   data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                   use_bias=use_bias, kernel_initializer=kernel_initializer,
                   bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                   bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                   kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                   trainable=trainable, name=name, _scope=name, _reuse=reuse)
    return layer.apply(inputs)


# ---- pooling -----------------------------------------------------------------------------------


class _Pooling2D(Layer):
    _POOL = None

    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = _normalize_tuple(pool_size, 2, "pool_size")
        self.strides = _normalize_tuple(strides, 2, "strides")
        self.padding = _normalize_padding(padding)
        self.data_format = _normalize_data_format(data_format)

    def call(self, inputs):
        fmt = _nhwc(self.data_format)
        if fmt == "NHWC":
            ksize = [1, self.pool_size[0], self.pool_size[1], 1]
            strides = [1, self.strides[0], self.strides[1], 1]
        else:
            ksize = [1, 1, self.pool_size[0], self.pool_size[1]]
            strides = [1, 1, self.strides[0], self.strides[1]]
        return type(self)._POOL(inputs, ksize=ksize, strides=strides,
                                padding=self.padding.upper(), data_format=fmt)


class MaxPooling2D(_Pooling2D):
    """Max pooling over (pool_size) windows moved by `strides`."""

    _POOL = staticmethod(nn_ops.max_pool)


class AveragePooling2D(_Pooling2D):
    """Average pooling; "same" border windows average only the elements inside the input."""

    _POOL = staticmethod(nn_ops.avg_pool)


def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    """Functional `MaxPooling2D` (op "max_pooling2d/MaxPool")."""
    return MaxPooling2D(pool_size, strides, padding=padding, data_format=data_format,
                        name=name).apply(inputs)


def average_pooling2d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    """Functional `AveragePooling2D` (op "average_pooling2d/AvgPool")."""
    return AveragePooling2D(pool_size, strides, padding=padding, data_format=data_format,
                            name=name).apply(inputs)
