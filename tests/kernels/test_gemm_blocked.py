"""The packed GEMM's tile and block edges, fused epilogue and thread-count determinism."""

import numpy as np
import pytest

from headwater import _C

from conftest import DTYPES


def reference(a, b, ta=False, tb=False, bias=None, relu=False):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if ta:
        a = np.swapaxes(a, -1, -2)
    if tb:
        b = np.swapaxes(b, -1, -2)
    c = np.matmul(a, b)
    if bias is not None:
        c = c + np.asarray(bias, np.float64)
    if relu:
        c = np.maximum(c, 0)
    return c


def check(a, b, ta=False, tb=False, **kw):
    got = _C.matmul(a, b, ta, tb, **kw)
    want = reference(a, b, ta, tb, **kw)
    assert got.dtype == a.dtype and got.shape == want.shape
    k = a.shape[-2] if ta else a.shape[-1]
    tol = 4 * np.finfo(a.dtype).eps * (max(k, 1) + 1)
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)
    return got


@pytest.fixture(params=range(3), ids=lambda i: "tile%d" % i)
def tile(request):
    """Forces entry i of the current ISA's tile list (the last one where the list is shorter),
    so every micro-kernel the driver may choose sees the edge cases."""
    _C._gemm_force_tile(request.param)
    try:
        yield request.param
    finally:
        _C._gemm_force_tile(-1)


def tile_edges(dtype, index):
    tiles = _C._gemm_tiles()[np.dtype(dtype).name]
    return tiles[min(index, len(tiles) - 1)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_tile_edges(isa, dtype, tile):
    rng = np.random.default_rng(7)
    mr, nr = tile_edges(dtype, tile)
    ms = sorted({1, mr - 1, mr, mr + 1, 2 * mr + 1, 23})
    ns = sorted({1, 2, nr // 2 - 1, nr // 2, nr // 2 + 1, nr - 1, nr, nr + 1, 2 * nr + 3})
    for m in ms:
        for n in ns:
            for k in (1, 5, 17):
                a = rng.uniform(-1, 1, (m, k)).astype(dtype)
                b = rng.uniform(-1, 1, (k, n)).astype(dtype)
                check(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [127, 128, 129, 255, 257, 383, 384, 385, 769, 1031])
def test_k_blocks(isa, dtype, k, tile):
    rng = np.random.default_rng(k)
    a = rng.uniform(-1, 1, (29, k)).astype(dtype)
    b = rng.uniform(-1, 1, (k, 37)).astype(dtype)
    check(a, b)
    check(np.ascontiguousarray(a.T), np.ascontiguousarray(b.T), True, True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", [(131, 67, 263), (300, 20, 7), (7, 300, 2100), (257, 129, 3)])
def test_multi_block_shapes(isa, dtype, m, k, n, tile):
    # m > MC and n > NC on some shapes, so several ic / jc blocks and panels are visited.
    rng = np.random.default_rng(m * n)
    a = rng.uniform(-1, 1, (m, k)).astype(dtype)
    b = rng.uniform(-1, 1, (k, n)).astype(dtype)
    check(a, b)
    check(a, np.ascontiguousarray(b.T), False, True)
    check(np.ascontiguousarray(a.T), b, True, False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bias_relu_epilogue(isa, dtype, tile):
    rng = np.random.default_rng(3)
    for m, k, n in [(1, 1, 1), (5, 3, 10), (37, 300, 41), (100, 257, 33), (4, 0, 6)]:
        a = rng.uniform(-1, 1, (m, k)).astype(dtype)
        b = rng.uniform(-1, 1, (k, n)).astype(dtype)
        bias = rng.uniform(-1, 1, n).astype(dtype)
        check(a, b, bias=bias)
        check(a, b, relu=True)
        got = check(a, b, bias=bias, relu=True)
        assert (got >= 0).all()
        # A strided bias is accepted (the binding makes it contiguous).
        wide = np.repeat(bias, 2)
        np.testing.assert_array_equal(_C.matmul(a, b, bias=wide[::2]), _C.matmul(a, b, bias=bias))
    a = rng.uniform(-1, 1, (3, 5, 6)).astype(dtype)
    b = rng.uniform(-1, 1, (3, 6, 7)).astype(dtype)
    check(a, b, bias=rng.uniform(-1, 1, 7).astype(dtype), relu=True)


def test_relu_keeps_nan():
    a = np.array([[np.nan, 1.0], [1.0, 1.0]], np.float32)
    b = np.array([[1.0], [-5.0]], np.float32)
    got = _C.matmul(a, b, relu=True)
    assert np.isnan(got[0, 0]) and got[1, 0] == 0


def test_bias_errors():
    a = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\).*got \(3,\)"):
        _C.matmul(a, np.ones((3, 4), np.float32), bias=np.ones(3, np.float32))
    with pytest.raises(TypeError, match=r"bias has dtype float64 but a and b are float32"):
        _C.matmul(a, np.ones((3, 4), np.float32), bias=np.ones(4))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", [(203, 300, 150), (100, 784, 256), (64, 64, 64), (100, 256, 10),
                                   (1, 300, 1000), (513, 77, 9)])
def test_identical_for_any_thread_count(isa, dtype, m, k, n, restore_threads):
    rng = np.random.default_rng(11)
    a = rng.uniform(-1, 1, (m, k)).astype(dtype)
    b = rng.uniform(-1, 1, (k, n)).astype(dtype)
    bias = rng.uniform(-1, 1, n).astype(dtype)
    outs = []
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        outs.append(check(a, b, bias=bias, relu=True))
        outs.append(check(np.ascontiguousarray(a.T), b, True, False))
    for i in range(2, len(outs)):
        np.testing.assert_array_equal(outs[i], outs[i % 2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_batched_threads(isa, dtype, restore_threads):
    rng = np.random.default_rng(5)
    a = rng.uniform(-1, 1, (9, 33, 40)).astype(dtype)
    b = rng.uniform(-1, 1, (9, 40, 17)).astype(dtype)
    outs = []
    for t in (1, 2):
        _C.set_num_threads(t)
        outs.append(check(a, b))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_narrow_dot_path(isa, dtype, restore_threads):
    # n <= one vector with row-major A runs as dot products along k: every n (column chunking),
    # k around the vector width (masked / scalar tails), row remainders of the 3-row tile.
    rng = np.random.default_rng(9)
    for n in range(1, 18):
        for k in (3, 7, 8, 9, 15, 16, 17, 33, 100):
            for m in (1, 2, 3, 4, 8):
                a = rng.uniform(-1, 1, (m, k)).astype(dtype)
                b = rng.uniform(-1, 1, (k, n)).astype(dtype)
                check(a, b)
    a = rng.uniform(-1, 1, (301, 200)).astype(dtype)
    b = rng.uniform(-1, 1, (200, 10)).astype(dtype)
    bias = rng.uniform(-1, 1, 10).astype(dtype)
    outs = []
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        outs.append(check(a, b, bias=bias, relu=True))
        outs.append(check(a, np.ascontiguousarray(b.T), False, True, bias=bias))
        outs.append(check(a[:, ::2], b[::2]))
    for i in range(3, len(outs)):
        np.testing.assert_array_equal(outs[i], outs[i % 3])


@pytest.mark.parametrize("m,n", [(128, 256), (100, 784), (50, 1024), (13, 40), (512, 512)])
def test_every_tile_gives_identical_results(isa, m, n):
    # The tile chosen per shape must not change any bit of C: each element is one k-ordered
    # chain of FMAs per k block in every micro-kernel.
    rng = np.random.default_rng(m + n)
    a = rng.uniform(-1, 1, (m, 300)).astype(np.float32)
    b = rng.uniform(-1, 1, (300, n)).astype(np.float32)
    bias = rng.uniform(-1, 1, n).astype(np.float32)
    outs = []
    try:
        for i in range(len(_C._gemm_tiles()["float32"])):
            _C._gemm_force_tile(i)
            outs.append(_C.matmul(a, b, bias=bias, relu=True))
    finally:
        _C._gemm_force_tile(-1)
    outs.append(_C.matmul(a, b, bias=bias, relu=True))
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])
