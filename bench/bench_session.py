"""Session overhead benchmark: headwater vs TensorFlow 1.x (tensorflow.compat.v1).

The same workload function runs against both libraries. TensorFlow is optional: it is used when
importable here, or from the interpreter named by HEADWATER_BENCH_TF_PYTHON (a separate venv
with tensorflow-cpu), in a subprocess so the two never share a process.

    python bench/bench_session.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np


def _median_us(fn, number, repeat=7):
    for _ in range(max(1, number // 10)):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number * 1e6)
    return statistics.median(times)


def workload(tf, quick=False):
    """Measure the session figures with `tf` (headwater or tensorflow.compat.v1)."""
    import gc

    out = {}
    nbig = 500 if quick else 10000
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, shape=[1])
        y = x
        for _ in range(10):
            y = tf.add(y, 1.0)
        sess = tf.Session()
        feed = {x: np.ones(1, np.float32)}
        sess.run(y, feed)
        out["chain10_run_us"] = _median_us(lambda: sess.run(y, feed), 2000)
        out["empty_run_us"] = _median_us(lambda: sess.run([]), 5000)
        f = sess.make_callable(y, [x])
        v = np.ones(1, np.float32)
        out["chain10_callable_us"] = _median_us(lambda: f(v), 2000)
        # Per-op dispatch: slope between a 10- and a 210-identity chain on a 1-element value.
        z = x
        for _ in range(200):
            z = tf.identity(z)
        sess.run(z, feed)
        t_long = _median_us(lambda: sess.run(z, feed), 300)
        z10 = x
        for _ in range(10):
            z10 = tf.identity(z10)
        sess.run(z10, feed)
        t_short = _median_us(lambda: sess.run(z10, feed), 2000)
        out["per_op_dispatch_us"] = (t_long - t_short) / 190
        sess.close()

    g2 = tf.Graph()
    with g2.as_default():
        gc.collect()
        c = tf.constant(np.ones(4, np.float32))
        t0 = time.perf_counter()
        acc = c
        for _ in range(nbig):
            acc = tf.add(acc, c)
        out["build_us_per_op"] = (time.perf_counter() - t0) / nbig * 1e6
        sess = tf.Session()
        t0 = time.perf_counter()
        sess.run(acc)
        out["first_run_10k_ms"] = (time.perf_counter() - t0) * 1e3
        sess.close()

    g3 = tf.Graph()
    with g3.as_default():
        n = 1 << 20
        p = tf.placeholder(tf.float32, [n])
        h = p
        for _ in range(50):
            h = tf.add(h, h)
        sess = tf.Session()
        val = np.ones(n, np.float32)
        sess.run(h, {p: val})
        tracemalloc.start()
        sess.run(h, {p: val})
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        # tracemalloc sees numpy's buffers; TensorFlow allocates outside it, so report n/a there.
        out["chain50_peak_buffers"] = peak / (n * 4) if peak > n else None
        sess.close()
    return out


def _run_tf():
    py = os.environ.get("HEADWATER_BENCH_TF_PYTHON")
    if not py:
        try:
            import tensorflow  # noqa: F401
            py = sys.executable
        except ImportError:
            return None, None
    code = ("import sys, json; sys.path.insert(0, %r); import bench_session as b; "
            "import tensorflow.compat.v1 as tf; tf.disable_v2_behavior(); "
            "import tensorflow as t2; print('VERSION', t2.__version__); "
            "print('RESULT', json.dumps(b.workload(tf)))" % os.path.dirname(
                os.path.abspath(__file__)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([py, "-c", code], capture_output=True, text=True, env=env,
                       timeout=900)
    version = res = None
    for line in r.stdout.splitlines():
        if line.startswith("VERSION "):
            version = line.split(" ", 1)[1]
        if line.startswith("RESULT "):
            res = json.loads(line.split(" ", 1)[1])
    if res is None:
        sys.stderr.write("TensorFlow run failed:\n" + r.stderr[-2000:] + "\n")
    return version, res


ROWS = [
    ("chain10_run_us", "10-op chain, 1 element, 1 feed: `Session.run`", "µs", "< 15"),
    ("chain10_callable_us", "same through `make_callable`", "µs", ""),
    ("empty_run_us", "empty `Session.run([])`", "µs", "< 3"),
    ("per_op_dispatch_us", "per-op dispatch in a plan", "µs", "< 1"),
    ("build_us_per_op", "graph building, per op (10k `tf.add`)", "µs", "≤ 10"),
    ("first_run_10k_ms", "first run of a 10k-op graph (planning included)", "ms", "≤ 50"),
    ("chain50_peak_buffers", "peak memory, 50-op chain of 4 MiB values", "buffers", "≈ 2"),
]


def run(quick=False):
    import headwater

    hw = workload(headwater, quick)
    tf_version, tfr = (None, None) if quick else _run_tf()
    head = "| measure | unit | target | headwater | TensorFlow %s | TF / headwater |" % (
        tf_version or "(not installed)")
    lines = [head, "|---|---|---|---:|---:|---:|"]
    for key, label, unit, target in ROWS:
        a = hw.get(key)
        b = tfr.get(key) if tfr else None
        fa = "n/a" if a is None else "%.3g" % a
        fb = "n/a" if b is None else "%.3g" % b
        ratio = "%.1f×" % (b / a) if (a and b) else ""
        lines.append("| %s | %s | %s | %s | %s | %s |" % (label, unit, target, fa, fb, ratio))
    return [("Session overhead (median of 7 repeats)", "\n".join(lines))]


if __name__ == "__main__":
    for title, table in run():
        print("### " + title + "\n")
        print(table + "\n")
