"""The summary fast paths give the same bytes as the plain protobuf-message paths.

Scalar summaries reuse a serialized per-tag template, merges of summaries with constant tags
concatenate their inputs, histograms assemble the HistogramProto's packed fields from numpy
arrays, and `FileWriter.add_summary` skips the metadata walk for outputs of ops that never
attach metadata. Each is checked here against the message API (or TensorBoard's reader).
"""

import glob
import os

import numpy as np
import pytest

pytest.importorskip("tensorboard")

import headwater as tf  # noqa: E402
from headwater import summary  # noqa: E402
from headwater.framework import errors  # noqa: E402
from headwater.summary import event_file, summary_ops  # noqa: E402
from headwater.summary import _protos  # noqa: E402

Summary = _protos.summary_pb2.Summary
HistogramProto = _protos.summary_pb2.HistogramProto
DMAX = np.finfo(np.float64).max


def _run(fetch, feed=None):
    with tf.Session() as sess:
        return sess.run(fetch, feed)


# ---- scalar template ----------------------------------------------------------------------------

SCALARS = [0.0, -0.0, 1.0, -1.0, 0.1, 1e-45, 1e-46, -3.4e38, 3.4028235e38, 3.5e38, 1e300,
           -1e300, np.inf, -np.inf, np.nan, 2.0 ** -149, 123456789.0]


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64, tf.int32, tf.int64])
def test_scalar_template_equals_message(dtype):
    np_dtype = dtype.as_numpy_dtype
    with tf.Graph().as_default():
        p = tf.placeholder(dtype, [])
        with tf.name_scope("scope"):
            s = summary.scalar("loss/x", p)
        with tf.Session() as sess:
            for x in SCALARS:
                if dtype.is_integer:
                    if not np.isfinite(x) or abs(x) > 2 ** 31:
                        continue
                    x = int(x)
                with np.errstate(over="ignore"):
                    value = np.asarray(x, np_dtype)
                got = sess.run(s, {p: value})
                expect = Summary(value=[Summary.Value(tag="scope/loss/x",
                                                      simple_value=float(value))])
                assert got == expect.SerializeToString(), x


def test_scalar_template_checked_against_protobuf():
    prefix, pack = summary_ops._scalar_template("a/b")
    assert prefix + pack(2.5) == Summary(
        value=[Summary.Value(tag="a/b", simple_value=2.5)]).SerializeToString()


# ---- merge by concatenation ----------------------------------------------------------------------

def _merge_by_proto(pieces):
    out = Summary()
    for p in pieces:
        out.MergeFrom(Summary.FromString(p))
    return out.SerializeToString()


def test_merge_by_concatenation_equals_merge_by_proto(tmp_path):
    rng = np.random.default_rng(1)
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [])
        w = tf.placeholder(tf.float32, [None, 5])
        img = tf.placeholder(tf.float32, [2, 3, 4, 1])
        parts = [summary.scalar("a", a), summary.histogram("w", w),
                 summary.image("img", img, max_outputs=2), summary.scalar("b", a * 2.0),
                 summary.text("notes", tf.constant("hi"))]
        merged = summary.merge(parts)
        feed = {a: 1.5, w: rng.normal(size=(7, 5)), img: rng.random((2, 3, 4, 1))}
        with tf.Session() as sess:
            out = sess.run([merged] + parts, feed)
    got, pieces = out[0], out[1:]
    assert got == b"".join(pieces)
    assert got == _merge_by_proto(pieces)
    # TensorBoard reads both the same.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for name, data in (("concat", got), ("proto", _merge_by_proto(pieces))):
        d = tmp_path / name
        with summary.FileWriter(str(d)) as fw:
            fw.add_summary(data, 3)
        acc = EventAccumulator(str(d), size_guidance={"tensors": 0})
        acc.Reload()
        assert [e.value for e in acc.Scalars("a")] == [1.5]
        assert [e.value for e in acc.Scalars("b")] == [3.0]
        h = acc.Histograms("w")[0].histogram_value
        assert h.num == 35
        assert len(acc.Images("img/image/0")) == 1 and len(acc.Images("img/image/1")) == 1


# ---- histogram assembled from arrays --------------------------------------------------------------

EDGE_VALUES = [
    [0.0], [-0.0], [0.0, -0.0, 0.0], [-1.0], [-1e-12, 1e-12], [1e-13, -1e-13],
    [DMAX, -DMAX], [1e20, -1e20, 1e21], [5e-324, -5e-324], [1.0, 1.1, 1.21, -1.1],
    list(np.arange(-5, 6)),
]


def _message_bytes(values):
    return summary_ops.histogram_proto(values).SerializeToString()


@pytest.mark.parametrize("values", EDGE_VALUES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.float16])
def test_histogram_bytes_equal_message_on_edge_values(values, dtype):
    with np.errstate(over="ignore", invalid="ignore"):
        arr = np.asarray(values, np.float64).astype(dtype)
    if not np.isfinite(arr.astype(np.float64)).all():
        return
    got = summary_ops.histogram_bytes(arr)
    assert got == _message_bytes(arr)
    h = HistogramProto.FromString(got)
    # Buckets against a numpy reference (TF's rule: first edge greater than the value).
    lim = summary_ops.default_bucket_limits()
    d = arr.astype(np.float64).ravel()
    idx = np.minimum(np.searchsorted(lim, d, side="right"), len(lim) - 1)
    counts = np.bincount(idx, minlength=len(lim))
    kept = {float(b): c for b, c in zip(h.bucket_limit, h.bucket)}
    for i in np.nonzero(counts)[0]:
        assert kept[lim[i]] == counts[i]
    assert sum(h.bucket) == d.size and h.num == d.size
    assert h.min == d.min() and h.max == d.max()


@pytest.mark.parametrize("n", [1, 2, 127, 128, 129, 1000, 7840, 40000])
def test_histogram_bytes_equal_message_random(n):
    rng = np.random.default_rng(n)
    v = rng.normal(size=n) * 10.0 ** rng.integers(-14, 22, size=n)
    for arr in (v, v.astype(np.float32), v.reshape(1, -1)[:, ::2], np.abs(v), -np.abs(v)):
        assert summary_ops.histogram_bytes(arr) == _message_bytes(arr)


def test_histogram_bytes_empty_and_non_finite():
    for empty in (np.zeros((0,), np.float32), np.zeros((3, 0)), np.zeros((0,), np.int32)):
        assert summary_ops.histogram_bytes(empty) == _message_bytes(empty)
        h = HistogramProto.FromString(summary_ops.histogram_bytes(empty))
        assert h.num == 0 and list(h.bucket_limit) == [DMAX] and list(h.bucket) == [0.0]
    for bad, word in (([1.0, np.nan], "Nan"), ([np.inf, 0.0], "Infinity"),
                      ([-np.inf], "Infinity")):
        for dtype in (np.float32, np.float64):
            with pytest.raises(errors.InvalidArgumentError, match="%s in summary histogram "
                               "for: w" % word):
                summary_ops.histogram_bytes(np.asarray(bad, dtype), "w")
    # Finite values whose sum overflows are legitimate, as in TF.
    big = np.array([DMAX, DMAX])
    assert summary_ops.histogram_bytes(big) == _message_bytes(big)


def test_histogram_op_output_equals_message_path():
    rng = np.random.default_rng(3)
    with tf.Graph().as_default():
        w = tf.placeholder(tf.float32, [None, 10])
        h = summary.histogram("weights", w)
        value = rng.normal(size=(784, 10)).astype(np.float32) * 0.01
        got = _run(h, {w: value})
    expect = Summary()
    v = expect.value.add()
    v.tag = "weights"
    summary_ops.fill_histogram(v.histo, value)
    assert got == expect.SerializeToString()


# ---- FileWriter.add_summary ----------------------------------------------------------------------

def _events(logdir):
    (path,) = glob.glob(os.path.join(str(logdir), "events.out.tfevents.*"))
    return list(event_file.summary_iterator(path))[1:]


def test_add_summary_fast_path_writes_what_the_message_path_writes(tmp_path):
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [])
        w = tf.placeholder(tf.float32, [4])
        merged = summary.merge([summary.scalar("a", a), summary.histogram("w", w)])
        with tf.Session() as sess:
            data = sess.run(merged, {a: 0.25, w: [1.0, 2.0, -3.0, 0.0]})
    assert summary_ops.is_metadata_free(data)
    assert not summary_ops.is_metadata_free(bytes(bytearray(data)))  # unknown: walked
    with summary.FileWriter(str(tmp_path / "fast")) as fw:
        fw.add_summary(data, 5)
        fw.add_summary(np.array(data, dtype=object), np.int64(6))
    with summary.FileWriter(str(tmp_path / "slow")) as fw:
        fw.add_summary(Summary.FromString(data), 5)
        fw.add_summary(bytearray(data), 6)
    fast, slow = _events(tmp_path / "fast"), _events(tmp_path / "slow")
    assert [e.step for e in fast] == [5, 6] == [e.step for e in slow]
    for f, s in zip(fast, slow):
        assert f.summary == s.summary == Summary.FromString(data)


def test_add_summary_still_strips_repeated_metadata(tmp_path):
    with tf.Graph().as_default():
        t = summary.text("notes", tf.constant("hello"))
        s = summary.scalar("x", tf.constant(1.0))
        merged = summary.merge([t, s])
        with tf.Session() as sess:
            data = sess.run(merged)
    assert not summary_ops.is_metadata_free(data)
    with summary.FileWriter(str(tmp_path)) as fw:
        fw.add_summary(data, 1)
        fw.add_summary(data, 2)
    first, second = _events(tmp_path)
    by_tag = {v.tag: v for v in first.summary.value}
    assert by_tag["notes"].metadata.plugin_data.plugin_name == "text"
    assert all(not v.HasField("metadata") for v in second.summary.value)


def test_full_queue_is_written_by_the_add_call_in_order(tmp_path):
    w = summary.FileWriter(str(tmp_path), max_queue=3, flush_secs=0.01)
    for i in range(200):  # the flush thread drains concurrently: order must hold
        w.add_summary(Summary(value=[Summary.Value(tag="x", simple_value=i)]), i)
    w.close()
    assert [e.step for e in _events(tmp_path)] == list(range(200))
    assert [e.summary.value[0].simple_value for e in _events(tmp_path)] == list(range(200))


def test_write_error_is_reported_as_unknown_error(tmp_path):
    w = summary.FileWriter(str(tmp_path), max_queue=2)
    ew = w.event_writer
    good = ew._file
    ew._file = open(os.devnull, "rb", buffering=0)  # writes fail with EBADF
    one = Summary(value=[Summary.Value(tag="x", simple_value=1.0)])
    w.add_summary(one, 1)
    w.add_summary(one, 2)  # fills the queue: encoded now, written later
    with pytest.raises(errors.UnknownError, match="Failed to write to events file"):
        w.flush()
    with pytest.raises(errors.UnknownError, match="Failed to write to events file"):
        w.add_summary(one, 3)
    ew._file.close()
    ew._file = good
    w.close()


def test_writer_thread_writes_big_chunks_in_order(tmp_path):
    data = np.random.default_rng(0).random(3000)
    with summary.FileWriter(str(tmp_path), flush_secs=1000) as w:
        for i in range(300):  # ~24 KB each: several chunks for the writer thread
            w.add_summary(Summary(value=[Summary.Value(
                tag="h", histo=summary_ops.histogram_proto(data + i))]), i)
    events = _events(tmp_path)
    assert [e.step for e in events] == list(range(300))
    assert [e.summary.value[0].histo.min for e in events] == [data.min() + i for i in range(300)]


def test_histogram_op_reuses_prefixes_across_lengths_and_tags():
    rng = np.random.default_rng(4)
    with tf.Graph().as_default():
        w = tf.placeholder(tf.float64, [None])
        tag = tf.placeholder(tf.string, [])
        h = summary.histogram("weights", w)
        h_dyn = summary_ops._create("HistogramSummary", [tag, w], {"T": tf.float64}, "dyn/")
        with tf.Session() as sess:
            for i in range(40):
                value = rng.normal(size=int(rng.integers(1, 300))) * 10.0 ** rng.integers(-5, 5)
                if i % 7 == 0:
                    value[:] = 0.0  # zero stats: the message path serializes them
                t = "t%d" % (i % 3)
                got, got_dyn = sess.run([h, h_dyn], {w: value, tag: t})
                for name, out in (("weights", got), (t, got_dyn)):
                    expect = Summary()
                    v = expect.value.add()
                    v.tag = name
                    summary_ops.fill_histogram(v.histo, value)
                    assert out == expect.SerializeToString()


def test_deferred_events_are_the_bytes_the_message_path_serializes(tmp_path):
    Event = _protos.event_pb2.Event
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [])
        w = tf.placeholder(tf.float32, [None])
        merged = summary.merge([summary.scalar("a", a), summary.histogram("w", w)])
        with tf.Session() as sess, summary.FileWriter(str(tmp_path), max_queue=4) as fw:
            datas = []
            steps = [None, 0, 1, -5, 2 ** 40, np.int64(7), 2 ** 63 - 1, None, 3]
            for i, step in enumerate(steps):
                data = sess.run(merged, {a: i * 0.5, w: np.arange(i + 1.0)})
                datas.append(data)
                fw.add_summary(data, step)
            with pytest.raises(ValueError):
                fw.add_summary(data, 2 ** 63)
    (path,) = glob.glob(os.path.join(str(tmp_path), "events.out.tfevents.*"))
    records = list(event_file.tf_record_iterator(path))[1:]
    assert len(records) == len(steps)
    for rec, data, step in zip(records, datas, steps):
        ev = Event.FromString(rec)
        expect = Event(wall_time=ev.wall_time, summary=Summary.FromString(data))
        if step is not None:
            expect.step = int(step)
        assert rec == expect.SerializeToString()


def test_flush_secs_zero_does_not_spin_the_writer_thread(tmp_path):
    import time

    w = summary.FileWriter(str(tmp_path), flush_secs=0)
    w.add_summary(Summary(value=[Summary.Value(tag="x", simple_value=1.0)]), 1)
    t0 = time.process_time()
    time.sleep(0.3)
    assert time.process_time() - t0 < 0.2  # the flush thread sleeps between flushes
    assert [e.step for e in _events(tmp_path)] == [1]  # and did flush
    w.close()
