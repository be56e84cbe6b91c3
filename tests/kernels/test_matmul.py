"""headwater._C.matmul against a float64 numpy reference, on edge shapes and layouts."""

import itertools

import numpy as np
import pytest

from headwater import _C

from conftest import DTYPES

# Register tile is 6 rows x 2 vectors (16..32 columns depending on ISA and dtype) and k is
# blocked by 256: sizes straddle all of those.
EDGE = [0, 1, 2, 5, 6, 7, 13, 17, 31, 33, 65]
K_EDGE = [0, 1, 7, 255, 256, 257, 513]


def make(rng, shape, dtype):
    return rng.uniform(-1, 1, size=shape).astype(dtype)


def reference(a, b, ta=False, tb=False):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if ta:
        a = np.swapaxes(a, -1, -2)
    if tb:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


def check(a, b, ta=False, tb=False):
    got = _C.matmul(a, b, ta, tb)
    want = reference(a, b, ta, tb)
    assert got.dtype == a.dtype
    assert got.shape == want.shape
    assert got.flags.c_contiguous
    k = a.shape[-2] if ta else a.shape[-1]
    # |a|,|b| <= 1: the rounding error of a k-term dot product is at most ~k * eps.
    tol = 4 * np.finfo(a.dtype).eps * max(k, 1)
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)
    return got


@pytest.mark.parametrize("dtype", DTYPES)
def test_edge_shapes(isa, dtype, rng):
    for m, n in itertools.product(EDGE, EDGE):
        for k in (0, 1, 7, 33):
            check(make(rng, (m, k), dtype), make(rng, (k, n), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", K_EDGE)
def test_k_blocking(isa, dtype, k, rng):
    check(make(rng, (13, k), dtype), make(rng, (k, 35), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", [(100, 784, 256), (100, 784, 10), (97, 257, 131), (256, 64, 10),
                                   (67, 300, 16), (1, 300, 1000)])
def test_larger(isa, dtype, m, k, n, rng):
    check(make(rng, (m, k), dtype), make(rng, (k, n), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
def test_transposes(isa, dtype, ta, tb, rng):
    for m, k, n in [(1, 1, 1), (7, 13, 31), (37, 300, 41)]:
        a = make(rng, (k, m) if ta else (m, k), dtype)
        b = make(rng, (n, k) if tb else (k, n), dtype)
        check(a, b, ta, tb)
        # The same products from transposed views (non-contiguous inputs, flags flipped).
        check(np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T, ta, tb)


@pytest.mark.parametrize("dtype", DTYPES)
def test_noncontiguous(isa, dtype, rng):
    a = make(rng, (60, 90), dtype)
    b = make(rng, (90, 70), dtype)
    check(a[::2, ::3], b[::3, ::2])
    check(a[::-1, ::-3], b[::-3, ::-1])
    check(a[:, 1:31], b[1:31, ::-1])
    check(a[5:6], b)  # single row
    check(a[::-2].T, b[::-1].T, True, True)  # transposed flags on strided views
    check(a[:, :90:3], b[::3])


@pytest.mark.parametrize("dtype", DTYPES)
def test_batched(isa, dtype, rng):
    check(make(rng, (4, 5, 6), dtype), make(rng, (4, 6, 7), dtype))
    check(make(rng, (1, 5, 6), dtype), make(rng, (3, 6, 7), dtype))
    check(make(rng, (3, 5, 6), dtype), make(rng, (1, 6, 7), dtype))
    check(make(rng, (5, 6), dtype), make(rng, (3, 6, 7), dtype))
    check(make(rng, (3, 5, 6), dtype), make(rng, (6, 7), dtype))
    check(make(rng, (0, 5, 6), dtype), make(rng, (0, 6, 7), dtype))
    check(make(rng, (3, 6, 5), dtype), make(rng, (3, 7, 6), dtype), True, True)
    big = make(rng, (6, 64, 80), dtype)
    check(big[::2, ::-1], make(rng, (3, 80, 33), dtype)[:, :, ::-1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_thread_counts_deterministic(isa, dtype, rng, restore_threads):
    a = make(rng, (203, 300), dtype)
    b = make(rng, (300, 150), dtype)
    results = []
    for n in (1, 2, 3):
        _C.set_num_threads(n)
        results.append(check(a, b))
        results.append(check(a, b.T.copy(), False, True))
    for r in results[2:]:
        np.testing.assert_array_equal(r, results[0])


def test_errors():
    a32 = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match=r"matmul: dtype mismatch: a is float32 but b is float64"):
        _C.matmul(a32, np.ones((3, 2)))
    with pytest.raises(TypeError, match=r"matmul: unsupported dtype int32 for operand 'a'"):
        _C.matmul(np.ones((2, 3), np.int32), np.ones((3, 2), np.int32))
    with pytest.raises(ValueError, match=r"matmul: contraction dimensions differ: a has shape "
                                         r"\(2, 3\) \(transpose_a=False\) and b has shape \(4, 5\) "
                                         r"\(transpose_b=False\): 3 != 4"):
        _C.matmul(a32, np.ones((4, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(transpose_a=True\).*: 2 != 3"):
        _C.matmul(a32, np.ones((3, 5), np.float32), True, False)
    with pytest.raises(ValueError, match=r"matmul: a must be 2-D or 3-D \(batched\), got shape \(3,\)"):
        _C.matmul(np.ones(3, np.float32), a32)
    with pytest.raises(ValueError, match=r"matmul: batch dimensions differ"):
        _C.matmul(np.ones((2, 2, 3)), np.ones((3, 3, 2)))


def test_keyword_arguments():
    a = np.arange(6.0).reshape(2, 3)
    got = _C.matmul(a, a, transpose_b=True)
    np.testing.assert_array_equal(got, a @ a.T)
    got = _C.matmul(a=a, b=a, transpose_a=True)
    np.testing.assert_array_equal(got, a.T @ a)
