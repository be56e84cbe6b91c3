"""`tf.train.AdamOptimizer` (Kingma & Ba 2015), as TF1 implements it.

The bias correction is folded into the step size, lr_t = lr * sqrt(1 - beta2^t) /
(1 - beta1^t), with the powers beta1^t and beta2^t kept in two non-slot variables
("beta1_power", "beta2_power") that `_finish` multiplies by beta1/beta2 after every update.
"""

from __future__ import annotations

from headwater.framework import ops as _ops
from headwater.ops import control_flow_ops, math_ops, state_ops
from headwater.train import optimizer, training_ops

__all__ = ["AdamOptimizer"]


class AdamOptimizer(optimizer.Optimizer):
    """Adam with slots "m" ("W/Adam") and "v" ("W/Adam_1")."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        """Args:
          learning_rate: a float, scalar Tensor or callable.
          beta1: decay rate of the first-moment estimates.
          beta2: decay rate of the second-moment estimates.
          epsilon: added to sqrt(v) in the denominator (the "epsilon hat" of the paper).
          name: name scope of the update ops (default "Adam").
        """
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon
        self._lr_t = None
        self._beta1_t = None
        self._beta2_t = None
        self._epsilon_t = None

    def _get_beta_accumulators(self):
        graph = _ops.get_default_graph()
        return (self._get_non_slot_variable("beta1_power", graph=graph),
                self._get_non_slot_variable("beta2_power", graph=graph))

    def _create_slots(self, var_list):
        # The beta powers live beside the first variable by name, once per graph.
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(initial_value=self._beta1, name="beta1_power",
                                       colocate_with=first_var)
        self._create_non_slot_variable(initial_value=self._beta2, name="beta2_power",
                                       colocate_with=first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self):
        c = self._call_if_callable
        self._lr_t = _ops.convert_to_tensor(c(self._lr), name="learning_rate")
        self._beta1_t = _ops.convert_to_tensor(c(self._beta1), name="beta1")
        self._beta2_t = _ops.convert_to_tensor(c(self._beta2), name="beta2")
        self._epsilon_t = _ops.convert_to_tensor(c(self._epsilon), name="epsilon")

    def _apply_dense(self, grad, var):
        m = self.get_slot(var, "m")
        v = self.get_slot(var, "v")
        beta1_power, beta2_power = self._get_beta_accumulators()
        dt = var.dtype.base_dtype
        return training_ops.apply_adam(
            var, m, v, math_ops.cast(beta1_power, dt), math_ops.cast(beta2_power, dt),
            math_ops.cast(self._lr_t, dt), math_ops.cast(self._beta1_t, dt),
            math_ops.cast(self._beta2_t, dt), math_ops.cast(self._epsilon_t, dt), grad,
            use_locking=self._use_locking).op

    def _apply_sparse_shared(self, grad, var, indices, scatter_add):
        """TF1's sparse Adam: m and v decay densely, the new gradient rows are scatter-added,
        and the whole variable moves by lr_t * m / (sqrt(v) + epsilon)."""
        beta1_power, beta2_power = self._get_beta_accumulators()
        dt = var.dtype.base_dtype
        beta1_power = math_ops.cast(beta1_power, dt)
        beta2_power = math_ops.cast(beta2_power, dt)
        lr_t = math_ops.cast(self._lr_t, dt)
        beta1_t = math_ops.cast(self._beta1_t, dt)
        beta2_t = math_ops.cast(self._beta2_t, dt)
        epsilon_t = math_ops.cast(self._epsilon_t, dt)
        lr = (lr_t * math_ops.sqrt(1 - beta2_power) / (1 - beta1_power))
        # m_t = beta1 * m + (1 - beta1) * g_t
        m = self.get_slot(var, "m")
        m_scaled_g_values = grad * (1 - beta1_t)
        m_t = state_ops.assign(m, m * beta1_t, use_locking=self._use_locking)
        with _ops.control_dependencies([m_t]):
            m_t = scatter_add(m, indices, m_scaled_g_values)
        # v_t = beta2 * v + (1 - beta2) * (g_t * g_t)
        v = self.get_slot(var, "v")
        v_scaled_g_values = (grad * grad) * (1 - beta2_t)
        v_t = state_ops.assign(v, v * beta2_t, use_locking=self._use_locking)
        with _ops.control_dependencies([v_t]):
            v_t = scatter_add(v, indices, v_scaled_g_values)
        v_sqrt = math_ops.sqrt(v_t)
        var_update = state_ops.assign_sub(var, lr * m_t / (v_sqrt + epsilon_t),
                                          use_locking=self._use_locking)
        return control_flow_ops.group(*[var_update, m_t, v_t])

    def _apply_sparse(self, grad, var):
        return self._apply_sparse_shared(
            grad.values, var, grad.indices,
            lambda x, i, v: state_ops.scatter_add(x, i, v, use_locking=self._use_locking))

    def _finish(self, update_ops, name_scope):
        # Advance the beta powers only after every variable has used the current ones.
        with _ops.control_dependencies(update_ops):
            beta1_power, beta2_power = self._get_beta_accumulators()
            update_beta1 = beta1_power.assign(beta1_power * self._beta1_t,
                                              use_locking=self._use_locking)
            update_beta2 = beta2_power.assign(beta2_power * self._beta2_t,
                                              use_locking=self._use_locking)
        return control_flow_ops.group(*update_ops + [update_beta1, update_beta2],
                                      name=name_scope)


