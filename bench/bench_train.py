"""Training-step benchmark: the Getting Started linear regression and a 784-256-256-10 ReLU
MLP with Adam (batch 128), headwater vs TensorFlow 1.x graph mode (and PyTorch eager, when
importable) in the same run.

TensorFlow runs in a subprocess from the interpreter named by HEADWATER_BENCH_TF_PYTHON (or
this one, if it can import tensorflow).

    python bench/bench_train.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def _median_us(fn, number, repeat=7):
    for _ in range(max(2, number // 10)):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number * 1e6)
    return statistics.median(times)


def workload(tf, quick=False):
    out = {}
    g = tf.Graph()
    with g.as_default():
        W = tf.Variable([.3], dtype=tf.float32)
        b = tf.Variable([-.3], dtype=tf.float32)
        x = tf.placeholder(tf.float32)
        y = tf.placeholder(tf.float32)
        loss = tf.reduce_sum(tf.square(W * x + b - y))
        train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        feed = {x: [1, 2, 3, 4], y: [0, -1, -2, -3]}
        out["linreg_step_us"] = _median_us(lambda: sess.run(train, feed), 200 if quick else 2000)
        sess.close()

    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        xs = tf.placeholder(tf.float32, [None, 784])
        ys = tf.placeholder(tf.int64, [None])
        h = xs
        for width in (256, 256):
            w = tf.Variable(tf.truncated_normal([int(h.shape[1]), width], stddev=0.05))
            bb = tf.Variable(tf.zeros([width]))
            h = tf.nn.relu(tf.matmul(h, w) + bb)
        w = tf.Variable(tf.truncated_normal([256, 10], stddev=0.05))
        logits = tf.matmul(h, w) + tf.Variable(tf.zeros([10]))
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ys,
                                                                             logits=logits))
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        rng = np.random.default_rng(0)
        feed = {xs: rng.random((128, 784), dtype=np.float32),
                ys: rng.integers(0, 10, 128)}
        out["mlp_adam_step_us"] = _median_us(lambda: sess.run(train, feed), 10 if quick else 100)
        sess.close()
    return out


def _run_tf(quick):
    py = os.environ.get("HEADWATER_BENCH_TF_PYTHON")
    if not py:
        try:
            import tensorflow  # noqa: F401
            py = sys.executable
        except ImportError:
            return None, None
    code = ("import sys, json; sys.path.insert(0, %r); import bench_train as b; "
            "import tensorflow.compat.v1 as tf; tf.disable_v2_behavior(); "
            "import tensorflow as t2; print('VERSION', t2.__version__); "
            "print('RESULT', json.dumps(b.workload(tf, %r)))"
            % (os.path.dirname(os.path.abspath(__file__)), quick))
    r = subprocess.run([py, "-c", code], capture_output=True, text=True, timeout=1200,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    version = res = None
    for line in r.stdout.splitlines():
        if line.startswith("VERSION "):
            version = line.split(" ", 1)[1]
        elif line.startswith("RESULT "):
            res = json.loads(line.split(" ", 1)[1])
    if res is None:
        sys.stderr.write("TensorFlow run failed:\n" + r.stderr[-2000:] + "\n")
    return version, res


def _run_torch(quick):
    """The same two loops in PyTorch eager mode (the issue quotes it for the MLP), when torch
    is importable by this interpreter: (version, results) or (None, {}). In a subprocess (see
    `_harness.in_subprocess`)."""
    from _harness import in_subprocess

    res = in_subprocess("bench_train", "torch_workload(%r)" % quick) or {}
    if "version" not in res:  # {} when torch is not installed
        return None, {}
    return res.pop("version"), res


def torch_workload(quick=False):
    try:
        import torch
    except ImportError:
        return {}
    torch.manual_seed(0)
    out = {}
    W = torch.tensor([.3], requires_grad=True)
    b = torch.tensor([-.3], requires_grad=True)
    x = torch.tensor([1., 2., 3., 4.])
    y = torch.tensor([0., -1., -2., -3.])
    opt = torch.optim.SGD([W, b], lr=0.01)

    def linreg():
        opt.zero_grad()
        loss = ((W * x + b - y) ** 2).sum()
        loss.backward()
        opt.step()
    out["linreg_step_us"] = _median_us(linreg, 200 if quick else 2000)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10))
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    xs = torch.from_numpy(rng.random((128, 784), dtype=np.float32))
    ys = torch.from_numpy(rng.integers(0, 10, 128))
    lossf = torch.nn.CrossEntropyLoss()

    def mlp():
        adam.zero_grad()
        lossf(model(xs), ys).backward()
        adam.step()
    out["mlp_adam_step_us"] = _median_us(mlp, 10 if quick else 100)
    out["version"] = torch.__version__
    return out


ROWS = [
    ("linreg_step_us", "Getting Started linear regression, one GD step", "≥ 5× faster than TF1"),
    ("mlp_adam_step_us", "784-256-256-10 ReLU MLP, Adam, batch 128, one step", "≤ 1000 µs"),
]


def run(quick=False):
    import headwater

    hw = workload(headwater, quick)
    version, tfr = (None, None) if quick else _run_tf(quick)
    tv, tor = _run_torch(quick)
    head = ("| training step | target | headwater µs | TensorFlow %s µs | TF / headwater |"
            % (version or "(not installed)"))
    rule = "|---|---|---:|---:|---:|"
    if tv:
        head += " PyTorch %s eager µs | PyTorch / headwater |" % tv
        rule += "---:|---:|"
    lines = [head, rule]
    for key, label, target in ROWS:
        a = hw[key]
        b = tfr.get(key) if tfr else None
        row = "| %s | %s | %.1f | %s | %s |" % (
            label, target, a, "n/a" if b is None else "%.1f" % b,
            "%.1f×" % (b / a) if b else "")
        if tv:
            c = tor[key]
            row += " %.1f | %.1f× |" % (c, c / a)
        lines.append(row)
    return [("Training steps (median of 7 repeats)", "\n".join(lines))]


if __name__ == "__main__":
    for title, table in run("--quick" in sys.argv):
        print("### " + title + "\n\n" + table + "\n")
