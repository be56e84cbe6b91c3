"""Tests for headwater.framework.errors (TF1 tf.errors)."""

import pickle

import pytest

from headwater.framework import errors

EXPECTED = [
    ("CancelledError", "CANCELLED", 1),
    ("UnknownError", "UNKNOWN", 2),
    ("InvalidArgumentError", "INVALID_ARGUMENT", 3),
    ("DeadlineExceededError", "DEADLINE_EXCEEDED", 4),
    ("NotFoundError", "NOT_FOUND", 5),
    ("AlreadyExistsError", "ALREADY_EXISTS", 6),
    ("PermissionDeniedError", "PERMISSION_DENIED", 7),
    ("ResourceExhaustedError", "RESOURCE_EXHAUSTED", 8),
    ("FailedPreconditionError", "FAILED_PRECONDITION", 9),
    ("AbortedError", "ABORTED", 10),
    ("OutOfRangeError", "OUT_OF_RANGE", 11),
    ("UnimplementedError", "UNIMPLEMENTED", 12),
    ("InternalError", "INTERNAL", 13),
    ("UnavailableError", "UNAVAILABLE", 14),
    ("DataLossError", "DATA_LOSS", 15),
    ("UnauthenticatedError", "UNAUTHENTICATED", 16),
]


def test_ok_code():
    assert errors.OK == 0


@pytest.mark.parametrize("cls_name,const,code", EXPECTED)
def test_error_classes(cls_name, const, code):
    cls = getattr(errors, cls_name)
    assert getattr(errors, const) == code
    assert issubclass(cls, errors.OpError)
    assert issubclass(cls, Exception)
    assert cls.__name__ == cls_name
    node_def, op = object(), object()
    e = cls(node_def, op, "something failed")
    assert e.error_code == code
    assert e.message == "something failed"
    assert e.op is op
    assert e.node_def is node_def
    assert str(e) == "something failed"
    assert errors.exception_type_from_error_code(code) is cls
    assert errors.error_code_from_exception_type(cls) == code
    with pytest.raises(errors.OpError, match="something failed"):
        raise cls(None, None, "something failed")


def test_keyword_construction():
    e = errors.InvalidArgumentError(node_def=None, op=None, message="bad shape")
    assert e.message == "bad shape"
    assert e.error_code == errors.INVALID_ARGUMENT
    assert e.op is None and e.node_def is None
    e = errors.OpError(node_def=None, op=None, message="m", error_code=errors.INTERNAL)
    assert e.error_code == 13


def test_base_op_error():
    e = errors.OpError(None, None, "generic", errors.UNKNOWN)
    assert e.error_code == 2
    assert str(e) == "generic"
    assert e.args == ("generic",)


def test_constructor_requires_arguments():
    with pytest.raises(TypeError):
        errors.InvalidArgumentError("only message")
    with pytest.raises(TypeError):
        errors.OpError(None, None, "no code")


def test_catching_by_base_class():
    try:
        raise errors.OutOfRangeError(None, None, "End of sequence")
    except errors.OpError as e:
        assert isinstance(e, errors.OutOfRangeError)
        assert e.error_code == errors.OUT_OF_RANGE


def test_code_lookup_errors():
    with pytest.raises(KeyError):
        errors.exception_type_from_error_code(99)
    with pytest.raises(KeyError):
        errors.exception_type_from_error_code(errors.OK)
    with pytest.raises(KeyError):
        errors.error_code_from_exception_type(ValueError)


def test_user_subclass_code_lookup():
    class MyError(errors.NotFoundError):
        pass
    assert errors.error_code_from_exception_type(MyError) == errors.NOT_FOUND
    assert MyError(None, None, "x").error_code == errors.NOT_FOUND


def test_pickle_roundtrip_drops_op():
    e = errors.FailedPreconditionError("node", object(), "uninitialized value W")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is errors.FailedPreconditionError
    assert e2.message == "uninitialized value W"
    assert e2.node_def == "node"
    assert e2.op is None
    assert e2.error_code == errors.FAILED_PRECONDITION
    b = pickle.loads(pickle.dumps(errors.OpError(None, None, "m", 13)))
    assert type(b) is errors.OpError and b.error_code == 13
