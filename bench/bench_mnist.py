"""MNIST tutorial benchmark: softmax-regression and deep-CNN training steps, and the peak RSS
of CNN training, headwater vs TensorFlow 1.x graph mode in the same run.

TensorFlow runs in a subprocess from the interpreter named by HEADWATER_BENCH_TF_PYTHON (or
this one, if it can import tensorflow). Peak RSS is measured in a fresh subprocess per
framework (`resource.getrusage(...).ru_maxrss` after building the CNN and running training
steps), so neither library's allocations pollute the other's.

    python bench/bench_mnist.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def _median_ms(fn, number, repeat):
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number * 1e3)
    return statistics.median(times)


def _softmax_model(tf):
    x = tf.placeholder(tf.float32, [None, 784])
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    y = tf.matmul(x, W) + b
    y_ = tf.placeholder(tf.float32, [None, 10])
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=y))
    return x, y_, tf.train.GradientDescentOptimizer(0.5).minimize(loss)


def _cnn_model(tf):
    """The "Deep MNIST for experts" network (as examples/mnist_deep.py)."""
    def weight(shape):
        return tf.Variable(tf.truncated_normal(shape, stddev=0.1))

    def bias(shape):
        return tf.Variable(tf.constant(0.1, shape=shape))

    def pool(h):
        return tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

    x = tf.placeholder(tf.float32, [None, 784])
    y_ = tf.placeholder(tf.float32, [None, 10])
    keep_prob = tf.placeholder(tf.float32)
    h = tf.reshape(x, [-1, 28, 28, 1])
    h = pool(tf.nn.relu(tf.nn.conv2d(h, weight([5, 5, 1, 32]), [1, 1, 1, 1], "SAME")
                        + bias([32])))
    h = pool(tf.nn.relu(tf.nn.conv2d(h, weight([5, 5, 32, 64]), [1, 1, 1, 1], "SAME")
                        + bias([64])))
    h = tf.reshape(h, [-1, 7 * 7 * 64])
    h = tf.nn.relu(tf.matmul(h, weight([7 * 7 * 64, 1024])) + bias([1024]))
    h = tf.nn.dropout(h, keep_prob)
    logits = tf.matmul(h, weight([1024, 10])) + bias([10])
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=logits))
    return x, y_, keep_prob, tf.train.AdamOptimizer(1e-4).minimize(loss)


def _batch(n, seed=0):
    rng = np.random.default_rng(seed)
    xs = rng.random((n, 784), dtype=np.float32)
    ys = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    return xs, ys


def workload(tf, quick=False):
    """Median milliseconds per training step of both tutorial models with `tf`."""
    out = {}
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        x, y_, train = _softmax_model(tf)
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        xs, ys = _batch(100)
        feed = {x: xs, y_: ys}
        out["softmax_step_ms"] = _median_ms(lambda: sess.run(train, feed),
                                            50 if quick else 500, 3 if quick else 7)
        sess.close()
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        x, y_, keep_prob, train = _cnn_model(tf)
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        xs, ys = _batch(50)
        feed = {x: xs, y_: ys, keep_prob: 0.5}
        out["cnn_step_ms"] = _median_ms(lambda: sess.run(train, feed), 2 if quick else 10,
                                        2 if quick else 5)
        sess.close()
    return out


def _peak_rss_mib():
    """This process's peak resident set size in MiB.

    Linux's VmHWM belongs to the process's own address space. ru_maxrss does not do for a
    child: it keeps the peak of the parent it was forked from across exec, so every child of
    a big benchmark process reported the parent's figure.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024.0 * 1024.0) if sys.platform == "darwin" else r / 1024.0


def rss_child(steps=5):
    """Run in a fresh process: print the peak RSS (MiB) before and after CNN training."""
    tf = _import_framework(os.environ["HEADWATER_BENCH_FRAMEWORK"])
    x, y_, keep_prob, train = _cnn_model(tf)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    xs, ys = _batch(50)
    before = _peak_rss_mib()
    for _ in range(steps):
        sess.run(train, {x: xs, y_: ys, keep_prob: 0.5})
    peak = _peak_rss_mib()
    print("RSS", json.dumps({"built_mib": before, "peak_mib": peak}))


def _import_framework(name):
    if name == "headwater":
        import headwater

        return headwater
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    return tf


def _tf_python():
    py = os.environ.get("HEADWATER_BENCH_TF_PYTHON")
    if py:
        return py
    try:
        import tensorflow  # noqa: F401
        return sys.executable
    except ImportError:
        return None


def _subprocess(py, code, framework):
    import headwater

    src = os.path.dirname(os.path.dirname(os.path.abspath(headwater.__file__)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", HEADWATER_BENCH_FRAMEWORK=framework)
    env["PYTHONPATH"] = HERE + os.pathsep + src + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([py, "-c", code], capture_output=True, text=True, timeout=1800,
                       env=env)
    if r.returncode != 0:
        sys.stderr.write("%s subprocess failed:\n%s\n" % (framework, r.stderr[-2000:]))
    return r.stdout


def _run_tf(py, quick):
    out = _subprocess(py, "import json, bench_mnist as b, tensorflow as t2; "
                      "tf = b._import_framework('tensorflow'); "
                      "print('VERSION', t2.__version__); "
                      "print('RESULT', json.dumps(b.workload(tf, %r)))" % quick, "tensorflow")
    version = res = None
    for line in out.splitlines():
        if line.startswith("VERSION "):
            version = line.split(" ", 1)[1]
        elif line.startswith("RESULT "):
            res = json.loads(line.split(" ", 1)[1])
    return version, res


def _rss(py, framework):
    out = _subprocess(py, "import bench_mnist as b; b.rss_child()", framework)
    for line in out.splitlines():
        if line.startswith("RSS "):
            return json.loads(line.split(" ", 1)[1])
    return None


def run(quick=False):
    import headwater

    hw = workload(headwater, quick)
    py = None if quick else _tf_python()
    version, tfr = _run_tf(py, quick) if py else (None, None)
    tfname = "TensorFlow %s" % version if version else "TensorFlow (not installed)"
    rows = [("softmax_step_ms", "softmax regression, GD, batch 100, one step",
             "≥ 2× faster than TF1"),
            ("cnn_step_ms", "deep MNIST CNN, Adam, batch 50, one step", "≤ 20 ms")]
    lines = ["| training step | target | headwater ms | %s ms | TF / headwater |" % tfname,
             "|---|---|---:|---:|---:|"]
    for key, label, target in rows:
        a = hw[key]
        b = tfr.get(key) if tfr else None
        lines.append("| %s | %s | %.3f | %s | %s |" % (
            label, target, a, "n/a" if b is None else "%.3f" % b,
            "%.2f×" % (b / a) if b else ""))
    results = [("MNIST tutorial training steps (median of repeats)", "\n".join(lines))]
    if not quick:
        mem_hw = _rss(sys.executable, "headwater")
        mem_tf = _rss(py, "tensorflow") if py else None
        ml = ["| peak RSS, CNN training (batch 50, 5 steps) | target | headwater MiB | "
              "%s MiB | headwater / TF |" % tfname, "|---|---|---:|---:|---:|"]
        for key, label in (("built_mib", "after building the graph and initialising"),
                           ("peak_mib", "after 5 training steps (peak)")):
            a = mem_hw.get(key) if mem_hw else None
            b = mem_tf.get(key) if mem_tf else None
            ml.append("| %s | %s | %s | %s | %s |" % (
                label, "≤ TF1" if key == "peak_mib" else "",
                "n/a" if a is None else "%.0f" % a, "n/a" if b is None else "%.0f" % b,
                "%.2f" % (a / b) if (a and b) else ""))
        results.append(("MNIST CNN training memory", "\n".join(ml)))
    return results


if __name__ == "__main__":
    for title, table in run(quick="--quick" in sys.argv):
        print("### " + title + "\n")
        print(table + "\n")
