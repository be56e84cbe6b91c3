"""tf.layers: variable names/shapes/collections, scoping and reuse, outputs against numpy,
batch-norm moving averages and update ops, dropout modes, and float64 gradient checks of
every layer's output with respect to its input."""

import numpy as np
import pytest

import headwater as tf
from headwater import layers, losses
from headwater.test import compute_gradient_error


@pytest.fixture
def sess():
    g = tf.Graph()
    with g.as_default(), tf.Session(graph=g) as s:
        yield s


def _names(vs):
    return [v.name for v in vs]


def _np_conv(x, w, stride=(1, 1), padding="valid", dil=(1, 1)):
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    ekh, ekw = (kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1
    if padding == "same":
        oh, ow = -(-h // stride[0]), -(-wd // stride[1])
        ph = max((oh - 1) * stride[0] + ekh - h, 0)
        pw = max((ow - 1) * stride[1] + ekw - wd, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh = (h - ekh) // stride[0] + 1
        ow = (wd - ekw) // stride[1] + 1
    out = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride[0]:i * stride[0] + ekh:dil[0],
                      j * stride[1]:j * stride[1] + ekw:dil[1], :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


# ---- dense -------------------------------------------------------------------------------------


def test_dense_names_shapes_values(sess):
    x = tf.placeholder(tf.float32, [None, 3])
    y = layers.dense(x, 4, activation=tf.nn.relu)
    y2 = layers.dense(x, 2, use_bias=False)
    assert y.name == "dense/Relu:0" and y.shape.as_list() == [None, 4]
    assert y2.name == "dense_1/MatMul:0"
    assert _names(tf.global_variables()) == ["dense/kernel:0", "dense/bias:0",
                                             "dense_1/kernel:0"]
    assert _names(tf.trainable_variables()) == _names(tf.global_variables())
    sess.run(tf.global_variables_initializer())
    k, b = sess.run(["dense/kernel:0", "dense/bias:0"])
    assert k.shape == (3, 4) and (b == 0).all()
    # glorot_uniform: limit sqrt(6 / (3 + 4)).
    assert np.abs(k).max() <= np.sqrt(6 / 7) + 1e-6
    xv = np.random.RandomState(0).randn(5, 3).astype(np.float32)
    np.testing.assert_allclose(sess.run(y, {x: xv}), np.maximum(xv @ k + b, 0), rtol=1e-5)


def test_dense_reuse_and_scopes(sess):
    x = tf.placeholder(tf.float32, [None, 3])
    a = layers.dense(x, 4, name="fc")
    b = layers.dense(x, 4, name="fc", reuse=True)
    assert _names(tf.global_variables()) == ["fc/kernel:0", "fc/bias:0"]
    assert a.name == "fc/BiasAdd:0" and b.name == "fc_1/BiasAdd:0"
    with pytest.raises(ValueError, match="Variable fc/kernel already exists"):
        layers.dense(x, 4, name="fc")
    with pytest.raises(ValueError, match="does not exist"):
        layers.dense(x, 4, name="nope", reuse=True)
    with pytest.raises(ValueError, match="specified shape"):
        layers.dense(x, 5, name="fc", reuse=True)
    with tf.variable_scope("outer"):
        layers.dense(x, 2)
    with tf.variable_scope("outer", reuse=True):
        layers.dense(x, 2, name="dense")
    with tf.variable_scope("shared", reuse=tf.AUTO_REUSE):
        layers.dense(x, 2, name="d")
        layers.dense(x, 2, name="d")
    assert _names(tf.global_variables())[2:] == ["outer/dense/kernel:0", "outer/dense/bias:0",
                                                 "shared/d/kernel:0", "shared/d/bias:0"]
    sess.run(tf.global_variables_initializer())
    xv = np.ones((2, 3), np.float32)
    va, vb = sess.run([a, b], {x: xv})
    np.testing.assert_array_equal(va, vb)


def test_dense_layer_object_shares_variables(sess):
    layer = layers.Dense(3, name="proj", kernel_initializer=tf.ones_initializer())
    x1 = tf.constant(np.ones((2, 4), np.float32))
    x2 = tf.constant(np.full((2, 4), 2.0, np.float32))
    y1, y2 = layer(x1), layer.apply(x2)
    assert layer.built and layer.name == "proj"
    assert _names(layer.trainable_variables) == ["proj/kernel:0", "proj/bias:0"]
    assert _names(layer.variables) == ["proj/kernel:0", "proj/bias:0"]
    assert layer.kernel.shape.as_list() == [4, 3]
    assert len(tf.global_variables()) == 2
    sess.run(tf.global_variables_initializer())
    np.testing.assert_allclose(sess.run(y1), 4.0)
    np.testing.assert_allclose(sess.run(y2), 8.0)
    un = layers.Dense(2)
    un(x1)
    assert un.name == "dense" and un.scope_name == "dense"


def test_dense_rank3_and_errors(sess):
    x = tf.placeholder(tf.float32, [None, 5, 3])
    y = layers.dense(x, 2, kernel_initializer=tf.constant_initializer(0.5),
                     bias_initializer=tf.constant_initializer(1.0))
    assert y.shape.as_list() == [None, 5, 2]
    sess.run(tf.global_variables_initializer())
    xv = np.random.RandomState(1).randn(4, 5, 3).astype(np.float32)
    np.testing.assert_allclose(sess.run(y, {x: xv}), xv @ np.full((3, 2), 0.5) + 1.0,
                               rtol=1e-5)
    with pytest.raises(ValueError, match="last dimension of the inputs to `Dense` should be "
                       "defined"):
        layers.dense(tf.placeholder(tf.float32, [None, None]), 3)
    with pytest.raises(TypeError, match="not understood"):
        layers.Dense(3, bogus=1)


def test_regularizers_and_trainable(sess):
    x = tf.constant(np.ones((4, 3), np.float32))
    reg = lambda w: tf.reduce_sum(tf.abs(w))  # noqa: E731
    y = layers.dense(x, 2, kernel_initializer=tf.ones_initializer(),
                     bias_initializer=tf.constant_initializer(0.5), kernel_regularizer=reg,
                     bias_regularizer=reg, activity_regularizer=reg)
    regs = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(regs) == 3
    assert regs[0].name.startswith("dense/kernel/Regularizer/")
    sess.run(tf.global_variables_initializer())
    kl, bl, al = sess.run(regs)
    assert kl == 6.0 and bl == 1.0
    # Activity loss: sum |y| / batch = (4 * 2 * 3.5) / 4.
    assert al == pytest.approx(7.0)
    assert sess.run(losses.get_regularization_loss()) == pytest.approx(14.0)
    layers.dense(x, 2, trainable=False, name="frozen")
    assert "frozen/kernel:0" not in _names(tf.trainable_variables())
    assert "frozen/kernel:0" in _names(tf.global_variables())
    del y


# ---- conv / pooling / flatten ----------------------------------------------------------------


@pytest.mark.parametrize("padding,strides,dil", [("valid", (1, 1), (1, 1)),
                                                 ("same", (2, 2), (1, 1)),
                                                 ("SAME", (1, 2), (1, 1)),
                                                 ("valid", (1, 1), (2, 2))])
def test_conv2d_vs_numpy(sess, padding, strides, dil):
    rs = np.random.RandomState(2)
    xv = rs.randn(2, 7, 6, 3).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 7, 6, 3])
    y = layers.conv2d(x, 4, (3, 2), strides=strides, padding=padding, dilation_rate=dil,
                      bias_initializer=tf.constant_initializer(0.1))
    assert _names(tf.global_variables()) == ["conv2d/kernel:0", "conv2d/bias:0"]
    assert tf.global_variables()[0].shape.as_list() == [3, 2, 3, 4]
    assert y.name == "conv2d/BiasAdd:0"
    assert tf.get_default_graph().get_operation_by_name("conv2d/Conv2D").type == "Conv2D"
    sess.run(tf.global_variables_initializer())
    k = sess.run("conv2d/kernel:0")
    want = _np_conv(xv.astype(np.float64), k, strides, padding.lower(), dil) + 0.1
    got = sess.run(y, {x: xv})
    assert y.shape.as_list()[1:] == list(want.shape[1:])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_conv2d_channels_first_and_names(sess):
    rs = np.random.RandomState(3)
    xv = rs.randn(2, 3, 5, 5).astype(np.float32)
    y = layers.conv2d(tf.constant(xv), 2, 3, data_format="channels_first",
                      activation=tf.nn.relu, name="c1")
    assert y.name == "c1/Relu:0" and y.shape.as_list() == [2, 2, 3, 3]
    layers.conv2d(tf.constant(xv), 2, 3, data_format="channels_first")
    assert "conv2d/kernel:0" in _names(tf.global_variables())
    sess.run(tf.global_variables_initializer())
    k = sess.run("c1/kernel:0")
    want = np.maximum(_np_conv(xv.transpose(0, 2, 3, 1).astype(np.float64), k), 0)
    np.testing.assert_allclose(sess.run(y), want.transpose(0, 3, 1, 2), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="channel dimension of the inputs should be defined"):
        layers.conv2d(tf.placeholder(tf.float32, [None, 4, 4, None]), 2, 3)
    with pytest.raises(ValueError, match="padding"):
        layers.conv2d(tf.constant(xv), 2, 3, padding="full")


def _np_pool(x, k, s, fn, padding):
    n, h, w, c = x.shape
    if padding == "same":
        oh, ow = -(-h // s), -(-w // s)
        ph, pw = max((oh - 1) * s + k - h, 0), max((ow - 1) * s + k - w, 0)
        t, left = ph // 2, pw // 2
    else:
        oh, ow = (h - k) // s + 1, (w - k) // s + 1
        t = left = 0
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s - t, j * s - left
            win = x[:, max(r0, 0):r0 + k, max(c0, 0):c0 + k, :]
            out[:, i, j, :] = fn(win, axis=(1, 2))
    return out


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_vs_numpy(sess, padding):
    xv = np.random.RandomState(4).randn(2, 5, 5, 3)
    x = tf.constant(xv)
    m = layers.max_pooling2d(x, 2, 2, padding=padding)
    a = layers.average_pooling2d(x, (3, 3), 2, padding=padding)
    assert m.name == "max_pooling2d/MaxPool:0"
    assert a.name == "average_pooling2d/AvgPool:0"
    np.testing.assert_allclose(sess.run(m), _np_pool(xv, 2, 2, np.max, padding))
    np.testing.assert_allclose(sess.run(a), _np_pool(xv, 3, 2, np.mean, padding))
    m2 = layers.MaxPooling2D(2, 1)(x)
    assert m2.name == "max_pooling2d_1/MaxPool:0" and m2.shape.as_list() == [2, 4, 4, 3]


def test_flatten(sess):
    x = tf.placeholder(tf.float32, [None, 2, 3, 4])
    f = layers.flatten(x)
    assert f.name == "flatten/Reshape:0" and f.shape.as_list() == [None, 24]
    xv = np.arange(48, dtype=np.float32).reshape(2, 2, 3, 4)
    np.testing.assert_array_equal(sess.run(f, {x: xv}), xv.reshape(2, 24))
    g = layers.flatten(tf.placeholder(tf.float32, [3, None, 2]))
    assert g.shape.as_list() == [3, None]
    np.testing.assert_array_equal(sess.run(g, {"Placeholder_1:0": np.ones((3, 5, 2))}),
                                  np.ones((3, 10)))
    cf = layers.Flatten(data_format="channels_first")(tf.constant(xv))
    np.testing.assert_array_equal(sess.run(cf), xv.transpose(0, 2, 3, 1).reshape(2, 24))


# ---- dropout -----------------------------------------------------------------------------------


def test_dropout_modes(sess):
    xv = np.ones((200, 50), np.float32)
    x = tf.constant(xv)
    off = layers.dropout(x, rate=0.3)
    np.testing.assert_array_equal(sess.run(off), xv)
    on = layers.dropout(x, rate=0.3, training=True, seed=5)
    v = sess.run(on)
    kept = v != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(v[kept], 1 / 0.7, rtol=1e-6)
    t = tf.placeholder(tf.bool, [])
    sw = layers.dropout(x, rate=0.5, training=t)
    np.testing.assert_array_equal(sess.run(sw, {t: False}), xv)
    assert abs((sess.run(sw, {t: True}) != 0).mean() - 0.5) < 0.02
    rows = sess.run(layers.dropout(x, rate=0.5, noise_shape=[200, 1], training=True))
    assert all(len(set(r)) == 1 for r in rows)
    # Seeded dropout is reproducible across graphs.
    vals = []
    for _ in range(2):
        with tf.Graph().as_default() as g:
            tf.set_random_seed(1)
            d = layers.dropout(tf.constant(xv), training=True, seed=3)
            vals.append(tf.Session(graph=g).run(d))
    np.testing.assert_array_equal(vals[0], vals[1])


# ---- batch normalization -------------------------------------------------------------------


@pytest.mark.parametrize("shape,axis,fused", [((6, 3, 3, 4), -1, None), ((6, 4, 3, 3), 1, None),
                                              ((6, 3, 3, 4), -1, False), ((8, 5), -1, None),
                                              ((6, 4, 3), 1, None)])
def test_batch_norm_training_and_updates(sess, shape, axis, fused):
    rs = np.random.RandomState(5)
    xv = (rs.randn(*shape) * 2 + 3).astype(np.float32)
    x = tf.placeholder(tf.float32, shape)
    y = layers.batch_normalization(x, axis=axis, training=True, momentum=0.9, fused=fused,
                                   gamma_initializer=tf.constant_initializer(2.0),
                                   beta_initializer=tf.constant_initializer(0.5))
    names = _names(tf.global_variables())
    assert names == ["batch_normalization/gamma:0", "batch_normalization/beta:0",
                     "batch_normalization/moving_mean:0",
                     "batch_normalization/moving_variance:0"]
    assert _names(tf.trainable_variables()) == names[:2]
    upd = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert [u.op.name for u in upd] == ["batch_normalization/AssignMovingAvg",
                                        "batch_normalization/AssignMovingAvg_1"]
    is_fused = len(shape) == 4 and fused is None
    assert any(op.type == "FusedBatchNormV3" for op in
               tf.get_default_graph().get_operations()) == is_fused
    sess.run(tf.global_variables_initializer())
    ax = axis % len(shape)
    red = tuple(i for i in range(len(shape)) if i != ax)
    bshape = [1] * len(shape)
    bshape[ax] = shape[ax]
    m = xv.astype(np.float64).mean(red)
    v = xv.astype(np.float64).var(red)
    want = (xv - m.reshape(bshape)) / np.sqrt(v.reshape(bshape) + 1e-3) * 2.0 + 0.5
    out, _ = sess.run([y, upd], {x: xv})
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-4)
    n = xv.size // shape[ax]
    v_upd = v * n / (n - 1) if is_fused else v
    mm, mv = sess.run(["batch_normalization/moving_mean:0",
                       "batch_normalization/moving_variance:0"])
    np.testing.assert_allclose(mm, 0.1 * m, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(mv, 0.9 + 0.1 * v_upd, rtol=1e-4)
    # A second update moves further toward the batch statistics.
    sess.run(upd, {x: xv})
    np.testing.assert_allclose(sess.run("batch_normalization/moving_mean:0"), 0.19 * m,
                               rtol=1e-4, atol=1e-6)


def test_batch_norm_inference_and_tensor_training(sess):
    rs = np.random.RandomState(6)
    xv = rs.randn(4, 2, 2, 3).astype(np.float32)
    x = tf.constant(xv)
    y = layers.batch_normalization(x, name="bn")           # training=False: no updates
    assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
    sess.run(tf.global_variables_initializer())
    np.testing.assert_allclose(sess.run(y), xv / np.sqrt(1 + 1e-3), rtol=1e-5)
    t = tf.placeholder_with_default(False, [])
    y2 = layers.batch_normalization(x, training=t, name="bn", reuse=True)
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
    assert len(tf.global_variables()) == 4
    mm = tf.get_default_graph().get_tensor_by_name("bn/moving_mean:0")
    sess.run([y2] + tf.get_collection(tf.GraphKeys.UPDATE_OPS))
    np.testing.assert_array_equal(sess.run(mm), 0)            # not training: unchanged
    sess.run([y2] + tf.get_collection(tf.GraphKeys.UPDATE_OPS), {t: True})
    np.testing.assert_allclose(sess.run(mm), 0.01 * xv.mean((0, 1, 2)), rtol=1e-4,
                               atol=1e-7)
    un = layers.batch_normalization(tf.constant(xv.reshape(16, 3)), training=t, center=False,
                                    scale=False)
    assert "batch_normalization/gamma:0" not in _names(tf.global_variables())
    sess.run(tf.variables_initializer(tf.global_variables()[4:]))
    np.testing.assert_allclose(sess.run(un, {t: True}),
                               (xv.reshape(16, 3) - xv.reshape(16, 3).mean(0))
                               / np.sqrt(xv.reshape(16, 3).var(0) + 1e-3), rtol=1e-4,
                               atol=1e-5)
    with pytest.raises(NotImplementedError, match="renorm"):
        layers.batch_normalization(x, renorm=True)
    with pytest.raises(ValueError, match="fused"):
        layers.batch_normalization(tf.constant(np.ones((2, 3), np.float32)), fused=True)


# ---- gradients -----------------------------------------------------------------------------


def _grad_err(sess, build, shape, seed=0):
    x = tf.placeholder(tf.float64, shape)
    y = build(x)
    sess.run(tf.global_variables_initializer())
    xv = np.random.RandomState(seed).randn(*shape)
    return compute_gradient_error(x, shape, y, tuple(y.shape.as_list()), x_init_value=xv,
                                  delta=1e-6)


GRAD_CASES = {
    "dense": ((3, 4), lambda x: layers.dense(x, 3, activation=tf.tanh)),
    "conv2d": ((2, 5, 5, 2), lambda x: layers.conv2d(x, 3, 3, strides=2, padding="same")),
    "max_pooling2d": ((1, 4, 4, 2), lambda x: layers.max_pooling2d(x, 2, 2)),
    "average_pooling2d": ((1, 5, 5, 2), lambda x: layers.average_pooling2d(x, 3, 2,
                                                                           padding="same")),
    "flatten": ((2, 3, 2), layers.flatten),
    "batch_normalization": ((4, 2, 2, 3), lambda x: layers.batch_normalization(
        x, training=True)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_layer_gradients_float64(sess, name):
    shape, build = GRAD_CASES[name]
    err = _grad_err(sess, build, shape)
    assert err < 1e-6, err


def test_batch_norm_unfused_gradient(sess):
    err = _grad_err(sess, lambda x: layers.batch_normalization(x, training=True,
                                                               fused=False), (5, 3))
    assert err < 1e-6, err


def test_dropout_gradient_is_the_mask(sess):
    # Each run draws a new mask, so finite differences don't apply: check in one run that
    # dy/dx is the scaled keep mask that produced y.
    x = tf.placeholder(tf.float64, [50, 40])
    y = layers.dropout(x, 0.4, training=True)
    (g,) = tf.gradients(y, x)
    xv = np.random.RandomState(0).uniform(1, 2, (50, 40))
    yv, gv = sess.run([y, g], {x: xv})
    np.testing.assert_allclose(gv, yv / xv, rtol=1e-12)
    assert set(np.unique(np.round(gv, 12))) == {0.0, round(1 / 0.6, 12)}


def test_every_functional_layer_is_gradient_checked():
    functional = {n for n in layers.__all__ if n[0].islower()}
    assert functional == set(GRAD_CASES) | {"dropout"}
