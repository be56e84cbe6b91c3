"""Math ops with numpy broadcasting and TF1 dtype rules (no silent promotion)."""

from __future__ import annotations

import numpy as np

from headwater.framework import ops as _ops
from headwater.framework.op_registry import register_op
from headwater.ops.common import binary_operands, broadcast_shapes, check_same_dtype

__all__ = [
    "add",
]


def _binary_infer_for(op_type):
    def infer(inputs, attrs):
        x, y = inputs
        check_same_dtype(op_type, x, y)
        return [(x._dtype, broadcast_shapes(op_type, x, y))]
    return infer


def _ufunc_kernel(ufunc):
    def kernel(op, ctx):
        return ufunc
    return kernel


register_op("AddV2", _binary_infer_for("AddV2"), _ufunc_kernel(np.add), default_name="Add")


def add(x, y, name=None):
    """x + y elementwise with broadcasting."""
    x, y = binary_operands(x, y)
    return _ops.apply_op("AddV2", [x, y], {"T": x._dtype}, name=name)


def _binary_operator(fn, opname):
    def op(x, y):
        with _ops.name_scope(None, opname, [x, y]) as name:
            return fn(x, y, name=name)

    def rop(y, x):
        with _ops.name_scope(None, opname, [x, y]) as name:
            return fn(x, y, name=name)
    return op, rop


_ops.Tensor._override_operator("__add__", _binary_operator(add, "add")[0])
_ops.Tensor._override_operator("__radd__", _binary_operator(add, "add")[1])
