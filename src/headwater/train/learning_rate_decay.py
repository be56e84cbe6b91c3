"""Learning-rate schedules (TF1's `tf.train.*_decay`), built from graph ops.

Each returns a scalar Tensor of the learning rate's dtype that depends on `global_step`
(cast to that dtype), so passing it to an optimizer makes the step size follow the schedule
as the global step advances. Formulas are TF1's.
"""

from __future__ import annotations

import math

from headwater.framework import dtypes as _dtypes
from headwater.framework import ops as _ops
from headwater.ops import array_ops, math_ops

__all__ = [
    "cosine_decay",
    "cosine_decay_restarts",
    "exponential_decay",
    "inverse_time_decay",
    "linear_cosine_decay",
    "natural_exp_decay",
    "piecewise_constant",
    "piecewise_constant_decay",
    "polynomial_decay",
]


def _check_step(global_step, fn_name):
    if global_step is None:
        raise ValueError("global_step is required for %s." % fn_name)


def _lr_and_step(learning_rate, global_step):
    lr = _ops.convert_to_tensor(learning_rate, name="learning_rate")
    dtype = lr.dtype.base_dtype
    return lr, dtype, math_ops.cast(global_step, dtype)


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * decay_rate ^ (global_step / decay_steps).

    Args:
      learning_rate: the initial learning rate (float or scalar Tensor).
      global_step: the step (an integer Variable/Tensor); cast to the rate's dtype.
      decay_steps: steps per decay period; must be positive.
      decay_rate: the decay factor per period.
      staircase: decay in whole periods (floor of the exponent).
      name: op name scope (default "ExponentialDecay").
    Returns:
      A scalar Tensor: the decayed learning rate.
    """
    _check_step(global_step, "exponential_decay")
    with _ops.name_scope(name, "ExponentialDecay",
                         [learning_rate, global_step, decay_steps, decay_rate]) as name:
        lr, dtype, step = _lr_and_step(learning_rate, global_step)
        decay_steps = math_ops.cast(decay_steps, dtype)
        decay_rate = math_ops.cast(decay_rate, dtype)
        p = step / decay_steps
        if staircase:
            p = math_ops.floor(p)
        return math_ops.multiply(lr, math_ops.pow(decay_rate, p), name=name)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * exp(-decay_rate * global_step / decay_steps) (computed, as TF1 does,
    as learning_rate * exp(-decay_rate) ^ (global_step / decay_steps))."""
    _check_step(global_step, "natural_exp_decay")
    with _ops.name_scope(name, "NaturalExpDecay",
                         [learning_rate, global_step, decay_rate]) as name:
        lr, dtype, step = _lr_and_step(learning_rate, global_step)
        rate = math_ops.exp(math_ops.negative(math_ops.cast(decay_rate, dtype)))
        p = step / math_ops.cast(decay_steps, dtype)
        if staircase:
            p = math_ops.floor(p)
        return math_ops.multiply(lr, math_ops.pow(rate, p), name=name)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    """learning_rate / (1 + decay_rate * global_step / decay_steps)."""
    _check_step(global_step, "inverse_time_decay")
    with _ops.name_scope(name, "InverseTimeDecay",
                         [learning_rate, global_step, decay_rate]) as name:
        lr, dtype, step = _lr_and_step(learning_rate, global_step)
        decay_steps = math_ops.cast(decay_steps, dtype)
        decay_rate = math_ops.cast(decay_rate, dtype)
        p = step / decay_steps
        if staircase:
            p = math_ops.floor(p)
        const = math_ops.cast(array_ops.constant(1), dtype)
        denom = math_ops.add(const, math_ops.multiply(decay_rate, p))
        return math_ops.divide(lr, denom, name=name)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    """(learning_rate - end) * (1 - step / decay_steps) ^ power + end.

    The step is capped at `decay_steps`; with `cycle`, decay_steps is instead multiplied by
    ceil(step / decay_steps) (1 at step 0), restarting the decay each period.
    """
    _check_step(global_step, "polynomial_decay")
    with _ops.name_scope(name, "PolynomialDecay",
                         [learning_rate, global_step, decay_steps, end_learning_rate,
                          power]) as name:
        lr, dtype, step = _lr_and_step(learning_rate, global_step)
        end_learning_rate = math_ops.cast(end_learning_rate, dtype)
        power = math_ops.cast(power, dtype)
        decay_steps_t = math_ops.cast(decay_steps, dtype)
        if cycle:
            multiplier = math_ops.where_v2(math_ops.equal(step, 0),
                                           array_ops.constant(1, dtype=dtype),
                                           math_ops.ceil(step / decay_steps_t))
            decay_steps_t = math_ops.multiply(decay_steps_t, multiplier)
        else:
            step = math_ops.minimum(step, decay_steps_t)
        p = math_ops.divide(step, decay_steps_t)
        return math_ops.add(math_ops.multiply(lr - end_learning_rate,
                                              math_ops.pow(1 - p, power)),
                            end_learning_rate, name=name)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) /
    decay_steps)) + alpha) (Loshchilov & Hutter, SGDR, without restarts)."""
    _check_step(global_step, "cosine_decay")
    with _ops.name_scope(name, "CosineDecay", [learning_rate, global_step]) as name:
        lr, dtype, step = _lr_and_step(learning_rate, global_step)
        decay_steps = math_ops.cast(decay_steps, dtype)
        step = math_ops.minimum(step, decay_steps)
        completed_fraction = step / decay_steps
        cosine_decayed = 0.5 * (1.0 + math_ops.cos(
            array_ops.constant(math.pi, dtype=dtype) * completed_fraction))
        decayed = (1 - alpha) * cosine_decayed + alpha
        return math_ops.multiply(lr, decayed, name=name)


def cosine_decay_restarts(learning_rate, global_step, first_decay_steps, t_mul=2.0, m_mul=1.0,
                          alpha=0.0, name=None):
    """Cosine decay with warm restarts (SGDR): period i lasts first_decay_steps * t_mul^i
    steps and starts from learning_rate * m_mul^i."""
    _check_step(global_step, "cosine_decay_restarts")
    with _ops.name_scope(name, "SGDRDecay", [learning_rate, global_step]) as name:
        lr, dtype, step = _lr_and_step(learning_rate, global_step)
        first_decay_steps = math_ops.cast(first_decay_steps, dtype)
        alpha_t = math_ops.cast(alpha, dtype)
        t_mul_t = math_ops.cast(t_mul, dtype)
        m_mul_t = math_ops.cast(m_mul, dtype)
        completed_fraction = step / first_decay_steps
        # TF1 picks the branch with a cond on t_mul == 1; t_mul is a Python number here
        # unless a tensor was passed, so the branch is usually chosen while building.
        if isinstance(t_mul, (int, float)):
            geometric = t_mul != 1.0
        else:
            geometric = None
        if geometric is False:
            i_restart = math_ops.floor(completed_fraction)
            completed_fraction = completed_fraction - i_restart
        elif geometric is True:
            i_restart, completed_fraction = _sgdr_geometric(completed_fraction, t_mul_t)
        else:
            from headwater.ops import control_flow_ops

            def flat():
                i = math_ops.floor(completed_fraction)
                return i, completed_fraction - i

            i_restart, completed_fraction = control_flow_ops.cond(
                math_ops.equal(t_mul_t, 1.0), flat,
                lambda: _sgdr_geometric(completed_fraction, t_mul_t))
        m_fac = m_mul_t ** i_restart
        cosine_decayed = 0.5 * m_fac * (1.0 + math_ops.cos(
            array_ops.constant(math.pi, dtype=dtype) * completed_fraction))
        decayed = (1 - alpha_t) * cosine_decayed + alpha_t
        return math_ops.multiply(lr, decayed, name=name)


def _sgdr_geometric(completed_fraction, t_mul):
    i_restart = math_ops.floor(math_ops.log(1.0 - completed_fraction * (1.0 - t_mul))
                               / math_ops.log(t_mul))
    sum_r = (1.0 - t_mul ** i_restart) / (1.0 - t_mul)
    return i_restart, (completed_fraction - sum_r) / t_mul ** i_restart


def linear_cosine_decay(learning_rate, global_step, decay_steps, num_periods=0.5, alpha=0.0,
                        beta=0.001, name=None):
    """learning_rate * ((alpha + linear) * cosine + beta), with linear = (decay_steps -
    step) / decay_steps and cosine = 0.5 * (1 + cos(pi * 2 * num_periods * step /
    decay_steps)), step capped at decay_steps."""
    _check_step(global_step, "linear_cosine_decay")
    with _ops.name_scope(name, "LinearCosineDecay", [learning_rate, global_step]) as name:
        lr, dtype, step = _lr_and_step(learning_rate, global_step)
        decay_steps = math_ops.cast(decay_steps, dtype)
        num_periods = math_ops.cast(num_periods, dtype)
        alpha = math_ops.cast(alpha, dtype)
        beta = math_ops.cast(beta, dtype)
        step = math_ops.minimum(step, decay_steps)
        linear_decayed = (decay_steps - step) / decay_steps
        completed_fraction = step / decay_steps
        fraction = 2.0 * num_periods * completed_fraction
        cosine_decayed = 0.5 * (1.0 + math_ops.cos(
            array_ops.constant(math.pi, dtype=dtype) * fraction))
        linear_cosine_decayed = (alpha + linear_decayed) * cosine_decayed + beta
        return math_ops.multiply(lr, linear_cosine_decayed, name=name)


def piecewise_constant(x, boundaries, values, name=None):
    """values[0] while x <= boundaries[0], values[i] while boundaries[i-1] < x <=
    boundaries[i], values[-1] once x > boundaries[-1].

    Args:
      x: a scalar Tensor (usually the global step).
      boundaries: increasing list of boundaries, of x's dtype (int32 boundaries are widened
        for an int64 x).
      values: one more value than boundaries, all of one dtype.
    Raises:
      ValueError: for mismatched lengths or dtypes.
    """
    boundaries = list(boundaries) if isinstance(boundaries, (list, tuple)) else [boundaries]
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    if len(values) != len(boundaries) + 1:
        raise ValueError("The length of boundaries should be 1 less than the length of "
                         "values")
    with _ops.name_scope(name, "PiecewiseConstant", [x] + boundaries + values) as name:
        x_recomp = _ops.convert_to_tensor(x)
        xdt = x_recomp.dtype.base_dtype
        b_tensors = []
        for b in boundaries:
            if isinstance(b, _ops.Tensor) or hasattr(b, "_as_graph_element"):
                b = _ops.convert_to_tensor(b)
            else:
                b = _ops.convert_to_tensor(b, preferred_dtype=xdt if not xdt.is_floating
                                           or isinstance(b, float) else None)
            if b.dtype.base_dtype != xdt:
                # int32 boundaries widen losslessly to an int64 step (Python ints do).
                if b.dtype.base_dtype == _dtypes.int32 and xdt == _dtypes.int64:
                    b = math_ops.cast(b, xdt)
                else:
                    raise ValueError("Boundaries (%s) must have the same dtype as x (%s)."
                                     % (b.dtype.base_dtype.name, xdt.name))
            b_tensors.append(b)
        v_tensors = [_ops.convert_to_tensor(v) for v in values]
        for v in v_tensors[1:]:
            if v.dtype.base_dtype != v_tensors[0].dtype.base_dtype:
                raise ValueError("Values must have elements all with the same dtype (%s vs %s)."
                                 % (v_tensors[0].dtype.base_dtype.name,
                                    v.dtype.base_dtype.name))
        # The intervals are exclusive and exhaustive, so a chain of selects from the last
        # interval down gives the same value as TF1's `case` without a branch per interval.
        result = v_tensors[-1]
        for i in range(len(b_tensors) - 1, -1, -1):
            result = math_ops.where_v2(math_ops.less_equal(x_recomp, b_tensors[i]),
                                       v_tensors[i], result,
                                       name=name if i == 0 else None)
        if not b_tensors:
            result = array_ops.identity(result, name=name)
        return result


piecewise_constant_decay = piecewise_constant
