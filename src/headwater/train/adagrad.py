"""`tf.train.AdagradOptimizer`: accum += grad^2; var -= lr * grad / sqrt(accum)."""

from __future__ import annotations

from headwater.framework import ops as _ops
from headwater.ops import array_ops, init_ops, math_ops
from headwater.train import optimizer, training_ops

__all__ = ["AdagradOptimizer"]


class AdagradOptimizer(optimizer.Optimizer):
    """Adagrad (Duchi et al. 2011) with slot "accumulator" ("W/Adagrad")."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        """Args:
          learning_rate: a float, scalar Tensor or callable.
          initial_accumulator_value: starting value of the accumulators; must be positive.
          name: name scope of the update ops (default "Adagrad").
        Raises:
          ValueError: if `initial_accumulator_value` is not positive.
        """
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: %s"
                             % initial_accumulator_value)
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value
        self._learning_rate_tensor = None

    def _create_slots(self, var_list):
        for v in var_list:
            dtype = v.dtype.base_dtype
            if v.get_shape().is_fully_defined():
                init = init_ops.constant_initializer(self._initial_accumulator_value,
                                                     dtype=dtype)
            else:
                init = self._init_constant_op(v, dtype)
            self._get_or_make_slot_with_initializer(v, init, v.get_shape(), dtype,
                                                    "accumulator", self._name)

    def _init_constant_op(self, v, dtype):
        def init():
            # A tensor rather than an initializer: the variable's shape is not static.
            fill = array_ops.fill(array_ops.shape(v), self._initial_accumulator_value)
            return math_ops.cast(fill, dtype)
        return init

    def _prepare(self):
        learning_rate = self._call_if_callable(self._learning_rate)
        self._learning_rate_tensor = _ops.convert_to_tensor(learning_rate,
                                                            name="learning_rate")

    def _apply_dense(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return training_ops.apply_adagrad(
            var, acc, math_ops.cast(self._learning_rate_tensor, var.dtype.base_dtype), grad,
            use_locking=self._use_locking).op

    def _apply_sparse(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return training_ops.sparse_apply_adagrad(
            var, acc, math_ops.cast(self._learning_rate_tensor, var.dtype.base_dtype),
            grad.values, grad.indices, use_locking=self._use_locking).op
