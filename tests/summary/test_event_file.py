"""Event files: CRC-32C, TFRecord framing, FileWriter, read back with TensorBoard's reader."""

import glob
import os
import struct
import time
import warnings

import pytest

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402
from tensorboard.compat.tensorflow_stub import errors as tb_errors  # noqa: E402
from tensorboard.compat.tensorflow_stub import pywrap_tensorflow as tb_pywrap  # noqa: E402

import headwater as tf  # noqa: E402
from headwater.framework import errors  # noqa: E402
from headwater.summary import crc32c as crc  # noqa: E402
from headwater.summary import event_file  # noqa: E402
from headwater.summary import FileWriter, FileWriterCache  # noqa: E402
import headwater.summary as summary  # noqa: E402


def _events_files(d):
    return sorted(glob.glob(os.path.join(str(d), "events.out.tfevents.*")))


def _accumulator(d):
    acc = ea.EventAccumulator(str(d), size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0,
                                                      ea.IMAGES: 0, ea.AUDIO: 0,
                                                      ea.TENSORS: 0})
    acc.Reload()
    return acc


# ---- CRC-32C -----------------------------------------------------------------------------------

CRC_VECTORS = [
    (b"", 0x00000000),
    (b"a", 0xC1D04330),
    (b"123456789", 0xE3069283),
    (b"\x00" * 32, 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
]


@pytest.mark.parametrize("data,expected", CRC_VECTORS)
def test_crc32c_known_vectors(data, expected):
    assert crc.crc32c(data) == expected
    assert crc._crc32c_python(data) == expected


def test_crc32c_backends_agree_on_all_lengths_and_alignments():
    blob = os.urandom(300)
    native = tf._native._C if hasattr(tf, "_native") else None
    for start in range(9):
        for n in (0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200):
            piece = blob[start:start + n]
            ref = crc._crc32c_python(piece)
            assert crc.crc32c(piece) == ref
            if native is not None and hasattr(native, "_crc32c_portable"):
                assert native._crc32c_portable(piece) == ref
    # Continuation: crc(a + b) == crc(b, crc(a)).
    assert crc.crc32c(blob[100:], crc.crc32c(blob[:100])) == crc.crc32c(blob)


def test_crc32c_is_native_when_built():
    from headwater._native import _C

    if _C is None:
        pytest.skip("headwater._C not built")
    assert crc.backend == "headwater._C"
    # A 4 MB buffer must checksum in well under a pure-Python loop's ~4 s.
    blob = os.urandom(4 << 20)
    t = time.perf_counter()
    crc.crc32c(blob)
    assert time.perf_counter() - t < 0.1


def test_masked_crc32c():
    c = 0xE3069283
    m = ((c >> 15) | (c << 17)) + 0xA282EAD8 & 0xFFFFFFFF
    assert crc.masked_crc32c(b"123456789") == m == crc.mask(c)
    assert crc.unmask(m) == c
    # Agrees with TensorBoard's own (pure-Python) implementation.
    for data in (b"", b"x", b"123456789", os.urandom(100)):
        assert crc.masked_crc32c(data) == tb_pywrap.masked_crc32c(data)


def test_frame_record_layout():
    data = b"some event bytes"
    rec = crc.frame_record(data)
    assert len(rec) == len(data) + 16
    (length,) = struct.unpack("<Q", rec[:8])
    assert length == len(data)
    assert struct.unpack("<I", rec[8:12])[0] == crc.masked_crc32c(rec[:8])
    assert rec[12:-4] == data
    assert struct.unpack("<I", rec[-4:])[0] == crc.masked_crc32c(data)
    assert crc.frame_record(b"")[:8] == b"\x00" * 8


# ---- FileWriter ---------------------------------------------------------------------------------

def test_file_name_and_first_event(tmp_path):
    with FileWriter(str(tmp_path), filename_suffix=".run1") as w:
        path = w.event_writer.get_filename()
    name = os.path.basename(path)
    assert name.startswith("events.out.tfevents.")
    assert name.endswith(".run1")
    stamp = name.split(".")[3]
    assert len(stamp) == 10 and abs(int(stamp) - time.time()) < 60
    events = list(event_file.summary_iterator(path))
    assert events[0].file_version == "brain.Event:2"
    assert events[0].wall_time > 0


def test_scalars_read_back_by_event_accumulator(tmp_path):
    with FileWriter(str(tmp_path)) as w:
        for step in range(100):
            V = summary.Summary.Value
            s = summary.Summary(value=[V(tag="loss", simple_value=1.0 / (step + 1)),
                                       V(tag="acc", simple_value=step * 0.01)])
            # Alternate between a proto and its serialized bytes, as Session.run returns.
            w.add_summary(s if step % 2 else s.SerializeToString(), global_step=step)
    acc = _accumulator(tmp_path)
    assert sorted(acc.Tags()["scalars"]) == ["acc", "loss"]
    loss = acc.Scalars("loss")
    assert [e.step for e in loss] == list(range(100))
    assert [e.value for e in loss] == pytest.approx([1.0 / (s + 1) for s in range(100)], rel=1e-6)
    assert [e.value for e in acc.Scalars("acc")] == pytest.approx([s * 0.01 for s in range(100)],
                                                                  rel=1e-6, abs=1e-7)


def test_numpy_step_and_default_step(tmp_path):
    import numpy as np

    with FileWriter(str(tmp_path)) as w:
        w.add_summary(summary.Summary(value=[summary.Summary.Value(tag="x", simple_value=1)]),
                      np.int64(7))
        w.add_summary(summary.Summary(value=[summary.Summary.Value(tag="y", simple_value=2)]))
    events = list(event_file.summary_iterator(_events_files(tmp_path)[0]))
    assert [e.step for e in events[1:]] == [7, 0]


def test_background_thread_writes_after_max_queue_and_flush_secs(tmp_path):
    w = FileWriter(str(tmp_path), max_queue=5, flush_secs=0.2)
    path = w.event_writer.get_filename()
    first = os.path.getsize(path)
    for i in range(3):
        w.add_summary(summary.Summary(value=[summary.Summary.Value(tag="x", simple_value=i)]), i)
    # Fewer than max_queue events: still in memory until the flush timer fires.
    assert os.path.getsize(path) == first
    deadline = time.time() + 5
    while os.path.getsize(path) == first and time.time() < deadline:
        time.sleep(0.02)
    assert os.path.getsize(path) > first
    assert len(list(event_file.summary_iterator(path))) == 4
    w.close()


def test_flush_makes_events_visible(tmp_path):
    w = FileWriter(str(tmp_path), flush_secs=1000)
    w.add_summary(summary.Summary(value=[summary.Summary.Value(tag="x", simple_value=3)]), 1)
    w.flush()
    acc = _accumulator(tmp_path)
    assert [e.value for e in acc.Scalars("x")] == [3.0]
    w.close()


def test_close_reopen_and_closed_warning(tmp_path):
    w = FileWriter(str(tmp_path))
    w.add_summary(summary.Summary(value=[summary.Summary.Value(tag="x", simple_value=1)]), 1)
    w.close()
    w.close()  # idempotent
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        w.add_summary(summary.Summary(value=[summary.Summary.Value(tag="x", simple_value=2)]), 2)
    assert any("closed FileWriter" in str(r.message) for r in rec)
    w.reopen()
    w.add_summary(summary.Summary(value=[summary.Summary.Value(tag="x", simple_value=3)]), 3)
    w.close()
    files = _events_files(tmp_path)
    assert len(files) == 2  # reopen starts a new file
    acc = _accumulator(tmp_path)
    assert [(e.step, e.value) for e in acc.Scalars("x")] == [(1, 1.0), (3, 3.0)]
    assert w.get_logdir() == str(tmp_path)


def test_two_writers_same_second_do_not_clobber(tmp_path):
    a = FileWriter(str(tmp_path))
    b = FileWriter(str(tmp_path))
    assert a.event_writer.get_filename() != b.event_writer.get_filename()
    a.close()
    b.close()


def test_creates_missing_logdir(tmp_path):
    d = tmp_path / "a" / "b"
    with FileWriter(str(d)):
        pass
    assert len(_events_files(d)) == 1


def test_session_log_and_add_event(tmp_path):
    with FileWriter(str(tmp_path)) as w:
        w.add_session_log(summary.SessionLog(status=summary.SessionLog.START), 5)
        ev = summary.Event(wall_time=123.0, step=9,
                           summary=summary.Summary(value=[summary.Summary.Value(
                               tag="z", simple_value=4)]))
        w.add_event(ev)
    events = list(event_file.summary_iterator(_events_files(tmp_path)[0]))
    assert events[1].session_log.status == summary.SessionLog.START
    assert events[1].step == 5
    assert events[2].wall_time == 123.0 and events[2].step == 9


def test_run_metadata_tags_must_be_unique(tmp_path):
    with FileWriter(str(tmp_path)) as w:
        md = tf.RunMetadata()
        w.add_run_metadata(md, "step1", 1)
        with pytest.raises(ValueError, match="already used"):
            w.add_run_metadata(md, "step1", 2)
    acc = _accumulator(tmp_path)
    assert acc.Tags()["run_metadata"] == ["step1"]


def test_file_writer_cache(tmp_path):
    FileWriterCache.clear()
    a = FileWriterCache.get(str(tmp_path))
    assert FileWriterCache.get(str(tmp_path)) is a
    b = FileWriterCache.get(str(tmp_path / "other"))
    assert b is not a
    FileWriterCache.clear()
    assert FileWriterCache.get(str(tmp_path)) is not a
    FileWriterCache.clear()


def test_session_argument_is_rejected(tmp_path):
    with pytest.raises(NotImplementedError):
        FileWriter(str(tmp_path), session=object())


# ---- corruption -----------------------------------------------------------------------------

def _write_scalars(d, n):
    with FileWriter(str(d)) as w:
        for i in range(n):
            w.add_summary(summary.Summary(value=[summary.Summary.Value(tag="x",
                                                                       simple_value=i)]), i)
        return w.event_writer.get_filename()


def _flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x40]))


def _record_offsets(path):
    offs = []
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        offs.append(pos)
        (n,) = struct.unpack("<Q", data[pos:pos + 8])
        pos += 16 + n
    return offs


@pytest.mark.parametrize("where", ["data", "length", "data_crc"])
def test_corrupt_record_detected_by_tensorboard_reader(tmp_path, where):
    path = _write_scalars(tmp_path, 5)
    offs = _record_offsets(path)
    bad = offs[3]
    (n,) = struct.unpack("<Q", open(path, "rb").read()[bad:bad + 8])
    target = {"data": bad + 12 + n // 2, "length": bad + 1, "data_crc": bad + 12 + n + 1}[where]
    _flip_byte(path, target)
    # TensorBoard's record reader raises DataLossError on the corrupt record...
    reader = tb_pywrap.PyRecordReader_New(path)
    good = 0
    with pytest.raises(tb_errors.DataLossError):
        for _ in range(10):
            reader.GetNext()
            good += 1
    assert good == 3
    # ...so the accumulator keeps the events before it and drops the rest.
    acc = _accumulator(tmp_path)
    assert [e.step for e in acc.Scalars("x")] == [0, 1]
    # headwater's own reader reports it the same way.
    with pytest.raises(errors.DataLossError, match="corrupted record"):
        list(event_file.tf_record_iterator(path))


def test_truncated_file_detected(tmp_path):
    path = _write_scalars(tmp_path, 3)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size - 3)
    with pytest.raises(errors.DataLossError, match="truncated"):
        list(event_file.tf_record_iterator(path))


# ---- lazy import --------------------------------------------------------------------------------

def test_import_does_not_load_tensorboard():
    import subprocess
    import sys

    code = ("import sys, headwater, headwater.summary; "
            "print(any(m.startswith(('tensorboard', 'google.protobuf')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_lazy_proto_attributes():
    assert summary.Summary.__name__ == "Summary"
    assert summary.Event.__name__ == "Event"
    assert "Summary" in dir(summary)
    with pytest.raises(AttributeError):
        summary.NoSuchThing  # noqa: B018
