"""tf.metrics: streaming values over several update batches against numpy, variable names and
collections, reset via local_variables_initializer, weights, and TF1's AUC numbers."""

import numpy as np
import pytest

import headwater as tf
from headwater import metrics


@pytest.fixture
def sess():
    g = tf.Graph()
    with g.as_default(), tf.Session(graph=g) as s:
        yield s


def _names(vs):
    return [v.name for v in vs]


RS = np.random.RandomState(0)
BATCHES = [(RS.randint(0, 3, 7), RS.randint(0, 3, 7), RS.rand(7)) for _ in range(4)]


def _stream(sess, value, update, feeds):
    sess.run(tf.local_variables_initializer())
    outs = [sess.run(update, f) for f in feeds]
    return outs, sess.run(value)


def test_accuracy_names_collections_and_stream(sess):
    lab_t = tf.placeholder(tf.int64, [None])
    p = tf.placeholder(tf.int64, [None])
    acc, up = metrics.accuracy(lab_t, p, metrics_collections=["mc"], updates_collections=["uc"])
    assert acc.name == "accuracy/value:0" and up.name == "accuracy/update_op:0"
    assert _names(tf.local_variables()) == ["accuracy/total:0", "accuracy/count:0"]
    assert _names(tf.get_collection(tf.GraphKeys.METRIC_VARIABLES)) == \
        ["accuracy/total:0", "accuracy/count:0"]
    assert tf.global_variables() == [] and tf.trainable_variables() == []
    assert tf.get_collection("mc") == [acc] and tf.get_collection("uc") == [up]
    feeds = [{lab_t: a, p: b} for a, b, _ in BATCHES]
    outs, final = _stream(sess, acc, up, feeds)
    for i in range(len(BATCHES)):
        la = np.concatenate([b[0] for b in BATCHES[:i + 1]])
        pa = np.concatenate([b[1] for b in BATCHES[:i + 1]])
        assert outs[i] == pytest.approx((la == pa).mean(), rel=1e-6)
    assert final == pytest.approx(outs[-1])
    # Re-initialising the local variables resets the metric.
    sess.run(tf.local_variables_initializer())
    assert sess.run(acc) == 0.0
    a2, _ = metrics.accuracy(lab_t, p)
    assert a2.name == "accuracy_1/value:0"
    assert "accuracy_1/total:0" in _names(tf.local_variables())


def test_weighted_accuracy_and_mean(sess):
    lab_t = tf.placeholder(tf.int32, [None, 1])        # [batch, 1] labels squeeze, as TF1
    p = tf.placeholder(tf.int32, [None])
    w = tf.placeholder(tf.float32, [None])
    acc, up = metrics.accuracy(lab_t, p, weights=w)
    m, mup = metrics.mean(tf.cast(p, tf.float32), weights=w)
    assert m.name == "mean/value:0"
    sess.run(tf.local_variables_initializer())
    for a, b, c in BATCHES:
        sess.run([up, mup], {lab_t: a[:, None], p: b, w: c})
    la = np.concatenate([b[0] for b in BATCHES])
    pa = np.concatenate([b[1] for b in BATCHES])
    wa = np.concatenate([b[2] for b in BATCHES])
    assert sess.run(acc) == pytest.approx(((la == pa) * wa).sum() / wa.sum(), rel=1e-5)
    assert sess.run(m) == pytest.approx((pa * wa).sum() / wa.sum(), rel=1e-5)


def test_mean_broadcast_weights_and_empty(sess):
    v = tf.placeholder(tf.float32, [None, 3])
    m, up = metrics.mean(v, weights=tf.constant([[1.0, 0.0, 2.0]]))
    sess.run(tf.local_variables_initializer())
    assert sess.run(m) == 0.0          # nothing seen: 0, not nan
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert sess.run(up, {v: x}) == pytest.approx((0 + 2 * 2 + 3 + 2 * 5) / 6)
    m2, up2 = metrics.mean(v)
    sess.run(tf.local_variables_initializer())
    sess.run(up2, {v: x})
    assert sess.run(up2, {v: x[:1]}) == pytest.approx(np.concatenate([x, x[:1]]).mean())


def test_regression_metrics(sess):
    lab_t = tf.placeholder(tf.float32, [None])
    p = tf.placeholder(tf.float32, [None])
    mse, mse_up = metrics.mean_squared_error(lab_t, p)
    mae, mae_up = metrics.mean_absolute_error(lab_t, p)
    rmse, rmse_up = metrics.root_mean_squared_error(lab_t, p)
    assert _names(tf.local_variables())[:2] == ["mean_squared_error/total:0",
                                                "mean_squared_error/count:0"]
    sess.run(tf.local_variables_initializer())
    rs = np.random.RandomState(1)
    ls, ps = rs.randn(3, 5), rs.randn(3, 5)
    for a, b in zip(ls, ps):
        sess.run([mse_up, mae_up, rmse_up], {lab_t: a, p: b})
    d = (ls - ps).ravel()
    assert sess.run(mse) == pytest.approx((d ** 2).mean(), rel=1e-5)
    assert sess.run(mae) == pytest.approx(np.abs(d).mean(), rel=1e-5)
    assert sess.run(rmse) == pytest.approx(np.sqrt((d ** 2).mean()), rel=1e-5)


def test_counts_precision_recall(sess):
    lab_t = tf.placeholder(tf.int64, [None])
    p = tf.placeholder(tf.int64, [None])
    w = tf.placeholder(tf.float32, [None])
    ops = {
        "tp": metrics.true_positives(lab_t, p, weights=w),
        "fp": metrics.false_positives(lab_t, p, weights=w),
        "fn": metrics.false_negatives(lab_t, p, weights=w),
        "tn": metrics.true_negatives(lab_t, p, weights=w),
        "precision": metrics.precision(lab_t, p, weights=w),
        "recall": metrics.recall(lab_t, p, weights=w),
    }
    names = _names(tf.local_variables())
    assert names[:4] == ["true_positives/count:0", "false_positives/count:0",
                         "false_negatives/count:0", "true_negatives/count:0"]
    assert names[4:] == ["precision/true_positives/count:0",
                         "precision/false_positives/count:0", "recall/true_positives/count:0",
                         "recall/false_negatives/count:0"]
    assert ops["precision"][0].name == "precision/value:0"
    sess.run(tf.local_variables_initializer())
    assert sess.run(ops["precision"][0]) == 0.0 and sess.run(ops["recall"][0]) == 0.0
    for a, b, c in BATCHES:
        sess.run([u for _, u in ops.values()], {lab_t: (a > 0), p: (b > 1), w: c})
    la = np.concatenate([b[0] for b in BATCHES]) > 0
    pa = np.concatenate([b[1] for b in BATCHES]) > 1
    wa = np.concatenate([b[2] for b in BATCHES])
    want = {"tp": (la & pa), "fp": (~la & pa), "fn": (la & ~pa), "tn": (~la & ~pa)}
    got = sess.run({k: v[0] for k, v in ops.items()})
    for k, mask in want.items():
        assert got[k] == pytest.approx((mask * wa).sum(), rel=1e-5)
    tp, fp, fn = (want[k] @ wa for k in ("tp", "fp", "fn"))
    assert got["precision"] == pytest.approx(tp / (tp + fp), rel=1e-5)
    assert got["recall"] == pytest.approx(tp / (tp + fn), rel=1e-5)


def _np_auc(labels, preds, weights, n, curve="ROC", method="trapezoidal"):
    """numpy oracle of TF1's bucketed AUC."""
    th = np.array([-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + 1e-7])
    pos = preds[None, :] > th[:, None]
    lab = labels[None, :].astype(bool)
    w = weights[None, :]
    tp, fn = (w * (lab & pos)).sum(1), (w * (lab & ~pos)).sum(1)
    tn, fp = (w * (~lab & ~pos)).sum(1), (w * (~lab & pos)).sum(1)
    eps = 1e-6
    rec = (tp + eps) / (tp + fn + eps)
    if curve == "ROC":
        x, y = fp / (fp + tn + eps), rec
    else:
        x, y = rec, (tp + eps) / (tp + fp + eps)
    h = {"trapezoidal": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
         "majoring": np.maximum(y[:-1], y[1:])}[method]
    return float(((x[:-1] - x[1:]) * h).sum())


# The same data run through tensorflow.compat.v1 2.15 tf.metrics.auc (3 update batches).
TF1_AUC = {
    ("ROC", "trapezoidal", 200): 0.9241273403167725,
    ("ROC", "trapezoidal", 7): 0.917177677154541,
    ("ROC", "minoring", 200): 0.9224734306335449,
    ("ROC", "minoring", 7): 0.877366304397583,
    ("ROC", "majoring", 200): 0.9257813096046448,
    ("ROC", "majoring", 7): 0.956989049911499,
    ("ROC", "careful_interpolation", 7): 0.917177677154541,
    ("PR", "trapezoidal", 200): 0.9111219048500061,
    ("PR", "trapezoidal", 7): 0.904946506023407,
    ("PR", "minoring", 7): 0.8688625693321228,
    ("PR", "majoring", 7): 0.9410305023193359,
    ("PR", "careful_interpolation", 200): 0.9110931158065796,
    ("PR", "careful_interpolation", 7): 0.8982514142990112,
}


def _auc_data():
    rs = np.random.RandomState(0)
    lab = rs.rand(3, 40) > 0.6
    pred = np.clip(lab * 0.3 + rs.rand(3, 40) * 0.7, 0, 1).astype(np.float32)
    w = rs.rand(3, 40).astype(np.float32)
    return lab, pred, w


def test_auc_matches_tf1_and_numpy(sess):
    lab, pred, w = _auc_data()
    lab_t = tf.placeholder(tf.bool, [None])
    p = tf.placeholder(tf.float32, [None])
    ww = tf.placeholder(tf.float32, [None])
    outs = {k: metrics.auc(lab_t, p, weights=ww, num_thresholds=k[2], curve=k[0],
                           summation_method=k[1]) for k in TF1_AUC}
    first = next(iter(outs.values()))
    assert first[0].name == "auc/value:0" and first[1].name == "auc/update_op:0"
    assert _names(tf.local_variables())[:4] == ["auc/true_positives:0",
                                                "auc/false_negatives:0",
                                                "auc/true_negatives:0",
                                                "auc/false_positives:0"]
    sess.run(tf.local_variables_initializer())
    for i in range(3):
        sess.run([u for _, u in outs.values()], {lab_t: lab[i], p: pred[i], ww: w[i]})
    for k, (v, _) in outs.items():
        got = sess.run(v)
        assert got == pytest.approx(TF1_AUC[k], abs=2e-6), k
        if k[1] != "careful_interpolation":
            assert got == pytest.approx(_np_auc(lab.ravel(), pred.ravel(), w.ravel(), k[2],
                                                k[0], k[1]), abs=2e-6), k


def test_auc_perfect_and_unweighted(sess):
    lab_t = tf.constant([True, False, True, False])
    a, up = metrics.auc(lab_t, tf.constant([0.9, 0.1, 0.8, 0.3]))
    sess.run(tf.local_variables_initializer())
    assert sess.run(up) == pytest.approx(1.0, abs=1e-5)
    b, upb = metrics.auc(tf.constant([1, 0, 1, 1]), tf.constant([0.9, 0.3, 0.2, 0.8]))
    sess.run(tf.local_variables_initializer())
    assert sess.run(upb) == pytest.approx(2 / 3, abs=1e-5)


def test_auc_errors(sess):
    with pytest.raises(ValueError, match="curve must be either ROC or PR, XY unknown"):
        metrics.auc([True], [0.5], curve="XY")
    with pytest.raises(ValueError, match="Invalid summation_method: bogus"):
        metrics.auc([True], [0.5], summation_method="bogus")
    p = tf.placeholder(tf.float32, [None])
    _, up = metrics.auc(tf.constant([True, False]), p)
    sess.run(tf.local_variables_initializer())
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"predictions must be in \[0, 1\]"):
        sess.run(up, {p: [0.5, 1.5]})
