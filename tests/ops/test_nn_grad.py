"""Gradients of tf.nn ops: float64 Jacobians (theoretical vs numerical) for every
differentiable op type nn_ops registers, second derivatives, TF1 conventions at kinks, and a
coverage check so a new op type cannot skip its gradient."""

import numpy as np
import pytest

import headwater as tf
from headwater import nn
from headwater.framework.op_registry import _OP_DEFS
from headwater.gradients import _GRADIENT_REGISTRY, _NOT_DIFFERENTIABLE
from headwater.ops import nn_ops
from headwater.test import compute_gradient_error

F64 = tf.float64
TOL = 1e-6


def _away_from(values, points, margin=0.05):
    """Move values that lie within `margin` of a kink point off it."""
    v = values.copy()
    for p in points:
        close = np.abs(v - p) < margin
        v[close] = p + np.where(v[close] >= p, margin, -margin)
    return v


def _rand(rs, shape, lo=-1.0, hi=1.0):
    return rs.uniform(lo, hi, shape)


def _distinct(rs, shape):
    """Values whose pairwise gaps exceed the finite-difference step (no max/top-k ties)."""
    n = int(np.prod(shape))
    return (rs.permutation(n) * 0.05 - n * 0.025).reshape(shape)


def _grad_of(y, x, g):
    (d,) = tf.gradients(y, x, grad_ys=g)
    return d


# Each case: op types it covers, input shapes, a function (rs -> input values) and a builder
# (list of float64 placeholders -> output). Grad op types (ReluGrad, Conv2DBackpropInput, ...)
# are reached as TF1 users reach them: by differentiating their forward op.
def _unary_case(fn, kinks=(0.0,), shape=(3, 4), lo=-2.0, hi=2.0):
    def values(rs):
        return [_away_from(_rand(rs, shape, lo, hi), kinks)]

    def build(x):
        return fn(x[0])
    return [shape], values, build


def _unary_grad_case(fn, kinks=(0.0,), shape=(3, 4), lo=-2.0, hi=2.0):
    # d/d(g, x) of XGrad(g, ...) = tf.gradients(fn(x), x, grad_ys=g).
    def values(rs):
        return [_rand(rs, shape), _away_from(_rand(rs, shape, lo, hi), kinks)]

    def build(x):
        g, v = x
        return _grad_of(fn(v), v, g)
    return [shape, shape], values, build


def _conv_case(fn, x_shape, f_shape, **kw):
    def values(rs):
        return [_rand(rs, x_shape), _rand(rs, f_shape)]

    def build(x):
        return fn(x[0], x[1], **kw)
    return [x_shape, f_shape], values, build


def _backprop_input_case(fwd, bwd, x_shape, f_shape, **kw):
    # Differentiate Conv2DBackpropInput(sizes, filter, dy) w.r.t. filter and dy.
    def values(rs):
        with tf.Graph().as_default():
            y_shape = fwd(tf.zeros(x_shape, F64), tf.zeros(f_shape, F64), **kw).shape
        return [_rand(rs, f_shape), _rand(rs, y_shape.as_list())]

    def build(x):
        return bwd(list(x_shape), x[0], x[1], **kw)

    with tf.Graph().as_default():
        y_shape = fwd(tf.zeros(x_shape, F64), tf.zeros(f_shape, F64), **kw).shape.as_list()
    return [f_shape, y_shape], values, build


def _backprop_filter_case(fwd, bwd, x_shape, f_shape, **kw):
    with tf.Graph().as_default():
        y_shape = fwd(tf.zeros(x_shape, F64), tf.zeros(f_shape, F64), **kw).shape.as_list()

    def values(rs):
        return [_rand(rs, x_shape), _rand(rs, y_shape)]

    def build(x):
        return bwd(x[0], list(f_shape), x[1], **kw)
    return [x_shape, y_shape], values, build


def _pool_case(fn, shape, k, s, pad):
    def values(rs):
        return [_distinct(rs, shape)]

    def build(x):
        return fn(x[0], k, s, pad)
    return [shape], values, build


def _pool_grad_case(fn, shape, k, s, pad):
    with tf.Graph().as_default():
        y_shape = fn(tf.zeros(shape, F64), k, s, pad).shape.as_list()

    def values(rs):
        return [_distinct(rs, shape), _rand(rs, y_shape)]

    def build(x):
        v, g = x
        return _grad_of(fn(v, k, s, pad), v, g)
    return [shape, y_shape], values, build


def _max_pool_grad_grad_case(shape, k, s, pad):
    with tf.Graph().as_default():
        y_shape = nn.max_pool(tf.zeros(shape, F64), k, s, pad).shape.as_list()

    def values(rs):
        return [_distinct(rs, shape), _rand(rs, y_shape), _rand(rs, shape)]

    def build(x):
        v, g, h = x
        mpg = _grad_of(nn.max_pool(v, k, s, pad), v, g)  # MaxPoolGrad(v, y, g)
        return _grad_of(mpg, g, h)  # MaxPoolGradGrad(v, y, h)
    return [shape, y_shape, shape], values, build


def _xent_values(rs, shape=(3, 4)):
    labels = np.exp(_rand(rs, shape))
    return [_rand(rs, shape) * 2, labels / labels.sum(-1, keepdims=True)]


def _xent_case():
    def build(x):
        return nn.softmax_cross_entropy_with_logits_v2(labels=x[1], logits=x[0])
    return [(3, 4), (3, 4)], _xent_values, build


def _xent_second_order_case():
    # The gradient of the loss w.r.t. logits (uses the op's backprop output), differentiated
    # again: exercises the grad_grad term of the gradient rule.
    def values(rs):
        return _xent_values(rs)[:1]

    labels = _xent_values(np.random.RandomState(3))[1]

    def build(x):
        loss = nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=x[0])
        (g,) = tf.gradients(loss, x[0])
        return g * g
    return [(3, 4)], values, build


def _sparse_xent_case(second_order=False):
    labels = np.array([1, 0, 3])

    def values(rs):
        return [_rand(rs, (3, 4)) * 2]

    def build(x):
        loss = nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x[0])
        if not second_order:
            return loss
        (g,) = tf.gradients(loss, x[0])
        return g * g
    return [(3, 4)], values, build


def _bias_add_case(data_format):
    shape = (2, 3, 4) if data_format == "NHWC" else (2, 4, 3)

    def values(rs):
        return [_rand(rs, shape), _rand(rs, (4,))]

    def build(x):
        return nn.bias_add(x[0], x[1], data_format=data_format)
    return [shape, (4,)], values, build


def _bias_add_grad_direct_case():
    # BiasAddGrad(out_backprop) is linear: differentiate it w.r.t. out_backprop.
    def values(rs):
        return [_rand(rs, (2, 3, 4))]

    def build(x):
        b = tf.constant(np.ones(4))
        (gb,) = tf.gradients(nn.bias_add(tf.zeros([2, 3, 4], F64), b), b, grad_ys=x[0])
        return gb
    return [(2, 3, 4)], values, build


def _fbn_case(is_training, data_format="NHWC"):
    shape = (2, 3, 2, 3) if data_format == "NHWC" else (2, 3, 3, 2)

    def values(rs):
        vals = [_rand(rs, shape) * 2, _rand(rs, (3,), 0.5, 1.5), _rand(rs, (3,))]
        if not is_training:
            vals += [_rand(rs, (3,)), _rand(rs, (3,), 0.5, 1.5)]
        return vals

    def build(x):
        if is_training:
            y, _, _ = nn.fused_batch_norm(x[0], x[1], x[2], data_format=data_format)
        else:
            y, _, _ = nn.fused_batch_norm(x[0], x[1], x[2], x[3], x[4], is_training=False,
                                          data_format=data_format)
        return y * x[0]  # a non-linear readout so d/dx of the normalisation matters
    shapes = [shape, (3,), (3,)] + ([] if is_training else [(3,), (3,)])
    return shapes, values, build


def _top_k_case():
    def values(rs):
        return [_distinct(rs, (3, 5))]

    def build(x):
        return nn.top_k(x[0], 3).values
    return [(3, 5)], values, build


def _l2_loss_case():
    def values(rs):
        return [_rand(rs, (3, 4))]
    return [(3, 4)], values, lambda x: nn.l2_loss(x[0])


CONV_KW = {"strides": [1, 2, 2, 1], "padding": "SAME"}
CONV_KW_DIL = {"strides": [1, 1, 1, 1], "padding": "VALID", "dilations": [1, 2, 1, 1]}
POOL = ([1, 2, 2, 1], [1, 2, 2, 1], "SAME")
POOL_OVERLAP = ([1, 3, 3, 1], [1, 2, 2, 1], "SAME")

# (case id, op types covered, case)
CASES = [
    ("Relu", ["Relu"], _unary_case(nn.relu)),
    ("ReluGrad", ["ReluGrad"], _unary_grad_case(nn.relu)),
    ("Relu6", ["Relu6"], _unary_case(nn.relu6, (0.0, 6.0), lo=-2, hi=8)),
    ("Relu6Grad", ["Relu6Grad"], _unary_grad_case(nn.relu6, (0.0, 6.0), lo=-2, hi=8)),
    ("Elu", ["Elu"], _unary_case(nn.elu)),
    ("EluGrad", ["EluGrad"], _unary_grad_case(nn.elu)),
    ("Selu", ["Selu"], _unary_case(nn.selu)),
    ("SeluGrad", ["SeluGrad"], _unary_grad_case(nn.selu)),
    ("LeakyRelu", ["LeakyRelu"], _unary_case(lambda x: nn.leaky_relu(x, 0.3))),
    ("LeakyReluGrad", ["LeakyReluGrad"], _unary_grad_case(lambda x: nn.leaky_relu(x, 0.3))),
    ("Softplus", ["Softplus"], _unary_case(nn.softplus, ())),
    ("SoftplusGrad", ["SoftplusGrad"], _unary_grad_case(nn.softplus, ())),
    ("Softsign", ["Softsign"], _unary_case(nn.softsign)),
    ("SoftsignGrad", ["SoftsignGrad"], _unary_grad_case(nn.softsign)),
    ("Softmax", ["Softmax"], _unary_case(nn.softmax, ())),
    ("LogSoftmax", ["LogSoftmax"], _unary_case(nn.log_softmax, ())),
    ("BiasAdd", ["BiasAdd"], _bias_add_case("NHWC")),
    ("BiasAdd-NCHW", ["BiasAdd"], _bias_add_case("NCHW")),
    ("BiasAddGrad", ["BiasAddGrad"], _bias_add_grad_direct_case()),
    ("L2Loss", ["L2Loss"], _l2_loss_case()),
    ("SoftmaxXent", ["SoftmaxCrossEntropyWithLogits"], _xent_case()),
    ("SoftmaxXent-2nd", ["SoftmaxCrossEntropyWithLogits"], _xent_second_order_case()),
    ("SparseXent", ["SparseSoftmaxCrossEntropyWithLogits"], _sparse_xent_case()),
    ("SparseXent-2nd", ["SparseSoftmaxCrossEntropyWithLogits"], _sparse_xent_case(True)),
    ("Conv2D", ["Conv2D"], _conv_case(nn.conv2d, (1, 5, 4, 2), (3, 3, 2, 3), **CONV_KW)),
    ("Conv2D-dilated", ["Conv2D"], _conv_case(nn.conv2d, (1, 5, 4, 2), (2, 2, 2, 2),
                                               **CONV_KW_DIL)),
    ("Conv2D-NCHW", ["Conv2D"], _conv_case(nn.conv2d, (1, 2, 5, 4), (3, 3, 2, 2),
                                            strides=[1, 1, 2, 1], padding="SAME",
                                            data_format="NCHW")),
    ("Conv2DBackpropInput", ["Conv2DBackpropInput"],
     _backprop_input_case(nn.conv2d, nn.conv2d_backprop_input, (1, 5, 4, 2), (3, 3, 2, 3),
                          **CONV_KW)),
    ("Conv2DBackpropFilter", ["Conv2DBackpropFilter"],
     _backprop_filter_case(nn.conv2d, nn.conv2d_backprop_filter, (1, 5, 4, 2), (3, 3, 2, 3),
                           **CONV_KW)),
    ("Depthwise", ["DepthwiseConv2dNative"],
     _conv_case(nn.depthwise_conv2d_native, (1, 5, 4, 2), (3, 3, 2, 2), **CONV_KW)),
    ("DepthwiseBackpropInput", ["DepthwiseConv2dNativeBackpropInput"],
     _backprop_input_case(nn.depthwise_conv2d_native,
                          nn.depthwise_conv2d_native_backprop_input, (1, 5, 4, 2),
                          (3, 3, 2, 2), **CONV_KW)),
    ("DepthwiseBackpropFilter", ["DepthwiseConv2dNativeBackpropFilter"],
     _backprop_filter_case(nn.depthwise_conv2d_native,
                           nn.depthwise_conv2d_native_backprop_filter, (1, 5, 4, 2),
                           (3, 3, 2, 2), **CONV_KW)),
    ("MaxPool", ["MaxPool"], _pool_case(nn.max_pool, (1, 4, 5, 2), *POOL)),
    ("MaxPool-overlap", ["MaxPool"], _pool_case(nn.max_pool, (1, 5, 5, 2), *POOL_OVERLAP)),
    ("MaxPoolGrad", ["MaxPoolGrad"], _pool_grad_case(nn.max_pool, (1, 5, 5, 2),
                                                     *POOL_OVERLAP)),
    ("MaxPoolGradGrad", ["MaxPoolGradGrad"], _max_pool_grad_grad_case((1, 4, 5, 2), *POOL)),
    ("AvgPool", ["AvgPool"], _pool_case(nn.avg_pool, (1, 5, 5, 2), *POOL_OVERLAP)),
    ("AvgPoolGrad", ["AvgPoolGrad"], _pool_grad_case(nn.avg_pool, (1, 5, 5, 2),
                                                     *POOL_OVERLAP)),
    ("FusedBatchNorm-train", ["FusedBatchNormV3"], _fbn_case(True)),
    ("FusedBatchNorm-train-NCHW", ["FusedBatchNormV3"], _fbn_case(True, "NCHW")),
    ("FusedBatchNorm-infer", ["FusedBatchNormV3"], _fbn_case(False)),
    ("TopKV2", ["TopKV2"], _top_k_case()),
]


def _missing_grads(graph):
    """Op types in `graph` with neither a gradient rule nor a NotDifferentiable mark."""
    return sorted({op.type for op in graph.get_operations()
                   if op.type not in _GRADIENT_REGISTRY and op.type not in _NOT_DIFFERENTIABLE
                   and op.type not in ("Const", "Placeholder")})


@pytest.mark.parametrize("name,types,case", CASES, ids=[c[0] for c in CASES])
def test_gradient(name, types, case):
    shapes, values, build = case
    rs = np.random.RandomState(sum(map(ord, name)))
    with tf.Graph().as_default() as g, tf.Session():
        xs = [tf.placeholder(F64, s, name="x%d" % i) for i, s in enumerate(shapes)]
        y = build(xs)
        assert any(op.type in types for op in g.get_operations()), \
            "case %s builds no %s op" % (name, types)
        y_shape = y.shape.as_list()
        assert None not in y_shape
        err = compute_gradient_error(xs, [list(s) for s in shapes], y, y_shape,
                                     x_init_value=values(rs), delta=1e-5)
    assert err < TOL, "%s: max Jacobian error %g" % (name, err)


def test_every_nn_op_type_has_a_gradient_or_is_not_differentiable():
    mine = {t for t, od in _OP_DEFS.items()
            if getattr(od.kernel, "__module__", None) == nn_ops.__name__}
    assert mine == set(nn_ops.OP_TYPES)
    covered = {t for _, types, _ in CASES for t in types}
    for t in sorted(mine):
        if t in _NOT_DIFFERENTIABLE:
            assert t not in covered
            continue
        assert _OP_DEFS[t].gradient is not None, "%s has no gradient rule" % t
        assert t in covered, "%s has a gradient rule but no numerical check" % t


# ---- composite functions (differentiated through the math/array ops they build) ---------------


def _composite(build, shapes, values, skip_missing=True):
    with tf.Graph().as_default() as g, tf.Session():
        xs = [tf.placeholder(F64, s) for s in shapes]
        y = build(xs)
        missing = _missing_grads(g)
        if missing and skip_missing:
            pytest.skip("gradient rules not registered yet for %s" % missing)
        return compute_gradient_error(xs, [list(s) for s in shapes], y, y.shape.as_list(),
                                      x_init_value=values, delta=1e-5)


COMPOSITES = [
    ("sigmoid_xent", lambda x: nn.sigmoid_cross_entropy_with_logits(labels=x[1], logits=x[0]),
     [(3, 4), (3, 4)]),
    ("weighted_xent", lambda x: nn.weighted_cross_entropy_with_logits(
        labels=x[1], logits=x[0], pos_weight=1.7), [(3, 4), (3, 4)]),
    ("softmax_xent_v1", lambda x: nn.softmax_cross_entropy_with_logits(
        labels=np.full((3, 4), 0.25), logits=x[0]), [(3, 4)]),
    ("xent_rank3_axis1", lambda x: nn.softmax_cross_entropy_with_logits_v2(
        labels=nn.softmax(x[1], axis=1), logits=x[0], axis=1), [(2, 3, 2), (2, 3, 2)]),
    ("sparse_xent_rank3", lambda x: nn.sparse_softmax_cross_entropy_with_logits(
        labels=np.array([[0, 2], [1, 1]]), logits=x[0]), [(2, 2, 3)]),
    ("softmax_axis0", lambda x: nn.softmax(x[0], axis=0), [(3, 4)]),
    ("l2_normalize", lambda x: nn.l2_normalize(x[0], axis=1), [(3, 4)]),
    ("moments", lambda x: tf.stack(list(nn.moments(x[0], [0, 1]))), [(3, 2, 4)]),
    ("batch_normalization", lambda x: nn.batch_normalization(x[0], x[1], x[2], x[3], x[4],
                                                             1e-3),
     [(3, 4), (4,), (4,), (4,), (4,)]),
    ("xw_plus_b", lambda x: nn.xw_plus_b(x[0], x[1], x[2]), [(2, 3), (3, 4), (4,)]),
    ("crelu", lambda x: nn.crelu(x[0]), [(2, 3)]),
    ("swish", lambda x: nn.swish(x[0]), [(2, 3)]),
]


@pytest.mark.parametrize("name,build,shapes", COMPOSITES, ids=[c[0] for c in COMPOSITES])
def test_composite_gradient(name, build, shapes):
    rs = np.random.RandomState(len(name))
    values = [_away_from(_rand(rs, s, -2, 2), (0.0,)) for s in shapes]
    if name == "batch_normalization":
        values[2] = np.abs(values[2]) + 0.5  # variance
    if name in ("sigmoid_xent", "weighted_xent"):
        values[1] = np.abs(values[1]) / 2
    err = _composite(build, shapes, values)
    assert err < TOL, "%s: max Jacobian error %g" % (name, err)


def test_softmax_xent_v1_stops_gradient_into_labels():
    with tf.Graph().as_default():
        logits = tf.constant(np.zeros((2, 3)))
        labels = tf.constant(np.full((2, 3), 1 / 3))
        v1 = nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        v2 = nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
        g1 = tf.gradients(v1, [logits, labels])
        g2 = tf.gradients(v2, [logits, labels])
        assert g1[0] is not None and g1[1] is None
        assert g2[1] is not None
        with tf.Session() as s:
            np.testing.assert_allclose(s.run(g2[1]), np.full((2, 3), np.log(3.0)))


def test_embedding_lookup_gradient_is_sparse_and_sums_repeated_ids():
    params = np.arange(12.0).reshape(4, 3)
    with tf.Graph().as_default(), tf.Session() as s:
        p = tf.constant(params)
        e = nn.embedding_lookup(p, [[2, 0], [2, 3]])
        w = np.random.RandomState(0).randn(2, 2, 3)
        (g,) = tf.gradients(tf.reduce_sum(e * w), p)
        assert isinstance(g, tf.IndexedSlices) if hasattr(tf, "IndexedSlices") else True
        dense = s.run(tf.convert_to_tensor(g))
    expect = np.zeros((4, 3))
    for (i, j), idx in np.ndenumerate(np.array([[2, 0], [2, 3]])):
        expect[idx] += w[i, j]
    np.testing.assert_allclose(dense, expect)


def test_dropout_gradient_is_the_scaled_mask():
    with tf.Graph().as_default() as g:
        x = tf.constant(np.ones((50, 40)))
        y = nn.dropout(x, keep_prob=0.4, seed=3)
        missing = _missing_grads(g)
        if missing:
            pytest.skip("gradient rules not registered yet for %s" % missing)
        (dx,) = tf.gradients(y, x)
        with tf.Session() as s:
            yv, dv = s.run([y, dx])
    np.testing.assert_allclose(dv, (yv != 0) / 0.4)


# ---- TF1 conventions ---------------------------------------------------------------------------


def test_gradients_at_kinks_follow_tf():
    # Values from TensorFlow 1.x: relu'(0) = 0, relu6'(6) = 0, leaky'(0) = alpha,
    # elu'(0) = 1, selu'(0) = scale.
    c = np.array([0.0, 1.0, -1.0, 6.0, 7.0], np.float32)
    expect = {
        nn.relu: [0, 1, 0, 1, 1],
        nn.relu6: [0, 1, 0, 0, 0],
        nn.leaky_relu: [0.2, 1, 0.2, 1, 1],
        nn.elu: [1, 1, np.exp(-1), 1, 1],
        nn.selu: [1.0507009873554805, 1.0507009873554805,
                  1.0507009873554805 * 1.6732632423543772 * np.exp(-1), 1.0507009873554805,
                  1.0507009873554805],
    }
    with tf.Graph().as_default(), tf.Session() as s:
        t = tf.constant(c)
        for fn, want in expect.items():
            (d,) = tf.gradients(fn(t), t)
            np.testing.assert_allclose(s.run(d), want, rtol=1e-6)


def test_gradient_op_names_and_types():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        (g,) = tf.gradients(nn.relu(x), x)
        assert g.op.type == "ReluGrad" and g.op.name == "gradients/Relu_grad/ReluGrad"
        assert g.shape.as_list() == [None, 4]
        img = tf.placeholder(tf.float32, [None, 8, 8, 3])
        f = tf.ones([3, 3, 3, 4])
        conv = nn.conv2d(img, f, [1, 1, 1, 1], "SAME")
        gi, gf = tf.gradients(nn.max_pool(conv, 2, 2, "SAME"), [img, f])
        assert gi.op.type == "Conv2DBackpropInput" and gi.shape.as_list() == [None, 8, 8, 3]
        assert gf.op.type == "Conv2DBackpropFilter" and gf.shape.as_list() == [3, 3, 3, 4]
        b = tf.ones([4])
        (gb,) = tf.gradients(nn.bias_add(conv, b), b)
        assert gb.op.type == "BiasAddGrad" and gb.shape.as_list() == [4]


def test_max_pool_gradient_goes_to_first_maximum():
    # TF routes the gradient of a tied window to its first maximum (row-major).
    with tf.Graph().as_default(), tf.Session() as s:
        x = tf.constant(np.ones((1, 2, 2, 1), np.float32))
        (d,) = tf.gradients(nn.max_pool(x, 2, 2, "VALID"), x)
        np.testing.assert_array_equal(s.run(d).reshape(2, 2), [[1, 0], [0, 0]])
        x2 = tf.constant(np.array([[1, 3, 3], [3, 0, 1], [2, 2, 2]], np.float32).reshape(
            1, 3, 3, 1))
        (d2,) = tf.gradients(nn.max_pool(x2, 2, 1, "VALID"), x2)
        # Windows with top-left corners (0,0), (0,1), (1,0), (1,1) have their first maxima
        # at (0,1), (0,1), (1,0), (2,1): (0,1) receives two gradients.
        np.testing.assert_array_equal(s.run(d2).reshape(3, 3),
                                      [[0, 2, 0], [1, 0, 0], [0, 1, 0]])


def test_max_pool_gradient_uses_forward_argmax(monkeypatch):
    """With a MaxPoolGrad in the graph, the native MaxPool records its argmax and the gradient
    spreads from it (x is not re-read); the result equals the recomputing path, fed or fetched
    outputs and NCHW included, and a y the forward did not produce falls back."""
    if nn_ops._native("max_pool_argmax") is None:
        pytest.skip("native core not built")
    used = []
    recall = nn_ops._recall_argmax

    def spy(x, y, geom):
        arg = recall(x, y, geom)
        used.append(arg is not None)
        return arg
    monkeypatch.setattr(nn_ops, "_recall_argmax", spy)
    rs = np.random.RandomState(0)
    xv = rs.randint(-3, 4, (3, 9, 7, 19)).astype(np.float32)  # ties, odd sizes, SAME padding
    gv = rs.uniform(-1, 1, (3, 5, 4, 19)).astype(np.float32)
    want = nn_ops._max_pool_grad(xv, gv, nn_ops._Geom(
        {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "SAME"}))
    with tf.Graph().as_default(), tf.Session() as s:
        x = tf.placeholder(tf.float32, [None, 9, 7, 19])
        y = nn.max_pool(x, 2, 2, "SAME")
        (d,) = tf.gradients(y, x, grad_ys=tf.constant(gv))
        np.testing.assert_array_equal(s.run(d, {x: xv}), want)
        assert used == [True]
        yv, dv = s.run([y, d], {x: xv})  # the fetched output keeps its workspace alive
        np.testing.assert_array_equal(dv, want)
        # y fed instead of computed: no workspace for it, the argmax is recomputed from x.
        np.testing.assert_array_equal(s.run(d, {x: xv, y: yv.copy()}), want)
        assert used == [True, True, False]
    assert not nn_ops._POOL_ARGMAX or all(e[0]() is not None for e in
                                          nn_ops._POOL_ARGMAX.values())
    with tf.Graph().as_default(), tf.Session() as s:
        x = tf.constant(xv.transpose(0, 3, 1, 2))
        (d,) = tf.gradients(nn.max_pool(x, [1, 1, 2, 2], [1, 1, 2, 2], "SAME",
                                        data_format="NCHW"), x,
                            grad_ys=tf.constant(gv.transpose(0, 3, 1, 2)))
        np.testing.assert_array_equal(s.run(d), want.transpose(0, 3, 1, 2))


def test_top_k_gradient_scatters_into_indices():
    with tf.Graph().as_default(), tf.Session() as s:
        x = tf.constant(np.array([[1.0, 5.0, 3.0, 5.0], [0.0, -1.0, 2.0, 1.0]]))
        v, _ = nn.top_k(x, 2)
        (d,) = tf.gradients(v, x, grad_ys=tf.constant(np.array([[10.0, 20.0],
                                                                 [30.0, 40.0]])))
        np.testing.assert_array_equal(s.run(d), [[0, 10, 0, 20], [0, 0, 30, 40]])


def test_in_top_k_is_not_differentiable():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [2, 3])
        r = tf.cast(nn.in_top_k(p, [0, 1], 1), tf.float32)
        assert tf.gradients(r, p) == [None]
