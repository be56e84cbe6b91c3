"""The TF1 Getting Started program runs unchanged and prints TF1's numbers."""

import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "getting_started.py")


def _run(python, prelude=""):
    src = open(EXAMPLE).read()
    if prelude:
        src = src.replace("import headwater as tf", prelude)
    r = subprocess.run([python, "-c", src], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_getting_started_prints_tf1_values():
    out = _run(sys.executable).splitlines()
    assert out[0] == ('Tensor("Const:0", shape=(), dtype=float32) '
                      'Tensor("Const_1:0", shape=(), dtype=float32)')
    assert out[1] == "[3.0, 4.0]"
    assert out[2] == 'node3: Tensor("Add:0", shape=(), dtype=float32)'
    assert out[3] == "sess.run(node3): 7.0"
    assert out[4:7] == ["7.5", "[3. 7.]", "22.5"]
    assert out[7] == "[0.         0.3        0.6        0.90000004]"
    assert out[8:10] == ["23.66", "0.0"]
    m = re.match(r"W: \[(\S+)\] b: \[(\S+)\] loss: (\S+)", out[-1])
    w, b, loss = (float(v) for v in m.groups())
    # 1000 float32 gradient-descent steps land where TF1's do.
    assert w == pytest.approx(-0.9999969, abs=2e-7)
    assert b == pytest.approx(0.9999908, abs=5e-7)
    assert loss < 1e-9


@pytest.mark.skipif(not os.environ.get("HEADWATER_TF_PYTHON"),
                    reason="set HEADWATER_TF_PYTHON to a python with tensorflow to compare")
def test_getting_started_identical_to_tensorflow():
    ours = _run(sys.executable)
    theirs = _run(os.environ["HEADWATER_TF_PYTHON"],
                  "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()")
    assert ours == theirs
