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
@pytest.mark.parametrize("k", [127, 128, 129, 255, 257, 383, 384, 385, 511, 513, 769, 1024,
                               1025, 1031, 2049])
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


@pytest.fixture(params=[0, 1, -1], ids=["packed", "in_place", "by_size"])
def operand_mode(request):
    """How the driver reads A and B: always packed, in place wherever the layout allows, or
    chosen by size (the default)."""
    _C._gemm_operand_mode(request.param)
    try:
        yield request.param
    finally:
        _C._gemm_operand_mode(-1)


def layouts(rng, m, k, n, dtype):
    """(name, a, b, ta, tb): A row-major, column-major (via transpose_a), strided rows,
    reversed rows, broadcast rows; B row-major, with padded rows, reversed, transposed,
    broadcast. In place needs unit stride along A's rows or columns and along B's rows."""
    a = rng.uniform(-1, 1, (m, k)).astype(dtype)
    b = rng.uniform(-1, 1, (k, n)).astype(dtype)
    wide_a = np.zeros((m, k + 5), dtype)
    wide_a[:, :k] = a
    wide_b = np.zeros((k, n + 7), dtype)
    wide_b[:, :n] = b
    yield "rows", a, b, False, False
    yield "cols", np.ascontiguousarray(a.T), b, True, False
    yield "padded", wide_a[:, :k], wide_b[:, :n], False, False
    wide_at = np.zeros((k, m + 3), dtype)
    wide_at[:, :m] = a.T
    yield "padded_cols", wide_at[:, :m], b, True, False
    yield "reversed", a[::-1], b[::-1], False, False
    yield "b_transposed", a, np.ascontiguousarray(b.T), False, True
    yield "strided", np.ascontiguousarray(np.repeat(a, 2, axis=1))[:, ::2], b, False, False
    yield "broadcast", np.broadcast_to(a[:1], (m, k)), np.broadcast_to(b[:1], (k, n)), False, False


@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place_operands(isa, dtype, tile, operand_mode):
    # Whole tiles read A and B where they are, the last partial panels are packed: every edge
    # of M, N and k blocks, with each layout, must match float64 and be bit-identical to packing.
    rng = np.random.default_rng(21)
    mr, nr = tile_edges(dtype, tile)
    for m in sorted({1, mr - 1, mr, mr + 1, 2 * mr + 3}):
        for n in sorted({nr - 1, nr, nr + 1, 2 * nr + 5}):
            for k in (1, 17, 385):
                bias = rng.uniform(-1, 1, n).astype(dtype)
                for name, a, b, ta, tb in layouts(rng, m, k, n, dtype):
                    got = check(a, b, ta, tb, bias=bias, relu=name == "rows")
                    if operand_mode != 0:
                        _C._gemm_operand_mode(0)
                        try:
                            packed = _C.matmul(a, b, ta, tb, bias=bias, relu=name == "rows")
                        finally:
                            _C._gemm_operand_mode(operand_mode)
                        np.testing.assert_array_equal(got, packed, err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n,ta,tb", [(128, 784, 256, False, False), (784, 128, 256, True, False),
                                         (128, 256, 256, False, True), (256, 128, 256, True, False),
                                         (131, 300, 97, False, False), (300, 1200, 1000, False, False)])
def test_in_place_threads_deterministic(isa, dtype, m, k, n, ta, tb, restore_threads):
    # The training step's shapes (and ones past the size limits, which pack): identical bits for
    # 1 and 2 threads, across repeated runs, and with packing forced.
    rng = np.random.default_rng(m + k + n)
    a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(dtype)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(dtype)
    bias = rng.uniform(-1, 1, n).astype(dtype)
    outs = []
    try:
        for mode in (-1, 0):
            _C._gemm_operand_mode(mode)
            for t in (1, 2, 2):
                _C.set_num_threads(t)
                outs.append(check(a, b, ta, tb, bias=bias, relu=True))
    finally:
        _C._gemm_operand_mode(-1)
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_aliased_strides_pack(isa, dtype):
    # Rows 4 KB apart are packed rather than read in place (they would share an L1 set): the
    # by-size choice must give the same bits as packing and as reading in place.
    rng = np.random.default_rng(4)
    w = 4096 // np.dtype(dtype).itemsize
    a = rng.uniform(-1, 1, (30, w)).astype(dtype)
    b = rng.uniform(-1, 1, (w, 40)).astype(dtype)
    at = np.ascontiguousarray(rng.uniform(-1, 1, (37, w)).astype(dtype))
    bw = rng.uniform(-1, 1, (50, w)).astype(dtype)
    outs = []
    try:
        for mode in (-1, 0, 1):
            _C._gemm_operand_mode(mode)
            outs.append((check(a, b), check(at, a[:, :37].T.copy(), True, False),
                         check(a[:, :50], bw)))
    finally:
        _C._gemm_operand_mode(-1)
    for o in outs[1:]:
        for x, y in zip(o, outs[0]):
            np.testing.assert_array_equal(x, y)
