"""Tests for headwater.framework.dtypes (TF1 tf.DType / tf.as_dtype behaviour)."""

import pickle

import numpy as np
import pytest

from headwater.framework import dtypes


ENUMS = {
    "float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
    "string": 7, "complex64": 8, "int64": 9, "bool": 10, "bfloat16": 14,
    "uint16": 17, "complex128": 18, "float16": 19,
}


@pytest.mark.parametrize("name,enum", sorted(ENUMS.items()))
def test_enum_numbers_and_names(name, enum):
    dt = getattr(dtypes, name)
    assert dt.as_datatype_enum == enum
    assert dt.name == name
    assert dtypes.as_dtype(enum) is dt
    assert dtypes.as_dtype(name) is dt
    assert dtypes.DType(enum) == dt
    assert repr(dt) == "tf." + name
    assert str(dt) == "<dtype: '%s'>" % name


def test_aliases():
    assert dtypes.half is dtypes.float16
    assert dtypes.float is dtypes.float32
    assert dtypes.double is dtypes.float64
    assert dtypes.as_dtype("float") is dtypes.float32
    assert dtypes.as_dtype("double") is dtypes.float64
    assert dtypes.as_dtype("half") is dtypes.float16


@pytest.mark.parametrize("npt,dt", [
    (np.float16, dtypes.float16), (np.float32, dtypes.float32),
    (np.float64, dtypes.float64), (np.int8, dtypes.int8), (np.int16, dtypes.int16),
    (np.int32, dtypes.int32), (np.int64, dtypes.int64), (np.uint8, dtypes.uint8),
    (np.uint16, dtypes.uint16), (np.bool_, dtypes.bool),
    (np.complex64, dtypes.complex64), (np.complex128, dtypes.complex128),
])
def test_numpy_roundtrip(npt, dt):
    assert dtypes.as_dtype(npt) is dt
    assert dtypes.as_dtype(np.dtype(npt)) is dt
    assert dt.as_numpy_dtype is npt
    assert dt.is_numpy_compatible
    assert dt == npt
    assert dt == np.dtype(npt)


def test_as_dtype_python_and_string_types():
    assert dtypes.as_dtype(float) is dtypes.float64
    assert dtypes.as_dtype(int) is dtypes.int64
    assert dtypes.as_dtype(bool) is dtypes.bool
    assert dtypes.as_dtype(complex) is dtypes.complex128
    for t in (str, bytes, np.object_, np.str_, np.bytes_, np.dtype("U5"), np.dtype("S3"),
              np.dtype(object)):
        assert dtypes.as_dtype(t) is dtypes.string
    assert dtypes.string.as_numpy_dtype is np.object_


def test_as_dtype_other_numpy_spellings():
    assert dtypes.as_dtype(np.dtype(">f4")) is dtypes.float32
    assert dtypes.as_dtype("f8") is dtypes.float64
    assert dtypes.as_dtype("int") is dtypes.int64  # numpy spelling, not a TF name
    assert dtypes.as_dtype(np.longlong) is dtypes.int64
    assert dtypes.as_dtype("tf.float32") is dtypes.float32


@pytest.mark.parametrize("bad", ["foo", None, 12345, 1.5, [1], object(), np.dtype("V8")])
def test_as_dtype_errors(bad):
    with pytest.raises(TypeError, match="to a TensorFlow DType"):
        dtypes.as_dtype(bad)


def test_as_dtype_error_message_text():
    with pytest.raises(TypeError) as ei:
        dtypes.as_dtype("foo")
    assert str(ei.value) == "Cannot convert value 'foo' to a TensorFlow DType."


def test_invalid_enum_constructor():
    with pytest.raises(TypeError):
        dtypes.DType(11)


def test_predicates():
    floats = {dtypes.float16, dtypes.float32, dtypes.float64, dtypes.bfloat16}
    ints = {dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint8,
            dtypes.uint16}
    allt = floats | ints | {dtypes.bool, dtypes.string, dtypes.complex64,
                            dtypes.complex128}
    for dt in allt:
        assert dt.is_floating == (dt in floats), dt
        assert dt.is_integer == (dt in ints), dt
        assert dt.is_complex == (dt in (dtypes.complex64, dtypes.complex128)), dt
        assert dt.is_bool == (dt is dtypes.bool), dt
        assert dt.is_unsigned == (dt in (dtypes.uint8, dtypes.uint16)), dt
        assert dt.is_quantized is False


def test_min_max():
    assert dtypes.int8.min == -128 and dtypes.int8.max == 127
    assert dtypes.uint8.min == 0 and dtypes.uint8.max == 255
    assert dtypes.int32.min == -(2 ** 31) and dtypes.int32.max == 2 ** 31 - 1
    assert dtypes.int64.max == 2 ** 63 - 1
    assert dtypes.float32.max == np.finfo(np.float32).max
    assert dtypes.float32.min == -np.finfo(np.float32).max
    assert dtypes.float16.max == 65504
    assert dtypes.float64.min == np.finfo(np.float64).min
    for dt in (dtypes.bool, dtypes.string, dtypes.complex64):
        with pytest.raises(TypeError, match="Cannot find minimum value"):
            dt.min
        with pytest.raises(TypeError, match="Cannot find maximum value"):
            dt.max


def test_limits_property():
    assert dtypes.uint8.limits == (0, 255)
    assert dtypes.float32.limits == (0, 1)


def test_size():
    assert dtypes.float32.size == 4
    assert dtypes.float64.size == 8
    assert dtypes.float16.size == 2
    assert dtypes.bfloat16.size == 2
    assert dtypes.int8.size == 1
    assert dtypes.bool.size == 1
    assert dtypes.complex128.size == 16


def test_real_dtype_and_base_dtype():
    assert dtypes.complex64.real_dtype is dtypes.float32
    assert dtypes.complex128.real_dtype is dtypes.float64
    assert dtypes.int32.real_dtype is dtypes.int32
    assert dtypes.float32.base_dtype is dtypes.float32


def test_ref_dtypes():
    r = dtypes.float32_ref
    assert r.name == "float32_ref"
    assert r.as_datatype_enum == 101
    assert r.base_dtype is dtypes.float32
    assert r != dtypes.float32
    assert dtypes.float32._as_ref is r
    assert r._is_ref_dtype and not dtypes.float32._is_ref_dtype
    assert r.is_floating
    assert dtypes.as_dtype("float32_ref") is r
    # A ref value may be used where the base type is expected, not vice versa.
    assert dtypes.float32.is_compatible_with(r)
    assert not r.is_compatible_with(dtypes.float32)


def test_is_compatible_with():
    assert dtypes.float32.is_compatible_with(dtypes.float32)
    assert dtypes.float32.is_compatible_with("float32")
    assert dtypes.float32.is_compatible_with(np.float32)
    assert not dtypes.float32.is_compatible_with(dtypes.float64)
    assert not dtypes.int32.is_compatible_with(dtypes.int64)


def test_equality_and_hash():
    assert dtypes.float32 == "float32"
    assert dtypes.float32 == np.float32
    assert dtypes.float32 == np.dtype("float32")
    assert dtypes.float32 == 1
    assert dtypes.float32 != dtypes.float64
    assert dtypes.float32 != "int32"
    assert not (dtypes.float32 == None)  # noqa: E711
    assert dtypes.float32 != None  # noqa: E711
    assert not (dtypes.float32 == "not a dtype")
    assert dtypes.float32 != "not a dtype"
    assert dtypes.float32 == dtypes.DType(1)
    assert hash(dtypes.float32) == hash(dtypes.DType(1))
    assert len({dtypes.float32, dtypes.DType(1), dtypes.float64}) == 2
    d = {dtypes.float32: "a"}
    assert d[dtypes.as_dtype("float")] == "a"
    assert dtypes.float32 in [dtypes.int32, dtypes.float32]


def test_pickle_keeps_identity():
    for dt in (dtypes.float32, dtypes.string, dtypes.int64_ref):
        assert pickle.loads(pickle.dumps(dt)) is dt


@pytest.mark.parametrize("value,expected", [
    (1.0, dtypes.float32),
    (1, dtypes.int32),
    (-(2 ** 31), dtypes.int32),
    (2 ** 31 - 1, dtypes.int32),
    (2 ** 31, dtypes.int64),
    (-(2 ** 31) - 1, dtypes.int64),
    (True, dtypes.bool),
    ("abc", dtypes.string),
    (b"abc", dtypes.string),
    (1 + 2j, dtypes.complex128),
    ([1, 2, 3], dtypes.int32),
    ([1, 2.5], dtypes.float32),
    ([[1, 2], [3, 4.0]], dtypes.float32),
    ([1, 2 ** 40], dtypes.int64),
    ([True, False], dtypes.bool),
    (["a", b"b"], dtypes.string),
    ((1.0, 2.0), dtypes.float32),
    ([np.float64(1.0)], dtypes.float32),  # lists of numpy scalars are Python values
    (np.array([1.0, 2.0]), dtypes.float64),  # numpy arrays keep their dtype
    (np.array([1, 2], dtype=np.int64), dtypes.int64),
    (np.float64(3.0), dtypes.float64),
    (np.int16(3), dtypes.int16),
    (np.array(["a", "b"]), dtypes.string),
    (np.array([True]), dtypes.bool),
    ([], dtypes.float32),
])
def test_infer_dtype(value, expected):
    assert dtypes.infer_dtype(value) is expected
    assert dtypes.from_value(value) is expected


def test_infer_dtype_errors():
    with pytest.raises(ValueError, match="None values not supported"):
        dtypes.infer_dtype(None)
    with pytest.raises(ValueError, match="dense tensor"):
        dtypes.infer_dtype([[1], [2, 3]])
    with pytest.raises(ValueError, match="out of range"):
        dtypes.infer_dtype(2 ** 64)
    with pytest.raises(ValueError, match="out of range"):
        dtypes.infer_dtype([1, 2 ** 64])


def test_infer_dtype_object_with_dtype_attribute():
    class FakeTensor:
        dtype = dtypes.float32_ref
    assert dtypes.infer_dtype(FakeTensor()) is dtypes.float32


def test_convert_to_numpy_values():
    a = dtypes.convert_to_numpy([1, 2.5])
    assert a.dtype == np.float32 and a.tolist() == [1.0, 2.5]
    a = dtypes.convert_to_numpy([[1, 2], [3, 4]])
    assert a.dtype == np.int32 and a.shape == (2, 2)
    a = dtypes.convert_to_numpy(["ab", b"c"])
    assert a.dtype == np.object_ and a.tolist() == [b"ab", b"c"]
    a = dtypes.convert_to_numpy(np.arange(3.0))
    assert a.dtype == np.float64
    a = dtypes.convert_to_numpy(np.arange(3.0), dtypes.float32)
    assert a.dtype == np.float32
    a = dtypes.convert_to_numpy(1, dtypes.float32)
    assert a.dtype == np.float32 and a.shape == ()
    a = dtypes.convert_to_numpy([True, 1], dtypes.int64)
    assert a.dtype == np.int64 and a.tolist() == [1, 1]


@pytest.mark.parametrize("value,dt,msg", [
    (1.5, dtypes.int32, "Expected int32, got 1.5 of type 'float' instead."),
    ([1, 2.5], dtypes.int64, "Expected int64, got 2.5 of type 'float' instead."),
    (1, dtypes.string, "Expected string, got 1 of type 'int' instead."),
    (1, dtypes.bool, "Expected bool, got 1 of type 'int' instead."),
    ("a", dtypes.float32, "Expected float32, got 'a' of type 'str' instead."),
])
def test_convert_to_numpy_type_mismatch(value, dt, msg):
    with pytest.raises(TypeError) as ei:
        dtypes.convert_to_numpy(value, dt)
    assert str(ei.value) == msg
