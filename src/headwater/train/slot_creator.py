"""Slot variables: per-variable optimizer state (Adam's m and v, Momentum's accumulator, ...).

A slot of variable `W` made by optimizer "Adam" is created by `get_variable` inside
`variable_scope(None, default_name="W/Adam")`, exactly as TF1 does, so names follow TF1:
"W/Adam", then "W/Adam_1" for the second slot, prefixed by any enclosing variable scope.
Slots are non-trainable and live in GLOBAL_VARIABLES (so `global_variables_initializer()`
initializes them).
"""

from __future__ import annotations

from headwater.framework import ops as _ops
from headwater.ops import array_ops, init_ops
from headwater.ops import variable_scope as _vs


def _create_slot_var(primary, val, scope, validate_shape, shape, dtype):
    shape = shape if callable(val) else None
    scope_obj = _vs.get_variable_scope()
    # Slots are never partitioned, whatever the enclosing scope says.
    saved_partitioner = scope_obj.partitioner
    scope_obj.set_partitioner(None)
    try:
        slot = _vs.get_variable(scope, initializer=val, trainable=False, shape=shape,
                                dtype=dtype, validate_shape=validate_shape)
    finally:
        scope_obj.set_partitioner(saved_partitioner)
    return slot


def create_slot(primary, val, name, colocate_with_primary=True):
    """A slot of `primary` initialized to the tensor `val`.

    Args:
      primary: the variable the slot belongs to.
      val: a Tensor giving the initial value.
      name: the slot's name suffix (usually the optimizer's name).
    Returns:
      The slot `Variable`, named "<primary op name>/<name>" (uniquified).
    """
    validate_shape = val.get_shape().is_fully_defined()
    with _vs.variable_scope(None, primary.op.name + "/" + name):
        return _create_slot_var(primary, val, "", validate_shape, None, None)


def create_slot_with_initializer(primary, initializer, shape, dtype, name,
                                 colocate_with_primary=True):
    """A slot of `primary` of `shape` and `dtype`, initialized by `initializer`."""
    validate_shape = shape.is_fully_defined()
    with _vs.variable_scope(None, primary.op.name + "/" + name):
        return _create_slot_var(primary, initializer, "", validate_shape, shape, dtype)


def create_zeros_slot(primary, name, dtype=None, colocate_with_primary=True):
    """A slot of `primary` initialized to zeros (of `primary`'s shape; dtype defaults to the
    primary's)."""
    if dtype is None:
        dtype = primary.dtype
    dtype = dtype.base_dtype if hasattr(dtype, "base_dtype") else dtype
    slot_shape = primary.get_shape()
    if slot_shape.is_fully_defined():
        return create_slot_with_initializer(primary, init_ops.zeros_initializer(), slot_shape,
                                            dtype, name, colocate_with_primary)
    if hasattr(primary, "initialized_value"):
        dyn_shape = array_ops.shape(primary.initialized_value())
    else:
        dyn_shape = array_ops.shape(_ops.convert_to_tensor(primary))
    val = array_ops.zeros(dyn_shape, dtype=dtype)
    return create_slot(primary, val, name, colocate_with_primary)
