"""SavedModel export and loading, including serving from a fresh process."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import headwater as tf
from headwater import saved_model
from headwater.saved_model import signature_constants, tag_constants



def _env():
    # The child must import the very headwater this process uses (the installed one, with its
    # _C), not the source tree: a fallback kernel there would change the last bits.
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _export(export_dir):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        W = tf.Variable(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2), name="W")
        b = tf.Variable(np.array([0.5, -0.5], np.float32), name="b")
        y = tf.nn.softmax(tf.matmul(x, W) + b, name="probs")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saved_model.simple_save(sess, export_dir, inputs={"x": x}, outputs={"y": y})
            ref = sess.run(y, {x: np.arange(6, dtype=np.float32).reshape(2, 3)})
    return ref


def test_layout_and_signature(tmp_path):
    d = str(tmp_path / "export")
    _export(d)
    assert sorted(os.listdir(d)) == ["saved_model.json", "variables"]
    assert sorted(os.listdir(os.path.join(d, "variables"))) == ["variables.index",
                                                                "variables.safetensors"]
    doc = json.loads(open(os.path.join(d, "saved_model.json")).read())
    assert doc["format"] == "headwater.SavedModel" and doc["version"] == 1
    assert doc["meta_graphs"][0]["meta_info_def"]["tags"] == ["serve"]
    assert saved_model.loader.maybe_saved_model_directory(d)
    assert not saved_model.loader.maybe_saved_model_directory(str(tmp_path))


def test_load_in_same_process(tmp_path):
    d = str(tmp_path / "export")
    ref = _export(d)
    with tf.Session(graph=tf.Graph()) as sess:
        meta = saved_model.loader.load(sess, [tag_constants.SERVING], d)
        sig = meta.signature_def[signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY]
        assert sig.inputs["x"].name == "x:0"
        assert sig.outputs["y"].name == "probs:0"
        assert sig.method_name == signature_constants.PREDICT_METHOD_NAME
        assert sig.inputs["x"].tensor_shape.as_list() == [None, 3]
        got = sess.run(sig.outputs["y"].name,
                       {sig.inputs["x"].name: np.arange(6, dtype=np.float32).reshape(2, 3)})
    assert got.tobytes() == ref.tobytes()


_SERVE = textwrap.dedent("""
    import sys
    import numpy as np
    import headwater as tf
    from headwater import saved_model

    with tf.Session(graph=tf.Graph()) as sess:
        meta = saved_model.loader.load(sess, [saved_model.tag_constants.SERVING], sys.argv[1])
        sig = meta.signature_def["serving_default"]
        out = sess.run(sig.outputs["y"].name,
                       {sig.inputs["x"].name: np.arange(6, dtype=np.float32).reshape(2, 3)})
        np.save(sys.argv[2], out)
""")


def test_serve_from_directory_in_fresh_process(tmp_path):
    d = str(tmp_path / "export")
    ref = _export(d)
    out = str(tmp_path / "out.npy")
    r = subprocess.run([sys.executable, "-c", _SERVE, d, out], capture_output=True,
                       text=True, env=_env(), timeout=120)
    assert r.returncode == 0, r.stderr
    assert np.load(out).tobytes() == ref.tobytes()


def test_errors(tmp_path):
    d = str(tmp_path / "export")
    _export(d)
    with pytest.raises(AssertionError, match="Export directory already exists"):
        _export(d)
    with tf.Session(graph=tf.Graph()) as sess:
        with pytest.raises(RuntimeError, match="MetaGraphDef associated with tags 'train' "
                                               "could not be found"):
            saved_model.loader.load(sess, ["train"], d)
        with pytest.raises(OSError, match="SavedModel file does not exist"):
            saved_model.loader.load(sess, ["serve"], str(tmp_path / "nothing"))
    with pytest.raises(ValueError, match="Prediction inputs cannot be None or empty"):
        saved_model.signature_def_utils.predict_signature_def({}, {"y": None})


def test_builder_with_main_op_and_second_meta_graph(tmp_path):
    d = str(tmp_path / "export")
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        v = tf.Variable(np.float32(2.0), name="v")
        counter = tf.Variable(np.float32(0.0), name="counter")
        y = tf.multiply(x, v, name="y")
        main_op = tf.group(counter.assign(7.0), name="main_op")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            b = saved_model.builder.SavedModelBuilder(d)
            with pytest.raises(AssertionError, match="has not been saved yet"):
                b.add_meta_graph(["x"])
            sig = saved_model.signature_def_utils.predict_signature_def({"x": x}, {"y": y})
            b.add_meta_graph_and_variables(sess, [tag_constants.SERVING],
                                           {"serving_default": sig}, main_op=main_op)
            b.add_meta_graph([tag_constants.TRAINING])
            with pytest.raises(AssertionError, match="already been saved"):
                b.add_meta_graph_and_variables(sess, ["t2"])
            assert not saved_model.loader.maybe_saved_model_directory(d)  # not yet written
            b.save()
    with tf.Session(graph=tf.Graph()) as sess:
        saved_model.loader.load(sess, [tag_constants.SERVING], d)
        assert sess.run("counter:0") == 7.0  # main_op ran after the restore
        np.testing.assert_array_equal(sess.run("y:0", {"x:0": [1.0, 2.0]}), [2.0, 4.0])
    with tf.Session(graph=tf.Graph()) as sess:
        meta = saved_model.loader.load(sess, [tag_constants.TRAINING], d)
        assert meta.signature_def == {}
        assert sess.run("v:0") == 2.0
