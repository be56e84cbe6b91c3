"""`tf.train.GradientDescentOptimizer`: var -= learning_rate * grad."""

from __future__ import annotations

from headwater.framework import ops as _ops
from headwater.gradients import IndexedSlices
from headwater.ops import math_ops
from headwater.train import optimizer, training_ops

__all__ = ["GradientDescentOptimizer"]


class GradientDescentOptimizer(optimizer.Optimizer):
    """Plain gradient descent (ApplyGradientDescent per variable)."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        """Args:
          learning_rate: a float, a scalar Tensor, or a callable returning one.
          use_locking: accepted for TF1 compatibility.
          name: name scope of the update ops (default "GradientDescent").
        """
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor = None

    def _prepare(self):
        learning_rate = self._call_if_callable(self._learning_rate)
        self._learning_rate_tensor = _ops.convert_to_tensor(learning_rate,
                                                            name="learning_rate")

    def _apply_dense(self, grad, var):
        return training_ops.apply_gradient_descent(
            var, math_ops.cast(self._learning_rate_tensor, var.dtype.base_dtype), grad,
            use_locking=self._use_locking).op

    def _apply_sparse_duplicate_indices(self, grad, var):
        # Scatter-subtract accumulates repeated indices, so no deduplication is needed.
        delta = IndexedSlices(
            grad.values * math_ops.cast(self._learning_rate_tensor, var.dtype.base_dtype),
            grad.indices, grad.dense_shape)
        return var.scatter_sub(delta, use_locking=self._use_locking)

    def _apply_sparse(self, grad, var):
        return self._apply_sparse_duplicate_indices(grad, var)
