"""headwater._C binary elementwise kernels against numpy.

add/sub/mul/div are correctly rounded IEEE operations, so every ISA must match numpy bit for
bit (NaN compared as NaN); the tests use exact equality.
"""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from headwater import _C

from conftest import DTYPES, ISAS

OPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}
SIZES = [0, 1, 2, 7, 13, 15, 16, 17, 31, 33, 97, 257, 1000, 4099, (1 << 20) + 3]


def data(rng, shape, dtype, specials=True):
    x = rng.uniform(-4, 4, size=shape).astype(dtype)
    if specials and x.size >= 8:
        flat = x.reshape(-1)
        idx = rng.choice(flat.size, size=min(8, flat.size), replace=False)
        flat[idx] = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, 3e38, -1.0])[: idx.size]
    return x


def expected(op, a, b):
    with np.errstate(all="ignore"):
        return OPS[op](a, b)


def check(op, a, b, **kw):
    got = getattr(_C, op)(a, b, **kw)
    want = expected(op, np.asarray(a), np.asarray(b))
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    return got


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_contiguous_sizes(isa, op, dtype, n, rng):
    check(op, data(rng, n, dtype), data(rng, n, dtype))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 7, 31, 257, (1 << 20) + 1])
def test_scalar_operand(isa, op, dtype, n, rng):
    a = data(rng, n, dtype)
    s = np.array(1.75, dtype=dtype)
    check(op, a, s)
    check(op, s, a)
    check(op, a, a[:1])  # size-1 array broadcast
    check(op, a[:1], a)


@pytest.mark.parametrize("op", OPS)
def test_python_scalar_takes_array_dtype(op, rng):
    a = data(rng, 37, np.float32)
    got = getattr(_C, op)(a, 3.0)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected(op, a, np.float32(3.0)))
    got = getattr(_C, op)(2, a)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected(op, np.float32(2), a))


BROADCAST_CASES = [
    ((), ()),
    ((), (5,)),
    ((5,), ()),
    ((1,), (1,)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((2, 3, 4), (3, 1)),
    ((2, 1, 4), (3, 1)),
    ((5, 1, 1, 7), (1, 6, 1, 1)),
    ((1, 1, 1), (2, 3, 5)),
    ((0,), (1,)),
    ((1,), (0,)),
    ((0,), ()),
    ((2, 0, 3), (2, 1, 3)),
    ((4, 0), (0,)),
    ((2, 3, 1, 5, 1), (3, 4, 1, 6)),
    ((513, 1), (1, 257)),  # large enough to be threaded
    ((2, 1, 70000), (2, 3, 1)),  # long rows with broadcast scalars per row
    ((300000,), (1,)),
]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", BROADCAST_CASES)
def test_broadcasting(isa, op, dtype, sa, sb, rng):
    check(op, data(rng, sa, dtype), data(rng, sb, dtype))


def test_zero_d_result_is_array():
    got = _C.add(np.float64(1.0), np.float64(2.0))
    assert isinstance(got, np.ndarray) and got.shape == () and got == 3.0


def noncontiguous_cases(rng, dtype):
    base = data(rng, (64, 48), dtype)
    sq = data(rng, (48, 48), dtype)
    big = data(rng, (3, 200, 400), dtype)
    return [
        (base[::2], base[1::2]),
        (base[::-1], base),
        (base.T, base.T[::-1]),
        (base[:, ::3], base[:, 1::3]),
        (base[::-3, ::-2], base[::3, 1::2][:22]),
        (sq.T, sq),
        (base[:, 5], base[:, 6]),
        (big[:, ::-1, ::2], big[:, :, 1::2]),  # threaded, negative strides
        (big.transpose(2, 0, 1), big.transpose(2, 0, 1)[::-1]),
        (base[::2, None, :], base[None, 1::4, :]),
    ]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_noncontiguous(isa, op, dtype, rng):
    for a, b in noncontiguous_cases(rng, dtype):
        check(op, a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_strides_not_multiple_of_itemsize_and_misaligned(isa, dtype, rng):
    n = 101
    rec = np.zeros(n, dtype=[("x", dtype), ("pad", "u1")])  # field stride = itemsize + 1
    rec["x"] = data(rng, n, dtype)
    a = rec["x"]
    assert a.strides[0] % a.itemsize != 0
    buf = np.zeros(n * a.itemsize + 1, dtype=np.uint8)
    mis = np.frombuffer(buf.data, dtype=dtype, count=n, offset=1)  # misaligned, read-only
    assert not mis.flags.aligned
    check("add", a, a[::-1])
    check("mul", mis, a)
    check("sub", np.asarray(a, dtype=np.dtype(dtype).newbyteorder()), a)  # byte-swapped
    mis0 = np.frombuffer(buf.data, dtype=dtype, count=1, offset=1).reshape(())  # misaligned 0-d
    check("add", mis0, a)
    check("add", mis0, mis0)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_out_argument(isa, op, dtype, rng):
    a = data(rng, (33, 17), dtype)
    b = data(rng, (17,), dtype)
    out = np.empty((33, 17), dtype)
    got = getattr(_C, op)(a, b, out=out)
    assert got is out
    np.testing.assert_array_equal(out, expected(op, a, b))

    # out with strides of its own
    holder = np.zeros((33, 34), dtype)
    view = holder[:, ::-2]
    getattr(_C, op)(a, b, out=view)
    np.testing.assert_array_equal(view, expected(op, a, b))

    # in place: out is exactly an input
    c = a.copy()
    want = expected(op, c, b)
    getattr(_C, op)(c, b, out=c)
    np.testing.assert_array_equal(c, want)

    # partial overlap: out is a shifted view of an input; must behave as if inputs were copied
    x = data(rng, 1000, dtype)
    want = expected(op, x[1:].copy(), x[:-1].copy())
    getattr(_C, op)(x[1:], x[:-1], out=x[:-1])
    np.testing.assert_array_equal(x[:-1], want)

    # out overlapping a broadcast input
    y = data(rng, (4, 4), dtype)
    want = expected(op, y[0].copy(), y.copy())
    getattr(_C, op)(y[0], y, out=y)
    np.testing.assert_array_equal(y, want)


def test_out_errors():
    a = np.ones((3, 4), np.float32)
    with pytest.raises(TypeError, match=r"add: out has dtype float64 but the result dtype is float32"):
        _C.add(a, a, out=np.empty((3, 4), np.float64))
    with pytest.raises(ValueError, match=r"add: out has shape \(4, 3\) but the result has shape \(3, 4\)"):
        _C.add(a, a, out=np.empty((4, 3), np.float32))
    ro = np.empty((3, 4), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="add: out is read-only"):
        _C.add(a, a, out=ro)
    with pytest.raises(TypeError, match="add: out must be a numpy.ndarray, got list"):
        _C.add(a, a, out=[1, 2])


def test_dtype_errors():
    a32 = np.ones(3, np.float32)
    a64 = np.ones(3, np.float64)
    with pytest.raises(TypeError, match=r"add: dtype mismatch: a is float32 but b is float64"):
        _C.add(a32, a64)
    with pytest.raises(TypeError, match=r"mul: dtype mismatch: a is float64 but b is float32"):
        _C.mul(a64, a32)
    with pytest.raises(TypeError, match=r"add: unsupported dtype int64 for operand 'a' "
                                        r"\(expected float32 or float64\)"):
        _C.add(np.ones(3, np.int64), np.ones(3, np.int64))
    with pytest.raises(TypeError, match=r"sub: unsupported dtype float16 for operand 'b'"):
        _C.sub(np.ones(3, np.float32), np.ones(3, np.float16))


def test_shape_errors():
    with pytest.raises(ValueError, match=r"add: operands could not be broadcast together with "
                                         r"shapes \(2, 3\) and \(4,\)"):
        _C.add(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ValueError, match=r"div: .*shapes \(0,\) and \(2,\)"):
        _C.div(np.ones(0), np.ones(2))


@pytest.mark.parametrize("op", ["add", "div"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_thread_counts_deterministic(isa, op, dtype, rng, restore_threads):
    a = data(rng, (1 << 20) + 5, dtype)
    b = data(rng, (1 << 20) + 5, dtype)
    results = []
    for n in (1, 2, 3):
        _C.set_num_threads(n)
        assert _C.get_num_threads() == n
        results.append(check(op, a, b))
        results.append(check(op, a[::-1][:20000, None], b[None, :64]))
    for r in results[2::2]:
        np.testing.assert_array_equal(r, results[0])


def test_concurrent_callers(restore_threads):
    # Two Python threads in kernels at once (the GIL is released): the second finds the pool
    # busy and runs inline; both must still be right.
    _C.set_num_threads(2)
    rng = np.random.default_rng(0)
    a = rng.standard_normal(1 << 21).astype(np.float32)
    b = rng.standard_normal(1 << 21).astype(np.float32)
    want = a * b
    errors = []

    def work():
        try:
            for _ in range(20):
                np.testing.assert_array_equal(_C.mul(a, b), want)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[0]


@settings(max_examples=60, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=5, max_side=6),
    dtype=st.sampled_from(DTYPES),
    op=st.sampled_from(sorted(OPS)),
    flip=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_random_broadcasts_all_isas(shapes, dtype, op, flip, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a, b = data(rng, sa, dtype), data(rng, sb, dtype)
    if flip and a.ndim:
        a = a[..., ::-1]
    prev = _C.get_isa()
    try:
        for name in ISAS:
            _C.set_isa(name)
            check(op, a, b)
    finally:
        _C.set_isa(prev)
