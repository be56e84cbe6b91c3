"""tf.nn ops: values against numpy references, static shapes and dtypes, names, errors."""

import numpy as np
import pytest

import headwater as tf
from headwater import errors, nn

RS = np.random.RandomState(42)


@pytest.fixture
def sess():
    with tf.Graph().as_default() as g, tf.Session(graph=g) as s:
        yield s


# ---- numpy references --------------------------------------------------------------------------


def _same_pads(size, k, s, d):
    eff = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return out, total // 2


def ref_conv2d(x, w, strides, dilations, padding):
    """Naive loop convolution (NHWC, HWIO filter)."""
    n, h, wd, _ = x.shape
    kh, kw, _, co = w.shape
    (sh, sw), (dh, dw) = strides, dilations
    if padding == "SAME":
        oh, pt = _same_pads(h, kh, sh, dh)
        ow, pl = _same_pads(wd, kw, sw, dw)
    else:
        oh = (h - (kh - 1) * dh - 1) // sh + 1
        ow = (wd - (kw - 1) * dw - 1) // sw + 1
        pt = pl = 0
    out = np.zeros((n, oh, ow, co))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    r, c = i * sh + a * dh - pt, j * sw + b * dw - pl
                    if 0 <= r < h and 0 <= c < wd:
                        out[:, i, j] += x[:, r, c] @ w[a, b]
    return out


def ref_depthwise(x, w, strides, dilations, padding):
    c, m = w.shape[2], w.shape[3]
    outs = [ref_conv2d(x[..., ci:ci + 1], w[:, :, ci:ci + 1, :], strides, dilations, padding)
            for ci in range(c)]
    return np.concatenate(outs, axis=-1).reshape(outs[0].shape[:3] + (c * m,))


def ref_pool(x, k, s, padding, kind):
    n, h, w, c = x.shape
    if padding == "SAME":
        oh, pt = _same_pads(h, k[0], s[0], 1)
        ow, pl = _same_pads(w, k[1], s[1], 1)
    else:
        oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
        pt = pl = 0
    out = np.zeros((n, oh, ow, c), x.dtype)
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s[0] - pt, j * s[1] - pl
            win = x[:, max(r0, 0):r0 + k[0], max(c0, 0):c0 + k[1], :]
            out[:, i, j] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return out


def ref_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---- activations -------------------------------------------------------------------------------


ACTIVATIONS = [
    (nn.relu, "Relu", lambda x: np.maximum(x, 0)),
    (nn.relu6, "Relu6", lambda x: np.clip(x, 0, 6)),
    (nn.elu, "Elu", lambda x: np.where(x > 0, x, np.expm1(x))),
    (nn.selu, "Selu", lambda x: 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(x))),
    (nn.leaky_relu, "LeakyRelu", lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.softplus, "Softplus", lambda x: np.log1p(np.exp(x))),
    (nn.softsign, "Softsign", lambda x: x / (1 + np.abs(x))),
]


@pytest.mark.parametrize("fn,op_type,ref", ACTIVATIONS, ids=[a[1] for a in ACTIVATIONS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations(sess, fn, op_type, ref, dtype):
    x = np.array([-8.0, -1.5, -0.1, 0.0, 0.3, 2.0, 5.9, 7.5], dtype=dtype)
    p = tf.placeholder(dtype, [None])
    y = fn(p)
    assert y.op.type == op_type
    assert y.name == op_type + ":0"
    assert y.dtype == tf.as_dtype(dtype)
    assert y.shape.as_list() == [None]
    out = sess.run(y, {p: x})
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref(x.astype(np.float64)), rtol=1e-6, atol=1e-6)


def test_activation_extremes_are_finite(sess):
    x = np.array([-1e4, -100.0, 100.0, 1e4], np.float32)
    np.testing.assert_allclose(sess.run(nn.softplus(x)), [0, 0, 100, 1e4], atol=1e-30)
    assert np.all(np.isfinite(sess.run(nn.elu(x))))


def test_relu_int_and_dtype_errors(sess):
    assert sess.run(nn.relu(tf.constant([-3, 4]))).tolist() == [0, 4]
    with pytest.raises(TypeError, match="Value passed to parameter 'features' has DataType "
                                        "bool not in list of allowed values"):
        nn.relu(tf.constant([True]))
    with pytest.raises(TypeError, match="DataType int32 not in list of allowed values: "
                                        "float16, bfloat16, float32, float64"):
        nn.elu(tf.constant([1]))


def test_leaky_relu_alpha_and_crelu_swish(sess):
    x = np.array([[-2.0, 3.0]], np.float32)
    np.testing.assert_allclose(sess.run(nn.leaky_relu(x, alpha=0.5)), [[-1.0, 3.0]])
    c = nn.crelu(x)
    assert c.shape.as_list() == [1, 4]
    np.testing.assert_allclose(sess.run(c), [[0, 3, 2, 0]])
    np.testing.assert_allclose(sess.run(nn.swish(x)), x / (1 + np.exp(-x)), rtol=1e-6)
    assert nn.sigmoid is tf.sigmoid and nn.tanh is tf.tanh


# ---- softmax -----------------------------------------------------------------------------------


def test_softmax_values_stable_and_axis(sess):
    x = RS.randn(2, 3, 4).astype(np.float32) * 3
    x[0, 0, 0] = 1000.0
    y = nn.softmax(x)
    assert y.op.type == "Softmax" and y.shape.as_list() == [2, 3, 4]
    np.testing.assert_allclose(sess.run(y), ref_softmax(x.astype(np.float64)), rtol=1e-5,
                               atol=1e-7)
    y1 = nn.softmax(x, axis=1)
    assert y1.shape.as_list() == [2, 3, 4]
    np.testing.assert_allclose(sess.run(y1), ref_softmax(x.astype(np.float64), 1), rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(sess.run(nn.softmax(x, dim=0)),
                               ref_softmax(x.astype(np.float64), 0), rtol=1e-5, atol=1e-7)
    ls = nn.log_softmax(x)
    assert ls.op.type == "LogSoftmax"
    with np.errstate(divide="ignore"):
        ref = np.log(ref_softmax(x.astype(np.float64)))
    out = sess.run(ls)
    finite = np.isfinite(ref)
    np.testing.assert_allclose(out[finite], ref[finite], rtol=1e-5, atol=1e-5)
    assert out[0, 0, 1] < -900  # no -inf: computed as x - logsumexp


def test_softmax_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Shape must be at least rank 1 but is rank 0"):
            nn.softmax(tf.constant(1.0))
        with pytest.raises(TypeError, match="parameter 'logits' has DataType int32"):
            nn.softmax(tf.constant([1]))
        with pytest.raises(errors.InvalidArgumentError, match=r"`dim` must be in the range "
                                                              r"\[-2, 2\)"):
            nn.softmax(tf.ones([2, 3]), axis=3)


# ---- bias_add, xw_plus_b, l2 -------------------------------------------------------------------


def test_bias_add_nhwc_nchw(sess):
    x = RS.randn(2, 3, 4, 5).astype(np.float32)
    b = RS.randn(5).astype(np.float32)
    y = nn.bias_add(x, b)
    assert y.op.type == "BiasAdd" and y.name == "BiasAdd:0"
    np.testing.assert_allclose(sess.run(y), x + b, rtol=1e-6)
    b3 = RS.randn(3).astype(np.float32)
    y2 = nn.bias_add(x, b3, data_format="NCHW")
    assert y2.shape.as_list() == [2, 3, 4, 5]
    np.testing.assert_allclose(sess.run(y2), x + b3[:, None, None], rtol=1e-6)
    p = tf.placeholder(tf.float32, [None, None])
    y3 = nn.bias_add(p, [1.0, 2.0])
    assert y3.shape.as_list() == [None, 2]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Must provide as many biases"):
        sess.run(y3, {p: np.ones((2, 3))})


def test_bias_add_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 4 and 3 for "
                                             r"'BiasAdd' \(op: 'BiasAdd'\) with input shapes: "
                                             r"\[\?,4\], \[3\]"):
            nn.bias_add(x, tf.ones([3]))
        with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
            nn.bias_add(x, tf.ones([2, 4]))
        with pytest.raises(ValueError, match="at least rank 2"):
            nn.bias_add(tf.ones([4]), tf.ones([4]))
        with pytest.raises(ValueError, match="Tensor conversion requested dtype float32 for "
                                             "Tensor with dtype float64"):
            nn.bias_add(x, tf.ones([4], tf.float64))


def test_xw_plus_b_and_l2(sess):
    x = RS.randn(3, 4)
    w = RS.randn(4, 2)
    b = RS.randn(2)
    y = nn.xw_plus_b(x, w, b)
    assert y.name == "xw_plus_b:0" and y.op.type == "BiasAdd"
    np.testing.assert_allclose(sess.run(y), x @ w + b)
    np.testing.assert_allclose(sess.run(nn.relu_layer(x, w, b)), np.maximum(x @ w + b, 0))
    l2 = nn.l2_loss(x)
    assert l2.op.type == "L2Loss" and l2.shape.as_list() == [] and l2.dtype == tf.float64
    np.testing.assert_allclose(sess.run(l2), (x ** 2).sum() / 2)
    with pytest.raises(TypeError, match="parameter 't' has DataType int32"):
        nn.l2_loss(tf.constant([1]))
    n = nn.l2_normalize(tf.constant([[0.0, 0.0], [3.0, 4.0]]), axis=1)
    assert n.name == "l2_normalize:0"
    np.testing.assert_allclose(sess.run(n), [[0, 0], [0.6, 0.8]], rtol=1e-6)
    np.testing.assert_allclose(sess.run(nn.l2_normalize(x)), x / np.sqrt((x ** 2).sum()))


# ---- moments / batch norm ----------------------------------------------------------------------


def test_moments_and_batch_normalization(sess):
    x = RS.randn(4, 3, 5)
    m, v = nn.moments(x, [0, 1])
    assert m.shape.as_list() == [5] and v.shape.as_list() == [5]
    assert m.op.name.startswith("moments/")
    np.testing.assert_allclose(sess.run(m), x.mean((0, 1)))
    np.testing.assert_allclose(sess.run(v), x.var((0, 1)))
    mk, vk = nn.moments(x, [0], keep_dims=True)
    assert mk.shape.as_list() == [1, 3, 5]
    np.testing.assert_allclose(sess.run(vk), x.var(0, keepdims=True))
    scale, offset = RS.rand(5) + 0.5, RS.randn(5)
    bn = nn.batch_normalization(x, m, v, offset, scale, 1e-3)
    assert bn.op.name.startswith("batchnorm/")
    ref = (x - x.mean((0, 1))) / np.sqrt(x.var((0, 1)) + 1e-3) * scale + offset
    np.testing.assert_allclose(sess.run(bn), ref, rtol=1e-10)
    bn0 = nn.batch_normalization(x, m, v, None, None, 1e-3)
    np.testing.assert_allclose(sess.run(bn0), (x - x.mean((0, 1))) / np.sqrt(
        x.var((0, 1)) + 1e-3), rtol=1e-10)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_fused_batch_norm_training_and_inference(sess, data_format):
    x = RS.randn(2, 3, 4, 5).astype(np.float32)
    xc = x if data_format == "NHWC" else np.moveaxis(x, 3, 1)
    scale = (RS.rand(5) + 0.5).astype(np.float32)
    offset = RS.randn(5).astype(np.float32)
    y, bm, bv = nn.fused_batch_norm(xc, scale, offset, data_format=data_format)
    assert y.op.type == "FusedBatchNormV3" and y.op.name == "FusedBatchNormV3"
    assert y.shape.as_list() == list(xc.shape) and bm.shape.as_list() == [5]
    yv, mv, vv = sess.run([y, bm, bv])
    flat = x.reshape(-1, 5).astype(np.float64)
    ref = (x - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-3) * scale + offset
    if data_format == "NCHW":
        ref = np.moveaxis(ref, 3, 1)
    np.testing.assert_allclose(yv, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mv, flat.mean(0), rtol=1e-5, atol=1e-6)
    # TF returns the unbiased (sample) variance while normalising with the biased one.
    np.testing.assert_allclose(vv, flat.var(0, ddof=1), rtol=1e-5)
    pm, pv = RS.randn(5).astype(np.float32), (RS.rand(5) + 0.5).astype(np.float32)
    y2, m2, v2 = nn.fused_batch_norm(xc, scale, offset, pm, pv, epsilon=0.01,
                                     data_format=data_format, is_training=False)
    ref2 = (x - pm) / np.sqrt(pv + 0.01) * scale + offset
    if data_format == "NCHW":
        ref2 = np.moveaxis(ref2, 3, 1)
    out = sess.run([y2, m2, v2])
    np.testing.assert_allclose(out[0], ref2, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out[1], pm)
    np.testing.assert_allclose(out[2], pv)


def test_fused_batch_norm_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Shape must be rank 4 but is rank 2"):
            nn.fused_batch_norm(tf.ones([2, 4]), tf.ones([4]), tf.zeros([4]))
        with pytest.raises(ValueError, match="Both `mean` and `variance` must be a 1D tensor "
                                             "when `is_training` is False"):
            nn.fused_batch_norm(tf.ones([1, 2, 2, 3]), tf.ones([3]), tf.zeros([3]),
                                is_training=False)
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 4"):
            nn.fused_batch_norm(tf.ones([1, 2, 2, 3]), tf.ones([4]), tf.zeros([4]))


# ---- cross-entropy -----------------------------------------------------------------------------


def _xent_ref(labels, logits, axis=-1):
    ls = logits - logits.max(axis, keepdims=True)
    ls = ls - np.log(np.exp(ls).sum(axis, keepdims=True))
    return -(labels * ls).sum(axis)


def test_softmax_cross_entropy(sess):
    logits = RS.randn(4, 5)
    labels = ref_softmax(RS.randn(4, 5))
    l2 = nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    assert l2.shape.as_list() == [4] and l2.dtype == tf.float64
    np.testing.assert_allclose(sess.run(l2), _xent_ref(labels, logits))
    l1 = nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    assert l1.op.name.startswith("softmax_cross_entropy_with_logits_sg")
    np.testing.assert_allclose(sess.run(l1), _xent_ref(labels, logits))
    op = next(o for o in tf.get_default_graph().get_operations()
              if o.type == "SoftmaxCrossEntropyWithLogits")
    assert len(op.outputs) == 2 and op.outputs[1].shape.as_list() == [4, 5]
    np.testing.assert_allclose(sess.run(op.outputs[1]), ref_softmax(logits) - labels)
    # Stable for huge logits; other ranks and axes.
    big = nn.softmax_cross_entropy_with_logits_v2(labels=[[0.0, 1.0]], logits=[[1000.0,
                                                                                -1000.0]])
    np.testing.assert_allclose(sess.run(big), [2000.0])
    x3 = RS.randn(2, 3, 4)
    y3 = ref_softmax(RS.randn(2, 3, 4), 1)
    l3 = nn.softmax_cross_entropy_with_logits_v2(labels=y3, logits=x3, axis=1)
    assert l3.shape.as_list() == [2, 4]
    np.testing.assert_allclose(sess.run(l3), _xent_ref(y3, x3, 1))
    p = tf.placeholder(tf.float64, [None, 3, 4])
    l4 = nn.softmax_cross_entropy_with_logits_v2(labels=np.full((2, 3, 4), 0.25), logits=p)
    assert l4.shape.as_list() == [None, 3]
    np.testing.assert_allclose(sess.run(l4, {p: x3}), _xent_ref(np.full((2, 3, 4), 0.25), x3))


def test_softmax_cross_entropy_errors():
    with tf.Graph().as_default():
        x = tf.ones([2, 3])
        msg = r"Only call `softmax_cross_entropy_with_logits` with named arguments \(labels=" \
              r"\.\.\., logits=\.\.\., \.\.\.\)"
        with pytest.raises(ValueError, match=msg):
            nn.softmax_cross_entropy_with_logits(x, x)
        with pytest.raises(ValueError, match="Only call `sigmoid_cross_entropy_with_logits`"):
            nn.sigmoid_cross_entropy_with_logits(x, x)
        with pytest.raises(ValueError, match="Only call `sparse_softmax_cross_entropy_with_"):
            nn.sparse_softmax_cross_entropy_with_logits(x, x)
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 5"):
            nn.softmax_cross_entropy_with_logits_v2(labels=tf.ones([2, 5]), logits=x)


def test_sparse_softmax_cross_entropy(sess):
    logits = RS.randn(4, 10).astype(np.float32)
    labels = np.array([0, 9, 3, 3])
    loss = nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    assert loss.op.type == "SparseSoftmaxCrossEntropyWithLogits"
    assert loss.op.name == "SparseSoftmaxCrossEntropyWithLogits/" \
                           "SparseSoftmaxCrossEntropyWithLogits"
    assert loss.shape.as_list() == [4] and loss.dtype == tf.float32
    np.testing.assert_allclose(sess.run(loss), _xent_ref(np.eye(10)[labels], logits),
                               rtol=1e-5)
    l64 = nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.constant(labels, tf.int64), logits=logits)
    np.testing.assert_allclose(sess.run(l64), sess.run(loss))
    big = nn.sparse_softmax_cross_entropy_with_logits(labels=[1], logits=[[1000.0, -1000.0]])
    np.testing.assert_allclose(sess.run(big), [2000.0])
    # Rank-3 logits.
    lg3 = RS.randn(2, 3, 4)
    lb3 = RS.randint(0, 4, (2, 3))
    l3 = nn.sparse_softmax_cross_entropy_with_logits(labels=lb3, logits=lg3)
    assert l3.shape.as_list() == [2, 3]
    np.testing.assert_allclose(sess.run(l3), _xent_ref(np.eye(4)[lb3], lg3))


def test_sparse_softmax_cross_entropy_errors(sess):
    p = tf.placeholder(tf.int32, [None])
    loss = nn.sparse_softmax_cross_entropy_with_logits(labels=p, logits=np.zeros((2, 10),
                                                                                 np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Received a label value of 10 which is outside the valid range "
                             r"of \[0, 10\)\."):
        sess.run(loss, {p: [1, 10]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="label value of -1"):
        sess.run(loss, {p: [-1, 1]})
    with pytest.raises(ValueError, match=r"`labels.shape.rank` must equal `logits.shape.rank "
                                         r"- 1`"):
        nn.sparse_softmax_cross_entropy_with_logits(labels=tf.ones([3, 2], tf.int32),
                                                    logits=tf.ones([3, 4]))
    with pytest.raises(TypeError, match="parameter 'labels' has DataType float32 not in list "
                                        "of allowed values: int32, int64"):
        nn.sparse_softmax_cross_entropy_with_logits(labels=tf.ones([3]),
                                                    logits=tf.ones([3, 4]))


def test_sigmoid_and_weighted_cross_entropy(sess):
    x = np.array([-100.0, 100.0, 3.0, -2.0, 0.0])
    z = np.array([0.0, 1.0, 0.5, 1.0, 0.3])
    y = nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    assert y.name == "logistic_loss:0" and y.shape.as_list() == [5]
    ref = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_allclose(sess.run(y), ref, rtol=1e-12, atol=1e-30)
    w = nn.weighted_cross_entropy_with_logits(labels=z, logits=x, pos_weight=2.0)
    sig = 1 / (1 + np.exp(-x))
    with np.errstate(divide="ignore", invalid="ignore"):
        naive = -(2.0 * z * np.log(sig) + (1 - z) * np.log(1 - sig))
    ok = np.isfinite(naive)
    out = sess.run(w)
    np.testing.assert_allclose(out[ok], naive[ok], rtol=1e-9)
    np.testing.assert_allclose(out[:2], [0.0, 0.0], atol=1e-30)
    np.testing.assert_allclose(sess.run(nn.weighted_cross_entropy_with_logits(
        targets=z, logits=x, pos_weight=2.0)), out)
    with pytest.raises(ValueError, match="`logits` and `labels` must have the same shape"):
        nn.sigmoid_cross_entropy_with_logits(labels=tf.ones([3]), logits=tf.ones([3, 4]))


# ---- dropout -----------------------------------------------------------------------------------


def test_dropout_statistics_and_scaling(sess):
    x = np.ones((200, 100), np.float32)
    y = nn.dropout(x, keep_prob=0.3, seed=1)
    assert y.name == "dropout/mul_1:0" and y.shape.as_list() == [200, 100]
    out = sess.run(y)
    kept = out != 0
    assert abs(kept.mean() - 0.3) < 0.02
    np.testing.assert_allclose(out[kept], 1 / 0.3, rtol=1e-6)
    out2 = sess.run(nn.dropout(x, rate=0.75, seed=2))
    assert abs((out2 != 0).mean() - 0.25) < 0.02
    np.testing.assert_allclose(out2[out2 != 0], 4.0)


def test_dropout_keep_prob_placeholder_and_noise_shape(sess):
    kp = tf.placeholder(tf.float32)
    x = np.arange(1, 601, dtype=np.float32).reshape(300, 2)
    y = nn.dropout(x, kp, noise_shape=[300, 1])
    out = sess.run(y, {kp: 0.5})
    # Whole rows are kept or dropped together.
    assert np.all((out[:, 0] == 0) == (out[:, 1] == 0))
    kept = out[:, 0] != 0
    assert 0.35 < kept.mean() < 0.65
    np.testing.assert_allclose(out[kept], x[kept] * 2)
    np.testing.assert_allclose(sess.run(y, {kp: 1.0}), x)


def test_dropout_seeded_reproducible():
    def run():
        with tf.Graph().as_default():
            tf.set_random_seed(7)
            y = nn.dropout(tf.ones([50]), 0.5)
            with tf.Session() as s:
                return s.run(y), s.run(y)
    a1, a2 = run()
    b1, b2 = run()
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)


def test_dropout_errors():
    with tf.Graph().as_default():
        x = tf.ones([3])
        with pytest.raises(ValueError, match="Cannot specify both 'keep_prob' and 'rate'"):
            nn.dropout(x, 0.5, rate=0.5)
        with pytest.raises(ValueError, match=r"in the range \[0, 1\)"):
            nn.dropout(x, 0.0)
        with pytest.raises(ValueError, match=r"in the range \[0, 1\)"):
            nn.dropout(x, rate=1.0)
        with pytest.raises(ValueError, match="`rate` must be provided"):
            nn.dropout(x)
        with pytest.raises(ValueError, match="must be a floating point tensor"):
            nn.dropout(tf.ones([3], tf.int32), 0.5)


# ---- embedding, top-k, in_top_k ------------------------------------------------------------


def test_embedding_lookup(sess):
    params = RS.randn(10, 3)
    ids = np.array([[1, 2], [9, 0]])
    e = nn.embedding_lookup(params, ids)
    assert e.name == "embedding_lookup/Identity:0" and e.shape.as_list() == [2, 2, 3]
    np.testing.assert_allclose(sess.run(e), params[ids])
    np.testing.assert_allclose(sess.run(nn.embedding_lookup([tf.constant(params)], ids)),
                               params[ids])
    parts_mod = [params[i::3] for i in range(3)]
    np.testing.assert_allclose(sess.run(nn.embedding_lookup(parts_mod, ids)), params[ids])
    parts_div = [params[:4], params[4:7], params[7:]]
    np.testing.assert_allclose(sess.run(nn.embedding_lookup(parts_div, ids,
                                                            partition_strategy="div")),
                               params[ids])
    clipped = sess.run(nn.embedding_lookup(params, ids, max_norm=0.5))
    norms = np.linalg.norm(params[ids], axis=-1, keepdims=True)
    np.testing.assert_allclose(clipped, params[ids] * np.minimum(1, 0.5 / norms))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = 12 is not in "
                                                             r"\[0, 10\)"):
        sess.run(nn.embedding_lookup(params, [12]))
    with pytest.raises(ValueError, match="Length of params is currently 0"):
        nn.embedding_lookup([], [1])


def test_top_k_values_ties_and_shapes(sess):
    x = np.array([[1.0, 2.0, 2.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0, 5.0]], np.float32)
    r = nn.top_k(x, 3)
    assert r.values.op.type == "TopKV2" and r.values.name == "TopKV2:0"
    assert r.values.shape.as_list() == [2, 3] and r.indices.dtype == tf.int32
    v, i = sess.run(r)
    np.testing.assert_array_equal(v, [[3, 2, 2], [5, 5, 5]])
    np.testing.assert_array_equal(i, [[3, 1, 2], [0, 1, 2]])
    xi = np.array([[3, -7, 3, 9]], np.int64)
    v, i = sess.run(nn.top_k(xi, 4))
    np.testing.assert_array_equal(v, [[9, 3, 3, -7]])
    np.testing.assert_array_equal(i, [[3, 0, 2, 1]])
    k = tf.placeholder(tf.int32, [])
    rk = nn.top_k(tf.ones([2, 5]), k)
    assert rk.values.shape.as_list() == [2, None]
    assert sess.run(rk.indices, {k: 2}).tolist() == [[0, 1], [0, 1]]
    with pytest.raises(ValueError, match="input must have last dimension >= k = 6 but is 5"):
        nn.top_k(x, 6)
    with pytest.raises(ValueError, match="must be non-negative but is -1"):
        nn.top_k(x, -1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="input must have at least k "
                                                             "columns. Had 5, needed 7"):
        sess.run(rk.values, {k: 7})


def test_in_top_k_ties(sess):
    pred = np.array([[1.0, 2.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 5.0],
                     [np.nan, 2.0, 2.0, 3.0], [4.0, 3.0, 2.0, 1.0]], np.float32)
    r = nn.in_top_k(pred, [1, 3, 0, 0, 3], 2)
    assert r.op.type == "InTopKV2" and r.op.name == "in_top_k/InTopKV2"
    assert r.dtype == tf.bool and r.shape.as_list() == [5]
    # Ties with the k-th value count as in the top k; nan and out-of-top rows do not.
    assert sess.run(r).tolist() == [True, True, True, False, False]
    assert sess.run(nn.in_top_k(pred, [0, 9, 3, 1, 0], 1)).tolist() == [
        False, False, True, False, True]
    with pytest.raises(TypeError, match="parameter 'targets' has DataType float32"):
        nn.in_top_k(pred, tf.ones([5]), 1)


def test_zero_fraction(sess):
    z = nn.zero_fraction(tf.constant([0.0, 1.0, 0.0, 2.0]))
    assert z.dtype == tf.float32 and z.shape.as_list() == []
    assert sess.run(z) == 0.5


# ---- convolution -------------------------------------------------------------------------------


CONV_CASES = [
    # (h, w, kh, kw, stride, dilation, padding)
    (5, 7, 3, 3, (1, 1), (1, 1), "SAME"),
    (6, 5, 3, 2, (2, 2), (1, 1), "SAME"),
    (7, 7, 2, 2, (2, 1), (1, 1), "VALID"),
    (9, 8, 3, 3, (1, 1), (2, 2), "SAME"),
    (9, 8, 3, 3, (2, 2), (2, 1), "VALID"),
    (4, 4, 1, 1, (1, 1), (1, 1), "VALID"),
    (5, 5, 5, 5, (3, 3), (1, 1), "SAME"),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_against_loops(sess, case):
    h, w, kh, kw, s, d, pad = case
    x = RS.randn(2, h, w, 3)
    f = RS.randn(kh, kw, 3, 4)
    y = nn.conv2d(x, f, [1, s[0], s[1], 1], pad, dilations=[1, d[0], d[1], 1])
    ref = ref_conv2d(x, f, s, d, pad)
    assert y.op.type == "Conv2D" and y.shape.as_list() == list(ref.shape)
    np.testing.assert_allclose(sess.run(y), ref, rtol=1e-10, atol=1e-10)
    # NCHW gives the same numbers, transposed.
    yc = nn.conv2d(x.transpose(0, 3, 1, 2), f, [1, 1, s[0], s[1]], pad, data_format="NCHW",
                   dilations=[1, 1, d[0], d[1]])
    assert yc.shape.as_list() == [2, 4, ref.shape[1], ref.shape[2]]
    np.testing.assert_allclose(sess.run(yc), ref.transpose(0, 3, 1, 2), rtol=1e-10,
                               atol=1e-10)


def test_conv2d_explicit_padding_and_float32(sess):
    x = RS.randn(1, 4, 5, 2).astype(np.float32)
    f = RS.randn(3, 3, 2, 3).astype(np.float32)
    y = nn.conv2d(x, f, 1, [[0, 0], [1, 2], [0, 1], [0, 0]])
    xp = np.pad(x, ((0, 0), (1, 2), (0, 1), (0, 0)))
    ref = ref_conv2d(xp.astype(np.float64), f.astype(np.float64), (1, 1), (1, 1), "VALID")
    assert y.shape.as_list() == list(ref.shape) and y.dtype == tf.float32
    out = sess.run(y)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_conv2d_backprops_match_adjoint(sess):
    # <conv(x, w), g> == <x, backprop_input(g)> == <w, backprop_filter(g)>.
    x = RS.randn(2, 7, 6, 3)
    f = RS.randn(3, 2, 3, 4)
    for s, d, pad in [((2, 2), (1, 1), "SAME"), ((1, 2), (2, 1), "VALID"),
                      ((3, 1), (1, 1), "SAME")]:
        y = ref_conv2d(x, f, s, d, pad)
        g = RS.randn(*y.shape)
        strides, dil = [1, s[0], s[1], 1], [1, d[0], d[1], 1]
        dx = nn.conv2d_backprop_input(list(x.shape), f, g, strides, pad, dilations=dil)
        dw = nn.conv2d_backprop_filter(x, list(f.shape), g, strides, pad, dilations=dil)
        assert dx.shape.as_list() == list(x.shape) and dw.shape.as_list() == list(f.shape)
        dxv, dwv = sess.run([dx, dw])
        np.testing.assert_allclose((y * g).sum(), (x * dxv).sum(), rtol=1e-10)
        np.testing.assert_allclose((y * g).sum(), (f * dwv).sum(), rtol=1e-10)


def test_conv2d_transpose(sess):
    x = RS.randn(2, 4, 4, 3)
    f = RS.randn(3, 3, 5, 3)
    y = nn.conv2d_transpose(x, f, [2, 8, 8, 5], [1, 2, 2, 1], "SAME")
    assert y.op.type == "Conv2DBackpropInput" and y.name == "conv2d_transpose:0"
    assert y.shape.as_list() == [2, 8, 8, 5]
    out = sess.run(y)
    # Adjoint of the strided convolution with the same filter.
    z = RS.randn(2, 8, 8, 5)
    np.testing.assert_allclose((out * z).sum(), (ref_conv2d(z, f, (2, 2), (1, 1), "SAME")
                                                 * x).sum(), rtol=1e-10)
    with pytest.raises(ValueError, match="input channels does not match filter's input "
                                         "channels, 3 != 4"):
        nn.conv2d_transpose(x, RS.randn(3, 3, 5, 4), [2, 8, 8, 5], [1, 2, 2, 1])
    with pytest.raises(ValueError, match="output_shape does not match filter's output "
                                         "channels, 6 != 5"):
        nn.conv2d_transpose(x, f, [2, 8, 8, 6], [1, 2, 2, 1])


def test_depthwise_conv2d(sess):
    x = RS.randn(2, 6, 5, 3)
    f = RS.randn(3, 3, 3, 2)
    y = nn.depthwise_conv2d(x, f, [1, 1, 1, 1], "SAME")
    assert y.op.type == "DepthwiseConv2dNative" and y.name == "depthwise:0"
    assert y.shape.as_list() == [2, 6, 5, 6]
    np.testing.assert_allclose(sess.run(y), ref_depthwise(x, f, (1, 1), (1, 1), "SAME"),
                               rtol=1e-10, atol=1e-10)
    y2 = nn.depthwise_conv2d(x, f, [1, 2, 2, 1], "VALID")
    np.testing.assert_allclose(sess.run(y2), ref_depthwise(x, f, (2, 2), (1, 1), "VALID"),
                               rtol=1e-10, atol=1e-10)
    y3 = nn.depthwise_conv2d(x, f, [1, 1, 1, 1], "SAME", rate=[2, 2])
    np.testing.assert_allclose(sess.run(y3), ref_depthwise(x, f, (1, 1), (2, 2), "SAME"),
                               rtol=1e-10, atol=1e-10)


def test_conv2d_static_shapes_and_errors():
    with tf.Graph().as_default():
        img = tf.placeholder(tf.float32, [None, 28, 28, 3])
        f = tf.ones([5, 5, 3, 8])
        assert nn.conv2d(img, f, [1, 1, 1, 1], "SAME").shape.as_list() == [None, 28, 28, 8]
        assert nn.conv2d(img, f, [1, 2, 2, 1], "VALID").shape.as_list() == [None, 12, 12, 8]
        part = tf.placeholder(tf.float32, [None, None, 28, 3])
        assert nn.conv2d(part, f, [1, 2, 2, 1], "SAME").shape.as_list() == [None, None, 14, 8]
        unknown = nn.conv2d(tf.placeholder(tf.float32), f, 1, "SAME")
        assert unknown.shape.as_list() == [None, None, None, 8]
        with pytest.raises(ValueError, match=r"Depth of input \(3\) is not a multiple of input "
                                             r"depth of filter \(4\)"):
            nn.conv2d(img, tf.ones([5, 5, 4, 8]), [1, 1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="Attr 'padding' of 'Conv2D' Op passed string "
                                             "'FOO' not in"):
            nn.conv2d(img, f, [1, 1, 1, 1], "FOO")
        with pytest.raises(ValueError, match="Shape must be rank 4 but is rank 2"):
            nn.conv2d(tf.ones([3, 4]), f, [1, 1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 5 "
                                             "from 3"):
            nn.conv2d(tf.ones([1, 3, 3, 3]), f, [1, 1, 1, 1], "VALID")
        with pytest.raises(ValueError, match="strides should be of length 1, 2 or 4"):
            nn.conv2d(img, f, [1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="does not yet support strides in the batch and "
                                             "depth dimensions"):
            nn.conv2d(img, f, [2, 1, 1, 1], "SAME")
        with pytest.raises(TypeError, match="Input 'filter' of 'Conv2D' Op has type float64 "
                                            "that does not match type float32"):
            nn.conv2d(img, tf.ones([5, 5, 3, 8], tf.float64), [1, 1, 1, 1], "SAME")


def test_conv2d_runtime_shape_error(sess):
    p = tf.placeholder(tf.float32)
    y = nn.conv2d(p, np.ones((1, 1, 2, 1), np.float32), [1, 1, 1, 1], "SAME")
    with pytest.raises(tf.errors.InvalidArgumentError, match="input depth must be evenly "
                                                             "divisible by filter depth: 3 vs 2"):
        sess.run(y, {p: np.ones((1, 4, 4, 3))})


# ---- pooling -----------------------------------------------------------------------------------


POOL_CASES = [
    ((2, 2), (2, 2), "VALID"), ((2, 2), (2, 2), "SAME"), ((3, 3), (2, 2), "SAME"),
    ((3, 2), (1, 2), "VALID"), ((3, 3), (1, 1), "SAME"), ((1, 1), (2, 2), "SAME"),
]


@pytest.mark.parametrize("k,s,pad", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_against_loops(sess, k, s, pad, kind):
    x = RS.randn(2, 7, 6, 3) - 5  # all negative: SAME padding must not leak zeros into max
    fn = nn.max_pool if kind == "max" else nn.avg_pool
    y = fn(x, [1, k[0], k[1], 1], [1, s[0], s[1], 1], pad)
    ref = ref_pool(x, k, s, pad, kind)
    assert y.op.type == ("MaxPool" if kind == "max" else "AvgPool")
    assert y.shape.as_list() == list(ref.shape)
    np.testing.assert_allclose(sess.run(y), ref, rtol=1e-12)
    yc = fn(x.transpose(0, 3, 1, 2), [1, 1, k[0], k[1]], [1, 1, s[0], s[1]], pad,
            data_format="NCHW")
    np.testing.assert_allclose(sess.run(yc), ref.transpose(0, 3, 1, 2), rtol=1e-12)


def test_pooling_tf_reference_values(sess):
    a = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    avg = nn.avg_pool(a, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
    np.testing.assert_allclose(sess.run(avg).reshape(2, 2), [[5, 6.5], [11, 12.5]])
    mx = nn.max_pool(-a - 1, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
    np.testing.assert_allclose(sess.run(mx).reshape(2, 2), [[-1, -3], [-9, -11]])
    mi = nn.max_pool(tf.constant(np.arange(16, dtype=np.int32).reshape(1, 4, 4, 1)),
                     2, 2, "VALID")
    assert mi.dtype == tf.int32 and sess.run(mi).ravel().tolist() == [5, 7, 13, 15]


def test_pool_errors_and_names():
    with tf.Graph().as_default():
        img = tf.placeholder(tf.float32, [None, 28, 28, 3])
        m = nn.max_pool(img, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        assert m.name == "MaxPool:0" and m.shape.as_list() == [None, 14, 14, 3]
        a = nn.avg_pool(img, [1, 3, 3, 1], [1, 2, 2, 1], "VALID")
        assert a.name == "AvgPool:0" and a.shape.as_list() == [None, 13, 13, 3]
        with pytest.raises(ValueError, match="ksize should be of length 1, 2 or 4"):
            nn.max_pool(img, [2, 2, 1], [1, 2, 2, 1], "SAME")
        with pytest.raises(ValueError, match="does not yet support pooling in the batch"):
            nn.max_pool(img, [2, 2, 2, 1], [1, 2, 2, 1], "SAME")
        with pytest.raises(TypeError):
            nn.avg_pool(tf.ones([1, 2, 2, 1], tf.int32), 2, 2, "VALID")


def test_deep_mnist_shapes(sess):
    # Speed of these layers is measured in bench/, not here; this checks the values and shapes
    # of both conv layers and their filter gradients against a float64 numpy computation.
    x = tf.placeholder(tf.float32, [None, 28, 28, 1])
    w1v = RS.randn(5, 5, 1, 32).astype(np.float32)
    w1 = tf.constant(w1v)
    w2 = tf.constant(RS.randn(5, 5, 32, 64).astype(np.float32))
    c1 = nn.conv2d(x, w1, [1, 1, 1, 1], "SAME")
    h1 = nn.max_pool(nn.relu(c1), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    h2 = nn.max_pool(nn.relu(nn.conv2d(h1, w2, [1, 1, 1, 1], "SAME")), [1, 2, 2, 1],
                     [1, 2, 2, 1], "SAME")
    assert h2.shape.as_list() == [None, 7, 7, 64]
    loss = tf.reduce_sum(c1)
    g = tf.gradients(loss, [w1, w2])
    assert g[1] is None
    xv = RS.rand(100, 28, 28, 1).astype(np.float32)
    c1v, h2v, g1 = sess.run([c1, h2, g[0]], {x: xv})
    assert h2v.shape == (100, 7, 7, 64)
    xp = np.pad(xv.astype(np.float64), ((0, 0), (2, 2), (2, 2), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp[..., 0], (5, 5), axis=(1, 2))
    ref = np.einsum("nhwij,ijo->nhwo", win, w1v[:, :, 0, :].astype(np.float64))
    np.testing.assert_allclose(c1v, ref, rtol=1e-4, atol=1e-4)
    # d(sum conv)/dw1[i, j] = sum of the input windows
    np.testing.assert_allclose(g1[:, :, 0, 0], win.sum(axis=(0, 1, 2)), rtol=1e-4)
