"""Winograd convolution (float32, stride 1, 3x3 and 5x5 filters) against float64 references."""

import numpy as np
import pytest

from headwater import _C

from test_conv import out_size, ref_conv, ref_conv_grads

MODES = [2, 4]  # F(2x2, r x r) and F(4x4, r x r) forced wherever Winograd applies


@pytest.fixture
def winograd():
    prev = _C.get_conv_winograd()

    def use(mode):
        _C.set_conv_winograd(mode)

    try:
        yield use
    finally:
        _C.set_conv_winograd(prev)


def same_pads(h, w, k):
    ph, pw = k - 1, k - 1  # stride 1: total padding k - 1, the extra row/column after
    return (ph // 2, ph - ph // 2, pw // 2, pw - pw // 2)


def check(x, f, pads, rel):
    """Forward and both gradients against the float64 references, relative to their scale."""
    y = _C.conv2d(x, f, (1, 1), (1, 1), pads)
    want = ref_conv(x, f, (1, 1), (1, 1), pads)
    assert y.dtype == np.float32 and y.shape == want.shape

    def close(got, ref):
        scale = max(1.0, float(np.abs(ref).max(initial=0.0)))
        err = float(np.abs(got - ref).max(initial=0.0))
        assert err <= rel * scale, (err, scale)

    close(y, want)
    dy = np.random.default_rng(7).uniform(-1, 1, y.shape).astype(np.float32)
    dx_want, df_want = ref_conv_grads(x, f, dy, (1, 1), (1, 1), pads)
    dx = _C.conv2d_backprop_input(x.shape, f, dy, (1, 1), (1, 1), pads)
    df = _C.conv2d_backprop_filter(x, f.shape, dy, (1, 1), (1, 1), pads)
    assert dx.shape == x.shape and df.shape == f.shape
    close(dx, dx_want)
    close(df, df_want)


SIZES = [(1, 1), (2, 2), (5, 5), (7, 13), (13, 7), (2, 5)]
CHANNELS = [(1, 1), (3, 17), (17, 3), (17, 17)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("k", [3, 5])
@pytest.mark.parametrize("padding", ["SAME", "VALID", "explicit"])
def test_winograd_odd_shapes(isa, winograd, mode, k, padding):
    winograd(mode)
    rng = np.random.default_rng(k * 10 + mode)
    for h, w in SIZES:
        if padding == "SAME":
            pads = same_pads(h, w, k)
        elif padding == "VALID":
            if h < k or w < k:
                continue
            pads = (0, 0, 0, 0)
        else:
            pads = (k - 1, 0, 1, k - 2)  # asymmetric, full padding on one side
        for n in (0, 1, 2):
            for c, co in CHANNELS:
                x = rng.uniform(-1, 1, (n, h, w, c)).astype(np.float32)
                f = rng.uniform(-1, 1, (k, k, c, co)).astype(np.float32)
                check(x, f, pads, 2e-5 if mode == 2 else 1e-4)


@pytest.mark.parametrize("mode", MODES)
def test_winograd_many_blocks(winograd, mode):
    # Several tile blocks, filter-gradient slots and full 16-channel lanes plus a remainder.
    winograd(mode)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 14, 14, 40)).astype(np.float32)
    f = rng.standard_normal((5, 5, 40, 33)).astype(np.float32)
    check(x, f, (2, 2, 2, 2), 2e-5 if mode == 2 else 1e-4)


@pytest.mark.parametrize("mode", [0] + MODES)
def test_winograd_threads_identical(isa, winograd, restore_threads, mode):
    winograd(mode)
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (8, 14, 14, 32)).astype(np.float32)
    f = rng.uniform(-1, 1, (5, 5, 32, 64)).astype(np.float32)
    pads = (2, 2, 2, 2)
    outs = []
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        y = _C.conv2d(x, f, (1, 1), (1, 1), pads)
        dx = _C.conv2d_backprop_input(x.shape, f, y, (1, 1), (1, 1), pads)
        df = _C.conv2d_backprop_filter(x, f.shape, y, (1, 1), (1, 1), pads)
        outs.append((y, dx, df))
        again = _C.conv2d(x, f, (1, 1), (1, 1), pads)
        np.testing.assert_array_equal(again, y)
    for o in outs[1:]:
        for a, b in zip(o, outs[0]):
            np.testing.assert_array_equal(a, b)


def test_winograd_not_used_where_it_does_not_apply(winograd):
    # Strided, dilated, 2x2 and float64 convolutions keep the im2col path (exact to rounding).
    winograd(4)
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (2, 9, 9, 4)).astype(np.float32)
    for fs, st, dil in [((5, 5, 4, 3), (2, 2), (1, 1)), ((3, 3, 4, 3), (1, 1), (2, 2)),
                        ((2, 2, 4, 3), (1, 1), (1, 1)), ((3, 5, 4, 3), (1, 1), (1, 1))]:
        f = rng.uniform(-1, 1, fs).astype(np.float32)
        y = _C.conv2d(x, f, st, dil, (1, 1, 1, 1))
        np.testing.assert_allclose(y, ref_conv(x, f, st, dil, (1, 1, 1, 1)), rtol=0, atol=1e-5)
    xd = x.astype(np.float64)
    fd = rng.uniform(-1, 1, (5, 5, 4, 3))
    np.testing.assert_allclose(_C.conv2d(xd, fd, (1, 1), (1, 1), (2, 2, 2, 2)),
                               ref_conv(xd, fd, (1, 1), (1, 1), (2, 2, 2, 2)), rtol=0, atol=1e-12)


def test_winograd_auto_matches_im2col(winograd):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 14, 14, 32)).astype(np.float32)
    f = rng.standard_normal((5, 5, 32, 64)).astype(np.float32)
    outs = {}
    for mode in (0, -1):
        winograd(mode)
        outs[mode] = _C.conv2d(x, f, (1, 1), (1, 1), (2, 2, 2, 2))
    ref = ref_conv(x, f, (1, 1), (1, 1), (2, 2, 2, 2))
    for y in outs.values():
        assert np.abs(y - ref).max() <= 1e-4 * np.abs(ref).max()


def test_winograd_mode_errors(winograd):
    with pytest.raises(ValueError, match="winograd mode"):
        _C.set_conv_winograd(3)
    assert _C.get_conv_winograd() in (0, -1, 2, 4)

