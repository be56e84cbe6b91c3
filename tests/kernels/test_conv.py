"""headwater._C conv2d (forward, backprop input/filter) and pooling against float64 references."""

import numpy as np
import pytest

from headwater import _C

from conftest import DTYPES


def out_size(n, k, s, d, before, after):
    return (n + before + after - ((k - 1) * d + 1)) // s + 1


def ref_conv(x, f, strides, dil, pads):
    x = x.astype(np.float64)
    f = f.astype(np.float64)
    n, h, w, c = x.shape
    kh, kw, _, co = f.shape
    pt, pb, pl, pr = pads
    oh = out_size(h, kh, strides[0], dil[0], pt, pb)
    ow = out_size(w, kw, strides[1], dil[1], pl, pr)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    y = np.zeros((n, oh, ow, co))
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dil[0], j * dil[1]
            patch = xp[:, r0:r0 + (oh - 1) * strides[0] + 1:strides[0],
                       c0:c0 + (ow - 1) * strides[1] + 1:strides[1], :]
            y += patch @ f[i, j]
    return y


def ref_conv_grads(x, f, dy, strides, dil, pads):
    """Adjoint of ref_conv, accumulated in float64 window offset by window offset."""
    x = x.astype(np.float64)
    f = f.astype(np.float64)
    dy = dy.astype(np.float64)
    n, h, w, c = x.shape
    kh, kw, _, co = f.shape
    pt, pb, pl, pr = pads
    oh, ow = dy.shape[1], dy.shape[2]
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    dxp = np.zeros_like(xp)
    df = np.zeros_like(f)
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dil[0], j * dil[1]
            sl = (slice(None), slice(r0, r0 + (oh - 1) * strides[0] + 1, strides[0]),
                  slice(c0, c0 + (ow - 1) * strides[1] + 1, strides[1]), slice(None))
            dxp[sl] += dy @ f[i, j].T
            df[i, j] = np.einsum("nhwc,nhwo->co", xp[sl], dy)
    return dxp[:, pt:pt + h, pl:pl + w, :], df


CONV_CASES = [
    # (n, h, w, c, kh, kw, co, strides, dilations, pads)
    (2, 7, 9, 3, 3, 2, 4, (1, 1), (1, 1), (1, 1, 0, 1)),
    (1, 8, 8, 2, 3, 3, 5, (2, 2), (1, 1), (0, 1, 0, 1)),
    (3, 9, 7, 2, 2, 3, 3, (1, 2), (2, 1), (0, 0, 0, 0)),
    (2, 5, 5, 1, 5, 5, 2, (1, 1), (1, 1), (2, 2, 2, 2)),
    (2, 6, 6, 4, 1, 1, 3, (1, 1), (1, 1), (0, 0, 0, 0)),  # pointwise: a plain GEMM
    (1, 10, 11, 3, 3, 3, 2, (3, 2), (1, 2), (1, 1, 2, 2)),
    (1, 1, 1, 1, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0)),
    (2, 4, 4, 17, 3, 3, 33, (1, 1), (1, 1), (1, 1, 1, 1)),
    (0, 5, 5, 2, 3, 3, 2, (1, 1), (1, 1), (1, 1, 1, 1)),
]


def tol(dtype, k):
    return 8 * np.finfo(dtype).eps * max(k, 1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d(isa, dtype, case):
    n, h, w, c, kh, kw, co, st, dil, pads = case
    rng = np.random.default_rng(abs(hash(case)) % 1000)
    x = rng.uniform(-1, 1, (n, h, w, c)).astype(dtype)
    f = rng.uniform(-1, 1, (kh, kw, c, co)).astype(dtype)
    y = _C.conv2d(x, f, st, dil, pads)
    want = ref_conv(x, f, st, dil, pads)
    assert y.dtype == dtype and y.shape == want.shape
    np.testing.assert_allclose(y, want, rtol=0, atol=tol(dtype, kh * kw * c))
    dy = rng.uniform(-1, 1, y.shape).astype(dtype)
    dx_want, df_want = ref_conv_grads(x, f, dy, st, dil, pads)
    dx = _C.conv2d_backprop_input(x.shape, f, dy, st, dil, pads)
    df = _C.conv2d_backprop_filter(x, f.shape, dy, st, dil, pads)
    assert dx.dtype == dtype and dx.shape == x.shape
    assert df.dtype == dtype and df.shape == f.shape
    np.testing.assert_allclose(dx, dx_want, rtol=0, atol=tol(dtype, kh * kw * co))
    np.testing.assert_allclose(df, df_want, rtol=0, atol=tol(dtype, n * y.shape[1] * y.shape[2]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_noncontiguous_inputs(dtype):
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (2, 9, 9, 6)).astype(dtype)[:, ::2, :, ::2]
    f = rng.uniform(-1, 1, (3, 3, 3, 8)).astype(dtype)
    np.testing.assert_allclose(_C.conv2d(x, f, (1, 1), (1, 1), (1, 1, 1, 1)),
                               ref_conv(x, f, (1, 1), (1, 1), (1, 1, 1, 1)), atol=tol(dtype, 27))


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_threads_identical(dtype, restore_threads):
    # Large enough for several im2col chunks and filter-gradient slots.
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (12, 14, 14, 8)).astype(dtype)
    f = rng.uniform(-1, 1, (5, 5, 8, 16)).astype(dtype)
    pads = (2, 2, 2, 2)
    outs = []
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        y = _C.conv2d(x, f, (1, 1), (1, 1), pads)
        dx = _C.conv2d_backprop_input(x.shape, f, y, (1, 1), (1, 1), pads)
        df = _C.conv2d_backprop_filter(x, f.shape, y, (1, 1), (1, 1), pads)
        outs.append((y, dx, df))
    for o in outs[1:]:
        for a, b in zip(o, outs[0]):
            np.testing.assert_array_equal(a, b)


def test_conv_errors():
    x = np.ones((1, 4, 4, 2), np.float32)
    with pytest.raises(ValueError, match="input depth 2 does not match filter depth 3"):
        _C.conv2d(x, np.ones((2, 2, 3, 1), np.float32))
    with pytest.raises(TypeError, match="filter has dtype float64 but expected float32"):
        _C.conv2d(x, np.ones((2, 2, 2, 1)))
    with pytest.raises(ValueError, match="must be 4-D"):
        _C.conv2d(x[0], np.ones((2, 2, 2, 1), np.float32))
    with pytest.raises(ValueError, match="output size would be negative"):
        _C.conv2d(x, np.ones((5, 5, 2, 1), np.float32))
    with pytest.raises(ValueError, match="strides must be >= 1"):
        _C.conv2d(x, np.ones((2, 2, 2, 1), np.float32), (0, 1))
    with pytest.raises(ValueError, match=r"out_backprop has shape \(1, 3, 3, 1\) but the "
                                         r"convolution gives \(1, 4, 4, 1\)"):
        _C.conv2d_backprop_input((1, 4, 4, 2), np.ones((1, 1, 2, 1), np.float32),
                                 np.ones((1, 3, 3, 1), np.float32))


def ref_pools(x, ksize, strides, pads, dy):
    """Max/avg forward and backward with explicit loops, float64, TF's first-max rule."""
    x64 = x.astype(np.float64)
    n, h, w, c = x.shape
    pt, pb, pl, pr = pads
    oh = (h + pt + pb - ksize[0]) // strides[0] + 1
    ow = (w + pl + pr - ksize[1]) // strides[1] + 1
    rows = [(max(o * strides[0] - pt, 0), min(o * strides[0] - pt + ksize[0], h)) for o in range(oh)]
    cols = [(max(o * strides[1] - pl, 0), min(o * strides[1] - pl + ksize[1], w)) for o in range(ow)]
    mx = np.zeros((n, oh, ow, c))
    av = np.zeros((n, oh, ow, c))
    dmx = np.zeros(x.shape)
    dav = np.zeros(x.shape)
    g = dy.astype(np.float64)
    for b in range(n):
        for oy, (y0, y1) in enumerate(rows):
            for ox, (x0, x1) in enumerate(cols):
                win = x64[b, y0:y1, x0:x1, :].reshape(-1, c)
                mx[b, oy, ox] = win.max(axis=0)
                av[b, oy, ox] = win.mean(axis=0)
                arg = win.argmax(axis=0)
                for ch in range(c):
                    iy, ix = divmod(int(arg[ch]), x1 - x0)
                    dmx[b, y0 + iy, x0 + ix, ch] += g[b, oy, ox, ch]
                dav[b, y0:y1, x0:x1, :] += g[b, oy, ox] / ((y1 - y0) * (x1 - x0))
    return mx, av, dmx, dav


POOL_CASES = [
    # (n, h, w, c, ksize, strides, pads)
    (2, 7, 9, 3, (2, 2), (2, 2), (0, 1, 0, 1)),
    (1, 8, 8, 2, (3, 3), (2, 2), (0, 1, 0, 1)),
    (3, 9, 7, 2, (3, 2), (1, 2), (0, 0, 0, 0)),
    (2, 6, 6, 5, (3, 3), (1, 1), (1, 1, 1, 1)),
    (1, 4, 4, 1, (4, 4), (1, 1), (0, 0, 0, 0)),
    (2, 28, 28, 32, (2, 2), (2, 2), (0, 0, 0, 0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOL_CASES)
def test_pools(dtype, case, restore_threads):
    n, h, w, c, k, s, pads = case
    rng = np.random.default_rng(h * w + c)
    # Coarse values so windows contain ties: the gradient must go to the first maximum.
    x = rng.integers(-3, 4, (n, h, w, c)).astype(dtype)
    oh = (h + pads[0] + pads[1] - k[0]) // s[0] + 1
    ow = (w + pads[2] + pads[3] - k[1]) // s[1] + 1
    dy = rng.uniform(-1, 1, (n, oh, ow, c)).astype(dtype)
    mx, av, dmx, dav = ref_pools(x, k, s, pads, dy)
    for t in (1, 2):
        _C.set_num_threads(t)
        np.testing.assert_array_equal(_C.max_pool(x, k, s, pads), mx.astype(dtype))
        np.testing.assert_allclose(_C.avg_pool(x, k, s, pads), av, rtol=1e-6)
        np.testing.assert_allclose(_C.max_pool_grad(x, dy, k, s, pads), dmx, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(_C.avg_pool_grad(x.shape, dy, k, s, pads), dav, rtol=1e-6,
                                   atol=1e-6)


def test_max_pool_nan():
    x = np.array([1.0, np.nan, 3.0, 2.0], np.float32).reshape(1, 2, 2, 1)
    y = _C.max_pool(x, (2, 2), (2, 2), (0, 0, 0, 0))
    assert np.isnan(y).all()
    dx = _C.max_pool_grad(x, np.ones((1, 1, 1, 1), np.float32), (2, 2), (2, 2), (0, 0, 0, 0))
    np.testing.assert_array_equal(dx.ravel(), [0, 1, 0, 0])  # the first NaN, as argmax


def test_pool_errors():
    x = np.ones((1, 4, 4, 2), np.float32)
    with pytest.raises(ValueError, match="ksize must be >= 1"):
        _C.max_pool(x, (0, 2), (1, 1))
    with pytest.raises(ValueError, match=r"grad has shape \(1, 1, 1, 2\) but the pooled output "
                                         r"has shape \(1, 2, 2, 2\)"):
        _C.max_pool_grad(x, np.ones((1, 1, 1, 2), np.float32), (2, 2), (2, 2))
