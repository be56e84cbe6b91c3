"""The MNIST tutorial examples end to end on the shared MNIST test files (shortened runs)."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "mnist"))
if not os.path.isdir(SHARED):
    SHARED = "/work/shared/data/mnist"

pytestmark = pytest.mark.skipif(
    not os.path.exists(os.path.join(SHARED, "t10k-images-idx3-ubyte.gz")),
    reason="shared MNIST test files not available")


def _run(script, *args):
    env = dict(os.environ)
    # No PYTHONPATH to src/: the child must import the installed headwater, with its _C.
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script),
                        "--data-dir", SHARED, *args], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    m = re.search(r"^test accuracy ([0-9.]+)$", r.stdout, re.M)
    assert m, r.stdout
    return r.stdout, float(m.group(1))


def test_mnist_softmax():
    out, acc = _run("mnist_softmax.py", "--steps", "200", "--seed", "1")
    assert re.search(r"^step 100, training accuracy 0\.\d+$", out, re.M)
    assert re.search(r"^step 200, training accuracy", out, re.M)
    # 0.92 measured (seeds 1-3); the full 1000-step run reaches 0.93.
    assert acc >= 0.85


def test_mnist_deep():
    out, acc = _run("mnist_deep.py", "--steps", "40", "--log-every", "20", "--seed", "1")
    assert re.search(r"^step 0, training accuracy", out, re.M)
    assert re.search(r"^step 20, training accuracy", out, re.M)
    assert re.search(r"ms per training step", out)
    # ~0.7 after 40 steps (0.79 after 60, 0.94 after 300).
    assert acc >= 0.5
