"""Math ops with numpy broadcasting and TF1 dtype rules (no silent promotion).

Every op type is registered once (static inference + kernel factory). Python wrappers follow
TF1's names, argument order and default op names; the operator overloads on `Tensor` (``a + b``
is named "add", ``tf.add`` is named "Add") live at the bottom.

Kernels are numpy ufuncs where possible so tiny tensors pay ~0.3 us per op; float32/float64
hot paths switch to `headwater._C` (when built) above a size threshold decided at bind time.
"""

from __future__ import annotations

import math as _math

import numpy as np

from headwater._native import _C
from headwater.framework import dtypes as _dt
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.framework.op_registry import get_op_def, register_op
from headwater.ops.common import binary_operands, check_same_dtype, proto_shape_str
from headwater.ops.common import shape_from_tuple as _shape
from headwater.ops.common import to_tensor

__all__ = [
    # binary arithmetic
    "add", "subtract", "multiply", "divide", "truediv", "realdiv", "div", "div_no_nan",
    "floordiv", "floor_div", "floormod", "mod", "truncatediv", "truncatemod", "pow",
    "maximum", "minimum", "squared_difference", "scalar_mul",
    # unary
    "negative", "abs", "sign", "square", "sqrt", "rsqrt", "exp", "expm1", "log", "log1p",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid",
    "reciprocal", "floor", "ceil", "round", "rint", "logical_not", "is_nan", "is_inf",
    "is_finite", "erf",
    # n-ary
    "add_n", "accumulate_n",
    # comparison / logical
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_xor",
    # selection
    "where", "where_v2",
    # casts and clipping
    "cast", "to_float", "to_double", "to_int32", "to_int64", "to_bfloat16", "saturate_cast",
    "clip_by_value", "clip_by_norm",
    # reductions
    "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any",
    "reduce_all", "reduce_logsumexp", "argmax", "argmin", "cumsum", "cumprod",
    # segments
    "unsorted_segment_sum",
    # linear algebra
    "matmul", "tensordot", "einsum",
]

_ndarray = np.ndarray

# Elements above which float32/float64 elementwise ops call the C++ kernels; below it numpy's
# ufunc dispatch is cheaper than crossing into pybind11.
_C_MIN_ELEMENTS = 4096
# Multiply-adds above which MatMul calls the C++ GEMM.
_C_MIN_MATMUL_FLOPS = 4096

# ---- dtype sets ------------------------------------------------------------------------------

_FLOAT = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)
_COMPLEX = (_dt.complex64, _dt.complex128)
_SIGNED_INT = (_dt.int8, _dt.int16, _dt.int32, _dt.int64)
_UNSIGNED_INT = (_dt.uint8, _dt.uint16, _dt.uint32, _dt.uint64)
_INT = _SIGNED_INT + _UNSIGNED_INT
_REAL = _FLOAT + _INT
_NUMERIC = _REAL + _COMPLEX
_FLOAT_COMPLEX = _FLOAT + _COMPLEX
_BOOL = (_dt.bool,)
_ALL_COMPARABLE = _NUMERIC + _BOOL + (_dt.string,)
_INDEX = (_dt.int32, _dt.int64)
_C_DTYPES = (_dt.float32, _dt.float64)


def _np_dtype(dtype):
    return np.dtype(dtype.as_numpy_dtype)


# ---- naming and error-message helpers ---------------------------------------------------------

_VALID_OP_NAME = _ops._VALID_OP_NAME


def _apply(op_type, inputs, attrs, name=None):
    """Create `op_type`, resolving its final name first so build-time errors can name it.

    TF1 also reserves the op's name before running shape inference, so a failed build consumes
    the name exactly as it does there.
    """
    g = inputs[0]._op._graph if inputs else _ops.get_default_graph()
    if name is None:
        name = g.unique_name(get_op_def(op_type).default_name)
    elif name[-1:] == "/":
        name = name[:-1]
    else:
        if not _VALID_OP_NAME.match(name):
            raise ValueError("'%s' is not a valid node name" % name)
        name = g.unique_name(name)
    attrs["_name"] = name
    return _ops.apply_op(op_type, inputs, attrs, name + "/", graph=g)


def _label(op_type, attrs):
    return "'%s' (op: '%s')" % (attrs.get("_name", op_type), op_type)


def _shapes_str(*tensors):
    return ", ".join(proto_shape_str(t._shape) for t in tensors)


def _check_dtype(op_type, param, t, allowed):
    dt = t._dtype.base_dtype
    if dt not in allowed:
        if len(allowed) == 1:
            raise TypeError("Input '%s' of '%s' Op has type %s that does not match expected "
                            "type of %s." % (param, op_type, dt.name, allowed[0].name))
        raise TypeError("Value passed to parameter '%s' has DataType %s not in list of allowed "
                        "values: %s" % (param, dt.name, ", ".join(a.name for a in allowed)))
    return dt


def _const_value(t):
    """The numpy value of `t` if it is produced by a Const op (static), else None."""
    op = t._op
    if op._type == "Const":
        return op._attrs["value"]
    return None


def _broadcast_dims(a, b, label, x, y):
    """Static numpy broadcast of dim tuples `a` and `b` (None = unknown dimension)."""
    if a == b:
        return a
    la, lb = len(a), len(b)
    n = max(la, lb)
    a = (1,) * (n - la) + a
    b = (1,) * (n - lb) + b
    out = []
    for da, db in zip(a, b):
        if da == db:
            out.append(da)
        elif da == 1:
            out.append(db)
        elif db == 1:
            out.append(da)
        elif da is None:
            out.append(db)
        elif db is None:
            out.append(da)
        else:
            raise ValueError("Dimensions must be equal, but are %d and %d for %s with input "
                             "shapes: %s." % (da, db, label, _shapes_str(x, y)))
    return tuple(out)


def _broadcast_shape(label, x, y):
    a, b = x._shape._dims, y._shape._dims
    if a is None or b is None:
        return _shape(None)
    if a is b:
        return x._shape
    return _shape(_broadcast_dims(a, b, label, x, y))


# ---- binary elementwise ops -----------------------------------------------------------------


def _binary_infer_for(op_type, allowed, out_dtype=None):
    def infer(inputs, attrs):
        x, y = inputs
        check_same_dtype(op_type, x, y)
        dt = _check_dtype(op_type, "x", x, allowed)
        return [(out_dtype or dt, _broadcast_shape(_label(op_type, attrs), x, y))]
    return infer


def _int_div_guard(fn):
    def guarded(x, y):
        if not np.all(y):
            raise errors.InvalidArgumentError(None, None, "Integer division by zero")
        return fn(x, y)
    return guarded


def _trunc_div(x, y):
    # C-style integer division (toward zero), which numpy lacks for integers.
    q = np.floor_divide(x, y)
    fix = (np.remainder(x, y) != 0) & ((x < 0) != (y < 0))
    if np.any(fix):
        q = q + fix.astype(q.dtype)
    return q


def _trunc_mod(x, y):
    return np.fmod(x, y)


def _binary_kernel(float_fn, int_fn=None, c_name=None, guard_int=False):
    """Kernel factory: the bare ufunc on the small-tensor path, `_C.<c_name>` for big floats."""
    def kernel(op, ctx):
        dt = op._inputs[0]._dtype.base_dtype
        fn = float_fn
        if int_fn is not None and (dt.is_integer or dt.is_bool):
            fn = int_fn
        if guard_int and dt.is_integer:
            return _int_div_guard(fn)
        cfn = getattr(_C, c_name, None) if (_C is not None and c_name) else None
        if cfn is None or dt not in _C_DTYPES:
            return fn
        n = op._outputs[0]._shape.num_elements()
        if n is not None and n < _C_MIN_ELEMENTS:
            return fn
        big = _C_MIN_ELEMENTS

        def k(x, y):
            if type(x) is _ndarray and type(y) is _ndarray and (x.size >= big or y.size >= big):
                return cfn(x, y)
            return fn(x, y)
        return k
    return kernel


def _squared_difference(x, y):
    d = np.subtract(x, y)
    if type(d) is _ndarray:
        return np.multiply(d, d, out=d)
    return d * d


def _real_div_int(x, y):
    return _trunc_div(x, y)


def _div_no_nan(x, y):
    zero = y == 0
    safe = np.where(zero, np.ones((), dtype=y.dtype), y)
    return np.where(zero, np.zeros((), dtype=x.dtype), np.true_divide(x, safe))


_BINARY_OPS = [
    # op type, default name, allowed dtypes, kernel factory
    ("AddV2", "Add", _NUMERIC, _binary_kernel(np.add, c_name="add")),
    ("Sub", "Sub", _NUMERIC, _binary_kernel(np.subtract, c_name="sub")),
    ("Mul", "Mul", _NUMERIC, _binary_kernel(np.multiply, c_name="mul")),
    ("RealDiv", "RealDiv", _NUMERIC,
     _binary_kernel(np.true_divide, _real_div_int, c_name="div", guard_int=True)),
    ("DivNoNan", "DivNoNan", _FLOAT_COMPLEX, _binary_kernel(_div_no_nan)),
    ("FloorDiv", "FloorDiv", _REAL, _binary_kernel(np.floor_divide, guard_int=True)),
    ("FloorMod", "FloorMod", _REAL, _binary_kernel(np.remainder, guard_int=True)),
    ("TruncateDiv", "TruncateDiv", _INT, _binary_kernel(_trunc_div, guard_int=True)),
    ("TruncateMod", "TruncateMod", _REAL, _binary_kernel(_trunc_mod, guard_int=True)),
    ("Pow", "Pow", _NUMERIC, _binary_kernel(np.power)),
    ("Maximum", "Maximum", _REAL, _binary_kernel(np.maximum)),
    ("Minimum", "Minimum", _REAL, _binary_kernel(np.minimum)),
    ("SquaredDifference", "SquaredDifference", _NUMERIC, _binary_kernel(_squared_difference)),
]

for _t, _n, _allowed, _k in _BINARY_OPS:
    register_op(_t, _binary_infer_for(_t, _allowed), _k, default_name=_n)

_COMPARISONS = [
    ("Equal", _ALL_COMPARABLE, np.equal),
    ("NotEqual", _ALL_COMPARABLE, np.not_equal),
    ("Less", _REAL, np.less),
    ("LessEqual", _REAL, np.less_equal),
    ("Greater", _REAL, np.greater),
    ("GreaterEqual", _REAL, np.greater_equal),
    ("LogicalAnd", _BOOL, np.logical_and),
    ("LogicalOr", _BOOL, np.logical_or),
]

for _t, _allowed, _f in _COMPARISONS:
    register_op(_t, _binary_infer_for(_t, _allowed, _dt.bool), _binary_kernel(_f))


def _binary(op_type, x, y, name):
    x, y = binary_operands(x, y)
    return _apply(op_type, [x, y], {"T": x._dtype.base_dtype}, name)


def add(x, y, name=None):
    """x + y elementwise with broadcasting (op type AddV2, default name "Add").

    Args:
      x: a Tensor (or value convertible to one).
      y: a Tensor of the same dtype as `x` (Python values adopt `x`'s dtype).
      name: optional op name.

    Returns:
      A Tensor of `x`'s dtype and the broadcast shape.
    """
    return _binary("AddV2", x, y, name)


def subtract(x, y, name=None):
    """x - y elementwise with broadcasting (op type Sub)."""
    return _binary("Sub", x, y, name)


def multiply(x, y, name=None):
    """x * y elementwise with broadcasting (op type Mul)."""
    return _binary("Mul", x, y, name)


def realdiv(x, y, name=None):
    """x / y elementwise for real numbers (op type RealDiv; integers divide toward zero)."""
    return _binary("RealDiv", x, y, name)


def div_no_nan(x, y, name=None):
    """x / y, but 0 wherever y is 0 (op type DivNoNan)."""
    with _ops.name_scope(name, "div_no_nan", [x, y]) as name:
        return _binary("DivNoNan", x, y, name)


def floor_div(x, y, name=None):
    """Floor division, the raw FloorDiv op (default name "FloorDiv")."""
    return _binary("FloorDiv", x, y, name)


def floormod(x, y, name=None):
    """Remainder of floor division, sign of `y` like Python's % (op type FloorMod)."""
    return _binary("FloorMod", x, y, name)


mod = floormod


def truncatediv(x, y, name=None):
    """Integer division rounding toward zero, as C does (op type TruncateDiv)."""
    return _binary("TruncateDiv", x, y, name)


def truncatemod(x, y, name=None):
    """Remainder of truncated division, sign of `x` like C's fmod (op type TruncateMod)."""
    return _binary("TruncateMod", x, y, name)


def maximum(x, y, name=None):
    """Elementwise max(x, y) with broadcasting (op type Maximum)."""
    return _binary("Maximum", x, y, name)


def minimum(x, y, name=None):
    """Elementwise min(x, y) with broadcasting (op type Minimum)."""
    return _binary("Minimum", x, y, name)


def squared_difference(x, y, name=None):
    """(x - y)^2 elementwise with broadcasting (op type SquaredDifference)."""
    return _binary("SquaredDifference", x, y, name)


def pow(x, y, name=None):  # noqa: A001 - TF1 name
    """x ** y elementwise (op type Pow, default name "Pow").

    Integer tensors raised to negative integer powers fail at run time, as in TF.
    """
    with _ops.name_scope(name, "Pow", [x]) as name:
        return _binary("Pow", x, y, name)


def floordiv(x, y, name=None):
    """Floor division x // y (op type FloorDiv, default name "floordiv").

    Integer division by zero raises InvalidArgumentError at run time.
    """
    with _ops.name_scope(name, "floordiv", [x, y]) as name:
        return _binary("FloorDiv", x, y, name)


# TF1's _TRUEDIV_TABLE: integers are cast to a float wide enough to hold them exactly.
_TRUEDIV_CAST = {
    _dt.uint8: _dt.float32, _dt.int8: _dt.float32, _dt.uint16: _dt.float32,
    _dt.int16: _dt.float32, _dt.int32: _dt.float64, _dt.int64: _dt.float64,
    _dt.uint32: _dt.float64, _dt.uint64: _dt.float64,
}


def _same_dtype_or_raise(x, y):
    xd, yd = x._dtype.base_dtype, y._dtype.base_dtype
    if xd != yd:
        raise TypeError("x and y must have the same dtype, got %r != %r" % (xd, yd))
    return xd


def truediv(x, y, name=None):
    """Python 3 division x / y (op type RealDiv, default name "truediv").

    Integer inputs are first cast to float: (u)int8/(u)int16 to float32, (u)int32/(u)int64 to
    float64, as TF1 does.

    Returns:
      A float Tensor with the broadcast shape.
    """
    with _ops.name_scope(name, "truediv", [x, y]) as name:
        x, y = binary_operands(x, y)
        dt = _same_dtype_or_raise(x, y)
        if dt == _dt.bool:
            raise TypeError("Invalid dtype %r in __truediv__" % dt)
        target = _TRUEDIV_CAST.get(dt)
        if target is not None:
            x = cast(x, target)
            y = cast(y, target)
        return _apply("RealDiv", [x, y], {"T": x._dtype}, name)


def divide(x, y, name=None):
    """x / y with Python 3 semantics (TF1: `tf.divide(x, y)` is `x / y`, named "truediv")."""
    if name is not None:
        return truediv(x, y, name=name)
    return truediv(x, y)


def div(x, y, name=None):
    """Python 2 style division (default name "div"): floor division for integers, real
    division for floats."""
    with _ops.name_scope(name, "div", [x, y]) as name:
        x, y = binary_operands(x, y)
        dt = _same_dtype_or_raise(x, y)
        if dt.is_floating or dt.is_complex:
            return _apply("RealDiv", [x, y], {"T": dt}, name)
        return _apply("FloorDiv", [x, y], {"T": dt}, name)


def scalar_mul(scalar, x, name=None):
    """Multiply tensor `x` by a scalar (a Python number or a 0-d tensor)."""
    with _ops.name_scope(name, "scalar_mul", [x]) as name:
        x = to_tensor(x)
        s = to_tensor(scalar, dtype=x._dtype.base_dtype, name="scalar")
        if s._shape._dims is not None and len(s._shape._dims) != 0:
            raise ValueError("Only scalar multiply works, got shape %s" % s._shape)
        return _apply("Mul", [s, x], {"T": x._dtype.base_dtype}, name)


def equal(x, y, name=None):
    """x == y elementwise (bool result, op type Equal)."""
    return _binary("Equal", x, y, name)


def not_equal(x, y, name=None):
    """x != y elementwise (bool result, op type NotEqual)."""
    return _binary("NotEqual", x, y, name)


def less(x, y, name=None):
    """x < y elementwise (bool result, op type Less)."""
    return _binary("Less", x, y, name)


def less_equal(x, y, name=None):
    """x <= y elementwise (bool result, op type LessEqual)."""
    return _binary("LessEqual", x, y, name)


def greater(x, y, name=None):
    """x > y elementwise (bool result, op type Greater)."""
    return _binary("Greater", x, y, name)


def greater_equal(x, y, name=None):
    """x >= y elementwise (bool result, op type GreaterEqual)."""
    return _binary("GreaterEqual", x, y, name)


def _bool_operands(x, y):
    x = to_tensor(x, dtype=_dt.bool) if not isinstance(x, _ops.Tensor) else x
    y = to_tensor(y, dtype=_dt.bool) if not isinstance(y, _ops.Tensor) else y
    return x, y


def logical_and(x, y, name=None):
    """Elementwise x AND y of bool tensors (op type LogicalAnd)."""
    x, y = _bool_operands(x, y)
    return _apply("LogicalAnd", [x, y], {}, name)


def logical_or(x, y, name=None):
    """Elementwise x OR y of bool tensors (op type LogicalOr)."""
    x, y = _bool_operands(x, y)
    return _apply("LogicalOr", [x, y], {}, name)


def logical_xor(x, y, name="LogicalXor"):
    """Elementwise x XOR y of bool tensors, built as (x | y) & ~(x & y) like TF1."""
    x, y = _bool_operands(x, y)
    with _ops.name_scope(name, "LogicalXor", [x, y]) as name:
        return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


# ---- unary elementwise ops ------------------------------------------------------------------


def _unary_infer_for(op_type, allowed, out_dtype=None):
    def infer(inputs, attrs):
        x = inputs[0]
        dt = _check_dtype(op_type, "x", x, allowed)
        return [(out_dtype or dt, x._shape)]
    return infer


def _fixed_kernel(fn):
    def kernel(op, ctx):
        return fn
    return kernel


def _native_f32_kernel(np_fn, c_name, fallback_kernel=None):
    """Kernel factory for exp/log/tanh/sigmoid: `_C.<c_name>` (vectorised, threaded, max
    relative error ~2e-7) for big float32 tensors; numpy (or `fallback_kernel`'s choice) for
    everything else, float64 included, where numpy's own SIMD loops are as good."""
    def kernel(op, ctx):
        fn = fallback_kernel(op, ctx) if fallback_kernel is not None else np_fn
        cfn = getattr(_C, c_name, None) if _C is not None else None
        if cfn is None or op._inputs[0]._dtype.base_dtype != _dt.float32:
            return fn
        n = op._outputs[0]._shape.num_elements()
        if n is not None and n < _C_MIN_ELEMENTS:
            return fn
        big = _C_MIN_ELEMENTS
        f32 = np.dtype(np.float32)

        def k(x):
            if type(x) is _ndarray and x.size >= big and x.dtype == f32:
                return cfn(x)
            return fn(x)
        return k
    return kernel


def _rsqrt(x):
    r = np.sqrt(x)
    if type(r) is _ndarray:
        return np.reciprocal(r, out=r)
    return np.reciprocal(r)


def _sigmoid_numpy(x):
    # exp(-log(1 + exp(-x))) never overflows and keeps full relative precision for x << 0.
    return np.exp(-np.logaddexp(0, -x))


def _sigmoid_kernel(op, ctx):
    try:
        from scipy.special import expit
    except ImportError:  # scipy is optional
        return _sigmoid_numpy
    dt = op._inputs[0]._dtype.base_dtype
    if dt in (_dt.float32, _dt.float64):
        return expit
    return _sigmoid_numpy


def _erf_kernel(op, ctx):
    """`_C.erf` (float32: vectorised, max relative error ~2e-7; float64: libm) for float
    arrays of 64+ elements, else scipy's erf, else math.erf elementwise."""
    fallback = _erf_numpy_kernel(op, ctx)
    npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
    cfn = getattr(_C, "erf", None) if _C is not None else None
    if cfn is None or npdt not in (np.float32, np.float64):
        return fallback

    def erf_(x):
        if type(x) is _ndarray and x.dtype == npdt and x.size >= 64:
            return cfn(x)
        return fallback(x)
    return erf_


def _erf_numpy_kernel(op, ctx):
    npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
    try:
        from scipy.special import erf as _erf
    except ImportError:  # scipy is optional
        vec = np.vectorize(_math.erf, otypes=[npdt])

        def erf_fallback(x):
            r = vec(x)
            return r.astype(npdt, copy=False)
        return erf_fallback
    if npdt in (np.float32, np.float64):
        return _erf

    def erf_cast(x):
        return _erf(x).astype(npdt)
    return erf_cast


def _round_kernel(op, ctx):
    if op._inputs[0]._dtype.is_integer:
        return _identity
    return np.rint  # round half to even, like TF


def _identity(x):
    return x


def _reciprocal_kernel(op, ctx):
    if op._inputs[0]._dtype.is_integer:
        one = np.ones((), dtype=_np_dtype(op._inputs[0]._dtype.base_dtype))
        div = _int_div_guard(_trunc_div)

        def int_reciprocal(x):
            return div(one, x)
        return int_reciprocal
    return np.reciprocal


_UNARY_OPS = [
    # op type, allowed dtypes, kernel factory, output dtype (None: same as input)
    ("Neg", _NUMERIC, _fixed_kernel(np.negative), None),
    ("Abs", _REAL, _fixed_kernel(np.abs), None),
    ("Sign", _NUMERIC, _fixed_kernel(np.sign), None),
    ("Square", _NUMERIC, _fixed_kernel(np.square), None),
    ("Sqrt", _FLOAT_COMPLEX, _fixed_kernel(np.sqrt), None),
    ("Rsqrt", _FLOAT_COMPLEX, _fixed_kernel(_rsqrt), None),
    ("Exp", _FLOAT_COMPLEX, _native_f32_kernel(np.exp, "exp"), None),
    ("Expm1", _FLOAT_COMPLEX, _fixed_kernel(np.expm1), None),
    ("Log", _FLOAT_COMPLEX, _native_f32_kernel(np.log, "log"), None),
    ("Log1p", _FLOAT_COMPLEX, _fixed_kernel(np.log1p), None),
    ("Sin", _FLOAT_COMPLEX, _fixed_kernel(np.sin), None),
    ("Cos", _FLOAT_COMPLEX, _fixed_kernel(np.cos), None),
    ("Tan", _FLOAT_COMPLEX, _fixed_kernel(np.tan), None),
    ("Asin", _FLOAT_COMPLEX, _fixed_kernel(np.arcsin), None),
    ("Acos", _FLOAT_COMPLEX, _fixed_kernel(np.arccos), None),
    ("Atan", _FLOAT_COMPLEX, _fixed_kernel(np.arctan), None),
    ("Sinh", _FLOAT_COMPLEX, _fixed_kernel(np.sinh), None),
    ("Cosh", _FLOAT_COMPLEX, _fixed_kernel(np.cosh), None),
    ("Tanh", _FLOAT_COMPLEX, _native_f32_kernel(np.tanh, "tanh"), None),
    ("Sigmoid", _FLOAT_COMPLEX, _native_f32_kernel(None, "sigmoid", _sigmoid_kernel), None),
    ("Reciprocal", _FLOAT_COMPLEX + (_dt.int32, _dt.int64), _reciprocal_kernel, None),
    ("Floor", _FLOAT, _fixed_kernel(np.floor), None),
    ("Ceil", _FLOAT, _fixed_kernel(np.ceil), None),
    ("Round", _NUMERIC, _round_kernel, None),
    ("Rint", _FLOAT, _fixed_kernel(np.rint), None),
    ("Erf", _FLOAT, _erf_kernel, None),
    ("LogicalNot", _BOOL, _fixed_kernel(np.logical_not), None),
    ("IsNan", _FLOAT, _fixed_kernel(np.isnan), _dt.bool),
    ("IsInf", _FLOAT, _fixed_kernel(np.isinf), _dt.bool),
    ("IsFinite", _FLOAT, _fixed_kernel(np.isfinite), _dt.bool),
]

for _t, _allowed, _k, _out in _UNARY_OPS:
    register_op(_t, _unary_infer_for(_t, _allowed, _out), _k)


def _unary(op_type, x, name):
    x = to_tensor(x)
    return _apply(op_type, [x], {"T": x._dtype.base_dtype}, name)


def negative(x, name=None):
    """-x elementwise (op type Neg)."""
    return _unary("Neg", x, name)


def abs(x, name=None):  # noqa: A001 - TF1 name
    """|x| elementwise (op type Abs)."""
    with _ops.name_scope(name, "Abs", [x]) as name:
        return _unary("Abs", x, name)


def sign(x, name=None):
    """-1, 0 or 1 by the sign of x (op type Sign)."""
    return _unary("Sign", x, name)


def square(x, name=None):
    """x * x elementwise (op type Square)."""
    return _unary("Square", x, name)


def sqrt(x, name=None):
    """Square root of a float tensor (op type Sqrt)."""
    return _unary("Sqrt", x, name)


def rsqrt(x, name=None):
    """1 / sqrt(x) of a float tensor (op type Rsqrt)."""
    return _unary("Rsqrt", x, name)


def exp(x, name=None):
    """e ** x elementwise (op type Exp)."""
    return _unary("Exp", x, name)


def expm1(x, name=None):
    """exp(x) - 1, accurate for small x (op type Expm1)."""
    return _unary("Expm1", x, name)


def log(x, name=None):
    """Natural logarithm (op type Log)."""
    return _unary("Log", x, name)


def log1p(x, name=None):
    """log(1 + x), accurate for small x (op type Log1p)."""
    return _unary("Log1p", x, name)


def sin(x, name=None):
    """Sine elementwise (op type Sin)."""
    return _unary("Sin", x, name)


def cos(x, name=None):
    """Cosine elementwise (op type Cos)."""
    return _unary("Cos", x, name)


def tan(x, name=None):
    """Tangent elementwise (op type Tan)."""
    return _unary("Tan", x, name)


def asin(x, name=None):
    """Arcsine elementwise (op type Asin)."""
    return _unary("Asin", x, name)


def acos(x, name=None):
    """Arccosine elementwise (op type Acos)."""
    return _unary("Acos", x, name)


def atan(x, name=None):
    """Arctangent elementwise (op type Atan)."""
    return _unary("Atan", x, name)


def sinh(x, name=None):
    """Hyperbolic sine elementwise (op type Sinh)."""
    return _unary("Sinh", x, name)


def cosh(x, name=None):
    """Hyperbolic cosine elementwise (op type Cosh)."""
    return _unary("Cosh", x, name)


def tanh(x, name=None):
    """Hyperbolic tangent elementwise (op type Tanh)."""
    return _unary("Tanh", x, name)


def sigmoid(x, name=None):
    """1 / (1 + exp(-x)), computed without overflow (op type Sigmoid)."""
    with _ops.name_scope(name, "Sigmoid", [x]) as name:
        return _unary("Sigmoid", x, name)


def reciprocal(x, name=None):
    """1 / x elementwise (op type Reciprocal)."""
    return _unary("Reciprocal", x, name)


def floor(x, name=None):
    """Largest integer not greater than x, for float tensors (op type Floor)."""
    return _unary("Floor", x, name)


def ceil(x, name=None):
    """Smallest integer not less than x, for float tensors (op type Ceil)."""
    return _unary("Ceil", x, name)


def round(x, name=None):  # noqa: A001 - TF1 name
    """Round half to even (banker's rounding) like TF; integer tensors are returned as is."""
    x = to_tensor(x)
    if x._dtype.is_integer:
        return x
    return _apply("Round", [x], {"T": x._dtype.base_dtype}, name)


def rint(x, name=None):
    """Round to the nearest integer, half to even (op type Rint)."""
    return _unary("Rint", x, name)


def erf(x, name=None):
    """Gauss error function (op type Erf)."""
    return _unary("Erf", x, name)


def logical_not(x, name=None):
    """Elementwise NOT of a bool tensor (op type LogicalNot)."""
    if not isinstance(x, _ops.Tensor):
        x = to_tensor(x, dtype=_dt.bool)
    return _apply("LogicalNot", [x], {}, name)


def is_nan(x, name=None):
    """True where x is NaN (op type IsNan)."""
    return _unary("IsNan", x, name)


def is_inf(x, name=None):
    """True where x is +-inf (op type IsInf)."""
    return _unary("IsInf", x, name)


def is_finite(x, name=None):
    """True where x is neither NaN nor infinite (op type IsFinite)."""
    return _unary("IsFinite", x, name)


# ---- AddN -------------------------------------------------------------------------------------


def _add_n_infer(inputs, attrs):
    label = _label("AddN", attrs)
    first = inputs[0]
    dt = _check_dtype("AddN", "inputs", first, _NUMERIC)
    shape = first._shape
    for i, t in enumerate(inputs[1:], 1):
        if t._dtype.base_dtype != dt:
            raise TypeError("Input 'inputs' of 'AddN' Op has type %s at position %d that does "
                            "not match type %s of the first input." % (t._dtype.name, i, dt.name))
        try:
            shape = shape.merge_with(t._shape)
        except ValueError:
            raise ValueError("Shapes must be equal: input %d has shape %s but the inputs before "
                             "it have shape %s, for %s with input shapes: %s."
                             % (i, t._shape, shape, label, _shapes_str(*inputs))) from None
    return [(dt, shape)]


def _add_n_kernel(op, ctx):
    # Inputs of partially known shape could broadcast silently at run time; TF rejects that.
    check = not all(t._shape.is_fully_defined() for t in op._inputs)

    def add_n_fn(*xs):
        if check:
            s = np.shape(xs[0])
            for x in xs[1:]:
                if np.shape(x) != s:
                    raise errors.InvalidArgumentError(
                        None, None, "Inputs to operation AddN must have the same size and "
                        "shape.  Input 0: %s != input: %s" % (list(s), list(np.shape(x))))
        r = np.add(xs[0], xs[1])
        if type(r) is _ndarray:
            for x in xs[2:]:
                np.add(r, x, out=r)
        else:
            for x in xs[2:]:
                r = r + x
        return r
    return add_n_fn


register_op("AddN", _add_n_infer, _add_n_kernel)


def add_n(inputs, name=None):
    """Sum a list of tensors of the same dtype and shape elementwise (op type AddN).

    Args:
      inputs: a non-empty list of Tensors with the same shape and dtype.
      name: optional op name.

    Returns:
      A Tensor with the same shape and dtype as the inputs.
    """
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor/IndexedSlices with the "
                         "same dtype and shape")
    inputs = [to_tensor(x) for x in inputs]
    if len(inputs) == 1:
        if name:
            from headwater.ops import array_ops

            return array_ops.identity(inputs[0], name=name)
        return inputs[0]
    return _apply("AddN", inputs, {"N": len(inputs), "T": inputs[0]._dtype.base_dtype}, name)


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None):
    """Same result as `add_n` (TF1 accumulates in place; here it is AddN)."""
    if tensor_dtype is not None and inputs:
        for x in inputs:
            if isinstance(x, _ops.Tensor) and x._dtype.base_dtype != _dt.as_dtype(tensor_dtype):
                raise TypeError("tensor_dtype is %s, but input is of type %s"
                                % (_dt.as_dtype(tensor_dtype).name, x._dtype.name))
    out = add_n(inputs, name=name)
    if shape is not None:
        out.set_shape(shape)
    return out


# ---- selection ------------------------------------------------------------------------------


def _merge_or_raise(label, a, b, inputs):
    try:
        return a.merge_with(b)
    except ValueError:
        raise ValueError("Shapes must be equal, but are %s and %s for %s with input shapes: %s."
                         % (proto_shape_str(a), proto_shape_str(b), label,
                            _shapes_str(*inputs))) from None


def _select_infer(inputs, attrs):
    c, x, y = inputs
    label = _label("Select", attrs)
    _check_dtype("Select", "condition", c, _BOOL)
    if x._dtype.base_dtype != y._dtype.base_dtype:
        raise TypeError("Input 'e' of 'Select' Op has type %s that does not match type %s of "
                        "argument 't'." % (y._dtype.name, x._dtype.name))
    shape = _merge_or_raise(label, x._shape, y._shape, inputs)
    cd, sd = c._shape._dims, shape._dims
    if cd is not None and sd is not None and len(cd) != 0:
        if len(cd) == len(sd):
            shape = _merge_or_raise(label, c._shape, shape, inputs)
        elif len(cd) == 1:
            # A vector condition picks whole rows: it must match the first dimension.
            first = _merge_or_raise(label, c._shape, _shape(sd[:1]), inputs)
            shape = _shape(first._dims + sd[1:])
        else:
            raise ValueError("Shape must be rank %d but is rank %d for %s with input shapes: %s."
                             % (len(sd), len(cd), label, _shapes_str(*inputs)))
    return [(x._dtype.base_dtype, shape)]


def _select_kernel(op, ctx):
    def select(c, x, y):
        xs = np.shape(x)
        if xs != np.shape(y):
            raise errors.InvalidArgumentError(
                None, None, "'then' and 'else' must have the same size.  but received: %s vs. %s"
                % (list(xs), list(np.shape(y))))
        cs = np.shape(c)
        if cs != xs and len(cs) != 0:
            if len(cs) == 1 and len(xs) > 1 and cs[0] == xs[0]:
                c = np.reshape(c, cs + (1,) * (len(xs) - 1))
            else:
                raise errors.InvalidArgumentError(
                    None, None, "'cond' must have the same shape as 'then' or be a vector "
                    "matching its first dimension: %s vs. %s" % (list(cs), list(xs)))
        return np.where(c, x, y)
    return select


register_op("Select", _select_infer, _select_kernel)


def _select_v2_infer(inputs, attrs):
    c, x, y = inputs
    label = _label("SelectV2", attrs)
    _check_dtype("SelectV2", "condition", c, _BOOL)
    if x._dtype.base_dtype != y._dtype.base_dtype:
        raise TypeError("Input 'e' of 'SelectV2' Op has type %s that does not match type %s of "
                        "argument 't'." % (y._dtype.name, x._dtype.name))
    dims = [t._shape._dims for t in inputs]
    if any(d is None for d in dims):
        return [(x._dtype.base_dtype, _shape(None))]
    out = _broadcast_dims(dims[1], dims[2], label, x, y)
    out = _broadcast_dims(dims[0], out, label, c, _FakeShaped(out))
    return [(x._dtype.base_dtype, _shape(out))]


class _FakeShaped:
    __slots__ = ("_shape",)

    def __init__(self, dims):
        self._shape = _shape(dims)


register_op("SelectV2", _select_v2_infer, _fixed_kernel(np.where))


def _where_infer(inputs, attrs):
    x = inputs[0]
    dims = x._shape._dims
    return [(_dt.int64, _shape((None, None if dims is None else len(dims))))]


def _where_coords(x):
    return np.argwhere(x).astype(np.int64, copy=False)


register_op("Where", _where_infer, _fixed_kernel(_where_coords))


def where(condition, x=None, y=None, name=None):
    """TF1 `tf.where`: select from `x` or `y` by `condition`, or list true coordinates.

    With `x` and `y` (op type Select): they must have the same shape; `condition` must have
    that shape too, be a scalar, or be a vector matching their first dimension (choosing whole
    rows). With neither (op type Where): returns the int64 coordinates of true elements, shape
    (num_true, rank).
    """
    if x is None and y is None:
        with _ops.name_scope(name, "Where", [condition]) as name:
            c = to_tensor(condition, preferred_dtype=_dt.bool, name="condition")
            return _apply("Where", [c], {"T": c._dtype.base_dtype}, name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    c = to_tensor(condition, preferred_dtype=_dt.bool)
    x, y = binary_operands(x, y)
    return _apply("Select", [c, x, y], {"T": x._dtype.base_dtype}, name)


def where_v2(condition, x=None, y=None, name=None):
    """`tf.where` of TF2 (op type SelectV2): `condition`, `x` and `y` broadcast together."""
    if x is None and y is None:
        return where(condition, name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    c = to_tensor(condition, preferred_dtype=_dt.bool)
    x, y = binary_operands(x, y)
    return _apply("SelectV2", [c, x, y], {"T": x._dtype.base_dtype}, name)


# ---- casts ----------------------------------------------------------------------------------

_CASTABLE = _NUMERIC + _BOOL


def _cast_infer(inputs, attrs):
    x = inputs[0]
    _check_dtype("Cast", "x", x, _CASTABLE)
    dst = attrs["DstT"]
    if dst not in _CASTABLE:
        raise TypeError("Cast %s to %s is not supported" % (x._dtype.name, dst.name))
    return [(dst, x._shape)]


def _cast_kernel(op, ctx):
    src = op._inputs[0]._dtype.base_dtype
    npdt = _np_dtype(op._attrs["DstT"])
    if src.is_complex and not op._attrs["DstT"].is_complex:
        def cast_real(x):
            return np.real(x).astype(npdt)
        return cast_real

    def cast_fn(x):
        # astype truncates floats toward zero when casting to integers, as TF's Cast does.
        return x.astype(npdt)
    return cast_fn


register_op("Cast", _cast_infer, _cast_kernel)


def cast(x, dtype, name=None):
    """Cast `x` to `dtype` (op type Cast). Floats cast to integers truncate toward zero; any
    nonzero value casts to True. Returns `x` itself if it already has `dtype`."""
    base = _dt.as_dtype(dtype).base_dtype
    with _ops.name_scope(name, "Cast", [x]) as name:
        x = to_tensor(x, name="x")
        if x._dtype.base_dtype != base:
            x = _apply("Cast", [x], {"SrcT": x._dtype.base_dtype, "DstT": base,
                                     "Truncate": False}, name)
        return x


def to_float(x, name="ToFloat"):
    """Cast to float32 (deprecated in TF1; use `cast`)."""
    return cast(x, _dt.float32, name=name)


def to_double(x, name="ToDouble"):
    """Cast to float64 (deprecated in TF1; use `cast`)."""
    return cast(x, _dt.float64, name=name)


def to_int32(x, name="ToInt32"):
    """Cast to int32 (deprecated in TF1; use `cast`)."""
    return cast(x, _dt.int32, name=name)


def to_int64(x, name="ToInt64"):
    """Cast to int64 (deprecated in TF1; use `cast`)."""
    return cast(x, _dt.int64, name=name)


def to_bfloat16(x, name="ToBFloat16"):
    """Cast to bfloat16."""
    return cast(x, _dt.bfloat16, name=name)


def saturate_cast(value, dtype, name=None):
    """Cast `value` to `dtype`, clamping it to the target range first (no wrap-around)."""
    with _ops.name_scope(name, "saturate_cast", [value]) as name:
        value = to_tensor(value, name="value")
        dtype = _dt.as_dtype(dtype).base_dtype
        src = value._dtype.base_dtype
        if src.is_complex or dtype.is_complex or src.is_bool or dtype.is_bool:
            return cast(value, dtype, name=name)
        if src.min < dtype.min:
            value = maximum(value, to_tensor(np.array(dtype.min).astype(_np_dtype(src)),
                                             dtype=src))
        if src.max > dtype.max:
            value = minimum(value, to_tensor(np.array(dtype.max).astype(_np_dtype(src)),
                                             dtype=src))
        return cast(value, dtype, name=name)


# ---- clipping ---------------------------------------------------------------------------------


def _value_shape(v):
    return v.shape if isinstance(v, _ops.Tensor) else np.shape(v)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Clamp `t` to [clip_value_min, clip_value_max] (minimum then maximum, like TF1).

    Raises:
      ValueError: if the clip values would broadcast `t` to a bigger shape.
    """
    with _ops.name_scope(name, "clip_by_value", [t, clip_value_min, clip_value_max]) as name:
        t = to_tensor(t, name="t")
        t_min = minimum(t, clip_value_max)
        t_max = maximum(t_min, clip_value_min, name=name)
        try:
            t._shape.merge_with(t_max._shape)
        except ValueError:
            raise ValueError("Clip values of shape %s / %s broadcast tensor of shape %s to %s; "
                             "they must not change the shape of `t`."
                             % (_value_shape(clip_value_min), _value_shape(clip_value_max),
                                t._shape, t_max._shape)) from None
        return t_max


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """Scale `t` so its L2 norm (over `axes`, default all) is at most `clip_norm`."""
    with _ops.name_scope(name, "clip_by_norm", [t, clip_norm]) as name:
        t = to_tensor(t, name="t")
        l2sum = reduce_sum(t * t, axes, keepdims=True)
        pred = l2sum > 0
        one = to_tensor(1, dtype=t._dtype.base_dtype)
        l2sum_safe = where_v2(pred, l2sum, one)
        l2norm = where_v2(pred, sqrt(l2sum_safe), l2sum)
        intermediate = t * clip_norm
        clip = to_tensor(clip_norm, dtype=t._dtype.base_dtype)
        return truediv(intermediate, maximum(l2norm, clip), name=name)


# ---- reductions -------------------------------------------------------------------------------


def _normalize_axes(axes, ndim, label, x, ax_t):
    out = set()
    for a in np.ravel(axes).tolist():
        if a < -ndim or a >= ndim:
            raise ValueError("Invalid reduction dimension %d for input with %d dimensions. for "
                             "%s with input shapes: %s and with computed input tensors: "
                             "input[1] = <%s>." % (a, ndim, label, _shapes_str(x, ax_t),
                                                   " ".join(str(v) for v in
                                                            np.ravel(axes).tolist())))
        out.add(a % ndim if ndim else a)
    return tuple(sorted(out))


def _reduce_infer_for(op_type, allowed):
    def infer(inputs, attrs):
        x, ax = inputs
        _check_dtype(op_type, "input", x, allowed)
        _check_dtype(op_type, "reduction_indices", ax, _INDEX)
        kd = attrs["keep_dims"]
        dims = x._shape._dims
        axes = _const_value(ax)
        if dims is None:
            if attrs.get("_reduce_all") and not kd:
                return [(x._dtype.base_dtype, _shape(()))]
            return [(x._dtype.base_dtype, _shape(None))]
        if axes is None:
            if kd:
                return [(x._dtype.base_dtype, _shape((None,) * len(dims)))]
            return [(x._dtype.base_dtype, _shape(None))]
        red = _normalize_axes(axes, len(dims), _label(op_type, attrs), x, ax)
        if kd:
            out = tuple(1 if i in red else d for i, d in enumerate(dims))
        else:
            out = tuple(d for i, d in enumerate(dims) if i not in red)
        return [(x._dtype.base_dtype, _shape(out))]
    return infer


def _runtime_axes(ax, ndim):
    out = set()
    for a in np.ravel(ax).tolist():
        if a < -ndim or a >= ndim:
            raise errors.InvalidArgumentError(
                None, None, "Invalid reduction dimension (%d for input with %d dimension(s)"
                % (a, ndim))
        out.add(a % ndim)
    return tuple(sorted(out))


def _reduce_kernel_for(make):
    """`make(axes, keepdims, np_dtype, x_tensor)` returns fn(x) reducing over static `axes`
    (None = all). The axes are fixed at bind time when the axis input is a constant."""
    def kernel(op, ctx):
        x_t, ax_t = op._inputs
        kd = op._attrs["keep_dims"]
        npdt = _np_dtype(x_t._dtype.base_dtype)
        static = _const_value(ax_t)
        dims = x_t._shape._dims
        if op._attrs.get("_reduce_all"):
            fn_all = make(None, kd, npdt)

            def reduce_all_axes(x, _ax):
                return fn_all(x)
            return reduce_all_axes
        if static is not None and dims is not None:
            axes = _runtime_axes(static, len(dims))
            fn = make(None if len(axes) == len(dims) else axes, kd, npdt)

            def reduce_static(x, _ax):
                return fn(x)
            return reduce_static
        cache = {}

        def reduce_dynamic(x, ax):
            axes = _runtime_axes(ax, np.ndim(x))
            fn = cache.get(axes)
            if fn is None:
                fn = cache[axes] = make(axes, kd, npdt)
            return fn(x)
        return reduce_dynamic
    return kernel


_FLOAT_DTYPES = (np.float32, np.float64)
_NATIVE_REDUCE_DTYPES = (np.float32, np.float64, np.int32, np.int64)


def _native_reduce(name, np_fn, axes, kd, npdt, dtypes=_FLOAT_DTYPES, exact=False):
    """`_C.<name>` (threaded; TF's NaN and empty-axis rules; sums float64-accumulated) for big
    arrays of `dtypes`, else `np_fn`. Small arrays keep numpy's reduction, so float32 sums stay
    bit-equal to numpy's where a sum nearly cancels; `exact` reductions (max, min: no rounding)
    go native at every size, numpy's set-up costing several times the native call on the small
    arrays a training step reduces."""
    cfn = getattr(_C, name, None) if _C is not None else None
    if cfn is None or npdt not in dtypes:
        return np_fn
    big = 0 if exact else _C_MIN_ELEMENTS
    ax = None if axes is None else list(axes)

    def f(x):
        if type(x) is _ndarray and x.size >= big and x.dtype == npdt:
            return cfn(x, ax, kd)
        return np_fn(x)
    return f


def _make_sum(axes, kd, npdt):
    add_reduce = np.add.reduce

    def f(x):
        # np.sum's own reduction without its Python-level wrapper (same result).
        return add_reduce(x, axis=axes, dtype=npdt, keepdims=kd)
    return _native_reduce("reduce_sum", f, axes, kd, npdt)


def _make_prod(axes, kd, npdt):
    def f(x):
        return np.prod(x, axis=axes, dtype=npdt, keepdims=kd)
    return _native_reduce("reduce_prod", f, axes, kd, npdt, _NATIVE_REDUCE_DTYPES)


def _make_mean(axes, kd, npdt):
    if npdt.kind in "fc":
        def f(x):
            return np.mean(x, axis=axes, dtype=npdt, keepdims=kd)
        return _native_reduce("reduce_mean", f, axes, kd, npdt)

    def int_mean(x):
        # TF divides the integer sum by the count with C semantics (toward zero).
        s = np.sum(x, axis=axes, dtype=npdt, keepdims=kd)
        shape = np.shape(x)
        n = 1
        for i in (range(len(shape)) if axes is None else axes):
            n *= shape[i]
        if n == 0:
            return np.zeros_like(s)
        return _trunc_div(s, np.asarray(n, dtype=npdt))
    return int_mean


def _lowest(npdt):
    if npdt.kind == "f":
        return -np.inf
    if npdt.kind == "b":
        return False
    return np.iinfo(npdt).min


def _highest(npdt):
    if npdt.kind == "f":
        return np.inf
    if npdt.kind == "b":
        return True
    return np.iinfo(npdt).max


def _make_max(axes, kd, npdt):
    # initial= makes empty reductions return the lowest value, as TF does, instead of raising.
    init = _lowest(npdt)

    def f(x):
        return np.max(x, axis=axes, keepdims=kd, initial=init)
    return _native_reduce("reduce_max", f, axes, kd, npdt, _NATIVE_REDUCE_DTYPES, exact=True)


def _make_min(axes, kd, npdt):
    init = _highest(npdt)

    def f(x):
        return np.min(x, axis=axes, keepdims=kd, initial=init)
    return _native_reduce("reduce_min", f, axes, kd, npdt, _NATIVE_REDUCE_DTYPES, exact=True)


def _make_any(axes, kd, npdt):
    def f(x):
        return np.any(x, axis=axes, keepdims=kd)
    return f


def _make_all(axes, kd, npdt):
    def f(x):
        return np.all(x, axis=axes, keepdims=kd)
    return f


_REDUCTIONS = [
    ("Sum", _NUMERIC, _make_sum),
    ("Prod", _NUMERIC, _make_prod),
    ("Mean", _NUMERIC, _make_mean),
    ("Max", _REAL, _make_max),
    ("Min", _REAL, _make_min),
    ("Any", _BOOL, _make_any),
    ("All", _BOOL, _make_all),
]

for _t, _allowed, _mk in _REDUCTIONS:
    register_op(_t, _reduce_infer_for(_t, _allowed), _reduce_kernel_for(_mk))


def _deprecated_lookup(new_name, new_value, old_name, old_value):
    if old_value is not None:
        if new_value is not None:
            raise ValueError("Cannot specify both '%s' and '%s'" % (new_name, old_name))
        return old_value
    return new_value


_ALL_AXES = {}


def _reduction_dims(x, axis):
    if axis is not None:
        if isinstance(axis, _ops.Tensor) or hasattr(axis, "_as_graph_element"):
            return to_tensor(axis)
        return to_tensor(axis, preferred_dtype=_dt.int32, name="Const")
    dims = x._shape._dims
    if dims is not None:
        arr = _ALL_AXES.get(len(dims))
        if arr is None:
            arr = np.arange(len(dims), dtype=np.int32)
            arr.flags.writeable = False
            _ALL_AXES[len(dims)] = arr
        # A read-only array can back every such Const; this skips the general conversion.
        return _ops.apply_op("Const", [], {"value": arr, "dtype": _dt.int32}, name="Const",
                             graph=x._op._graph)
    # Unknown rank: the axes are only known at run time.
    from headwater.ops import array_ops

    rank_fn = getattr(array_ops, "rank", None)
    range_fn = getattr(array_ops, "range", None)
    if rank_fn is None or range_fn is None:
        raise ValueError("Cannot reduce over all axes of tensor %s of unknown rank: pass "
                         "`axis` explicitly." % x.name)
    return range_fn(0, rank_fn(x))


def _reduce(op_type, input_tensor, axis, keepdims, name, reduction_indices, keep_dims):
    axis = _deprecated_lookup("axis", axis, "reduction_indices", reduction_indices)
    keepdims = _deprecated_lookup("keepdims", keepdims, "keep_dims", keep_dims)
    keepdims = bool(keepdims) if keepdims is not None else False
    x = to_tensor(input_tensor)
    ax = _reduction_dims(x, axis)
    attrs = {"keep_dims": keepdims, "T": x._dtype.base_dtype, "Tidx": ax._dtype.base_dtype}
    if axis is None:
        # Reducing every axis: knowing it statically gives a scalar shape even for an unknown
        # rank (whose axes tensor is range(rank(x))), and a gradient that broadcasts the scalar
        # without first reshaping it to the kept dimensions.
        attrs["_reduce_all"] = True
    return _apply(op_type, [x, ax], attrs, name)


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    """Sum over `axis` (int, list, negative, or Tensor; None = all) (op type Sum).

    Args:
      input_tensor: the tensor to reduce.
      axis: dimensions to reduce; `reduction_indices` is the TF1 alias.
      keepdims: keep reduced dimensions with size 1; `keep_dims` is the TF1 alias.
      name: optional op name.

    Returns:
      The reduced tensor, of the input's dtype (int32 sums stay int32).
    """
    return _reduce("Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None):
    """Mean over `axis` (op type Mean). Integer means use integer division like TF."""
    return _reduce("Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    """Maximum over `axis` (op type Max); empty reductions give the dtype's lowest value."""
    return _reduce("Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    """Minimum over `axis` (op type Min); empty reductions give the dtype's highest value."""
    return _reduce("Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None):
    """Product over `axis` (op type Prod)."""
    return _reduce("Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    """Logical OR over `axis` of a bool tensor (op type Any)."""
    return _reduce("Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    """Logical AND over `axis` of a bool tensor (op type All)."""
    return _reduce("All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None,
                     reduction_indices=None, keep_dims=None):
    """log(sum(exp(x))) over `axis`, computed stably by subtracting the (finite) maximum.

    Built from primitive ops (Max, Sub, Exp, Sum, Log, Add) so it differentiates like TF1's.
    """
    axis = _deprecated_lookup("axis", axis, "reduction_indices", reduction_indices)
    keepdims = _deprecated_lookup("keepdims", keepdims, "keep_dims", keep_dims)
    keepdims = bool(keepdims) if keepdims is not None else False
    with _ops.name_scope(name, "ReduceLogSumExp", [input_tensor]) as name:
        x = to_tensor(input_tensor)
        raw_max = reduce_max(x, axis, keepdims=True)
        zero = to_tensor(0, dtype=x._dtype.base_dtype)
        my_max = where_v2(is_finite(raw_max), raw_max, zero)
        from headwater.ops import array_ops

        stop = getattr(array_ops, "stop_gradient", None)
        if stop is not None:
            my_max = stop(my_max)
        result = log(reduce_sum(exp(x - my_max), axis, keepdims=keepdims))
        if not keepdims:
            # Reducing the size-1 kept dims drops them: the max in the output's shape.
            my_max = reduce_max(my_max, axis, keepdims=False)
        return add(result, my_max, name=name)


# ---- arg max / min, cumulative ops -------------------------------------------------------------


def _argminmax_infer_for(op_type):
    def infer(inputs, attrs):
        x, dim = inputs
        _check_dtype(op_type, "input", x, _REAL + _BOOL)
        _check_dtype(op_type, "dimension", dim, _INDEX)
        out_dt = attrs["output_type"]
        dims = x._shape._dims
        axis = _const_value(dim)
        if dims is None:
            return [(out_dt, _shape(None))]
        if axis is None:
            return [(out_dt, _shape((None,) * max(len(dims) - 1, 0)))]
        a = int(np.ravel(axis)[0])
        n = len(dims)
        if a < -n or a >= n:
            raise ValueError("Expected dimension in the range [%d, %d), but got %d for %s with "
                             "input shapes: %s." % (-n, n, a, _label(op_type, attrs),
                                                    _shapes_str(x, dim)))
        a %= n
        return [(out_dt, _shape(dims[:a] + dims[a + 1:]))]
    return infer


def _tf_argminmax_numpy(x, axis, is_max):
    """TF's rule in numpy: the first index strictly beyond a running best that starts at the
    dtype's lowest (highest) finite value, so NaNs never win (np.argmax would pick the first
    NaN) and an all-NaN (or all -inf) slice gives 0."""
    dt = x.dtype
    if dt.kind != "f":
        return np.argmax(x, axis=axis) if is_max else np.argmin(x, axis=axis)
    fi = np.finfo(dt)
    start = fi.min if is_max else fi.max
    # NaN and the values that can never beat the start become the start itself, which only
    # index 0 can hold.
    clean = np.where(np.isnan(x), start, x)
    clean = np.maximum(clean, start) if is_max else np.minimum(clean, start)
    return np.argmax(clean, axis=axis) if is_max else np.argmin(clean, axis=axis)


def _argminmax_kernel_for(npfn):
    is_max = npfn is np.argmax
    c_name = "argmax" if is_max else "argmin"

    def kernel(op, ctx):
        out = _np_dtype(op._attrs["output_type"])
        npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
        cfn = getattr(_C, c_name, None) if _C is not None else None
        if npdt not in _NATIVE_REDUCE_DTYPES:
            cfn = None

        def arg(x, dim):
            a = int(np.ravel(dim)[0])
            shape = np.shape(x)
            n = len(shape)
            if a < -n or a >= n:
                raise errors.InvalidArgumentError(
                    None, None, "Expected dimension in the range [%d, %d), but got %d"
                    % (-n, n, a))
            if shape[a] == 0:
                raise errors.InvalidArgumentError(
                    None, None, "Reduction axis %d is empty in shape %s"
                    % (a % n, proto_shape_str(_shape(shape))))
            if cfn is not None and type(x) is _ndarray and x.dtype == npdt:
                # Native at every size: a fifth of the numpy rule's cost on a batch of logits.
                return cfn(x, a).astype(out, copy=False)
            return np.asarray(_tf_argminmax_numpy(np.asarray(x), a, is_max)).astype(out)
        return arg
    return kernel


register_op("ArgMax", _argminmax_infer_for("ArgMax"), _argminmax_kernel_for(np.argmax))
register_op("ArgMin", _argminmax_infer_for("ArgMin"), _argminmax_kernel_for(np.argmin))


def _arg(op_type, input, axis, name, dimension, output_type):
    axis = _deprecated_lookup("axis", axis, "dimension", dimension)
    if axis is None:
        axis = 0
    x = to_tensor(input)
    dim = to_tensor(axis, preferred_dtype=_dt.int32) if not isinstance(axis, _ops.Tensor) \
        else axis
    out = _dt.as_dtype(output_type).base_dtype
    if out not in _INDEX:
        raise TypeError("Value passed to parameter 'output_type' has DataType %s not in list "
                        "of allowed values: int32, int64" % out.name)
    return _apply(op_type, [x, dim], {"T": x._dtype.base_dtype, "output_type": out}, name)


def argmax(input, axis=None, name=None, dimension=None, output_type=_dt.int64):  # noqa: A002
    """Index of the largest value along `axis` (default 0, as in TF1) (op type ArgMax)."""
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None, output_type=_dt.int64):  # noqa: A002
    """Index of the smallest value along `axis` (default 0, as in TF1) (op type ArgMin)."""
    return _arg("ArgMin", input, axis, name, dimension, output_type)


def _cum_infer_for(op_type):
    def infer(inputs, attrs):
        x, ax = inputs
        _check_dtype(op_type, "x", x, _NUMERIC)
        _check_dtype(op_type, "axis", ax, _INDEX)
        dims = x._shape._dims
        a = _const_value(ax)
        if dims is not None and a is not None:
            a = int(np.ravel(a)[0])
            if a < -len(dims) or a >= len(dims):
                raise ValueError("axis must be in range [%d, %d), got %d for %s"
                                 % (-len(dims), len(dims), a, _label(op_type, attrs)))
        return [(x._dtype.base_dtype, x._shape)]
    return infer


def _cum_kernel_for(npfn, identity):
    def kernel(op, ctx):
        exclusive = op._attrs["exclusive"]
        reverse = op._attrs["reverse"]
        npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)

        def cum(x, ax):
            a = int(np.ravel(ax)[0])
            x = np.asarray(x)
            if reverse:
                x = np.flip(x, a)
            r = npfn(x, axis=a, dtype=npdt)
            if exclusive:
                r = np.roll(r, 1, axis=a)
                idx = [slice(None)] * r.ndim
                idx[a] = 0
                r[tuple(idx)] = identity
            if reverse:
                r = np.flip(r, a)
            return r
        return cum
    return kernel


register_op("Cumsum", _cum_infer_for("Cumsum"), _cum_kernel_for(np.cumsum, 0))
register_op("Cumprod", _cum_infer_for("Cumprod"), _cum_kernel_for(np.cumprod, 1))


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative sum along `axis` (op type Cumsum), optionally exclusive and/or reversed."""
    with _ops.name_scope(name, "Cumsum", [x]) as name:
        x = to_tensor(x, name="x")
        ax = to_tensor(axis, preferred_dtype=_dt.int32)
        return _apply("Cumsum", [x, ax], {"exclusive": bool(exclusive),
                                          "reverse": bool(reverse),
                                          "T": x._dtype.base_dtype}, name)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative product along `axis` (op type Cumprod), optionally exclusive/reversed."""
    with _ops.name_scope(name, "Cumprod", [x]) as name:
        x = to_tensor(x, name="x")
        ax = to_tensor(axis, preferred_dtype=_dt.int32)
        return _apply("Cumprod", [x, ax], {"exclusive": bool(exclusive),
                                           "reverse": bool(reverse),
                                           "T": x._dtype.base_dtype}, name)


# ---- segment sums --------------------------------------------------------------------------------


def _unsorted_segment_sum_infer(inputs, attrs):
    data, ids, n = inputs
    label = _label("UnsortedSegmentSum", attrs)
    dt = _check_dtype("UnsortedSegmentSum", "data", data, _NUMERIC)
    _check_dtype("UnsortedSegmentSum", "segment_ids", ids, _INDEX)
    _check_dtype("UnsortedSegmentSum", "num_segments", n, _INDEX)
    nd = n._shape._dims
    if nd is not None and len(nd) != 0:
        raise ValueError("Shape must be rank 0 but is rank %d for %s with input shapes: %s."
                         % (len(nd), label, _shapes_str(data, ids, n)))
    nv = _const_value(n)
    num = None if nv is None else int(nv)
    dd, idd = data._shape._dims, ids._shape._dims
    if dd is None or idd is None:
        return [(dt, _shape(None))]
    if len(idd) > len(dd):
        raise ValueError("segment_ids rank %d exceeds data rank %d for %s with input shapes: %s."
                         % (len(idd), len(dd), label, _shapes_str(data, ids, n)))
    for a, b in zip(dd, idd):
        if a is not None and b is not None and a != b:
            raise ValueError("data.shape = %s does not start with segment_ids.shape = %s for %s."
                             % (data._shape, ids._shape, label))
    return [(dt, _shape((num,) + dd[len(idd):]))]


def _unsorted_segment_sum_kernel(op, ctx):
    npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)

    def unsorted_segment_sum_(data, ids, n):
        data = np.asarray(data)
        ids = np.asarray(ids)
        n = int(n)
        if ids.shape != data.shape[:ids.ndim]:
            raise errors.InvalidArgumentError(
                None, None, "data.shape = %s does not start with segment_ids.shape = %s"
                % (list(data.shape), list(ids.shape)))
        bad = ids >= n
        if np.any(bad):
            pos = np.argwhere(bad)[0]
            raise errors.InvalidArgumentError(
                None, None, "segment_ids[%s] = %d is out of range [0, %d)"
                % (",".join(str(int(p)) for p in pos), int(ids[tuple(pos)]), n))
        out = np.zeros((n,) + data.shape[ids.ndim:], dtype=npdt)
        keep = ids >= 0  # negative ids are dropped, as TF does
        np.add.at(out, ids[keep], data[keep])
        return out
    return unsorted_segment_sum_


register_op("UnsortedSegmentSum", _unsorted_segment_sum_infer, _unsorted_segment_sum_kernel)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """Sums of the slices of `data` by `segment_ids` (op type UnsortedSegmentSum).

    ``output[i, ...] = sum(data[j..., ...] for ids[j...] == i)``; negative ids are dropped.

    Args:
      data: a numeric Tensor.
      segment_ids: an int32/int64 Tensor whose shape is a prefix of `data`'s.
      num_segments: an int scalar, the size of the output's first dimension.
      name: optional op name.

    Returns:
      A Tensor of shape `[num_segments] + data.shape[segment_ids.ndim:]`.
    """
    data = to_tensor(data, name="data")
    ids = to_tensor(segment_ids, preferred_dtype=_dt.int32, name="segment_ids")
    n = to_tensor(num_segments, preferred_dtype=_dt.int32, name="num_segments")
    return _apply("UnsortedSegmentSum", [data, ids, n],
                  {"T": data._dtype.base_dtype, "Tindices": ids._dtype.base_dtype,
                   "Tnumsegments": n._dtype.base_dtype}, name)


# ---- matrix products ----------------------------------------------------------------------------

_MATMUL_DTYPES = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64, _dt.int32, _dt.int64,
                  _dt.complex64, _dt.complex128)


def _matmul_common(op_type, a, b, attrs, pa, pb):
    label = _label(op_type, attrs)
    if a._dtype.base_dtype != b._dtype.base_dtype:
        raise TypeError("Input '%s' of '%s' Op has type %s that does not match type %s of "
                        "argument '%s'." % (pb, op_type, b._dtype.name, a._dtype.name, pa))
    _check_dtype(op_type, pa, a, _MATMUL_DTYPES)
    return label


def _inner_dims_error(label, k1, k2, a, b):
    return ValueError("Dimensions must be equal, but are %d and %d for %s with input shapes: "
                      "%s." % (k1, k2, label, _shapes_str(a, b)))


def _matmul_infer(inputs, attrs):
    a, b = inputs
    label = _matmul_common("MatMul", a, b, attrs, "a", "b")
    for t in (a, b):
        d = t._shape._dims
        if d is not None and len(d) != 2:
            raise ValueError("Shape must be rank 2 but is rank %d for %s with input shapes: %s."
                             % (len(d), label, _shapes_str(a, b)))
    da = a._shape._dims or (None, None)
    db = b._shape._dims or (None, None)
    m, k1 = (da[1], da[0]) if attrs["transpose_a"] else da
    k2, n = (db[1], db[0]) if attrs["transpose_b"] else db
    if k1 is not None and k2 is not None and k1 != k2:
        raise _inner_dims_error(label, k1, k2, a, b)
    return [(a._dtype.base_dtype, _shape((m, n)))]


def _matmul_kernel(op, ctx):
    ta, tb = op._attrs["transpose_a"], op._attrs["transpose_b"]
    a_t, b_t = op._inputs
    dt = a_t._dtype.base_dtype
    cmm = getattr(_C, "matmul", None) if _C is not None else None
    if cmm is not None and dt in _C_DTYPES:
        da, db = a_t._shape._dims, b_t._shape._dims
        flops = None
        if da is not None and db is not None and None not in da and None not in db:
            flops = da[0] * da[1] * (db[0] if tb else db[1])
        if flops is None or flops >= _C_MIN_MATMUL_FLOPS:
            def matmul_c(a, b):
                return cmm(a, b, ta, tb)
            return matmul_c
    # Transposes are views: numpy's matmul reads them in place (BLAS handles the layout).
    if ta and tb:
        def matmul_tt(a, b):
            return np.matmul(a.T, b.T)
        return matmul_tt
    if ta:
        def matmul_t_(a, b):
            return np.matmul(a.T, b)
        return matmul_t_
    if tb:
        def matmul__t(a, b):
            return np.matmul(a, b.T)
        return matmul__t
    return np.matmul


register_op("MatMul", _matmul_infer, _matmul_kernel)


def _batch_matmul_infer(inputs, attrs):
    x, y = inputs
    label = _matmul_common("BatchMatMulV2", x, y, attrs, "x", "y")
    dx, dy = x._shape._dims, y._shape._dims
    for d in (dx, dy):
        if d is not None and len(d) < 2:
            raise ValueError("Shape must be at least rank 2 but is rank %d for %s with input "
                             "shapes: %s." % (len(d), label, _shapes_str(x, y)))
    if dx is None or dy is None:
        return [(x._dtype.base_dtype, _shape(None))]
    m, k1 = (dx[-1], dx[-2]) if attrs["adj_x"] else dx[-2:]
    k2, n = (dy[-1], dy[-2]) if attrs["adj_y"] else dy[-2:]
    if k1 is not None and k2 is not None and k1 != k2:
        raise _inner_dims_error(label, k1, k2, x, y)
    batch = _broadcast_dims(dx[:-2], dy[:-2], label, x, y)
    return [(x._dtype.base_dtype, _shape(batch + (m, n)))]


def _batch_matmul_kernel(op, ctx):
    adj_x, adj_y = op._attrs["adj_x"], op._attrs["adj_y"]
    x_t, y_t = op._inputs
    dt = x_t._dtype.base_dtype
    cplx = dt.is_complex

    def adj(v):
        v = np.swapaxes(v, -1, -2)
        return np.conj(v) if cplx else v

    def batch_matmul_np(x, y):
        return np.matmul(adj(x) if adj_x else x, adj(y) if adj_y else y)

    cmm = getattr(_C, "matmul", None) if _C is not None else None
    dx, dy = x_t._shape._dims, y_t._shape._dims
    if cmm is None or dt not in _C_DTYPES or dx is None or dy is None \
            or len(dx) > 3 or len(dy) > 3:
        return batch_matmul_np

    def batch_matmul_c(x, y):
        # The C GEMM batches over one leading dim with a batch of 1 (or a matrix) broadcast.
        if x.ndim == 3 and y.ndim == 3 and x.shape[0] != y.shape[0] \
                and x.shape[0] != 1 and y.shape[0] != 1:
            return batch_matmul_np(x, y)
        return cmm(x, y, adj_x, adj_y)
    return batch_matmul_c


register_op("BatchMatMulV2", _batch_matmul_infer, _batch_matmul_kernel)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None):
    """Matrix product a @ b (op type MatMul for matrices, BatchMatMulV2 for rank >= 3 with
    broadcast batch dimensions).

    Args:
      a, b: Tensors of the same dtype, rank >= 2.
      transpose_a, transpose_b: use the transpose (of the last two dims) of `a` / `b`.
      adjoint_a, adjoint_b: use the conjugate transpose.
      a_is_sparse, b_is_sparse: hints only, accepted for TF1 compatibility.
      name: optional op name (default "MatMul").

    Raises:
      ValueError: on incompatible static shapes or ranks below 2.
      TypeError: if the dtypes differ.
    """
    with _ops.name_scope(name, "MatMul", [a, b]) as name:
        if transpose_a and adjoint_a:
            raise ValueError("Only one of transpose_a and adjoint_a can be True.")
        if transpose_b and adjoint_b:
            raise ValueError("Only one of transpose_b and adjoint_b can be True.")
        if isinstance(a, _ops.Tensor) or not isinstance(b, _ops.Tensor):
            a = to_tensor(a, name="a")
            b = to_tensor(b, dtype=None if isinstance(b, _ops.Tensor) else a._dtype.base_dtype,
                          name="b")
        else:
            b = to_tensor(b, name="b")
            a = to_tensor(a, dtype=b._dtype.base_dtype, name="a")
        da, db = a._shape._dims, b._shape._dims
        cplx_adj = a._dtype.is_complex and (adjoint_a or adjoint_b)
        if da is None or db is None or len(da) > 2 or len(db) > 2 or cplx_adj:
            return _apply("BatchMatMulV2", [a, b],
                          {"adj_x": bool(adjoint_a or transpose_a),
                           "adj_y": bool(adjoint_b or transpose_b),
                           "T": a._dtype.base_dtype}, name)
        return _apply("MatMul", [a, b], {"transpose_a": bool(transpose_a or adjoint_a),
                                         "transpose_b": bool(transpose_b or adjoint_b),
                                         "T": a._dtype.base_dtype}, name)


# ---- einsum / tensordot --------------------------------------------------------------------------


def _einsum_parse(equation, inputs, label):
    """Static output shape of `equation` applied to `inputs` (TensorShape)."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->", 1)
    else:
        lhs, out = eq, None
    subs = lhs.split(",")
    if len(subs) != len(inputs):
        raise ValueError("Einsum equation %r names %d inputs but %d were given (%s)."
                         % (equation, len(subs), len(inputs), label))
    sizes = {}
    counts = {}
    ell = ()
    ell_unknown = False
    any_ell = False
    for sub, t in zip(subs, inputs):
        dims = t._shape._dims
        if "..." in sub:
            any_ell = True
            pre, post = sub.split("...", 1)
            letters = pre + post
            if dims is None:
                ell_unknown = True
                ldims = [None] * len(letters)
            else:
                n_ell = len(dims) - len(letters)
                if n_ell < 0:
                    raise ValueError("Einsum subscripts %r need rank >= %d but input has shape "
                                     "%s (%s)." % (sub, len(letters), t._shape, label))
                ldims = list(dims[:len(pre)]) + list(dims[len(dims) - len(post):])
                edims = dims[len(pre):len(pre) + n_ell]
                if not ell_unknown:
                    ell = _broadcast_dims(ell, edims, label, t, t)
        else:
            letters = sub
            if dims is not None and len(dims) != len(sub):
                raise ValueError("Einsum subscripts %r have %d letters but input has rank %d "
                                 "(shape %s) (%s)." % (sub, len(sub), len(dims), t._shape,
                                                       label))
            ldims = [None] * len(sub) if dims is None else list(dims)
        for ch, d in zip(letters, ldims):
            if not ch.isalpha():
                raise ValueError("Invalid character %r in einsum equation %r" % (ch, equation))
            counts[ch] = counts.get(ch, 0) + 1
            prev = sizes.get(ch)
            if prev is None:
                sizes[ch] = d
            elif d is not None and prev != d:
                raise ValueError("Dimensions of subscript %r differ: %d vs %d in einsum %r (%s)."
                                 % (ch, prev, d, equation, label))
    if out is None:
        out = ("..." if any_ell else "") + "".join(sorted(c for c, n in counts.items()
                                                          if n == 1))
    res = []
    if "..." in out:
        if ell_unknown:
            return _shape(None)
        pre, post = out.split("...", 1)
    else:
        pre, post = out, ""
    for ch in pre:
        if ch not in sizes:
            raise ValueError("Output subscript %r does not appear in the inputs of einsum %r."
                             % (ch, equation))
        res.append(sizes[ch])
    if "..." in out:
        res.extend(ell)
    for ch in post:
        if ch not in sizes:
            raise ValueError("Output subscript %r does not appear in the inputs of einsum %r."
                             % (ch, equation))
        res.append(sizes[ch])
    return _shape(tuple(res))


def _einsum_infer(inputs, attrs):
    label = _label("Einsum", attrs)
    dt = inputs[0]._dtype.base_dtype
    for i, t in enumerate(inputs[1:], 1):
        if t._dtype.base_dtype != dt:
            raise TypeError("Input %d of einsum has type %s that does not match type %s of "
                            "input 0 (%s)." % (i, t._dtype.name, dt.name, label))
    _check_dtype("Einsum", "inputs", inputs[0], _NUMERIC)
    return [(dt, _einsum_parse(attrs["equation"], inputs, label))]


def _einsum_kernel(op, ctx):
    eq = op._attrs["equation"]
    if len(op._inputs) == 1:
        def einsum1(x):
            return np.einsum(eq, x)
        return einsum1
    paths = {}

    def einsum_n(*xs):
        # The contraction order (and whether BLAS can do it) depends only on the shapes.
        key = tuple([np.shape(x) for x in xs])
        path = paths.get(key)
        if path is None:
            path = paths[key] = np.einsum_path(eq, *xs, optimize="greedy")[0]
        return np.einsum(eq, *xs, optimize=path)
    return einsum_n


register_op("Einsum", _einsum_infer, _einsum_kernel)


def einsum(equation, *inputs, **kwargs):
    """Einstein summation (op type Einsum), e.g. ``einsum('ij,jk->ik', a, b)``.

    Supports explicit (``->``) and implicit output, repeated indices (traces/diagonal sums) and
    ``...`` broadcasting.
    """
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError("invalid keyword arguments for einsum: %s" % ", ".join(kwargs))
    with _ops.name_scope(name, "einsum", list(inputs)) as name:
        ts = [to_tensor(x) for x in inputs]
        if not ts:
            raise ValueError("einsum needs at least one input")
        return _apply("Einsum", ts, {"equation": equation, "N": len(ts),
                                     "T": ts[0]._dtype.base_dtype}, name)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _tensordot_axes(axes, ra, rb):
    if isinstance(axes, _ops.Tensor):
        axes = _const_value(axes)
        if axes is None:
            raise ValueError("tensordot needs static axes (a Python value or a constant).")
        axes = axes.tolist()
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0:
            raise ValueError("'axes' must be at least 0.")
        if n > ra or n > rb:
            raise ValueError("'axes' must not be larger than the number of dimensions of "
                             "tensor %d." % (ra if n > ra else rb))
        return list(range(ra - n, ra)), list(range(n))
    if not isinstance(axes, (list, tuple)) or len(axes) != 2:
        raise ValueError("'axes' must be an integer or have length 2.")
    a_axes, b_axes = axes
    if isinstance(a_axes, (int, np.integer)):
        a_axes = [a_axes]
    if isinstance(b_axes, (int, np.integer)):
        b_axes = [b_axes]
    a_axes, b_axes = list(a_axes), list(b_axes)
    if len(a_axes) != len(b_axes):
        raise ValueError("Different number of contraction axes 'a' and 'b', %d != %d."
                         % (len(a_axes), len(b_axes)))
    return [int(i) % ra if ra else int(i) for i in a_axes], \
        [int(i) % rb if rb else int(i) for i in b_axes]


def tensordot(a, b, axes, name=None):
    """Tensor contraction of `a` and `b` over `axes` (op type Einsum, named "Tensordot").

    Args:
      a, b: Tensors of the same dtype with known rank.
      axes: an int N (last N axes of `a` with first N of `b`) or a pair of axis lists.
      name: optional op name.

    Returns:
      A Tensor with the free dims of `a` followed by the free dims of `b`.
    """
    with _ops.name_scope(name, "Tensordot", [a, b, axes]) as name:
        a = to_tensor(a, name="a")
        b = to_tensor(b, dtype=None if isinstance(b, _ops.Tensor) else a._dtype.base_dtype,
                      name="b")
        da, db = a._shape._dims, b._shape._dims
        if da is None or db is None:
            raise ValueError("tensordot needs inputs of known rank, got shapes %s and %s."
                             % (a._shape, b._shape))
        ra, rb = len(da), len(db)
        if ra + rb > len(_LETTERS):
            raise ValueError("tensordot supports at most %d dimensions in total."
                             % len(_LETTERS))
        a_axes, b_axes = _tensordot_axes(axes, ra, rb)
        la = _LETTERS[:ra]
        lb = list(_LETTERS[ra:ra + rb])
        for i, j in zip(a_axes, b_axes):
            lb[j] = la[i]
            if da[i] is not None and db[j] is not None and da[i] != db[j]:
                raise ValueError("Dimensions must be equal, but are %d and %d for contraction "
                                 "axes %d of a and %d of b in tensordot with shapes %s and %s."
                                 % (da[i], db[j], i, j, a._shape, b._shape))
        lb = "".join(lb)
        out = "".join(c for i, c in enumerate(la) if i not in a_axes) + \
            "".join(c for j, c in enumerate(lb) if j not in b_axes)
        eq = "%s,%s->%s" % (la, lb, out)
        return _apply("Einsum", [a, b], {"equation": eq, "N": 2,
                                         "T": a._dtype.base_dtype}, name)


# ---- operator overloading on Tensor ---------------------------------------------------------


def _const_operand(value, dtype, name, g):
    """A Const of Python scalar `value` as `dtype`, named exactly `name` (ends with "/").

    Python scalars are the common operator operand (`x * 2`); building their constant
    directly skips the general conversion, which costs more than the op itself. Anything
    unusual (bools, lists, out-of-range ints, int tensors with float values...) takes the
    general path so TF1's conversion errors are kept.
    """
    t = type(value)
    if (t is float and dtype.is_floating) or (t is int and (dtype.is_integer or
                                                            dtype.is_floating)):
        if dtype is not _dt.bfloat16:
            try:
                arr = np.array(value, dtype=dtype.as_numpy_dtype)
            except OverflowError:
                arr = None
            if arr is not None:
                arr.flags.writeable = False
                return _ops.apply_op("Const", [], {"value": arr, "dtype": dtype}, name=name,
                                     graph=g)
    return to_tensor(value, dtype=dtype, name=name)


def _binary_operator(fn, opname, simple):
    """`x <op> y` and the reflected `y <op> x` for `fn`, inside a scope named `opname` (TF1
    names `a + b` "add"); a non-tensor operand is converted to the tensor's dtype.

    For `simple` functions (that create just their op) the scope is only named, not entered:
    the op and a converted operand get the names the scope would give them ("add",
    "add/y"), at a fraction of the cost.
    """
    _Tensor = _ops.Tensor
    _get_default_graph = _ops.get_default_graph

    def op(x, y):
        g = x._op._graph
        if simple and g is _get_default_graph():
            scope = g.unique_name(opname)
            if type(y) is not _Tensor:
                if isinstance(y, _Tensor) or hasattr(y, "_as_graph_element"):
                    y = to_tensor(y)
                else:
                    y = _const_operand(y, x._dtype.base_dtype, scope + "/y/", g)
            return fn(x, y, name=scope + "/")
        with _ops.name_scope(None, opname, [x, y]) as name:
            if not isinstance(y, _Tensor):
                y = to_tensor(y, dtype=x._dtype.base_dtype, name="y")
            return fn(x, y, name=name)

    def rop(y, x):
        g = y._op._graph
        if simple and g is _get_default_graph():
            scope = g.unique_name(opname)
            if type(x) is not _Tensor:
                if isinstance(x, _Tensor) or hasattr(x, "_as_graph_element"):
                    x = to_tensor(x)
                else:
                    x = _const_operand(x, y._dtype.base_dtype, scope + "/x/", g)
            return fn(x, y, name=scope + "/")
        with _ops.name_scope(None, opname, [x, y]) as name:
            if not isinstance(x, _Tensor):
                x = to_tensor(x, dtype=y._dtype.base_dtype, name="x")
            return fn(x, y, name=name)
    return op, rop


def _matmul_operator_fn(x, y, name=None):
    return matmul(x, y, name=name)


for _opname, _fn, _simple in [
        ("add", add, True), ("sub", subtract, True), ("mul", multiply, True),
        ("truediv", truediv, False), ("floordiv", floor_div, True), ("mod", floormod, True),
        ("pow", pow, False), ("matmul", _matmul_operator_fn, False),
        ("and", logical_and, True), ("or", logical_or, True), ("xor", logical_xor, False)]:
    _f, _rf = _binary_operator(_fn, _opname, _simple)
    _ops.Tensor._override_operator("__%s__" % _opname, _f)
    _ops.Tensor._override_operator("__r%s__" % _opname, _rf)


def _neg_operator(x):
    return negative(x)


def _abs_operator(x):
    return abs(x)


def _invert_operator(x):
    return logical_not(x)


_ops.Tensor._override_operator("__neg__", _neg_operator)
_ops.Tensor._override_operator("__abs__", _abs_operator)
_ops.Tensor._override_operator("__invert__", _invert_operator)
_ops.Tensor._override_operator("__lt__", less)
_ops.Tensor._override_operator("__le__", less_equal)
_ops.Tensor._override_operator("__gt__", greater)
_ops.Tensor._override_operator("__ge__", greater_equal)

del _t, _n, _allowed, _k, _f, _out, _mk, _opname, _fn, _simple, _rf


# =================================================================================================
# Gradients (TF1's math_grad rules). Every rule builds ordinary graph ops, so gradients of
# gradients work, and handles partially known static shapes (shape values are taken at run time
# whenever they are not fully known at build time).
# =================================================================================================

from headwater.gradients import IndexedSlices, NotDifferentiable, RegisterGradient  # noqa: E402


def _register_gradient(op_type):
    """`RegisterGradient` for rules that need dense incoming gradients: an `IndexedSlices`
    (from a gather downstream) is converted to a Tensor first, as TF1's rules do implicitly."""
    def decorator(fn):
        def rule(op, *grads):
            for g in grads:
                if g is not None and not isinstance(g, _ops.Tensor):
                    grads = [gg if gg is None or isinstance(gg, _ops.Tensor)
                             else _ops.convert_to_tensor(gg) for gg in grads]
                    break
            return fn(op, *grads)
        rule.__name__ = fn.__name__
        rule.__doc__ = fn.__doc__
        RegisterGradient(op_type)(rule)
        return fn
    return decorator


def _array_ops():
    # array_ops imports nothing from here, but keep the dependency lazy: both modules load while
    # `headwater` is being imported.
    from headwater.ops import array_ops
    return array_ops


def _int32_const(values, name="Const"):
    arr = np.array(values, dtype=np.int32)
    arr.flags.writeable = False
    return _ops.apply_op("Const", [], {"value": arr, "dtype": _dt.int32}, name=name)


def _scalar_like(value, t):
    """A scalar Const of `t`'s dtype (gradient rules need 0.5, 2, ... in the input's dtype)."""
    dt = t._dtype.base_dtype
    arr = np.array(value, dtype=dt.as_numpy_dtype)
    arr.flags.writeable = False
    return _ops.apply_op("Const", [], {"value": arr, "dtype": dt}, name="Const")


def _static_dims(t):
    """`t`'s static dims as a tuple of ints when fully known, else None."""
    d = t._shape._dims
    if d is None or None in d:
        return None
    return d


def _shape_of(t):
    """`shape(t)`: a Const when `t`'s static shape is fully known, else a Shape op."""
    return _array_ops().shape(t)


# ---- SumToShape: the one un-broadcasting op -----------------------------------------------------


def _shape_tensor_dims(s):
    """The static values of a 1-D shape tensor as a tuple of int-or-None; None if even its
    length is unknown."""
    op = s._op
    if op._type == "Const":
        v = op._attrs["value"]
        return tuple(int(e) for e in np.ravel(v).tolist())
    if op._type == "Shape":
        return op._inputs[0]._shape._dims
    d = s._shape._dims
    if d is not None and len(d) == 1 and d[0] is not None:
        return (None,) * d[0]
    return None


def _sum_to_shape_infer(inputs, attrs):
    g, s = inputs
    _check_dtype("SumToShape", "shape", s, _INDEX)
    target = _shape_tensor_dims(s)
    if target is None:
        return [(g._dtype.base_dtype, _shape(None))]
    gd = g._shape._dims
    if gd is not None:
        bad = len(target) > len(gd)
        if not bad:
            off = len(gd) - len(target)
            for i, t in enumerate(target):
                d = gd[off + i]
                if t is not None and d is not None and t != 1 and t != d:
                    bad = True
        if bad:
            raise ValueError("Cannot sum a tensor of shape %s down to shape %s for %s: the "
                             "target must broadcast to it." % (g._shape, _shape(target),
                                                               _label("SumToShape", attrs)))
    return [(g._dtype.base_dtype, _shape(target))]


def _sum_axes(gshape, target):
    """Axes of `gshape` to sum (keepdims) so that reshaping gives `target`; None if `target`
    does not broadcast to `gshape`."""
    off = len(gshape) - len(target)
    if off < 0:
        return None
    axes = list(range(off))
    for i, t in enumerate(target):
        d = gshape[off + i]
        if t == d:
            continue
        if t != 1:
            return None
        axes.append(off + i)
    return tuple(axes)


def _sum_to_shape_error(gshape, target):
    return errors.InvalidArgumentError(
        None, None, "SumToShape: cannot sum a gradient of shape %s down to shape %s"
        % (list(gshape), list(target)))


def _sum_to_shape_kernel(op, ctx):
    g_t, s_t = op._inputs
    gd = _static_dims(g_t)
    target = _shape_tensor_dims(s_t)
    npdt = _np_dtype(g_t._dtype.base_dtype)
    # Bias gradients sum a batch of rows: the native sum (threaded, float64-accumulated, as
    # the Sum op uses for big arrays) instead of numpy's. Its call costs a third of numpy's
    # axis reduction set-up, so it pays from a dense layer's few hundred values on.
    csum = getattr(_C, "reduce_sum", None) if _C is not None else None
    if npdt not in (np.float32, np.float64):
        csum = None
    big = 64

    def summed(g, axes, ts):
        if csum is not None and type(g) is _ndarray and g.size >= big and g.dtype == npdt:
            return csum(g, list(axes), True).reshape(ts)
        return np.sum(g, axis=axes, keepdims=True).reshape(ts)

    if gd is not None and target is not None and None not in target:
        axes = _sum_axes(gd, target)
        if axes is not None:
            if gd == target:
                def sum_to_same(g, s):
                    return g
                return sum_to_same

            def sum_to_static(g, s):
                return summed(g, axes, target)
            return sum_to_static
    cache = {}

    def sum_to_shape(g, s):
        gs = np.shape(g)
        ts = tuple(s.tolist())
        key = (gs, ts)
        axes = cache.get(key)
        if axes is None:
            axes = _sum_axes(gs, ts)
            if axes is None:
                raise _sum_to_shape_error(gs, ts)
            cache[key] = axes
        if not axes and gs == ts:
            return g
        return summed(g, axes, ts)
    return sum_to_shape


# aliases: the result may be the gradient value itself (a Const's array, for instance).
register_op("SumToShape", _sum_to_shape_infer, _sum_to_shape_kernel, aliases=True)


def sum_to_shape(grad, shape, name=None):
    """Sum `grad` over its broadcast axes down to `shape` (the reverse of `broadcast_to`).

    Args:
      grad: a Tensor whose shape is a numpy broadcast of `shape`.
      shape: a 1-D int32/int64 tensor or list: the target shape.
      name: optional op name (default "SumToShape").

    Returns:
      A Tensor of shape `shape` and `grad`'s dtype.
    """
    grad = to_tensor(grad)
    if not isinstance(shape, _ops.Tensor):
        shape = _array_ops()._index_tensor(shape, "shape")
    return _apply("SumToShape", [grad, shape], {"T": grad._dtype.base_dtype,
                                                "Tshape": shape._dtype.base_dtype}, name)


def _unbroadcast(grad, x):
    """`grad` (of a broadcasting op's output) summed down to the shape of input `x`.

    No op at all when both static shapes are fully known and equal; a constant target shape
    when `x`'s is fully known; `shape(x)` at run time otherwise.
    """
    if grad is None:
        return None
    xd = _static_dims(x)
    if xd is not None:
        if grad._shape._dims == xd:
            return grad
        target = _int32_const(xd, name="Shape")
    else:
        target = _array_ops().shape(x)
    return _apply("SumToShape", [grad, target], {"T": grad._dtype.base_dtype,
                                                 "Tshape": _dt.int32}, None)


@_register_gradient("SumToShape")
def _sum_to_shape_grad(op, grad):
    return [_array_ops().broadcast_to(grad, _shape_of(op._inputs[0])), None]


# ---- binary arithmetic ---------------------------------------------------------------------------


@_register_gradient("AddV2")
def _add_grad(op, grad):
    x, y = op._inputs
    return [_unbroadcast(grad, x), _unbroadcast(grad, y)]


@_register_gradient("Sub")
def _sub_grad(op, grad):
    x, y = op._inputs
    return [_unbroadcast(grad, x), _unbroadcast(negative(grad), y)]


@_register_gradient("Mul")
def _mul_grad(op, grad):
    x, y = op._inputs
    return [_unbroadcast(multiply(grad, y), x), _unbroadcast(multiply(x, grad), y)]


@_register_gradient("RealDiv")
def _real_div_grad(op, grad):
    x, y = op._inputs
    gx = realdiv(grad, y)
    gy = multiply(grad, realdiv(realdiv(negative(x), y), y))
    return [_unbroadcast(gx, x), _unbroadcast(gy, y)]


@_register_gradient("DivNoNan")
def _div_no_nan_grad(op, grad):
    x, y = op._inputs
    gx = div_no_nan(grad, y)
    gy = multiply(grad, div_no_nan(div_no_nan(negative(x), y), y))
    return [_unbroadcast(gx, x), _unbroadcast(gy, y)]


@_register_gradient("FloorDiv")
def _floor_div_grad(op, grad):
    # Piecewise constant: TF1 returns no gradient for either input.
    return [None, None]


@_register_gradient("FloorMod")
def _floor_mod_grad(op, grad):
    # floormod(x, y) = x - floor(x / y) * y
    x, y = op._inputs
    gy = multiply(negative(grad), floor_div(x, y))
    return [_unbroadcast(grad, x), _unbroadcast(gy, y)]


@_register_gradient("TruncateMod")
def _truncate_mod_grad(op, grad):
    # truncatemod(x, y) = x - trunc(x / y) * y, and trunc(x / y) = (x - z) / y exactly.
    x, y = op._inputs
    z = op._outputs[0]
    gy = multiply(negative(grad), realdiv(subtract(x, z), y))
    return [_unbroadcast(grad, x), _unbroadcast(gy, y)]


@_register_gradient("Pow")
def _pow_grad(op, grad):
    x, y = op._inputs
    z = op._outputs[0]
    one = _scalar_like(1, y)
    gx = multiply(grad, multiply(y, pow(x, subtract(y, one))))
    # log(x) only where x > 0 (TF1): elsewhere the y-gradient is 0, not nan.
    mask = greater(x, _scalar_like(0, x))
    safe_x = where_v2(mask, x, _scalar_like(1, x))
    log_x = where_v2(mask, log(safe_x), _scalar_like(0, x))
    gy = multiply(grad, multiply(z, log_x))
    return [_unbroadcast(gx, x), _unbroadcast(gy, y)]


def _max_min_grad(op, grad, selector):
    x, y = op._inputs
    xmask = selector(x, y)
    zero = _scalar_like(0, grad)
    gx = where_v2(xmask, grad, zero)
    gy = where_v2(xmask, zero, grad)
    return [_unbroadcast(gx, x), _unbroadcast(gy, y)]


@_register_gradient("Maximum")
def _maximum_grad(op, grad):
    # Ties send the whole gradient to x (TF1's xmask = x >= y).
    return _max_min_grad(op, grad, greater_equal)


@_register_gradient("Minimum")
def _minimum_grad(op, grad):
    return _max_min_grad(op, grad, less_equal)


@_register_gradient("SquaredDifference")
def _squared_difference_grad(op, grad):
    x, y = op._inputs
    x_grad = multiply(multiply(_scalar_like(2, grad), grad), subtract(x, y))
    return [_unbroadcast(x_grad, x), negative(_unbroadcast(x_grad, y))]


NotDifferentiable("TruncateDiv")


# ---- unary ---------------------------------------------------------------------------------------


@_register_gradient("Neg")
def _neg_grad(op, grad):
    return [negative(grad)]


@_register_gradient("Abs")
def _abs_grad(op, grad):
    return [multiply(grad, sign(op._inputs[0]))]


@_register_gradient("Square")
def _square_grad(op, grad):
    x = op._inputs[0]
    return [multiply(grad, multiply(_scalar_like(2, x), x))]


@_register_gradient("Sqrt")
def _sqrt_grad(op, grad):
    # d sqrt(x) = 0.5 / y, from the op's output as TF1's SqrtGrad.
    y = op._outputs[0]
    return [realdiv(multiply(grad, _scalar_like(0.5, y)), y)]


@_register_gradient("Rsqrt")
def _rsqrt_grad(op, grad):
    # d x^-1/2 = -0.5 * y^3
    y = op._outputs[0]
    return [multiply(grad, multiply(_scalar_like(-0.5, y), multiply(square(y), y)))]


@_register_gradient("Exp")
def _exp_grad(op, grad):
    return [multiply(grad, op._outputs[0])]


@_register_gradient("Expm1")
def _expm1_grad(op, grad):
    return [multiply(grad, exp(op._inputs[0]))]


@_register_gradient("Log")
def _log_grad(op, grad):
    return [multiply(grad, reciprocal(op._inputs[0]))]


@_register_gradient("Log1p")
def _log1p_grad(op, grad):
    x = op._inputs[0]
    return [multiply(grad, reciprocal(add(_scalar_like(1, x), x)))]


@_register_gradient("Sin")
def _sin_grad(op, grad):
    return [multiply(grad, cos(op._inputs[0]))]


@_register_gradient("Cos")
def _cos_grad(op, grad):
    return [multiply(negative(grad), sin(op._inputs[0]))]


@_register_gradient("Tan")
def _tan_grad(op, grad):
    return [multiply(grad, square(reciprocal(cos(op._inputs[0]))))]


@_register_gradient("Asin")
def _asin_grad(op, grad):
    x = op._inputs[0]
    return [multiply(grad, rsqrt(subtract(_scalar_like(1, x), square(x))))]


@_register_gradient("Acos")
def _acos_grad(op, grad):
    x = op._inputs[0]
    return [negative(multiply(grad, rsqrt(subtract(_scalar_like(1, x), square(x)))))]


@_register_gradient("Atan")
def _atan_grad(op, grad):
    x = op._inputs[0]
    return [multiply(grad, reciprocal(add(_scalar_like(1, x), square(x))))]


@_register_gradient("Sinh")
def _sinh_grad(op, grad):
    return [multiply(grad, cosh(op._inputs[0]))]


@_register_gradient("Cosh")
def _cosh_grad(op, grad):
    return [multiply(grad, sinh(op._inputs[0]))]


@_register_gradient("Tanh")
def _tanh_grad(op, grad):
    # 1 - y^2 from the op's output, as TF1's TanhGrad.
    y = op._outputs[0]
    return [multiply(grad, subtract(_scalar_like(1, y), square(y)))]


@_register_gradient("Sigmoid")
def _sigmoid_grad(op, grad):
    # y * (1 - y) from the op's output, as TF1's SigmoidGrad.
    y = op._outputs[0]
    return [multiply(grad, multiply(y, subtract(_scalar_like(1, y), y)))]


@_register_gradient("Reciprocal")
def _reciprocal_grad(op, grad):
    y = op._outputs[0]
    return [multiply(negative(grad), square(y))]


@_register_gradient("Erf")
def _erf_grad(op, grad):
    x = op._inputs[0]
    two_over_root_pi = _scalar_like(2.0 / _math.sqrt(_math.pi), x)
    return [multiply(grad, multiply(two_over_root_pi, exp(negative(square(x)))))]


@_register_gradient("Sign")
def _sign_grad(op, grad):
    # TF1 returns zeros (not None) for Sign.
    return [_array_ops().zeros_like(op._inputs[0])]


@_register_gradient("Floor")
def _floor_grad(op, grad):
    return [None]


@_register_gradient("Ceil")
def _ceil_grad(op, grad):
    return [None]


@_register_gradient("Round")
def _round_grad(op, grad):
    return [None]


@_register_gradient("Rint")
def _rint_grad(op, grad):
    return [None]


# ---- n-ary, selection, casts ---------------------------------------------------------------------


@RegisterGradient("AddN")
def _add_n_grad(op, grad):
    return [grad] * len(op._inputs)


@_register_gradient("Select")
def _select_grad(op, grad):
    c, x = op._inputs[0], op._inputs[1]
    zeros = _array_ops().zeros_like(x)
    return [None, where(c, grad, zeros), where(c, zeros, grad)]


@_register_gradient("SelectV2")
def _select_v2_grad(op, grad):
    c, x, y = op._inputs
    zero = _scalar_like(0, grad)
    gx = where_v2(c, grad, zero)
    gy = where_v2(c, zero, grad)
    return [None, _unbroadcast(gx, x), _unbroadcast(gy, y)]


_CAST_GRAD_TYPES = _FLOAT + _COMPLEX


@RegisterGradient("Cast")
def _cast_grad(op, grad):
    src = op._inputs[0]._dtype.base_dtype
    dst = grad.dtype.base_dtype
    if src in _CAST_GRAD_TYPES and dst in _CAST_GRAD_TYPES:
        if isinstance(grad, IndexedSlices):
            return [IndexedSlices(cast(grad.values, src), grad.indices, grad.dense_shape)]
        return [cast(grad, src)]
    return [None]


for _t in ("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual",
           "LogicalAnd", "LogicalOr", "LogicalNot", "IsNan", "IsInf", "IsFinite",
           "ArgMax", "ArgMin", "Where", "Any", "All"):
    NotDifferentiable(_t)


# ---- reductions ----------------------------------------------------------------------------------


def _static_reduced_axes(x, ax_t):
    """The reduced axes of `x` as a sorted tuple when its rank and the axes are static."""
    xd = x._shape._dims
    if xd is None:
        return None
    axes = _array_ops().constant_value(ax_t)
    if axes is None:
        return None
    n = len(xd)
    return tuple(sorted({int(a) % n for a in np.ravel(axes).tolist()})) if n else ()


def _kept_shape(x, ax_t):
    """The shape of `x` with its reduced axes set to 1 (the shape of a keepdims reduction):
    a Python list when fully known, else an int32 tensor computed at run time."""
    aops = _array_ops()
    xd = x._shape._dims
    red = _static_reduced_axes(x, ax_t)
    if red is not None:
        if None not in xd:
            return [1 if i in red else d for i, d in enumerate(xd)]
        mask = np.array([i in red for i in range(len(xd))], dtype=bool)
        mask.flags.writeable = False
        mask_t = _ops.apply_op("Const", [], {"value": mask, "dtype": _dt.bool}, name="Const")
        return where_v2(mask_t, _int32_const(1), aops.shape(x))
    # Axes (or the rank) known only at run time: one ReducedShape op instead of the dozen
    # shape ops TF1 builds here, since every training step runs them.
    return _apply("ReducedShape", [aops.shape(x), cast(ax_t, _dt.int32)], {}, None)


def _reduced_shape_infer(inputs, attrs):
    return [(_dt.int32, inputs[0]._shape)]


def _reduced_shape_kernel(op, ctx):
    def reduced_shape(shape, axes):
        out = shape.tolist()
        n = len(out)
        for a in np.reshape(axes, -1).tolist():
            if a < -n or a >= n:
                raise ValueError("Invalid reduction axis %d for input of rank %d" % (a, n))
            out[a] = 1
        return np.array(out, dtype=np.int32)
    return reduced_shape


register_op("ReducedShape", _reduced_shape_infer, _reduced_shape_kernel)
NotDifferentiable("ReducedShape")


def _reduction_grad_in(op, grad):
    """`grad` reshaped to the keepdims shape of reduction `op` (a no-op when it already is)."""
    x, ax_t = op._inputs
    if op._attrs.get("_reduce_all") and not op._attrs["keep_dims"]:
        # A scalar result broadcasts to any shape as it is.
        return grad, None
    kept = _kept_shape(x, ax_t)
    if op._attrs["keep_dims"]:
        return grad, kept
    if isinstance(kept, list) and grad._shape._dims == tuple(kept):
        return grad, kept
    return _array_ops().reshape(grad, kept), kept


def _broadcast_to_input(t, x):
    xd = _static_dims(x)
    if xd is not None and t._shape._dims == xd:
        return t
    return _array_ops().broadcast_to(t, _shape_of(x))


@_register_gradient("Sum")
def _sum_grad(op, grad):
    x = op._inputs[0]
    g, _ = _reduction_grad_in(op, grad)
    return [_broadcast_to_input(g, x), None]


@_register_gradient("Mean")
def _mean_grad(op, grad):
    x = op._inputs[0]
    y = op._outputs[0]
    g, _ = _reduction_grad_in(op, grad)
    n_in, n_out = x._shape.num_elements(), y._shape.num_elements()
    if n_in is not None and n_out is not None:
        factor = _scalar_like(n_in // max(n_out, 1), g)
    elif n_out == 1:  # a mean of everything: the count is the input's size
        factor = cast(_array_ops().size(x), g._dtype.base_dtype)
    else:
        aops = _array_ops()
        count = floor_div(aops.size(x), maximum(aops.size(y), _int32_const(1)))
        factor = cast(count, g._dtype.base_dtype)
    # Divided before it is spread over the input: the same quotient in every element (TF1
    # divides after), computed once per output element instead of once per input element.
    return [_broadcast_to_input(realdiv(g, factor), x), None]


def _min_or_max_grad(op, grad):
    # The gradient is shared equally among the elements equal to the extremum (TF1).
    x = op._inputs[0]
    g, kept = _reduction_grad_in(op, grad)
    y = op._outputs[0]
    if not op._attrs["keep_dims"] and kept is not None:
        y = _array_ops().reshape(y, kept)
    indicators = cast(equal(y, x), g._dtype.base_dtype)
    num_selected = reduce_sum(indicators, op._inputs[1], keepdims=True)
    return [multiply(realdiv(indicators, num_selected), g), None]


_register_gradient("Max")(_min_or_max_grad)
_register_gradient("Min")(_min_or_max_grad)


@_register_gradient("Prod")
def _prod_grad(op, grad):
    # TF1's scheme: the product of all other elements is (exclusive cumprod from the left) *
    # (exclusive cumprod from the right), so zeros in the input need no division.
    aops = _array_ops()
    x, ax_t = op._inputs
    g, _ = _reduction_grad_in(op, grad)
    g = _broadcast_to_input(g, x)
    red = _static_reduced_axes(x, ax_t)
    if red is not None:
        n = len(x._shape._dims)
        other = [i for i in range(n) if i not in red]
        perm = list(red) + other
        inv = [0] * n
        for i, p in enumerate(perm):
            inv[p] = i
        xd = x._shape._dims
        if None not in xd:
            reduced_num = int(np.prod([xd[i] for i in red], dtype=np.int64))
            other_num = int(np.prod([xd[i] for i in other], dtype=np.int64))
            new_shape = [reduced_num, other_num]
        else:
            sx = aops.shape(x)
            reduced_num = reduce_prod(aops.gather(sx, _int32_const(list(red))))
            other_num = reduce_prod(aops.gather(sx, _int32_const(other)))
            new_shape = aops.stack([reduced_num, other_num])
        perm_t = perm
        inv_t = inv
    else:
        sx = aops.shape(x)
        r = aops.size(sx)
        reduced = floormod(aops.reshape(cast(ax_t, _dt.int32), [-1]), r)
        idx = aops.range(r)
        other_idx, _ = aops.setdiff1d(idx, reduced)
        perm_t = aops.concat([reduced, other_idx], 0)
        inv_t = aops.invert_permutation(perm_t)
        reduced_num = reduce_prod(aops.gather(sx, reduced))
        other_num = reduce_prod(aops.gather(sx, other_idx))
        new_shape = aops.stack([reduced_num, other_num])
    permuted = aops.transpose(x, perm_t)
    permuted_shape = _shape_of(permuted)
    reshaped = aops.reshape(permuted, new_shape)
    left = cumprod(reshaped, axis=0, exclusive=True)
    right = cumprod(reshaped, axis=0, exclusive=True, reverse=True)
    others = aops.reshape(multiply(left, right), permuted_shape)
    return [multiply(g, aops.transpose(others, inv_t)), None]


@_register_gradient("Cumsum")
def _cumsum_grad(op, grad):
    return [cumsum(grad, op._inputs[1], exclusive=op._attrs["exclusive"],
                   reverse=not op._attrs["reverse"]), None]


@_register_gradient("Cumprod")
def _cumprod_grad(op, grad):
    # As TF1: divides by x, so it is undefined where x == 0.
    x = op._inputs[0]
    prod = op._outputs[0]
    out = cumsum(multiply(prod, grad), op._inputs[1], exclusive=op._attrs["exclusive"],
                 reverse=not op._attrs["reverse"])
    return [realdiv(out, x), None]


# ---- matrix products -----------------------------------------------------------------------------


@_register_gradient("MatMul")
def _matmul_grad(op, grad):
    a, b = op._inputs
    ta, tb = op._attrs["transpose_a"], op._attrs["transpose_b"]
    if not ta and not tb:
        ga = matmul(grad, b, transpose_b=True)
        gb = matmul(a, grad, transpose_a=True)
    elif not ta:
        ga = matmul(grad, b)
        gb = matmul(grad, a, transpose_a=True)
    elif not tb:
        ga = matmul(b, grad, transpose_b=True)
        gb = matmul(a, grad)
    else:
        ga = matmul(b, grad, transpose_a=True, transpose_b=True)
        gb = matmul(grad, a, transpose_a=True, transpose_b=True)
    return [ga, gb]


@_register_gradient("BatchMatMulV2")
def _batch_matmul_grad(op, grad):
    x, y = op._inputs
    adj_x, adj_y = op._attrs["adj_x"], op._attrs["adj_y"]
    if not adj_x:
        if not adj_y:
            gx = matmul(grad, y, adjoint_b=True)
            gy = matmul(x, grad, adjoint_a=True)
        else:
            gx = matmul(grad, y)
            gy = matmul(grad, x, adjoint_a=True)
    else:
        if not adj_y:
            gx = matmul(y, grad, adjoint_b=True)
            gy = matmul(x, grad)
        else:
            gx = matmul(y, grad, adjoint_a=True, adjoint_b=True)
            gy = matmul(grad, x, adjoint_a=True, adjoint_b=True)
    # Broadcast batch dimensions are summed away (the matrix dims already match).
    return [_unbroadcast(gx, x), _unbroadcast(gy, y)]


# ---- einsum --------------------------------------------------------------------------------------

_ELL = "*"  # one-character stand-in for "..." while subscripts are manipulated


def _einsum_terms(equation):
    """(input subscripts, output subscripts) with "..." as `_ELL`, the output made explicit."""
    eq = equation.replace(" ", "").replace("...", _ELL)
    if "->" in eq:
        lhs, out = eq.split("->", 1)
        subs = lhs.split(",")
    else:
        subs = eq.split(",")
        counts = {}
        for s in subs:
            for ch in s:
                counts[ch] = counts.get(ch, 0) + 1
        out = (_ELL if _ELL in counts else "") + "".join(
            sorted(c for c, n in counts.items() if n == 1 and c != _ELL))
    return subs, out


def _einsum_eq(subs, out):
    return (",".join(subs) + "->" + out).replace(_ELL, "...")


def _einsum_letter_size(x, sub, ch):
    """The size of subscript letter `ch` in operand `x` (a Python int or a scalar tensor)."""
    i = sub.index(ch)
    pos = i if _ELL not in sub[:i] else i - len(sub)
    d = x._shape._dims
    if d is not None and d[pos] is not None:
        return d[pos]
    return _array_ops().shape(x)[pos]


def _einsum_ones(n, dt):
    if isinstance(n, int):
        arr = np.ones(n, dtype=dt.as_numpy_dtype)
        arr.flags.writeable = False
        return _ops.apply_op("Const", [], {"value": arr, "dtype": dt}, name="Const")
    return _array_ops().ones(_array_ops().expand_dims(n, 0), dtype=dt)


def _einsum_eye(n, dt):
    if isinstance(n, int):
        arr = np.eye(n, dtype=dt.as_numpy_dtype)
        arr.flags.writeable = False
        return _ops.apply_op("Const", [], {"value": arr, "dtype": dt}, name="Const")
    aops = _array_ops()
    r = aops.range(n)
    return cast(equal(aops.expand_dims(r, 1), aops.expand_dims(r, 0)), dt)


def _einsum_operand_grad(op, grad, i, subs, out):
    equation = op._attrs["equation"]
    x = op._inputs[i]
    s = subs[i]
    others = [subs[j] for j in range(len(subs)) if j != i]
    other_ts = [op._inputs[j] for j in range(len(subs)) if j != i]
    if _ELL in s and _ELL not in out:
        raise LookupError("No gradient defined for einsum equation %r: the broadcast (...) "
                          "dimensions of input %d are summed away." % (equation, i))
    avail = set(out)
    for o in others:
        avail.update(o)
    unique = []
    for ch in s:
        if ch not in unique:
            unique.append(ch)
    keep = "".join(ch for ch in unique if ch in avail)
    summed = [ch for ch in unique if ch not in avail]
    repeated = len(unique) != len(s)
    if keep == out and not others:
        g = grad
    else:
        g = einsum(_einsum_eq([out] + others, keep), grad, *other_ts)
    if summed or repeated:
        # Letters only in this operand are broadcast back with ones vectors; repeated letters
        # (diagonals, traces) are spread back onto the diagonal with identity matrices.
        dt = grad._dtype.base_dtype
        used = set(equation)
        fresh = iter(c for c in _LETTERS if c not in used)
        aux_subs, aux_ts = [], []
        for ch in summed:
            aux_subs.append(ch)
            aux_ts.append(_einsum_ones(_einsum_letter_size(x, s, ch), dt))
        target = []
        seen = set()
        for ch in s:
            if ch in seen and ch != _ELL:
                new = next(fresh)
                aux_subs.append(ch + new)
                aux_ts.append(_einsum_eye(_einsum_letter_size(x, s, ch), dt))
                target.append(new)
            else:
                seen.add(ch)
                target.append(ch)
        g = einsum(_einsum_eq([keep] + aux_subs, "".join(target)), g, *aux_ts)
    if _ELL in s:
        # The operand's broadcast dims may be fewer or size 1: sum the gradient down to them.
        # SumToShape aligns shapes on the right, which is right for a leading "...".
        xd, gd = x._shape._dims, g._shape._dims
        if s[0] != _ELL and (xd is None or gd is None or len(xd) != len(gd)):
            raise LookupError("No gradient defined for einsum equation %r: input %d has "
                              "broadcast (...) dimensions that are not leading and whose "
                              "rank differs from the output's." % (equation, i))
        g = _unbroadcast(g, x)
    return g


@_register_gradient("Einsum")
def _einsum_grad(op, grad):
    subs, out = _einsum_terms(op._attrs["equation"])
    return [_einsum_operand_grad(op, grad, i, subs, out) for i in range(len(subs))]


# ---- segment sums --------------------------------------------------------------------------------


@_register_gradient("UnsortedSegmentSum")
def _unsorted_segment_sum_grad(op, grad):
    # Each data slice receives its segment's gradient; slices with negative ids get zeros.
    aops = _array_ops()
    ids = op._inputs[1]
    zero = _scalar_like(0, ids)
    gathered = aops.gather(grad, maximum(ids, zero))
    is_kept = greater_equal(ids, zero)
    gd, idd = gathered._shape._dims, ids._shape._dims
    if gd is not None and idd is not None:
        for _ in range(len(gd) - len(idd)):
            is_kept = aops.expand_dims(is_kept, -1)
    else:
        extra = subtract(aops.rank(gathered), aops.rank(ids))
        is_kept = aops.reshape(is_kept, aops.concat(
            [aops.shape(ids), aops.ones(aops.expand_dims(extra, 0), dtype=_dt.int32)], 0))
    return [where_v2(is_kept, gathered, _scalar_like(0, gathered)), None, None]
