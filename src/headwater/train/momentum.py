"""`tf.train.MomentumOptimizer`: accum = momentum * accum + grad; var -= lr * accum."""

from __future__ import annotations

from headwater.framework import ops as _ops
from headwater.ops import math_ops
from headwater.train import optimizer, training_ops

__all__ = ["MomentumOptimizer"]


class MomentumOptimizer(optimizer.Optimizer):
    """Momentum (optionally Nesterov) with one slot "momentum" per variable ("W/Momentum")."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        """Args:
          learning_rate: a float, scalar Tensor or callable.
          momentum: a float, scalar Tensor or callable.
          use_nesterov: use Nesterov momentum (var -= lr * (grad + momentum * accum)).
          name: name scope of the update ops (default "Momentum").
        """
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        learning_rate = self._call_if_callable(self._learning_rate)
        self._learning_rate_tensor = _ops.convert_to_tensor(learning_rate,
                                                            name="learning_rate")
        momentum = self._call_if_callable(self._momentum)
        self._momentum_tensor = _ops.convert_to_tensor(momentum, name="momentum")

    def _apply_dense(self, grad, var):
        mom = self.get_slot(var, "momentum")
        dt = var.dtype.base_dtype
        return training_ops.apply_momentum(
            var, mom, math_ops.cast(self._learning_rate_tensor, dt), grad,
            math_ops.cast(self._momentum_tensor, dt), use_locking=self._use_locking,
            use_nesterov=self._use_nesterov).op

    def _apply_sparse(self, grad, var):
        mom = self.get_slot(var, "momentum")
        dt = var.dtype.base_dtype
        return training_ops.sparse_apply_momentum(
            var, mom, math_ops.cast(self._learning_rate_tensor, dt), grad.values,
            grad.indices, math_ops.cast(self._momentum_tensor, dt),
            use_locking=self._use_locking, use_nesterov=self._use_nesterov).op
