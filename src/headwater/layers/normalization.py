"""TF1 `BatchNormalization` layer and `tf.layers.batch_normalization`."""

from __future__ import annotations

from headwater.framework import dtypes as _dt
from headwater.framework import ops as _ops
from headwater.layers.base import Layer
from headwater.layers.core import _smart_cond
from headwater.ops import array_ops, init_ops, math_ops, nn_ops, state_ops

__all__ = ["BatchNormalization", "batch_normalization"]


class BatchNormalization(Layer):
    """Batch normalization (Ioffe & Szegedy) with moving averages for inference.

    In training mode the layer normalises with the batch statistics and creates two update
    ops (moving_mean and moving_variance move toward the batch statistics by 1 - momentum),
    added to `GraphKeys.UPDATE_OPS`; run them with the train op
    (`with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS))`). In
    inference mode it uses the moving averages. `training` may be a bool Tensor.

    The fused kernel (4-D inputs normalised over the channel axis; the default when possible)
    updates moving_variance with the unbiased batch variance, the other path with the biased
    one, as TF1 does.

    Args:
      axis: the feature axis (int, default -1).
      momentum: moving-average momentum.
      epsilon: added to the variance.
      center, scale: learn beta / gamma.
      *_initializer, *_regularizer, *_constraint: for beta, gamma and the moving statistics.
      renorm: not supported (raises NotImplementedError).
      fused: None (use the fused kernel if possible), True (require it) or False.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer=init_ops.zeros_initializer(),
                 gamma_initializer=init_ops.ones_initializer(),
                 moving_mean_initializer=init_ops.zeros_initializer(),
                 moving_variance_initializer=init_ops.ones_initializer(),
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                 fused=None, trainable=True, virtual_batch_size=None, adjustment=None,
                 name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        if renorm:
            raise NotImplementedError("batch_normalization(renorm=True) is not supported by "
                                      "headwater.")
        if virtual_batch_size is not None or adjustment is not None:
            raise NotImplementedError("virtual_batch_size and adjustment are not supported by "
                                      "headwater.")
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise NotImplementedError("batch_normalization over several axes (%r) is not "
                                          "supported by headwater." % (axis,))
            axis = axis[0]
        self.axis = int(axis)
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.beta_regularizer = beta_regularizer
        self.gamma_regularizer = gamma_regularizer
        self.beta_constraint = beta_constraint
        self.gamma_constraint = gamma_constraint
        self.fused = fused
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        dims = input_shape._dims
        if dims is None:
            raise ValueError("Input has undefined rank: %s" % (input_shape,))
        ndims = len(dims)
        axis = self.axis + ndims if self.axis < 0 else self.axis
        if not 0 <= axis < ndims:
            raise ValueError("Invalid axis: %d" % self.axis)
        self._axis = axis
        can_fuse = ndims == 4 and axis in (1, 3)
        if self.fused is None:
            self.fused = can_fuse
        elif self.fused and not can_fuse:
            raise ValueError("Unsupported axis/rank for the fused batch norm: axis %d of a "
                             "rank-%d input (fused needs 4-D inputs and axis 1 or 3)"
                             % (self.axis, ndims))
        c = dims[axis]
        if c is None:
            raise ValueError("Input has undefined `axis` dimension. Input shape: %s"
                             % (input_shape,))
        pdt = _dt.float32 if self._dtype in (_dt.float16, _dt.bfloat16) else self._dtype
        self._param_dtype = pdt
        if self.scale:
            self.gamma = self.add_weight("gamma", [c], dtype=pdt,
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", [c], dtype=pdt,
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight("moving_mean", [c], dtype=pdt,
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", [c], dtype=pdt,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self.built = True

    def _assign_moving_average(self, variable, value):
        with _ops.name_scope(None, "AssignMovingAvg", [variable, value]) as scope:
            decay = _ops.convert_to_tensor(1.0 - self.momentum, dtype=variable.dtype.base_dtype,
                                           name="decay")
            delta = math_ops.multiply(
                math_ops.subtract(variable, math_ops.cast(value, variable.dtype.base_dtype)),
                decay)
            return state_ops.assign_sub(variable, delta, name=scope)

    def call(self, inputs, training=False):
        if self.fused:
            out, mean, var = self._fused(inputs, training)
        else:
            out, mean, var = self._unfused(inputs, training)
        if training is not False and mean is not None:
            self.add_update(self._assign_moving_average(self.moving_mean, mean))
            self.add_update(self._assign_moving_average(self.moving_variance, var))
        return out

    def _fused(self, inputs, training):
        fmt = "NHWC" if self._axis == 3 else "NCHW"
        c = inputs.shape._dims[self._axis]
        pdt = self._param_dtype
        gamma = self.gamma if self.scale else array_ops.constant(1.0, pdt, [c])
        beta = self.beta if self.center else array_ops.constant(0.0, pdt, [c])

        def train():
            return nn_ops.fused_batch_norm(inputs, gamma, beta, epsilon=self.epsilon,
                                           data_format=fmt, is_training=True)

        def infer():
            return nn_ops.fused_batch_norm(inputs, gamma, beta, mean=self.moving_mean,
                                           variance=self.moving_variance,
                                           epsilon=self.epsilon, data_format=fmt,
                                           is_training=False)
        if training is False:
            return infer()[0], None, None
        out, mean, var = _smart_cond(training, train, infer)
        return out, mean, var

    def _unfused(self, inputs, training):
        ndims = inputs.shape.ndims
        axis = self._axis
        reduction_axes = [i for i in range(ndims) if i != axis]
        c = inputs.shape._dims[axis]
        bshape = [1] * ndims
        bshape[axis] = c

        def bc(t):
            return t if axis == ndims - 1 or t is None else array_ops.reshape(t, bshape)
        x = inputs
        if x.dtype.base_dtype != self._param_dtype:
            x = math_ops.cast(x, self._param_dtype)
        if training is False:
            mean, var = self.moving_mean, self.moving_variance
            upd = (None, None)
        else:
            def batch():
                m, v = nn_ops.moments(x, reduction_axes)
                return m, v

            def moving():
                return array_ops.identity(self.moving_mean), \
                    array_ops.identity(self.moving_variance)
            mean, var = _smart_cond(training, batch, moving)
            upd = (mean, var)
        out = nn_ops.batch_normalization(x, bc(mean), bc(var),
                                         bc(self.beta) if self.center else None,
                                         bc(self.gamma) if self.scale else None,
                                         self.epsilon)
        if out.dtype.base_dtype != inputs.dtype.base_dtype:
            out = math_ops.cast(out, inputs.dtype.base_dtype)
        out.set_shape(inputs.shape)
        return (out,) + upd


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=init_ops.zeros_initializer(),
                        gamma_initializer=init_ops.ones_initializer(),
                        moving_mean_initializer=init_ops.zeros_initializer(),
                        moving_variance_initializer=init_ops.ones_initializer(),
                        beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                        gamma_constraint=None, training=False, trainable=True, name=None,
                        reuse=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                        fused=None, virtual_batch_size=None, adjustment=None):
    """Functional `BatchNormalization`: variables "<name or batch_normalization_N>/gamma",
    "beta", "moving_mean", "moving_variance"; with `training` true (or a bool Tensor) the
    moving-average update ops go to `GraphKeys.UPDATE_OPS`.

    Returns:
      The normalised Tensor, shape and dtype of `inputs`.
    """
    layer = BatchNormalization(
        axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
        beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
        moving_mean_initializer=moving_mean_initializer,
        moving_variance_initializer=moving_variance_initializer,
        beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
        beta_constraint=beta_constraint, gamma_constraint=gamma_constraint, renorm=renorm,
        renorm_clipping=renorm_clipping, renorm_momentum=renorm_momentum, fused=fused,
        trainable=trainable, virtual_batch_size=virtual_batch_size, adjustment=adjustment,
        name=name, _scope=name, _reuse=reuse)
    return layer.apply(inputs, training=training)
