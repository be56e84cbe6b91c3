"""Array ops: sources, shapes, reshaping, slicing, joining, gathering and padding.

Every op type is defined once here: static inference (dtype + possibly partial shape, raising
TF1-style ValueError/TypeError at build time) and a numpy kernel factory. Kernels precompute
what they can from constant inputs at bind time, so the per-run call is usually one numpy
call. Kernels that return views of their inputs (reshape, slices, transposes, ...) are
registered with ``aliases=True`` so fetched results are copies the user owns.
"""

from __future__ import annotations

import builtins as _builtins
import re

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.framework.op_registry import get_op_def, register_op
from headwater.ops.common import (proto_dtype_name, proto_shape_str, same_as_input,
                                  shape_from_tuple)

# This module defines tf.range, tf.slice, tf.shape, ...: keep the builtins reachable.
_pyrange = _builtins.range
_pyslice = _builtins.slice
_pymin = _builtins.min
_pymax = _builtins.max
_pyabs = _builtins.abs

__all__ = [
    "constant", "placeholder", "placeholder_with_default", "identity",
    "newaxis",
    # sources / fills
    "zeros", "ones", "fill", "zeros_like", "ones_like", "range", "linspace", "lin_space",
    "eye", "one_hot",
    # shapes
    "shape", "shape_n", "size", "rank",
    # reshaping / slicing / joining
    "reshape", "transpose", "expand_dims", "squeeze", "concat", "stack", "parallel_stack",
    "unstack", "split", "slice", "strided_slice", "gather", "gather_nd", "batch_gather",
    "tile", "pad", "reverse", "reverse_v2", "reverse_sequence", "stop_gradient",
    "boolean_mask", "sequence_mask", "broadcast_to", "broadcast_static_shape",
    "broadcast_dynamic_shape", "matrix_diag", "matrix_diag_part", "matrix_set_diag",
    "matrix_band_part", "diag", "diag_part", "invert_permutation", "unique", "setdiff1d",
    "meshgrid", "scatter_nd", "identity_n",
]

newaxis = None

_Tensor = _ops.Tensor
_int32 = _dtypes.int32
_int64 = _dtypes.int64
_INDEX = (_dtypes.int32, _dtypes.int64)
_VALID_OP_NAME = _ops._VALID_OP_NAME


# ---- naming, errors, constants ----------------------------------------------------------------

def _apply(op_type, inputs, attrs, name=None, graph=None):
    """Create `op_type` with its final name resolved first, so inference errors can name it
    (TF1 reserves the name before shape inference too). Returns the Operation."""
    g = graph if graph is not None else (inputs[0]._op._graph if inputs
                                         else _ops.get_default_graph())
    if name is None:
        name = g.unique_name(get_op_def(op_type).default_name)
    elif name[-1:] == "/":
        name = name[:-1]
    else:
        if not _VALID_OP_NAME.match(name):
            raise ValueError("'%s' is not a valid node name" % name)
        name = g.unique_name(name)
    attrs["_name"] = name
    return g.create_op(op_type, inputs, attrs, name + "/")


class _op_scope:  # noqa: N801 - used like a function
    """`with _op_scope(g, name, default_name) as scope:` -- TF1's name_scope for an op wrapper
    on graph `g`, making `g` the default graph only when it is not already (cheap path)."""

    __slots__ = ("_g", "_name", "_dg", "_ns")

    def __init__(self, g, name, default_name=None, values=None):
        self._g = g
        self._name = default_name if name is None else name
        self._dg = None

    def __enter__(self):
        g = self._g
        if g is not _ops.get_default_graph():
            self._dg = g.as_default()
            self._dg.__enter__()
        self._ns = g.name_scope(self._name)
        return self._ns.__enter__()

    def __exit__(self, *exc):
        self._ns.__exit__(*exc)
        if self._dg is not None:
            self._dg.__exit__(*exc)
        return False


def _apply1(op_type, inputs, attrs, name=None, graph=None):
    return _apply(op_type, inputs, attrs, name, graph)._outputs[0]


def _label(op_type, attrs):
    return "'%s' (op: '%s')" % (attrs.get("_name", op_type), op_type)


def _shapes_str(inputs):
    return ", ".join([proto_shape_str(t._shape) for t in inputs])


def _err(op_type, attrs, inputs, msg, cls=ValueError):
    """A TF1 shape-function style error: '<msg> for 'name' (op: 'Type') with input shapes:'."""
    return cls("%s for %s with input shapes: %s." % (msg, _label(op_type, attrs),
                                                    _shapes_str(inputs)))


def _check_index_dtype(op_type, param, t, allowed=_INDEX):
    if t._dtype.base_dtype not in allowed:
        raise TypeError("Value passed to parameter '%s' has DataType %s not in list of allowed "
                        "values: %s (op %s)" % (param, t._dtype.name,
                                                ", ".join(a.name for a in allowed), op_type))


def _check_same_dtypes(op_type, param, tensors):
    dts = [t._dtype.base_dtype for t in tensors]
    if any(d != dts[0] for d in dts):
        raise TypeError("Tensors in list passed to '%s' of '%s' Op have types [%s] that don't "
                        "all match." % (param, op_type, ", ".join(d.name for d in dts)))


def _is_tensor_like(v):
    return type(v) is _Tensor or (hasattr(v, "_as_graph_element")
                                  and not isinstance(v, _ops.Operation))


def _to_tensor(v, dtype=None, name=None, preferred=None):
    if type(v) is _Tensor and dtype is None:
        return v
    return _ops.convert_to_tensor(v, dtype=dtype, name=name, preferred_dtype=preferred)


_INT32_MIN, _INT32_MAX = -2147483648, 2147483647
_np_int32 = np.dtype(np.int32)


def _int_const(values, name, graph=None, dtype=None):
    """A frozen int32 (int64 if needed) Const without the general conversion machinery."""
    tv = type(values)
    if dtype is None and (tv is list or tv is tuple) and len(values) <= 8 and all(
            type(v) is int for v in values):
        # The common case (shapes, axes, slice bounds): cheap pure-Python range check.
        if not values or (_INT32_MIN <= _pymin(values) and _pymax(values) <= _INT32_MAX):
            arr = np.array(values, _np_int32)
            dtype = _int32
        else:
            arr = np.array(values, np.int64)
            dtype = _int64
    elif dtype is None and tv is int and _INT32_MIN <= values <= _INT32_MAX:
        arr = np.array(values, _np_int32)
        dtype = _int32
    else:
        arr = np.asarray(values)
        if dtype is None:
            if arr.dtype.kind not in "iu" and arr.size:
                raise TypeError("Expected int32, got %r of type '%s' instead."
                                % (values, type(values).__name__))
            if arr.size and (arr.max() > _INT32_MAX or arr.min() < _INT32_MIN):
                dtype = _int64
            else:
                dtype = _int32
        arr = arr.astype(dtype.as_numpy_dtype)
    arr.flags.writeable = False
    g = graph if graph is not None else _ops.get_default_graph()
    return _apply1("Const", [], {"value": arr, "dtype": dtype}, name, graph=g)


def _normalize_index_value(v):
    """Python shape-like arguments: TensorShape/Dimension -> ints (as TF1 converts them)."""
    if isinstance(v, _ts.TensorShape):
        if not v.is_fully_defined():
            raise ValueError("Cannot convert a partially known TensorShape to a Tensor: %s" % v)
        return list(v._dims)
    if isinstance(v, _ts.Dimension):
        if v.value is None:
            raise ValueError("Cannot convert an unknown Dimension to a Tensor: %s" % v)
        return v.value
    if type(v) is list or type(v) is tuple:
        if any(isinstance(e, _ts.Dimension) for e in v):
            return [_normalize_index_value(e) if isinstance(e, _ts.Dimension) else e
                    for e in v]
    return v


def _index_tensor(v, name, graph=None):
    """Convert an index-like argument (shape, axis, perm, ...) to an int tensor."""
    tv = type(v)
    if tv is _Tensor:
        return v
    if (tv is list or tv is tuple) and len(v) <= 8 and all(type(e) is int for e in v):
        return _int_const(v, name, graph)
    if _is_tensor_like(v):
        return _ops.convert_to_tensor(v)
    v = _normalize_index_value(v)
    if type(v) in (list, tuple) and _scan_for_tensors(v) == 2:
        return _pack(v, 0, name, None)
    if isinstance(v, (int, np.integer, list, tuple, np.ndarray)):
        try:
            return _int_const(v, name, graph)
        except (TypeError, ValueError):
            pass
    return _ops.convert_to_tensor(v, name=name, preferred_dtype=_int32)


# ---- static values of tensors ---------------------------------------------------------------

def constant_value(t):
    """The numpy value of `t` if it can be computed at graph-build time, else None.

    Follows Const, Identity/StopGradient, Shape/Size/Rank of static shapes and Pack/ConcatV2/
    StridedSlice of such values (the cases TF1's `tensor_util.constant_value` handles). The
    returned array may be shared: do not modify it.
    """
    op = t._op
    ty = op._type
    if ty == "Const":
        return op._attrs["value"]
    if ty == "Identity" or ty == "StopGradient":
        return constant_value(op._inputs[0])
    if ty == "Shape" or ty == "ShapeN":
        d = op._inputs[t._value_index]._shape._dims
        if d is not None and None not in d:
            return np.array(d, dtype=op._attrs["out_type"].as_numpy_dtype)
        return None
    if ty == "Size":
        n = op._inputs[0]._shape.num_elements()
        return None if n is None else np.array(n, op._attrs["out_type"].as_numpy_dtype)
    if ty == "Rank":
        d = op._inputs[0]._shape._dims
        return None if d is None else np.array(len(d), np.int32)
    if ty == "Pack":
        vals = [constant_value(x) for x in op._inputs]
        if any(v is None for v in vals):
            return None
        return np.stack(vals, op._attrs["axis"])
    if ty == "ConcatV2":
        vals = [constant_value(x) for x in op._inputs]
        if any(v is None for v in vals):
            return None
        return np.concatenate(vals[:-1], int(vals[-1]))
    if ty == "StridedSlice":
        vals = [constant_value(x) for x in op._inputs]
        if any(v is None for v in vals):
            return None
        try:
            return np.asarray(vals[0][_ss_key(vals[1], vals[2], vals[3], op._attrs)])
        except (IndexError, ValueError, errors.OpError):
            return None
    return None


def _const_scalar(t):
    """A Python int for a scalar int tensor known at build time (incl. static dims picked out
    of a Shape), else None."""
    op = t._op
    ty = op._type
    if ty == "Const":
        v = op._attrs["value"]
        return int(v) if v.ndim == 0 and v.dtype.kind in "iu" else None
    if ty == "StridedSlice" and op._inputs[0]._op._type == "Shape":
        a = op._attrs
        if a["shrink_axis_mask"] == 1 and not (a["new_axis_mask"] or a["ellipsis_mask"]):
            b = constant_value(op._inputs[1])
            d = op._inputs[0]._op._inputs[0]._shape._dims
            if b is not None and b.shape == (1,) and d is not None:
                i = int(b[0])
                if -len(d) <= i < len(d):
                    return d[i]
        return None
    v = constant_value(t)
    if v is not None and v.ndim == 0 and v.dtype.kind in "iu":
        return int(v)
    return None


def _const_list(t):
    """The values of a 1-D int tensor known at build time as a list of int-or-None (None:
    that element is unknown); None if even the length is unknown.

    Like TF1's `constant_value_as_shape`, dims of a partially known `tf.shape(x)` and
    elements of `tf.stack([...])` are tracked individually.
    """
    op = t._op
    ty = op._type
    if ty == "Const":
        v = op._attrs["value"]
        if v.ndim == 1:
            return [int(e) for e in v.tolist()]
        return None
    if ty == "Shape":
        d = op._inputs[0]._shape._dims
        return None if d is None else list(d)
    if ty == "Identity" or ty == "StopGradient":
        return _const_list(op._inputs[0])
    if ty == "Pack" and op._attrs["axis"] == 0 and all(
            x._shape._dims == () for x in op._inputs):
        return [_const_scalar(x) for x in op._inputs]
    if ty == "ConcatV2":
        parts = [_const_list(x) for x in op._inputs[:-1]]
        if all(p is not None for p in parts):
            out = []
            for p in parts:
                out.extend(p)
            return out
    if ty == "StridedSlice" and op._inputs[0]._op._type == "Shape":
        a = op._attrs
        d = op._inputs[0]._op._inputs[0]._shape._dims
        if d is not None and not (a["shrink_axis_mask"] or a["new_axis_mask"]
                                  or a["ellipsis_mask"]):
            vals = [constant_value(x) for x in op._inputs[1:]]
            if all(v is not None for v in vals) and vals[0].shape == (1,):
                try:
                    return list(d[_ss_key(vals[0], vals[1], vals[2], a)[0]])
                except (IndexError, ValueError, errors.OpError):
                    pass
    v = constant_value(t)
    if v is not None:
        return [int(e) for e in v.tolist()] if v.ndim == 1 else None
    d = t._shape._dims
    if d is not None and len(d) == 1 and d[0] is not None:
        return [None] * d[0]
    return None


def _shape_from_list(lst, allow_minus_one=False):
    """A TensorShape from `_const_list` output (-1 and None become unknown dims)."""
    if lst is None:
        return _ts.unknown_shape()
    return shape_from_tuple(tuple(None if (d is None or d < 0) else d for d in lst))


# ---- autopacking: lists containing tensors convert to a Pack op -------------------------------

_PLAIN_TYPES = frozenset([int, float, bool, str, bytes, complex, np.ndarray, type(None)])


def _scan_for_tensors(v):
    """0: plain data, 1: contains Dimensions only, 2: contains tensors."""
    r = 0
    for x in v:
        tx = type(x)
        if tx in _PLAIN_TYPES:
            continue
        if tx is list or tx is tuple:
            s = _scan_for_tensors(x)
            if s == 2:
                return 2
            r = _pymax(r, s)
        elif tx is _Tensor:
            return 2
        elif isinstance(x, _ts.Dimension):
            r = 1
        elif isinstance(x, np.generic):
            continue
        elif hasattr(x, "_as_graph_element") and not isinstance(x, _ops.Operation):
            return 2
    return r


def _first_tensor_dtype(v):
    for x in v:
        if type(x) is list or type(x) is tuple:
            d = _first_tensor_dtype(x)
            if d is not None:
                return d
        elif _is_tensor_like(x):
            return _ops.convert_to_tensor(x)._dtype.base_dtype
    return None


def _dims_to_ints(v):
    if isinstance(v, _ts.Dimension):
        return v.value
    if type(v) is list or type(v) is tuple:
        return [_dims_to_ints(x) for x in v]
    return v


def _pack(values, axis, name, dtype):
    """Pack `values` (tensors, Python values and nested lists of them) along `axis`, converting
    non-tensors to the dtype of the tensors (TF1's autopacking)."""
    if dtype is None:
        dtype = _first_tensor_dtype(values)
    g = _ops._get_graph_from_inputs([v for v in values if _is_tensor_like(v)])
    with _op_scope(g, name) as scope:
        elems = []
        for i, v in enumerate(values):
            if _is_tensor_like(v):
                t = _ops.convert_to_tensor(v)
                if dtype is not None and t._dtype.base_dtype != dtype:
                    raise TypeError("Cannot convert a list containing a tensor of dtype %s to "
                                    "%s (Tensor is: %r)" % (t._dtype.name, dtype.name, t))
            elif (type(v) is list or type(v) is tuple) and _scan_for_tensors(v) == 2:
                t = _pack(v, 0, str(i), dtype)
            else:
                t = _ops.convert_to_tensor(_dims_to_ints(v), dtype=dtype, name=str(i))
            elems.append(t)
        return _apply1("Pack", elems, {"axis": axis, "N": len(elems)}, scope)


def _autopacking_conversion(value, dtype=None, name=None):
    s = _scan_for_tensors(value)
    if s == 0:
        return NotImplemented
    if dtype is not None:
        dtype = _dtypes.as_dtype(dtype).base_dtype
    if s == 1:
        return constant(_dims_to_ints(value), dtype=dtype, name=name or "Const")
    return _pack(value, 0, name or "packed", dtype)


def _tensor_shape_conversion(value, dtype=None, name=None):
    return _int_const(_normalize_index_value(value), name or "Const", dtype=(
        _dtypes.as_dtype(dtype) if dtype is not None else None))


_ops.register_tensor_conversion_function((list, tuple), _autopacking_conversion, 99)
_ops.register_tensor_conversion_function((_ts.TensorShape, _ts.Dimension),
                                         _tensor_shape_conversion, 100)


# ---- Const ---------------------------------------------------------------------------------



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




# ---- Fill, zeros, ones, *_like ----------------------------------------------------------------

def _fill_infer(inputs, attrs):
    dims, value = inputs
    _check_index_dtype("Fill", "dims", dims)
    if value._shape._dims is not None and len(value._shape._dims) != 0:
        raise _err("Fill", attrs, inputs, "Shape must be rank 0 but is rank %d"
                   % len(value._shape._dims))
    if dims._shape._dims is not None and len(dims._shape._dims) != 1:
        raise _err("Fill", attrs, inputs, "Shape must be rank 1 but is rank %d"
                   % len(dims._shape._dims))
    lst = _const_list(dims)
    if lst is not None:
        for d in lst:
            if d is not None and d < 0:
                raise _err("Fill", attrs, inputs, "Fill dimensions must be >= 0, got %s"
                           % [("?" if e is None else e) for e in lst])
    return [(value._dtype, _shape_from_list(lst))]


def _fill_kernel(op, ctx):
    np_dt = op._outputs[0]._dtype.as_numpy_dtype
    dims_c = constant_value(op._inputs[0])
    if dims_c is not None:
        dims_t = tuple(int(d) for d in dims_c)

        def fill(dims, value):
            return np.full(dims_t, value, dtype=np_dt)
        return fill

    def fill_dyn(dims, value):
        d = tuple(int(e) for e in np.asarray(dims).reshape(-1))
        if any(e < 0 for e in d):
            raise errors.InvalidArgumentError(None, None, "dims must be non-negative, got %s"
                                              % list(d))
        return np.full(d, value, dtype=np_dt)
    return fill_dyn


register_op("Fill", _fill_infer, _fill_kernel)


def fill(dims, value, name=None):
    """A tensor of shape `dims` filled with the scalar `value` (op type Fill).

    Args:
      dims: 1-D int32/int64 tensor or list: the output shape.
      value: scalar: the fill value (its dtype is the output dtype).
    Returns:
      A Tensor of dtype `value.dtype`.
    """
    if type(dims) is _Tensor and type(value) is _Tensor:
        return _apply1("Fill", [dims, value], {}, name)
    g = _ops._get_graph_from_inputs([dims, value])
    with _op_scope(g, name, "Fill") as scope:
        d = _index_tensor(dims, "dims")
        v = _to_tensor(value, name="value")
        return _apply1("Fill", [d, v], {}, scope)


def _zero_for(dtype):
    if dtype == _dtypes.string:
        return b""
    if dtype == _dtypes.bool:
        return False
    return 0


def _const_fill(value, dims, dtype, name, g):
    arr = np.full(dims, value, dtype=dtype.as_numpy_dtype)
    arr.flags.writeable = False
    return _apply1("Const", [], {"value": arr, "dtype": dtype}, name, graph=g)


def _zeros_or_ones(shape, dtype, name, value, default_name):
    dtype = _dtypes.as_dtype(dtype).base_dtype
    g = _ops._get_graph_from_inputs([shape]) if _is_tensor_like(shape) \
        else _ops.get_default_graph()
    with _op_scope(g, name, default_name) as scope:
        if not _is_tensor_like(shape):
            s = _normalize_index_value(shape)
            if isinstance(s, (int, np.integer)):
                s = [int(s)]
            elif isinstance(s, np.ndarray) and s.ndim == 1 and s.dtype.kind in "iu":
                s = s.tolist()
            if type(s) in (list, tuple) and _scan_for_tensors(s) == 0:
                dims = tuple(int(d) for d in s)
                if any(d < 0 for d in dims):
                    raise ValueError("Cannot create a tensor with negative dimensions %s"
                                     % list(dims))
                n = 1
                for d in dims:
                    n *= d
                # Small results become Consts (as TF1): no work at run time.
                if n < 1000:
                    return _const_fill(value, dims, dtype, scope, g)
                shape_t = _int_const(list(dims), "shape_as_tensor", g)
            else:
                shape_t = _index_tensor(s, "shape_as_tensor")
        else:
            shape_t = _ops.convert_to_tensor(shape)
            if shape_t._shape._dims == ():
                shape_t = reshape(shape_t, [-1])
        v = _const_fill(value, (), dtype, "Const", g)
        return _apply1("Fill", [shape_t, v], {}, scope)


def zeros(shape, dtype=_dtypes.float32, name=None):
    """A tensor of zeros (False / b"" for bool / string) of shape `shape`.

    Args:
      shape: list of ints, TensorShape, or 1-D int32 tensor.
      dtype: element type (default float32).
    Returns:
      A Tensor (a Const when the shape is known and small, else a Fill op).
    """
    dt = _dtypes.as_dtype(dtype)
    return _zeros_or_ones(shape, dt, name, _zero_for(dt), "zeros")


def ones(shape, dtype=_dtypes.float32, name=None):
    """A tensor of ones (True for bool) of shape `shape`; see `zeros`."""
    dt = _dtypes.as_dtype(dtype)
    if dt == _dtypes.string:
        raise TypeError("Expected string, got 1 of type 'int' instead.")
    return _zeros_or_ones(shape, dt, name, True if dt == _dtypes.bool else 1, "ones")


register_op("ZerosLike", same_as_input, lambda op, ctx: np.zeros_like)
register_op("OnesLike", same_as_input, lambda op, ctx: np.ones_like)


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    """A tensor of zeros with the shape of `tensor` (and its dtype unless `dtype` is given).

    With a fully known static shape (and `optimize`) the result is a Const, as in TF1.
    """
    g = _ops._get_graph_from_inputs([tensor])
    with _op_scope(g, name, "zeros_like", [tensor]) as scope:
        x = _to_tensor(tensor, name="tensor")
        out_dt = _dtypes.as_dtype(dtype).base_dtype if dtype is not None \
            else x._dtype.base_dtype
        if optimize and x._shape.is_fully_defined():
            return zeros(x._shape, dtype=out_dt, name=scope)
        if out_dt != x._dtype.base_dtype:
            return zeros(shape(x), dtype=out_dt, name=scope)
        return _apply1("ZerosLike", [x], {"T": out_dt}, scope)


def ones_like(tensor, dtype=None, name=None, optimize=True):
    """A tensor of ones with the shape of `tensor` (and its dtype unless `dtype` is given)."""
    g = _ops._get_graph_from_inputs([tensor])
    with _op_scope(g, name, "ones_like", [tensor]) as scope:
        x = _to_tensor(tensor, name="tensor")
        out_dt = _dtypes.as_dtype(dtype).base_dtype if dtype is not None \
            else x._dtype.base_dtype
        if optimize and x._shape.is_fully_defined():
            return ones(x._shape, dtype=out_dt, name=scope)
        if out_dt != x._dtype.base_dtype:
            ret = ones(shape(x), dtype=out_dt, name=scope)
            ret.set_shape(x._shape)
            return ret
        return _apply1("OnesLike", [x], {"T": out_dt}, scope)


# ---- Range, LinSpace --------------------------------------------------------------------------

_RANGE_HIERARCHY = [_dtypes.int32, _dtypes.int64, _dtypes.float32, _dtypes.float64]


def _range_size(start, limit, delta, np_dt):
    if delta == 0:
        raise ValueError("Requires delta != 0: %s" % delta)
    if delta > 0 and start > limit:
        raise ValueError("Requires start <= limit when delta > 0: %s/%s" % (start, limit))
    if delta < 0 and start < limit:
        raise ValueError("Requires start >= limit when delta < 0: %s/%s" % (start, limit))
    if np.dtype(np_dt).kind in "iu":
        return (_pyabs(int(limit) - int(start)) + _pyabs(int(delta)) - 1) // _pyabs(int(delta))
    # TF computes the count in the element type.
    q = (np_dt(limit) - np_dt(start)) / np_dt(delta)
    return int(np.ceil(np.abs(q)))


def _range_values(start, limit, delta, np_dt):
    n = _range_size(start, limit, delta, np_dt)
    if np.dtype(np_dt).kind in "iu":
        return np.arange(int(start), int(start) + n * int(delta), int(delta),
                         dtype=np_dt)[:n]
    # TF's kernel accumulates `val += delta` in the element type; a sequential add.accumulate
    # reproduces its rounding exactly (0.1-steps print as 0.70000005 like TF).
    steps = np.full(n, delta, dtype=np_dt)
    if n:
        steps[0] = start
    return np.add.accumulate(steps, dtype=np_dt)


def _range_infer(inputs, attrs):
    for t in inputs:
        if t._shape._dims is not None and len(t._shape._dims) != 0:
            raise _err("Range", attrs, inputs, "Shape must be rank 0 but is rank %d"
                       % len(t._shape._dims))
    dt = inputs[0]._dtype.base_dtype
    if dt not in _RANGE_HIERARCHY or any(t._dtype.base_dtype != dt for t in inputs):
        raise TypeError("Input types of 'Range' Op must all be one of int32, int64, float32, "
                        "float64 and match; got %s" % ", ".join(t._dtype.name for t in inputs))
    vals = [constant_value(t) for t in inputs]
    if all(v is not None for v in vals):
        try:
            n = _range_size(vals[0][()], vals[1][()], vals[2][()], dt.as_numpy_dtype)
        except ValueError as e:
            raise _err("Range", attrs, inputs, str(e)) from None
        return [(dt, shape_from_tuple((n,)))]
    return [(dt, shape_from_tuple((None,)))]


def _range_kernel(op, ctx):
    np_dt = op._outputs[0]._dtype.as_numpy_dtype

    def range_(start, limit, delta):
        try:
            return _range_values(start[()], limit[()], delta[()], np_dt)
        except ValueError as e:
            raise errors.InvalidArgumentError(None, None, str(e)) from None
    return range_


register_op("Range", _range_infer, _range_kernel)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001 - TF1 name
    """A 1-D tensor [start, start + delta, ...) up to but excluding `limit` (op type Range).

    Like Python's range, `range(n)` counts from 0. Without `dtype` the type is inferred from the
    arguments: all ints -> int32, any float -> float32 (int64/float64 tensors promote likewise).
    """
    if limit is None:
        start, limit = 0, start
    args = [start, limit, delta]
    g = _ops._get_graph_from_inputs(args)
    with _op_scope(g, name, "Range", args) as scope:
        if dtype is not None:
            dt = _dtypes.as_dtype(dtype).base_dtype
        else:
            dts = []
            for a in args:
                if _is_tensor_like(a):
                    dts.append(_ops.convert_to_tensor(a)._dtype.base_dtype)
                else:
                    dts.append(_dtypes.infer_dtype(a))
            for d in dts:
                if d not in _RANGE_HIERARCHY:
                    raise TypeError("tf.range arguments must be int32, int64, float32 or "
                                    "float64, got %s" % d.name)
            dt = _pymax(dts, key=_RANGE_HIERARCHY.index)
        ts = []
        for a, nm in zip(args, ("start", "limit", "delta")):
            if _is_tensor_like(a):
                t = _ops.convert_to_tensor(a)
                if t._dtype.base_dtype != dt:
                    from headwater.ops import math_ops

                    t = math_ops.cast(t, dt)
            else:
                t = _ops.convert_to_tensor(a, dtype=dt, name=nm)
            ts.append(t)
        return _apply1("Range", ts, {"Tidx": dt}, scope)


def _linspace_infer(inputs, attrs):
    start, stop, num = inputs
    dt = start._dtype.base_dtype
    if dt not in (_dtypes.float32, _dtypes.float64, _dtypes.bfloat16, _dtypes.float16):
        raise TypeError("Value passed to parameter 'start' has DataType %s not in list of "
                        "allowed values: bfloat16, float16, float32, float64" % dt.name)
    if stop._dtype.base_dtype != dt:
        raise TypeError("Input 'stop' of 'LinSpace' Op has type %s that does not match type "
                        "%s of argument 'start'." % (stop._dtype.name, dt.name))
    _check_index_dtype("LinSpace", "num", num)
    for t in inputs:
        if t._shape._dims is not None and len(t._shape._dims) != 0:
            raise _err("LinSpace", attrs, inputs, "Shape must be rank 0 but is rank %d"
                       % len(t._shape._dims))
    n = _const_scalar(num)
    if n is not None and n <= 0:
        raise _err("LinSpace", attrs, inputs, "Requires num > 0: %d" % n)
    return [(dt, shape_from_tuple((n,)))]


def _linspace_kernel(op, ctx):
    np_dt = op._outputs[0]._dtype.as_numpy_dtype

    def linspace_(start, stop, num):
        n = int(num)
        if n <= 0:
            raise errors.InvalidArgumentError(None, None, "Requires num > 0: %d" % n)
        start = np_dt(start)
        if n == 1:
            return np.array([start], dtype=np_dt)
        step = (np_dt(stop) - start) / np_dt(n - 1)
        return (start + step * np.arange(n, dtype=np_dt)).astype(np_dt, copy=False)
    return linspace_


register_op("LinSpace", _linspace_infer, _linspace_kernel)


def linspace(start, stop, num, name=None):
    """`num` evenly spaced values from `start` to `stop` inclusive (op type LinSpace)."""
    args = [start, stop, num]
    if all(type(a) is _Tensor for a in args):
        return _apply1("LinSpace", args, {}, name)
    g = _ops._get_graph_from_inputs(args)
    with _op_scope(g, name, "LinSpace", args) as scope:
        s = _to_tensor(start, name="start")
        e = _to_tensor(stop, dtype=s._dtype if not _is_tensor_like(stop) else None,
                       name="stop")
        n = _index_tensor(num, "num")
        return _apply1("LinSpace", [s, e, n], {}, scope)


lin_space = linspace


# ---- OneHot -----------------------------------------------------------------------------------

def _one_hot_infer(inputs, attrs):
    indices, depth, on, off = inputs
    _check_index_dtype("OneHot", "indices", indices,
                       (_dtypes.uint8, _dtypes.int32, _dtypes.int64))
    if depth._dtype.base_dtype != _int32:
        raise TypeError("Input 'depth' of 'OneHot' Op has type %s that does not match "
                        "expected type of int32." % depth._dtype.name)
    if on._dtype.base_dtype != off._dtype.base_dtype:
        raise TypeError("Input 'off_value' of 'OneHot' Op has type %s that does not match "
                        "type %s of argument 'on_value'." % (off._dtype.name, on._dtype.name))
    for t in (depth, on, off):
        if t._shape._dims is not None and len(t._shape._dims) != 0:
            raise _err("OneHot", attrs, inputs, "Shape must be rank 0 but is rank %d"
                       % len(t._shape._dims))
    axis = attrs["axis"]
    d = indices._shape._dims
    if axis < -1 or (d is not None and axis > len(d)):
        raise _err("OneHot", attrs, inputs, "Expected axis to be -1 or between [0, %s].  But "
                   "received: %d" % ("?" if d is None else len(d), axis))
    n = _const_scalar(depth)
    if n is not None and n < 0:
        raise _err("OneHot", attrs, inputs, "depth must be non-negative, got: %d" % n)
    if d is None:
        return [(on._dtype.base_dtype, _ts.unknown_shape())]
    a = len(d) if axis == -1 else axis
    return [(on._dtype.base_dtype, shape_from_tuple(d[:a] + (n,) + d[a:]))]


def _one_hot_kernel(op, ctx):
    axis = op._attrs["axis"]
    np_dt = op._outputs[0]._dtype.as_numpy_dtype

    def one_hot_(indices, depth, on, off):
        n = int(depth)
        if n < 0:
            raise errors.InvalidArgumentError(None, None, "depth must be non-negative, got: %d"
                                              % n)
        idx = np.asarray(indices)
        # Out-of-range (incl. negative) indices match no column: an all-off row, as TF.
        hot = idx[..., None] == np.arange(n)
        out = np.where(hot, np_dt(on), np_dt(off))
        if axis != -1 and axis != idx.ndim:
            out = np.moveaxis(out, -1, axis)
        return out
    return one_hot_


register_op("OneHot", _one_hot_infer, _one_hot_kernel)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot encode `indices` into a new axis of size `depth` (op type OneHot).

    Args:
      indices: uint8/int32/int64 tensor. Indices outside [0, depth) give all-`off_value` rows.
      depth: scalar int: size of the one-hot axis.
      on_value, off_value: scalars (default 1 and 0 of `dtype`).
      axis: where the new axis goes (default -1: last).
      dtype: output dtype (default: that of on/off_value, else float32).
    Returns:
      A Tensor of shape indices.shape with `depth` inserted at `axis`.
    """
    g = _ops._get_graph_from_inputs([indices, depth, on_value, off_value])
    with _op_scope(g, name, "one_hot",
                                         [indices, depth, on_value, off_value]) as scope:
        on_exists = on_value is not None
        off_exists = off_value is not None
        on_dt = _to_tensor(on_value)._dtype.base_dtype if on_exists and _is_tensor_like(
            on_value) else None
        off_dt = _to_tensor(off_value)._dtype.base_dtype if off_exists and _is_tensor_like(
            off_value) else None
        if dtype is not None:
            dtype = _dtypes.as_dtype(dtype).base_dtype
        elif on_dt is not None:
            dtype = on_dt
        elif off_dt is not None:
            dtype = off_dt
        elif on_exists:
            dtype = _dtypes.infer_dtype(on_value)
        elif off_exists:
            dtype = _dtypes.infer_dtype(off_value)
        else:
            dtype = _dtypes.float32
        if on_dt is not None and off_dt is not None and on_dt != off_dt:
            raise TypeError("dtype {0} of on_value does not match dtype {1} of off_value"
                            .format(on_dt, off_dt))
        if on_dt is not None and on_dt != dtype:
            raise TypeError("dtype {0} of on_value does not match dtype parameter {1}"
                            .format(on_dt, dtype))
        if off_dt is not None and off_dt != dtype:
            raise TypeError("dtype {0} of off_value does not match dtype parameter {1}"
                            .format(off_dt, dtype))
        on = _to_tensor(on_value if on_exists else (True if dtype == _dtypes.bool else 1),
                        dtype=None if on_dt is not None else dtype, name="on_value")
        off = _to_tensor(off_value if off_exists else (False if dtype == _dtypes.bool else 0),
                         dtype=None if off_dt is not None else dtype, name="off_value")
        idx = _to_tensor(indices, name="indices")
        dep = _index_tensor(depth, "depth")
        return _apply1("OneHot", [idx, dep, on, off],
                       {"axis": -1 if axis is None else int(axis), "T": dtype}, scope)


# ---- MatrixDiag family, eye -------------------------------------------------------------------

def _matrix_diag_infer(inputs, attrs):
    x = inputs[0]
    d = x._shape._dims
    if d is None:
        return [(x._dtype, _ts.unknown_shape())]
    if not d:
        raise _err("MatrixDiag", attrs, inputs, "Shape must be at least rank 1 but is rank 0")
    return [(x._dtype, shape_from_tuple(d + (d[-1],)))]


def _matrix_diag_kernel(op, ctx):
    def matrix_diag_(x):
        x = np.asarray(x)
        n = x.shape[-1]
        out = np.zeros(x.shape + (n,), dtype=x.dtype)
        i = np.arange(n)
        out[..., i, i] = x
        return out
    return matrix_diag_


register_op("MatrixDiag", _matrix_diag_infer, _matrix_diag_kernel)


def _check_matrix_rank(op_type, dims, attrs, inputs):
    if dims is not None and len(dims) < 2:
        raise _err(op_type, attrs, inputs, "Shape must be at least rank 2 but is rank %d"
                   % len(dims))


def _matrix_diag_part_infer(inputs, attrs):
    x = inputs[0]
    d = x._shape._dims
    if d is None:
        return [(x._dtype, _ts.unknown_shape())]
    _check_matrix_rank("MatrixDiagPart", d, attrs, inputs)
    m = None if d[-1] is None or d[-2] is None else _pymin(d[-1], d[-2])
    return [(x._dtype, shape_from_tuple(d[:-2] + (m,)))]


def _matrix_diag_part_kernel(op, ctx):
    def matrix_diag_part_(x):
        return np.diagonal(x, axis1=-2, axis2=-1).copy()
    return matrix_diag_part_


register_op("MatrixDiagPart", _matrix_diag_part_infer, _matrix_diag_part_kernel)


def _matrix_set_diag_infer(inputs, attrs):
    x, dg = inputs
    if x._dtype.base_dtype != dg._dtype.base_dtype:
        raise TypeError("Input 'diagonal' of 'MatrixSetDiag' Op has type %s that does not "
                        "match type %s of argument 'input'." % (dg._dtype.name, x._dtype.name))
    d = x._shape._dims
    _check_matrix_rank("MatrixSetDiag", d, attrs, inputs)
    return [(x._dtype, x._shape)]


def _matrix_set_diag_kernel(op, ctx):
    def matrix_set_diag_(x, dg):
        out = np.array(x, copy=True)
        n = _pymin(out.shape[-1], out.shape[-2])
        if np.shape(dg) != out.shape[:-2] + (n,):
            raise errors.InvalidArgumentError(
                None, None, "diagonal must have shape %s, got %s"
                % (list(out.shape[:-2] + (n,)), list(np.shape(dg))))
        i = np.arange(n)
        out[..., i, i] = dg
        return out
    return matrix_set_diag_


register_op("MatrixSetDiag", _matrix_set_diag_infer, _matrix_set_diag_kernel)


def _matrix_band_part_infer(inputs, attrs):
    x = inputs[0]
    d = x._shape._dims
    _check_matrix_rank("MatrixBandPart", d, attrs, inputs)
    return [(x._dtype, x._shape)]


def _matrix_band_part_kernel(op, ctx):
    def matrix_band_part_(x, lower, upper):
        x = np.asarray(x)
        m, n = x.shape[-2], x.shape[-1]
        lo, up = int(lower), int(upper)
        i = np.arange(m)[:, None]
        j = np.arange(n)[None, :]
        keep = ((lo < 0) | (i - j <= lo)) & ((up < 0) | (j - i <= up))
        return np.where(keep, x, np.zeros((), x.dtype))
    return matrix_band_part_


register_op("MatrixBandPart", _matrix_band_part_infer, _matrix_band_part_kernel)


def _diag_infer(inputs, attrs):
    x = inputs[0]
    d = x._shape._dims
    if d is None:
        return [(x._dtype, _ts.unknown_shape())]
    if not d:
        raise _err("Diag", attrs, inputs, "Shape must be at least rank 1 but is rank 0")
    return [(x._dtype, shape_from_tuple(d + d))]


def _diag_kernel(op, ctx):
    def diag_(x):
        x = np.asarray(x)
        n = x.size
        out = np.zeros((n, n), dtype=x.dtype)
        out[np.arange(n), np.arange(n)] = x.reshape(-1)
        return out.reshape(x.shape + x.shape)
    return diag_


register_op("Diag", _diag_infer, _diag_kernel)


def _diag_part_infer(inputs, attrs):
    x = inputs[0]
    d = x._shape._dims
    if d is None:
        return [(x._dtype, _ts.unknown_shape())]
    if not d or len(d) % 2:
        raise _err("DiagPart", attrs, inputs, "Input must have even rank >= 2, got rank %d"
                   % len(d))
    k = len(d) // 2
    out = []
    for a, b in zip(d[:k], d[k:]):
        if a is not None and b is not None and a != b:
            raise _err("DiagPart", attrs, inputs, "Dimensions must be equal, but are %d and "
                       "%d" % (a, b))
        out.append(a if a is not None else b)
    return [(x._dtype, shape_from_tuple(tuple(out)))]


def _diag_part_kernel(op, ctx):
    def diag_part_(x):
        x = np.asarray(x)
        k = x.ndim // 2
        half = x.shape[:k]
        n = int(np.prod(half))
        return x.reshape(n, n)[np.arange(n), np.arange(n)].reshape(half)
    return diag_part_


register_op("DiagPart", _diag_part_infer, _diag_part_kernel)


def matrix_diag(diagonal, name="diag"):
    """Batched diagonal matrices: [..., N] -> [..., N, N] (op type MatrixDiag)."""
    return _apply1("MatrixDiag", [_to_tensor(diagonal, name="diagonal")], {}, name)


def matrix_diag_part(input, name="diag_part"):  # noqa: A002 - TF1 name
    """Batched main diagonals: [..., M, N] -> [..., min(M, N)] (op type MatrixDiagPart)."""
    return _apply1("MatrixDiagPart", [_to_tensor(input, name="input")], {}, name)


def matrix_set_diag(input, diagonal, name="set_diag"):  # noqa: A002
    """`input` with its (batched) main diagonals replaced by `diagonal` (MatrixSetDiag)."""
    x = _to_tensor(input, name="input")
    dg = _to_tensor(diagonal, dtype=None if _is_tensor_like(diagonal) else x._dtype,
                    name="diagonal")
    return _apply1("MatrixSetDiag", [x, dg], {}, name)


def matrix_band_part(input, num_lower, num_upper, name=None):  # noqa: A002
    """Zero everything outside a central band of each inner matrix (negative = keep all)."""
    x = _to_tensor(input, name="input")
    lo = _index_tensor(num_lower, "num_lower")
    up = _index_tensor(num_upper, "num_upper")
    return _apply1("MatrixBandPart", [x, lo, up], {}, name)


def diag(diagonal, name=None):
    """A tensor with `diagonal` on its diagonal: rank k -> rank 2k (op type Diag)."""
    return _apply1("Diag", [_to_tensor(diagonal, name="diagonal")], {}, name)


def diag_part(input, name=None):  # noqa: A002
    """The diagonal of a rank-2k tensor (op type DiagPart)."""
    return _apply1("DiagPart", [_to_tensor(input, name="input")], {}, name)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=_dtypes.float32, name=None):
    """An identity matrix (or a batch of them) of shape batch_shape + [num_rows, num_columns].

    Built as in TF1: a MatrixDiag of ones ("eye/diag") for square matrices, MatrixSetDiag on
    zeros ("eye/set_diag") otherwise.
    """
    dtype = _dtypes.as_dtype(dtype)
    with _ops.name_scope(name, "eye", [num_rows, num_columns, batch_shape]):
        is_square = num_columns is None
        batch = [] if batch_shape is None else list(_normalize_index_value(batch_shape))
        static = not any(_is_tensor_like(v) for v in [num_rows, num_columns] + batch)
        if static:
            rows = int(num_rows)
            cols = rows if is_square else int(num_columns)
            is_square = rows == cols
            diag_size = _pymin(rows, cols)
            diag_ones = ones(batch + [diag_size], dtype=dtype)
            if is_square:
                return matrix_diag(diag_ones)
            return matrix_set_diag(zeros(batch + [rows, cols], dtype=dtype), diag_ones)
        if is_square:
            diag_ones = ones(batch + [num_rows], dtype=dtype)
            return matrix_diag(diag_ones)
        from headwater.ops import math_ops

        diag_size = math_ops.minimum(num_rows, num_columns)
        diag_ones = ones(batch + [diag_size], dtype=dtype)
        return matrix_set_diag(zeros(batch + [num_rows, num_columns], dtype=dtype),
                               diag_ones)


# ---- Shape, ShapeN, Size, Rank ------------------------------------------------------------------

def _check_out_type(out_type):
    dt = _dtypes.as_dtype(out_type).base_dtype
    if dt not in _INDEX:
        raise TypeError("Value passed to parameter 'out_type' has DataType %s not in list of "
                        "allowed values: int32, int64" % dt.name)
    return dt


def _shape_infer(inputs, attrs):
    d = inputs[0]._shape._dims
    return [(attrs["out_type"], shape_from_tuple((None if d is None else len(d),)))]


def _shape_kernel(op, ctx):
    np_dt = op._attrs["out_type"].as_numpy_dtype

    def shape_(x):
        return np.array(np.shape(x), dtype=np_dt)
    return shape_


register_op("Shape", _shape_infer, _shape_kernel)


def _shape_n_infer(inputs, attrs):
    out = []
    for x in inputs:
        d = x._shape._dims
        out.append((attrs["out_type"], shape_from_tuple((None if d is None else len(d),))))
    return out


def _shape_n_kernel(op, ctx):
    np_dt = op._attrs["out_type"].as_numpy_dtype

    def shape_n_(*xs):
        return tuple(np.array(np.shape(x), dtype=np_dt) for x in xs)
    return shape_n_


register_op("ShapeN", _shape_n_infer, _shape_n_kernel)


def _size_infer(inputs, attrs):
    return [(attrs["out_type"], _ts.scalar())]


def _size_kernel(op, ctx):
    np_dt = op._attrs["out_type"].as_numpy_dtype

    def size_(x):
        return np_dt(np.size(x))
    return size_


register_op("Size", _size_infer, _size_kernel)


def _rank_infer(inputs, attrs):
    return [(_int32, _ts.scalar())]


def _rank_kernel(op, ctx):
    def rank_(x):
        return np.int32(np.ndim(x))
    return rank_


register_op("Rank", _rank_infer, _rank_kernel)


def shape(input, name=None, out_type=_dtypes.int32):  # noqa: A002 - TF1 names
    """The shape of `input` as a 1-D int32 (or `out_type`) tensor.

    As in TF1 graph mode, a fully known static shape gives a Const (named "Shape"), else a
    Shape op.
    """
    out_type = _check_out_type(out_type)
    x = _to_tensor(input)
    d = x._shape._dims
    if d is not None and None not in d:
        return _int_const(list(d), name or "Shape", x._op._graph, dtype=out_type)
    return _apply1("Shape", [x], {"out_type": out_type, "T": x._dtype}, name)


def shape_n(input, out_type=_dtypes.int32, name=None):  # noqa: A002
    """The shapes of a list of tensors (op type ShapeN): a list of 1-D tensors."""
    out_type = _check_out_type(out_type)
    xs = [_to_tensor(v) for v in input]
    return list(_apply("ShapeN", xs, {"out_type": out_type, "N": len(xs)}, name)._outputs)


def size(input, name=None, out_type=_dtypes.int32):  # noqa: A002
    """The number of elements of `input` as a scalar (Const when statically known)."""
    out_type = _check_out_type(out_type)
    x = _to_tensor(input)
    n = x._shape.num_elements()
    if n is not None:
        return _int_const(n, name or "Size", x._op._graph, dtype=out_type)
    return _apply1("Size", [x], {"out_type": out_type}, name)


def rank(input, name=None):  # noqa: A002
    """The rank of `input` as an int32 scalar (Const when statically known)."""
    x = _to_tensor(input)
    d = x._shape._dims
    if d is not None:
        return _int_const(len(d), name or "Rank", x._op._graph)
    return _apply1("Rank", [x], {}, name)


# ---- Reshape ------------------------------------------------------------------------------------

def _reshape_infer(inputs, attrs):
    x, s = inputs
    _check_index_dtype("Reshape", "shape", s)
    sd = s._shape._dims
    if sd is not None and len(sd) > 1:
        raise _err("Reshape", attrs, inputs, "Shape must be rank 1 but is rank %d" % len(sd))
    target = _const_list(s)
    if target is None:
        if sd is not None and len(sd) == 1 and sd[0] is not None:
            return [(x._dtype, shape_from_tuple((None,) * sd[0]))]
        return [(x._dtype, _ts.unknown_shape())]
    neg = [i for i, d in enumerate(target) if d is not None and d < 0]
    for i in neg:
        if target[i] != -1:
            raise _err("Reshape", attrs, inputs, "Size %d must be non-negative, not %d"
                       % (i, target[i]))
    if len(neg) > 1:
        raise _err("Reshape", attrs, inputs, "Only one input size may be -1, not both %d "
                   "and %d" % (neg[0], neg[1]))
    n_in = x._shape.num_elements()
    out = list(target)
    known = 1
    for d in target:
        if d is not None and d >= 0:
            known *= d
    if neg:
        out[neg[0]] = None
        if n_in is not None and None not in out[:neg[0]] + out[neg[0] + 1:]:
            if known == 0:
                if n_in != 0:
                    raise _err("Reshape", attrs, inputs, "Cannot reshape a tensor with %d "
                               "elements to shape %s" % (n_in, _list_str(target)))
            elif n_in % known:
                raise _err("Reshape", attrs, inputs, "Cannot reshape a tensor with %d "
                           "elements to shape %s (the known dimensions multiply to %d, which "
                           "does not divide %d)" % (n_in, _list_str(target), known, n_in))
            else:
                out[neg[0]] = n_in // known
    elif n_in is not None and None not in target and known != n_in:
        raise _err("Reshape", attrs, inputs, "Cannot reshape a tensor with %d elements to "
                   "shape %s (%d elements)" % (n_in, _list_str(target), known))
    return [(x._dtype, shape_from_tuple(tuple(out)))]


def _list_str(lst):
    return "[" + ",".join("?" if d is None else str(d) for d in lst) + "]"


def _reshape_error(x, shape_val):
    n = np.size(x)
    req = [int(d) for d in np.asarray(shape_val).reshape(-1)]
    known = 1
    for d in req:
        if d != -1:
            known *= d
    if -1 in req:
        return errors.InvalidArgumentError(
            None, None, "Input to reshape is a tensor with %d values, but the requested shape "
            "requires a multiple of %d" % (n, known))
    return errors.InvalidArgumentError(
        None, None, "Input to reshape is a tensor with %d values, but the requested shape has "
        "%d" % (n, known))


def _reshape_kernel(op, ctx):
    out_dims = op._outputs[0]._shape._dims
    s_c = constant_value(op._inputs[1])
    if out_dims is not None and None not in out_dims:
        target = out_dims
    elif s_c is not None:
        target = tuple(int(d) for d in s_c)
    else:
        target = None
    if target is not None:
        def reshape_(x, s):
            try:
                return x.reshape(target)
            except ValueError:
                raise _reshape_error(x, s) from None
        return reshape_

    def reshape_dyn(x, s):
        try:
            return np.reshape(x, tuple(int(d) for d in s))
        except ValueError:
            raise _reshape_error(x, s) from None
    return reshape_dyn


register_op("Reshape", _reshape_infer, _reshape_kernel, aliases=True)


def reshape(tensor, shape, name=None):
    """`tensor` with its elements in row-major order rearranged to `shape` (op type Reshape).

    Args:
      tensor: a Tensor.
      shape: list/TensorShape/1-D int tensor; at most one entry may be -1 (inferred).
    Returns:
      A Tensor with the same dtype; its static shape is inferred where possible.
    Raises:
      ValueError: at build time when the element counts are statically incompatible.
    """
    if type(tensor) is _Tensor and type(shape) is _Tensor:
        return _apply1("Reshape", [tensor, shape], {}, name)
    g = _ops._get_graph_from_inputs([tensor, shape])
    with _op_scope(g, name, "Reshape", [tensor, shape]) as scope:
        x = _to_tensor(tensor, name="tensor")
        s = _index_tensor(shape, "shape")
        return _apply1("Reshape", [x, s], {}, scope)


# ---- Transpose ----------------------------------------------------------------------------------

def _transpose_infer_for(op_type):
    def infer(inputs, attrs):
        x, p = inputs
        _check_index_dtype(op_type, "perm", p)
        d = x._shape._dims
        perm = _const_list(p)
        if perm is None:
            if d is not None:
                return [(x._dtype, shape_from_tuple((None,) * len(d)))]
            pd = p._shape._dims
            if pd is not None and len(pd) == 1 and pd[0] is not None:
                return [(x._dtype, shape_from_tuple((None,) * pd[0]))]
            return [(x._dtype, _ts.unknown_shape())]
        n = len(perm)
        if d is not None and len(d) != n:
            raise _err(op_type, attrs, inputs, "Dimension must be %d but is %d"
                       % (len(d), n))
        seen = set()
        for v in perm:
            if v is None:
                continue
            if not 0 <= v < n:
                raise _err(op_type, attrs, inputs, "%d is out of range [0 .. %d)" % (v, n))
            if v in seen:
                raise _err(op_type, attrs, inputs, "%d is duplicated in the input" % v)
            seen.add(v)
        if d is None:
            return [(x._dtype, shape_from_tuple((None,) * n))]
        return [(x._dtype, shape_from_tuple(tuple(None if v is None else d[v]
                                                  for v in perm)))]
    return infer


def _check_perm(perm, ndim):
    if len(perm) != ndim:
        raise errors.InvalidArgumentError(
            None, None, "transpose expects a vector of size %d. But input(1) is a vector of "
            "size %d" % (ndim, len(perm)))
    if sorted(perm) != list(_pyrange(ndim)):
        raise errors.InvalidArgumentError(None, None, "%s is not a valid permutation of "
                                          "[0 .. %d)" % (list(perm), ndim))


def _transpose_kernel_for(conj):
    def kernel(op, ctx):
        p_c = constant_value(op._inputs[1])
        if p_c is not None:
            perm = tuple(int(v) for v in p_c)
            if conj:
                def transpose_c(x, p):
                    return np.conj(np.transpose(x, perm))
                return transpose_c

            def transpose_(x, p):
                if np.ndim(x) != len(perm):
                    _check_perm(perm, np.ndim(x))
                return np.transpose(x, perm)
            return transpose_

        def transpose_dyn(x, p):
            perm = tuple(int(v) for v in np.asarray(p).reshape(-1))
            _check_perm(perm, np.ndim(x))
            out = np.transpose(x, perm)
            return np.conj(out) if conj else out
        return transpose_dyn
    return kernel


register_op("Transpose", _transpose_infer_for("Transpose"), _transpose_kernel_for(False),
            aliases=True)
register_op("ConjugateTranspose", _transpose_infer_for("ConjugateTranspose"),
            _transpose_kernel_for(True))


def transpose(a, perm=None, name="transpose", conjugate=False):
    """Permute the dimensions of `a` (op type Transpose); `perm=None` reverses them.

    Args:
      a: a Tensor.
      perm: permutation of [0, rank) (list or 1-D int tensor).
      conjugate: also complex-conjugate (op type ConjugateTranspose for complex `a`).
    """
    g = _ops._get_graph_from_inputs([a, perm])
    with _op_scope(g, name, "transpose", [a]) as scope:
        x = _to_tensor(a, name="a")
        op_type = "ConjugateTranspose" if (conjugate and x._dtype.is_complex) else "Transpose"
        if perm is None:
            d = x._shape._dims
            if d is not None:
                p = _int_const(list(_pyrange(len(d) - 1, -1, -1)), "perm", g)
            else:
                p = reverse(range(0, rank(x)), [0], name="perm")
        else:
            p = _index_tensor(perm, "perm")
        return _apply1(op_type, [x, p], {}, scope)


# ---- ExpandDims, Squeeze ------------------------------------------------------------------------

def _expand_dims_infer(inputs, attrs):
    x, a = inputs
    _check_index_dtype("ExpandDims", "dim", a)
    ad = a._shape._dims
    if ad is not None and not (len(ad) == 0 or (len(ad) == 1 and ad[0] in (1, None))):
        raise _err("ExpandDims", attrs, inputs, "'dim' input must be a tensor with a single "
                   "value")
    d = x._shape._dims
    av = constant_value(a)
    if d is None:
        return [(x._dtype, _ts.unknown_shape())]
    if av is None:
        return [(x._dtype, shape_from_tuple((None,) * (len(d) + 1)))]
    axis = int(np.asarray(av).reshape(-1)[0])
    r = len(d)
    if not -r - 1 <= axis <= r:
        raise _err("ExpandDims", attrs, inputs, "Tried to expand dim index %d for tensor with "
                   "%d dimensions (axis must be in [%d, %d])" % (axis, r, -r - 1, r))
    if axis < 0:
        axis += r + 1
    return [(x._dtype, shape_from_tuple(d[:axis] + (1,) + d[axis:]))]


def _expand_dims_kernel(op, ctx):
    out_dims = op._outputs[0]._shape._dims
    if out_dims is not None and None not in out_dims:
        def expand_dims_static(x, a):
            return x.reshape(out_dims)
        return expand_dims_static
    a_op = op._inputs[1]._op
    if a_op._type == "Const" and a_op._attrs["value"].size == 1:
        # A constant axis (the gradients' expand_dims(g, -1)): only the rank is left to check.
        axis = int(a_op._attrs["value"].reshape(-1)[0])
        ndarray = np.ndarray

        def expand_dims_const(x, a):
            s = x.shape if type(x) is ndarray else np.shape(x)
            r = len(s)
            ax = axis + r + 1 if axis < 0 else axis
            if not 0 <= ax <= r:
                raise errors.InvalidArgumentError(
                    None, None, "Tried to expand dim index %d for tensor with %d dimensions."
                    % (axis, r))
            return np.reshape(x, s[:ax] + (1,) + s[ax:])
        return expand_dims_const

    def expand_dims_(x, a):
        axis = int(np.asarray(a).reshape(-1)[0])
        s = np.shape(x)
        r = len(s)
        if not -r - 1 <= axis <= r:
            raise errors.InvalidArgumentError(None, None, "Tried to expand dim index %d for "
                                              "tensor with %d dimensions." % (axis, r))
        if axis < 0:
            axis += r + 1
        return np.reshape(x, s[:axis] + (1,) + s[axis:])
    return expand_dims_


register_op("ExpandDims", _expand_dims_infer, _expand_dims_kernel, aliases=True)


def expand_dims(input, axis=None, name=None, dim=None):  # noqa: A002
    """Insert a dimension of size 1 at `axis` (negative counts from the end; op ExpandDims)."""
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        axis = dim
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    if type(input) is _Tensor and type(axis) is _Tensor:
        return _apply1("ExpandDims", [input, axis], {}, name)
    g = _ops._get_graph_from_inputs([input, axis])
    with _op_scope(g, name, "ExpandDims", [input]) as scope:
        x = _to_tensor(input, name="input")
        a = _index_tensor(axis, "dim")
        return _apply1("ExpandDims", [x, a], {}, scope)


def _squeeze_infer(inputs, attrs):
    x = inputs[0]
    d = x._shape._dims
    axes = attrs["squeeze_dims"]
    if d is None:
        return [(x._dtype, _ts.unknown_shape())]
    r = len(d)
    if not axes:
        if None in d:
            # An unknown dim may or may not be 1: the rank is unknown (as TF1).
            return [(x._dtype, _ts.unknown_shape())]
        return [(x._dtype, shape_from_tuple(tuple(v for v in d if v != 1)))]
    norm = set()
    for a in axes:
        if not -r <= a < r:
            raise _err("Squeeze", attrs, inputs, "Tried to squeeze dim index %d for tensor "
                       "with %d dimensions" % (a, r))
        a = a + r if a < 0 else a
        if d[a] is not None and d[a] != 1:
            raise _err("Squeeze", attrs, inputs, "Can not squeeze dim[%d], expected a "
                       "dimension of 1, got %d" % (a, d[a]))
        norm.add(a)
    return [(x._dtype, shape_from_tuple(tuple(v for i, v in enumerate(d) if i not in norm)))]


def _squeeze_kernel(op, ctx):
    axes = op._attrs["squeeze_dims"]
    out_dims = op._outputs[0]._shape._dims
    in_dims = op._inputs[0]._shape._dims
    if (out_dims is not None and None not in out_dims and in_dims is not None
            and None not in in_dims):
        def squeeze_static(x):
            return x.reshape(out_dims)
        return squeeze_static
    if not axes:
        return np.squeeze

    def squeeze_(x):
        s = np.shape(x)
        r = len(s)
        norm = []
        for a in axes:
            if not -r <= a < r:
                raise errors.InvalidArgumentError(None, None, "Tried to squeeze dim index %d "
                                                  "for tensor with %d dimensions." % (a, r))
            a = a + r if a < 0 else a
            if s[a] != 1:
                raise errors.InvalidArgumentError(None, None, "Can not squeeze dim[%d], "
                                                  "expected a dimension of 1, got %d"
                                                  % (a, s[a]))
            norm.append(a)
        return np.reshape(x, tuple(v for i, v in enumerate(s) if i not in norm))
    return squeeze_


register_op("Squeeze", _squeeze_infer, _squeeze_kernel, aliases=True)


def squeeze(input, axis=None, name=None, squeeze_dims=None):  # noqa: A002
    """Remove dimensions of size 1 (all of them, or those in `axis`; op type Squeeze)."""
    if squeeze_dims is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'squeeze_dims' and 'axis'")
        axis = squeeze_dims
    if isinstance(axis, (int, np.integer)):
        axis = [axis]
    axes = [] if axis is None else [int(a) for a in axis]
    x = _to_tensor(input, name="input")
    return _apply1("Squeeze", [x], {"squeeze_dims": axes}, name)


# ---- ConcatV2 -----------------------------------------------------------------------------------

def _merge_dims(op_type, attrs, inputs, a, b, i, sa, sb):
    if a is None:
        return b
    if b is None or a == b:
        return a
    raise _err(op_type, attrs, inputs, "Dimension %d in both shapes must be equal, but are %d "
               "and %d. Shapes are %s and %s." % (i, a, b, _list_str(sa), _list_str(sb)))


def _concat_infer(inputs, attrs):
    values, axis_t = inputs[:-1], inputs[-1]
    _check_same_dtypes("ConcatV2", "values", values)
    _check_index_dtype("ConcatV2", "axis", axis_t)
    dt = values[0]._dtype.base_dtype
    rank_ = None
    for v in values:
        d = v._shape._dims
        if d is not None:
            if rank_ is None:
                rank_ = len(d)
            elif len(d) != rank_:
                raise _err("ConcatV2", attrs, inputs, "Shape must be rank %d but is rank %d"
                           % (rank_, len(d)))
    if rank_ == 0:
        raise _err("ConcatV2", attrs, inputs, "Can't concatenate scalars (use tf.stack "
                   "instead)")
    axis = _const_scalar(axis_t)
    if rank_ is None:
        return [(dt, _ts.unknown_shape())]
    if axis is None:
        return [(dt, shape_from_tuple((None,) * rank_))]
    if not -rank_ <= axis < rank_:
        raise _err("ConcatV2", attrs, inputs, "Expected concatenating dimensions in the range "
                   "[%d, %d), but got %d" % (-rank_, rank_, axis))
    if axis < 0:
        axis += rank_
    out = [None] * rank_
    total = 0
    first = None
    for v in values:
        d = v._shape._dims
        if d is None:
            total = None
            continue
        if first is None:
            first = d
        for i in _pyrange(rank_):
            if i == axis:
                continue
            out[i] = _merge_dims("ConcatV2", attrs, inputs, out[i], d[i], i, first, d)
        if total is not None:
            total = None if d[axis] is None else total + d[axis]
    out[axis] = total
    return [(dt, shape_from_tuple(tuple(out)))]


def _concat_error(vals, axis):
    shapes = [np.shape(v) for v in vals]
    r = len(shapes[0])
    if r == 0:
        return errors.InvalidArgumentError(None, None, "ConcatOp : Can't concatenate scalars "
                                           "(use tf.stack instead)")
    if not -r <= axis < r:
        return errors.InvalidArgumentError(None, None, "ConcatOp : Expected concatenating "
                                           "dimensions in the range [%d, %d), but got %d"
                                           % (-r, r, axis))
    ax = axis + r if axis < 0 else axis
    for i, s in enumerate(shapes[1:], 1):
        if len(s) != r:
            return errors.InvalidArgumentError(
                None, None, "ConcatOp : Ranks of all input tensors should match: shape[0] = "
                "%s vs. shape[%d] = %s" % (_list_str(shapes[0]), i, _list_str(s)))
        for j in _pyrange(r):
            if j != ax and s[j] != shapes[0][j]:
                return errors.InvalidArgumentError(
                    None, None, "ConcatOp : Dimensions of inputs should match: shape[0] = %s "
                    "vs. shape[%d] = %s" % (_list_str(shapes[0]), i, _list_str(s)))
    return errors.InvalidArgumentError(None, None, "ConcatOp : invalid inputs %s" % shapes)


def _concat_kernel(op, ctx):
    axis = _const_scalar(op._inputs[-1])
    _concat = np.concatenate
    if axis is not None:
        def concat_(*args):
            try:
                return _concat(args[:-1], axis)
            except ValueError:
                raise _concat_error(args[:-1], axis) from None
        return concat_

    def concat_dyn(*args):
        ax = int(args[-1])
        try:
            return _concat(args[:-1], ax)
        except ValueError:
            raise _concat_error(args[:-1], ax) from None
    return concat_dyn


register_op("ConcatV2", _concat_infer, _concat_kernel, default_name="concat")


def concat(values, axis, name="concat"):
    """Concatenate tensors along `axis` (op type ConcatV2, default name "concat").

    Args:
      values: a list of tensors of the same dtype and rank (Python values are converted).
      axis: int (negative counts from the end) or scalar int tensor.
    Returns:
      A Tensor; its static size along `axis` is the sum of the inputs' (if all known).
    """
    if not isinstance(values, (list, tuple)):
        values = [values]
    if len(values) == 1:
        g = _ops._get_graph_from_inputs(values)
        with _op_scope(g, name) as scope:
            a = _index_tensor(axis, "concat_dim")
            if a._shape._dims not in (None, ()):
                raise ValueError("Shape %s must have rank 0" % a._shape)
            return identity(values[0], name=scope)
    if type(axis) is not _Tensor or not all(type(v) is _Tensor for v in values):
        g = _ops._get_graph_from_inputs(list(values) + [axis])
        with _op_scope(g, name, "concat") as scope:
            dt = next((_to_tensor(v)._dtype for v in values if _is_tensor_like(v)), None)
            ts = [_to_tensor(v, dtype=None if _is_tensor_like(v) else dt) for v in values]
            a = _index_tensor(axis, "axis")
            return _apply1("ConcatV2", ts + [a], {"N": len(ts)}, scope)
    return _apply1("ConcatV2", list(values) + [axis], {"N": len(values)}, name)


# ---- Pack / Unpack ------------------------------------------------------------------------------

def _pack_infer(inputs, attrs):
    _check_same_dtypes("Pack", "values", inputs)
    merged = _ts.unknown_shape()
    for v in inputs:
        try:
            merged = merged.merge_with(v._shape)
        except ValueError:
            raise _err("Pack", attrs, inputs, "Shapes of all inputs must match: values[0].shape "
                       "= %s != values[%d].shape = %s"
                       % (inputs[0]._shape, inputs.index(v), v._shape)) from None
    axis = attrs["axis"]
    d = merged._dims
    if d is None:
        return [(inputs[0]._dtype.base_dtype, _ts.unknown_shape())]
    r = len(d) + 1
    if not -r <= axis < r:
        raise _err("Pack", attrs, inputs, "axis = %d not in [%d, %d)" % (axis, -r, r))
    if axis < 0:
        axis += r
    return [(inputs[0]._dtype.base_dtype, shape_from_tuple(d[:axis] + (len(inputs),)
                                                            + d[axis:]))]


def _pack_kernel(op, ctx):
    axis = op._attrs["axis"]
    _stack = np.stack

    def pack_(*xs):
        try:
            return _stack(xs, axis)
        except ValueError:
            shapes = [list(np.shape(x)) for x in xs]
            raise errors.InvalidArgumentError(
                None, None, "Shapes of all inputs must match: values[0].shape = %s != "
                "values[%d].shape = %s" % (shapes[0], next(i for i, s in enumerate(shapes)
                                                           if s != shapes[0]),
                                           next(s for s in shapes if s != shapes[0]))) \
                from None
    return pack_


register_op("Pack", _pack_infer, _pack_kernel)


def stack(values, axis=0, name="stack"):
    """Stack rank-R tensors into one rank-(R+1) tensor along `axis` (op type Pack).

    Like TF1, a list of plain Python/numpy values with axis 0 becomes a Const.
    """
    if not isinstance(values, (list, tuple)):
        values = list(values)
    if axis == 0 and _scan_for_tensors(values) != 2:
        try:
            return _ops.convert_to_tensor(_dims_to_ints(list(values)), name=name)
        except (TypeError, ValueError):
            pass
    if all(type(v) is _Tensor for v in values):
        return _apply1("Pack", list(values), {"axis": int(axis), "N": len(values)}, name)
    return _pack(list(values), int(axis), name, None)


def parallel_stack(values, name="parallel_stack"):
    """Like `stack` along axis 0 (TF1's variant differs only in scheduling)."""
    return stack(values, 0, name)


def _unpack_infer(inputs, attrs):
    x = inputs[0]
    d = x._shape._dims
    num = attrs["num"]
    axis = attrs["axis"]
    if d is None:
        return [(x._dtype, _ts.unknown_shape())] * num
    r = len(d)
    if not -r <= axis < r:
        raise _err("Unpack", attrs, inputs, "axis = %d not in [%d, %d)" % (axis, -r, r))
    if axis < 0:
        axis += r
    if d[axis] is not None and d[axis] != num:
        raise _err("Unpack", attrs, inputs, "Dimension must be %d but is %d" % (num, d[axis]))
    out = shape_from_tuple(d[:axis] + d[axis + 1:])
    return [(x._dtype, out)] * num


def _unpack_kernel(op, ctx):
    num = op._attrs["num"]
    axis = op._attrs["axis"]

    def unpack_(x):
        x = np.asarray(x)
        ax = axis + x.ndim if axis < 0 else axis
        if x.shape[ax] != num:
            raise errors.InvalidArgumentError(
                None, None, "Input shape axis %d must equal %d, got shape %s"
                % (ax, num, _list_str(x.shape)))
        if ax == 0:
            return tuple(x)
        return tuple(np.moveaxis(x, ax, 0))
    return unpack_


register_op("Unpack", _unpack_infer, _unpack_kernel, aliases=True)


def unstack(value, num=None, axis=0, name="unstack"):
    """Split `value` along `axis` into a list of rank-(R-1) tensors (op type Unpack).

    Raises:
      ValueError: if `num` is None and the size of `axis` is not statically known.
    """
    x = _to_tensor(value, name="value")
    axis = int(axis)
    if num is None:
        d = x._shape._dims
        if d is None:
            raise ValueError("Cannot infer num from shape %s" % x._shape)
        if not -len(d) <= axis < len(d):
            raise ValueError("axis = %d not in [%d, %d)" % (axis, -len(d), len(d)))
        num = d[axis]
        if num is None:
            raise ValueError("Cannot infer num from shape %s" % x._shape)
    return list(_apply("Unpack", [x], {"num": int(num), "axis": axis}, name)._outputs)


# ---- Split, SplitV ------------------------------------------------------------------------------

def _split_infer(inputs, attrs):
    a, x = inputs
    _check_index_dtype("Split", "split_dim", a, (_int32,))
    num = attrs["num_split"]
    d = x._shape._dims
    if d is None:
        return [(x._dtype, _ts.unknown_shape())] * num
    axis = _const_scalar(a)
    if axis is None:
        return [(x._dtype, shape_from_tuple((None,) * len(d)))] * num
    r = len(d)
    if not -r <= axis < r:
        raise _err("Split", attrs, inputs, "Dimension out of range: split dim %d must be in "
                   "[%d, %d)" % (axis, -r, r))
    if axis < 0:
        axis += r
    n = d[axis]
    if n is not None and n % num:
        raise _err("Split", attrs, inputs, "Dimension size must be evenly divisible by %d but "
                   "is %d" % (num, n))
    piece = None if n is None else n // num
    return [(x._dtype, shape_from_tuple(d[:axis] + (piece,) + d[axis + 1:]))] * num


def _split_kernel(op, ctx):
    num = op._attrs["num_split"]

    def split_(a, x):
        x = np.asarray(x)
        ax = int(a)
        if ax < 0:
            ax += x.ndim
        n = x.shape[ax]
        if n % num:
            raise errors.InvalidArgumentError(
                None, None, "Number of ways to split should evenly divide the split "
                "dimension, but got split_dim %d (size = %d) and num_split %d" % (ax, n, num))
        return tuple(np.split(x, num, ax))
    return split_


register_op("Split", _split_infer, _split_kernel, default_name="split", aliases=True)


def _splitv_infer(inputs, attrs):
    x, sizes_t, a = inputs
    _check_index_dtype("SplitV", "size_splits", sizes_t)
    _check_index_dtype("SplitV", "split_dim", a, (_int32,))
    num = attrs["num_split"]
    d = x._shape._dims
    if d is None:
        return [(x._dtype, _ts.unknown_shape())] * num
    sizes = _const_list(sizes_t)
    axis = _const_scalar(a)
    r = len(d)
    if axis is None:
        return [(x._dtype, shape_from_tuple((None,) * r))] * num
    if not -r <= axis < r:
        raise _err("SplitV", attrs, inputs, "Dimension out of range: split dim %d must be in "
                   "[%d, %d)" % (axis, -r, r))
    if axis < 0:
        axis += r
    if sizes is None:
        return [(x._dtype, shape_from_tuple(d[:axis] + (None,) + d[axis + 1:]))] * num
    if len(sizes) != num:
        raise _err("SplitV", attrs, inputs, "Length of size_splits should be equal to "
                   "num_split (%d vs %d)" % (len(sizes), num))
    n = d[axis]
    sizes = list(sizes)
    neg = [i for i, s in enumerate(sizes) if s == -1]
    if len(neg) > 1:
        raise _err("SplitV", attrs, inputs, "Only one dimensions can have a value of -1. "
                   "Second one found at dimension %d" % neg[1])
    known = [s for s in sizes if s is not None and s != -1]
    if any(s < 0 for s in known):
        raise _err("SplitV", attrs, inputs, "size_splits must be non-negative (or -1), got %s"
                   % _list_str(sizes))
    if n is not None and None not in sizes:
        total = sum(known)
        if neg:
            if total > n:
                raise _err("SplitV", attrs, inputs, "Determined shape must either match input "
                           "shape along split_dim exactly if fully specified, or be less than "
                           "the size of the input along split_dim if not fully specified.  "
                           "Got: %d" % total)
            sizes[neg[0]] = n - total
        elif total != n:
            raise _err("SplitV", attrs, inputs, "Determined shape must either match input "
                       "shape along split_dim exactly if fully specified, or be less than the "
                       "size of the input along split_dim if not fully specified.  Got: %d"
                       % total)
    elif neg:
        sizes[neg[0]] = None
    return [(x._dtype, shape_from_tuple(d[:axis] + (s,) + d[axis + 1:])) for s in sizes]


def _splitv_kernel(op, ctx):
    def splitv_(x, sizes, a):
        x = np.asarray(x)
        ax = int(a)
        if ax < 0:
            ax += x.ndim
        n = x.shape[ax]
        sz = [int(s) for s in np.asarray(sizes).reshape(-1)]
        if -1 in sz:
            i = sz.index(-1)
            sz[i] = n - (sum(sz) + 1)
        if sum(sz) != n or any(s < 0 for s in sz):
            raise errors.InvalidArgumentError(
                None, None, "Determined shape must either match input shape along split_dim "
                "exactly if fully specified, or be less than the size of the input along "
                "split_dim if not fully specified.  Got: %d" % sum(sz))
        return tuple(np.split(x, np.cumsum(sz[:-1]), ax))
    return splitv_


register_op("SplitV", _splitv_infer, _splitv_kernel, default_name="split", aliases=True)


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Split `value` along `axis` into equal parts (an int: op Split) or parts of the given
    sizes (a list/1-D tensor, one entry may be -1: op SplitV).

    Returns:
      A list of Tensors.
    """
    g = _ops._get_graph_from_inputs([value, num_or_size_splits, axis])
    with _op_scope(g, name, "split") as scope:
        x = _to_tensor(value, name="value")
        if isinstance(num_or_size_splits, (int, np.integer, _ts.Dimension)):
            n = int(_normalize_index_value(num_or_size_splits))
            a = _index_tensor(axis, "split_dim")
            return list(_apply("Split", [a, x], {"num_split": n}, scope)._outputs)
        sizes = _index_tensor(num_or_size_splits, "size_splits")
        sd = sizes._shape._dims
        if sd == ():
            raise ValueError("Rank-0 tensors are not supported as the num_or_size_splits "
                             "argument to split. Argument provided: %s" % (num_or_size_splits,))
        if num is None:
            num = sd[0] if sd else None
            if num is None:
                raise ValueError("Cannot infer num from shape %s" % (num_or_size_splits,))
        a = _index_tensor(axis, "split_dim")
        return list(_apply("SplitV", [x, sizes, a], {"num_split": int(num)}, scope)._outputs)


# ---- Slice --------------------------------------------------------------------------------------

def _slice_infer(inputs, attrs):
    x, b, s = inputs
    _check_index_dtype("Slice", "begin", b)
    _check_index_dtype("Slice", "size", s)
    d = x._shape._dims
    bl = _const_list(b)
    sl = _const_list(s)
    n = None
    for lst in (bl, sl):
        if lst is not None:
            if n is not None and len(lst) != n:
                raise _err("Slice", attrs, inputs, "Expected begin and size arguments to be "
                           "1-D tensors of the same size")
            n = len(lst)
    if d is not None and n is not None and n != len(d):
        raise _err("Slice", attrs, inputs, "Shape must be rank %d but is rank %d"
                   % (n, len(d)))
    if d is None and n is None:
        return [(x._dtype, _ts.unknown_shape())]
    r = len(d) if d is not None else n
    if sl is None:
        return [(x._dtype, shape_from_tuple((None,) * r))]
    out = []
    for i in _pyrange(r):
        dim = d[i] if d is not None else None
        bi = bl[i] if bl is not None else None
        si = sl[i]
        if bi is not None and (bi < 0 or (dim is not None and bi > dim)):
            raise _err("Slice", attrs, inputs, "Expected begin[%d] in [0, %s], but got %d"
                       % (i, "?" if dim is None else dim, bi))
        if si is None:
            out.append(None)
        elif si == -1:
            out.append(None if (dim is None or bi is None) else dim - bi)
        else:
            if si < -1:
                raise _err("Slice", attrs, inputs, "Expected size[%d] >= -1, got %d" % (i, si))
            if dim is not None and bi is not None and bi + si > dim:
                raise _err("Slice", attrs, inputs, "Expected size[%d] in [0, %d], but got %d"
                           % (i, dim - bi, si))
            out.append(si)
    return [(x._dtype, shape_from_tuple(tuple(out)))]


def _slice_key(x, b, s):
    shp = np.shape(x)
    b = [int(v) for v in np.asarray(b).reshape(-1)]
    s = [int(v) for v in np.asarray(s).reshape(-1)]
    if len(b) != len(shp) or len(s) != len(shp):
        raise errors.InvalidArgumentError(
            None, None, "Expected begin and size arguments to be 1-D tensors of size %d, but "
            "got shapes [%d] and [%d] instead." % (len(shp), len(b), len(s)))
    key = []
    for i, (dim, bi, si) in enumerate(zip(shp, b, s)):
        if si == -1:
            si = dim - bi
        if not 0 <= bi <= dim:
            raise errors.InvalidArgumentError(None, None, "Expected begin[%d] in [0, %d], but "
                                              "got %d" % (i, dim, bi))
        if not 0 <= si <= dim - bi:
            raise errors.InvalidArgumentError(None, None, "Expected size[%d] in [0, %d], but "
                                              "got %d" % (i, dim - bi, si))
        key.append(_pyslice(bi, bi + si))
    return tuple(key)


def _slice_kernel(op, ctx):
    in_dims = op._inputs[0]._shape._dims
    b_c = constant_value(op._inputs[1])
    s_c = constant_value(op._inputs[2])
    if (in_dims is not None and None not in in_dims and b_c is not None and s_c is not None):
        # Validated at build time against the (fully known, feed-checked) input shape.
        key = _slice_key(np.empty(in_dims, np.int8), b_c, s_c)

        def slice_static(x, b, s):
            return x[key]
        return slice_static

    def slice_(x, b, s):
        return x[_slice_key(x, b, s)]
    return slice_


register_op("Slice", _slice_infer, _slice_kernel, aliases=True)


def slice(input_, begin, size, name=None):  # noqa: A001 - TF1 name
    """The `size`-sized block of `input_` starting at `begin` (op type Slice).

    Args:
      begin: int list/1-D tensor, one entry per dimension.
      size: int list/1-D tensor; -1 takes everything from `begin` to the end of that axis.
    """
    if type(input_) is _Tensor and type(begin) is _Tensor and type(size) is _Tensor:
        return _apply1("Slice", [input_, begin, size], {}, name)
    g = _ops._get_graph_from_inputs([input_, begin, size])
    with _op_scope(g, name, "Slice") as scope:
        x = _to_tensor(input_, name="input")
        b = _index_tensor(begin, "begin")
        s = _index_tensor(size, "size")
        return _apply1("Slice", [x, b, s], {}, scope)


# ---- StridedSlice and Tensor.__getitem__ --------------------------------------------------------

_SS_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def _ss_key(b, e, s, attrs):
    """The numpy basic-indexing key equivalent to a StridedSlice spec.

    TF's semantics (negative indices wrap once, out-of-range slice bounds clamp, masked bounds
    run to the end in the stride's direction, a shrink index must be in range) coincide with
    numpy's basic indexing, so x[key] computes the op exactly.
    """
    bm = attrs["begin_mask"]
    em = attrs["end_mask"]
    elm = attrs["ellipsis_mask"]
    nam = attrs["new_axis_mask"]
    sam = attrs["shrink_axis_mask"]
    n = len(b)
    if len(e) != n or len(s) != n:
        raise errors.InvalidArgumentError(
            None, None, "Expected begin, end, and strides to be 1D equal size tensors, but got "
            "shapes [%d], [%d], and [%d] instead." % (n, len(e), len(s)))
    key = []
    for i in _pyrange(n):
        bit = 1 << i
        if elm & bit:
            key.append(Ellipsis)
        elif nam & bit:
            key.append(None)
        else:
            st = int(s[i])
            if st == 0:
                raise errors.InvalidArgumentError(None, None, "strides[%d] must be non-zero"
                                                  % i)
            if sam & bit:
                if st < 0:
                    raise errors.InvalidArgumentError(
                        None, None, "only stride 1 allowed on non-range indexing.")
                key.append(int(b[i]))
            else:
                key.append(_pyslice(None if bm & bit else int(b[i]),
                                    None if em & bit else int(e[i]), st))
    return tuple(key)


def _ss_canonical(x, masked, c, stride, dim):
    """TF's canonicalisation of a begin (c=0) / end (c=1) bound; None if unknown."""
    lo, hi = (0, dim) if stride > 0 else (-1, dim - 1)
    if masked:
        if stride > 0:
            return lo if c == 0 else hi
        return hi if c == 0 else lo
    if x is None:
        return None
    x_fwd = x + dim if x < 0 else x
    return lo if x_fwd < lo else (hi if x_fwd > hi else x_fwd)


def _ss_static_shape(d, b, e, s, attrs, fail):
    """Output dims of StridedSlice for input dims `d` (tuple with None, or None) and partially
    known begin/end/strides lists (None entries = unknown). `fail(msg)` builds the error."""
    bm = attrs["begin_mask"]
    em = attrs["end_mask"]
    elm = attrs["ellipsis_mask"]
    nam = attrs["new_axis_mask"]
    sam = attrs["shrink_axis_mask"]
    n = len(b)
    ell_bits = [i for i in _pyrange(n) if elm & (1 << i)]
    if len(ell_bits) > 1:
        raise fail("Multiple ellipses in slice spec not allowed")
    if d is None:
        return None
    rank_ = len(d)
    # Sparse spec entries: ("e",), ("n",), or ("x", i) referring to position i of begin/...
    entries = []
    for i in _pyrange(n):
        bit = 1 << i
        if elm & bit:
            entries.append(("e", i))
        elif nam & bit:
            entries.append(("n", i))
        else:
            entries.append(("x", i))
    if not ell_bits:
        entries.append(("e", n))
    out = []
    full = 0
    for k, (kind, i) in enumerate(entries):
        if kind == "e":
            new_after = sum(1 for kk, _ in entries[k + 1:] if kk == "n")
            nxt = _pymin(rank_ - (len(entries) - k) + 1 + new_after, rank_)
            while full < nxt:
                out.append(d[full])
                full += 1
        elif kind == "n":
            out.append(1)
        else:
            if full >= rank_:
                raise fail("Index out of range using input dim %d; input has only %d dims"
                           % (full, rank_))
            dim = d[full]
            bit = 1 << i
            bi, ei, si = b[i], e[i], s[i]
            if si == 0:
                raise fail("strides[%d] must be non-zero" % i)
            if sam & bit:
                if si is not None and si < 0:
                    raise fail("only stride 1 allowed on non-range indexing.")
                if bi is not None and dim is not None:
                    x_fwd = bi + dim if bi < 0 else bi
                    if not 0 <= x_fwd < dim:
                        raise fail("slice index %d of dimension %d out of bounds." % (bi, full))
            elif si is None or dim is None:
                out.append(None)
            else:
                cb = _ss_canonical(bi, bm & bit, 0, si, dim)
                ce = _ss_canonical(ei, em & bit, 1, si, dim)
                if cb is None or ce is None:
                    out.append(None)
                else:
                    interval = ce - cb
                    if interval == 0 or ((interval < 0) != (si < 0)):
                        out.append(0)
                    else:
                        out.append((_pyabs(interval) + _pyabs(si) - 1) // _pyabs(si))
            full += 1
    return tuple(out)


def _strided_slice_infer(inputs, attrs):
    x, b, e, s = inputs
    for t, nm in ((b, "begin"), (e, "end"), (s, "strides")):
        _check_index_dtype("StridedSlice", nm, t)
        if t._shape._dims is not None and len(t._shape._dims) != 1:
            raise _err("StridedSlice", attrs, inputs, "Shape must be rank 1 but is rank %d"
                       % len(t._shape._dims))
    bl, el, sl = _const_list(b), _const_list(e), _const_list(s)
    lens = {len(v) for v in (bl, el, sl) if v is not None}
    if len(lens) > 1:
        raise _err("StridedSlice", attrs, inputs, "Expected begin, end, and strides to be 1D "
                   "equal size tensors")
    if not lens:
        return [(x._dtype, _ts.unknown_shape())]
    n = lens.pop()
    bl = bl if bl is not None else [None] * n
    el = el if el is not None else [None] * n
    sl = sl if sl is not None else [None] * n

    def fail(msg):
        return _err("StridedSlice", attrs, inputs, msg)
    dims = _ss_static_shape(x._shape._dims, bl, el, sl, attrs, fail)
    if dims is None:
        return [(x._dtype, _ts.unknown_shape())]
    return [(x._dtype, shape_from_tuple(dims))]


_NP_INDEX_ERROR = re.compile(r"index (-?\d+) is out of bounds for axis (\d+)")


def _ss_run(x, key):
    try:
        return x[key]
    except IndexError as e:
        # numpy: "index 7 is out of bounds for axis 0 with size 5"; say it as TF does.
        msg = str(e)
        m = _NP_INDEX_ERROR.match(msg)
        if m:
            raise errors.InvalidArgumentError(None, None, "slice index %s of dimension %s out "
                                              "of bounds." % m.groups()) from None
        raise errors.InvalidArgumentError(None, None, "Invalid strided slice of a tensor of "
                                          "shape %s: %s" % (_list_str(np.shape(x)), msg)) \
            from None


def _strided_slice_kernel(op, ctx):
    attrs = {k: op._attrs[k] for k in _SS_MASKS}
    vals = [constant_value(t) for t in op._inputs[1:]]
    if all(v is not None for v in vals):
        key = _ss_key(vals[0], vals[1], vals[2], attrs)
        in_dims = op._inputs[0]._shape._dims
        if in_dims is not None and None not in in_dims:
            # Bounds were checked at build time against the exact (feed-checked) shape.
            def strided_slice_static(x, b, e, s):
                return x[key]
            return strided_slice_static

        def strided_slice_(x, b, e, s):
            return _ss_run(x, key)
        return strided_slice_

    def strided_slice_dyn(x, b, e, s):
        return _ss_run(x, _ss_key(np.asarray(b).reshape(-1), np.asarray(e).reshape(-1),
                                  np.asarray(s).reshape(-1), attrs))
    return strided_slice_dyn


register_op("StridedSlice", _strided_slice_infer, _strided_slice_kernel, aliases=True)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """Extract a strided slice of `input_` (op type StridedSlice), numpy-style.

    Args:
      begin, end, strides: 1-D int lists/tensors of equal length (strides default to 1).
      begin_mask, end_mask: bit i set ignores begin[i]/end[i] (slice to the start/end).
      ellipsis_mask: bit i set makes position i an ellipsis.
      new_axis_mask: bit i set inserts a new axis of size 1 at position i.
      shrink_axis_mask: bit i set takes the single index begin[i] and drops that axis.
    """
    g = _ops._get_graph_from_inputs([input_, begin, end, strides])
    with _op_scope(g, name, "StridedSlice") as scope:
        x = _to_tensor(input_, name="input")
        b = _index_tensor(begin, "begin")
        e = _index_tensor(end, "end")
        if strides is None:
            bl = _const_list(b)
            if bl is not None:
                s = _int_const([1] * len(bl), "strides", g, dtype=b._dtype.base_dtype)
            else:
                s = ones_like(b, name="strides")
        else:
            s = _index_tensor(strides, "strides")
        attrs = {"begin_mask": int(begin_mask), "end_mask": int(end_mask),
                 "ellipsis_mask": int(ellipsis_mask), "new_axis_mask": int(new_axis_mask),
                 "shrink_axis_mask": int(shrink_axis_mask)}
        return _apply1("StridedSlice", [x, b, e, s], attrs, scope)


_SLICE_TYPE_ERROR = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                     "scalar tf.int32/tf.int64 tensors are valid indices")


def _check_index(idx):
    if isinstance(idx, (int, np.integer)) and not isinstance(idx, (bool, np.bool_)):
        return int(idx)
    if isinstance(idx, _ts.Dimension):
        if idx.value is None:
            raise TypeError(_SLICE_TYPE_ERROR + ", got %r" % (idx,))
        return idx.value
    if _is_tensor_like(idx):
        t = _ops.convert_to_tensor(idx)
        if t._dtype.base_dtype in _INDEX and t._shape._dims in (None, ()):
            return t
    raise TypeError(_SLICE_TYPE_ERROR + ", got %r" % (idx,))


_MAXSIZE = 9223372036854775807


def _slice_helper(tensor, slice_spec, var=None):
    """Tensor.__getitem__: TF1 indexing (ints, slices with steps, `...`, tf.newaxis and scalar
    int tensors) as one StridedSlice op named "strided_slice"."""
    if type(slice_spec) is not tuple and type(slice_spec) is not list:
        slice_spec = (slice_spec,)
    begin, end, strides = [], [], []
    begin_mask = end_mask = ellipsis_mask = new_axis_mask = shrink_axis_mask = 0
    has_tensor = False
    for index, s in enumerate(slice_spec):
        bit = 1 << index
        ts = type(s)
        if ts is int:
            begin.append(s)
            end.append(s + 1)
            strides.append(1)
            shrink_axis_mask |= bit
        elif ts is _pyslice:
            start, stop, step = s.start, s.stop, s.step
            if start is not None and not (type(start) is int and start == _MAXSIZE):
                start = _check_index(start)
                has_tensor |= type(start) is not int
                begin.append(start)
            else:
                begin.append(0)
                begin_mask |= bit
            if stop is not None and not (type(stop) is int and stop == _MAXSIZE):
                stop = _check_index(stop)
                has_tensor |= type(stop) is not int
                end.append(stop)
            else:
                end.append(0)
                end_mask |= bit
            if step is not None:
                step = _check_index(step)
                has_tensor |= type(step) is not int
                strides.append(step)
            else:
                strides.append(1)
        elif s is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            ellipsis_mask |= bit
        elif s is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            new_axis_mask |= bit
        else:
            s = _check_index(s)
            begin.append(s)
            if type(s) is int:
                end.append(s + 1)
            else:
                has_tensor = True
                end.append(None)  # s + 1, built inside the name scope below
            strides.append(1)
            shrink_axis_mask |= bit
    x = tensor if type(tensor) is _Tensor else _ops.convert_to_tensor(tensor)
    g = x._op._graph
    attrs = {"begin_mask": begin_mask, "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
             "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_axis_mask}
    with g.name_scope("strided_slice") as scope:
        if not begin:
            b = e = st = _int_const(np.zeros(0, np.int32), "Const", g)
        elif not has_tensor:
            b = _int_const(begin, "stack", g)
            e = _int_const(end, "stack_1", g)
            st = _int_const(strides, "stack_2", g)
        else:
            # Mixed int32/int64 index tensors are widened (TF1 would fail to stack them).
            idx_dt = _int32
            for v in begin + end + strides:
                if type(v) is _Tensor and v._dtype.base_dtype == _int64:
                    idx_dt = _int64
            if idx_dt == _int64:
                from headwater.ops import math_ops

                def widen(v):
                    if type(v) is _Tensor and v._dtype.base_dtype != _int64:
                        return math_ops.cast(v, _int64)
                    return v
                begin = [widen(v) for v in begin]
                end = [widen(v) for v in end]
                strides = [widen(v) for v in strides]
            for i, v in enumerate(end):
                if v is None:
                    end[i] = begin[i] + 1
            b = _pack(begin, 0, "stack", idx_dt)
            e = _pack(end, 0, "stack", idx_dt)
            st = _pack(strides, 0, "stack", idx_dt)
        return _apply1("StridedSlice", [x, b, e, st], attrs, scope)


_ops.Tensor._override_operator("__getitem__", _slice_helper)


# ---- GatherV2, GatherNd -------------------------------------------------------------------------

def _gather_infer(inputs, attrs):
    params, indices, axis_t = inputs
    _check_index_dtype("GatherV2", "indices", indices)
    _check_index_dtype("GatherV2", "axis", axis_t)
    bd = attrs["batch_dims"]
    pd = params._shape._dims
    idd = indices._shape._dims
    axis = _const_scalar(axis_t)
    if pd is None or idd is None or axis is None:
        return [(params._dtype, _ts.unknown_shape())]
    r = len(pd)
    if not -r <= axis < r:
        raise _err("GatherV2", attrs, inputs, "Expected axis in the range [%d, %d), but got %d"
                   % (-r, r, axis))
    if axis < 0:
        axis += r
    if bd < 0:
        bd += len(idd)
    if bd > axis or bd > len(idd):
        raise _err("GatherV2", attrs, inputs, "batch_dims (%d) must be less than or equal to "
                   "axis (%d) and rank(indices) (%d)" % (bd, axis, len(idd)))
    for i in _pyrange(bd):
        if pd[i] is not None and idd[i] is not None and pd[i] != idd[i]:
            raise _err("GatherV2", attrs, inputs, "params.shape[%d]: %d should be equal to "
                       "indices.shape[%d]: %d" % (i, pd[i], i, idd[i]))
    return [(params._dtype, shape_from_tuple(pd[:axis] + idd[bd:] + pd[axis + 1:]))]


def _bad_index_error(idx, bad, limit):
    pos = np.argwhere(bad)[0]
    return errors.InvalidArgumentError(
        None, None, "indices[%s] = %d is not in [0, %d)"
        % (",".join(str(int(p)) for p in pos), int(idx[tuple(pos)]), limit))


def _gather_kernel(op, ctx):
    bd0 = op._attrs["batch_dims"]
    axis_c = _const_scalar(op._inputs[2])
    _take = np.take

    def gather_(params, indices, axis):
        ax = axis_c if axis_c is not None else int(axis)
        p = np.asarray(params)
        if ax < 0:
            ax += p.ndim
        idx = np.asarray(indices)
        n = p.shape[ax]
        if idx.size:
            mn = idx.min()
            mx = idx.max()
            if mn < 0 or mx >= n:
                raise _bad_index_error(idx, (idx < 0) | (idx >= n), n)
        bd = bd0 + idx.ndim if bd0 < 0 else bd0
        if bd == 0:
            return _take(p, idx, axis=ax)
        batch = p.shape[:bd]
        nb = int(np.prod(batch))
        pf = p.reshape((nb,) + p.shape[bd:])
        idf = idx.reshape((nb,) + idx.shape[bd:])
        outs = [_take(pf[i], idf[i], axis=ax - bd) for i in _pyrange(nb)]
        out_tail = p.shape[bd:ax] + idx.shape[bd:] + p.shape[ax + 1:]
        if not outs:
            return np.zeros(batch + out_tail, p.dtype)
        return np.stack(outs).reshape(batch + out_tail)
    return gather_


register_op("GatherV2", _gather_infer, _gather_kernel)


def gather(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0):
    """Slices of `params` along `axis` at `indices` (op type GatherV2).

    Output shape: params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis+1:].
    Out-of-range indices raise InvalidArgumentError at run time ("indices[1] = 7 is not in
    [0, 5)").
    """
    if axis is None:
        axis = batch_dims
    g = _ops._get_graph_from_inputs([params, indices, axis])
    with _op_scope(g, name, "GatherV2") as scope:
        p = _to_tensor(params, name="params")
        i = _index_tensor(indices, "indices")
        a = _index_tensor(axis, "axis")
        return _apply1("GatherV2", [p, i, a], {"batch_dims": int(batch_dims)}, scope)


def batch_gather(params, indices, name=None):
    """Gather with batch dimensions = rank(indices) - 1 (TF1's tf.batch_gather)."""
    i = _to_tensor(indices)
    d = i._shape._dims
    if d is None:
        raise ValueError("batch_gather does not allow indices with unknown shape.")
    with _ops.name_scope(name, "BatchGather"):
        return gather(params, i, axis=len(d) - 1, batch_dims=len(d) - 1)


def _gather_nd_infer(inputs, attrs):
    params, indices = inputs
    _check_index_dtype("GatherNd", "indices", indices)
    pd = params._shape._dims
    idd = indices._shape._dims
    if idd is None or pd is None:
        return [(params._dtype, _ts.unknown_shape())]
    if not idd:
        raise _err("GatherNd", attrs, inputs, "Shape must be at least rank 1 but is rank 0")
    k = idd[-1]
    if k is None:
        return [(params._dtype, _ts.unknown_shape())]
    if k > len(pd):
        raise _err("GatherNd", attrs, inputs, "indices.shape[-1] must be <= params.rank, but "
                   "saw indices shape: %s and params shape: %s" % (_list_str(idd),
                                                                  _list_str(pd)))
    return [(params._dtype, shape_from_tuple(idd[:-1] + pd[k:]))]


def _gather_nd_kernel(op, ctx):
    def gather_nd_(params, indices):
        p = np.asarray(params)
        idx = np.asarray(indices)
        k = idx.shape[-1]
        lim = np.asarray(p.shape[:k])
        if idx.size:
            bad = ((idx < 0) | (idx >= lim)).any(axis=-1)
            if bad.any():
                pos = np.argwhere(bad)[0]
                raise errors.InvalidArgumentError(
                    None, None, "indices%s = [%s] does not index into param shape %s"
                    % (_list_str(pos), ", ".join(str(int(v)) for v in idx[tuple(pos)]),
                       _list_str(p.shape)))
        return p[tuple(np.moveaxis(idx, -1, 0))]
    return gather_nd_


register_op("GatherNd", _gather_nd_infer, _gather_nd_kernel)


def gather_nd(params, indices, name=None, batch_dims=0):
    """Gather slices of `params` addressed by the last axis of `indices` (op type GatherNd)."""
    if batch_dims:
        raise NotImplementedError("gather_nd with batch_dims != 0 is not supported yet")
    g = _ops._get_graph_from_inputs([params, indices])
    with _op_scope(g, name, "GatherNd") as scope:
        p = _to_tensor(params, name="params")
        i = _index_tensor(indices, "indices")
        return _apply1("GatherNd", [p, i], {}, scope)


# ---- ScatterNd ----------------------------------------------------------------------------------

def _scatter_nd_infer(inputs, attrs):
    indices, updates, shape_t = inputs
    _check_index_dtype("ScatterNd", "indices", indices)
    _check_index_dtype("ScatterNd", "shape", shape_t)
    return [(updates._dtype, _shape_from_list(_const_list(shape_t)))]


def _scatter_nd_kernel(op, ctx):
    def scatter_nd_(indices, updates, shape_v):
        out_shape = tuple(int(v) for v in np.asarray(shape_v).reshape(-1))
        upd = np.asarray(updates)
        out = np.zeros(out_shape, dtype=upd.dtype)
        idx = np.asarray(indices)
        k = idx.shape[-1]
        flat = idx.reshape(-1, k)
        bad = ((flat < 0) | (flat >= np.asarray(out_shape[:k]))).any(axis=-1)
        if bad.any():
            i = int(np.argwhere(bad)[0][0])
            raise errors.InvalidArgumentError(
                None, None, "indices[%d] = [%s] does not index into shape %s"
                % (i, ", ".join(str(int(v)) for v in flat[i]), _list_str(out_shape)))
        np.add.at(out, tuple(flat.T), upd.reshape((flat.shape[0],) + out_shape[k:]))
        return out
    return scatter_nd_


register_op("ScatterNd", _scatter_nd_infer, _scatter_nd_kernel)


def scatter_nd(indices, updates, shape, name=None):
    """A zero tensor of `shape` with `updates` added at `indices` (op type ScatterNd)."""
    g = _ops._get_graph_from_inputs([indices, updates, shape])
    with _op_scope(g, name, "ScatterNd") as scope:
        i = _index_tensor(indices, "indices")
        u = _to_tensor(updates, name="updates")
        s = _index_tensor(shape, "shape")
        return _apply1("ScatterNd", [i, u, s], {}, scope)


# ---- Tile ---------------------------------------------------------------------------------------

def _tile_infer(inputs, attrs):
    x, m = inputs
    _check_index_dtype("Tile", "multiples", m)
    d = x._shape._dims
    ml = _const_list(m)
    if ml is not None and d is not None and len(ml) != len(d):
        raise _err("Tile", attrs, inputs, "Shape must be rank %d but is rank %d (multiples "
                   "has %d entries, one per input dimension)" % (len(d), len(ml), len(ml)))
    if ml is not None:
        for v in ml:
            if v is not None and v < 0:
                raise _err("Tile", attrs, inputs, "Expected multiples argument to be "
                           "non-negative, but got %d" % v)
    if d is None:
        return [(x._dtype, _shape_from_list([None] * len(ml)) if ml is not None
                 else _ts.unknown_shape())]
    if ml is None:
        return [(x._dtype, shape_from_tuple((None,) * len(d)))]
    return [(x._dtype, shape_from_tuple(tuple(None if (a is None or b is None) else a * b
                                              for a, b in zip(d, ml))))]


def _tile_kernel(op, ctx):
    def tile_(x, m):
        reps = tuple(int(v) for v in np.asarray(m).reshape(-1))
        if len(reps) != np.ndim(x):
            raise errors.InvalidArgumentError(
                None, None, "Expected multiples argument to be a vector of length %d but got "
                "length %d" % (np.ndim(x), len(reps)))
        if any(r < 0 for r in reps):
            raise errors.InvalidArgumentError(None, None, "Expected multiples argument to be "
                                              "non-negative, but got %s" % list(reps))
        return np.tile(x, reps)
    return tile_


register_op("Tile", _tile_infer, _tile_kernel)


def tile(input, multiples, name=None):  # noqa: A002
    """Repeat `input` multiples[i] times along each axis i (op type Tile)."""
    if type(input) is _Tensor and type(multiples) is _Tensor:
        return _apply1("Tile", [input, multiples], {}, name)
    g = _ops._get_graph_from_inputs([input, multiples])
    with _op_scope(g, name, "Tile") as scope:
        x = _to_tensor(input, name="input")
        m = _index_tensor(multiples, "multiples")
        return _apply1("Tile", [x, m], {}, scope)


# ---- Pad, PadV2, MirrorPad ----------------------------------------------------------------------

def _pad_infer_for(op_type):
    def infer(inputs, attrs):
        x, p = inputs[0], inputs[1]
        _check_index_dtype(op_type, "paddings", p)
        if op_type == "PadV2":
            c = inputs[2]
            if c._dtype.base_dtype != x._dtype.base_dtype:
                raise TypeError("Input 'constant_values' of 'PadV2' Op has type %s that does "
                                "not match type %s of argument 'input'."
                                % (c._dtype.name, x._dtype.name))
            if c._shape._dims not in (None, ()):
                raise _err(op_type, attrs, inputs, "Shape must be rank 0 but is rank %d"
                           % len(c._shape._dims))
        d = x._shape._dims
        pd = p._shape._dims
        if pd is not None:
            if len(pd) != 2 or (pd[1] is not None and pd[1] != 2):
                raise _err(op_type, attrs, inputs, "paddings must be a matrix with 2 columns")
            if d is not None and pd[0] is not None and pd[0] != len(d):
                raise _err(op_type, attrs, inputs, "Shape must be rank %d but is rank %d "
                           "(paddings has %d rows, one per input dimension)"
                           % (pd[0], len(d), pd[0]))
        pv = constant_value(p)
        if pv is None:
            if d is not None:
                return [(x._dtype, shape_from_tuple((None,) * len(d)))]
            if pd is not None and pd[0] is not None:
                return [(x._dtype, shape_from_tuple((None,) * pd[0]))]
            return [(x._dtype, _ts.unknown_shape())]
        pv = np.asarray(pv).reshape(-1, 2)
        if (pv < 0).any():
            raise _err(op_type, attrs, inputs, "Paddings must be non-negative, got %s"
                       % pv.tolist())
        if d is None:
            d = (None,) * pv.shape[0]
        out = []
        for dim, (a, b) in zip(d, pv.tolist()):
            if op_type == "MirrorPad" and dim is not None:
                off = 0 if attrs["mode"] == "SYMMETRIC" else 1
                if a > dim - off or b > dim - off:
                    raise _err(op_type, attrs, inputs, "paddings must be no greater than the "
                               "dimension size: %d, %d greater than %d" % (a, b, dim - off)
                               if off == 0 else
                               "paddings must be less than the dimension size: %d, %d not "
                               "less than %d" % (a, b, dim))
            out.append(None if dim is None else dim + a + b)
        return [(x._dtype, shape_from_tuple(tuple(out)))]
    return infer


def _pad_values(x, p):
    pads = np.asarray(p).reshape(-1, 2)
    if pads.shape[0] != np.ndim(x):
        raise errors.InvalidArgumentError(
            None, None, "The first dimension of paddings must be the rank of inputs[%d, 2], "
            "got %s" % (np.ndim(x), list(pads.shape)))
    if (pads < 0).any():
        raise errors.InvalidArgumentError(None, None, "Paddings must be non-negative: %s"
                                          % pads.tolist())
    return [(int(a), int(b)) for a, b in pads]


def _constant_pad(x, pads, c):
    x = np.asarray(x)
    out_shape = tuple(s + a + b for s, (a, b) in zip(x.shape, pads))
    out = np.full(out_shape, c, dtype=x.dtype)
    out[tuple(_pyslice(a, a + s) for s, (a, _) in zip(x.shape, pads))] = x
    return out


def _pad_kernel(op, ctx):
    def pad_(x, p):
        return _constant_pad(x, _pad_values(x, p), 0)
    return pad_


def _padv2_kernel(op, ctx):
    def padv2_(x, p, c):
        return _constant_pad(x, _pad_values(x, p), c)
    return padv2_


def _mirror_pad_kernel(op, ctx):
    mode = op._attrs["mode"]
    np_mode = "symmetric" if mode == "SYMMETRIC" else "reflect"
    off = 0 if mode == "SYMMETRIC" else 1

    def mirror_pad_(x, p):
        pads = _pad_values(x, p)
        x = np.asarray(x)
        for dim, (a, b) in zip(x.shape, pads):
            if a > dim - off or b > dim - off:
                raise errors.InvalidArgumentError(
                    None, None, "paddings must be %s the dimension size: %d, %d %s %d"
                    % (("no greater than", a, b, "greater than", dim) if off == 0
                       else ("less than", a, b, "not less than", dim)))
        return np.pad(x, pads, mode=np_mode)
    return mirror_pad_


register_op("Pad", _pad_infer_for("Pad"), _pad_kernel)
register_op("PadV2", _pad_infer_for("PadV2"), _padv2_kernel)
register_op("MirrorPad", _pad_infer_for("MirrorPad"), _mirror_pad_kernel)


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """Pad `tensor` with paddings[i] = [before, after] entries along each axis i.

    Args:
      mode: "CONSTANT" (op Pad, or PadV2 for a nonzero `constant_values`), "REFLECT" or
        "SYMMETRIC" (op MirrorPad; case-insensitive).
    """
    mode = mode.upper()
    g = _ops._get_graph_from_inputs([tensor, paddings, constant_values])
    if mode == "CONSTANT":
        if not _is_tensor_like(constant_values) and np.all(np.asarray(constant_values) == 0):
            op_type, default = "Pad", "Pad"
        else:
            op_type, default = "PadV2", "PadV2"
    elif mode in ("REFLECT", "SYMMETRIC"):
        op_type, default = "MirrorPad", "MirrorPad"
    else:
        raise ValueError("Unknown padding mode: %s" % mode)
    with _op_scope(g, name, default) as scope:
        x = _to_tensor(tensor, name="input")
        p = _index_tensor(paddings, "paddings")
        if op_type == "PadV2":
            c = _to_tensor(constant_values, dtype=None if _is_tensor_like(constant_values)
                           else x._dtype, name="constant_values")
            return _apply1("PadV2", [x, p, c], {}, scope)
        attrs = {"mode": mode} if op_type == "MirrorPad" else {}
        return _apply1(op_type, [x, p], attrs, scope)


# ---- ReverseV2, ReverseSequence -----------------------------------------------------------------

def _reverse_infer(inputs, attrs):
    x, a = inputs
    _check_index_dtype("ReverseV2", "axis", a)
    d = x._shape._dims
    al = _const_list(a)
    if d is not None and al is not None:
        r = len(d)
        seen = set()
        for v in al:
            if v is None:
                continue
            if not -r <= v < r:
                raise _err("ReverseV2", attrs, inputs, "axis %d is out of valid range [%d, %d)"
                           % (v, -r, r))
            v = v + r if v < 0 else v
            if v in seen:
                raise _err("ReverseV2", attrs, inputs, "axis %d specified more than once" % v)
            seen.add(v)
    return [(x._dtype, x._shape)]


def _reverse_key(ndim, axes):
    key = [_pyslice(None)] * ndim
    seen = set()
    for v in axes:
        v = int(v)
        if not -ndim <= v < ndim:
            raise errors.InvalidArgumentError(None, None, "'axis'[0] = %d is out of valid "
                                              "range [%d, %d)" % (v, -ndim, ndim))
        v = v + ndim if v < 0 else v
        if v in seen:
            raise errors.InvalidArgumentError(None, None, "axis %d specified more than once"
                                              % v)
        seen.add(v)
        key[v] = _pyslice(None, None, -1)
    return tuple(key)


def _reverse_kernel(op, ctx):
    a_c = constant_value(op._inputs[1])
    d = op._inputs[0]._shape._dims
    if a_c is not None and d is not None:
        key = _reverse_key(len(d), np.asarray(a_c).reshape(-1))

        def reverse_static(x, a):
            return x[key]
        return reverse_static

    def reverse_(x, a):
        return x[_reverse_key(np.ndim(x), np.asarray(a).reshape(-1))]
    return reverse_


register_op("ReverseV2", _reverse_infer, _reverse_kernel, aliases=True)


def reverse(tensor, axis, name=None):
    """Reverse `tensor` along the dimensions in `axis` (op type ReverseV2)."""
    if type(tensor) is _Tensor and type(axis) is _Tensor:
        return _apply1("ReverseV2", [tensor, axis], {}, name)
    g = _ops._get_graph_from_inputs([tensor, axis])
    with _op_scope(g, name, "ReverseV2") as scope:
        x = _to_tensor(tensor, name="tensor")
        if isinstance(axis, (int, np.integer)):
            axis = [int(axis)]
        a = _index_tensor(axis, "axis")
        return _apply1("ReverseV2", [x, a], {}, scope)


reverse_v2 = reverse


def _reverse_sequence_infer(inputs, attrs):
    x, lens = inputs
    _check_index_dtype("ReverseSequence", "seq_lengths", lens)
    d = x._shape._dims
    if d is not None:
        r = len(d)
        for nm in ("seq_dim", "batch_dim"):
            if not 0 <= attrs[nm] < r:
                raise _err("ReverseSequence", attrs, inputs, "%s must be < input rank %d, got "
                           "%d" % (nm, r, attrs[nm]))
        if attrs["seq_dim"] == attrs["batch_dim"]:
            raise _err("ReverseSequence", attrs, inputs, "seq_dim and batch_dim must be "
                       "different (both are %d)" % attrs["seq_dim"])
    return [(x._dtype, x._shape)]


def _reverse_sequence_kernel(op, ctx):
    sd = op._attrs["seq_dim"]
    bd = op._attrs["batch_dim"]

    def reverse_sequence_(x, lens):
        x = np.asarray(x)
        out = np.array(x, copy=True)
        lens = np.asarray(lens).reshape(-1)
        if lens.shape[0] != x.shape[bd]:
            raise errors.InvalidArgumentError(None, None, "Length of seq_lengths != "
                                              "input.dims(%d), (%d vs. %d)"
                                              % (bd, lens.shape[0], x.shape[bd]))
        sd_after = sd - 1 if bd < sd else sd
        for b, n in enumerate(lens.tolist()):
            if n < 0 or n > x.shape[sd]:
                raise errors.InvalidArgumentError(
                    None, None, "seq_lens(%d) > input.dims(%d)" % (b, sd) if n > 0
                    else "seq_lens(%d) < 0" % b)
            key = [_pyslice(None)] * x.ndim
            key[bd] = b
            key[sd] = _pyslice(0, n)
            key = tuple(key)
            out[key] = np.flip(x[key], axis=sd_after)
        return out
    return reverse_sequence_


register_op("ReverseSequence", _reverse_sequence_infer, _reverse_sequence_kernel)


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None,
                     seq_dim=None, batch_dim=None):  # noqa: A002
    """Reverse the first seq_lengths[b] entries along `seq_axis` of each batch entry b."""
    seq_axis = seq_axis if seq_axis is not None else seq_dim
    batch_axis = batch_axis if batch_axis is not None else (batch_dim or 0)
    if seq_axis is None:
        raise ValueError("seq_axis (seq_dim) is required")
    x = _to_tensor(input, name="input")
    lens = _index_tensor(seq_lengths, "seq_lengths")
    r = x._shape.ndims
    sa = seq_axis + r if (seq_axis < 0 and r is not None) else seq_axis
    ba = batch_axis + r if (batch_axis < 0 and r is not None) else batch_axis
    return _apply1("ReverseSequence", [x, lens], {"seq_dim": int(sa), "batch_dim": int(ba)},
                   name)


# ---- StopGradient, IdentityN --------------------------------------------------------------------

register_op("StopGradient", same_as_input, _identity_kernel, aliases=True)


def stop_gradient(input, name=None):  # noqa: A002
    """Identity at run time; gradients do not flow through it (op type StopGradient)."""
    x = _to_tensor(input, name="input")
    return _apply1("StopGradient", [x], {}, name)


def _identity_n_infer(inputs, attrs):
    return [(x._dtype, x._shape) for x in inputs]


def _identity_n_kernel(op, ctx):
    def identity_n_(*xs):
        return xs
    return identity_n_


register_op("IdentityN", _identity_n_infer, _identity_n_kernel, aliases=True)


def identity_n(input, name=None):  # noqa: A002
    """Identity of each tensor in a list (op type IdentityN)."""
    xs = [_to_tensor(v) for v in input]
    return list(_apply("IdentityN", xs, {}, name)._outputs)


# ---- BroadcastTo --------------------------------------------------------------------------------

def _broadcast_to_infer(inputs, attrs):
    x, s = inputs
    _check_index_dtype("BroadcastTo", "shape", s)
    target = _const_list(s)
    if target is None:
        return [(x._dtype, _ts.unknown_shape())]
    for v in target:
        if v is not None and v < 0:
            raise _err("BroadcastTo", attrs, inputs, "Broadcast dimensions must be >= 0, got "
                       "%s" % _list_str(target))
    d = x._shape._dims
    if d is not None:
        if len(d) > len(target):
            raise _err("BroadcastTo", attrs, inputs, "Rank of input (%d) must be no greater "
                       "than rank of output shape (%d)" % (len(d), len(target)))
        off = len(target) - len(d)
        out = list(target)
        for i, a in enumerate(d):
            b = target[off + i]
            if a is not None and b is not None and a != 1 and a != b:
                raise _err("BroadcastTo", attrs, inputs, "Incompatible shapes: %s vs. %s"
                           % (_list_str(d), _list_str(target)))
            if b is None and a is not None and a != 1:
                out[off + i] = a
        return [(x._dtype, shape_from_tuple(tuple(out)))]
    return [(x._dtype, shape_from_tuple(tuple(target)))]


def _broadcast_to_kernel(op, ctx):
    ndarray = np.ndarray

    def broadcast_to_(x, s):
        if type(s) is ndarray and s.ndim == 1 and s.dtype.kind == "i":
            target = tuple(s.tolist())
        else:
            target = tuple(int(v) for v in np.asarray(s).reshape(-1))
        if isinstance(x, np.generic):
            x = np.asarray(x)  # a numpy scalar (what scalar arithmetic returns)
        if type(x) is np.ndarray and x.size == 1 and x.ndim <= len(target):
            # A scalar gradient spread over a batch (every mean loss): np.full is several
            # times cheaper than np.broadcast_to's iterator set-up.
            return np.full(target, x.reshape(()), dtype=x.dtype)
        try:
            return np.broadcast_to(x, target)
        except ValueError:
            raise errors.InvalidArgumentError(
                None, None, "Incompatible shapes: %s vs. %s"
                % (_list_str(np.shape(x)), _list_str(target))) from None
    return broadcast_to_


register_op("BroadcastTo", _broadcast_to_infer, _broadcast_to_kernel, aliases=True)


def broadcast_to(input, shape, name=None):  # noqa: A002
    """Broadcast `input` to `shape` with numpy rules (op type BroadcastTo)."""
    if type(input) is _Tensor and type(shape) is _Tensor:
        return _apply1("BroadcastTo", [input, shape], {}, name)
    g = _ops._get_graph_from_inputs([input, shape])
    with _op_scope(g, name, "BroadcastTo") as scope:
        x = _to_tensor(input, name="input")
        s = _index_tensor(shape, "shape")
        return _apply1("BroadcastTo", [x, s], {}, scope)


def broadcast_static_shape(shape_x, shape_y):
    """The broadcast of two static TensorShapes (ValueError if incompatible)."""
    return _ts.broadcast_static_shape(shape_x, shape_y)


def _bargs_infer(inputs, attrs):
    a, b = inputs
    if a._dtype.base_dtype != b._dtype.base_dtype:
        raise TypeError("Input 's1' of 'BroadcastArgs' Op has type %s that does not match type "
                        "%s of argument 's0'." % (b._dtype.name, a._dtype.name))
    la, lb = _const_list(a), _const_list(b)
    n = None if (la is None or lb is None) else _pymax(len(la), len(lb))
    return [(a._dtype, shape_from_tuple((n,)))]


def _bargs_kernel(op, ctx):
    np_dt = op._outputs[0]._dtype.as_numpy_dtype

    def broadcast_args_(a, b):
        try:
            return np.array(np.broadcast_shapes(tuple(int(v) for v in a),
                                                tuple(int(v) for v in b)), dtype=np_dt)
        except ValueError:
            raise errors.InvalidArgumentError(None, None, "Incompatible shapes: %s vs. %s"
                                              % (_list_str(a), _list_str(b))) from None
    return broadcast_args_


register_op("BroadcastArgs", _bargs_infer, _bargs_kernel)


def broadcast_dynamic_shape(shape_x, shape_y):
    """The broadcast shape of two 1-D shape tensors (op type BroadcastArgs)."""
    a = _index_tensor(shape_x, "s0")
    b = _index_tensor(shape_y, "s1")
    return _apply1("BroadcastArgs", [a, b], {})


# ---- BooleanMask, SequenceMask ------------------------------------------------------------------

def _boolean_mask_infer(inputs, attrs):
    x, m = inputs
    if m._dtype.base_dtype != _dtypes.bool:
        raise TypeError("Input 'mask' of 'BooleanMask' Op has type %s that does not match "
                        "expected type of bool." % m._dtype.name)
    md = m._shape._dims
    d = x._shape._dims
    axis = attrs["axis"]
    k = len(md)
    if d is None:
        return [(x._dtype, _ts.unknown_shape())]
    if axis + k > len(d):
        raise ValueError("Shapes %s and %s are incompatible (mask of rank %d at axis %d needs "
                         "a tensor of rank >= %d)" % (x._shape, m._shape, k, axis, axis + k))
    part = shape_from_tuple(d[axis:axis + k])
    if not part.is_compatible_with(m._shape):
        raise ValueError("Shapes %s and %s are incompatible" % (part, m._shape))
    return [(x._dtype, shape_from_tuple(d[:axis] + (None,) + d[axis + k:]))]


def _boolean_mask_kernel(op, ctx):
    axis = op._attrs["axis"]
    lead = (_pyslice(None),) * axis

    def boolean_mask_(x, m):
        try:
            return np.asarray(x)[lead + (np.asarray(m, dtype=bool),)]
        except IndexError:
            raise errors.InvalidArgumentError(
                None, None, "mask of shape %s does not match dimensions %d.. of the tensor of "
                "shape %s" % (_list_str(np.shape(m)), axis, _list_str(np.shape(x)))) from None
    return boolean_mask_


register_op("BooleanMask", _boolean_mask_infer, _boolean_mask_kernel)


def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    """The entries of `tensor` where the boolean `mask` is True (over dims axis..axis+k).

    Output shape: tensor.shape[:axis] + [num_true] + tensor.shape[axis+k:]. Built as one
    BooleanMask op inside a "boolean_mask" name scope (TF1 uses reshape/where/gather).
    """
    g = _ops._get_graph_from_inputs([tensor, mask])
    with _op_scope(g, name, values=[tensor, mask]):
        x = _to_tensor(tensor, name="tensor")
        m = _to_tensor(mask, name="mask")
        md = m._shape._dims
        if md is None:
            raise ValueError("Number of mask dimensions must be specified, even if some "
                             "dimensions are None.  E.g. shape=[None] is ok, but shape=None "
                             "is not.")
        if len(md) == 0:
            raise ValueError("mask cannot be scalar.")
        axis = 0 if axis is None else int(axis)
        if axis < 0:
            if x._shape.ndims is None:
                raise ValueError("axis must be non-negative when the rank of the tensor is "
                                 "unknown")
            axis += x._shape.ndims
        return _apply1("BooleanMask", [x, m], {"axis": axis})


def _sequence_mask_infer(inputs, attrs):
    lens = inputs[0]
    _check_index_dtype("SequenceMask", "lengths", lens, _INDEX + (_dtypes.int16,
                                                                  _dtypes.int8))
    n = _const_scalar(inputs[1]) if len(inputs) > 1 else None
    d = lens._shape._dims
    if d is None:
        return [(attrs["dtype"], _ts.unknown_shape())]
    return [(attrs["dtype"], shape_from_tuple(d + (n,)))]


def _sequence_mask_kernel(op, ctx):
    np_dt = op._attrs["dtype"].as_numpy_dtype

    def sequence_mask_(lengths, maxlen=None):
        lengths = np.asarray(lengths)
        n = int(maxlen) if maxlen is not None else (
            _pymax(int(lengths.max()), 0) if lengths.size else 0)
        out = np.arange(_pymax(n, 0)) < lengths[..., None]
        return out if np_dt is np.bool_ else out.astype(np_dt)
    return sequence_mask_


register_op("SequenceMask", _sequence_mask_infer, _sequence_mask_kernel)


def sequence_mask(lengths, maxlen=None, dtype=_dtypes.bool, name=None):
    """mask[i..., j] = j < lengths[i...], with maxlen columns (default: max(lengths)).

    Built as one SequenceMask op in a "SequenceMask" name scope.
    """
    g = _ops._get_graph_from_inputs([lengths, maxlen])
    with _op_scope(g, name, "SequenceMask", [lengths, maxlen]):
        ln = _to_tensor(lengths, name="lengths")
        ins = [ln]
        if maxlen is not None:
            mx = _to_tensor(maxlen, name="maxlen")
            if mx._shape._dims not in (None, ()):
                raise ValueError("maxlen must be scalar for sequence_mask")
            ins.append(mx)
        return _apply1("SequenceMask", ins, {"dtype": _dtypes.as_dtype(dtype).base_dtype})


# ---- InvertPermutation, Unique, ListDiff --------------------------------------------------------

def _invert_perm_infer(inputs, attrs):
    x = inputs[0]
    _check_index_dtype("InvertPermutation", "x", x)
    d = x._shape._dims
    if d is not None and len(d) != 1:
        raise _err("InvertPermutation", attrs, inputs, "Shape must be rank 1 but is rank %d"
                   % len(d))
    return [(x._dtype, x._shape if d is not None else shape_from_tuple((None,)))]


def _invert_perm_kernel(op, ctx):
    def invert_permutation_(x):
        x = np.asarray(x)
        n = x.shape[0]
        if sorted(x.tolist()) != list(_pyrange(n)):
            raise errors.InvalidArgumentError(None, None, "%s is not a permutation of "
                                              "[0 .. %d)" % (x.tolist(), n))
        out = np.empty_like(x)
        out[x] = np.arange(n, dtype=x.dtype)
        return out
    return invert_permutation_


register_op("InvertPermutation", _invert_perm_infer, _invert_perm_kernel)


def invert_permutation(x, name=None):
    """y such that y[x[i]] = i (op type InvertPermutation)."""
    return _apply1("InvertPermutation", [_index_tensor(x, "x")], {}, name)


def _unique_infer(inputs, attrs):
    x = inputs[0]
    d = x._shape._dims
    if d is not None and len(d) != 1:
        raise _err("Unique", attrs, inputs, "Shape must be rank 1 but is rank %d" % len(d))
    return [(x._dtype, shape_from_tuple((None,))),
            (attrs["out_idx"], x._shape if d is not None else shape_from_tuple((None,)))]


def _unique_kernel(op, ctx):
    idx_dt = op._attrs["out_idx"].as_numpy_dtype

    def unique_(x):
        x = np.asarray(x)
        _, first, inv = np.unique(x, return_index=True, return_inverse=True)
        # TF orders the unique values by first occurrence, numpy sorts them.
        order = np.argsort(first, kind="stable")
        rank_of = np.empty_like(order)
        rank_of[order] = np.arange(order.size)
        return x[np.sort(first)], rank_of[inv.reshape(-1)].astype(idx_dt)
    return unique_


register_op("Unique", _unique_infer, _unique_kernel)


def unique(x, out_idx=_dtypes.int32, name=None):
    """(y, idx): the unique values of 1-D `x` in order of first occurrence, and for each
    element of `x` its index in y (op type Unique)."""
    t = _to_tensor(x, name="x")
    op = _apply("Unique", [t], {"out_idx": _check_out_type(out_idx)}, name)
    return tuple(op._outputs)


def _listdiff_infer(inputs, attrs):
    x, y = inputs
    if x._dtype.base_dtype != y._dtype.base_dtype:
        raise TypeError("Input 'y' of 'ListDiff' Op has type %s that does not match type %s "
                        "of argument 'x'." % (y._dtype.name, x._dtype.name))
    for t in inputs:
        d = t._shape._dims
        if d is not None and len(d) != 1:
            raise _err("ListDiff", attrs, inputs, "Shape must be rank 1 but is rank %d"
                       % len(d))
    return [(x._dtype, shape_from_tuple((None,))),
            (attrs["out_idx"], shape_from_tuple((None,)))]


def _listdiff_kernel(op, ctx):
    idx_dt = op._attrs["out_idx"].as_numpy_dtype

    def listdiff_(x, y):
        x = np.asarray(x)
        keep = ~np.isin(x, np.asarray(y))
        idx = np.nonzero(keep)[0].astype(idx_dt)
        return x[keep], idx
    return listdiff_


register_op("ListDiff", _listdiff_infer, _listdiff_kernel)


def setdiff1d(x, y, index_dtype=_dtypes.int32, name=None):
    """(out, idx): the values of 1-D `x` not in `y`, in order, and their positions in `x`."""
    a = _to_tensor(x, name="x")
    b = _to_tensor(y, dtype=None if _is_tensor_like(y) else a._dtype, name="y")
    op = _apply("ListDiff", [a, b], {"out_idx": _check_out_type(index_dtype)}, name)
    return tuple(op._outputs)


# ---- meshgrid -----------------------------------------------------------------------------------

def meshgrid(*args, **kwargs):
    """Coordinate matrices from 1-D coordinate vectors (numpy's meshgrid; indexing "xy" or
    "ij"). Built from Reshape and BroadcastTo ops in a "meshgrid" name scope."""
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        key = list(kwargs.keys())[0]
        raise TypeError("'{}' is an invalid keyword argument for this function".format(key))
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing parameter must be either 'xy' or 'ij'")
    with _ops.name_scope(name, "meshgrid", args):
        ndim = len(args)
        xs = [_to_tensor(a) for a in args]
        s0 = (1,) * ndim
        outs = []
        for i, x in enumerate(xs):
            outs.append(reshape(x, s0[:i] + (-1,) + s0[i + 1:]))
        sizes = [size(x) for x in xs]
        if indexing == "xy" and ndim > 1:
            outs[0] = reshape(xs[0], (1, -1) + (1,) * (ndim - 2))
            outs[1] = reshape(xs[1], (-1, 1) + (1,) * (ndim - 2))
            sizes[0], sizes[1] = sizes[1], sizes[0]
        target = stack(sizes)
        return [broadcast_to(o, target) for o in outs]


# =================================================================================================
# Gradients of the array ops (TF1 semantics), plus the helper ops they need: StridedSliceGrad
# and MirrorPadGrad (IndexedSlices are densified with math_ops.unsorted_segment_sum).
# Rules build ordinary graph ops, so second derivatives work; shapes are constants whenever
# they are statically known and `shape(x)` at run time otherwise.
# =================================================================================================

from headwater.gradients import IndexedSlices, NotDifferentiable, RegisterGradient  # noqa: E402


def _math():
    # math_ops imports array_ops lazily too; keep this direction lazy as both load at import.
    from headwater.ops import math_ops
    return math_ops


# ---- StridedSliceGrad ---------------------------------------------------------------------------

def _ss_grad_infer(inputs, attrs):
    shp, b, e, s, dy = inputs
    for t, nm in ((shp, "shape"), (b, "begin"), (e, "end"), (s, "strides")):
        _check_index_dtype("StridedSliceGrad", nm, t)
    return [(dy._dtype.base_dtype, _shape_from_list(_const_list(shp)))]


def _ss_grad_kernel(op, ctx):
    attrs = {k: op._attrs[k] for k in _SS_MASKS}
    vals = [constant_value(t) for t in op._inputs[1:4]]
    key_c = _ss_key(vals[0], vals[1], vals[2], attrs) if all(
        v is not None for v in vals) else None

    def strided_slice_grad_(shp, b, e, s, dy):
        key = key_c
        if key is None:
            key = _ss_key(np.asarray(b).reshape(-1), np.asarray(e).reshape(-1),
                          np.asarray(s).reshape(-1), attrs)
        dy = np.asarray(dy)
        out = np.zeros(tuple(int(d) for d in shp), dtype=dy.dtype)
        try:
            out[key] = dy
        except (IndexError, ValueError) as err:
            raise errors.InvalidArgumentError(
                None, None, "StridedSliceGrad: gradient of shape %s does not fit the slice of "
                "a tensor of shape %s: %s" % (_list_str(dy.shape), _list_str(out.shape), err)) \
                from None
        return out
    return strided_slice_grad_


register_op("StridedSliceGrad", _ss_grad_infer, _ss_grad_kernel)


def _strided_slice_grad(shape_t, begin, end, strides, dy, attrs, name=None):
    return _apply1("StridedSliceGrad", [shape_t, begin, end, strides, dy], dict(attrs), name)


# ---- MirrorPadGrad ------------------------------------------------------------------------------

def _mirror_pad_grad_infer(inputs, attrs):
    g, p = inputs
    _check_index_dtype("MirrorPadGrad", "paddings", p)
    d = g._shape._dims
    pv = constant_value(p)
    if d is None or pv is None:
        return [(g._dtype.base_dtype, _ts.unknown_shape() if d is None
                 else shape_from_tuple((None,) * len(d)))]
    pv = np.asarray(pv).reshape(-1, 2)
    if pv.shape[0] != len(d):
        raise _err("MirrorPadGrad", attrs, inputs, "paddings must have one row per dimension "
                   "of the gradient (%d), got %d" % (len(d), pv.shape[0]))
    return [(g._dtype.base_dtype, shape_from_tuple(tuple(
        None if dim is None else dim - int(a) - int(b) for dim, (a, b) in zip(d, pv))))]


def _mirror_pad_grad_kernel(op, ctx):
    np_mode = "symmetric" if op._attrs["mode"] == "SYMMETRIC" else "reflect"

    def mirror_pad_grad_(g, p):
        g = np.asarray(g)
        pads = _pad_values(g, p)
        for ax, (a, b) in enumerate(pads):
            if a == 0 and b == 0:
                continue
            n = g.shape[ax] - a - b
            # Padding the positions 0..n-1 the same way tells where every padded entry came
            # from; summing the gradient by that source index folds the mirrors back.
            src = np.pad(np.arange(n), (a, b), mode=np_mode)
            moved = np.moveaxis(g, ax, 0)
            out = np.zeros((n,) + moved.shape[1:], dtype=g.dtype)
            np.add.at(out, src, moved)
            g = np.moveaxis(out, 0, ax)
        return np.ascontiguousarray(g)
    return mirror_pad_grad_


register_op("MirrorPadGrad", _mirror_pad_grad_infer, _mirror_pad_grad_kernel)


# ---- helpers for the rules ----------------------------------------------------------------------

def _dense(g):
    """`g` as a dense Tensor (IndexedSlices are summed into their dense shape)."""
    if not isinstance(g, IndexedSlices):
        return g
    if g.dense_shape is None:
        raise ValueError("Cannot densify an IndexedSlices gradient without dense_shape: %s" % g)
    ds = constant_value(g.dense_shape)
    n = int(ds[0]) if ds is not None else gather(g.dense_shape, 0)
    return _math().unsorted_segment_sum(g.values, g.indices, n)


def _static_dims(t):
    d = t._shape._dims
    if d is None or None in d:
        return None
    return d


def _dims_vector(parts, dtype=_int32):
    """A 1-D int tensor from a list of Python ints and scalar/1-D int tensors (Const if all
    parts are ints)."""
    if all(type(p) is int for p in parts):
        return _int_const([int(p) for p in parts], "Const", dtype=dtype)
    pieces = []
    ints = []
    for p in parts:
        if type(p) is int:
            ints.append(p)
            continue
        if ints:
            pieces.append(_int_const(ints, "Const", dtype=dtype))
            ints = []
        if p._dtype.base_dtype != dtype:
            p = _math().cast(p, dtype)
        pieces.append(reshape(p, [-1]) if p._shape._dims != (1,) else p)
    if ints:
        pieces.append(_int_const(ints, "Const", dtype=dtype))
    return pieces[0] if len(pieces) == 1 else concat(pieces, 0)


def _shape_slice(t, start, stop, shape_t=None):
    """dims start..stop of `t`'s shape: a list of ints if statically known, else a 1-D tensor."""
    d = t._shape._dims
    if d is not None and None not in d[start:stop]:
        return list(d[start:stop])
    if shape_t is None:
        shape_t = shape(t)
    return [shape_t[start:stop]]


def _is_zero_fill(g):
    """True if `g` is a zeros tensor made by the gradient machinery (no contribution)."""
    if g is None:
        return True
    if isinstance(g, IndexedSlices):
        return False
    ty = g._op._type
    if ty == "ZerosLike":
        return True
    if ty == "Const":
        v = g._op._attrs["value"]
        return not np.any(v)
    if ty == "Fill":
        v = constant_value(g._op._inputs[1])
        return v is not None and not np.any(v)
    return False


# ---- identities ---------------------------------------------------------------------------------

@RegisterGradient("Identity")
def _identity_grad(op, grad):
    return grad


@RegisterGradient("PlaceholderWithDefault")
def _placeholder_with_default_grad(op, grad):
    return grad


@RegisterGradient("IdentityN")
def _identity_n_grad(op, *grads):
    return list(grads)


# ---- reshaping ----------------------------------------------------------------------------------

def _reshape_to_input(op, grad):
    return reshape(_dense(grad), shape(op._inputs[0]))


@RegisterGradient("Reshape")
def _reshape_grad(op, grad):
    return [_reshape_to_input(op, grad), None]


@RegisterGradient("ExpandDims")
def _expand_dims_grad(op, grad):
    return [_reshape_to_input(op, grad), None]


@RegisterGradient("Squeeze")
def _squeeze_grad(op, grad):
    return [_reshape_to_input(op, grad)]


def _inverse_perm(p):
    pc = constant_value(p)
    if pc is not None:
        return [int(v) for v in np.argsort(np.asarray(pc).reshape(-1))]
    return invert_permutation(p)


@RegisterGradient("Transpose")
def _transpose_grad(op, grad):
    return [transpose(_dense(grad), _inverse_perm(op._inputs[1])), None]


@RegisterGradient("ConjugateTranspose")
def _conjugate_transpose_grad(op, grad):
    return [transpose(_dense(grad), _inverse_perm(op._inputs[1]), conjugate=True), None]


# ---- joining and splitting ----------------------------------------------------------------------

@RegisterGradient("ConcatV2")
def _concat_grad(op, grad):
    values, axis_t = op._inputs[:-1], op._inputs[-1]
    grad = _dense(grad)
    n = len(values)
    axis = _const_scalar(axis_t)
    rank_ = next((len(v._shape._dims) for v in values if v._shape._dims is not None), None)
    if rank_ is None and grad._shape._dims is not None:
        rank_ = len(grad._shape._dims)
    if axis is not None and rank_ is not None:
        ax = axis + rank_ if axis < 0 else axis
        sizes = []
        for v in values:
            d = v._shape._dims
            sizes.append(d[ax] if d is not None and d[ax] is not None else shape(v)[ax])
        if all(type(s) is int for s in sizes):
            return split(grad, sizes, axis=ax) + [None]
        return split(grad, stack(sizes), axis=ax, num=n) + [None]
    # Axis only known at run time (negative values count from the end).
    m = _math()
    ax_t = axis_t if axis_t._dtype.base_dtype == _int32 else m.cast(axis_t, _int32)
    ax_t = m.floormod(ax_t, rank(grad))
    sizes_t = stack([gather(shape(v), ax_t) for v in values])
    return split(grad, sizes_t, axis=ax_t, num=n) + [None]


@RegisterGradient("Pack")
def _pack_grad(op, grad):
    return unstack(_dense(grad), num=op._attrs["N"], axis=op._attrs["axis"])


def _dense_or_zeros(grads, outputs):
    return [_dense(g) if g is not None else zeros_like(t) for g, t in zip(grads, outputs)]


@RegisterGradient("Unpack")
def _unpack_grad(op, *grads):
    return stack(_dense_or_zeros(grads, op._outputs), axis=op._attrs["axis"])


@RegisterGradient("Split")
def _split_grad(op, *grads):
    return [None, concat(_dense_or_zeros(grads, op._outputs), op._inputs[0])]


@RegisterGradient("SplitV")
def _splitv_grad(op, *grads):
    return [concat(_dense_or_zeros(grads, op._outputs), op._inputs[2]), None, None]


# ---- slicing ------------------------------------------------------------------------------------

@RegisterGradient("Slice")
def _slice_grad(op, grad):
    x, b, _ = op._inputs
    grad = _dense(grad)
    idx_dt = b._dtype.base_dtype
    bc = constant_value(b)
    xd = _static_dims(x)
    od = _static_dims(op._outputs[0])
    if bc is not None and xd is not None and od is not None:
        bl = [int(v) for v in np.asarray(bc).reshape(-1)]
        pads = [[bi, xi - bi - oi] for bi, xi, oi in zip(bl, xd, od)]
        paddings = _int_const(pads, "paddings", dtype=idx_dt)
    else:
        after = shape(x, out_type=idx_dt) - b - shape(op._outputs[0], out_type=idx_dt)
        paddings = stack([b, after], axis=1)
    return [pad(grad, paddings), None, None]


@RegisterGradient("StridedSlice")
def _strided_slice_grad_rule(op, grad):
    x, b, e, s = op._inputs
    attrs = {k: op._attrs[k] for k in _SS_MASKS}
    dx = _strided_slice_grad(shape(x, out_type=b._dtype.base_dtype), b, e, s, _dense(grad),
                             attrs)
    return [dx, None, None, None]


@RegisterGradient("StridedSliceGrad")
def _strided_slice_grad_grad(op, grad):
    _, b, e, s, _ = op._inputs
    attrs = {k: op._attrs[k] for k in _SS_MASKS}
    return [None, None, None, None, _apply1("StridedSlice", [_dense(grad), b, e, s], attrs)]


# ---- gathering and scattering -------------------------------------------------------------------

@RegisterGradient("GatherV2")
def _gather_grad(op, grad):
    params, indices, axis_t = op._inputs
    grad = _dense(grad)
    bd = op._attrs["batch_dims"]
    axis = _const_scalar(axis_t)
    pd = params._shape._dims
    idd = indices._shape._dims
    if axis is None or ((axis < 0 or bd < 0) and (pd is None or idd is None)):
        raise LookupError("Gradient of '%s' (GatherV2) needs its axis (and, for negative "
                          "axis/batch_dims, the ranks of params and indices) at graph-build "
                          "time." % op.name)
    if axis < 0:
        axis += len(pd)
    if bd < 0:
        bd += len(idd)
    params_shape = shape(params)
    if axis == 0 and bd == 0:
        # TF1: a sparse gradient, so embedding lookups update only the rows they read.
        n = indices._shape.num_elements()
        n = n if n is not None else size(indices)
        values_shape = _dims_vector([n] + _shape_slice(params, 1, None, params_shape))
        values = reshape(grad, values_shape)
        flat_idx = reshape(indices, [-1])
        return [IndexedSlices(values, flat_idx, params_shape), None, None]
    if pd is None or idd is None:
        raise LookupError("Gradient of '%s' (GatherV2) with axis %d / batch_dims %d needs the "
                          "ranks of params and indices at graph-build time." % (op.name, axis,
                                                                              bd))
    return [_gather_dense_grad(params, indices, grad, axis, bd, params_shape), None, None]


def _gather_dense_grad(params, indices, grad, a, b, params_shape):
    """Dense gradient of gather(params, indices, axis=a, batch_dims=b) with static ranks.

    params = B + O + [n] + T, indices = B + J, grad = B + O + J + T. Move J before O, give each
    batch its own block of n segment ids, sum with UnsortedSegmentSum, and move [n] back.
    """
    m = _math()
    r = len(params._shape._dims)
    q = len(indices._shape._dims)
    nj = q - b
    perm = (list(_pyrange(b)) + list(_pyrange(a, a + nj)) + list(_pyrange(b, a))
            + list(_pyrange(a + nj, r - 1 + nj)))
    g = grad if perm == list(_pyrange(len(perm))) else transpose(grad, perm)
    pdims = params._shape._dims
    n_axis = pdims[a] if pdims[a] is not None else params_shape[a]
    ids = indices
    if b:
        nb = params._shape[:b].num_elements()
        nb = nb if nb is not None else m.reduce_prod(params_shape[:b])
        # Batch k's ids live in [k*n, (k+1)*n).
        offsets = range(0, nb, dtype=ids._dtype.base_dtype) * m.cast(
            n_axis, ids._dtype.base_dtype) if not isinstance(n_axis, int) else \
            range(0, nb, dtype=ids._dtype.base_dtype) * _int_const(
                n_axis, "n", dtype=ids._dtype.base_dtype)
        offsets = reshape(offsets, _dims_vector(_shape_slice(params, 0, b, params_shape)
                                                + [1] * nj))
        ids = ids + offsets
        nseg = nb * n_axis if (isinstance(nb, int) and isinstance(n_axis, int)) else \
            m.cast(nb, _int32) * m.cast(n_axis, _int32)
    else:
        nseg = n_axis
    ni = indices._shape.num_elements()
    ni = ni if ni is not None else size(indices)
    inner = _shape_slice(params, b, a, params_shape) + _shape_slice(params, a + 1, None,
                                                                    params_shape)
    values = reshape(g, _dims_vector([ni] + inner))
    summed = m.unsorted_segment_sum(values, reshape(ids, [-1]), nseg)
    # summed: [nB * n] + O + T -> B + [n] + O + T -> B + O + [n] + T
    out = reshape(summed, _dims_vector(_shape_slice(params, 0, b, params_shape) + [n_axis]
                                       + inner))
    back = (list(_pyrange(b)) + list(_pyrange(b + 1, a + 1)) + [b]
            + list(_pyrange(a + 1, r)))
    if back != list(_pyrange(r)):
        out = transpose(out, back)
    return out


@RegisterGradient("GatherNd")
def _gather_nd_grad(op, grad):
    params, indices = op._inputs
    return [scatter_nd(indices, _dense(grad), shape(params, out_type=indices._dtype.base_dtype)),
            None]


@RegisterGradient("ScatterNd")
def _scatter_nd_grad(op, grad):
    return [None, gather_nd(_dense(grad), op._inputs[0]), None]


@RegisterGradient("BooleanMask")
def _boolean_mask_grad(op, grad):
    x, mask = op._inputs
    axis = op._attrs["axis"]
    grad = _dense(grad)
    coords = _math().where(mask)  # [num_true, k] int64
    x_shape = shape(x, out_type=_int64)
    if axis == 0:
        return [scatter_nd(coords, grad, x_shape), None]
    xd = x._shape._dims
    if xd is None:
        raise LookupError("Gradient of '%s' (BooleanMask) with axis %d needs the rank of the "
                          "tensor at graph-build time." % (op.name, axis))
    r = len(xd)
    k = len(mask._shape._dims)
    rg = r - k + 1
    # Bring the masked axis to the front so ScatterNd can place the rows, then restore.
    perm = [axis] + list(_pyrange(axis)) + list(_pyrange(axis + 1, rg))
    gt = transpose(grad, perm)
    target = _dims_vector(_shape_slice(x, axis, axis + k, x_shape)
                          + _shape_slice(x, 0, axis, x_shape)
                          + _shape_slice(x, axis + k, None, x_shape), dtype=_int64)
    st = scatter_nd(coords, gt, target)
    back = list(_pyrange(k, k + axis)) + list(_pyrange(k)) + list(_pyrange(k + axis, r))
    return [transpose(st, back), None]


# ---- tiling, padding, reversing, broadcasting ---------------------------------------------------

@RegisterGradient("Tile")
def _tile_grad(op, grad):
    x, mult = op._inputs
    grad = _dense(grad)
    m = _math()
    xd = _static_dims(x)
    mc = constant_value(mult)
    if xd is not None and mc is not None:
        ml = [int(v) for v in np.asarray(mc).reshape(-1)]
        split_shape = []
        for mi, xi in zip(ml, xd):
            split_shape += [mi, xi]
        axes = list(_pyrange(0, 2 * len(xd), 2))
        if not axes:
            return [grad, None]
        out = m.reduce_sum(reshape(grad, split_shape), axis=axes)
    else:
        in_shape = shape(x, out_type=mult._dtype.base_dtype)
        split_shape = reshape(transpose(stack([mult, in_shape])), [-1])
        axes = range(0, size(split_shape), 2)
        out = m.reduce_sum(reshape(grad, split_shape), axis=axes)
        out.set_shape(x._shape)
    return [out, None]


def _pad_grad(op, grad):
    x, p = op._inputs[0], op._inputs[1]
    grad = _dense(grad)
    pc = constant_value(p)
    idx_dt = p._dtype.base_dtype
    if pc is not None:
        begin = [int(v) for v in np.asarray(pc).reshape(-1, 2)[:, 0]]
    else:
        begin = reshape(slice(p, [0, 0], stack([rank(x), 1])), [-1])
    x_grad = slice(grad, begin, shape(x, out_type=idx_dt))
    # TF1 gives the constant_values of PadV2 no gradient.
    return [x_grad] + [None] * (len(op._inputs) - 1)


RegisterGradient("Pad")(_pad_grad)
RegisterGradient("PadV2")(_pad_grad)


@RegisterGradient("MirrorPad")
def _mirror_pad_grad_rule(op, grad):
    p = op._inputs[1]
    return [_apply1("MirrorPadGrad", [_dense(grad), p], {"mode": op._attrs["mode"]}), None]


@RegisterGradient("MirrorPadGrad")
def _mirror_pad_grad_grad(op, grad):
    p = op._inputs[1]
    return [_apply1("MirrorPad", [_dense(grad), p], {"mode": op._attrs["mode"]}), None]


@RegisterGradient("ReverseV2")
def _reverse_grad(op, grad):
    return [reverse(_dense(grad), op._inputs[1]), None]


@RegisterGradient("ReverseSequence")
def _reverse_sequence_grad(op, grad):
    return [reverse_sequence(_dense(grad), op._inputs[1], seq_axis=op._attrs["seq_dim"],
                             batch_axis=op._attrs["batch_dim"]), None]


@RegisterGradient("BroadcastTo")
def _broadcast_to_grad(op, grad):
    x = op._inputs[0]
    grad = _dense(grad)
    xd = _static_dims(x)
    if xd is not None and grad._shape._dims == xd:
        return [grad, None]
    return [_math().sum_to_shape(grad, shape(x)), None]


@RegisterGradient("Fill")
def _fill_grad(op, grad):
    return [None, _math().reduce_sum(_dense(grad))]


# ---- diagonals ----------------------------------------------------------------------------------

@RegisterGradient("MatrixDiag")
def _matrix_diag_grad(op, grad):
    return matrix_diag_part(_dense(grad))


@RegisterGradient("MatrixDiagPart")
def _matrix_diag_part_grad(op, grad):
    x = op._inputs[0]
    d = x._shape._dims
    grad = _dense(grad)
    if d is not None and None not in d[-2:] and d[-1] == d[-2]:
        return matrix_diag(grad)
    return matrix_set_diag(zeros_like(x), grad)


@RegisterGradient("MatrixSetDiag")
def _matrix_set_diag_grad(op, grad):
    grad = _dense(grad)
    return [matrix_set_diag(grad, zeros_like(op._inputs[1])), matrix_diag_part(grad)]


@RegisterGradient("MatrixBandPart")
def _matrix_band_part_grad(op, grad):
    return [matrix_band_part(_dense(grad), op._inputs[1], op._inputs[2]), None, None]


@RegisterGradient("Diag")
def _diag_grad(op, grad):
    return diag_part(_dense(grad))


@RegisterGradient("DiagPart")
def _diag_part_grad(op, grad):
    return diag(_dense(grad))


# ---- not differentiable -------------------------------------------------------------------------

# Integer/boolean-valued results, shape queries and gradient barriers (TF1 declares these).
for _t in ("StopGradient", "ZerosLike", "OnesLike", "OneHot", "Shape", "ShapeN", "Size", "Rank",
           "Range", "LinSpace", "SequenceMask", "BroadcastArgs", "InvertPermutation", "Unique",
           "ListDiff"):
    NotDifferentiable(_t)
del _t
