"""TensorFlow-1.x compatible exception types (``tf.errors``).

``OpError`` is raised when executing an operation fails; its subclasses
correspond to the canonical error codes (``errors.INVALID_ARGUMENT`` ...).
"""

__all__ = [
    "OpError", "CancelledError", "UnknownError", "InvalidArgumentError",
    "DeadlineExceededError", "NotFoundError", "AlreadyExistsError",
    "PermissionDeniedError", "ResourceExhaustedError", "FailedPreconditionError",
    "AbortedError", "OutOfRangeError", "UnimplementedError", "InternalError",
    "UnavailableError", "DataLossError", "UnauthenticatedError",
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
    "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    "exception_type_from_error_code", "error_code_from_exception_type",
]

OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16


class OpError(Exception):
    """A generic error raised when running a graph operation fails.

    Args:
      node_def: the NodeDef (or None) of the failing op.
      op: the failing ``Operation`` (or None).
      message: the error message.
      error_code: the canonical error code (an int, e.g. ``INVALID_ARGUMENT``).
    """

    def __init__(self, node_def, op, message, error_code):
        super(OpError, self).__init__(message)
        self._node_def = node_def
        self._op = op
        self._message = message
        self._error_code = error_code

    @property
    def message(self):
        """The error message that describes the error."""
        return self._message

    @property
    def op(self):
        """The operation that failed, or None."""
        return self._op

    @property
    def error_code(self):
        """The integer error code that describes the error."""
        return self._error_code

    @property
    def node_def(self):
        """The NodeDef of the failed op, or None."""
        return self._node_def

    def __str__(self):
        return str(self._message)

    def __reduce__(self):
        # The failing Operation belongs to an in-process graph and is dropped.
        if type(self) is OpError:
            return OpError, (self._node_def, None, self._message, self._error_code)
        return type(self), (self._node_def, None, self._message)


def _make_error_class(name, code, doc):
    def __init__(self, node_def, op, message):
        OpError.__init__(self, node_def, op, message, code)

    __init__.__qualname__ = name + ".__init__"
    cls = type(name, (OpError,), {"__init__": __init__, "__doc__": doc,
                                  "__module__": __name__})
    return cls


CancelledError = _make_error_class(
    "CancelledError", CANCELLED,
    "Raised when an operation or step is cancelled.")
UnknownError = _make_error_class(
    "UnknownError", UNKNOWN,
    "Unknown error.")
InvalidArgumentError = _make_error_class(
    "InvalidArgumentError", INVALID_ARGUMENT,
    "Raised when an operation receives an invalid argument.")
DeadlineExceededError = _make_error_class(
    "DeadlineExceededError", DEADLINE_EXCEEDED,
    "Raised when a deadline expires before an operation could complete.")
NotFoundError = _make_error_class(
    "NotFoundError", NOT_FOUND,
    "Raised when a requested entity (e.g., a file or directory) was not found.")
AlreadyExistsError = _make_error_class(
    "AlreadyExistsError", ALREADY_EXISTS,
    "Raised when an entity that we attempted to create already exists.")
PermissionDeniedError = _make_error_class(
    "PermissionDeniedError", PERMISSION_DENIED,
    "Raised when the caller does not have permission to run an operation.")
ResourceExhaustedError = _make_error_class(
    "ResourceExhaustedError", RESOURCE_EXHAUSTED,
    "Some resource has been exhausted.")
FailedPreconditionError = _make_error_class(
    "FailedPreconditionError", FAILED_PRECONDITION,
    "Operation was rejected because the system is not in a state to execute it "
    "(e.g. using an uninitialized variable).")
AbortedError = _make_error_class(
    "AbortedError", ABORTED,
    "The operation was aborted, typically due to a concurrent action.")
OutOfRangeError = _make_error_class(
    "OutOfRangeError", OUT_OF_RANGE,
    "Raised when an operation iterates past the valid input range "
    "(e.g. a queue or dataset is exhausted).")
UnimplementedError = _make_error_class(
    "UnimplementedError", UNIMPLEMENTED,
    "Raised when an operation has not been implemented.")
InternalError = _make_error_class(
    "InternalError", INTERNAL,
    "Raised when the system experiences an internal error.")
UnavailableError = _make_error_class(
    "UnavailableError", UNAVAILABLE,
    "Raised when the runtime is currently unavailable.")
DataLossError = _make_error_class(
    "DataLossError", DATA_LOSS,
    "Raised when unrecoverable data loss or corruption is encountered.")
UnauthenticatedError = _make_error_class(
    "UnauthenticatedError", UNAUTHENTICATED,
    "The request does not have valid authentication credentials.")

_CODE_TO_EXCEPTION_CLASS = {
    CANCELLED: CancelledError,
    UNKNOWN: UnknownError,
    INVALID_ARGUMENT: InvalidArgumentError,
    DEADLINE_EXCEEDED: DeadlineExceededError,
    NOT_FOUND: NotFoundError,
    ALREADY_EXISTS: AlreadyExistsError,
    PERMISSION_DENIED: PermissionDeniedError,
    RESOURCE_EXHAUSTED: ResourceExhaustedError,
    FAILED_PRECONDITION: FailedPreconditionError,
    ABORTED: AbortedError,
    OUT_OF_RANGE: OutOfRangeError,
    UNIMPLEMENTED: UnimplementedError,
    INTERNAL: InternalError,
    UNAVAILABLE: UnavailableError,
    DATA_LOSS: DataLossError,
    UNAUTHENTICATED: UnauthenticatedError,
}

_EXCEPTION_CLASS_TO_CODE = {cls: code for code, cls in _CODE_TO_EXCEPTION_CLASS.items()}


def exception_type_from_error_code(error_code):
    """Returns the OpError subclass for ``error_code`` (KeyError if unknown)."""
    return _CODE_TO_EXCEPTION_CLASS[error_code]


def error_code_from_exception_type(cls):
    """Returns the error code of an OpError subclass (or of its nearest base).

    Raises KeyError if ``cls`` is not an OpError subclass with a code.
    """
    try:
        return _EXCEPTION_CLASS_TO_CODE[cls]
    except (KeyError, TypeError):
        pass
    for base in getattr(cls, "__mro__", ()):
        if base in _EXCEPTION_CLASS_TO_CODE:
            return _EXCEPTION_CLASS_TO_CODE[base]
    raise KeyError(cls)
