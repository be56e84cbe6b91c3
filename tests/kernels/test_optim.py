"""headwater._C fused optimizer updates against the numpy rules of train/training_ops.py.

The native updates use the same order of operations and cannot contract into FMAs, so they
must agree with the numpy rules bit for bit in both dtypes, under every instruction set.
"""

import numpy as np
import pytest

from headwater import _C
from headwater.train import training_ops as T

from conftest import DTYPES

# (native name, numpy in-place rule, number of buffers (var + slots), scalar values, flags)
CASES = [
    ("apply_gradient_descent", T._gradient_descent, 1, (0.1,), ()),
    ("apply_momentum", T._momentum, 2, (0.1, 0.9), (False,)),
    ("apply_momentum", T._momentum, 2, (0.1, 0.9), (True,)),
    ("apply_adagrad", T._adagrad, 2, (0.1,), (True,)),
    ("apply_adagrad", T._adagrad, 2, (0.1,), (False,)),
    ("apply_adadelta", T._adadelta, 3, (1.0, 0.95, 1e-6), ()),
    ("apply_rms_prop", T._rms_prop, 3, (0.01, 0.9, 0.5, 1e-10), ()),
    ("apply_centered_rms_prop", T._centered_rms_prop, 4, (0.01, 0.9, 0.5, 1e-10), ()),
    ("apply_adam", T._adam, 3, (0.9 ** 3, 0.999 ** 3, 0.001, 0.9, 0.999, 1e-8), (False,)),
    ("apply_adam", T._adam, 3, (0.9 ** 3, 0.999 ** 3, 0.001, 0.9, 0.999, 1e-8), (True,)),
]

# Index of the gradient among the inputs that follow the buffers, in TF's input order.
GRAD_AT = {"apply_gradient_descent": 1, "apply_momentum": 1, "apply_adagrad": 1,
           "apply_adadelta": 3, "apply_rms_prop": 4, "apply_centered_rms_prop": 4,
           "apply_adam": 6}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0] + "".join(map(str, c[4])))
# 15/17 and 31/33 straddle the AVX2/AVX-512 vector widths; 100003 is split between threads.
@pytest.mark.parametrize("n", [0, 1, 7, 15, 17, 33, 1000, 100003])
def test_matches_numpy_rule(dtype, case, n, isa, restore_threads):
    name, rule, nbuf, scalars, flags = case
    rng = np.random.default_rng(n)
    bufs = [rng.uniform(-1, 1, n).astype(dtype)]
    # Slots that go under a square root stay positive.
    bufs += [rng.uniform(0.1, 1, n).astype(dtype) for _ in range(nbuf - 1)]
    if name == "apply_centered_rms_prop":
        bufs[1] = rng.uniform(-0.3, 0.3, n).astype(dtype)  # mg^2 < ms: a real square root
    grad = rng.uniform(-1, 1, n).astype(dtype)
    gpos = GRAD_AT[name]
    svals = [np.asarray(s, dtype)[()] for s in scalars]
    np_args = list(svals)
    np_args.insert(gpos, grad)
    c_args = [float(s) for s in svals]
    c_args.insert(gpos, grad)
    want = [b.copy() for b in bufs]
    rule(*want, *np_args, *flags)
    suffix = "_f32" if dtype == np.float32 else "_f64"
    for threads in (1, 2):
        _C.set_num_threads(threads)
        got = [b.copy() for b in bufs]
        getattr(_C, name + suffix)(*got, *c_args, *flags)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_errors():
    v = np.zeros(4, np.float32)
    with pytest.raises(TypeError, match="apply_gradient_descent: var has dtype float64 but "
                                        "expected float32"):
        _C.apply_gradient_descent_f32(np.zeros(4), 0.1, v)
    with pytest.raises(ValueError, match="grad has 3 elements but var has 4"):
        _C.apply_gradient_descent_f32(v, 0.1, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="var must be a C-contiguous array"):
        _C.apply_momentum_f32(np.zeros(8, np.float32)[::2], v.copy(), 0.1, v, 0.9, False)
    ro = np.zeros(4, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="accum must be writable"):
        _C.apply_momentum_f32(v.copy(), ro, 0.1, v, 0.9, False)
    _C.apply_momentum_f32(v.copy(), v.copy(), 0.1, ro, 0.9, False)  # a read-only grad is fine
