"""Tests for headwater.framework.tensor_shape (TF1 Dimension / TensorShape)."""

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.framework import tensor_shape
from headwater.framework.tensor_shape import Dimension, TensorShape


# ----------------------------------------------------------------- Dimension

def test_dimension_basics():
    d = Dimension(3)
    assert d.value == 3
    assert int(d) == 3
    assert [0, 1, 2, 3][Dimension(2)] == 2  # __index__
    assert str(d) == "3"
    assert repr(d) == "Dimension(3)"
    u = Dimension(None)
    assert u.value is None
    assert str(u) == "?"
    assert repr(u) == "Dimension(None)"
    assert Dimension(np.int64(4)).value == 4
    assert Dimension(Dimension(5)).value == 5
    assert Dimension(6.0).value == 6


def test_dimension_invalid():
    with pytest.raises(ValueError, match="must be >= 0"):
        Dimension(-1)
    with pytest.raises(ValueError, match="Ambiguous dimension"):
        Dimension(2.5)
    with pytest.raises(TypeError):
        Dimension("3")
    with pytest.raises(TypeError):
        int(Dimension(None))


def test_dimension_equality_tf1_semantics():
    assert (Dimension(3) == Dimension(3)) is True
    assert (Dimension(3) == 3) is True
    assert (3 == Dimension(3)) is True
    assert (Dimension(3) == Dimension(4)) is False
    assert (Dimension(3) != 4) is True
    assert (Dimension(None) == Dimension(None)) is None
    assert (Dimension(None) == 3) is None
    assert (Dimension(3) == None) is None  # noqa: E711
    assert (Dimension(None) != 3) is None
    assert (Dimension(3) == "x") is False  # NotImplemented -> identity fallback
    assert (Dimension(2) < 3) is True
    assert (Dimension(2) >= 3) is False
    assert (Dimension(None) < 3) is None
    assert hash(Dimension(3)) == hash(Dimension(3))


@pytest.mark.parametrize("op,a,b,expected", [
    ("add", 3, 4, 7), ("sub", 7, 3, 4), ("mul", 3, 4, 12), ("floordiv", 7, 2, 3),
    ("mod", 7, 4, 3),
])
def test_dimension_arithmetic(op, a, b, expected):
    import operator
    fn = getattr(operator, op)
    assert fn(Dimension(a), Dimension(b)).value == expected
    assert fn(Dimension(a), b).value == expected
    r = fn(a, Dimension(b))
    assert isinstance(r, Dimension) and r.value == expected
    assert fn(Dimension(a), None).value is None
    assert fn(Dimension(None), b).value is None
    assert fn(a, Dimension(None)).value is None


def test_dimension_truediv_rejected():
    with pytest.raises(TypeError, match="please use // instead"):
        Dimension(4) / 2


def test_dimension_merge_and_compat():
    assert Dimension(3).merge_with(3).value == 3
    assert Dimension(None).merge_with(3).value == 3
    assert Dimension(3).merge_with(None).value == 3
    assert Dimension(None).merge_with(None).value is None
    with pytest.raises(ValueError) as ei:
        Dimension(3).merge_with(4)
    assert str(ei.value) == "Dimensions 3 and 4 are not compatible"
    assert Dimension(3).is_compatible_with(None)
    assert Dimension(None).is_compatible_with(5)
    assert not Dimension(3).is_compatible_with(4)
    with pytest.raises(ValueError, match="Dimensions 3 and 4 are not compatible"):
        Dimension(3).assert_is_compatible_with(Dimension(4))


def test_dimension_helpers():
    d = Dimension(7)
    assert tensor_shape.as_dimension(d) is d
    assert tensor_shape.as_dimension(7).value == 7
    assert tensor_shape.dimension_value(d) == 7
    assert tensor_shape.dimension_value(7) == 7
    assert tensor_shape.dimension_value(None) is None
    assert tensor_shape.dimension_value(Dimension(None)) is None
    assert tensor_shape.dimension_at_index(TensorShape([1, 2]), 1).value == 2
    assert tensor_shape.dimension_at_index(TensorShape(None), 5).value is None


# --------------------------------------------------------------- TensorShape

def test_construction_forms():
    assert TensorShape(None)._dims is None
    assert TensorShape((None, 784))._dims == (None, 784)
    assert TensorShape([None, 784])._dims == (None, 784)
    assert TensorShape([Dimension(None), Dimension(3)])._dims == (None, 3)
    assert TensorShape(np.array([2, 3]))._dims == (2, 3)
    assert TensorShape((np.int32(2), 3))._dims == (2, 3)
    assert TensorShape(TensorShape([1, 2]))._dims == (1, 2)
    assert TensorShape(5)._dims == (5,)
    assert TensorShape([])._dims == ()
    for d in (TensorShape((None, 784)), TensorShape([np.int64(1)])):
        assert type(d._dims) is tuple
        assert all(v is None or type(v) is int for v in d._dims)
    with pytest.raises(ValueError):
        TensorShape([1, -2])
    with pytest.raises(TypeError):
        TensorShape("ab")


def test_from_tuple_fast_path():
    s = TensorShape._from_tuple((None, 3))
    assert isinstance(s, TensorShape)
    assert s._dims == (None, 3)
    assert TensorShape._from_tuple(None).ndims is None


def test_properties():
    s = TensorShape((None, 784))
    assert s.ndims == 2 and s.rank == 2
    assert len(s) == 2
    assert bool(s)
    assert bool(TensorShape([]))  # known rank (scalar) is truthy
    assert not bool(TensorShape(None))
    dims = s.dims
    assert isinstance(dims, list) and all(isinstance(d, Dimension) for d in dims)
    assert [d.value for d in dims] == [None, 784]
    assert TensorShape(None).dims is None
    assert TensorShape(None).ndims is None
    assert TensorShape(None).rank is None


def test_len_unknown_rank():
    with pytest.raises(ValueError) as ei:
        len(TensorShape(None))
    assert str(ei.value) == "Cannot take the length of shape with unknown rank."
    with pytest.raises(ValueError):
        iter(TensorShape(None))


def test_getitem():
    s = TensorShape([None, 3, 4])
    assert isinstance(s[1], Dimension) and s[1].value == 3
    assert s[0].value is None
    assert s[-1].value == 4
    assert isinstance(s[1:], TensorShape) and s[1:].as_list() == [3, 4]
    assert s[:0].as_list() == []
    with pytest.raises(IndexError):
        s[3]
    u = TensorShape(None)
    assert u[0].value is None
    assert u[1:].ndims is None
    assert u[1:3].as_list() == [None, None]
    assert u[-2:].ndims is None
    # Typical TF1 tutorial idioms
    x = TensorShape([None, 28, 28, 1])
    assert x[1].value * x[2].value == 784
    assert (x[1] * x[2]).value == 784
    assert int(x[3]) == 1


def test_iter_yields_dimensions():
    s = TensorShape([None, 5])
    items = list(s)
    assert all(isinstance(d, Dimension) for d in items)
    assert [d.value for d in items] == [None, 5]
    assert np.zeros(TensorShape([2, 3])).shape == (2, 3)


def test_as_list():
    assert TensorShape((None, 784)).as_list() == [None, 784]
    assert TensorShape([]).as_list() == []
    with pytest.raises(ValueError) as ei:
        TensorShape(None).as_list()
    assert str(ei.value) == "as_list() is not defined on an unknown TensorShape."


def test_fully_defined_and_num_elements():
    assert TensorShape([2, 3]).is_fully_defined()
    assert TensorShape([]).is_fully_defined()
    assert not TensorShape([None, 3]).is_fully_defined()
    assert not TensorShape(None).is_fully_defined()
    assert TensorShape([2, 3, 4]).num_elements() == 24
    assert TensorShape([]).num_elements() == 1
    assert TensorShape([2, 0]).num_elements() == 0
    assert TensorShape([None, 3]).num_elements() is None
    assert TensorShape(None).num_elements() is None
    TensorShape([1, 2]).assert_is_fully_defined()
    with pytest.raises(ValueError, match=r"Shape \(\?, 2\) is not fully defined"):
        TensorShape([None, 2]).assert_is_fully_defined()


def test_str_and_repr():
    assert str(TensorShape((None, 784))) == "(?, 784)"
    assert str(TensorShape([3])) == "(3,)"
    assert str(TensorShape([None])) == "(?,)"
    assert str(TensorShape([])) == "()"
    assert str(TensorShape(None)) == "<unknown>"
    assert repr(TensorShape((None, 784))) == "TensorShape([Dimension(None), Dimension(784)])"
    assert repr(TensorShape(None)) == "TensorShape(None)"
    assert repr(TensorShape([])) == "TensorShape([])"


def test_compatibility():
    a = TensorShape([None, 3])
    assert a.is_compatible_with([5, 3])
    assert a.is_compatible_with(TensorShape(None))
    assert TensorShape(None).is_compatible_with([1, 2, 3])
    assert not a.is_compatible_with([5, 4])
    assert not a.is_compatible_with([5, 3, 1])
    a.assert_is_compatible_with([7, 3])
    with pytest.raises(ValueError) as ei:
        a.assert_is_compatible_with([5, 4])
    assert str(ei.value) == "Shapes (?, 3) and (5, 4) are incompatible"


def test_merge_with():
    assert TensorShape([None, 3]).merge_with([5, None]).as_list() == [5, 3]
    assert TensorShape(None).merge_with([1, 2]).as_list() == [1, 2]
    assert TensorShape([1, 2]).merge_with(None).as_list() == [1, 2]
    assert TensorShape(None).merge_with(None).ndims is None
    with pytest.raises(ValueError) as ei:
        TensorShape([None, 3]).merge_with([5, 4])
    assert str(ei.value) == "Shapes (?, 3) and (5, 4) are not compatible"
    with pytest.raises(ValueError, match="are not compatible"):
        TensorShape([1, 2]).merge_with([1, 2, 3])


def test_concatenate():
    assert TensorShape([1, None]).concatenate([3]).as_list() == [1, None, 3]
    assert (TensorShape([1]) + TensorShape([2])).as_list() == [1, 2]
    assert ([0] + TensorShape([2])).as_list() == [0, 2]
    assert TensorShape([1]).concatenate(None).ndims is None
    assert TensorShape(None).concatenate([1]).ndims is None


def test_rank_checks():
    s = TensorShape([None, 3])
    assert s.with_rank(2) is s
    assert TensorShape(None).with_rank(3).as_list() == [None, None, None]
    with pytest.raises(ValueError) as ei:
        s.with_rank(3)
    assert str(ei.value) == "Shape (?, 3) must have rank 3"
    assert s.with_rank_at_least(1) is s
    assert s.with_rank_at_least(2) is s
    with pytest.raises(ValueError, match=r"Shape \(\?, 3\) must have rank at least 3"):
        s.with_rank_at_least(3)
    assert s.with_rank_at_most(2) is s
    with pytest.raises(ValueError, match=r"Shape \(\?, 3\) must have rank at most 1"):
        s.with_rank_at_most(1)
    assert TensorShape(None).with_rank_at_least(5).ndims is None
    assert TensorShape(None).with_rank_at_most(0).ndims is None
    s.assert_has_rank(2)
    TensorShape(None).assert_has_rank(7)
    with pytest.raises(ValueError, match="must have rank 1"):
        s.assert_has_rank(1)
    s.assert_same_rank([1, 2])
    s.assert_same_rank(None)
    with pytest.raises(ValueError) as ei:
        s.assert_same_rank([1])
    assert str(ei.value) == "Shapes (?, 3) and (1,) must have the same rank"


def test_most_specific_compatible_shape():
    a = TensorShape([1, 2, None])
    assert a.most_specific_compatible_shape([1, 3, None]).as_list() == [1, None, None]
    assert a.most_specific_compatible_shape([1, 2, 4]).as_list() == [1, 2, None]
    assert a.most_specific_compatible_shape([1, 2]).ndims is None
    assert a.most_specific_compatible_shape(None).ndims is None


def test_equality_tf1_semantics():
    assert TensorShape([1, 2]) == TensorShape([1, 2])
    assert TensorShape([1, 2]) == [1, 2]
    assert TensorShape([1, 2]) == (1, 2)
    assert not (TensorShape([1, 2]) == [1, 3])
    assert not (TensorShape([1, 2]) == [1, 2, 3])
    assert TensorShape(None) == TensorShape(None)
    assert not (TensorShape(None) == TensorShape([1]))
    assert not (TensorShape([1]) == TensorShape(None))
    # Unknown dimensions never compare equal (TF1), except an object with itself.
    s = TensorShape([None, 2])
    assert not (s == TensorShape([None, 2]))
    assert s == s
    assert TensorShape([]) == TensorShape([])
    assert (TensorShape([1]) == "nonsense") is False


def test_inequality():
    assert TensorShape([1, 2]) != [1, 3]
    assert TensorShape([1, 2]) != [1, 2, 3]
    assert not (TensorShape([1, 2]) != [1, 2])
    assert not (TensorShape([None, 2]) != [None, 2])
    with pytest.raises(ValueError, match="inequality of unknown TensorShapes is undefined"):
        TensorShape(None) != TensorShape([1])
    with pytest.raises(ValueError):
        TensorShape([1]) != None  # noqa: E711


def test_hash_consistent_with_eq():
    assert hash(TensorShape([1, 2])) == hash(TensorShape((1, 2)))
    assert len({TensorShape([1, 2]), TensorShape((1, 2)), TensorShape([2])}) == 2


def test_pickle_and_copy():
    for s in (TensorShape([None, 3]), TensorShape(None), TensorShape([])):
        t = pickle.loads(pickle.dumps(s))
        assert t._dims == s._dims
        assert copy.deepcopy(s)._dims == s._dims
    d = pickle.loads(pickle.dumps(Dimension(4)))
    assert d.value == 4


def test_module_constructors():
    assert tensor_shape.unknown_shape().ndims is None
    assert tensor_shape.unknown_shape(rank=2).as_list() == [None, None]
    assert tensor_shape.unknown_shape(ndims=1).as_list() == [None]
    assert tensor_shape.scalar().as_list() == []
    assert tensor_shape.vector(3).as_list() == [3]
    assert tensor_shape.vector(None).as_list() == [None]
    assert tensor_shape.matrix(2, None).as_list() == [2, None]
    s = TensorShape([1])
    assert tensor_shape.as_shape(s) is s
    assert tensor_shape.as_shape([1, None]).as_list() == [1, None]
    assert tensor_shape.as_shape(None).ndims is None


# ------------------------------------------------------------- broadcasting

def bcast(a, b):
    return tensor_shape.broadcast_static_shape(TensorShape(a), TensorShape(b))


def test_broadcast_examples():
    assert bcast([2, 3], [3]).as_list() == [2, 3]
    assert bcast([None, 1], [1, 5]).as_list() == [None, 5]
    assert bcast([None], [1]).as_list() == [None]
    assert bcast([None], [4]).as_list() == [4]
    assert bcast([None], [None]).as_list() == [None]
    assert bcast([None], [0]).as_list() == [None]
    assert bcast([], [2, None]).as_list() == [2, None]
    assert bcast(None, [2]).ndims is None
    assert bcast([2], None).ndims is None
    assert tensor_shape.broadcast_static_shape([8, 1, 6, 1], [7, 1, 5]).as_list() == \
        [8, 7, 6, 5]
    with pytest.raises(ValueError) as ei:
        bcast([2, 3], [4])
    assert str(ei.value) == "Incompatible shapes for broadcasting: (2, 3) and (4,)"


_dim = st.integers(min_value=0, max_value=4)
_shape = st.lists(_dim, min_size=0, max_size=5)


@st.composite
def _broadcastable_pair(draw):
    """Two shapes that numpy can broadcast, derived from a common target."""
    target = draw(_shape)
    out = []
    for _ in range(2):
        k = draw(st.integers(min_value=0, max_value=len(target)))
        suffix = target[len(target) - k:]
        out.append([1 if draw(st.booleans()) else d for d in suffix])
    return out[0], out[1]


@settings(max_examples=300, deadline=None)
@given(_shape, _shape)
def test_broadcast_matches_numpy_fully_known(a, b):
    try:
        expected = np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        with pytest.raises(ValueError, match="Incompatible shapes for broadcasting"):
            bcast(a, b)
        return
    assert tuple(bcast(a, b).as_list()) == expected


@settings(max_examples=300, deadline=None)
@given(_broadcastable_pair())
def test_broadcast_matches_numpy_pairs(pair):
    a, b = pair
    expected = np.broadcast_shapes(tuple(a), tuple(b))
    assert tuple(bcast(a, b).as_list()) == expected


@settings(max_examples=500, deadline=None)
@given(_broadcastable_pair(), st.data())
def test_broadcast_partial_shapes_compatible_with_numpy(pair, data):
    a, b = pair
    expected = np.broadcast_shapes(tuple(a), tuple(b))
    mask_a = data.draw(st.lists(st.booleans(), min_size=len(a), max_size=len(a)))
    mask_b = data.draw(st.lists(st.booleans(), min_size=len(b), max_size=len(b)))
    pa = [None if m else d for d, m in zip(a, mask_a)]
    pb = [None if m else d for d, m in zip(b, mask_b)]
    result = bcast(pa, pb)
    assert result.ndims == len(expected)
    assert result.is_compatible_with(expected), (pa, pb, result, expected)
    # Known result dims are exactly numpy's.
    for r, e in zip(result.as_list(), expected):
        assert r is None or r == e
    # Replacing dims by None never makes broadcasting fail, and fully known
    # inputs give a fully known result.
    if None not in pa and None not in pb:
        assert result.is_fully_defined()


@settings(max_examples=200, deadline=None)
@given(_shape, _shape, st.data())
def test_broadcast_partial_never_contradicts_numpy(a, b, data):
    """If the partial broadcast succeeds with a known dim, numpy must agree."""
    mask_a = data.draw(st.lists(st.booleans(), min_size=len(a), max_size=len(a)))
    mask_b = data.draw(st.lists(st.booleans(), min_size=len(b), max_size=len(b)))
    pa = [None if m else d for d, m in zip(a, mask_a)]
    pb = [None if m else d for d, m in zip(b, mask_b)]
    try:
        expected = np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        return  # the concrete shapes are incompatible; static check may not know
    result = bcast(pa, pb)
    assert result.is_compatible_with(expected)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), _dim), max_size=6))
def test_shape_roundtrip_properties(dims):
    s = TensorShape(dims)
    assert s.as_list() == dims
    assert TensorShape(s.as_list())._dims == s._dims
    assert s.is_compatible_with(s)
    assert s.merge_with(s)._dims == s._dims
    assert s.is_fully_defined() == (None not in dims)
    assert str(s).count("?") == dims.count(None)
    assert tensor_shape.broadcast_static_shape(s, s)._dims == s._dims
