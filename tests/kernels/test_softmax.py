"""headwater._C softmax family against float64 numpy references."""

import numpy as np
import pytest

from headwater import _C

from conftest import DTYPES


def ref_log_softmax(x):
    x = np.asarray(x, np.float64)
    m = np.max(x, axis=-1, keepdims=True)
    return (x - m) - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))


def tol(dtype):
    return 16 * np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", DTYPES)
# Rows 63-65 and 129 straddle the 64-row exp blocks; 20000 x 3 splits over threads too.
@pytest.mark.parametrize("shape", [(1,), (7,), (3, 1), (5, 10), (100, 10), (2, 3, 33), (0, 4),
                                   (700, 129), (63, 10), (64, 10), (65, 10), (129, 7),
                                   (20000, 3)])
def test_softmax_and_log_softmax(dtype, shape, restore_threads):
    rng = np.random.default_rng(len(shape))
    x = (rng.standard_normal(shape) * 30).astype(dtype)
    want = ref_log_softmax(x)
    got = []
    for t in (1, 2):
        _C.set_num_threads(t)
        ls = _C.log_softmax(x)
        sm = _C.softmax(x)
        assert ls.dtype == dtype and ls.shape == x.shape and sm.shape == x.shape
        np.testing.assert_allclose(ls, want, rtol=tol(dtype), atol=tol(dtype) * 100)
        np.testing.assert_allclose(sm, np.exp(want), rtol=tol(dtype), atol=tol(dtype))
        got.append((ls, sm))
    # Rows never depend on how they were split between threads or exp blocks.
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])


def test_softmax_extremes():
    x = np.array([[1e30, 0, -1e30], [-np.inf, 0, 0], [3, 3, 3]], np.float32)
    np.testing.assert_allclose(_C.softmax(x), [[1, 0, 0], [0, .5, .5], [1 / 3] * 3], rtol=1e-6)
    assert _C.log_softmax(x)[1, 0] == -np.inf
    assert np.isnan(_C.softmax(np.array([1.0, np.nan], np.float32))).all()
    nc = np.arange(12.0).reshape(3, 4)[:, ::2]  # non-contiguous input
    np.testing.assert_allclose(_C.log_softmax(nc), ref_log_softmax(nc), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows,classes", [(1, 1), (1, 2), (100, 10), (37, 1000), (0, 3),
                                          (65, 10), (128, 10), (20000, 3)])
def test_xent(dtype, rows, classes):
    rng = np.random.default_rng(rows + classes)
    x = (rng.standard_normal((rows, classes)) * 5).astype(dtype)
    p = rng.uniform(0, 1, (rows, classes))
    labels = (p / p.sum(axis=1, keepdims=True)).astype(dtype)
    ls = ref_log_softmax(x)
    loss, back = _C.softmax_cross_entropy_with_logits(x, labels)
    assert loss.dtype == dtype and loss.shape == (rows,) and back.shape == x.shape
    np.testing.assert_allclose(loss, -np.sum(labels * ls, axis=1), rtol=tol(dtype) * 10,
                               atol=tol(dtype) * 10)
    np.testing.assert_allclose(back, np.exp(ls) - labels, rtol=tol(dtype), atol=tol(dtype))
    for idt in (np.int32, np.int64):
        lab = rng.integers(0, classes, rows).astype(idt)
        loss, back = _C.sparse_softmax_cross_entropy_with_logits(x, lab)
        np.testing.assert_allclose(loss, -ls[np.arange(rows), lab], rtol=tol(dtype) * 10,
                                   atol=tol(dtype) * 10)
        want = np.exp(ls)
        want[np.arange(rows), lab] -= 1
        np.testing.assert_allclose(back, want, rtol=tol(dtype), atol=tol(dtype))


def test_xent_errors():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"Received a label value of 3 which is outside the "
                                         r"valid range of \[0, 3\)\.  Label values: 0 3"):
        _C.sparse_softmax_cross_entropy_with_logits(x, np.array([0, 3], np.int32))
    with pytest.raises(ValueError, match="Received a label value of -1"):
        _C.sparse_softmax_cross_entropy_with_logits(x, np.array([-1, 0], np.int64))
    with pytest.raises(TypeError, match="labels must be int32 or int64"):
        _C.sparse_softmax_cross_entropy_with_logits(x, np.array([0, 1], np.float32))
    with pytest.raises(ValueError, match="same shape"):
        _C.softmax_cross_entropy_with_logits(x, np.zeros((2, 4), np.float32))
    with pytest.raises(TypeError, match="logits are float32 but labels are float64"):
        _C.softmax_cross_entropy_with_logits(x, np.zeros((2, 3)))
