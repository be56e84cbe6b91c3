"""`tf.train.AdadeltaOptimizer` (Zeiler 2012)."""

from __future__ import annotations

from headwater.framework import ops as _ops
from headwater.ops import math_ops
from headwater.train import optimizer, training_ops

__all__ = ["AdadeltaOptimizer"]


class AdadeltaOptimizer(optimizer.Optimizer):
    """Adadelta with slots "accum" ("W/Adadelta") and "accum_update" ("W/Adadelta_1")."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False,
                 name="Adadelta"):
        """Args:
          learning_rate: a float, scalar Tensor or callable (TF1 default 0.001).
          rho: decay rate of the running averages.
          epsilon: constant for numerical stability.
          name: name scope of the update ops (default "Adadelta").
        """
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._rho = rho
        self._epsilon = epsilon
        self._lr_t = None
        self._rho_t = None
        self._epsilon_t = None

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self):
        self._lr_t = _ops.convert_to_tensor(self._call_if_callable(self._lr), name="lr")
        self._rho_t = _ops.convert_to_tensor(self._call_if_callable(self._rho), name="rho")
        self._epsilon_t = _ops.convert_to_tensor(self._call_if_callable(self._epsilon),
                                                 name="epsilon")

    def _hyper(self, var):
        dt = var.dtype.base_dtype
        return (math_ops.cast(self._lr_t, dt), math_ops.cast(self._rho_t, dt),
                math_ops.cast(self._epsilon_t, dt))

    def _apply_dense(self, grad, var):
        accum = self.get_slot(var, "accum")
        accum_update = self.get_slot(var, "accum_update")
        lr, rho, eps = self._hyper(var)
        return training_ops.apply_adadelta(var, accum, accum_update, lr, rho, eps, grad,
                                           use_locking=self._use_locking).op

    def _apply_sparse(self, grad, var):
        accum = self.get_slot(var, "accum")
        accum_update = self.get_slot(var, "accum_update")
        lr, rho, eps = self._hyper(var)
        return training_ops.sparse_apply_adadelta(var, accum, accum_update, lr, rho, eps,
                                                  grad.values, grad.indices,
                                                  use_locking=self._use_locking).op
