"""Summary ops: TF1 names and tags, serialized values, read back with TensorBoard's reader.

Expected names, tags, histogram buckets, pixels and WAV bytes were produced by TensorFlow 1.x
(`tensorflow.compat.v1`) on the same inputs.
"""

import struct
import zlib

import numpy as np
import pytest

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402

import headwater as tf  # noqa: E402
import headwater.summary as summary  # noqa: E402
from headwater.framework import errors  # noqa: E402
from headwater.summary import summary_ops  # noqa: E402

X = np.array([[0.1, -0.5, 2.0], [0.0, 1e-13, 3.0]], np.float32)


def _decode_png(data):
    """(height, width, channels, pixels) of a non-interlaced 8-bit PNG with filter 0 rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, color, _, _, _ = ihdr
    assert depth == 8
    c = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
    assert (raw[:, 0] == 0).all()
    return h, w, c, raw[:, 1:].reshape(h, w, c)


def _run(fetch, feed=None):
    with tf.Session() as sess:
        return sess.run(fetch, feed)


def _parse(b):
    return summary.Summary.FromString(b)


# ---- names and tags --------------------------------------------------------------------------

def test_names_tags_and_collection_as_tf1():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        s1 = summary.scalar("xent", tf.reduce_sum(x))
        with tf.name_scope("loss"):
            s2 = summary.scalar("xent", tf.reduce_mean(x))
        s3 = summary.scalar("xent", tf.reduce_max(x))
        s4 = summary.scalar("a b", tf.reduce_max(x), family="fam")
        h = summary.histogram("weights", x)
        im = summary.image("img", tf.reshape(x, [-1, 1, 3, 1]), max_outputs=2)
        au = summary.audio("snd", tf.reshape(x, [-1, 3]), 8000, max_outputs=2)
        hello = tf.constant("hello")
        tx = summary.text("txt", hello)
        ts = summary.tensor_summary("tens", x)
        m = summary.merge([s1, s2], name="mm")
        m2 = summary.merge([s1, s2])
        ma = summary.merge_all()
        got = [(t.name, t.op.type, [i.name for i in t.op.inputs])
               for t in [s1, s2, s3, s4, h, im, au, tx, ts, m, m2]]
        assert got == [
            ("xent:0", "ScalarSummary", ["xent/tags:0", "Sum:0"]),
            ("loss/xent:0", "ScalarSummary", ["loss/xent/tags:0", "loss/Mean:0"]),
            ("xent_1:0", "ScalarSummary", ["xent_1/tags:0", "Max:0"]),
            ("fam/a_b:0", "ScalarSummary", ["fam/a_b/tags:0", "Max_1:0"]),
            ("weights:0", "HistogramSummary", ["weights/tag:0", "x:0"]),
            ("img:0", "ImageSummary", ["img/tag:0", "Reshape:0"]),
            ("snd:0", "AudioSummaryV2", ["snd/tag:0", "Reshape_1:0", "snd/sample_rate:0"]),
            ("txt:0", "TensorSummaryV2", ["txt/tag:0", hello.name,
                                          "txt/serialized_summary_metadata:0"]),
            ("tens:0", "TensorSummaryV2", ["tens/tag:0", "x:0",
                                           "tens/serialized_summary_metadata:0"]),
            ("mm/mm:0", "MergeSummary", ["xent:0", "loss/xent:0"]),
            ("Merge/MergeSummary:0", "MergeSummary", ["xent:0", "loss/xent:0"]),
        ]
        assert ma.name == "Merge_1/MergeSummary:0"
        assert [t.name for t in tf.get_collection(tf.GraphKeys.SUMMARIES)] == [
            "xent:0", "loss/xent:0", "xent_1:0", "fam/a_b:0", "weights:0", "img:0", "snd:0",
            "txt:0", "tens:0"]
        for t in (s1, h, im, au, tx, ts, m, ma):
            assert t.dtype == tf.string and t.shape.as_list() == []
        assert im.op.get_attr("max_images") == 2 and au.op.get_attr("max_outputs") == 2
        assert s1.op.get_attr("T") == tf.float32
        tags = [v.tag for v in _parse(_run(ma, {x: X})).value]
        assert tags == ["xent", "loss/xent", "xent_1", "fam/fam/a_b", "weights", "img/image/0",
                        "img/image/1", "snd/audio/0", "snd/audio/1", "txt", "tens"]


def test_collections_argument_and_merge_all_scope():
    with tf.Graph().as_default():
        assert summary.merge_all() is None
        with tf.name_scope("train"):
            a = summary.scalar("a", tf.constant(1.0))
        with tf.name_scope("eval"):
            b = summary.scalar("b", tf.constant(2.0), collections=["eval_summaries"])
        assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [a]
        assert tf.get_collection("eval_summaries") == [b]
        assert summary.merge_all("nothing_here") is None
        ev = summary.merge_all("eval_summaries")
        assert [v.tag for v in _parse(_run(ev)).value] == ["eval/b"]
        tr = summary.merge_all(scope="train")
        assert [v.tag for v in _parse(_run(tr)).value] == ["train/a"]
        none = summary.scalar("c", tf.constant(3.0), collections=[])
        assert none not in tf.get_collection(tf.GraphKeys.SUMMARIES)


def test_merge_rejects_duplicate_tags():
    with tf.Graph().as_default():
        a = summary.scalar("a", tf.constant(1.0))
        with pytest.raises(errors.InvalidArgumentError, match="Duplicate tag a"):
            _run(summary.merge([a, a]))


def test_invalid_tag_characters_are_replaced():
    with tf.Graph().as_default():
        s = summary.scalar("/my loss (avg)", tf.constant(1.0))
        assert [v.tag for v in _parse(_run(s)).value] == ["my_loss__avg_"]


# ---- scalar ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [tf.float32, tf.float64, tf.int32, tf.int64, tf.float16])
def test_scalar_values(dtype):
    with tf.Graph().as_default():
        s = summary.scalar("v", tf.constant(7, dtype=dtype))
        out = _run(s)
        assert isinstance(out, bytes)
        (v,) = _parse(out).value
        assert v.tag == "v" and v.simple_value == 7.0


def test_scalar_shape_and_dtype_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=r"tags and values not the same shape: \(\) != "
                                             r"\(3,\)"):
            summary.scalar("v", tf.constant([1.0, 2.0, 3.0]))
        with pytest.raises(TypeError, match="DataType string not in list"):
            summary.scalar("s", tf.constant("x"))
        with pytest.raises(TypeError, match="DataType bool not in list"):
            summary.scalar("b", tf.constant(True))
        p = tf.placeholder(tf.float32, None)
        s = summary.scalar("p", p)
        with pytest.raises(errors.InvalidArgumentError, match=r"not the same shape: \[\] != "
                                                              r"\[2\] \(tag 'p'\)"):
            _run(s, {p: [1.0, 2.0]})


# ---- histogram --------------------------------------------------------------------------------

def test_default_bucket_limits_match_tensorflow():
    lim = summary_ops.default_bucket_limits()
    assert len(lim) == 1551
    assert lim[775] == 0.0 and lim[776] == 1e-12 and lim[774] == -1e-12
    assert lim[-1] == np.finfo(np.float64).max and lim[0] == -lim[-1]
    assert (np.diff(lim) > 0).all()
    np.testing.assert_array_equal(lim[:775], -lim[776:][::-1])
    # Edges are built by repeated multiplication, so they are not exactly 1e-12 * 1.1**k.
    assert lim[776 + 10] == 1e-12 * 1.1 * 1.1 * 1.1 * 1.1 * 1.1 * 1.1 * 1.1 * 1.1 * 1.1 * 1.1
    assert lim[-2] < 1e20 <= lim[-2] * 1.1


def test_histogram_matches_tensorflow_exactly():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        h = summary.histogram("weights", x)
        (v,) = _parse(_run(h, {x: X})).value
    assert v.tag == "weights"
    hp = v.histo
    assert (hp.min, hp.max, hp.num) == (-0.5, 3.0, 6.0)
    assert hp.sum == 4.6000000014902156
    assert hp.sum_squares == 13.260000000298025
    assert list(hp.bucket_limit) == [
        -0.51776167404891815, -0.47069243095356195, 0.0, 1e-12, 0.093123988155807136,
        0.10243638697138786, 1.9661990955585713, 2.1628190051144287, 2.8787120958073054,
        3.1665833053880363, 1.7976931348623157e+308]
    assert list(hp.bucket) == [0, 1, 0, 2, 0, 1, 0, 1, 0, 1, 0]


def test_histogram_empty_and_nan():
    hp = summary_ops.histogram_proto(np.zeros((0,), np.float32))
    assert hp.num == 0 and list(hp.bucket_limit) == [np.finfo(np.float64).max]
    assert list(hp.bucket) == [0.0]
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None])
        h = summary.histogram("w", p)
        with pytest.raises(errors.InvalidArgumentError, match="Nan in summary histogram for: w"):
            _run(h, {p: [1.0, np.nan]})


def test_histogram_counts_against_numpy():
    rng = np.random.default_rng(0)
    v = rng.normal(size=5000) * 10.0 ** rng.integers(-8, 8, size=5000)
    hp = summary_ops.histogram_proto(v)
    assert sum(hp.bucket) == 5000
    assert hp.sum == pytest.approx(v.sum(), rel=1e-9)
    lim = summary_ops.default_bucket_limits()
    counts = np.histogram(v, bins=np.r_[-np.inf, lim])[0]
    # numpy bins are [a, b) like TF's upper_bound; collapse runs of empties the same way.
    expect = []
    i = 0
    while i < len(counts):
        end, c = lim[i], counts[i]
        i += 1
        if c == 0:
            while i < len(counts) and counts[i] == 0:
                end, c = lim[i], counts[i]
                i += 1
        expect.append((end, c))
    assert list(zip(hp.bucket_limit, hp.bucket)) == [(e, float(c)) for e, c in expect]


# ---- image --------------------------------------------------------------------------------

def test_image_float_normalization_as_tensorflow():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        im = summary.image("img", tf.reshape(x, [-1, 1, 3, 1]), max_outputs=2)
        one = summary.image("img1", tf.reshape(x, [-1, 1, 3, 1]), max_outputs=1)
        vals = _parse(_run(im, {x: X})).value
        single = _parse(_run(one, {x: X})).value
    assert [v.tag for v in vals] == ["img/image/0", "img/image/1"]
    assert [v.tag for v in single] == ["img1/image"]
    pix = []
    for v in vals:
        assert (v.image.height, v.image.width, v.image.colorspace) == (1, 3, 1)
        h, w, c, p = _decode_png(v.image.encoded_image_string)
        assert (h, w, c) == (1, 3, 1)
        pix.append(p.ravel().tolist())
    # Mixed signs: 127/max|x| around 128; non-negative: 255/max (TF1's pixel values).
    assert pix == [[134, 96, 255], [0, 0, 255]]


def test_image_uint8_rgb_rgba_and_bad_color():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(4, 5, 7, 3), dtype=np.uint8)
    rgba = rng.integers(0, 256, size=(1, 2, 3, 4), dtype=np.uint8)
    f = np.array([[[[0.5, 0.5, 0.5], [np.nan, 0.0, 1.0]]]], np.float32)
    with tf.Graph().as_default():
        a = summary.image("rgb", tf.constant(rgb))
        b = summary.image("rgba", tf.constant(rgba))
        c = summary.image("bad", tf.constant(f))
        va, vb, vc = _run([a, b, c])
    va = _parse(va).value
    assert len(va) == 3  # max_outputs defaults to 3
    for i, v in enumerate(va):
        h, w, ch, p = _decode_png(v.image.encoded_image_string)
        assert (h, w, ch) == (5, 7, 3) and v.image.colorspace == 3
        np.testing.assert_array_equal(p, rgb[i])
    (vb,) = _parse(vb).value
    np.testing.assert_array_equal(_decode_png(vb.image.encoded_image_string)[3], rgba[0])
    (vc,) = _parse(vc).value
    p = _decode_png(vc.image.encoded_image_string)[3]
    # Range from finite pixels only (max 0.5 -> x510); the NaN pixel is painted red.
    assert p.tolist() == [[[255, 255, 255], [255, 0, 0]]]


def test_image_shape_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="4-D with last dim 1, 3, or 4"):
            summary.image("i", tf.zeros([2, 3, 3]))
        with pytest.raises(ValueError, match="4-D with last dim 1, 3, or 4"):
            summary.image("i", tf.zeros([1, 3, 3, 2]))
        with pytest.raises(TypeError, match="DataType int32"):
            summary.image("i", tf.zeros([1, 3, 3, 1], tf.int32))


# ---- audio / text / tensor ----------------------------------------------------------------

def test_audio_wav_bytes_as_tensorflow():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        au = summary.audio("snd", tf.reshape(x, [-1, 3]), 8000, max_outputs=2)
        vals = _parse(_run(au, {x: X})).value
    assert [v.tag for v in vals] == ["snd/audio/0", "snd/audio/1"]
    a = vals[0].audio
    assert (a.sample_rate, a.num_channels, a.length_frames, a.content_type) == (
        8000, 1, 3, "audio/wav")
    assert a.encoded_audio_string == (
        b"RIFF*\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00"
        b"\x02\x00\x10\x00data\x06\x00\x00\x00\xcd\x0c\x00\xc0\xff\x7f")
    assert vals[1].audio.encoded_audio_string[-6:] == b"\x00\x00\x00\x00\xff\x7f"


def test_audio_stereo():
    clip = np.stack([np.linspace(-1, 1, 5), np.zeros(5)], axis=1)[None].astype(np.float32)
    with tf.Graph().as_default():
        au = summary.audio("st", tf.constant(clip), 16000.0, max_outputs=1)
        (v,) = _parse(_run(au)).value
    assert v.tag == "st/audio" and v.audio.num_channels == 2 and v.audio.length_frames == 5
    pcm = np.frombuffer(v.audio.encoded_audio_string[44:], "<i2").reshape(5, 2)
    assert pcm[:, 0].tolist() == [-32768, -16384, 0, 16384, 32767]
    assert (pcm[:, 1] == 0).all()


def test_text_and_tensor_summary():
    with tf.Graph().as_default():
        t = summary.text("notes", tf.constant(["**bold**", "two"]))
        ts = summary.tensor_summary("tens", tf.constant(X), display_name="shown")
        with pytest.raises(ValueError, match="to have dtype string"):
            summary.text("bad", tf.constant(1.0))
        vt, vs = _run([t, ts])
    (vt,) = _parse(vt).value
    assert vt.tag == "notes" and vt.metadata.plugin_data.plugin_name == "text"
    assert list(vt.tensor.string_val) == [b"**bold**", b"two"]
    assert [d.size for d in vt.tensor.tensor_shape.dim] == [2]
    (vs,) = _parse(vs).value
    assert vs.metadata.display_name == "shown"
    assert vs.tensor.dtype == tf.float32.as_datatype_enum
    np.testing.assert_array_equal(np.frombuffer(vs.tensor.tensor_content, "<f4").reshape(2, 3),
                                  X)


def test_summary_built_by_hand():
    s = summary.Summary(value=[summary.Summary.Value(tag="x", simple_value=1.0)])
    assert summary.Summary.FromString(s.SerializeToString()).value[0].simple_value == 1.0
    assert tf.summary.Summary is summary.Summary if hasattr(tf, "summary") else True


# ---- end to end through FileWriter and EventAccumulator ---------------------------------------

def test_everything_read_back_by_event_accumulator(tmp_path):
    rng = np.random.default_rng(3)
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 4, 4, 3], name="images")
        step_t = tf.placeholder(tf.float32, [], name="step")
        with tf.name_scope("loss"):
            summary.scalar("value", step_t * 2.0)
        summary.histogram("pixels", x)
        summary.image("inputs", x, max_outputs=2)
        summary.audio("tone", tf.reshape(x, [-1, 48]), 100.0, max_outputs=1)
        summary.text("note", tf.constant("hello *world*"))
        merged = summary.merge_all()
        batches = [rng.random((3, 4, 4, 3)).astype(np.float32) for _ in range(4)]
        with tf.Session() as sess, summary.FileWriter(str(tmp_path), g) as w:
            for step, b in enumerate(batches):
                w.add_summary(sess.run(merged, {x: b, step_t: step}), step)
    acc = ea.EventAccumulator(str(tmp_path), size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0,
                                                             ea.IMAGES: 0, ea.AUDIO: 0,
                                                             ea.TENSORS: 0})
    acc.Reload()
    tags = acc.Tags()
    assert tags["scalars"] == ["loss/value"]
    assert tags["histograms"] == ["pixels"]
    assert sorted(tags["images"]) == ["inputs/image/0", "inputs/image/1"]
    assert tags["audio"] == ["tone/audio"]
    assert tags["tensors"] == ["note"]
    assert tags["graph"] is True
    assert [(e.step, e.value) for e in acc.Scalars("loss/value")] == [
        (0, 0.0), (1, 2.0), (2, 4.0), (3, 6.0)]
    for e, b in zip(acc.Histograms("pixels"), batches):
        hv = e.histogram_value
        assert hv.num == b.size
        assert hv.min == pytest.approx(float(b.min())) and hv.max == pytest.approx(float(b.max()))
        assert hv.sum == pytest.approx(float(b.astype(np.float64).sum()))
        assert sum(hv.bucket) == b.size
        assert len(hv.bucket_limit) == len(hv.bucket)
    imgs = acc.Images("inputs/image/1")
    assert [(e.step, e.width, e.height) for e in imgs] == [(s, 4, 4) for s in range(4)]
    assert _decode_png(imgs[0].encoded_image_string)[:3] == (4, 4, 3)
    au = acc.Audio("tone/audio")
    assert len(au) == 4 and au[0].sample_rate == 100.0 and au[0].length_frames == 48
    assert au[0].content_type == "audio/wav"
    (note,) = acc.Tensors("note")[:1]
    assert note.tensor_proto.string_val == [b"hello *world*"]


def test_bucket_index_equals_binary_search_on_and_around_every_edge():
    lim = summary_ops.default_bucket_limits()
    inner = lim[1:-1]
    rng = np.random.default_rng(5)
    v = np.concatenate([rng.normal(size=5000) * 10.0 ** rng.integers(-15, 22, size=5000),
                        inner, np.nextafter(inner, 0), np.nextafter(inner, np.inf),
                        [0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300]])
    ref = np.minimum(np.searchsorted(lim, v, side="right"), len(lim) - 1)
    np.testing.assert_array_equal(summary_ops._bucket_index(v), ref)
