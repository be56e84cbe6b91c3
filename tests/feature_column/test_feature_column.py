"""feature_column: dense and categorical columns, input_layer and linear_model as TF1."""

import numpy as np
import pytest

import headwater as tf
from headwater import feature_column as fc


def _run(t, init=True):
    with tf.Session() as s:
        if init:
            s.run(tf.global_variables_initializer())
        return s.run(t)


def test_numeric_and_bucketized_input_layer():
    with tf.Graph().as_default():
        feats = {"x": tf.constant([1., 3., 5.], tf.float64), "v": tf.constant([[1, 2], [3, 4],
                                                                               [5, 6]])}
        x = fc.numeric_column("x")
        v = fc.numeric_column("v", shape=[2], normalizer_fn=lambda t: t * 2)
        b = fc.bucketized_column(x, [2., 4.])
        out = fc.input_layer(feats, [x, v, b])
        assert out.dtype == tf.float32 and out.shape.as_list() == [3, 6]
        # sorted by name: v, x, x_bucketized
        np.testing.assert_array_equal(_run(out, False), [[2, 4, 1, 1, 0, 0], [6, 8, 3, 0, 1, 0],
                                                         [10, 12, 5, 0, 0, 1]])


def test_categorical_indicator_columns():
    with tf.Graph().as_default():
        feats = {"c": tf.constant(["b", "zz", "a"]), "i": tf.constant([[0, 2], [4, -1],
                                                                       [9, 1]])}
        c = fc.categorical_column_with_vocabulary_list("c", ["a", "b"])
        c_oov = fc.categorical_column_with_vocabulary_list("c", ["a", "b"], num_oov_buckets=2)
        i = fc.categorical_column_with_identity("i", 5)
        out = _run([fc.input_layer(feats, [fc.indicator_column(c)]),
                    fc.input_layer(feats, [fc.indicator_column(i)]),
                    fc.input_layer(feats, [fc.indicator_column(c_oov)])], False)
        np.testing.assert_array_equal(out[0], [[0, 1], [0, 0], [1, 0]])
        np.testing.assert_array_equal(out[1], [[1, 0, 1, 0, 0], [0, 0, 0, 0, 1],
                                               [0, 1, 0, 0, 0]])
        assert out[2][1, 2:].sum() == 1 and out[2][1, :2].sum() == 0


def test_hash_bucket_is_deterministic_and_in_range():
    with tf.Graph().as_default():
        h = fc.categorical_column_with_hash_bucket("h", 7)
        vals = ["apple", "pear", "apple", "kiwi"]
        out = _run(fc.input_layer({"h": tf.constant(vals)}, [fc.indicator_column(h)]), False)
        assert out.shape == (4, 7) and (out.sum(1) == 1).all()
        np.testing.assert_array_equal(out[0], out[2])


def test_embedding_column_mean_combiner_and_names():
    with tf.Graph().as_default():
        i = fc.categorical_column_with_identity("i", 4)
        e = fc.embedding_column(i, 3, initializer=tf.constant_initializer(
            np.arange(12.).reshape(4, 3)))
        out = fc.input_layer({"i": tf.constant([[0, 2], [3, -1]])}, [e])
        names = [v.op.name for v in tf.global_variables()]
        assert names == ["input_layer/i_embedding/embedding_weights"]
        np.testing.assert_allclose(_run(out), [[3, 4, 5], [9, 10, 11]])


def test_linear_model_names_and_values():
    with tf.Graph().as_default():
        feats = {"x": tf.constant([[1.], [2.]]), "c": tf.constant(["a", "b"])}
        x = fc.numeric_column("x")
        c = fc.categorical_column_with_vocabulary_list("c", ["a", "b"])
        cr = fc.crossed_column(["c", fc.bucketized_column(x, [1.5])], 10)
        with tf.variable_scope("linear"):
            out = fc.linear_model(feats, [x, c, cr])
        names = sorted(v.op.name for v in tf.global_variables())
        assert names == ["linear/linear_model/bias_weights",
                         "linear/linear_model/c/weights",
                         "linear/linear_model/c_X_x_bucketized/weights",
                         "linear/linear_model/x/weights"]
        assert out.shape.as_list() == [2, 1]
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            s.run([tf.assign(tf.global_variables()[1 if False else 0], [[2.]])
                   if tf.global_variables()[0].op.name.endswith("x/weights") else tf.no_op()])
            w = [v for v in tf.global_variables() if v.op.name.endswith("c/weights")][0]
            xw = [v for v in tf.global_variables() if v.op.name.endswith("x/weights")][0]
            b = [v for v in tf.global_variables() if v.op.name.endswith("bias_weights")][0]
            s.run([tf.assign(w, [[10.], [20.]]), tf.assign(xw, [[2.]]), tf.assign(b, [0.5])])
            np.testing.assert_allclose(s.run(out), [[12.5], [24.5]])


def test_errors():
    with tf.Graph().as_default():
        c = fc.categorical_column_with_identity("i", 3)
        with pytest.raises(ValueError, match="must be a _DenseColumn"):
            fc.input_layer({"i": tf.constant([1])}, [c])
        with pytest.raises(ValueError, match="Feature 'nope' is not in features dictionary"):
            fc.input_layer({"x": tf.constant([1.])}, [fc.numeric_column("nope")])
        with pytest.raises(ValueError, match="boundaries must be a sorted list"):
            fc.bucketized_column(fc.numeric_column("x"), [3., 1.])
        with pytest.raises(ValueError, match="Duplicate feature column name"):
            fc.input_layer({"x": tf.constant([1.])}, [fc.numeric_column("x")] * 2)
        with pytest.raises(ValueError, match="hash_bucket_size"):
            fc.categorical_column_with_hash_bucket("h", 0)
