"""tf.data subset: sources, transformations, iterators and end-of-input as TF1."""

import numpy as np
import pytest

import headwater as tf
from headwater.data import Dataset


def _drain(sess, t, limit=1000):
    out = []
    try:
        for _ in range(limit):
            out.append(sess.run(t))
    except tf.errors.OutOfRangeError:
        return out
    raise AssertionError("no OutOfRangeError")


def test_from_tensor_slices_batch_shapes_and_end():
    with tf.Graph().as_default():
        ds = Dataset.from_tensor_slices(({"x": np.arange(10.)}, np.arange(10))).batch(4)
        assert ds.output_types == ({"x": tf.float64}, tf.int64)
        f, y = ds.make_one_shot_iterator().get_next()
        assert f["x"].shape.as_list() == [None] and y.dtype == tf.int64
        with tf.Session() as s:
            got = _drain(s, (f, y))
        assert [len(b[1]) for b in got] == [4, 4, 2]
        np.testing.assert_array_equal(np.concatenate([b[0]["x"] for b in got]), np.arange(10.))
        # stays exhausted
        with tf.Session() as s:
            assert len(_drain(s, y)) == 3


def test_python_lists_are_one_component_and_float32():
    with tf.Graph().as_default():
        ds = Dataset.from_tensor_slices([[1., 2.], [3., 4.]])
        assert ds.output_types == tf.float32
        assert ds.output_shapes.as_list() == [2]
        n = ds.make_one_shot_iterator().get_next()
        with tf.Session() as s:
            np.testing.assert_array_equal(s.run(n), [1, 2])


def test_drop_remainder_static_shape():
    with tf.Graph().as_default():
        n = Dataset.from_tensor_slices(np.arange(7)).batch(3, drop_remainder=True) \
            .make_one_shot_iterator().get_next()
        assert n.shape.as_list() == [3]
        with tf.Session() as s:
            assert len(_drain(s, n)) == 2


def test_repeat_shuffle_is_permutation_and_seeded():
    def order(seed):
        with tf.Graph().as_default():
            n = Dataset.from_tensor_slices(np.arange(20)).shuffle(5, seed=seed).repeat(2) \
                .make_one_shot_iterator().get_next()
            with tf.Session() as s:
                return _drain(s, n)
    a = order(3)
    assert sorted(a[:20]) == list(range(20)) and sorted(a[20:]) == list(range(20))
    assert a[:20] != list(range(20))
    assert a == order(3)


def test_map_tuple_args_and_filter():
    with tf.Graph().as_default():
        ds = Dataset.from_tensor_slices((np.arange(6), np.arange(6) * 10))
        ds = ds.map(lambda a, b: (a + b, tf.cast(a, tf.float32) * 0.5))
        ds = ds.filter(lambda s, h: s > 20)
        s_, h = ds.make_one_shot_iterator().get_next()
        assert h.dtype == tf.float32
        with tf.Session() as sess:
            got = _drain(sess, [s_, h])
        assert [int(g[0]) for g in got] == [22, 33, 44, 55]
        assert [float(g[1]) for g in got] == [1.0, 1.5, 2.0, 2.5]


def test_initializable_iterator_with_placeholder():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None])
        it = Dataset.from_tensor_slices(p).batch(2).make_initializable_iterator()
        n = it.get_next()
        with tf.Session() as s:
            with pytest.raises(tf.errors.FailedPreconditionError, match="not been initialized"):
                s.run(n)
            s.run(it.initializer, {p: [1, 2, 3]})
            assert [list(v) for v in _drain(s, n)] == [[1, 2], [3]]
            s.run(it.initializer, {p: [7]})
            assert [list(v) for v in _drain(s, n)] == [[7]]


def test_each_session_has_its_own_position():
    with tf.Graph().as_default():
        n = Dataset.from_tensor_slices(np.arange(3)).make_one_shot_iterator().get_next()
        s1, s2 = tf.Session(), tf.Session()
        assert s1.run(n) == 0 and s1.run(n) == 1 and s2.run(n) == 0


def test_end_of_sequence_error_names_op():
    with tf.Graph().as_default():
        n = Dataset.from_tensors(np.float32(1)).make_one_shot_iterator().get_next()
        with tf.Session() as s:
            assert s.run(n) == 1
            with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence") as e:
                s.run(n)
            assert e.value.op is not None and e.value.op.type == "IteratorGetNext"


def test_take_skip_range_zip_generator():
    with tf.Graph().as_default():
        a = Dataset.range(10).skip(2).take(3)
        b = Dataset.from_generator(lambda: iter([[1, 2], [3, 4], [5, 6]]), tf.int32, [2])
        x, y = Dataset.zip((a, b)).make_one_shot_iterator().get_next()
        assert y.shape.as_list() == [2] and x.dtype == tf.int64
        with tf.Session() as s:
            got = _drain(s, [x, y])
        assert [int(g[0]) for g in got] == [2, 3, 4]
        assert [list(g[1]) for g in got] == [[1, 2], [3, 4], [5, 6]]


def test_mismatched_first_dimension():
    with pytest.raises(ValueError, match="first dimension"):
        Dataset.from_tensor_slices((np.arange(3), np.arange(4)))
