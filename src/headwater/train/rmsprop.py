"""`tf.train.RMSPropOptimizer` (Hinton's lecture 6e), optionally centered."""

from __future__ import annotations

from headwater.framework import ops as _ops
from headwater.ops import array_ops, init_ops, math_ops
from headwater.train import optimizer, training_ops

__all__ = ["RMSPropOptimizer"]


class RMSPropOptimizer(optimizer.Optimizer):
    """RMSProp. Slots, created in this order as in TF1: "rms" ("W/RMSProp", initialized to
    ones), "mg" when centered ("W/RMSProp_1", zeros) and "momentum" (zeros)."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False,
                 centered=False, name="RMSProp"):
        """Args:
          learning_rate: a float, scalar Tensor or callable.
          decay: discounting factor of the running mean square of gradients.
          momentum: momentum of the update.
          epsilon: small value added to the mean square before its square root.
          centered: normalize by the estimated variance (ms - mg^2) instead of ms.
          name: name scope of the update ops (default "RMSProp").
        """
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list):
        for v in var_list:
            dtype = v.dtype.base_dtype
            if v.get_shape().is_fully_defined():
                init_rms = init_ops.ones_initializer(dtype=dtype)
            else:
                def init_rms(v=v):
                    return array_ops.ones_like(v)
            self._get_or_make_slot_with_initializer(v, init_rms, v.get_shape(), dtype, "rms",
                                                    self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        c = self._call_if_callable
        self._learning_rate_tensor = _ops.convert_to_tensor(c(self._learning_rate),
                                                            name="learning_rate")
        self._decay_tensor = _ops.convert_to_tensor(c(self._decay), name="decay")
        self._momentum_tensor = _ops.convert_to_tensor(c(self._momentum), name="momentum")
        self._epsilon_tensor = _ops.convert_to_tensor(c(self._epsilon), name="epsilon")

    def _hyper(self, var):
        dt = var.dtype.base_dtype
        return (math_ops.cast(self._learning_rate_tensor, dt),
                math_ops.cast(self._decay_tensor, dt),
                math_ops.cast(self._momentum_tensor, dt),
                math_ops.cast(self._epsilon_tensor, dt))

    def _apply_dense(self, grad, var):
        rms = self.get_slot(var, "rms")
        mom = self.get_slot(var, "momentum")
        lr, decay, momentum, eps = self._hyper(var)
        if self._centered:
            mg = self.get_slot(var, "mg")
            return training_ops.apply_centered_rms_prop(
                var, mg, rms, mom, lr, decay, momentum, eps, grad,
                use_locking=self._use_locking).op
        return training_ops.apply_rms_prop(var, rms, mom, lr, decay, momentum, eps, grad,
                                           use_locking=self._use_locking).op

    def _apply_sparse(self, grad, var):
        rms = self.get_slot(var, "rms")
        mom = self.get_slot(var, "momentum")
        lr, decay, momentum, eps = self._hyper(var)
        if self._centered:
            mg = self.get_slot(var, "mg")
            return training_ops.sparse_apply_centered_rms_prop(
                var, mg, rms, mom, lr, decay, momentum, eps, grad.values, grad.indices,
                use_locking=self._use_locking)
        return training_ops.sparse_apply_rms_prop(
            var, rms, mom, lr, decay, momentum, eps, grad.values, grad.indices,
            use_locking=self._use_locking)
