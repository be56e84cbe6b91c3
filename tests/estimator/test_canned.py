"""Canned estimators: the Getting Started LinearRegressor, classifiers, DNN, wide-and-deep."""

import os

import numpy as np
import pytest

import headwater as tf
from headwater import estimator as est
from headwater import feature_column as fc
from headwater.estimator.inputs import numpy_input_fn

QUIET = dict(log_step_count_steps=None, save_summary_steps=None, tf_random_seed=1)


def test_getting_started_linear_regressor(tmp_path):
    e = est.LinearRegressor(feature_columns=[fc.numeric_column("x", shape=[1])],
                            model_dir=str(tmp_path))
    x_train, y_train = np.array([1., 2., 3., 4.]), np.array([0., -1., -2., -3.])
    e.train(numpy_input_fn({"x": x_train}, y_train, batch_size=4, num_epochs=None,
                           shuffle=True), steps=1000)
    m = e.evaluate(numpy_input_fn({"x": np.array([2., 5., 8., 1.])},
                                  np.array([-1.01, -4.1, -7, 0.]), batch_size=4,
                                  num_epochs=1000, shuffle=False))
    assert set(m) == {"loss", "average_loss", "label/mean", "prediction/mean", "global_step"}
    assert abs(m["average_loss"] - 0.00254) < 1e-3 and m["global_step"] == 1000
    preds = list(e.predict(numpy_input_fn({"x": np.array([5., 6., 0.])}, shuffle=False)))
    np.testing.assert_allclose([p["predictions"][0] for p in preds], [-4, -5, 1], atol=0.01)
    names = e.get_variable_names()
    assert "linear/linear_model/x/weights" in names
    assert "linear/linear_model/bias_weights" in names


def _blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 2)) + np.array([[0, 0], [4, 0], [0, 4]])[y]
    return x.astype(np.float32), y


def test_binary_linear_classifier_predictions_and_metrics(tmp_path):
    x, y = _blobs()
    keep = y < 2
    x, y = x[keep], y[keep]
    e = est.LinearClassifier([fc.numeric_column("x", shape=[2])], model_dir=str(tmp_path),
                             config=est.RunConfig(**QUIET))
    e.train(numpy_input_fn({"x": x}, y, batch_size=32, num_epochs=None, shuffle=True),
            steps=200)
    m = e.evaluate(numpy_input_fn({"x": x}, y, batch_size=50, shuffle=False))
    for k in ("accuracy", "auc", "average_loss", "loss", "precision", "recall", "global_step"):
        assert k in m
    assert m["accuracy"] > 0.95 and m["auc"] > 0.95
    p = next(e.predict(numpy_input_fn({"x": x[:1]}, shuffle=False)))
    assert set(p) == {"logits", "logistic", "probabilities", "class_ids", "classes"}
    assert p["class_ids"].dtype == np.int64 and p["classes"][0] in (b"0", b"1", "0", "1")
    np.testing.assert_allclose(p["probabilities"].sum(), 1, rtol=1e-6)


def test_dnn_classifier_multiclass_names(tmp_path):
    x, y = _blobs()
    e = est.DNNClassifier(hidden_units=[8, 4], feature_columns=[fc.numeric_column("x", [2])],
                          n_classes=3, model_dir=str(tmp_path), config=est.RunConfig(**QUIET),
                          optimizer=tf.train.AdamOptimizer(0.05))
    e.train(numpy_input_fn({"x": x}, y, batch_size=32, num_epochs=None, shuffle=True),
            steps=150)
    m = e.evaluate(numpy_input_fn({"x": x}, y, batch_size=64, shuffle=False))
    assert m["accuracy"] > 0.9
    names = e.get_variable_names()
    for n in ("dnn/hiddenlayer_0/kernel", "dnn/hiddenlayer_0/bias", "dnn/hiddenlayer_1/kernel",
              "dnn/logits/kernel", "dnn/logits/bias"):
        assert n in names
    assert e.get_variable_value("dnn/hiddenlayer_0/kernel").shape == (2, 8)
    p = next(e.predict(numpy_input_fn({"x": x[:3]}, shuffle=False)))
    assert p["probabilities"].shape == (3,) and p["class_ids"].shape == (1,)


def test_dnn_regressor_and_wide_deep(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 1)).astype(np.float32)
    c = rng.integers(0, 2, 100)
    y = 2 * x[:, 0] + 3 * c
    feats = {"x": x, "c": c}
    r = est.DNNRegressor([16], [fc.numeric_column("x")], model_dir=str(tmp_path / "r"),
                         config=est.RunConfig(**QUIET))
    r.train(numpy_input_fn(feats, y, batch_size=20, num_epochs=None, shuffle=True), steps=20)
    assert "predictions" in next(r.predict(numpy_input_fn(feats, shuffle=False)))
    w = est.DNNLinearCombinedClassifier(
        model_dir=str(tmp_path / "w"), config=est.RunConfig(**QUIET),
        linear_feature_columns=[fc.categorical_column_with_identity("c", 2)],
        dnn_feature_columns=[fc.numeric_column("x")], dnn_hidden_units=[4])
    w.train(numpy_input_fn(feats, c, batch_size=20, num_epochs=2, shuffle=True))
    assert w.get_variable_value("global_step") == 10
    names = w.get_variable_names()
    assert "linear/linear_model/c/weights" in names and "dnn/logits/kernel" in names


def test_unknown_feature_key_and_missing_labels(tmp_path):
    e = est.LinearRegressor([fc.numeric_column("nope")], model_dir=str(tmp_path),
                            config=est.RunConfig(**QUIET))
    with pytest.raises(ValueError, match="Feature 'nope' is not in features dictionary"):
        e.train(numpy_input_fn({"x": np.ones(4)}, np.ones(4), shuffle=True), steps=1)
    e = est.LinearRegressor([fc.numeric_column("x")], model_dir=str(tmp_path / "b"),
                            config=est.RunConfig(**QUIET))
    with pytest.raises(ValueError, match="You must provide a labels Tensor"):
        e.train(numpy_input_fn({"x": np.ones(4)}, shuffle=True), steps=1)
    with pytest.raises(ValueError, match="Unsupported optimizer name"):
        est.LinearRegressor([fc.numeric_column("x")], optimizer="Nope",
                            config=est.RunConfig(**QUIET)).train(
            numpy_input_fn({"x": np.ones(4)}, np.ones(4), shuffle=True), steps=1)


def test_export_saved_model_and_load(tmp_path):
    from headwater.estimator import export

    e = est.LinearRegressor([fc.numeric_column("x")], model_dir=str(tmp_path / "m"),
                            config=est.RunConfig(**QUIET))
    e.train(numpy_input_fn({"x": np.array([1., 2.])}, np.array([2., 4.]), shuffle=True),
            steps=5)
    fn = export.build_raw_serving_input_receiver_fn({"x": tf.placeholder(tf.float32, [None])})
    path = e.export_saved_model(str(tmp_path / "export"), fn).decode()
    assert os.path.isdir(path)
    with tf.Graph().as_default(), tf.Session() as s:
        tf.saved_model.loader.load(s, ["serve"], path)
        out = s.run("linear/linear_model/weighted_sum:0", {"x:0": [1., 2.]})
        assert out.shape == (2, 1)
