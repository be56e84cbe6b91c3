"""Estimator overhead: the Getting Started LinearRegressor trained for 1,000 steps
(numpy_input_fn, batch 4, shuffled), headwater vs TensorFlow's tf.compat.v1 estimator.

TensorFlow runs in a subprocess from the interpreter named by HEADWATER_BENCH_TF_PYTHON (or
this one, if it can import tensorflow).

    python bench/bench_estimator.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def workload(tf, quick=False):
    """Median seconds of `train(steps)` on a fresh LinearRegressor (graph building, session
    creation, checkpoints at start and end included, as a user sees it)."""
    steps = 200 if quick else 1000
    times = []
    for _ in range(1 if quick else 3):
        with tempfile.TemporaryDirectory() as d:
            est = tf.estimator.LinearRegressor(
                feature_columns=[tf.feature_column.numeric_column("x", shape=[1])],
                model_dir=d)
            fn = tf.estimator.inputs.numpy_input_fn(
                {"x": np.array([1., 2., 3., 4.])}, np.array([0., -1., -2., -3.]),
                batch_size=4, num_epochs=None, shuffle=True)
            t0 = time.perf_counter()
            est.train(input_fn=fn, steps=steps)
            times.append(time.perf_counter() - t0)
    return {"linreg_train_s": statistics.median(times), "steps": steps}


def _run_tf(quick):
    py = os.environ.get("HEADWATER_BENCH_TF_PYTHON")
    if not py:
        try:
            import tensorflow  # noqa: F401
            py = sys.executable
        except ImportError:
            return None, None
    code = ("import sys, json; sys.path.insert(0, %r); import bench_estimator as b; "
            "import tensorflow.compat.v1 as tf; tf.disable_v2_behavior(); "
            "tf.logging.set_verbosity(tf.logging.ERROR); "
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


def run(quick=False):
    import headwater

    hw = workload(headwater, quick)
    version, tfr = (None, None) if quick else _run_tf(quick)
    b = tfr.get("linreg_train_s") if tfr else None
    a = hw["linreg_train_s"]
    lines = ["| Estimator workload | target | headwater s | TensorFlow %s s | TF / headwater |"
             % (version or "(not installed)"), "|---|---|---:|---:|---:|",
             "| LinearRegressor.train, %d steps (numpy_input_fn, batch 4) | < ½ of TF1 | "
             "%.3f | %s | %s |" % (hw["steps"], a, "n/a" if b is None else "%.3f" % b,
                                  "%.1f×" % (b / a) if b else "")]
    return [("Estimator overhead (median of 3 runs)", "\n".join(lines))]


if __name__ == "__main__":
    for title, table in run("--quick" in sys.argv):
        print("### " + title + "\n\n" + table + "\n")
