"""Assertions on tensor values, ranks and types (TF1's `tf.assert_*`).

As in TF1: a check whose operands are static constants is decided while the graph is built
(raising InvalidArgumentError, or ValueError/TypeError for rank and dtype checks); otherwise
the function returns an `Assert` op that raises InvalidArgumentError with TF1's message when
run. Use the returned op with `tf.control_dependencies([...])`.
"""

from __future__ import annotations

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.framework.op_registry import register_op

__all__ = [
    "assert_equal",
    "assert_none_equal",
    "assert_less",
    "assert_less_equal",
    "assert_greater",
    "assert_greater_equal",
    "assert_positive",
    "assert_negative",
    "assert_non_negative",
    "assert_non_positive",
    "assert_rank",
    "assert_rank_at_least",
    "assert_rank_in",
    "assert_type",
    "assert_integer",
    "assert_scalar",
    "assert_proper_iterable",
    "is_non_decreasing",
    "is_strictly_increasing",
    "is_numeric_tensor",
]


# ---- a host-side predicate op for checks with no public op equivalent ------------------------

def _predicate_infer(inputs, attrs):
    return attrs["output_specs"]


def _predicate_kernel(op, ctx):
    return op._attrs["fn"]


# Outputs are computed by a Python function of the input values (attr "fn"): one fused op for
# checks that would otherwise need several array ops (rank of unknown-rank tensors,
# monotonicity, case(exclusive=True)).
register_op("_CheckPredicate", _predicate_infer, _predicate_kernel,
            default_name="CheckPredicate")

_SCALAR = _ts.TensorShape._from_tuple(())


def _predicate(inputs, fn, output_specs=None, name=None):
    specs = output_specs or [(_dtypes.bool, _SCALAR)]
    return _ops.apply_op("_CheckPredicate", list(inputs),
                         {"fn": fn, "output_specs": specs}, name=name)


def _constant_value(t):
    """The numpy value of `t` if it is statically known (a Const, maybe through Identity)."""
    try:
        from headwater.framework import tensor_util

        cv = getattr(tensor_util, "constant_value", None)
    except ImportError:
        cv = None
    if cv is not None:
        try:
            return cv(t)
        except Exception:  # noqa: BLE001 - a helper failing means "not static"
            pass
    seen = 0
    while isinstance(t, _ops.Tensor) and seen < 64:
        op = t.op
        if op.type == "Const":
            return np.asarray(op._attrs["value"])
        if op.type in ("Identity", "CheckNumerics"):
            t = op._inputs[0]
            seen += 1
            continue
        return None
    return None


def _maybe_constant_value_string(t):
    if not isinstance(t, _ops.Tensor):
        return t
    v = _constant_value(t)
    if v is None:
        return str(t)
    return str(v)


def _assert_static(condition, data):
    if not condition:
        raise errors.InvalidArgumentError(
            None, None, "\n".join(str(_maybe_constant_value_string(x)) for x in data))


def _convert_pair(x, y):
    x_is = isinstance(x, _ops.Tensor) or hasattr(x, "_as_graph_element")
    y_is = isinstance(y, _ops.Tensor) or hasattr(y, "_as_graph_element")
    if x_is or not y_is:
        x = _ops.convert_to_tensor(x, name="x")
        y = _ops.convert_to_tensor(y, name="y", preferred_dtype=None if y_is else x.dtype)
    else:
        y = _ops.convert_to_tensor(y, name="y")
        x = _ops.convert_to_tensor(x, name="x", preferred_dtype=y.dtype)
    return x, y


def _all_compare(math_name, x, y):
    """reduce_all(math_op(x, y)) as a scalar bool tensor (dtype/broadcast errors at build)."""
    from headwater.ops import math_ops  # imported lazily: math_ops may import this module

    return math_ops.reduce_all(getattr(math_ops, math_name)(x, y))


def _binary_assert(sym, opname, math_name, np_func, x, y, data, summarize, message, name):
    from headwater.ops import logging_ops

    with _ops.name_scope(name, opname, [x, y]):
        x, y = _convert_pair(x, y)
        if data is None:
            data = ["Condition x %s y did not hold element-wise:" % sym,
                    "x (%s) = " % x.name, x,
                    "y (%s) = " % y.name, y]
        if message is not None:
            data = [message] + list(data)
        condition = _all_compare(math_name, x, y)
        xs = _constant_value(x)
        ys = _constant_value(y)
        if xs is not None and ys is not None:
            _assert_static(bool(np.all(np_func(xs, ys))), data)
        return logging_ops.Assert(condition, data, summarize=summarize)


def assert_equal(x, y, data=None, summarize=None, message=None, name=None):
    """Assert `x == y` element-wise (with broadcasting).

    Args:
      x, y: tensors (or values) of the same dtype.
      data: tensors/values for the error message (default: TF1's description of x and y).
      summarize: entries printed per tensor; message: prefix; name: name scope.

    Returns:
      The `Assert` op (or a NoOp when `x is y`). Raises InvalidArgumentError now when both
      values are static and the check fails.
    """
    if x is y and isinstance(x, _ops.Tensor):
        from headwater.ops import control_flow_ops

        with _ops.name_scope(name, "assert_equal", [x, y]):
            return control_flow_ops.no_op()
    return _binary_assert("==", "assert_equal", "equal", np.equal, x, y, data, summarize,
                          message, name)


def assert_none_equal(x, y, data=None, summarize=None, message=None, name=None):
    """Assert `x != y` for every element. Args/Returns as `assert_equal`."""
    return _binary_assert("!=", "assert_none_equal", "not_equal", np.not_equal, x, y, data,
                          summarize, message, name)


def assert_less(x, y, data=None, summarize=None, message=None, name=None):
    """Assert `x < y` element-wise. Args/Returns as `assert_equal`."""
    return _binary_assert("<", "assert_less", "less", np.less, x, y, data, summarize, message,
                          name)


def assert_less_equal(x, y, data=None, summarize=None, message=None, name=None):
    """Assert `x <= y` element-wise. Args/Returns as `assert_equal`."""
    return _binary_assert("<=", "assert_less_equal", "less_equal", np.less_equal, x, y, data,
                          summarize, message, name)


def assert_greater(x, y, data=None, summarize=None, message=None, name=None):
    """Assert `x > y` element-wise. Args/Returns as `assert_equal`."""
    return _binary_assert(">", "assert_greater", "greater", np.greater, x, y, data, summarize,
                          message, name)


def assert_greater_equal(x, y, data=None, summarize=None, message=None, name=None):
    """Assert `x >= y` element-wise. Args/Returns as `assert_equal`."""
    return _binary_assert(">=", "assert_greater_equal", "greater_equal", np.greater_equal, x,
                          y, data, summarize, message, name)


def _sign_assert(sym, opname, x, data, summarize, message, name, against):
    message = message or ""
    with _ops.name_scope(name, opname, [x]):
        x = _ops.convert_to_tensor(x, name="x")
        if data is None:
            data = [message, "Condition x %s 0 did not hold element-wise:" % sym,
                    "x (%s) = " % x.name, x]
        zero = _ops.convert_to_tensor(0, dtype=x.dtype)
        return against(x, zero, data)


def assert_positive(x, data=None, summarize=None, message=None, name=None):
    """Assert `x > 0` element-wise. Returns the `Assert` op (see `assert_equal`)."""
    return _sign_assert(">", "assert_positive", x, data, summarize, message, name,
                        lambda x, z, d: assert_less(z, x, data=d, summarize=summarize))


def assert_negative(x, data=None, summarize=None, message=None, name=None):
    """Assert `x < 0` element-wise. Returns the `Assert` op (see `assert_equal`)."""
    return _sign_assert("<", "assert_negative", x, data, summarize, message, name,
                        lambda x, z, d: assert_less(x, z, data=d, summarize=summarize))


def assert_non_negative(x, data=None, summarize=None, message=None, name=None):
    """Assert `x >= 0` element-wise. Returns the `Assert` op (see `assert_equal`)."""
    return _sign_assert(">=", "assert_non_negative", x, data, summarize, message, name,
                        lambda x, z, d: assert_less_equal(z, x, data=d, summarize=summarize))


def assert_non_positive(x, data=None, summarize=None, message=None, name=None):
    """Assert `x <= 0` element-wise. Returns the `Assert` op (see `assert_equal`)."""
    return _sign_assert("<=", "assert_non_positive", x, data, summarize, message, name,
                        lambda x, z, d: assert_less_equal(x, z, data=d, summarize=summarize))


# ---- rank checks ---------------------------------------------------------------------------

_INT32_VECTOR = _ts.TensorShape._from_tuple((None,))


def _rank_assert(x, rank, data, summarize, message, name, opname, static_ok, np_ok, phrase):
    from headwater.ops import control_flow_ops, logging_ops

    message = message or ""
    with _ops.name_scope(name, opname, [x]):
        x = _ops.convert_to_tensor(x, name="x")
        rank_t = rank if isinstance(rank, _ops.Tensor) else None
        if rank_t is not None:
            if not rank_t.dtype.is_integer:
                raise TypeError("%s  %s must be of type %s" % ("", rank_t.name, _dtypes.int32))
            rank_static = _constant_value(rank_t)
        else:
            rank_static = np.asarray(rank)
            if rank_static.dtype.kind not in "iu":
                raise TypeError("rank must be an integer, got %r" % (rank,))
        if rank_static is not None and np.ndim(rank_static) != 0:
            raise ValueError("Rank must be a scalar.")
        xname = x.name
        ndims = x.shape.ndims
        if rank_static is not None:
            rank_static = int(rank_static)
            if ndims is not None:
                if not static_ok(ndims, rank_static):
                    raise ValueError("%s.  Tensor %s must have rank %s%d.  Received rank %d, "
                                     "shape %s" % (message, xname, phrase, rank_static, ndims,
                                                   x.shape))
                return control_flow_ops.no_op(name="static_checks_determined_all_ok")
        if rank_t is None:
            rank_t = _ops.convert_to_tensor(rank_static, dtype=_dtypes.int32, name="rank")

        def check(xv, rv):
            if np.ndim(rv) != 0:
                raise errors.InvalidArgumentError(
                    None, None, "Rank must be a scalar. Received rank: %s" % (rv,))
            return (np.bool_(np_ok(np.ndim(xv), int(rv))),
                    np.asarray(np.shape(xv), dtype=np.int32))

        cond, shape = _predicate([x, rank_t], check,
                                 [(_dtypes.bool, _SCALAR), (_dtypes.int32, _INT32_VECTOR)])
        if data is None:
            data = [message, "Tensor %s must have rank%s" % (xname, " at least"
                                                              if phrase else ""),
                    rank_t, "Received shape: ", shape]
        return logging_ops.Assert(cond, data, summarize=summarize)


def assert_rank(x, rank, data=None, summarize=None, message=None, name=None):
    """Assert that `x` has rank `rank`.

    Raises ValueError while building when the static rank is known and wrong; returns a NoOp
    when it is known and right, else an `Assert` op checking the rank at run time.
    """
    return _rank_assert(x, rank, data, summarize, message, name, "assert_rank",
                        lambda a, r: a == r, lambda a, r: a == r, "")


def assert_rank_at_least(x, rank, data=None, summarize=None, message=None, name=None):
    """Assert that `x` has rank `rank` or higher (see `assert_rank`)."""
    return _rank_assert(x, rank, data, summarize, message, name, "assert_rank_at_least",
                        lambda a, r: a >= r, lambda a, r: a >= r, "at least ")


def assert_rank_in(x, ranks, data=None, summarize=None, message=None, name=None):
    """Assert that the rank of `x` is one of `ranks` (Python ints)."""
    from headwater.ops import control_flow_ops, logging_ops

    message = message or ""
    with _ops.name_scope(name, "assert_rank_in", [x]):
        x = _ops.convert_to_tensor(x, name="x")
        ranks = [int(r) for r in ranks]
        ndims = x.shape.ndims
        if ndims is not None:
            if ndims not in ranks:
                raise ValueError("%s.  Tensor %s must have rank in %s.  Received rank %d, "
                                 "shape %s" % (message, x.name, tuple(ranks), ndims, x.shape))
            return control_flow_ops.no_op(name="static_checks_determined_all_ok")

        def check(xv):
            return (np.bool_(np.ndim(xv) in ranks), np.asarray(np.shape(xv), dtype=np.int32))

        cond, shape = _predicate([x], check,
                                 [(_dtypes.bool, _SCALAR), (_dtypes.int32, _INT32_VECTOR)])
        if data is None:
            data = [message, "Tensor %s must have rank in" % x.name, np.asarray(ranks),
                    "Received shape: ", shape]
        return logging_ops.Assert(cond, data, summarize=summarize)


# ---- dtype / shape checks ------------------------------------------------------------------

def assert_type(tensor, tf_type, message=None, name=None):
    """Raise TypeError now unless `tensor` has dtype `tf_type`; returns a NoOp."""
    from headwater.ops import control_flow_ops

    message = message or ""
    tf_type = _dtypes.as_dtype(tf_type)
    with _ops.name_scope(name, "assert_type", [tensor]):
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        if tensor.dtype != tf_type:
            raise TypeError("%s  %s must be of type %s" % (message, tensor.name, tf_type))
        return control_flow_ops.no_op("statically_determined_correct_type")


def assert_integer(x, message=None, name=None):
    """Raise TypeError now unless `x` has an integer dtype; returns a NoOp."""
    from headwater.ops import control_flow_ops

    message = message or ""
    with _ops.name_scope(name, "assert_integer", [x]):
        x = _ops.convert_to_tensor(x, name="x")
        if not x.dtype.is_integer:
            raise TypeError('%s  Expected "x" to be integer type.  Found: %s of dtype %s'
                            % (message, x.name, x.dtype))
        return control_flow_ops.no_op("statically_determined_was_integer")


def assert_scalar(tensor, name=None, message=None):
    """Raise ValueError now unless `tensor` is statically a scalar; returns `tensor`."""
    with _ops.name_scope(name, "assert_scalar", [tensor]) as scope:
        tensor = _ops.convert_to_tensor(tensor, name=scope)
        shape = tensor.shape
        if shape.ndims != 0:
            raise ValueError("%sExpected scalar shape for %s, saw shape: %s."
                             % (message or "", tensor.name, shape))
        return tensor


def assert_proper_iterable(values):
    """Raise TypeError if `values` is a Tensor, ndarray or string rather than an iterable."""
    unintentional = (_ops.Tensor, np.ndarray, bytes, str)
    if isinstance(values, unintentional) or (hasattr(values, "_as_graph_element")
                                             and not isinstance(values, _ops.Operation)):
        raise TypeError("Expected argument \"values\" to be a \"proper\" iterable.  Found: %s"
                        % type(values))
    if not hasattr(values, "__iter__"):
        raise TypeError("Expected argument \"values\" to be iterable.  Found: %s"
                        % type(values))


def is_numeric_tensor(tensor):
    """True if `tensor` is a Tensor of a numeric (not bool/string) dtype."""
    if not isinstance(tensor, _ops.Tensor):
        return False
    dt = tensor.dtype.base_dtype
    return dt.is_floating or dt.is_integer or dt.is_complex or dt.is_quantized


def _monotonic(x, name, opname, strict):
    with _ops.name_scope(name, opname, [x]):
        x = _ops.convert_to_tensor(x, name="x")
        if not is_numeric_tensor(x):
            raise TypeError("Expected x to be numeric, got %s of dtype %s"
                            % (x.name, x.dtype.name))

        def check(v):
            d = np.diff(np.asarray(v).reshape(-1))
            return np.bool_(np.all(d > 0) if strict else np.all(d >= 0))
        return _predicate([x], check, name="is_strictly_increasing" if strict
                          else "is_non_decreasing")


def is_non_decreasing(x, name=None):
    """Scalar bool tensor: True if `x` (flattened) never decreases (True for < 2 elements)."""
    return _monotonic(x, name, "is_non_decreasing", False)


def is_strictly_increasing(x, name=None):
    """Scalar bool tensor: True if `x` (flattened) strictly increases."""
    return _monotonic(x, name, "is_strictly_increasing", True)


# ---- helper for control_flow_ops.case(exclusive=True) ----------------------------------------

def _at_most_n_true(preds, n, msg):
    from headwater.ops import logging_ops

    k = len(preds)

    def check(*vals):
        v = np.array([bool(x) for x in vals])
        return np.bool_(v.sum() <= n), v

    cond, stacked = _predicate(preds, check, [(_dtypes.bool, _SCALAR),
                                              (_dtypes.bool, _ts.TensorShape._from_tuple((k,)))],
                               name="preds_c")
    names = ", ".join(p.name for p in preds)
    return logging_ops.Assert(cond, ["%s: more than %d conditions (%s) evaluated as True:"
                                     % (msg, n, names), stacked], summarize=k)
