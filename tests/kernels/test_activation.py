"""headwater._C relu / relu_grad / bias_relu against the numpy formulas the graph ops used.

They must agree bit for bit (the session swaps one for the other by size), under every ISA and
thread count, on odd sizes and special values.
"""

import numpy as np
import pytest

from headwater import _C

from conftest import DTYPES

# The numpy references meet inf * 0 and inf - inf on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

SIZES = [0, 1, 7, 15, 16, 17, 33, 1000, 32769, 100003]


def _values(rng, n, dtype):
    x = rng.standard_normal(n).astype(dtype)
    special = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-45, -1e-45, -1.0], dtype)
    if n:
        idx = rng.integers(0, n, min(n, 16))
        x[idx] = special[rng.integers(0, len(special), len(idx))]
    return x


def _same(a, b):
    np.testing.assert_array_equal(a, b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_relu_and_grad_match_numpy(isa, dtype, n, restore_threads):
    rng = np.random.default_rng(n)
    x, g = _values(rng, n, dtype), _values(rng, n, dtype)
    zero = np.zeros((), dtype)
    for threads in (1, 2):
        _C.set_num_threads(threads)
        _same(_C.relu(x), np.maximum(x, zero))
        _same(_C.relu_grad(g, x), np.multiply(g, np.greater(x, 0)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(0, 5), (3, 0), (1, 1), (7, 3), (50, 28, 28, 32), (13, 17),
                                   (4, 33)])
def test_bias_relu_matches_add_then_relu(isa, dtype, shape, restore_threads):
    rng = np.random.default_rng(sum(shape))
    x = _values(rng, int(np.prod(shape)), dtype).reshape(shape)
    b = _values(rng, shape[-1], dtype)
    want = np.maximum(np.add(x, b), np.zeros((), dtype))
    for threads in (1, 2):
        _C.set_num_threads(threads)
        _same(_C.bias_relu(x, b), want)


def test_non_contiguous_inputs_are_read_correctly():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 60)).astype(np.float32)[::2, 1::3]
    g = rng.standard_normal((40, 60)).astype(np.float32)[1::2, ::3]
    _same(_C.relu(x), np.maximum(x, np.float32(0)))
    _same(_C.relu_grad(g, x), np.multiply(g, np.greater(x, 0)))
    b = rng.standard_normal(40).astype(np.float32)[::2]
    _same(_C.bias_relu(x, b), np.maximum(x + b, np.float32(0)))


def test_errors():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(TypeError, match="relu: unsupported dtype int32"):
        _C.relu(np.zeros(3, np.int32))
    with pytest.raises(TypeError, match="relu_grad: features has dtype float64 but expected "
                                        "float32"):
        _C.relu_grad(x, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"relu_grad: gradients shape \(2, 3\) does not match "
                                         r"features shape \(3, 2\)"):
        _C.relu_grad(x, np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"bias_relu: bias of shape \(2,\) must be 1-D with as "
                                         r"many elements as the last dimension of x, whose "
                                         r"shape is \(2, 3\)"):
        _C.bias_relu(x, np.zeros(2, np.float32))
