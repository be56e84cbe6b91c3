"""tf.losses against numpy: every loss under every reduction mode and weight shape, names,
collections, label smoothing, errors, and float64 gradient checks."""

import numpy as np
import pytest

import headwater as tf
from headwater import losses
from headwater.losses import Reduction
from headwater.test import compute_gradient_error

R = Reduction
ALL_REDUCTIONS = [R.NONE, R.SUM, R.MEAN, R.SUM_OVER_BATCH_SIZE, R.SUM_BY_NONZERO_WEIGHTS]


@pytest.fixture
def sess():
    g = tf.Graph()
    with g.as_default(), tf.Session(graph=g) as s:
        yield s


def _reduce(per, w, reduction):
    """numpy oracle of compute_weighted_loss."""
    w = np.broadcast_to(np.asarray(w, np.float64), per.shape) if np.ndim(w) else \
        np.full(per.shape, float(w))
    wl = per * w
    if reduction == R.NONE:
        return wl
    s = wl.sum()
    if reduction == R.SUM:
        return s
    if reduction == R.MEAN:
        d = w.sum()
    elif reduction == R.SUM_OVER_BATCH_SIZE:
        d = per.size
    else:
        d = np.count_nonzero(w)
    return s / d if d else 0.0


def _np_softmax_xent(labels, logits):
    z = logits - logits.max(-1, keepdims=True)
    logsm = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return -(labels * logsm).sum(-1)


def _np_sigmoid_xent(labels, x):
    return np.maximum(x, 0) - x * labels + np.log1p(np.exp(-np.abs(x)))


rs = np.random.RandomState(0)
LAB = rs.uniform(0, 1, (4, 3))
PRED = rs.uniform(0.05, 0.95, (4, 3))
BIN = (rs.uniform(0, 1, (4, 3)) > 0.5).astype(np.float64)
LOGITS = rs.uniform(-2, 2, (4, 3))
ONEHOT = np.eye(3)[[0, 2, 1, 2]]
SPARSE = np.array([0, 2, 1, 2])


def _huber(e, delta=1.0):
    a = np.abs(e)
    q = np.minimum(a, delta)
    return 0.5 * q * q + delta * (a - q)


# name -> (function(labels, predictions, **kw), labels, predictions, per-element oracle)
ELEMENTWISE = {
    "absolute_difference": (losses.absolute_difference, LAB, PRED, lambda l, p: np.abs(p - l)),
    "mean_squared_error": (losses.mean_squared_error, LAB, PRED, lambda l, p: (p - l) ** 2),
    "log_loss": (losses.log_loss, BIN, PRED,
                 lambda l, p: -l * np.log(p + 1e-7) - (1 - l) * np.log(1 - p + 1e-7)),
    "hinge_loss": (lambda labels, predictions, **kw: losses.hinge_loss(labels, predictions,
                                                                       **kw),
                   BIN, LOGITS, lambda l, p: np.maximum(0, 1 - (2 * l - 1) * p)),
    "huber_loss": (losses.huber_loss, LAB, LOGITS, lambda l, p: _huber(p - l)),
    "sigmoid_cross_entropy": (lambda labels, predictions, **kw: losses.sigmoid_cross_entropy(
        labels, predictions, **kw), BIN, LOGITS, _np_sigmoid_xent),
}

WEIGHTS_2D = {
    "scalar": 2.0,
    "zero_scalar_tensor": None,   # filled below: tf.constant(0.)
    "full": rs.uniform(0, 2, (4, 3)) * (rs.uniform(0, 1, (4, 3)) > 0.3),
    "row": np.array([[1.0], [0.0], [2.0], [0.5]]),
    "col": np.array([[0.0, 1.0, 3.0]]),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("reduction", ALL_REDUCTIONS)
@pytest.mark.parametrize("wkey", sorted(WEIGHTS_2D))
def test_elementwise_losses_vs_numpy(sess, name, reduction, wkey):
    fn, lab, pred, oracle = ELEMENTWISE[name]
    w = WEIGHTS_2D[wkey]
    if wkey == "zero_scalar_tensor":
        w_t, w_np = tf.constant(0.0), 0.0
    else:
        w_t = w if np.ndim(w) == 0 else tf.constant(w.astype(np.float32))
        w_np = w
    out = fn(labels=tf.constant(lab.astype(np.float32)),
             predictions=tf.constant(pred.astype(np.float32)), weights=w_t,
             reduction=reduction)
    assert out.dtype == tf.float32
    want = _reduce(oracle(lab, pred), w_np, reduction)
    got = sess.run(out)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    assert tf.get_collection(tf.GraphKeys.LOSSES) == [out]


@pytest.mark.parametrize("reduction", ALL_REDUCTIONS)
@pytest.mark.parametrize("w", [1.0, np.array([1.0, 0.0, 2.0, 0.5]), np.array([[1.], [0.],
                                                                              [2.], [3.]])])
def test_softmax_and_sparse_xent_vs_numpy(sess, reduction, w):
    per = _np_softmax_xent(ONEHOT, LOGITS)
    w_np = np.reshape(w, (-1,)) if np.ndim(w) else w
    want = _reduce(per, w_np, reduction)
    wt = w if np.ndim(w) == 0 else tf.constant(w.astype(np.float32))
    lg = tf.constant(LOGITS.astype(np.float32))
    if np.ndim(w) == 2:
        # A [batch, 1] weight only squeezes for the sparse loss (TF1).
        with pytest.raises(ValueError, match="can not be broadcast"):
            losses.softmax_cross_entropy(ONEHOT.astype(np.float32), lg, weights=wt,
                                         reduction=reduction)
    else:
        a = losses.softmax_cross_entropy(ONEHOT.astype(np.float32), lg, weights=wt,
                                         reduction=reduction)
        np.testing.assert_allclose(sess.run(a), want, rtol=2e-5, atol=1e-6)
    b = losses.sparse_softmax_cross_entropy(tf.constant(SPARSE.astype(np.int32)), lg,
                                            weights=wt, reduction=reduction)
    np.testing.assert_allclose(sess.run(b), want, rtol=2e-5, atol=1e-6)
    c = losses.sparse_softmax_cross_entropy(tf.constant(SPARSE.reshape(4, 1).astype(np.int64)),
                                            lg, weights=wt, reduction=reduction)
    np.testing.assert_allclose(sess.run(c), want, rtol=2e-5, atol=1e-6)


def test_label_smoothing(sess):
    s = 0.2
    lg = tf.constant(LOGITS.astype(np.float32))
    a = losses.softmax_cross_entropy(ONEHOT, lg, label_smoothing=s)
    sm = ONEHOT * (1 - s) + s / 3
    np.testing.assert_allclose(sess.run(a), _np_softmax_xent(sm, LOGITS).mean(), rtol=1e-5)
    b = losses.sigmoid_cross_entropy(BIN, lg, label_smoothing=s)
    sm2 = BIN * (1 - s) + 0.5 * s
    np.testing.assert_allclose(sess.run(b), _np_sigmoid_xent(sm2, LOGITS).mean(), rtol=1e-5)
    # Unknown class count: smoothing reads it from the shape at run time.
    p = tf.placeholder(tf.float32, [None, None])
    c = losses.softmax_cross_entropy(tf.placeholder_with_default(ONEHOT.astype(np.float32),
                                                                 [None, None]), p,
                                     label_smoothing=s)
    np.testing.assert_allclose(sess.run(c, {p: LOGITS}), _np_softmax_xent(sm, LOGITS).mean(),
                               rtol=1e-5)


def test_names_and_scopes(sess):
    lab, pred = tf.constant(LAB.astype(np.float32)), tf.constant(PRED.astype(np.float32))
    assert losses.mean_squared_error(lab, pred).name == "mean_squared_error/value:0"
    assert losses.mean_squared_error(lab, pred).name == "mean_squared_error_1/value:0"
    assert losses.absolute_difference(lab, pred, scope="mine").name == "mine/value:0"
    assert losses.mean_squared_error(lab, pred, reduction=R.SUM).name == \
        "mean_squared_error_2/Sum:0"
    sm = losses.softmax_cross_entropy(ONEHOT, LOGITS)
    assert sm.name == "softmax_cross_entropy_loss/value:0"
    g = tf.get_default_graph()
    assert g.get_operation_by_name("softmax_cross_entropy_loss/xentropy").type == \
        "SoftmaxCrossEntropyWithLogits"
    sp = losses.sparse_softmax_cross_entropy(SPARSE, LOGITS.astype(np.float32))
    assert sp.name == "sparse_softmax_cross_entropy_loss/value:0"
    assert losses.sigmoid_cross_entropy(BIN, LOGITS).name == "sigmoid_loss/value:0"
    assert losses.hinge_loss(BIN, LOGITS).name == "hinge_loss/value:0"
    assert losses.huber_loss(LAB, PRED).name == "huber_loss/value:0"
    assert losses.log_loss(BIN, PRED).name == "log_loss/value:0"
    w = losses.compute_weighted_loss(tf.constant([1.0, 2.0]))
    assert w.name == "weighted_loss/value:0"


def test_collections_and_total_loss(sess):
    a = losses.mean_squared_error([1.0, 2.0], [2.0, 2.0])                 # 0.5
    b = losses.absolute_difference([1.0], [4.0], loss_collection=None)     # not collected
    c = losses.absolute_difference([1.0], [3.0], loss_collection="mine")   # 2
    assert losses.get_losses() == [a]
    assert losses.get_losses(loss_collection="mine") == [c]
    assert sess.run(b) == 3.0
    assert sess.run(losses.get_regularization_loss()) == 0.0
    tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, tf.constant(0.25))
    losses.add_loss(tf.constant(1.0))
    total = losses.get_total_loss()
    assert total.name == "total_loss:0"
    assert sess.run(total) == pytest.approx(1.75)
    assert sess.run(losses.get_total_loss(add_regularization_losses=False)) == \
        pytest.approx(1.5)
    reg = losses.get_regularization_loss()
    assert reg.name == "total_regularization_loss:0" and sess.run(reg) == 0.25
    assert len(losses.get_regularization_losses()) == 1


def test_total_loss_empty_raises(sess):
    with pytest.raises(ValueError, match="no losses"):
        losses.get_total_loss()


def test_errors(sess):
    with pytest.raises(ValueError, match="Invalid Reduction Key bogus"):
        losses.compute_weighted_loss([1.0], reduction="bogus")
    with pytest.raises(ValueError, match="must not be None"):
        losses.mean_squared_error(None, [1.0])
    with pytest.raises(ValueError, match="incompatible"):
        losses.mean_squared_error(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"values.rank=2. weights.rank=1"):
        losses.mean_squared_error(np.zeros((2, 3)), np.zeros((2, 3)), weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="Mismatch at dim 1"):
        losses.mean_squared_error(np.zeros((2, 3)), np.zeros((2, 3)),
                                  weights=np.ones((2, 2)))


def test_dtypes(sess):
    # Integer inputs are computed in float32, float64 stays float64.
    i = losses.absolute_difference(tf.constant([1, 2]), tf.constant([3, 3]))
    assert i.dtype == tf.float32 and sess.run(i) == 1.5
    d = losses.mean_squared_error(np.array([1.0, 2.0]), tf.constant([2.0, 2.0], tf.float64))
    assert d.dtype == tf.float64 and sess.run(d) == 0.5
    h = losses.softmax_cross_entropy(ONEHOT, tf.constant(LOGITS), weights=[1., 2., 0., 1.])
    assert h.dtype == tf.float64


def test_zero_weights_give_zero_not_nan(sess):
    for red in (R.MEAN, R.SUM_BY_NONZERO_WEIGHTS):
        out = losses.mean_squared_error([1.0, 2.0], [3.0, 3.0], weights=tf.constant(0.0),
                                        reduction=red)
        assert sess.run(out) == 0.0


def _gd(fn, shape, values):
    x = tf.placeholder(tf.float64, shape)
    y = fn(x)
    return compute_gradient_error(x, shape, y, tuple(y.shape.as_list()), x_init_value=values,
                                  delta=1e-6)


GRAD_CASES = {
    "absolute_difference": lambda x: losses.absolute_difference(LAB, x, weights=WEIGHTS_2D["full"]),
    "mean_squared_error": lambda x: losses.mean_squared_error(LAB, x, weights=2.0,
                                                              reduction=R.SUM),
    "log_loss": lambda x: losses.log_loss(BIN, x, weights=WEIGHTS_2D["row"], reduction=R.MEAN),
    "hinge_loss": lambda x: losses.hinge_loss(BIN, x, reduction=R.SUM_OVER_BATCH_SIZE),
    "huber_loss": lambda x: losses.huber_loss(LAB, x, weights=WEIGHTS_2D["col"],
                                              reduction=R.NONE),
    "sigmoid_cross_entropy": lambda x: losses.sigmoid_cross_entropy(BIN, x,
                                                                    label_smoothing=0.1),
    "softmax_cross_entropy": lambda x: losses.softmax_cross_entropy(
        ONEHOT, x, weights=np.array([1., 0., 2., 1.]), label_smoothing=0.1),
    "sparse_softmax_cross_entropy": lambda x: losses.sparse_softmax_cross_entropy(
        SPARSE, x, weights=np.array([1., 0., 2., 1.]), reduction=R.SUM),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_float64(sess, name):
    values = PRED if name in ("log_loss", "absolute_difference") else LOGITS
    # Keep the kinks of |x|, hinge and huber away from the finite-difference stencil.
    err = _gd(GRAD_CASES[name], (4, 3), values)
    assert err < 1e-6, err


def test_every_public_loss_is_gradient_checked():
    public = {n for n in losses.__all__ if n not in ("Reduction", "add_loss", "get_losses",
                                                      "get_regularization_loss",
                                                      "get_regularization_losses",
                                                      "get_total_loss",
                                                      "compute_weighted_loss",
                                                      "cosine_distance")}
    assert public == set(GRAD_CASES)


def test_cosine_distance(sess):
    a = LAB / np.linalg.norm(LAB, axis=1, keepdims=True)
    b = PRED / np.linalg.norm(PRED, axis=1, keepdims=True)
    out = losses.cosine_distance(a, b, axis=1)
    want = (1 - (a * b).sum(1)).mean()
    np.testing.assert_allclose(sess.run(out), want, rtol=1e-5)
    with pytest.raises(ValueError, match="specify 'axis'"):
        losses.cosine_distance(a, b)
