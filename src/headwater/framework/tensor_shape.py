"""TensorFlow-1.x compatible static shapes: ``Dimension`` and ``TensorShape``.

Implementation notes
--------------------
``TensorShape`` stores its dimensions in ``self._dims`` as either ``None``
(unknown rank) or a *tuple of plain ints / None*.  ``Dimension`` objects are
only created on demand (``.dims``, ``shape[i]``, iteration), so building a
shape for every op of a large graph stays cheap.  Internal code should read
``shape._dims`` directly and create shapes from trusted tuples with
``TensorShape._from_tuple(t)`` (no validation).

User-facing behaviour follows TF1: ``shape[i]`` and iteration yield
``Dimension`` objects, ``Dimension.__eq__`` returns ``None`` when either side
is unknown, and ``str(shape)`` prints ``(?, 784)``.
"""

import operator

__all__ = [
    "Dimension", "TensorShape", "as_dimension", "as_shape", "dimension_value",
    "dimension_at_index", "unknown_shape", "scalar", "vector", "matrix",
    "broadcast_static_shape", "broadcast_shape",
]

_index = operator.index


def _dim_value(value):
    """Validates a dimension value and returns a non-negative int or None."""
    if value is None:
        return None
    if type(value) is int:
        v = value
    elif isinstance(value, Dimension):
        return value._value
    else:
        try:
            v = _index(value)
        except TypeError:
            if isinstance(value, float):
                if value != value or value in (float("inf"), float("-inf")) \
                        or int(value) != value:
                    raise ValueError("Ambiguous dimension: %s" % value)
                v = int(value)
            else:
                raise TypeError(
                    "Dimension value must be integer or None or have an __index__ "
                    "method, got value %r with type %r" % (value, type(value)))
    if v < 0:
        raise ValueError("Dimension %d must be >= 0" % v)
    return v


class Dimension(object):
    """Represents the value of one dimension in a TensorShape (may be unknown)."""

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = _dim_value(value)

    @property
    def value(self):
        """The value of this dimension, or None if it is unknown."""
        return self._value

    def __repr__(self):
        return "Dimension(%r)" % (self._value,)

    def __str__(self):
        v = self._value
        return "?" if v is None else str(v)

    def __int__(self):
        return self._value

    def __index__(self):
        return self._value

    def __bool__(self):
        return bool(self._value)

    def __hash__(self):
        return hash(self._value)

    def __reduce__(self):
        return Dimension, (self._value,)

    # -- comparisons (None when unknown, as in TF1) ------------------------
    def __eq__(self, other):
        try:
            other = as_dimension(other)
        except (TypeError, ValueError):
            return NotImplemented
        if self._value is None or other._value is None:
            return None
        return self._value == other._value

    def __ne__(self, other):
        try:
            other = as_dimension(other)
        except (TypeError, ValueError):
            return NotImplemented
        if self._value is None or other._value is None:
            return None
        return self._value != other._value

    def __lt__(self, other):
        other = as_dimension(other)
        if self._value is None or other._value is None:
            return None
        return self._value < other._value

    def __le__(self, other):
        other = as_dimension(other)
        if self._value is None or other._value is None:
            return None
        return self._value <= other._value

    def __gt__(self, other):
        other = as_dimension(other)
        if self._value is None or other._value is None:
            return None
        return self._value > other._value

    def __ge__(self, other):
        other = as_dimension(other)
        if self._value is None or other._value is None:
            return None
        return self._value >= other._value

    # -- compatibility ----------------------------------------------------
    def is_compatible_with(self, other):
        """True if the dimensions are equal or either is unknown."""
        other = as_dimension(other)
        return (self._value is None or other._value is None
                or self._value == other._value)

    def assert_is_compatible_with(self, other):
        if not self.is_compatible_with(other):
            raise ValueError("Dimensions %s and %s are not compatible" % (self, other))

    def merge_with(self, other):
        """Returns the most specific Dimension compatible with both."""
        other = as_dimension(other)
        a, b = self._value, other._value
        if a is None:
            return Dimension(b)
        if b is None or a == b:
            return Dimension(a)
        raise ValueError("Dimensions %s and %s are not compatible" % (self, other))

    # -- arithmetic (unknown propagates) -----------------------------------
    def _binop(self, other, fn, reverse=False):
        try:
            other = as_dimension(other)
        except (TypeError, ValueError):
            return NotImplemented
        a, b = self._value, other._value
        if a is None or b is None:
            return Dimension(None)
        return Dimension(fn(b, a) if reverse else fn(a, b))

    def __add__(self, other):
        return self._binop(other, operator.add)

    def __radd__(self, other):
        return self._binop(other, operator.add, True)

    def __sub__(self, other):
        return self._binop(other, operator.sub)

    def __rsub__(self, other):
        return self._binop(other, operator.sub, True)

    def __mul__(self, other):
        return self._binop(other, operator.mul)

    def __rmul__(self, other):
        return self._binop(other, operator.mul, True)

    def __floordiv__(self, other):
        return self._binop(other, operator.floordiv)

    def __rfloordiv__(self, other):
        return self._binop(other, operator.floordiv, True)

    def __mod__(self, other):
        return self._binop(other, operator.mod)

    def __rmod__(self, other):
        return self._binop(other, operator.mod, True)

    def __truediv__(self, other):
        raise TypeError("unsupported operand type(s) for /: 'Dimension' and '%s', "
                        "please use // instead" % type(other).__name__)

    def __rtruediv__(self, other):
        raise TypeError("unsupported operand type(s) for /: '%s' and 'Dimension', "
                        "please use // instead" % type(other).__name__)


def as_dimension(value):
    """Converts ``value`` to a Dimension (returns Dimensions unchanged)."""
    if isinstance(value, Dimension):
        return value
    return Dimension(value)


def dimension_value(dimension):
    """Returns the int/None value of a Dimension, or ``dimension`` unchanged."""
    if isinstance(dimension, Dimension):
        return dimension._value
    return dimension


def dimension_at_index(shape, index):
    """Returns ``shape[index]`` as a Dimension (unknown if the rank is unknown)."""
    shape = as_shape(shape)
    if shape._dims is None:
        return Dimension(None)
    return Dimension(shape._dims[index])


_new = object.__new__


def _fmt(v):
    return "?" if v is None else str(v)


class TensorShape(object):
    """Represents the (possibly partial) static shape of a Tensor."""

    __slots__ = ("_dims",)

    def __init__(self, dims):
        t = type(dims)
        if t is tuple or t is list:
            for d in dims:
                if d is None or (type(d) is int and d >= 0):
                    continue
                break
            else:
                self._dims = dims if t is tuple else tuple(dims)
                return
            self._dims = tuple([_dim_value(d) for d in dims])
            return
        if dims is None:
            self._dims = None
            return
        if isinstance(dims, TensorShape):
            self._dims = dims._dims
            return
        if isinstance(dims, (str, bytes)):
            raise TypeError("Cannot convert %r to a TensorShape" % (dims,))
        try:
            it = iter(dims)
        except TypeError:
            # A single dimension (int, Dimension, ...).
            self._dims = (_dim_value(dims),)
            return
        self._dims = tuple([_dim_value(d) for d in it])

    @classmethod
    def _from_tuple(cls, dims):
        """Fast constructor: ``dims`` must be None or a tuple of ints >= 0 / None."""
        s = _new(cls)
        s._dims = dims
        return s

    # -- basic properties ---------------------------------------------------
    @property
    def dims(self):
        """List of Dimensions, or None if the rank is unknown."""
        d = self._dims
        if d is None:
            return None
        return [Dimension(v) for v in d]

    @property
    def ndims(self):
        d = self._dims
        return None if d is None else len(d)

    @property
    def rank(self):
        d = self._dims
        return None if d is None else len(d)

    def __len__(self):
        if self._dims is None:
            raise ValueError("Cannot take the length of shape with unknown rank.")
        return len(self._dims)

    def __bool__(self):
        return self._dims is not None

    def __iter__(self):
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter([Dimension(v) for v in self._dims])

    def __getitem__(self, key):
        d = self._dims
        if d is not None:
            if isinstance(key, slice):
                return TensorShape._from_tuple(d[key])
            return Dimension(d[key])
        if isinstance(key, slice):
            start = key.start if key.start is not None else 0
            stop = key.stop
            if key.step is not None:
                raise ValueError("Steps are not yet handled")
            if stop is None or start < 0 or stop < 0:
                return unknown_shape()
            return unknown_shape(rank=max(stop - start, 0))
        return Dimension(None)

    def as_list(self):
        """Returns a list of ints / None."""
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self._dims)

    def num_elements(self):
        """Total number of elements, or None if not fully defined."""
        d = self._dims
        if d is None or None in d:
            return None
        n = 1
        for v in d:
            n *= v
        return n

    def is_fully_defined(self):
        d = self._dims
        return d is not None and None not in d

    def assert_is_fully_defined(self):
        if not self.is_fully_defined():
            raise ValueError("Shape %s is not fully defined" % self)

    # -- compatibility ----------------------------------------------------
    def is_compatible_with(self, other):
        """True if both shapes could describe the same tensor."""
        other = as_shape(other)
        a, b = self._dims, other._dims
        if a is None or b is None:
            return True
        if len(a) != len(b):
            return False
        for x, y in zip(a, b):
            if x is not None and y is not None and x != y:
                return False
        return True

    def assert_is_compatible_with(self, other):
        if not self.is_compatible_with(other):
            raise ValueError("Shapes %s and %s are incompatible" % (self, as_shape(other)))

    def merge_with(self, other):
        """Returns the most specific shape compatible with ``self`` and ``other``."""
        other = as_shape(other)
        a, b = self._dims, other._dims
        if a is None:
            return other
        if b is None:
            return self
        if len(a) != len(b):
            raise ValueError("Shapes %s and %s are not compatible" % (self, other))
        out = []
        for x, y in zip(a, b):
            if x is None:
                out.append(y)
            elif y is None or x == y:
                out.append(x)
            else:
                raise ValueError("Shapes %s and %s are not compatible" % (self, other))
        return TensorShape._from_tuple(tuple(out))

    def most_specific_compatible_shape(self, other):
        """The most specific shape compatible with both (dims differing -> None)."""
        other = as_shape(other)
        a, b = self._dims, other._dims
        if a is None or b is None or len(a) != len(b):
            return unknown_shape()
        return TensorShape._from_tuple(
            tuple([x if x == y else None for x, y in zip(a, b)]))

    def concatenate(self, other):
        other = as_shape(other)
        a, b = self._dims, other._dims
        if a is None or b is None:
            return unknown_shape()
        return TensorShape._from_tuple(a + b)

    def __add__(self, other):
        return self.concatenate(other)

    def __radd__(self, other):
        return as_shape(other).concatenate(self)

    # -- rank checks --------------------------------------------------------
    def assert_same_rank(self, other):
        other = as_shape(other)
        if (self._dims is not None and other._dims is not None
                and len(self._dims) != len(other._dims)):
            raise ValueError("Shapes %s and %s must have the same rank" % (self, other))

    def assert_has_rank(self, rank):
        if self._dims is not None and len(self._dims) != rank:
            raise ValueError("Shape %s must have rank %d" % (self, rank))

    def with_rank(self, rank):
        d = self._dims
        if d is None:
            return unknown_shape(rank=rank)
        if len(d) != rank:
            raise ValueError("Shape %s must have rank %d" % (self, rank))
        return self

    def with_rank_at_least(self, rank):
        d = self._dims
        if d is not None and len(d) < rank:
            raise ValueError("Shape %s must have rank at least %d" % (self, rank))
        return self

    def with_rank_at_most(self, rank):
        d = self._dims
        if d is not None and len(d) > rank:
            raise ValueError("Shape %s must have rank at most %d" % (self, rank))
        return self

    # -- equality / printing ------------------------------------------------
    def __eq__(self, other):
        """TF1 semantics: unknown dims never compare equal.

        Two unknown-rank shapes are equal; a shape is equal to itself; otherwise
        the shapes must have the same rank and identical, fully known dims.
        """
        if self is other:
            return True
        if type(other) is not TensorShape:
            try:
                other = as_shape(other)
            except (TypeError, ValueError):
                return NotImplemented
        a, b = self._dims, other._dims
        if a is None or b is None:
            return a is None and b is None
        return a == b and None not in a

    def __ne__(self, other):
        """TF1 semantics: undefined (ValueError) if either rank is unknown."""
        if type(other) is not TensorShape:
            try:
                other = as_shape(other)
            except (TypeError, ValueError):
                return NotImplemented
        a, b = self._dims, other._dims
        if a is None or b is None:
            raise ValueError("The inequality of unknown TensorShapes is undefined.")
        if len(a) != len(b):
            return True
        for x, y in zip(a, b):
            if x is not None and y is not None and x != y:
                return True
        return False

    def __hash__(self):
        return hash(self._dims)

    def __str__(self):
        d = self._dims
        if d is None:
            return "<unknown>"
        if len(d) == 1:
            return "(%s,)" % _fmt(d[0])
        return "(%s)" % ", ".join([_fmt(v) for v in d])

    def __repr__(self):
        d = self._dims
        if d is None:
            return "TensorShape(None)"
        return "TensorShape([%s])" % ", ".join(["Dimension(%r)" % (v,) for v in d])

    def __reduce__(self):
        return TensorShape, (self._dims,)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def as_shape(shape):
    """Converts ``shape`` to a TensorShape (returns TensorShapes unchanged)."""
    if isinstance(shape, TensorShape):
        return shape
    return TensorShape(shape)


_UNKNOWN = TensorShape._from_tuple(None)


def unknown_shape(rank=None, **kwargs):
    """Unknown shape; with ``rank`` (or legacy ``ndims``) a shape of that many ``?``."""
    if rank is None and "ndims" in kwargs:
        rank = kwargs.pop("ndims")
    if kwargs:
        raise TypeError("Unknown argument: %s" % kwargs)
    if rank is None:
        return _UNKNOWN
    return TensorShape._from_tuple((None,) * rank)


_SCALAR = TensorShape._from_tuple(())


def scalar():
    return _SCALAR


def vector(length):
    return TensorShape((length,))


def matrix(rows, cols):
    return TensorShape((rows, cols))


def _broadcast_dims(a, b):
    """Broadcasts two tuples of ints/None; returns None if incompatible."""
    la, lb = len(a), len(b)
    if la < lb:
        a, b, la, lb = b, a, lb, la
    n = la - lb
    out = list(a[:n])
    for x, y in zip(a[n:], b):
        if x is None or y is None:
            if x is not None and x > 1:
                out.append(x)
            elif y is not None and y > 1:
                out.append(y)
            else:
                out.append(None)
        elif x == 1:
            out.append(y)
        elif y == 1 or x == y:
            out.append(x)
        else:
            return None
    return tuple(out)


def broadcast_static_shape(shape_x, shape_y):
    """Static numpy-style broadcast of two (partially known) shapes.

    An unknown dim against 1 stays unknown; an unknown dim against n > 1
    becomes n (the program is assumed correct).  Either rank unknown gives an
    unknown shape.

    Raises:
      ValueError: "Incompatible shapes for broadcasting: %s and %s".
    """
    if type(shape_x) is not TensorShape:
        shape_x = as_shape(shape_x)
    if type(shape_y) is not TensorShape:
        shape_y = as_shape(shape_y)
    a, b = shape_x._dims, shape_y._dims
    if a is None or b is None:
        return _UNKNOWN
    if a == b:
        return shape_x
    out = _broadcast_dims(a, b)
    if out is None:
        raise ValueError("Incompatible shapes for broadcasting: %s and %s"
                         % (shape_x, shape_y))
    return TensorShape._from_tuple(out)


broadcast_shape = broadcast_static_shape
