"""Array ops: sources (constant, placeholder), identity, and shape manipulation."""

from __future__ import annotations

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.framework.op_registry import register_op
from headwater.ops.common import (proto_dtype_name, proto_shape_str, same_as_input,
                                  shape_from_tuple, where)

# ---- Const ---------------------------------------------------------------------------------

__all__ = [
    "constant",
    "placeholder",
    "placeholder_with_default",
    "identity",
]


def _const_infer(inputs, attrs):
    v = attrs["value"]
    return [(attrs["dtype"], shape_from_tuple(v.shape))]


def _const_kernel(op, ctx):
    v = op._attrs["value"]

    def const():
        return v
    return const


register_op("Const", _const_infer, _const_kernel, aliases=True)


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """A constant tensor from a Python value or numpy array (TF1's `tf.constant`)."""
    if dtype is not None:
        dtype = _dtypes.as_dtype(dtype)
    tv = type(value)
    if shape is None and (tv is float or tv is int) and (dtype is None or dtype.is_floating):
        # Python scalars in expressions (`x * 2.0`) are the commonest constants: skip the
        # general conversion.
        if dtype is None:
            dtype = _dtypes.float32 if tv is float else None
        if dtype is not None:
            arr = np.array(value, dtype=dtype.as_numpy_dtype)
            arr.flags.writeable = False
            return _ops.apply_op("Const", [], {"value": arr, "dtype": dtype}, name=name,
                                 graph=_ops.get_default_graph())
    if isinstance(value, _ops.Tensor):
        raise TypeError("Expected a Python or numpy value for tf.constant, got a Tensor %s; "
                        "use tf.identity to copy a tensor." % value.name)
    arr = _dtypes.convert_to_numpy(value, dtype)
    if dtype is None:
        dtype = _dtypes.as_dtype(arr.dtype) if arr.dtype != object else _dtypes.string
    if shape is not None:
        shape = tuple(int(d) for d in _ts.as_shape(shape).as_list())
        n = int(np.prod(shape)) if shape else 1
        if verify_shape and arr.shape != shape:
            raise TypeError("Expected Tensor's shape: %s, got %s." % (shape, arr.shape))
        if arr.shape != shape:
            if arr.size == 1:
                arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
            elif arr.size == n:
                arr = arr.reshape(shape)
            else:
                raise TypeError("Eager execution of tf.constant with unsupported shape "
                                "(value has %d elements, shape is %s with %d elements)."
                                % (arr.size, shape, n))
    # Constants are shared by every run; freeze them so no kernel can corrupt one in place.
    arr = np.array(arr, copy=True)
    arr.flags.writeable = False
    return _ops.apply_op("Const", [], {"value": arr, "dtype": dtype}, name=name,
                         graph=_ops.get_default_graph())


# ---- Placeholder ---------------------------------------------------------------------------


def _placeholder_infer(inputs, attrs):
    return [(attrs["dtype"], attrs["shape"])]


def _placeholder_kernel(op, ctx):
    msg = ("You must feed a value for placeholder tensor '%s' with dtype %s%s"
           % (op.name, proto_dtype_name(op._attrs["dtype"]),
              "" if op._attrs["shape"]._dims is None
              else " and shape " + proto_shape_str(op._attrs["shape"])))

    def placeholder():
        raise errors.InvalidArgumentError(None, None, msg)
    return placeholder


register_op("Placeholder", _placeholder_infer, _placeholder_kernel)


def placeholder(dtype, shape=None, name=None):
    """A tensor whose value must be fed to `Session.run` (TF1's `tf.placeholder`)."""
    dtype = _dtypes.as_dtype(dtype)
    return _ops.apply_op("Placeholder", [], {"dtype": dtype, "shape": _ts.as_shape(shape)},
                         name=name, graph=_ops.get_default_graph())


def _pwd_infer(inputs, attrs):
    shape = attrs["shape"]
    if not inputs[0]._shape.is_compatible_with(shape):
        raise ValueError("Shapes %s and %s are incompatible" % (inputs[0]._shape, shape))
    return [(inputs[0]._dtype, shape)]


def _identity_kernel(op, ctx):
    def identity(x):
        return x
    return identity


register_op("PlaceholderWithDefault", _pwd_infer, _identity_kernel, aliases=True)


def placeholder_with_default(input, shape, name=None):
    """A placeholder that passes `input` through when it is not fed."""
    x = _ops.convert_to_tensor(input)
    return _ops.apply_op("PlaceholderWithDefault", [x], {"dtype": x.dtype,
                                                         "shape": _ts.as_shape(shape)},
                         name=name)


# ---- Identity ------------------------------------------------------------------------------

register_op("Identity", same_as_input, _identity_kernel, aliases=True)


def identity(input, name=None):
    """Return a tensor with the same value as `input`."""
    x = _ops.convert_to_tensor(input)
    return _ops.apply_op("Identity", [x], {"T": x.dtype}, name=name)


_ = where  # re-exported for op modules that format locations
