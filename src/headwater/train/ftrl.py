"""`tf.train.FtrlOptimizer`: FTRL-proximal (McMahan et al., "Ad Click Prediction", 2013)."""

from __future__ import annotations

from headwater.framework import ops as _ops
from headwater.ops import array_ops, math_ops
from headwater.train import optimizer, training_ops

__all__ = ["FtrlOptimizer"]


class FtrlOptimizer(optimizer.Optimizer):
    """FTRL-proximal with slots "accum" ("W/Ftrl", initialized to
    `initial_accumulator_value`) and "linear" ("W/Ftrl_1", zeros)."""

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="Ftrl", accum_name=None, linear_name=None,
                 l2_shrinkage_regularization_strength=0.0, beta=None):
        """Args:
          learning_rate: a float or scalar Tensor.
          learning_rate_power: <= 0; -0.5 (the default) is the fast special case.
          initial_accumulator_value: >= 0, starting value of the accumulators.
          l1_regularization_strength, l2_regularization_strength: >= 0.
          l2_shrinkage_regularization_strength: >= 0; an L2 penalty applied to the gradient
            (magnitude-based shrinkage), selecting the ApplyFtrlV2 kernel when > 0.
          beta: optional float added to the L2 strength as beta / (2 * learning_rate).
          accum_name, linear_name: names of the slot variables (default: `name`).
        Raises:
          ValueError: for a negative strength or accumulator value, or a positive power.
        """
        super().__init__(use_locking, name)
        if initial_accumulator_value < 0.0:
            raise ValueError("initial_accumulator_value %f needs to be positive or zero"
                             % initial_accumulator_value)
        if learning_rate_power > 0.0:
            raise ValueError("learning_rate_power %f needs to be negative or zero"
                             % learning_rate_power)
        if l1_regularization_strength < 0.0:
            raise ValueError("l1_regularization_strength %f needs to be positive or zero"
                             % l1_regularization_strength)
        if l2_regularization_strength < 0.0:
            raise ValueError("l2_regularization_strength %f needs to be positive or zero"
                             % l2_regularization_strength)
        if l2_shrinkage_regularization_strength < 0.0:
            raise ValueError("l2_shrinkage_regularization_strength %f needs to be positive or "
                             "zero" % l2_shrinkage_regularization_strength)
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self._accum_name = accum_name
        self._linear_name = linear_name

    def _create_slots(self, var_list):
        for v in var_list:
            val = array_ops.constant(self._initial_accumulator_value, dtype=v.dtype.base_dtype,
                                     shape=v.get_shape())
            self._get_or_make_slot(v, val, "accum", self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _prepare(self):
        self._learning_rate_tensor = _ops.convert_to_tensor(self._learning_rate,
                                                            name="learning_rate")
        self._l1_regularization_strength_tensor = _ops.convert_to_tensor(
            self._l1_regularization_strength, name="l1_regularization_strength")
        # beta folds into the L2 strength so the kernels need no extra input.
        if isinstance(self._beta, (int, float)) and self._beta == 0:
            adjusted_l2 = self._l2_regularization_strength
        else:
            adjusted_l2 = self._l2_regularization_strength + self._beta / (
                2. * math_ops.maximum(self._learning_rate, 1e-36))
        self._adjusted_l2_regularization_strength_tensor = _ops.convert_to_tensor(
            adjusted_l2, name="adjusted_l2_regularization_strength")
        self._beta_tensor = _ops.convert_to_tensor(self._beta, name="beta")
        self._l2_shrinkage_regularization_strength_tensor = _ops.convert_to_tensor(
            self._l2_shrinkage_regularization_strength,
            name="l2_shrinkage_regularization_strength")
        self._learning_rate_power_tensor = _ops.convert_to_tensor(self._learning_rate_power,
                                                                  name="learning_rate_power")

    def _hyper(self, var):
        dt = var.dtype.base_dtype
        return (math_ops.cast(self._learning_rate_tensor, dt),
                math_ops.cast(self._l1_regularization_strength_tensor, dt),
                math_ops.cast(self._adjusted_l2_regularization_strength_tensor, dt),
                math_ops.cast(self._l2_shrinkage_regularization_strength_tensor, dt),
                math_ops.cast(self._learning_rate_power_tensor, dt))

    def _apply_dense(self, grad, var):
        accum = self.get_slot(var, "accum")
        linear = self.get_slot(var, "linear")
        lr, l1, l2, shrink, power = self._hyper(var)
        if self._l2_shrinkage_regularization_strength <= 0.0:
            return training_ops.apply_ftrl(var, accum, linear, grad, lr, l1, l2, power,
                                           use_locking=self._use_locking)
        return training_ops.apply_ftrl_v2(var, accum, linear, grad, lr, l1, l2, shrink, power,
                                          use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        accum = self.get_slot(var, "accum")
        linear = self.get_slot(var, "linear")
        lr, l1, l2, shrink, power = self._hyper(var)
        if self._l2_shrinkage_regularization_strength <= 0.0:
            return training_ops.sparse_apply_ftrl(var, accum, linear, grad.values,
                                                  grad.indices, lr, l1, l2, power,
                                                  use_locking=self._use_locking)
        return training_ops.sparse_apply_ftrl_v2(var, accum, linear, grad.values, grad.indices,
                                                 lr, l1, l2, shrink, power,
                                                 use_locking=self._use_locking)
