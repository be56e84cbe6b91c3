"""Saver, checkpoint files and their failure modes."""

import errno
import json
import os
import re
import signal
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import headwater as tf
from headwater.framework import errors
from headwater.train import checkpoint_management as cm
from headwater.train import saver as saver_mod



def _env():
    # The child must import the very headwater this process uses (the installed one, with its
    # _C), not the source tree: a fallback kernel there would change the last bits.
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _model(values):
    """A graph with one variable per (name, array) and a session with them initialized."""
    g = tf.Graph()
    with g.as_default():
        vs = {name: tf.Variable(v, name=name) for name, v in values.items()}
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=g)
    sess.run(init)
    return g, sess, vs


def _special(dtype):
    rng = np.random.default_rng(0)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        a = rng.standard_normal(17).astype(dt)
        a[:5] = [np.nan, np.inf, -np.inf, -0.0, np.finfo(dt).tiny]
        # A NaN with a payload: bit-exactness must keep it.
        bits = a.view(np.uint16 if dt.itemsize == 2 else
                      np.uint32 if dt.itemsize == 4 else np.uint64)
        bits[5] = bits[0] | 1
        return a.reshape(17, 1)
    if dt.kind == "b":
        return rng.random((3, 4)) > 0.5
    info = np.iinfo(dt)
    a = rng.integers(info.min, info.max, size=(2, 3, 2), dtype=dt, endpoint=True)
    a.flat[0] = info.min
    a.flat[1] = info.max
    return a


# ---- round trips -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64", "bool",
                                   "uint8"])
def test_round_trip_bit_exact(tmp_path, dtype):
    value = _special(dtype)
    g, sess, vs = _model({"v": value, "s": np.array(3, dtype=np.dtype(dtype))})
    with g.as_default():
        saver = tf.train.Saver()
    path = saver.save(sess, str(tmp_path / "m.ckpt"))
    assert path == str(tmp_path / "m.ckpt")
    with g.as_default():
        sess.run(vs["v"].assign(np.zeros_like(value)))
    saver.restore(sess, path)
    got = sess.run(vs["v"])
    assert got.dtype == value.dtype and got.shape == value.shape
    assert got.tobytes() == value.tobytes()
    assert sess.run(vs["s"]).tobytes() == np.array(3, dtype=np.dtype(dtype)).tobytes()
    # The reader gives the same bytes without a graph.
    r = tf.train.NewCheckpointReader(path)
    assert r.get_tensor("v").tobytes() == value.tobytes()
    assert r.get_tensor("s").shape == ()


def test_file_is_standard_safetensors(tmp_path):
    w = np.arange(6, dtype=np.float32).reshape(3, 2)
    g, sess, _ = _model({"layer1/kernel": w, "b": np.array([1, 2], np.int64)})
    with g.as_default():
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    with open(path + ".safetensors", "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0
    header = json.loads(raw[8:8 + n])
    assert header["layer1/kernel"]["dtype"] == "F32"
    assert header["layer1/kernel"]["shape"] == [3, 2]
    a, b = header["layer1/kernel"]["data_offsets"]
    got = np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").reshape(3, 2)
    np.testing.assert_array_equal(got, w)
    assert header["b"]["dtype"] == "I64"
    assert header["__metadata__"]["format"] == "headwater.checkpoint"
    index = json.loads(open(path + ".index").read())
    assert index["version"] == 1 and index["data_file"] == "m.safetensors"
    assert index["tensors"]["b"]["shape"] == [2]
    assert re.fullmatch(r"[0-9a-f]{8}", index["tensors"]["b"]["crc32"])
    try:
        from safetensors.numpy import load_file
    except ImportError:
        return
    loaded = load_file(path + ".safetensors")
    np.testing.assert_array_equal(loaded["layer1/kernel"], w)


def test_var_list_dict_restores_into_differently_named_graph(tmp_path):
    g, sess, _ = _model({"W": np.full((2, 2), 7.0, np.float32)})
    with g.as_default():
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    g2 = tf.Graph()
    with g2.as_default():
        other = tf.Variable(np.zeros((2, 2), np.float32), name="renamed/weights")
        saver = tf.train.Saver({"W": other})
        with tf.Session() as s2:
            saver.restore(s2, path)
            np.testing.assert_array_equal(s2.run(other), np.full((2, 2), 7.0))


def test_var_list_validation():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="No variables to save"):
            tf.train.Saver()
        assert tf.train.Saver(allow_empty=True).last_checkpoints == []
        v = tf.Variable(1.0, name="v")
        with pytest.raises(TypeError, match="not a Variable"):
            tf.train.Saver([v, 3])
        with pytest.raises(TypeError, match="non-collection"):
            tf.train.Saver(v)
        s = tf.train.Saver([v.op.outputs[0]])
        assert s.saver_def.variables == {"v": "v"}


def test_global_step_and_padding(tmp_path):
    g, sess, _ = _model({"w": np.ones(2, np.float32)})
    with g.as_default():
        gs = tf.train.get_or_create_global_step()
        sess.run(gs.initializer)
        sess.run(gs.assign(42))
        s = tf.train.Saver()
        assert s.save(sess, str(tmp_path / "m"), global_step=gs) == str(tmp_path / "m-42")
        assert s.save(sess, str(tmp_path / "m"), global_step=7) == str(tmp_path / "m-7")
        p = tf.train.Saver(pad_step_number=True).save(sess, str(tmp_path / "p"), global_step=3)
    assert p == str(tmp_path / "p-00000003")
    assert os.path.isfile(p + ".meta")


def test_uninitialized_variable_save_fails(tmp_path):
    g = tf.Graph()
    with g.as_default():
        tf.Variable(1.0, name="never_init")
        s = tf.train.Saver()
        with tf.Session() as sess:
            with pytest.raises(errors.FailedPreconditionError, match="never_init"):
                s.save(sess, str(tmp_path / "m"))
    assert not cm.checkpoint_exists(str(tmp_path / "m"))


def test_save_argument_errors(tmp_path):
    g, sess, _ = _model({"w": np.ones(2, np.float32)})
    with g.as_default():
        s = tf.train.Saver()
    with pytest.raises(TypeError, match="'sess' must be a Session"):
        s.save("not a session", str(tmp_path / "m"))
    with pytest.raises(ValueError, match="Parent directory of .* doesn't exist"):
        s.save(sess, str(tmp_path / "missing" / "m"))


# ---- state file and rotation -----------------------------------------------------------------

def test_state_file_contents_and_rotation(tmp_path):
    g, sess, _ = _model({"w": np.ones(2, np.float32)})
    d = str(tmp_path)
    with g.as_default():
        s = tf.train.Saver(max_to_keep=2)
    for step in (100, 200, 300):
        s.save(sess, os.path.join(d, "model.ckpt"), global_step=step)
    text = open(os.path.join(d, "checkpoint")).read()
    lines = text.splitlines()
    assert lines[0] == 'model_checkpoint_path: "%s/model.ckpt-300"' % d
    assert lines[1] == 'all_model_checkpoint_paths: "%s/model.ckpt-200"' % d
    assert lines[2] == 'all_model_checkpoint_paths: "%s/model.ckpt-300"' % d
    assert re.fullmatch(r"all_model_checkpoint_timestamps: \d+\.\d+", lines[3])
    assert len(lines) == 5 and text.endswith("\n")
    files = sorted(os.listdir(d))
    assert files == ["checkpoint", "model.ckpt-200.index", "model.ckpt-200.meta",
                     "model.ckpt-200.safetensors", "model.ckpt-300.index",
                     "model.ckpt-300.meta", "model.ckpt-300.safetensors"]
    assert s.last_checkpoints == [os.path.join(d, "model.ckpt-200"),
                                  os.path.join(d, "model.ckpt-300")]
    st = tf.train.get_checkpoint_state(d)
    assert st.model_checkpoint_path == os.path.join(d, "model.ckpt-300")
    assert st.all_model_checkpoint_paths == s.last_checkpoints
    assert tf.train.latest_checkpoint(d) == os.path.join(d, "model.ckpt-300")
    assert tf.train.checkpoint_exists(os.path.join(d, "model.ckpt-200"))
    assert not tf.train.checkpoint_exists(os.path.join(d, "model.ckpt-100"))
    # Saving the same prefix again moves it to the end without duplicating it.
    s.save(sess, os.path.join(d, "model.ckpt"), global_step=200)
    assert s.last_checkpoints[-1].endswith("model.ckpt-200")
    assert len(s.last_checkpoints) == 2


def test_state_file_text_format_round_trip():
    st = cm.CheckpointState('dir/we"ird\\name-1', ["a-0", 'dir/we"ird\\name-1'], [1.5, 2.25],
                            1.0)
    text = st.to_text()
    assert text.splitlines()[0] == r'model_checkpoint_path: "dir/we\"ird\\name-1"'
    assert cm.CheckpointState.from_text(text) == st
    uni = cm.CheckpointState("mödel-1")
    assert "\\303\\266" in uni.to_text()
    assert cm.CheckpointState.from_text(uni.to_text()).model_checkpoint_path == "mödel-1"


def test_max_to_keep_none_keeps_everything(tmp_path):
    g, sess, _ = _model({"w": np.ones(2, np.float32)})
    with g.as_default():
        s = tf.train.Saver(max_to_keep=None)
    for step in range(4):
        s.save(sess, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    assert all(cm.checkpoint_exists(str(tmp_path / ("m-%d" % i))) for i in range(4))
    st = tf.train.get_checkpoint_state(str(tmp_path))
    assert st.all_model_checkpoint_paths == [str(tmp_path / "m-3")]


def test_keep_checkpoint_every_n_hours(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(saver_mod.time, "time", lambda: clock[0])
    g, sess, _ = _model({"w": np.ones(2, np.float32)})
    with g.as_default():
        s = tf.train.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=1)
    for step in range(6):
        clock[0] += 1500  # 25 minutes per save
        s.save(sess, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    kept = sorted(int(f.split("-")[1].split(".")[0]) for f in os.listdir(tmp_path)
                  if f.endswith(".index"))
    # Checkpoints older than each hour mark survive; the rest rotate away.
    assert kept == [2, 4, 5]
    st_text = open(tmp_path / "checkpoint").read()
    assert "last_preserved_timestamp" in st_text


def test_recover_last_checkpoints(tmp_path):
    g, sess, _ = _model({"w": np.ones(2, np.float32)})
    with g.as_default():
        s = tf.train.Saver(max_to_keep=2)
        for step in range(2):
            s.save(sess, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
        s2 = tf.train.Saver(max_to_keep=2)
    st = tf.train.get_checkpoint_state(str(tmp_path))
    s2.recover_last_checkpoints(st.all_model_checkpoint_paths + [str(tmp_path / "gone")])
    assert s2.last_checkpoints == [str(tmp_path / "m-0"), str(tmp_path / "m-1")]
    s2.save(sess, str(tmp_path / "m"), global_step=2, write_meta_graph=False)
    assert not cm.checkpoint_exists(str(tmp_path / "m-0"))
    s2.set_last_checkpoints_with_time([("x", 1.0)])
    assert s2.last_checkpoints == ["x"]


def test_save_relative_paths(tmp_path):
    g, sess, _ = _model({"w": np.ones(2, np.float32)})
    with g.as_default():
        s = tf.train.Saver(save_relative_paths=True)
    s.save(sess, str(tmp_path / "m"), global_step=1)
    assert open(tmp_path / "checkpoint").read().splitlines()[0] == \
        'model_checkpoint_path: "m-1"'
    # The directory can move: paths resolve against wherever it is now.
    moved = tmp_path.parent / (tmp_path.name + "_moved")
    os.rename(tmp_path, moved)
    assert tf.train.latest_checkpoint(str(moved)) == str(moved / "m-1")


def test_latest_checkpoint_without_state_file(tmp_path):
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text("garbage without colon\n")
    with pytest.raises(errors.DataLossError, match="checkpoint"):
        tf.train.get_checkpoint_state(str(tmp_path))


# ---- restore failures ------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    w = np.arange(6, dtype=np.float32).reshape(3, 2)
    g, sess, vs = _model({"W": w, "b": np.ones(2, np.float32)})
    with g.as_default():
        s = tf.train.Saver()
    path = s.save(sess, str(tmp_path / "m"), global_step=1)
    return path, g, sess, vs, s


def test_restore_none_and_missing(saved, tmp_path):
    path, g, sess, vs, s = saved
    with pytest.raises(ValueError, match="Can't load save_path when it is None"):
        s.restore(sess, None)
    with pytest.raises(ValueError, match="The passed save_path is not a valid checkpoint: "
                                         ".*nothing"):
        s.restore(sess, str(tmp_path / "nothing"))
    with pytest.raises(errors.NotFoundError):
        tf.train.NewCheckpointReader(str(tmp_path / "nothing"))


def test_restore_lists_missing_variables(saved):
    path, _, _, _, _ = saved
    g = tf.Graph()
    with g.as_default():
        tf.Variable(np.zeros((3, 2), np.float32), name="W")
        tf.Variable(1.0, name="extra1")
        tf.Variable(1.0, name="extra2")
        s = tf.train.Saver()
        with tf.Session() as sess:
            with pytest.raises(errors.NotFoundError) as ei:
                s.restore(sess, path)
    msg = str(ei.value)
    assert "Key extra1 not found in checkpoint" in msg
    assert "extra1, extra2" in msg


def test_restore_shape_mismatch_names_variable_and_shapes(saved):
    path, _, _, _, _ = saved
    with tf.Graph().as_default():
        tf.Variable(np.zeros((2, 3), np.float32), name="W")
        s = tf.train.Saver()
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError) as ei:
                s.restore(sess, path)
            msg = str(ei.value)
            assert "W" in msg and "[3,2]" in msg and "[2,3]" in msg
            # reshape=True accepts the same number of elements.
            tf.train.Saver(reshape=True).restore(sess, path)
            v = tf.global_variables()[0]
            np.testing.assert_array_equal(sess.run(v),
                                          np.arange(6, dtype=np.float32).reshape(2, 3))


def test_restore_dtype_mismatch(saved):
    path, _, _, _, _ = saved
    with tf.Graph().as_default():
        tf.Variable(np.zeros((3, 2), np.float64), name="W")
        s = tf.train.Saver()
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError,
                               match="W.*float32.*float64"):
                s.restore(sess, path)


def _corrupt(path, offset_from_end, byte=None):
    with open(path, "r+b") as f:
        f.seek(-offset_from_end, os.SEEK_END)
        b = f.read(1)
        f.seek(-offset_from_end, os.SEEK_END)
        f.write(bytes([(b[0] ^ 0xFF) if byte is None else byte]))


def test_flipped_byte_is_data_loss(saved):
    path, g, sess, vs, s = saved
    _corrupt(path + ".safetensors", 3)
    with pytest.raises(errors.DataLossError) as ei:
        s.restore(sess, path)
    assert path + ".safetensors" in str(ei.value)
    assert "Checksum does not match" in str(ei.value)
    with pytest.raises(errors.DataLossError):
        tf.train.load_variable(path, "b")


def test_truncated_file_is_data_loss(saved):
    path, g, sess, vs, s = saved
    data = path + ".safetensors"
    size = os.path.getsize(data)
    for new_size in (size - 4, 30, 5, 0):
        with open(data, "r+b") as f:
            f.truncate(new_size)
        with pytest.raises(errors.DataLossError) as ei:
            s.restore(sess, path)
        assert data in str(ei.value)


def test_corrupt_header_is_data_loss(saved):
    path, g, sess, vs, s = saved
    data = path + ".safetensors"
    raw = bytearray(open(data, "rb").read())
    (n,) = struct.unpack("<Q", raw[:8])
    bad_json = raw[:8] + b"x" + raw[9:]
    for content in (bytes(bad_json), struct.pack("<Q", 1 << 40) + bytes(raw[8:])):
        with open(data, "wb") as f:
            f.write(content)
        with pytest.raises(errors.DataLossError, match=re.escape(data)):
            s.restore(sess, path)
    # Offsets pointing outside the data section are rejected before anything is read.
    header = json.loads(bytes(raw[8:8 + n]))
    header["W"]["data_offsets"] = [0, 10 ** 9]
    hb = json.dumps(header).encode()
    hb += b" " * (-len(hb) % 8)
    with open(data, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + bytes(raw[8 + n:]))
    with pytest.raises(errors.DataLossError, match="offsets|truncated"):
        s.restore(sess, path)


def test_restore_validates_before_assigning(saved):
    path, g, sess, vs, s = saved
    with g.as_default():
        sess.run(vs["b"].assign([5.0, 5.0]))
    _corrupt(path + ".safetensors", 3)  # damages "b", the last tensor
    with pytest.raises(errors.DataLossError):
        s.restore(sess, path)
    np.testing.assert_array_equal(sess.run(vs["b"]), [5.0, 5.0])


# ---- interrupted saves -----------------------------------------------------------------------

def _listing(d):
    return sorted(f for f in os.listdir(d))


@pytest.mark.parametrize("same_prefix", [False, True])
def test_disk_full_keeps_previous_checkpoint(saved, tmp_path, monkeypatch, same_prefix):
    path, g, sess, vs, s = saved
    before = _listing(tmp_path)
    state_before = open(tmp_path / "checkpoint").read()
    with g.as_default():
        sess.run(vs["W"].assign(np.full((3, 2), -1.0, np.float32)))
    real_write = os.write
    calls = [0]

    def full_disk(fd, data):
        calls[0] += 1
        if calls[0] > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(saver_mod.os, "write", full_disk)
    with pytest.raises(errors.ResourceExhaustedError, match="No space left"):
        s.save(sess, str(tmp_path / "m"), global_step=None if same_prefix else 2)
    monkeypatch.undo()
    assert _listing(tmp_path) == before  # no temporary files left behind
    assert open(tmp_path / "checkpoint").read() == state_before
    with g.as_default():
        s.restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
    np.testing.assert_array_equal(sess.run(vs["W"]),
                                  np.arange(6, dtype=np.float32).reshape(3, 2))


def test_disk_full_while_writing_index_or_state(saved, tmp_path, monkeypatch):
    path, g, sess, vs, s = saved
    real_replace = os.replace

    def failing_replace(src, dst):
        if dst.endswith(".index") or dst.endswith("checkpoint"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(cm.os, "replace", failing_replace)
    with pytest.raises(errors.ResourceExhaustedError):
        s.save(sess, str(tmp_path / "m"), global_step=5)
    monkeypatch.undo()
    assert tf.train.latest_checkpoint(str(tmp_path)) == path
    assert not tf.train.checkpoint_exists(str(tmp_path / "m-5"))
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]


_KILL_CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    import headwater as tf
    import headwater.train.saver as S

    d, same = sys.argv[1], sys.argv[2] == "1"
    with tf.Graph().as_default():
        v = tf.Variable(np.arange(2_000_000, dtype=np.float32), name="big")
        w = tf.Variable(np.ones(3, np.float32), name="w")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            first = saver.save(sess, d + "/model", global_step=None if same else 1)
            sess.run(v.assign(np.zeros(2_000_000, np.float32)))
            # Make the second save slow so the parent can kill it mid-write.
            S._CHUNK = 1 << 16
            real = S._write_all
            def slow(fd, mv):
                time.sleep(0.002)
                real(fd, mv)
            S._write_all = slow
            print("first-done", flush=True)
            saver.save(sess, d + "/model", global_step=None if same else 2)
            print("second-done", flush=True)
""")


@pytest.mark.parametrize("same_prefix", [False, True])
def test_kill_during_save_keeps_previous_checkpoint(tmp_path, same_prefix):
    d = str(tmp_path)
    p = subprocess.Popen([sys.executable, "-c", _KILL_CHILD, d, "1" if same_prefix else "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), text=True)
    try:
        line = p.stdout.readline()
        assert line.strip() == "first-done", p.stderr.read()
        deadline = time.time() + 30
        while time.time() < deadline:
            tmps = [f for f in os.listdir(d) if ".tmp" in f]
            if tmps and os.path.getsize(os.path.join(d, tmps[0])) > 1 << 20:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the child never started writing its second checkpoint")
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
        p.stdout.close()
        p.stderr.close()
    latest = tf.train.latest_checkpoint(d)
    assert latest == os.path.join(d, "model" if same_prefix else "model-1")
    assert not tf.train.checkpoint_exists(os.path.join(d, "model-2"))
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros(2_000_000, np.float32), name="big")
        w = tf.Variable(np.zeros(3, np.float32), name="w")
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, latest)
            np.testing.assert_array_equal(sess.run(v), np.arange(2_000_000, dtype=np.float32))
            np.testing.assert_array_equal(sess.run(w), np.ones(3))


# ---- reader and utilities ----------------------------------------------------------------------

def test_reader_and_utils(saved, tmp_path):
    path, g, sess, vs, s = saved
    r = tf.train.NewCheckpointReader(path)
    assert r.get_variable_to_shape_map() == {"W": [3, 2], "b": [2]}
    assert r.get_variable_to_dtype_map() == {"W": tf.float32, "b": tf.float32}
    assert r.has_tensor("W") and not r.has_tensor("nope")
    with pytest.raises(errors.NotFoundError, match="Key nope not found in checkpoint"):
        r.get_tensor("nope")
    assert tf.train.list_variables(str(tmp_path)) == [("W", [3, 2]), ("b", [2])]
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path), "W:0"),
                                  np.arange(6, dtype=np.float32).reshape(3, 2))
    # The index or data file name works as well as the prefix.
    assert tf.train.NewCheckpointReader(path + ".index").has_tensor("b")
    os.mkdir(tmp_path / "empty")
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        tf.train.list_variables(str(tmp_path / "empty"))
    with pytest.raises(errors.NotFoundError, match="Failed to find any matching files"):
        tf.train.list_variables(str(tmp_path / "no_such_prefix"))


def test_init_from_checkpoint(tmp_path):
    g = tf.Graph()
    with g.as_default():
        with tf.variable_scope("old"):
            tf.get_variable("w", initializer=np.arange(4, dtype=np.float32))
            tf.get_variable("b", initializer=np.float32(3.0))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        with tf.variable_scope("new"):
            w = tf.get_variable("w", shape=[4], initializer=tf.zeros_initializer())
            b = tf.get_variable("b", shape=[], initializer=tf.zeros_initializer())
        other = tf.Variable(np.zeros(4, np.float32), name="other")
        tf.train.init_from_checkpoint(str(tmp_path), {"old/": "new/"})
        tf.train.init_from_checkpoint(path, {"old/w": other})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(w), np.arange(4))
            assert sess.run(b) == 3.0
            np.testing.assert_array_equal(sess.run(other), np.arange(4))
        with pytest.raises(ValueError, match="is not found in"):
            tf.train.init_from_checkpoint(path, {"old/missing": other})
        bad = tf.Variable(np.zeros(5, np.float32), name="bad")
        with pytest.raises(ValueError, match="doesn't match with shape"):
            tf.train.init_from_checkpoint(path, {"old/w": bad})


# ---- meta graphs -------------------------------------------------------------------------------

def _train_and_save(d):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        W = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 10, name="W")
        b = tf.get_variable("b", [2], initializer=tf.ones_initializer())
        y = tf.nn.softmax(tf.matmul(x, W) + b, name="y")
        loss = tf.reduce_sum(tf.square(y - 0.5), name="loss")
        gs = tf.train.get_or_create_global_step()
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss, global_step=gs)
        tf.add_to_collection("pred", y)
        tf.add_to_collection("config", "lr=0.5")
        tf.add_to_collection("config", 3)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train, {x: np.ones((2, 3))})
            path = saver.save(sess, os.path.join(d, "model.ckpt"), global_step=gs)
            ref = sess.run(y, {x: np.array([[1.0, 2.0, 3.0]])})
            sess.run(train, {x: np.ones((2, 3))})
            after = sess.run(y, {x: np.ones((2, 3))})
    return path, ref, after


_PREDICT_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import headwater as tf

    saver = tf.train.import_meta_graph(sys.argv[1] + ".meta")
    with tf.Session() as sess:
        saver.restore(sess, tf.train.latest_checkpoint(sys.argv[2]))
        y = tf.get_collection("pred")[0]
        np.save(sys.argv[3], sess.run(y, {"x:0": np.array([[1.0, 2.0, 3.0]])}))
        assert [v.name for v in tf.trainable_variables()] == ["W:0", "b:0"]
        assert tf.get_collection("config") == ["lr=0.5", 3]
        assert sess.run(tf.train.get_global_step()) == 3
        # Training resumes from the restored state.
        sess.run(tf.get_collection("train_op")[0], {"x:0": np.ones((2, 3))})
        np.save(sys.argv[4], sess.run("y:0", {"x:0": np.ones((2, 3))}))
        assert sess.run(tf.train.get_global_step()) == 4
""")


def test_fresh_process_load_and_predict(tmp_path):
    path, ref, after = _train_and_save(str(tmp_path))
    out1, out2 = str(tmp_path / "pred.npy"), str(tmp_path / "after.npy")
    r = subprocess.run([sys.executable, "-c", _PREDICT_CHILD, path, str(tmp_path), out1, out2],
                       capture_output=True, text=True, env=_env(), timeout=120)
    assert r.returncode == 0, r.stderr
    assert np.load(out1).tobytes() == ref.tobytes()
    assert np.load(out2).tobytes() == after.tobytes()


def test_import_meta_graph_with_scope(tmp_path):
    path, ref, _ = _train_and_save(str(tmp_path))
    with tf.Graph().as_default() as g:
        tf.Variable(1.0, name="unrelated")
        saver = tf.train.import_meta_graph(path + ".meta", import_scope="net")
        assert g.get_tensor_by_name("net/y:0") is tf.get_collection("pred")[0]
        with tf.Session() as sess:
            saver.restore(sess, path)
            got = sess.run("net/y:0", {"net/x:0": np.array([[1.0, 2.0, 3.0]])})
    assert got.tobytes() == ref.tobytes()


def test_export_meta_graph_and_errors(tmp_path):
    with tf.Graph().as_default():
        tf.Variable(1.0, name="v")
        f = str(tmp_path / "g.meta")
        mg = tf.train.export_meta_graph(f, as_text=True)
        assert "VariableV2" in mg.meta_info_def.stripped_op_list
        doc = json.loads(open(f).read())
        assert doc["format"] == "headwater.MetaGraphDef" and doc["version"] == 1
        assert doc["collection_def"]["variables"][0]["variable"]["variable_name"] == "v:0"
    with pytest.raises(IOError, match="does not exist"):
        tf.train.import_meta_graph(str(tmp_path / "nope.meta"))
    (tmp_path / "bad.meta").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="meta graph"):
        tf.train.import_meta_graph(str(tmp_path / "bad.meta"))
    with tf.Graph().as_default():
        assert tf.train.import_meta_graph(
            tf.train.export_meta_graph(graph=tf.Graph())) is None


def test_write_graph(tmp_path):
    with tf.Graph().as_default() as g:
        tf.constant(1.0, name="c")
    p = tf.train.write_graph(g, str(tmp_path / "logs"), "graph.json")
    assert json.loads(open(p).read())["node"][0]["name"] == "c"
