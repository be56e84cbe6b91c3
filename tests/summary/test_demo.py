"""examples/tensorboard_demo.py runs and writes what TensorBoard shows."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "examples", "tensorboard_demo.py")
MNIST = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "mnist"))


@pytest.mark.skipif(not os.path.isdir(MNIST), reason="shared MNIST data not present")
def test_demo_writes_train_and_test_runs(tmp_path):
    logdir = str(tmp_path / "logs")
    env = dict(os.environ)
    # No PYTHONPATH to src/: the child must import the installed headwater, with its _C.
    out = subprocess.run([sys.executable, DEMO, "--logdir", logdir, "--steps", "120",
                          "--data-dir", MNIST], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "tensorboard --logdir %s --host 127.0.0.1" % logdir in out.stdout
    train = ea.EventAccumulator(os.path.join(logdir, "train"), size_guidance={ea.SCALARS: 0})
    train.Reload()
    tags = train.Tags()
    assert tags["graph"] is True
    assert tags["run_metadata"] == ["step099"]
    # The "_1"s are TF1's: the name scopes "cross_entropy", "accuracy" (and the ops "Mean",
    # "Max", ... compared case-insensitively) were taken before the summaries were created.
    assert {"cross_entropy_1", "accuracy_1", "softmax_layer/weights/summaries/mean_1",
            "softmax_layer/weights/summaries/stddev_1"} <= set(tags["scalars"])
    assert "softmax_layer/weights/summaries/histogram" in tags["histograms"]
    assert "input_reshape/input/image/0" in tags["images"]
    assert [e.step for e in train.Scalars("cross_entropy_1")] == list(range(120))
    img = train.Images("input_reshape/input/image/0")[0]
    assert (img.width, img.height) == (28, 28)
    test = ea.EventAccumulator(os.path.join(logdir, "test"))
    test.Reload()
    assert [e.step for e in test.Scalars("accuracy_1")] == list(range(0, 120, 10))
    assert test.Scalars("accuracy_1")[-1].value > 0.8
