"""headwater._C exp/log/tanh/sigmoid/softplus/erf: accuracy against float64 and IEEE special
values."""

import math

import numpy as np
import pytest

from headwater import _C

from conftest import DTYPES

REF = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sigmoid": lambda x: np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                                  np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))),
    "softplus": lambda x: np.logaddexp(0, x),
    "erf": np.vectorize(math.erf, otypes=[np.float64]),
}


def inputs(name, rng, dtype):
    if name == "log":
        parts = [np.exp(rng.uniform(-87, 88, 20000)), rng.uniform(0, 3, 20000),
                 [1e-40, 1e-45, 1.1754942e-38, 1.0, 2.0, 0.5]]
    else:
        lo = -87 if name == "exp" else -80
        parts = [rng.uniform(lo, 88, 20000), rng.uniform(-5, 5, 20000),
                 rng.uniform(-0.7, 0.7, 5000), [0.625, -0.625, 1e-30, -1e-30]]
        if name == "erf":
            # Both sides of the branch at 0.9, the saturation at 3.92, tiny arguments.
            parts += [rng.uniform(0.85, 0.95, 2000), -rng.uniform(3.8, 4.0, 2000),
                      np.geomspace(1e-37, 1, 2000), [0.9, -0.9, 3.92, 3.93]]
    return np.concatenate([np.asarray(p, np.float64) for p in parts]).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(REF))
def test_relative_error(isa, dtype, name):
    x = inputs(name, np.random.default_rng(1), dtype)
    got = getattr(_C, name)(x).astype(np.float64)
    with np.errstate(all="ignore"):
        want = REF[name](x.astype(np.float64))
    normal = np.isfinite(want) & (np.abs(want) >= np.finfo(dtype).tiny)
    rel = np.abs(got[normal] - want[normal]) / np.abs(want[normal])
    assert rel.max() <= (1e-6 if dtype == np.float32 else 1e-14), rel.max()
    # Every length: the vector tail goes through the same code as the body.
    for n in (1, 7, 15, 16, 17, 33):
        np.testing.assert_array_equal(getattr(_C, name)(x[:n]), getattr(_C, name)(x)[:n])


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values(isa, dtype):
    inf, nan = np.inf, np.nan
    x = np.array([0.0, -0.0, inf, -inf, nan, 1e-40, -1e-40, 100, -100, 89, -104, -150], dtype)
    with np.errstate(all="ignore"):
        e = _C.exp(x)
        lg = _C.log(x)
        th = _C.tanh(x)
        sg = _C.sigmoid(x)
    np.testing.assert_array_equal(e[:5], [1, 1, inf, 0, nan])
    assert e[5] == 1 and e[6] == 1
    assert e[7] == (inf if dtype == np.float32 else np.exp(100.0))
    np.testing.assert_array_equal(lg[:5], [-inf, -inf, inf, nan, nan])
    assert np.isnan(lg[6]) and np.isnan(lg[8])
    np.testing.assert_allclose(lg[5], np.log(np.float64(x[5])), rtol=1e-6)
    np.testing.assert_array_equal(th[:5], [0, -0.0, 1, -1, nan])
    assert np.signbit(th[1]) and th[5] == x[5] and th[6] == x[6]
    np.testing.assert_array_equal(sg[:5], [0.5, 0.5, 1, 0, nan])
    # Far in the negative tail sigmoid(x) ~ e**x keeps its relative accuracy (-80: still a
    # normal float32).
    tail = _C.sigmoid(np.array([-80.0], dtype))[0]
    assert abs(tail / np.exp(np.float64(-80)) - 1) < 1e-6
    assert sg[8] > 0
    with np.errstate(all="ignore"):
        sp = _C.softplus(x)
        ef = _C.erf(x)
    np.testing.assert_allclose(sp[:2], np.log(2), rtol=1e-7)
    np.testing.assert_array_equal(sp[2:5], [inf, 0, nan])
    assert sp[7] == 100 and sp[9] == 89
    # Deep in the negative tail softplus(x) ~ e**x, down into the denormals.
    tail = np.exp(np.array([-100.0, -150.0])).astype(dtype)
    np.testing.assert_allclose(sp[[8, 11]], tail, rtol=1e-6,
                               atol=float(np.finfo(dtype).smallest_subnormal))
    np.testing.assert_array_equal(ef[:5], [0, -0.0, 1, -1, nan])
    assert np.signbit(ef[1]) and not np.signbit(ef[0])
    np.testing.assert_array_equal(ef[7:12], [1, -1, 1, -1, -1])
    np.testing.assert_allclose(ef[5:7], [1.1283791670955126e-40, -1.1283791670955126e-40],
                               rtol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_out_and_threads(dtype, restore_threads):
    x = np.random.default_rng(2).uniform(-10, 10, 300001).astype(dtype)
    outs = []
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        outs.append(_C.tanh(x))
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])
    y = x.copy()
    assert _C.exp(y, y) is y
    np.testing.assert_array_equal(y, _C.exp(x))
    with pytest.raises(ValueError, match="out must be a writable C-contiguous"):
        _C.exp(x, np.empty(3, dtype))
    with pytest.raises(TypeError, match="unsupported dtype int32"):
        _C.exp(np.ones(3, np.int32))


def test_float32_boundaries(isa):
    """exp/sigmoid around the overflow and underflow thresholds and across the denormal range,
    tanh where it rounds to 1: within 1e-6 relative, or one denormal step, of float64."""
    f32 = np.float32
    tiny = float(np.finfo(f32).smallest_subnormal)
    big = np.nextafter(f32(np.log(np.finfo(f32).max)), f32(0))
    x = np.concatenate([np.linspace(-104, -85, 4001), np.linspace(86, 89, 601),
                        [big, np.nextafter(big, f32(100)), -103.9, -103.2, -87.33655]]).astype(f32)
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        want = {"exp": np.exp(x64), "sigmoid": np.exp(-np.logaddexp(0, -x64))}
        for name, w in want.items():
            got = getattr(_C, name)(x).astype(np.float64)
            w32 = w.astype(f32).astype(np.float64)
            assert np.array_equal(np.isinf(got), np.isinf(w32)), name
            fin = np.isfinite(w32)
            err = np.abs(got[fin] - w[fin])
            assert np.all(err <= np.maximum(1e-6 * np.abs(w[fin]), tiny)), name
    assert _C.exp(np.array([big], f32))[0] < np.inf
    assert _C.exp(np.array([np.nextafter(big, f32(100))], f32))[0] == np.inf
    t = _C.tanh(np.array([10.0, 20.0, -10.0, 1e30, np.finfo(f32).max], f32))
    np.testing.assert_array_equal(t, [1, 1, -1, 1, 1])


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "log", "softplus", "erf"])
def test_float32_odd_lengths_and_nan_lanes(isa, name):
    """NaNs anywhere in a vector stay NaN without disturbing their neighbours."""
    rng = np.random.default_rng(3)
    for n in (0, 1, 15, 16, 17, 31, 32, 33, 47, 4099):
        x = rng.uniform(0.1 if name == "log" else -5, 5, n).astype(np.float32)
        if n:
            x[rng.integers(0, n, max(1, n // 7))] = np.nan
        got = getattr(_C, name)(x)
        ref = getattr(_C, name)(np.where(np.isnan(x), 1, x).astype(np.float32))
        np.testing.assert_array_equal(np.isnan(got), np.isnan(x))
        np.testing.assert_array_equal(got[~np.isnan(x)], ref[~np.isnan(x)])


def test_tanh_sigmoid_dense_sweep(isa):
    """tanh and sigmoid over dense float32 sweeps: every reduction interval of n (tanh rounds
    |x| * 2 log2(e) and sigmoid |x| log2(e) to n and reduce with a one-word ln 2, whose error
    grows with |n|), a few ulps either side of each interval's edges, and the tails where that
    error peaks; within 1e-6 relative of float64."""
    f32 = np.float32
    edges_t = np.arange(0.5, 30) * np.log(2) / 2
    edges_s = np.arange(0.5, 127) * np.log(2)
    ulps = np.arange(-4, 5)
    near = [np.nextafter(f32(e), f32(np.inf)) * (1 + ulps * 2.0 ** -23) for e in
            np.concatenate([edges_t, edges_s])]
    x = np.concatenate([np.linspace(0, 10, 400001), np.geomspace(1e-37, 1, 20001),
                        np.linspace(80, 87.3, 200001), np.concatenate(near)]).astype(f32)
    x = np.concatenate([x, -x])
    x64 = x.astype(np.float64)
    for name, want in (("tanh", np.tanh(x64)), ("sigmoid", np.exp(-np.logaddexp(0, -x64)))):
        got = getattr(_C, name)(x).astype(np.float64)
        ok = np.abs(want) >= np.finfo(f32).tiny
        rel = np.abs(got[ok] - want[ok]) / np.abs(want[ok])
        assert rel.max() <= 1e-6, (name, rel.max(), x[ok][rel.argmax()])


@pytest.mark.parametrize("n", [65536, 65537, 300007, (1 << 20) + 3])
def test_threaded_chunks_cover_everything(restore_threads, n):
    """The threaded path (guided chunk claiming) against the same loop run on small pieces,
    which stay on the calling thread: every element computed, once, the same way."""
    x = np.random.default_rng(n).uniform(-10, 10, n).astype(np.float32)
    pieces = np.concatenate([_C.sigmoid(x[i:i + 4099]) for i in range(0, n, 4099)])
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        y = np.full_like(x, np.nan)
        _C.sigmoid(x, y)
        np.testing.assert_array_equal(y, pieces)
