"""TensorFlow-1.x compatible data types.

This module mirrors the public behaviour of ``tf.DType`` / ``tf.as_dtype``
from TensorFlow 1.x:

* ``DType`` instances (``float32``, ``int32``, ``string``, ...) with the usual
  predicates (``is_floating``, ``is_integer``, ...), limits (``min``/``max``),
  ``base_dtype``/``real_dtype`` and the TF ``DataType`` enum numbers
  (``as_datatype_enum``), which are the values used in GraphDef protos.
* Reference dtypes (``float32_ref`` ...) as used by TF1 variables; their
  ``base_dtype`` is the plain dtype.
* ``as_dtype(x)`` converting DTypes, numpy dtypes/types, Python types,
  names and enum numbers.
* ``infer_dtype(value)`` / ``from_value(value)`` implementing the dtype
  inference rule ``tf.constant`` applies to Python values (Python floats
  become float32, Python ints become int32 when they fit, ...), and
  ``convert_to_numpy(value, dtype=None)`` which applies the full TF1
  conversion rule and returns the numpy array.

Only numpy is imported.
"""

import numpy as np

__all__ = [
    "DType", "as_dtype", "infer_dtype", "from_value", "convert_to_numpy",
    "float16", "half", "float32", "float", "float64", "double", "bfloat16",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "bool", "string", "complex64", "complex128",
    "float16_ref", "float32_ref", "float64_ref", "bfloat16_ref", "int8_ref",
    "int16_ref", "int32_ref", "int64_ref", "uint8_ref", "uint16_ref",
    "uint32_ref", "uint64_ref", "bool_ref", "string_ref", "complex64_ref",
    "complex128_ref",
]

_builtin_bool = bool
_builtin_float = float
_builtin_int = int
_builtin_complex = complex

# TF DataType enum values (tensorflow/core/framework/types.proto).
DT_INVALID = 0
DT_FLOAT = 1
DT_DOUBLE = 2
DT_INT32 = 3
DT_UINT8 = 4
DT_INT16 = 5
DT_INT8 = 6
DT_STRING = 7
DT_COMPLEX64 = 8
DT_INT64 = 9
DT_BOOL = 10
DT_BFLOAT16 = 14
DT_UINT16 = 17
DT_COMPLEX128 = 18
DT_HALF = 19
DT_UINT32 = 22
DT_UINT64 = 23
_REF_OFFSET = 100  # DT_FLOAT_REF = 101, ...

# enum -> (name, numpy type or None)
_BASE_TYPES = {
    DT_HALF: ("float16", np.float16),
    DT_FLOAT: ("float32", np.float32),
    DT_DOUBLE: ("float64", np.float64),
    DT_BFLOAT16: ("bfloat16", None),  # numpy type resolved lazily (ml_dtypes)
    DT_INT8: ("int8", np.int8),
    DT_INT16: ("int16", np.int16),
    DT_INT32: ("int32", np.int32),
    DT_INT64: ("int64", np.int64),
    DT_UINT8: ("uint8", np.uint8),
    DT_UINT16: ("uint16", np.uint16),
    DT_UINT32: ("uint32", np.uint32),
    DT_UINT64: ("uint64", np.uint64),
    DT_BOOL: ("bool", np.bool_),
    DT_STRING: ("string", np.object_),
    DT_COMPLEX64: ("complex64", np.complex64),
    DT_COMPLEX128: ("complex128", np.complex128),
}

_FLOATING = frozenset([DT_HALF, DT_FLOAT, DT_DOUBLE, DT_BFLOAT16])
_INTEGER = frozenset([DT_INT8, DT_INT16, DT_INT32, DT_INT64,
                      DT_UINT8, DT_UINT16, DT_UINT32, DT_UINT64])
_UNSIGNED = frozenset([DT_UINT8, DT_UINT16, DT_UINT32, DT_UINT64])
_COMPLEX = frozenset([DT_COMPLEX64, DT_COMPLEX128])
_ITEMSIZE = {DT_BFLOAT16: 2}

_bfloat16_np = None  # cache for the lazily imported ml_dtypes.bfloat16


def _bfloat16_numpy_type():
    global _bfloat16_np
    if _bfloat16_np is None:
        try:
            import ml_dtypes  # optional dependency
        except ImportError:
            _bfloat16_np = False
        else:
            _bfloat16_np = ml_dtypes.bfloat16
    return _bfloat16_np or None


class DType(object):
    """Represents the type of the elements in a Tensor (like ``tf.DType``)."""

    __slots__ = ("_type_enum",)

    def __init__(self, type_enum):
        type_enum = _builtin_int(type_enum)
        base = type_enum - _REF_OFFSET if type_enum > _REF_OFFSET else type_enum
        if base not in _BASE_TYPES:
            raise TypeError(
                "type_enum is not a valid types_pb2.DataType: %d" % type_enum)
        self._type_enum = type_enum

    # -- identity ---------------------------------------------------------
    @property
    def as_datatype_enum(self):
        """The TF ``DataType`` enum number of this dtype."""
        return self._type_enum

    @property
    def _is_ref_dtype(self):
        return self._type_enum > _REF_OFFSET

    @property
    def _as_ref(self):
        if self._type_enum > _REF_OFFSET:
            return self
        return _INTERN_TABLE[self._type_enum + _REF_OFFSET]

    @property
    def base_dtype(self):
        """Returns the non-reference dtype (``float32_ref`` -> ``float32``)."""
        if self._type_enum > _REF_OFFSET:
            return _INTERN_TABLE[self._type_enum - _REF_OFFSET]
        return self

    @property
    def real_dtype(self):
        """Real part dtype: complex64 -> float32, complex128 -> float64."""
        base = self.base_dtype
        if base._type_enum == DT_COMPLEX64:
            return float32
        if base._type_enum == DT_COMPLEX128:
            return float64
        return self

    @property
    def _base_enum(self):
        e = self._type_enum
        return e - _REF_OFFSET if e > _REF_OFFSET else e

    @property
    def name(self):
        e = self._type_enum
        if e > _REF_OFFSET:
            return _BASE_TYPES[e - _REF_OFFSET][0] + "_ref"
        return _BASE_TYPES[e][0]

    @property
    def as_numpy_dtype(self):
        """The numpy type class (e.g. ``np.float32``; ``np.object_`` for string)."""
        e = self._base_enum
        if e == DT_BFLOAT16:
            t = _bfloat16_numpy_type()
            if t is None:
                raise TypeError(
                    "bfloat16 has no numpy equivalent (install ml_dtypes).")
            return t
        return _BASE_TYPES[e][1]

    # -- predicates -------------------------------------------------------
    @property
    def is_numpy_compatible(self):
        if self._base_enum == DT_BFLOAT16:
            return _bfloat16_numpy_type() is not None
        return True

    @property
    def is_floating(self):
        return self._base_enum in _FLOATING

    @property
    def is_integer(self):
        return self._base_enum in _INTEGER

    @property
    def is_complex(self):
        return self._base_enum in _COMPLEX

    @property
    def is_bool(self):
        return self._base_enum == DT_BOOL

    @property
    def is_unsigned(self):
        return self._base_enum in _UNSIGNED

    @property
    def is_quantized(self):
        return False

    # -- limits -----------------------------------------------------------
    def _check_limits(self, what):
        e = self._base_enum
        if e in (DT_BOOL, DT_STRING) or e in _COMPLEX:
            raise TypeError("Cannot find %s value of %s." % (what, self))

    @property
    def min(self):
        """Minimum representable value (TypeError for bool/string/complex)."""
        self._check_limits("minimum")
        e = self._base_enum
        if e == DT_BFLOAT16:
            return _builtin_float(-3.3895313892515355e38)
        t = _BASE_TYPES[e][1]
        if e in _FLOATING:
            return np.finfo(t).min
        return np.iinfo(t).min

    @property
    def max(self):
        """Maximum representable value (TypeError for bool/string/complex)."""
        self._check_limits("maximum")
        e = self._base_enum
        if e == DT_BFLOAT16:
            return _builtin_float(3.3895313892515355e38)
        t = _BASE_TYPES[e][1]
        if e in _FLOATING:
            return np.finfo(t).max
        return np.iinfo(t).max

    @property
    def limits(self, clip_negative=True):
        """Intensity limits ``(min, max)`` as in TF (floats are (-1, 1)).

        Like TF this is a property, so ``clip_negative`` is always True and
        the returned minimum is 0.
        """
        e = self._base_enum
        if e == DT_BOOL:
            mn, mx = False, True
        elif e in _FLOATING:
            mn, mx = -1, 1
        else:
            mn, mx = self.min, self.max
        if clip_negative:
            mn = 0
        return mn, mx

    @property
    def size(self):
        """Size in bytes of one element."""
        e = self._base_enum
        if e in _ITEMSIZE:
            return _ITEMSIZE[e]
        return np.dtype(_BASE_TYPES[e][1]).itemsize

    # -- comparison ---------------------------------------------------------
    def is_compatible_with(self, other):
        """True if a value of dtype ``other`` may be used where ``self`` is expected."""
        other = as_dtype(other)
        return self._type_enum in (other._type_enum, other.base_dtype._type_enum)

    def __eq__(self, other):
        if type(other) is DType:
            return self._type_enum == other._type_enum
        if other is None:
            return False
        try:
            return self._type_enum == as_dtype(other)._type_enum
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._type_enum

    def __int__(self):
        return self._type_enum

    def __repr__(self):
        return "tf." + self.name

    def __str__(self):
        return "<dtype: %r>" % self.name

    def __reduce__(self):
        return as_dtype, (self.name,)


# Intern table: enum -> canonical DType instance.
_INTERN_TABLE = {}
for _e in _BASE_TYPES:
    _INTERN_TABLE[_e] = DType(_e)
    _INTERN_TABLE[_e + _REF_OFFSET] = DType(_e + _REF_OFFSET)
del _e

float16 = _INTERN_TABLE[DT_HALF]
half = float16
float32 = _INTERN_TABLE[DT_FLOAT]
float = float32  # noqa: A001  (TF exports tf.float)
float64 = _INTERN_TABLE[DT_DOUBLE]
double = float64
bfloat16 = _INTERN_TABLE[DT_BFLOAT16]
int8 = _INTERN_TABLE[DT_INT8]
int16 = _INTERN_TABLE[DT_INT16]
int32 = _INTERN_TABLE[DT_INT32]
int64 = _INTERN_TABLE[DT_INT64]
uint8 = _INTERN_TABLE[DT_UINT8]
uint16 = _INTERN_TABLE[DT_UINT16]
uint32 = _INTERN_TABLE[DT_UINT32]
uint64 = _INTERN_TABLE[DT_UINT64]
bool = _INTERN_TABLE[DT_BOOL]  # noqa: A001
string = _INTERN_TABLE[DT_STRING]
complex64 = _INTERN_TABLE[DT_COMPLEX64]
complex128 = _INTERN_TABLE[DT_COMPLEX128]

float16_ref = float16._as_ref
float32_ref = float32._as_ref
float64_ref = float64._as_ref
bfloat16_ref = bfloat16._as_ref
int8_ref = int8._as_ref
int16_ref = int16._as_ref
int32_ref = int32._as_ref
int64_ref = int64._as_ref
uint8_ref = uint8._as_ref
uint16_ref = uint16._as_ref
uint32_ref = uint32._as_ref
uint64_ref = uint64._as_ref
bool_ref = bool._as_ref
string_ref = string._as_ref
complex64_ref = complex64._as_ref
complex128_ref = complex128._as_ref

# numpy kind/itemsize -> DType
_NP_KIND_SIZE = {
    ("f", 2): float16, ("f", 4): float32, ("f", 8): float64,
    ("i", 1): int8, ("i", 2): int16, ("i", 4): int32, ("i", 8): int64,
    ("u", 1): uint8, ("u", 2): uint16, ("u", 4): uint32, ("u", 8): uint64,
    ("b", 1): bool,
    ("c", 8): complex64, ("c", 16): complex128,
}

# Anything hashable (names, enums, python types, numpy scalar types) -> DType.
# DType instances themselves are never used as keys (see as_dtype).
_ANY_TO_TF = {}
for _e, _dt in list(_INTERN_TABLE.items()):
    _ANY_TO_TF[_e] = _dt
    _ANY_TO_TF[_dt.name] = _dt
    if _e < _REF_OFFSET and _BASE_TYPES[_e][1] is not None:
        _ANY_TO_TF[_BASE_TYPES[_e][1]] = _dt
        _ANY_TO_TF[np.dtype(_BASE_TYPES[_e][1])] = _dt
del _e, _dt
_ANY_TO_TF.update({
    "half": float16, "float": float32, "double": float64,
    "half_ref": float16_ref, "float_ref": float32_ref, "double_ref": float64_ref,
    # Python types (np.dtype(float) is float64, np.dtype(int) is int64).
    _builtin_float: float64,
    _builtin_int: int64,
    _builtin_bool: bool,
    _builtin_complex: complex128,
    str: string,
    bytes: string,
    object: string,
    np.str_: string,
    np.bytes_: string,
    np.object_: string,
})


def as_dtype(type_value):
    """Converts ``type_value`` to a ``DType``.

    Accepts a ``DType``, a numpy dtype or scalar type, a Python type
    (``float`` -> float64, ``int`` -> int64, ``bool``, ``str``/``bytes`` ->
    string), a dtype name (``'float32'``, ``'float'``, ``'double'``, ...) or a
    ``DataType`` enum number.

    Raises:
      TypeError: if ``type_value`` cannot be converted.
    """
    if type(type_value) is DType:
        return type_value
    if isinstance(type_value, DType):  # subclass: never use as a dict key
        return _INTERN_TABLE[type_value._type_enum]
    try:
        return _ANY_TO_TF[type_value]
    except (KeyError, TypeError):
        pass
    if type_value is None:
        raise TypeError("Cannot convert value None to a TensorFlow DType.")
    if isinstance(type_value, str) and type_value.startswith("tf."):
        dt = _ANY_TO_TF.get(type_value[3:])
        if dt is not None:
            return dt
    if not isinstance(type_value, (_builtin_int, _builtin_float, _builtin_complex)):
        # numpy dtypes (non-native byte order, string kinds, ...), numpy types,
        # numpy dtype spellings ('f4', '<i8', ...).
        try:
            npdt = np.dtype(type_value)
        except Exception:  # noqa: BLE001 - numpy raises many types here
            npdt = None
        if npdt is not None:
            kind = npdt.kind
            if kind in ("U", "S", "O"):
                return string
            dt = _NP_KIND_SIZE.get((kind, npdt.itemsize))
            if dt is not None:
                return dt
            if npdt.name == "bfloat16":
                return bfloat16
    raise TypeError("Cannot convert value %r to a TensorFlow DType." % (type_value,))


# ---------------------------------------------------------------------------
# Python value -> dtype inference (the tf.constant rule).

_INT32_MIN = -(2 ** 31)
_INT32_MAX = 2 ** 31 - 1
_INT64_MIN = -(2 ** 63)
_INT64_MAX = 2 ** 63 - 1


def _ndarray_from_python(value):
    try:
        arr = np.array(value)
    except ValueError as e:
        # numpy >= 1.24 refuses ragged nested sequences.
        raise ValueError("Argument must be a dense tensor: %r - %s" % (value, e))
    except OverflowError:
        raise ValueError("Can't convert Python int to tensor: %r is out of range "
                         "for int64." % (value,))
    if arr.dtype == np.object_:
        flat = arr.reshape(-1)
        if flat.size and all(isinstance(v, (str, bytes)) for v in flat):
            return arr
        if any(isinstance(v, _builtin_int) for v in flat):
            raise ValueError("Can't convert Python int to tensor: %r is out of "
                             "range for int64." % (value,))
        raise ValueError("Argument must be a dense tensor: %r - got object array "
                         "of shape %s" % (value, list(arr.shape)))
    return arr


def _contains_big_int(value):
    if isinstance(value, _builtin_int) and not isinstance(value, _builtin_bool):
        return value > _INT64_MAX or value < _INT64_MIN
    if isinstance(value, (list, tuple)):
        return any(_contains_big_int(v) for v in value)
    return False


def infer_dtype(value):
    """Returns the ``DType`` ``tf.constant(value)`` would produce in TF1.

    * Python ``bool`` -> bool, ``int`` -> int32 (int64 if it does not fit in
      int32), ``float`` -> float32, ``complex`` -> complex128, ``str``/``bytes``
      -> string.
    * numpy arrays / scalars keep their dtype (float64 stays float64).
    * Nested lists/tuples take numpy's promoted type with the same
      float64 -> float32 and int64 -> int32 (when lossless) preference, so
      mixed int/float lists become float32.
    * Objects with a ``dtype`` attribute that is (convertible to) a DType,
      such as tensors, report that dtype.
    """
    t = type(value)
    if t is _builtin_float:
        return float32
    if t is _builtin_int:
        if _INT32_MIN <= value <= _INT32_MAX:
            return int32
        if _INT64_MIN <= value <= _INT64_MAX:
            return int64
        raise ValueError("Can't convert Python int to tensor: %d is out of range "
                         "for int64." % value)
    if t is _builtin_bool:
        return bool
    if t is str or t is bytes:
        return string
    if t is _builtin_complex:
        return complex128
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype == np.object_:
            return _infer_from_array(_ndarray_from_python(value.tolist()))
        return as_dtype(value.dtype)
    if value is None:
        raise ValueError("None values not supported.")
    dt = getattr(value, "dtype", None)
    if dt is not None and not isinstance(value, (list, tuple)):
        try:
            return as_dtype(dt).base_dtype
        except TypeError:
            pass
    return _infer_from_array(convert_to_numpy(value))


from_value = infer_dtype


def _infer_from_array(arr):
    return as_dtype(arr.dtype)


def _type_name(v):
    return type(v).__name__


def _check_python_values(values, dtype):
    """TF1's _AssertCompatible: Python values must fit the requested dtype kind."""
    if isinstance(values, (list, tuple)):
        for v in values:
            _check_python_values(v, dtype)
        return
    if isinstance(values, np.ndarray):
        return
    v = values
    base = dtype.base_dtype
    ok = True
    if base is string:
        ok = isinstance(v, (str, bytes, np.str_, np.bytes_))
    elif base is bool:
        ok = isinstance(v, (_builtin_bool, np.bool_))
    elif base.is_integer:
        ok = isinstance(v, (_builtin_int, np.integer, np.bool_))
    elif base.is_floating:
        ok = isinstance(v, (_builtin_int, _builtin_float, np.integer, np.floating,
                            np.bool_))
    elif base.is_complex:
        ok = isinstance(v, (_builtin_int, _builtin_float, _builtin_complex, np.number,
                            np.bool_))
    if not ok:
        raise TypeError("Expected %s, got %r of type '%s' instead."
                        % (base.name, v, _type_name(v)))


def convert_to_numpy(value, dtype=None):
    """Converts a Python/numpy value to an ndarray following TF1's rules.

    With ``dtype=None``: numpy inputs keep their dtype; Python values are
    converted with float64 -> float32 and int64 -> int32 (only when lossless);
    strings become object arrays of ``bytes``.  With a ``dtype``: Python values
    are checked for compatibility (``TypeError("Expected int32, got 1.5 of type
    'float' instead.")``) and cast.
    """
    if dtype is not None:
        dtype = as_dtype(dtype).base_dtype
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if dtype is not None and dtype.is_numpy_compatible:
            if dtype is string:
                return _to_string_array(arr)
            if arr.dtype != dtype.as_numpy_dtype:
                arr = arr.astype(dtype.as_numpy_dtype)
            return arr
        if arr.dtype.kind in ("U", "S", "O"):
            return _to_string_array(arr)
        return arr
    if value is None:
        raise ValueError("None values not supported.")
    if dtype is not None:
        _check_python_values(value, dtype)
        if dtype is string:
            return _to_string_array(_ndarray_from_python(value))
        if _contains_big_int(value):
            raise ValueError("Can't convert Python int to tensor: %r is out of range "
                             "for int64." % (value,))
        try:
            arr = np.array(value, dtype=dtype.as_numpy_dtype)
        except OverflowError as e:
            raise ValueError("Can't convert %r to %s: %s" % (value, dtype.name, e))
        except ValueError as e:
            raise ValueError("Argument must be a dense tensor: %r - %s" % (value, e))
        return arr
    if _contains_big_int(value):
        raise ValueError("Can't convert Python int to tensor: %r is out of range "
                         "for int64." % (value,))
    arr = _ndarray_from_python(value)
    k = arr.dtype
    if k == np.float64:
        return arr.astype(np.float32)
    if k == np.int64:
        down = arr.astype(np.int32)
        if np.array_equal(down, arr):
            return down
        return arr
    if k.kind in ("U", "S", "O"):
        return _to_string_array(arr)
    return arr


def _to_bytes(v):
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    return str(v).encode("utf-8")


def _to_string_array(arr):
    out = np.empty(arr.shape, dtype=np.object_)
    flat_in = arr.reshape(-1)
    flat_out = out.reshape(-1)
    for i in range(flat_in.size):
        flat_out[i] = _to_bytes(flat_in[i])
    return out
