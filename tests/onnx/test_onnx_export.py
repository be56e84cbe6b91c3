"""headwater.onnx.export: exported models run in onnxruntime and match Session.run (MLP, CNN
with SAME/VALID conv and pools, batch norm in inference, elementwise/shape/reduction ops), and
unsupported graphs fail with errors naming the op, its type and the line that created it."""

import os
import sys

import numpy as np
import pytest

import headwater as tf
from headwater import layers
from headwater import onnx as hw_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

RTOL = 1e-5
ATOL = 1e-5


def _ort_run(model, feeds):
    so = ort.SessionOptions()
    so.log_severity_level = 3
    s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return s.run(None, feeds)


def _check(sess, inputs, outputs, feed_values, opset=13, rtol=RTOL, atol=ATOL, **kw):
    """Export, run in onnxruntime, compare with sess.run; returns the model."""
    model = hw_onnx.export(sess, inputs, outputs, opset=opset, **kw)
    names = [i.name for i in model.graph.input]
    got = _ort_run(model, dict(zip(names, feed_values)))
    feeds = dict(kw.get("feed_dict") or {})
    feeds.update(zip(inputs, feed_values))
    want = sess.run(list(outputs), feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        w = np.asarray(w)
        assert g.dtype == w.dtype
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    return model


@pytest.fixture
def sess():
    g = tf.Graph()
    with g.as_default(), tf.Session(graph=g) as s:
        yield s


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---- MLP -----------------------------------------------------------------------------------------


def test_mlp_tf_layers_dynamic_batch(sess):
    tf.set_random_seed(1)
    x = tf.placeholder(tf.float32, [None, 8], name="x")
    h = layers.dense(x, 16, activation=tf.nn.relu)
    h = layers.dense(h, 12, activation=tf.nn.tanh)
    logits = layers.dense(h, 5)
    probs = tf.nn.softmax(logits)
    sess.run(tf.global_variables_initializer())
    for batch in (1, 7):
        model = _check(sess, [x], [logits, probs], [_rand(batch, 8, seed=batch)])
    inp = model.graph.input[0]
    assert inp.name == "x"
    dims = inp.type.tensor_type.shape.dim
    assert dims[0].dim_param == "N" and dims[1].dim_value == 8
    assert [o.name for o in model.graph.output] == [logits.op.name, probs.op.name]
    # The weights are the session's, stored as initializers (no graph inputs for them).
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    kernel = next(v for v in tf.global_variables() if v.name == "dense/kernel:0")
    assert any(np.array_equal(a, sess.run(kernel)) for a in inits.values())


def test_mlp_matmul_bias_relu_softmax_by_name_and_dict(sess):
    x = tf.placeholder(tf.float32, [None, 4], name="inp")
    w1 = tf.Variable(_rand(4, 6, seed=1), name="w1")
    b1 = tf.Variable(_rand(6, seed=2), name="b1")
    w2 = tf.Variable(_rand(3, 6, seed=3), name="w2")  # used transposed
    h = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, w1), b1))
    y = tf.nn.softmax(tf.matmul(h, w2, transpose_b=True) + 0.5, name="probs")
    lsm = tf.nn.log_softmax(tf.matmul(h, w2, transpose_b=True))
    sess.run(tf.global_variables_initializer())
    xv = _rand(3, 4, seed=4)
    model = hw_onnx.export(sess, {"features": "inp:0"}, {"p": "probs:0", "lsm": lsm})
    assert [i.name for i in model.graph.input] == ["features"]
    assert [o.name for o in model.graph.output] == ["p", "lsm"]
    got = _ort_run(model, {"features": xv})
    want = sess.run([y, lsm], {x: xv})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)


def test_matmul_transposes_with_dynamic_operands(sess):
    a = tf.placeholder(tf.float32, [5, 3])
    b = tf.placeholder(tf.float32, [4, 5])
    y = tf.matmul(a, b, transpose_a=True, transpose_b=True)
    x = tf.placeholder(tf.float32, [2, 3, 4])
    z = tf.placeholder(tf.float32, [2, 5, 4])
    bm = tf.matmul(x, z, adjoint_b=True)
    _check(sess, [a, b, x, z], [y, bm], [_rand(5, 3), _rand(4, 5, seed=1), _rand(2, 3, 4),
                                         _rand(2, 5, 4, seed=2)])


# ---- CNN -------------------------------------------------------------------------------------


def test_small_cnn(sess):
    tf.set_random_seed(2)
    x = tf.placeholder(tf.float32, [None, 13, 11, 3], name="images")
    h = layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu)
    h = layers.conv2d(h, 6, 3, strides=2, padding="valid", activation=tf.nn.relu)  # 6x5
    h = layers.max_pooling2d(h, 2, 2, padding="same")  # 3x3
    h = layers.average_pooling2d(h, 2, 1, padding="valid")  # 2x2
    flat = layers.flatten(h)
    logits = layers.dense(flat, 10)
    sess.run(tf.global_variables_initializer())
    for batch in (1, 3):
        model = _check(sess, [x], [logits, tf.nn.softmax(logits)], [_rand(batch, 13, 11, 3)],
                       rtol=1e-4)
    # conv -> bias -> relu -> conv -> ... -> pool stays NCHW: one transpose in, one out.
    types = [n.op_type for n in model.graph.node]
    assert types.count("Transpose") == 2, types


def test_bias_and_activations_after_conv_with_fed_bias(sess):
    x = tf.placeholder(tf.float32, [2, 6, 5, 3])
    b = tf.placeholder(tf.float32, [4])
    y = tf.nn.conv2d(x, tf.constant(_rand(3, 3, 3, 4, seed=1)), [1, 1, 1, 1], "SAME")
    y = tf.nn.leaky_relu(tf.nn.bias_add(y, b), alpha=0.2)
    y = tf.nn.relu6(tf.nn.elu(y) * 3.0)
    _check(sess, [x, b], [y], [_rand(2, 6, 5, 3), _rand(4, seed=3)], rtol=1e-4)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("strides,dilations", [(1, 1), (2, 1), (3, 1), (1, 2)])
def test_conv2d_padding_strides_dilations(sess, padding, strides, dilations):
    x = tf.placeholder(tf.float32, [2, 9, 8, 3])
    w = tf.constant(_rand(3, 2, 3, 5, seed=7))
    y = tf.nn.conv2d(x, w, strides=[1, strides, strides, 1], padding=padding,
                     dilations=[1, dilations, dilations, 1])
    _check(sess, [x], [y], [_rand(2, 9, 8, 3)], rtol=1e-4)


@pytest.mark.parametrize("op", ["max", "avg"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("ksize,strides", [(2, 2), (3, 2), (3, 1), (2, 3)])
def test_pools(sess, op, padding, ksize, strides):
    x = tf.placeholder(tf.float32, [2, 7, 8, 3])
    pool = tf.nn.max_pool if op == "max" else tf.nn.avg_pool
    y = pool(x, [1, ksize, ksize, 1], [1, strides, strides, 1], padding)
    _check(sess, [x], [y], [_rand(2, 7, 8, 3)])


def test_conv_and_pool_same_with_unknown_spatial_size(sess):
    # Pads cannot be computed at export time: ONNX's SAME_UPPER pads the way TF does.
    x = tf.placeholder(tf.float32, [None, None, None, 2])
    w = tf.constant(_rand(3, 3, 2, 4, seed=3))
    y = tf.nn.conv2d(x, w, [1, 2, 2, 1], "SAME")
    p = tf.nn.avg_pool(y, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
    for shape in [(1, 7, 6, 2), (2, 10, 9, 2)]:
        _check(sess, [x], [y, p], [_rand(*shape)], rtol=1e-4)


def test_nchw_conv_bias_pool_and_depthwise(sess):
    x = tf.placeholder(tf.float32, [2, 3, 8, 7])
    w = tf.constant(_rand(3, 3, 3, 4, seed=1))
    y = tf.nn.conv2d(x, w, [1, 1, 2, 2], "SAME", data_format="NCHW")
    y = tf.nn.bias_add(y, tf.constant(_rand(4, seed=2)), data_format="NCHW")
    p = tf.nn.max_pool(y, [1, 1, 2, 2], [1, 1, 2, 2], "SAME", data_format="NCHW")
    xh = tf.placeholder(tf.float32, [2, 8, 7, 3])
    dw = tf.nn.depthwise_conv2d(xh, tf.constant(_rand(3, 3, 3, 2, seed=5)), [1, 1, 1, 1],
                                "SAME")
    _check(sess, [x, xh], [p, dw], [_rand(2, 3, 8, 7), _rand(2, 8, 7, 3, seed=9)], rtol=1e-4)


def test_flatten_with_shape_computed_from_input(sess):
    x = tf.placeholder(tf.float32, [None, 3, 4])
    flat = tf.reshape(x, tf.stack([tf.shape(x)[0], -1]))
    y = flat * 2.0
    _check(sess, [x], [y], [_rand(5, 3, 4)])


# ---- batch norm ------------------------------------------------------------------------------


@pytest.mark.parametrize("fused", [True, False])
def test_batch_norm_inference(sess, fused):
    x = tf.placeholder(tf.float32, [None, 5, 4, 3])
    h = layers.conv2d(x, 6, 3, padding="same", use_bias=False)
    h = layers.batch_normalization(h, training=False, fused=fused)
    y = tf.nn.relu(h)
    sess.run(tf.global_variables_initializer())
    # Non-trivial statistics so the normalisation is actually checked.
    for v in tf.global_variables():
        if "batch_normalization" in v.name:
            shape = v.shape.as_list()
            val = np.abs(_rand(*shape, seed=len(v.name))) + 0.5
            sess.run(v.assign(val))
    _check(sess, [x], [y], [_rand(3, 5, 4, 3)], rtol=1e-4, atol=1e-4)


def test_fused_batch_norm_nchw_op(sess):
    x = tf.placeholder(tf.float32, [2, 3, 4, 5])
    c = [tf.constant(np.abs(_rand(3, seed=i)) + 0.5) for i in range(4)]
    y, _, _ = tf.nn.fused_batch_norm(x, c[0], c[1], mean=c[2], variance=c[3],
                                     data_format="NCHW", is_training=False)
    _check(sess, [x], [y], [_rand(2, 3, 4, 5)], rtol=1e-4)


# ---- other ops -------------------------------------------------------------------------------

_UNARY = [
    ("relu6", lambda x: tf.nn.relu6(x * 4.0)),
    ("elu", tf.nn.elu),
    ("leaky_relu", lambda x: tf.nn.leaky_relu(x, alpha=0.3)),
    ("sigmoid", tf.sigmoid),
    ("tanh", tf.tanh),
    ("softplus", tf.nn.softplus),
    ("exp", tf.exp),
    ("log", lambda x: tf.log(tf.abs(x) + 0.1)),
    ("sqrt", lambda x: tf.sqrt(tf.abs(x))),
    ("rsqrt", lambda x: tf.rsqrt(tf.abs(x) + 0.5)),
    ("neg", tf.negative),
    ("abs", tf.abs),
    ("square", tf.square),
    ("selu", tf.nn.selu),
    ("arith", lambda x: (x - 1.0) / 3.0 * x + tf.maximum(x, 0.2) - tf.minimum(x, 0.1)),
    ("squared_difference", lambda x: tf.squared_difference(x, 0.5)),
    ("softmax_3d", tf.nn.softmax),
    ("log_softmax_3d", tf.nn.log_softmax),
]


@pytest.mark.parametrize("name,fn", _UNARY, ids=[n for n, _ in _UNARY])
def test_elementwise(sess, name, fn):
    x = tf.placeholder(tf.float32, [None, 3, 4])
    _check(sess, [x], [fn(x)], [_rand(2, 3, 4)])


@pytest.mark.parametrize("opset", [13, 18])
def test_reductions_and_shape_ops(sess, opset):
    x = tf.placeholder(tf.float32, [None, 3, 4], name="x")
    outs = [
        tf.reduce_mean(x, axis=[1, 2]),
        tf.reduce_sum(x, axis=-1, keepdims=True),
        tf.reduce_max(x, axis=1),
        tf.reduce_min(x, axis=[0]),
        tf.reduce_prod(x, axis=2),
        tf.reduce_sum(x, axis=[]),
        tf.transpose(x, [2, 0, 1]),
        tf.concat([x, x * 2.0], axis=-1),
        tf.stack([x, x], axis=1),
        tf.expand_dims(x, -1),
        tf.squeeze(tf.expand_dims(x, 1), [1]),
        tf.cast(x * 10.0, tf.int32),
        tf.argmax(x, axis=2),
        tf.argmax(x, axis=1, output_type=tf.int32),
        tf.reshape(x, [-1, 2, 6]),
        tf.identity(x),
    ]
    _check(sess, [x], outs, [_rand(2, 3, 4)], opset=opset)


def test_frozen_placeholders_and_folded_subgraphs(sess):
    x = tf.placeholder(tf.float32, [None, 3])
    scale = tf.placeholder(tf.float32, [], name="scale")
    flag = tf.placeholder_with_default(tf.constant(2.0), [], name="flag")
    v = tf.Variable(_rand(3, seed=1))
    # `tf.sqrt(v * v + 1)` depends only on a variable: folded into one initializer.
    y = x * scale * flag + tf.sqrt(v * v + 1.0)
    sess.run(tf.global_variables_initializer())
    model = hw_onnx.export(sess, [x], [y], feed_dict={scale: 3.0})
    assert {n.op_type for n in model.graph.node} == {"Mul", "Add"}
    xv = _rand(4, 3)
    got = _ort_run(model, {model.graph.input[0].name: xv})[0]
    np.testing.assert_allclose(got, sess.run(y, {x: xv, scale: 3.0}), rtol=RTOL)
    # A PlaceholderWithDefault listed in feeds becomes a model input.
    _check(sess, [x, flag], [y], [xv, np.array(5.0, np.float32)], feed_dict={scale: 3.0})


def test_dropout_rate_frozen_to_zero(sess):
    x = tf.placeholder(tf.float32, [None, 6])
    rate = tf.placeholder_with_default(0.5, [], name="rate")
    y = tf.nn.dropout(x, rate=rate) + 1.0
    xv = _rand(3, 6)
    model = hw_onnx.export(sess, [x], [y], feed_dict={rate: 0.0})
    got = _ort_run(model, {model.graph.input[0].name: xv})[0]
    np.testing.assert_allclose(got, xv + 1.0, rtol=RTOL)
    # TF1 tutorials' keep_prob placeholder, frozen to 1.0 at export.
    keep_prob = tf.placeholder(tf.float32, name="keep_prob")
    z = layers.dense(tf.nn.dropout(x, keep_prob), 2)
    sess.run(tf.global_variables_initializer())
    _check(sess, [x], [z], [xv], feed_dict={keep_prob: 1.0})


def test_writes_file_atomically(sess, tmp_path):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.nn.relu(x)
    path = tmp_path / "model.onnx"
    model = hw_onnx.export(sess, x, y, path=path)
    assert os.listdir(tmp_path) == ["model.onnx"]
    loaded = onnx.load(str(path))
    assert loaded == model
    assert loaded.opset_import[0].version == 13
    xv = _rand(3, 2)
    np.testing.assert_allclose(_ort_run(loaded, {"x": xv})[0], np.maximum(xv, 0))


# ---- errors ----------------------------------------------------------------------------------


def test_unsupported_op_names_op_type_and_line(sess):
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.cumsum(x, axis=1, name="running")  # no converter
    line = sys._getframe().f_lineno - 1
    z = tf.nn.relu(y)
    with pytest.raises(hw_onnx.ConversionError) as e:
        hw_onnx.export(sess, [x], [z])
    msg = str(e.value)
    assert "'running'" in msg and "Cumsum" in msg
    assert "%s:%d" % (__file__, line) in msg
    assert "supported_op_types" in msg
    assert "Cumsum" not in hw_onnx.supported_op_types()
    assert "Conv2D" in hw_onnx.supported_op_types()


def test_unfed_placeholder_and_training_batch_norm_errors(sess):
    x = tf.placeholder(tf.float32, [None, 4])
    kp = tf.placeholder(tf.float32, [], name="keep_prob")
    with pytest.raises(hw_onnx.ConversionError, match="'keep_prob'.*feeds"):
        hw_onnx.export(sess, [x], [x * kp])
    img = tf.placeholder(tf.float32, [2, 4, 4, 3])
    y, _, _ = tf.nn.fused_batch_norm(img, tf.ones([3]), tf.zeros([3]), is_training=True)
    with pytest.raises(hw_onnx.ConversionError, match="is_training=False"):
        hw_onnx.export(sess, [img], [y])
    with pytest.raises(ValueError, match="opset"):
        hw_onnx.export(sess, [x], [x * 2.0], opset=9)
    r = tf.random_uniform([4]) + 1.0
    with pytest.raises(hw_onnx.ConversionError, match="random"):
        hw_onnx.export(sess, [x], [x + r])


def test_missing_onnx_package_is_a_clear_import_error(sess, monkeypatch):
    x = tf.placeholder(tf.float32, [None, 4])
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match="pip install"):
        hw_onnx.export(sess, [x], [x * 2.0])
