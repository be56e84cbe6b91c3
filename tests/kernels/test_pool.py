"""headwater._C pooling (max/avg, forward and backward) on odd shapes, under every ISA and
1 and 2 threads, against float64 loop references (TF's first-maximum rule for ties; a NaN is
the maximum, the first NaN takes the gradient, as numpy's argmax)."""

import itertools

import numpy as np
import pytest

from headwater import _C

from conftest import DTYPES


def pads_for(size, k, s, same):
    """TF's output size and (before, after) padding; None when VALID does not fit."""
    if same:
        out = -(-size // s)
        total = max((out - 1) * s + k - size, 0)
        return out, (total // 2, total - total // 2)
    if size < k:
        return None
    return (size - k) // s + 1, (0, 0)


def ref_pools(x, ksize, strides, pads, dy):
    x64 = x.astype(np.float64)
    n, h, w, c = x.shape
    pt, pb, pl, pr = pads
    oh = (h + pt + pb - ksize[0]) // strides[0] + 1
    ow = (w + pl + pr - ksize[1]) // strides[1] + 1
    mx = np.zeros((n, oh, ow, c))
    av = np.zeros((n, oh, ow, c))
    dmx = np.zeros(x.shape)
    dav = np.zeros(x.shape)
    g = dy.astype(np.float64)
    chans = np.arange(c)
    for oy in range(oh):
        y0, y1 = max(oy * strides[0] - pt, 0), min(oy * strides[0] - pt + ksize[0], h)
        for ox in range(ow):
            x0, x1 = max(ox * strides[1] - pl, 0), min(ox * strides[1] - pl + ksize[1], w)
            if y0 >= y1 or x0 >= x1:  # only padding: -inf and 0, no gradient
                mx[:, oy, ox] = -np.inf
                continue
            for b in range(n):
                win = x64[b, y0:y1, x0:x1, :].reshape(-1, c)
                mx[b, oy, ox] = win.max(axis=0)
                av[b, oy, ox] = win.mean(axis=0)
                iy, ix = np.divmod(win.argmax(axis=0), x1 - x0)
                np.add.at(dmx[b], (y0 + iy, x0 + ix, chans), g[b, oy, ox])
                dav[b, y0:y1, x0:x1, :] += g[b, oy, ox] / ((y1 - y0) * (x1 - x0))
    return mx, av, dmx, dav


def make_cases():
    sizes = [1, 2, 3, 7, 13]
    rng = np.random.default_rng(7)
    cases = []
    for h, w in itertools.product(sizes, sizes):
        for _ in range(3):
            n = int(rng.choice([0, 1, 2]))
            c = int(rng.choice([1, 3, 17, 33]))
            k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
            s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
            same = bool(rng.integers(0, 2))
            ph, pw = pads_for(h, k[0], s[0], same), pads_for(w, k[1], s[1], same)
            if ph is None or pw is None:
                same = True
                ph, pw = pads_for(h, k[0], s[0], True), pads_for(w, k[1], s[1], True)
            cases.append((n, h, w, c, k, s, ph[1] + pw[1]))
    # The Deep-MNIST shapes and exact 2x2 tiles with a channel tail.
    cases += [(2, 28, 28, 32, (2, 2), (2, 2), (0, 0, 0, 0)),
              (1, 14, 14, 64, (2, 2), (2, 2), (0, 0, 0, 0)),
              (2, 6, 4, 19, (2, 2), (2, 2), (0, 0, 0, 0)),
              (1, 5, 5, 5, (3, 3), (1, 1), (3, 3, 3, 3))]  # border windows entirely padding
    return cases


CASES = make_cases()


def check(x, dy, k, s, pads, dtype):
    mx, av, dmx, dav = ref_pools(x, k, s, pads, dy)
    y = _C.max_pool(x, k, s, pads)
    assert y.dtype == dtype and y.shape == mx.shape
    np.testing.assert_array_equal(y, mx.astype(dtype))
    a = _C.avg_pool(x, k, s, pads)
    np.testing.assert_allclose(a, av, rtol=4 * np.finfo(dtype).eps)
    gx = _C.max_pool_grad(x, dy, k, s, pads)
    assert gx.dtype == dtype and gx.shape == x.shape
    np.testing.assert_allclose(gx, dmx, rtol=1e-6, atol=8 * np.finfo(dtype).eps)
    ga = _C.avg_pool_grad(x.shape, dy, k, s, pads)
    assert ga.dtype == dtype and ga.shape == x.shape
    np.testing.assert_allclose(ga, dav, rtol=1e-6, atol=8 * np.finfo(dtype).eps)
    return y, a, gx, ga


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_pools_odd_shapes(isa, restore_threads, threads, dtype, case):
    n, h, w, c, k, s, pads = case
    _C.set_num_threads(threads)
    rng = np.random.default_rng(abs(hash(case)) % 10007)
    # Coarse values, so most windows hold ties.
    x = rng.integers(-3, 4, (n, h, w, c)).astype(dtype)
    oh = (h + pads[0] + pads[1] - k[0]) // s[0] + 1
    ow = (w + pads[2] + pads[3] - k[1]) // s[1] + 1
    dy = rng.uniform(-1, 1, (n, oh, ow, c)).astype(dtype)
    check(x, dy, k, s, pads, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pools_nan_inf_ties(isa, dtype):
    rng = np.random.default_rng(3)
    x = rng.integers(-2, 3, (2, 9, 8, 35)).astype(dtype)
    x[rng.random(x.shape) < 0.08] = np.nan
    x[rng.random(x.shape) < 0.1] = -np.inf
    x[0, :2, :2, :] = -np.inf  # a window of -inf only: the first gets the gradient
    for k, s, pads in [((2, 2), (2, 2), (0, 0, 0, 0)), ((3, 3), (2, 2), (1, 1, 0, 1)),
                       ((3, 2), (1, 1), (1, 1, 0, 1))]:
        oh = (9 + pads[0] + pads[1] - k[0]) // s[0] + 1
        ow = (8 + pads[2] + pads[3] - k[1]) // s[1] + 1
        dy = rng.uniform(-1, 1, (2, oh, ow, 35)).astype(dtype)
        mx, _, dmx, _ = ref_pools(x, k, s, pads, dy)
        np.testing.assert_array_equal(_C.max_pool(x, k, s, pads), mx.astype(dtype))
        np.testing.assert_allclose(_C.max_pool_grad(x, dy, k, s, pads), dmx, rtol=1e-6,
                                   atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pools_noncontiguous(dtype):
    rng = np.random.default_rng(5)
    base = rng.integers(-3, 4, (3, 11, 14, 40)).astype(dtype)
    x = base[::2, 1:, ::2, 3::2]  # (2, 10, 7, 19), strided on every axis
    dy_base = rng.uniform(-1, 1, (2, 5, 4, 38)).astype(dtype)
    dy = dy_base[:, :, :, ::2]
    pads = (0, 0, 0, 1)
    check(x, dy, (2, 2), (2, 2), pads, dtype)


def test_pools_threads_identical(restore_threads):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 13, 13, 33)).astype(np.float32)
    outs = []
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        for k, s, pads in [((2, 2), (2, 2), (0, 1, 0, 1)), ((3, 3), (1, 1), (1, 1, 1, 1))]:
            y = _C.max_pool(x, k, s, pads)
            outs.append((t, y, _C.avg_pool(x, k, s, pads), _C.max_pool_grad(x, y, k, s, pads),
                         _C.avg_pool_grad(x.shape, y, k, s, pads)))
    for a, b in zip(outs[:2], outs[2:4]):
        for u, v in zip(a[1:], b[1:]):
            np.testing.assert_array_equal(u, v)
    for a, b in zip(outs[:2], outs[4:]):
        for u, v in zip(a[1:], b[1:]):
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_grad_2x2_every_winner_order(isa, dtype):
    """The unrolled 2x2 backward picks the first maximum from the order in which values
    replace the running maximum: every pattern of ties, NaNs, infinities and signed zeros over
    the four window slots, one pattern per channel (and window), against the reference."""
    vals = np.array([-np.inf, -1.0, -0.0, 0.0, 1.0, np.inf, np.nan])
    pats = np.array(list(itertools.product(vals, repeat=4)))  # 2401 windows x 4 slots
    c = 37  # a full vector and a tail on every ISA
    npos = -(-len(pats) // c)
    pats = np.concatenate([pats, np.zeros((npos * c - len(pats), 4))])
    # Window (i, j) of slot order (0, 0), (0, 1), (1, 0), (1, 1), laid out as one image row of
    # 2x2 tiles: positions along the width, channels innermost.
    w4 = pats.reshape(npos, c, 2, 2).transpose(2, 0, 3, 1)  # (2, npos, 2, c)
    x = np.ascontiguousarray(w4.reshape(1, 2, 2 * npos, c)).astype(dtype)
    dy = np.random.default_rng(5).uniform(0.5, 1.5, (1, 1, npos, c)).astype(dtype)
    with np.errstate(invalid="ignore"):  # the reference's averages of inf and -inf
        _, _, dmx, _ = ref_pools(x, (2, 2), (2, 2), (0, 0, 0, 0), dy)
    np.testing.assert_array_equal(_C.max_pool_grad(x, dy, (2, 2), (2, 2), (0, 0, 0, 0)),
                                  dmx.astype(dtype))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_argmax_matches_recomputed(isa, restore_threads, threads, dtype):
    """max_pool_argmax / max_pool_grad_argmax give exactly max_pool / max_pool_grad on every
    case whose windows do not overlap, NaNs and ties included; the slots index the window."""
    _C.set_num_threads(threads)
    rng = np.random.default_rng(11)
    cases = [c for c in CASES if c[5][0] >= c[4][0] and c[5][1] >= c[4][1]]
    cases += [(2, 9, 8, 35, (3, 3), (3, 3), (1, 2, 0, 1)), (1, 40, 40, 3, (16, 16), (16, 16),
                                                          (0, 0, 0, 0))]
    assert len(cases) > 10
    for n, h, w, c, k, s, pads in cases:
        x = rng.integers(-3, 4, (n, h, w, c)).astype(dtype)
        x[rng.random(x.shape) < 0.05] = np.nan
        y, arg = _C.max_pool_argmax(x, k, s, pads)
        np.testing.assert_array_equal(y, _C.max_pool(x, k, s, pads))
        assert arg.dtype == np.uint8 and arg.shape == y.shape
        assert arg.size == 0 or arg.max() < k[0] * k[1]
        dy = rng.uniform(-1, 1, y.shape).astype(dtype)
        np.testing.assert_array_equal(_C.max_pool_grad_argmax(x.shape, arg, dy, k, s, pads),
                                      _C.max_pool_grad(x, dy, k, s, pads))


def test_max_pool_argmax_rejects():
    x = np.zeros((1, 4, 4, 2), np.float32)
    with pytest.raises(ValueError, match="windows that do not overlap"):
        _C.max_pool_argmax(x, (2, 2), (1, 1))
    with pytest.raises(ValueError, match="at most 256"):
        _C.max_pool_argmax(np.zeros((1, 17, 17, 1), np.float32), (17, 17), (17, 17))
    _, arg = _C.max_pool_argmax(x, (2, 2), (2, 2))
    dy = np.ones((1, 2, 2, 2), np.float32)
    with pytest.raises(ValueError, match="argmax must be a C-contiguous uint8 array of shape"):
        _C.max_pool_grad_argmax(x.shape, arg.astype(np.int32), dy, (2, 2), (2, 2))
    with pytest.raises(ValueError, match="argmax must be"):
        _C.max_pool_grad_argmax(x.shape, arg, dy[:, :, :1], (2, 2), (2, 3))
    with pytest.raises(ValueError, match="grad has shape"):
        _C.max_pool_grad_argmax(x.shape, arg, dy[:, :1], (2, 2), (2, 2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_grad_argmax_streamed(isa, restore_threads, dtype):
    """Gradients of 8 MB and more are written with streaming stores (aligned full vectors;
    tails and odd offsets stored normally): same values as the recomputing path, 1 and 2
    threads, a channel tail, SAME padding at the bottom/right."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 181, 183, 35)).astype(dtype)  # >= 18 MB
    k, s, pads = (2, 2), (2, 2), (0, 1, 0, 1)
    assert x.nbytes >= 8 << 20
    for t in (1, 2):
        _C.set_num_threads(t)
        y, arg = _C.max_pool_argmax(x, k, s, pads)
        dy = rng.standard_normal(y.shape).astype(dtype)
        dx = _C.max_pool_grad_argmax(x.shape, arg, dy, k, s, pads)
        assert dx.flags.c_contiguous and dx.flags.writeable
        np.testing.assert_array_equal(dx, _C.max_pool_grad(x, dy, k, s, pads))
