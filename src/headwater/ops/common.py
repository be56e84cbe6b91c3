"""Shared pieces for op definitions: shape/dtype inference helpers and naming."""

from __future__ import annotations

from headwater.framework import dtypes as _dtypes
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts

TensorShape = _ts.TensorShape
shape_from_tuple = TensorShape._from_tuple
UNKNOWN_SHAPE = TensorShape(None)
SCALAR_SHAPE = TensorShape(())


def proto_dtype_name(dtype):
    """TF's proto spelling (float, double, half ...) used in runtime error messages."""
    return {"float32": "float", "float64": "double", "float16": "half"}.get(dtype.name,
                                                                              dtype.name)


def proto_shape_str(shape):
    """'[?,784]' as TF1 runtime errors print shapes."""
    dims = shape._dims
    if dims is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def where(op):
    loc = op._location
    return " (defined at %s:%d)" % loc if loc else ""


def same_as_input(inputs, attrs):
    """Output has the dtype and shape of input 0 (unary elementwise ops)."""
    x = inputs[0]
    return [(x._dtype, x._shape)]


def check_same_dtype(op_type, x, y):
    if x._dtype != y._dtype:
        raise TypeError(
            "Input 'y' of '%s' Op has type %s that does not match type %s of argument 'x'."
            % (op_type, y._dtype.name, x._dtype.name))


def broadcast_shapes(op_type, x, y):
    try:
        return _ts.broadcast_static_shape(x._shape, y._shape)
    except ValueError:
        raise ValueError("Dimensions must be equal, but are incompatible: shapes %s and %s "
                         "for '%s' (op: '%s') cannot be broadcast together (inputs %s and %s)."
                         % (x._shape, y._shape, op_type, op_type, x.name, y.name)) from None


def to_tensor(x, dtype=None, name=None, preferred_dtype=None):
    return _ops.convert_to_tensor(x, dtype=dtype, name=name, preferred_dtype=preferred_dtype)


def binary_operands(x, y):
    """Convert a binary op's operands TF1-style: a Python value adopts the tensor's dtype."""
    if isinstance(x, _ops.Tensor) or hasattr(x, "_as_graph_element"):
        x = to_tensor(x)
        y = to_tensor(y, dtype_hint_for(x, y))
    elif isinstance(y, _ops.Tensor) or hasattr(y, "_as_graph_element"):
        y = to_tensor(y)
        x = to_tensor(x, dtype_hint_for(y, x))
    else:
        x = to_tensor(x)
        y = to_tensor(y, dtype_hint_for(x, y))
    return x, y


def dtype_hint_for(t, other):
    """The dtype a non-tensor operand is converted to: the tensor's (TF1 has no promotion)."""
    if isinstance(other, _ops.Tensor) or hasattr(other, "_as_graph_element"):
        return None
    return t._dtype


def as_dtype(d):
    return _dtypes.as_dtype(d)
