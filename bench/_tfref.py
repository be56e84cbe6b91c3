"""Timing TensorFlow in a separate interpreter (its own venv), for side-by-side columns.

TensorFlow is optional: set HEADWATER_TF_PYTHON to a Python that has it (default: the
machine's /work/tfvenv/bin/python when it exists). The child runs graph-mode
(tf.compat.v1) sessions, so the figures are TF1-style Session.run times, and prints JSON.
"""

import json
import os
import subprocess

_DEFAULT = "/work/tfvenv/bin/python"


def tf_python():
    p = os.environ.get("HEADWATER_TF_PYTHON", _DEFAULT)
    return p if p and os.path.exists(p) else None


def run_tf(script, payload, timeout=900):
    """Run `script` (Python source reading json from stdin, printing json) under TF's Python.

    Returns the decoded result, or None when TF is unavailable or the child fails.
    """
    py = tf_python()
    if py is None:
        return None
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    try:
        out = subprocess.run([py, "-c", script], input=json.dumps(payload), capture_output=True,
                             text=True, timeout=timeout, env=env, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    except Exception:  # noqa: BLE001 - any failure just drops the TF column
        return None


# Shared by the child scripts: median of timed repeats after warm-up, like _harness.measure.
TIMER = r'''
import json, sys, time, statistics
def measure(fn, repeat=7, min_time=0.2):
    fn()
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time or number >= 100000:
            break
        number = max(number * 2, int(number * min_time / max(dt, 1e-9)))
    samples = [dt / number]
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)
'''
