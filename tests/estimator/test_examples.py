"""The Getting Started estimator programs run unchanged and reach TF1's results."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(name, *args):
    # The child imports the same installed headwater as this process (with its _C).
    env = dict(os.environ)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), *args],
                       capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def test_estimator_linear_regression_example():
    out = _run("estimator_linear_regression.py")
    m = re.search(r"predictions: \[([^\]]*)\]", out)
    preds = [float(v) for v in m.group(1).split(",")]
    assert [round(p) for p in preds] == [-4, -5, 1]
    assert all(abs(p - r) < 0.01 for p, r in zip(preds, [-4, -5, 1]))
    assert "'global_step': 1000" in out and "'average_loss'" in out


def test_estimator_custom_model_example():
    out = _run("estimator_custom_model.py")
    train = re.search(r"train metrics: \{'loss': ([^,]*), 'global_step': 1000\}", out)
    ev = re.search(r"eval metrics: \{'loss': ([^,]*), 'global_step': 1000\}", out)
    assert float(train.group(1)) < 1e-8
    assert abs(float(ev.group(1)) - 0.0101) < 1e-3


def test_estimator_mnist_example_short(tmp_path):
    shared = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                           "..", "..", "shared", "data", "mnist"))
    if not os.path.isdir(shared):
        pytest.skip("the shared MNIST files are not beside the repository")
    out = _run("estimator_mnist.py", "--steps", "100", "--model_dir", str(tmp_path),
               "--data_dir", shared)
    acc = float(re.search(r"Test Accuracy: ([0-9.]+)%", out).group(1))
    assert acc > 60
