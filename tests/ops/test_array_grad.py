"""Gradients of the array ops: numeric Jacobian checks (float64) for every differentiable op
type, IndexedSlices from gather, second derivatives, and a coverage check that every op type
registered by array_ops has a gradient or is declared not differentiable."""

import numpy as np
import pytest

import headwater as tf
from headwater.framework.op_registry import _OP_DEFS
from headwater.gradients import IndexedSlices, stop_gradient_ops
from headwater.ops import array_ops

F64 = tf.float64


def _y_shape(sess, y, feed):
    if y.shape.is_fully_defined():
        return y.shape.as_list()
    return list(np.shape(sess.run(y, feed)))


def _check(xs_spec, build, tol=1e-7, extra=None):
    """xs_spec: list of (static placeholder shape, value shape); build(*xs) -> y. Returns the
    max Jacobian error."""
    with tf.Graph().as_default():
        rng = np.random.RandomState(3)
        xs = [tf.placeholder(F64, shape=s) for s, _ in xs_spec]
        inits = [rng.uniform(-1, 1, size=v) for _, v in xs_spec]
        extra_feed = {}
        y = build(*xs) if extra is None else build(*xs, feeds=extra_feed)
        with tf.Session() as sess:
            feed = dict(zip(xs, inits))
            feed.update(extra_feed)
            ys = _y_shape(sess, y, feed)
            err = tf.test.compute_gradient_error(
                xs if len(xs) > 1 else xs[0], [v for _, v in xs_spec] if len(xs) > 1
                else xs_spec[0][1], y, ys, x_init_value=inits if len(xs) > 1 else inits[0],
                extra_feed_dict=extra_feed)
    assert err < tol, err
    return y


def _s(shape):
    return [(shape, shape)]


def _dyn_int(feeds, value, name="dyn"):
    """An int32 placeholder fed with `value` (so the op sees it only at run time)."""
    arr = np.asarray(value, dtype=np.int32)
    t = tf.placeholder(tf.int32, shape=[None] * arr.ndim, name=name)
    feeds[t] = arr
    return t


def _ss_grad_direct(x):
    attrs = {"begin_mask": 0, "end_mask": 1, "ellipsis_mask": 0, "new_axis_mask": 0,
             "shrink_axis_mask": 0}
    return array_ops._strided_slice_grad(tf.constant([5, 2]), tf.constant([1, 0]),
                                         tf.constant([0, 2]), tf.constant([2, 1]), x, attrs)


def _mirror_pad_grad_direct(mode):
    def build(x):
        return array_ops._apply1("MirrorPadGrad", [x, tf.constant([[2, 1], [1, 0]])],
                                 {"mode": mode})
    return build


# (case id, op type exercised, [(placeholder shape, value shape)], builder[, needs feeds])
CASES = [
    ("identity", "Identity", _s([2, 3]), lambda x: tf.identity(x)),
    ("placeholder_with_default", "PlaceholderWithDefault", _s([2, 3]),
     lambda x: tf.placeholder_with_default(x, [2, 3])),
    ("identity_n", "IdentityN", _s([2, 3]), lambda x: tf.identity_n([x, 2.0 * x])[1]),
    ("reshape", "Reshape", _s([2, 3]), lambda x: tf.reshape(x, [3, 2])),
    ("reshape_unknown", "Reshape", [([None, 3], [4, 3])], lambda x: tf.reshape(x, [-1])),
    ("expand_dims", "ExpandDims", _s([2, 3]), lambda x: tf.expand_dims(x, -1)),
    ("squeeze", "Squeeze", _s([2, 1, 3]), lambda x: tf.squeeze(x, [1])),
    ("squeeze_unknown", "Squeeze", [([None, 1, 3], [2, 1, 3])], lambda x: tf.squeeze(x)),
    ("transpose_2d", "Transpose", _s([2, 3]), lambda x: tf.transpose(x)),
    ("transpose_201", "Transpose", _s([2, 3, 4]), lambda x: tf.transpose(x, [2, 0, 1])),
    ("transpose_dyn", "Transpose", _s([2, 3, 4]),
     lambda x, feeds: tf.transpose(x, _dyn_int(feeds, [1, 2, 0])), True),
    ("concat_0", "ConcatV2", [([2, 3], [2, 3]), ([1, 3], [1, 3])],
     lambda a, b: tf.concat([a, b], 0)),
    ("concat_1_three", "ConcatV2", [([2, 1], [2, 1]), ([2, 3], [2, 3]), ([2, 2], [2, 2])],
     lambda a, b, c: tf.concat([a, b, c], 1)),
    ("concat_neg_axis", "ConcatV2", [([2, 2, 1], [2, 2, 1]), ([2, 2, 2], [2, 2, 2])],
     lambda a, b: tf.concat([a, b], -1)),
    ("concat_unknown_sizes", "ConcatV2", [([None, 3], [2, 3]), ([None, 3], [3, 3])],
     lambda a, b: tf.concat([a, b], 0)),
    ("concat_unknown_rank", "ConcatV2", [(None, [2, 3]), (None, [2, 1])],
     lambda a, b: tf.concat([a, b], 1)),
    ("concat_dyn_axis", "ConcatV2", [([2, 3], [2, 3]), ([2, 1], [2, 1])],
     lambda a, b, feeds: tf.concat([a, b], _dyn_int(feeds, -1)), True),
    ("stack_0", "Pack", [([2, 3], [2, 3]), ([2, 3], [2, 3])], lambda a, b: tf.stack([a, b])),
    ("stack_neg", "Pack", [([2, 3], [2, 3]), ([2, 3], [2, 3])],
     lambda a, b: tf.stack([a, b], axis=-1)),
    ("unstack_partial", "Unpack", _s([3, 2]), lambda x: tf.unstack(x)[1] * 3.0),
    ("unstack_axis1", "Unpack", _s([3, 2]),
     lambda x: tf.unstack(x, axis=1)[0] + 2.0 * tf.unstack(x, axis=1)[1]),
    ("split", "Split", _s([4, 3]), lambda x: tf.split(x, 2, axis=0)[1]),
    ("split_both", "Split", _s([2, 4]),
     lambda x: tf.split(x, 2, axis=1)[0] * tf.split(x, 2, axis=1)[1]),
    ("splitv", "SplitV", _s([5, 3]), lambda x: tf.split(x, [2, -1], axis=0)[1]),
    ("slice", "Slice", _s([4, 5]), lambda x: tf.slice(x, [1, 2], [2, 2])),
    ("slice_minus_one", "Slice", _s([4, 5]), lambda x: tf.slice(x, [1, 0], [-1, 3])),
    ("slice_dyn_begin", "Slice", [([None, 5], [4, 5])],
     lambda x, feeds: tf.slice(x, _dyn_int(feeds, [1, 1]), [2, -1]), True),
    ("ss_basic", "StridedSlice", _s([4, 5]), lambda x: x[1:3, ::2]),
    ("ss_negative_strides", "StridedSlice", _s([4, 5]), lambda x: x[::-1, 4:0:-2]),
    ("ss_ellipsis_newaxis", "StridedSlice", _s([2, 3, 4]), lambda x: x[..., tf.newaxis, 1:3]),
    ("ss_shrink", "StridedSlice", _s([2, 3, 4]), lambda x: x[1, :, -1]),
    ("ss_unknown_shape", "StridedSlice", [([None, 3], [4, 3])], lambda x: x[-3:, 1]),
    ("ss_dyn_begin", "StridedSlice", _s([4, 3]),
     lambda x, feeds: tf.strided_slice(x, _dyn_int(feeds, [3, 0]), [0, 3], [-1, 2]), True),
    ("strided_slice_grad", "StridedSliceGrad", _s([2, 2]), _ss_grad_direct),
    ("gather_0_repeated", "GatherV2", _s([5, 2]),
     lambda x: tf.gather(tf.reshape(x, [5, 2]), [[0, 3], [3, 3]])),
    ("gather_axis1", "GatherV2", _s([2, 4, 3]), lambda x: tf.gather(x, [3, 0, 3], axis=1)),
    ("gather_axis_neg", "GatherV2", _s([2, 4]), lambda x: tf.gather(x, [1, 1, 2], axis=-1)),
    ("gather_batch", "GatherV2", _s([2, 4, 3]),
     lambda x: tf.batch_gather(x, [[0, 0], [3, 1]])),
    ("gather_batch_axis2", "GatherV2", _s([2, 3, 4]),
     lambda x: tf.gather(x, [[1, 1, 0], [3, 2, 2]], axis=2, batch_dims=1)),
    ("gather_unknown_params", "GatherV2", [([None, None], [3, 4])],
     lambda x: tf.gather(x, [2, 0], axis=1)),
    ("gather_nd", "GatherNd", _s([3, 4]), lambda x: tf.gather_nd(x, [[0, 1], [2, 3], [0, 1]])),
    ("gather_nd_rows", "GatherNd", _s([3, 4]), lambda x: tf.gather_nd(x, [[2], [0]])),
    ("scatter_nd", "ScatterNd", _s([3, 2]),
     lambda u: tf.scatter_nd([[0], [2], [0]], u, [4, 2])),
    ("tile", "Tile", _s([2, 3]), lambda x: tf.tile(x, [2, 3])),
    ("tile_dyn", "Tile", [([None, 3], [2, 3])],
     lambda x, feeds: tf.tile(x, _dyn_int(feeds, [3, 1])), True),
    ("pad", "Pad", _s([2, 3]), lambda x: tf.pad(x, [[1, 2], [0, 1]])),
    ("pad_dyn", "Pad", [([None, 3], [2, 3])],
     lambda x, feeds: tf.pad(x, _dyn_int(feeds, [[1, 0], [2, 1]])), True),
    ("padv2", "PadV2", _s([2, 3]), lambda x: tf.pad(x, [[1, 0], [0, 2]], constant_values=2.0)),
    ("mirror_pad_reflect", "MirrorPad", _s([3, 4]),
     lambda x: tf.pad(x, [[2, 1], [1, 3]], mode="REFLECT")),
    ("mirror_pad_symmetric", "MirrorPad", _s([3, 4]),
     lambda x: tf.pad(x, [[3, 1], [0, 4]], mode="SYMMETRIC")),
    ("mirror_pad_grad_reflect", "MirrorPadGrad", _s([6, 3]), _mirror_pad_grad_direct("REFLECT")),
    ("mirror_pad_grad_symmetric", "MirrorPadGrad", _s([6, 3]),
     _mirror_pad_grad_direct("SYMMETRIC")),
    ("reverse", "ReverseV2", _s([2, 3, 2]), lambda x: tf.reverse(x, [0, 2])),
    ("reverse_sequence", "ReverseSequence", _s([3, 4, 2]),
     lambda x: tf.reverse_sequence(x, [4, 2, 0], seq_axis=1, batch_axis=0)),
    ("broadcast_to", "BroadcastTo", _s([3, 1]), lambda x: tf.broadcast_to(x, [2, 3, 4])),
    ("broadcast_to_unknown", "BroadcastTo", [([None, 1], [3, 1])],
     lambda x: tf.broadcast_to(x, tf.stack([2, tf.shape(x)[0], 2]))),
    ("fill", "Fill", _s([]), lambda v: tf.fill([2, 3], v)),
    ("matrix_diag", "MatrixDiag", _s([2, 3]), lambda x: tf.matrix_diag(x)),
    ("matrix_diag_part_square", "MatrixDiagPart", _s([2, 3, 3]),
     lambda x: tf.matrix_diag_part(x)),
    ("matrix_diag_part_wide", "MatrixDiagPart", _s([2, 4]), lambda x: tf.matrix_diag_part(x)),
    ("matrix_set_diag", "MatrixSetDiag", [([2, 3, 3], [2, 3, 3]), ([2, 3], [2, 3])],
     lambda x, d: tf.matrix_set_diag(x, d)),
    ("matrix_band_part", "MatrixBandPart", _s([4, 4]),
     lambda x: tf.matrix_band_part(x, 1, 0)),
    ("diag", "Diag", _s([2, 2]), lambda x: tf.diag(x)),
    ("diag_part", "DiagPart", _s([2, 3, 2, 3]), lambda x: tf.diag_part(x)),
    ("boolean_mask", "BooleanMask", _s([4, 2]),
     lambda x: tf.boolean_mask(x, [True, False, True, True])),
    ("boolean_mask_2d", "BooleanMask", _s([2, 3, 2]),
     lambda x: tf.boolean_mask(x, [[True, False, True], [False, False, True]])),
    ("boolean_mask_axis1", "BooleanMask", _s([2, 3, 2]),
     lambda x: tf.boolean_mask(x, [False, True, True], axis=1)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradient_numeric(case):
    _, op_type, spec, build = case[:4]
    needs_feeds = len(case) > 4
    y = _check(spec, build, extra=True if needs_feeds else None)
    # The table is only honest if the op it names is really in the graph.
    assert any(op.type == op_type for op in y.graph.get_operations()), op_type


# Types exercised outside the table (complex dtypes cannot go through compute_gradient).
TESTED_ELSEWHERE = {"ConjugateTranspose"}
SOURCES = {"Const", "Placeholder"}


def test_every_array_op_has_gradient_or_is_not_differentiable():
    mine = sorted(t for t, od in _OP_DEFS.items()
                  if getattr(od.kernel, "__module__", None) == "headwater.ops.array_ops")
    assert "Reshape" in mine and "StridedSliceGrad" in mine and "MirrorPadGrad" in mine
    tabled = {c[1] for c in CASES}
    nondiff = stop_gradient_ops()
    missing = []
    for t in mine:
        od = _OP_DEFS[t]
        if t in SOURCES:
            continue
        if t in nondiff:
            assert od.gradient is None, t
            continue
        if od.gradient is None:
            missing.append(t + " (no gradient rule)")
        elif t not in tabled and t not in TESTED_ELSEWHERE:
            missing.append(t + " (not in the gradient-check table)")
    assert not missing, missing


def test_not_differentiable_ops_give_none():
    with tf.Graph().as_default():
        x = tf.placeholder(F64, [2, 3])
        ys = [tf.stop_gradient(x), tf.cast(tf.shape(tf.reshape(x, [-1, 2])), F64),
              tf.zeros_like(x), tf.ones_like(x)]
        for y in ys:
            assert tf.gradients(y, x) == [None]
        # Partially stopped: only the open path counts.
        g, = tf.gradients(x * 2.0 + tf.stop_gradient(x) * 5.0, x)
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(g, {x: np.ones((2, 3))}), np.full((2, 3), 2.0))


def test_one_hot_has_no_gradient_for_on_value():
    with tf.Graph().as_default():
        on = tf.placeholder(F64, [])
        y = tf.one_hot([0, 2], 3, on_value=on, off_value=tf.constant(0.0, F64))
        assert tf.gradients(y, on) == [None]


def test_gather_axis0_gives_indexed_slices():
    with tf.Graph().as_default():
        params = tf.placeholder(F64, [5, 2])
        idx = tf.constant([[1, 3], [1, 1]])
        y = tf.gather(params, idx)
        g, = tf.gradients(y, params, grad_ys=tf.reshape(tf.range(8, dtype=F64), [2, 2, 2]))
        assert isinstance(g, IndexedSlices)
        assert g.values.shape.as_list() == [4, 2]
        assert g.indices.shape.as_list() == [4]
        assert g.shape.as_list() == [5, 2]
        dense = tf.convert_to_tensor(g)
        with tf.Session() as sess:
            vals, inds, ds, d = sess.run([g.values, g.indices, g.dense_shape, dense],
                                         {params: np.zeros((5, 2))})
        np.testing.assert_array_equal(vals, np.arange(8.0).reshape(4, 2))
        np.testing.assert_array_equal(inds, [1, 3, 1, 1])
        np.testing.assert_array_equal(ds, [5, 2])
        # Duplicates are summed when densified.
        expect = np.zeros((5, 2))
        for i, row in zip([1, 3, 1, 1], np.arange(8.0).reshape(4, 2)):
            expect[i] += row
        np.testing.assert_array_equal(d, expect)


def test_gather_indexed_slices_flow_through_identity_and_densify_in_reshape():
    with tf.Graph().as_default():
        params = tf.placeholder(F64, [4, 3])
        y1 = tf.gather(tf.identity(params), [0, 0])
        g1, = tf.gradients(y1, params)
        assert isinstance(g1, IndexedSlices)
        y2 = tf.gather(tf.reshape(params, [3, 4]), [2, 2, 0])
        g2, = tf.gradients(y2, params)
        assert isinstance(g2, tf.Tensor) and g2.shape.as_list() == [4, 3]
        with tf.Session() as sess:
            d1, d2 = sess.run([tf.convert_to_tensor(g1), g2], {params: np.zeros((4, 3))})
        np.testing.assert_array_equal(d1, np.array([[2.0] * 3] + [[0.0] * 3] * 3))
        np.testing.assert_array_equal(d2.reshape(3, 4), [[1] * 4, [0] * 4, [2] * 4])


def test_gather_unknown_index_count():
    with tf.Graph().as_default():
        params = tf.placeholder(F64, [None, 2])
        idx = tf.placeholder(tf.int32, [None])
        g, = tf.gradients(tf.reduce_sum(tf.gather(params, idx)), params)
        with tf.Session() as sess:
            d = sess.run(tf.convert_to_tensor(g), {params: np.zeros((3, 2)), idx: [2, 2, 0]})
        np.testing.assert_array_equal(d, [[1, 1], [0, 0], [2, 2]])


def test_concat_of_placeholders_with_unknown_sizes_gets_runtime_split():
    with tf.Graph().as_default():
        a = tf.placeholder(F64, [None, 2])
        b = tf.placeholder(F64, [None, 2])
        y = tf.concat([a, b], 0)
        ga, gb = tf.gradients(y, [a, b], grad_ys=tf.reshape(tf.range(10, dtype=F64), [5, 2]))
        assert ga.shape.as_list() == [None, 2]
        with tf.Session() as sess:
            va, vb = sess.run([ga, gb], {a: np.zeros((2, 2)), b: np.zeros((3, 2))})
        np.testing.assert_array_equal(va, [[0, 1], [2, 3]])
        np.testing.assert_array_equal(vb, [[4, 5], [6, 7], [8, 9]])


def test_gradient_static_shapes():
    with tf.Graph().as_default():
        x = tf.placeholder(F64, [2, 3, 4])
        for y in [x[::-1, 1], tf.transpose(x, [1, 2, 0]), tf.reshape(x, [6, 4]),
                  tf.tile(x, [1, 2, 1]), tf.pad(x, [[0, 1], [1, 1], [2, 0]]),
                  tf.gather(x, [1, 1], axis=2)]:
            g, = tf.gradients(y, x)
            assert g.shape.as_list() == [2, 3, 4], (y.op.type, g.shape)
            assert g.dtype == F64


def test_conjugate_transpose_gradient():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.complex128, [2, 3])
        y = tf.transpose(x, conjugate=True)
        assert y.op.type == "ConjugateTranspose"
        dy = np.arange(6).reshape(3, 2) + 1j * np.arange(6).reshape(3, 2)
        g, = tf.gradients(y, x, grad_ys=tf.constant(dy))
        with tf.Session() as sess:
            v = sess.run(g, {x: np.zeros((2, 3), np.complex128)})
        np.testing.assert_array_equal(v, np.conj(dy.T))


def _second_derivative_err(build, shape):
    with tf.Graph().as_default():
        x = tf.placeholder(F64, shape)
        y = build(x)
        g, = tf.gradients(tf.reduce_sum(y * y), x)  # 2 * d(y)/dx^T y
        with tf.Session():
            return tf.test.compute_gradient_error(x, shape, g, shape,
                                                  x_init_value=np.random.RandomState(0)
                                                  .uniform(-1, 1, shape))


@pytest.mark.parametrize("build", [
    lambda x: tf.reshape(x, [6, 2]),
    lambda x: tf.transpose(x, [2, 0, 1]),
    lambda x: x[::-1, 1:, tf.newaxis, 0],
    lambda x: tf.pad(x, [[1, 1], [2, 0], [0, 1]], mode="REFLECT"),
    lambda x: tf.gather(tf.reshape(x, [3, 4]), [2, 0, 2]),
], ids=["reshape", "transpose", "strided_slice", "mirror_pad", "gather"])
def test_second_derivatives(build):
    assert _second_derivative_err(build, [2, 3, 2]) < 1e-7


def test_hessian_through_strided_slice():
    with tf.Graph().as_default():
        x = tf.placeholder(F64, [3])
        y = tf.reduce_sum(x[1:] * x[:-1])
        h, = tf.hessians(y, x)
        with tf.Session() as sess:
            v = sess.run(h, {x: [1.0, 2.0, 3.0]})
        np.testing.assert_array_equal(v, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])


def test_strided_slice_grad_op_shape_and_values():
    with tf.Graph().as_default():
        dy = tf.constant([[1.0, 2.0]], F64)
        attrs = {"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 1,
                 "shrink_axis_mask": 0}
        out = array_ops._strided_slice_grad(tf.constant([4]), tf.constant([0, 1]),
                                            tf.constant([0, 4]), tf.constant([1, 2]), dy,
                                            attrs)
        assert out.shape.as_list() == [4] and out.dtype == F64
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(out), [0, 1, 0, 2])
