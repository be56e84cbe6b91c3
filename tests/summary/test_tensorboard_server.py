"""The real `tensorboard` server reads what headwater wrote: runs, scalars, histograms, images,
the graph and run metadata, through its HTTP API."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest

pytest.importorskip("tensorboard")

from google.protobuf import text_format  # noqa: E402
from tensorboard.compat.proto import graph_pb2  # noqa: E402

import headwater as tf  # noqa: E402
import headwater.summary as summary  # noqa: E402
from headwater.summary.tracing import traced_run  # noqa: E402

STEPS = 6


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_logdir(root):
    rng = np.random.default_rng(0)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 16], name="x")
        with tf.name_scope("model"):
            W = tf.Variable(tf.ones([16, 4]) * 0.1, name="W")
            y = tf.matmul(x, W, name="y")
        with tf.name_scope("loss"):
            loss = tf.reduce_mean(tf.square(y), name="mean_sq")
            summary.scalar("mse", loss)
        summary.histogram("weights", W)
        summary.image("input", tf.reshape(x, [-1, 4, 4, 1]), max_outputs=1)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        merged = summary.merge_all()
        expected = []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            train_w = summary.FileWriter(os.path.join(root, "train"), sess.graph)
            eval_w = summary.FileWriter(os.path.join(root, "eval"))
            for step in range(STEPS):
                feed = {x: rng.random((8, 16)).astype(np.float32)}
                if step == 2:
                    md = tf.RunMetadata()
                    s, lv, _ = traced_run(sess, [merged, loss, train], feed,
                                          tf.RunOptions(trace_level=3), md)
                    train_w.add_run_metadata(md, "step2", step)
                else:
                    s, lv, _ = sess.run([merged, loss, train], feed)
                train_w.add_summary(s, step)
                expected.append(float(lv))
                eval_w.add_summary(summary.Summary(value=[summary.Summary.Value(
                    tag="accuracy", simple_value=step / 10.0)]), step)
            train_w.close()
            eval_w.close()
    return g, expected


def _get(port, path, **params):
    url = "http://127.0.0.1:%d%s" % (port, path)
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("tb_logs"))
    graph, expected = _write_logdir(root)
    port = _free_port()
    log = open(os.path.join(root, "..", "tensorboard.log"), "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", root, "--host", "127.0.0.1",
         "--port", str(port), "--reload_interval", "1"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 60
        runs = None
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("tensorboard exited with %s" % proc.returncode)
            try:
                runs = json.loads(_get(port, "/data/runs"))
                if sorted(runs) == ["eval", "train"]:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError("tensorboard not ready after 60 s (runs: %r)" % (runs,))
        yield port, graph, expected
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _poll(fn, timeout=30):
    """Retry `fn` until it returns without AssertionError (the server loads runs lazily)."""
    deadline = time.time() + timeout
    while True:
        try:
            return fn()
        except (AssertionError, OSError, KeyError, ValueError):
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def test_runs(server):
    port, _, _ = server
    assert sorted(json.loads(_get(port, "/data/runs"))) == ["eval", "train"]


def test_scalar_series(server):
    port, _, expected = server

    def check():
        rows = json.loads(_get(port, "/data/plugin/scalars/scalars", run="train",
                               tag="loss/mse"))
        assert [r[1] for r in rows] == list(range(STEPS))
        assert [r[2] for r in rows] == pytest.approx(expected, rel=1e-6)
        acc = json.loads(_get(port, "/data/plugin/scalars/scalars", run="eval",
                              tag="accuracy"))
        assert [(r[1], r[2]) for r in acc] == [(s, pytest.approx(s / 10.0)) for s in range(STEPS)]
    _poll(check)
    tags = json.loads(_get(port, "/data/plugin/scalars/tags"))
    assert "loss/mse" in tags["train"] and "accuracy" in tags["eval"]


def test_histograms_and_images(server):
    port, _, _ = server

    def check():
        hist = json.loads(_get(port, "/data/plugin/histograms/histograms", run="train",
                               tag="weights"))
        assert [h[1] for h in hist] == list(range(STEPS))
        buckets = hist[0][2]  # [[left, right, count], ...]
        assert sum(b[2] for b in buckets) == pytest.approx(64)
        imgs = json.loads(_get(port, "/data/plugin/images/images", run="train",
                               tag="input/image"))
        assert [i["step"] for i in imgs] == list(range(STEPS))
        png = _get(port, "/data/plugin/images/individualImage?" + imgs[0]["query"])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    _poll(check)


def test_graph(server):
    port, graph, _ = server
    info = _poll(lambda: json.loads(_get(port, "/data/plugin/graphs/info")))
    assert info["train"]["run_graph"] is True
    assert "step2" in info["train"]["tags"]
    pbtxt = _get(port, "/data/plugin/graphs/graph", run="train").decode("utf-8")
    gd = text_format.Parse(pbtxt, graph_pb2.GraphDef())
    nodes = {n.name: n for n in gd.node}
    assert set(nodes) == {op.name for op in graph.get_operations()}
    y = nodes["model/y"]
    assert y.op == "MatMul" and y.input[0] == "x"
    assert [d.size for d in y.attr["_output_shapes"].list.shape[0].dim] == [-1, 4]
    assert any(n.startswith("gradients/") for n in nodes)
    md = _get(port, "/data/plugin/graphs/run_metadata", run="train", tag="step2").decode()
    assert "model/y" in md and "all_end_rel_micros" in md
