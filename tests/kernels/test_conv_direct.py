"""headwater._C direct convolution (forward, filter gradient and stride-1 input gradient; chosen
for inputs of at most 4 channels) against float64 references on odd shapes, under every ISA
and 1 and 2 threads."""

import itertools

import numpy as np
import pytest

from headwater import _C

from conftest import DTYPES
from test_conv import out_size, ref_conv, ref_conv_grads, tol


@pytest.fixture
def direct_mode():
    """Lets a test call _C.set_conv_direct freely."""
    prev = _C.get_conv_direct()
    try:
        yield
    finally:
        _C.set_conv_direct(prev)


def same_pads(size, k, s, d):
    eff = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


def make_cases():
    rng = np.random.default_rng(11)
    sizes = [1, 2, 3, 7, 13]
    cases = []
    for h, w in itertools.product(sizes, sizes):
        for _ in range(2):
            n = int(rng.choice([0, 1, 2]))
            c = int(rng.choice([1, 2, 3, 4]))
            co = int(rng.choice([1, 3, 16, 17, 33]))
            kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 6))
            st = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
            dil = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
            if rng.integers(0, 2):
                pads = same_pads(h, kh, st[0], dil[0]) + same_pads(w, kw, st[1], dil[1])
            else:
                pads = (0, 0, 0, 0)
            if h + pads[0] + pads[1] < (kh - 1) * dil[0] + 1 or \
                    w + pads[2] + pads[3] < (kw - 1) * dil[1] + 1:
                pads = same_pads(h, kh, 1, dil[0]) + same_pads(w, kw, 1, dil[1])
                st = (1, 1)
            cases.append((n, h, w, c, kh, kw, co, st, dil, pads))
    cases += [
        (3, 28, 28, 1, 5, 5, 32, (1, 1), (1, 1), (2, 2, 2, 2)),  # Deep-MNIST conv1
        (2, 13, 15, 3, 3, 3, 64, (2, 2), (1, 1), (1, 1, 1, 1)),
        (1, 9, 30, 2, 5, 3, 40, (1, 1), (1, 1), (0, 1, 3, 0)),  # uneven explicit pads
        (1, 4, 4, 1, 1, 1, 5, (1, 1), (1, 1), (0, 0, 0, 0)),  # pointwise
        (2, 6, 20, 2, 3, 3, 16, (1, 1), (1, 1), (1, 1, 1, 1)),  # 3-wide taps, one Cout vector
        (1, 5, 31, 1, 3, 5, 32, (1, 1), (1, 1), (1, 1, 2, 2)),
    ]
    return cases


CASES = make_cases()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_direct_conv(isa, restore_threads, direct_mode, threads, dtype, case):
    n, h, w, c, kh, kw, co, st, dil, pads = case
    _C.set_num_threads(threads)
    # Forced on: auto would skip the gradients on the portable baseline and some Cout widths.
    _C.set_conv_direct(1)
    rng = np.random.default_rng(abs(hash(case)) % 10007)
    x = rng.uniform(-1, 1, (n, h, w, c)).astype(dtype)
    f = rng.uniform(-1, 1, (kh, kw, c, co)).astype(dtype)
    y = _C.conv2d(x, f, st, dil, pads)
    want = ref_conv(x, f, st, dil, pads)
    assert y.dtype == dtype and y.shape == want.shape
    np.testing.assert_allclose(y, want, rtol=0, atol=tol(dtype, kh * kw * c))
    dy = rng.uniform(-1, 1, y.shape).astype(dtype)
    dx_want, df_want = ref_conv_grads(x, f, dy, st, dil, pads)
    df = _C.conv2d_backprop_filter(x, f.shape, dy, st, dil, pads)
    assert df.dtype == dtype and df.shape == f.shape
    np.testing.assert_allclose(df, df_want, rtol=0,
                               atol=tol(dtype, n * y.shape[1] * y.shape[2]))
    dx = _C.conv2d_backprop_input(x.shape, f, dy, st, dil, pads)  # direct for stride 1
    assert dx.dtype == dtype and dx.shape == x.shape
    np.testing.assert_allclose(dx, dx_want, rtol=0, atol=tol(dtype, kh * kw * co))


@pytest.mark.parametrize("dtype", DTYPES)
def test_direct_forced_on_wide_inputs(isa, direct_mode, dtype):
    # Forced on, the direct kernels also handle many input channels.
    rng = np.random.default_rng(12)
    x = rng.uniform(-1, 1, (2, 7, 6, 19)).astype(dtype)
    f = rng.uniform(-1, 1, (3, 2, 19, 21)).astype(dtype)
    pads, st = (1, 1, 0, 1), (1, 2)
    _C.set_conv_direct(1)
    y = _C.conv2d(x, f, st, (1, 1), pads)
    np.testing.assert_allclose(y, ref_conv(x, f, st, (1, 1), pads), atol=tol(dtype, 3 * 2 * 19))
    dy = rng.uniform(-1, 1, y.shape).astype(dtype)
    dx_want, df_want = ref_conv_grads(x, f, dy, st, (1, 1), pads)
    np.testing.assert_allclose(_C.conv2d_backprop_filter(x, f.shape, dy, st, (1, 1), pads),
                               df_want, atol=tol(dtype, y.size // 21))
    np.testing.assert_allclose(_C.conv2d_backprop_input(x.shape, f, dy, st, (1, 1), pads),
                               dx_want, atol=tol(dtype, 3 * 2 * 21))
    # Stride 1 with dilation: the direct input gradient.
    y = _C.conv2d(x, f, (1, 1), (2, 1), pads)
    dy = rng.uniform(-1, 1, y.shape).astype(dtype)
    dx_want, _ = ref_conv_grads(x, f, dy, (1, 1), (2, 1), pads)
    np.testing.assert_allclose(_C.conv2d_backprop_input(x.shape, f, dy, (1, 1), (2, 1), pads),
                               dx_want, atol=tol(dtype, 3 * 2 * 21))


def test_direct_matches_im2col_and_modes(direct_mode):
    rng = np.random.default_rng(13)
    x = rng.uniform(-1, 1, (2, 11, 11, 2)).astype(np.float64)
    f = rng.uniform(-1, 1, (5, 5, 2, 24)).astype(np.float64)
    out = {}
    for mode in (-1, 1):
        _C.set_conv_direct(mode)
        assert _C.get_conv_direct() == mode
        out[mode] = _C.conv2d(x, f, (1, 1), (1, 1), (2, 2, 2, 2))
    np.testing.assert_allclose(out[1], out[-1], atol=1e-12)
    with pytest.raises(ValueError, match="direct conv mode"):
        _C.set_conv_direct(3)


def test_direct_noncontiguous(direct_mode):
    rng = np.random.default_rng(14)
    x = rng.uniform(-1, 1, (3, 10, 9, 6)).astype(np.float32)[::2, 1:, ::-1, 1::2]  # c = 3
    f = rng.uniform(-1, 1, (3, 3, 3, 20)).astype(np.float32)
    _C.set_conv_direct(0)
    np.testing.assert_allclose(_C.conv2d(x, f, (1, 1), (1, 1), (1, 1, 1, 1)),
                               ref_conv(x, f, (1, 1), (1, 1), (1, 1, 1, 1)), atol=tol(np.float32, 27))


def test_direct_threads_identical(restore_threads, direct_mode):
    # Enough rows for several filter-gradient slots.
    rng = np.random.default_rng(15)
    x = rng.uniform(-1, 1, (16, 28, 28, 1)).astype(np.float32)
    f = rng.uniform(-1, 1, (5, 5, 1, 32)).astype(np.float32)
    pads = (2, 2, 2, 2)
    _C.set_conv_direct(0)
    outs = []
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        y = _C.conv2d(x, f, (1, 1), (1, 1), pads)
        outs.append((y, _C.conv2d_backprop_filter(x, f.shape, y, (1, 1), (1, 1), pads),
                     _C.conv2d_backprop_input(x.shape, f, y, (1, 1), (1, 1), pads)))
    for o in outs[1:]:
        for a, b in zip(o, outs[0]):
            np.testing.assert_array_equal(a, b)
