"""matmul GFLOP/s: headwater._C against numpy's BLAS, TensorFlow (graph mode, via its own venv)
and PyTorch when importable, with % of the machine's FMA peak."""

import os

import numpy as np

from _harness import fmt_ratio, measure, optional_frameworks, table
from _tfref import TIMER, run_tf

from headwater import _C

SHAPES = [
    (64, 64, 64),
    (128, 128, 128),
    (256, 256, 256),
    (512, 512, 512),
    (1024, 1024, 1024),
    (2048, 2048, 2048),
    (100, 784, 256),
    (100, 256, 10),
]
QUICK_SHAPES = [(64, 64, 64), (100, 256, 10)]

# FMA peak of the machine in GFLOP/s (the measurement: a pure FMA loop on 2 cores with
# AVX-512 here). Override with HEADWATER_PEAK_GFLOPS on other machines.
PEAK = float(os.environ.get("HEADWATER_PEAK_GFLOPS", "234"))

_TF_SCRIPT = TIMER + r'''
import numpy as np
import tensorflow as tf
tf.compat.v1.disable_eager_execution()
req = json.loads(sys.stdin.read())
out = {}
for m, k, n, dt in req["cases"]:
    g = tf.Graph()
    with g.as_default():
        rng = np.random.default_rng(0)
        # Variables (no feed copies, nothing for Grappler to fold); fetch the op, not the
        # tensor, so no result is copied out either.
        a = tf.compat.v1.Variable(rng.standard_normal((m, k)).astype(dt))
        b = tf.compat.v1.Variable(rng.standard_normal((k, n)).astype(dt))
        c = tf.matmul(a, b)
        sess = tf.compat.v1.Session(graph=g)
        sess.run(tf.compat.v1.global_variables_initializer())
        f = sess.make_callable(c.op)
        out["%dx%dx%dx%s" % (m, k, n, dt)] = measure(f, req["repeat"], req["min_time"])
print(json.dumps(out))
'''


def _framework_fn(name, mod, a, b):
    if name == "torch":
        ta, tb = mod.from_numpy(a), mod.from_numpy(b)
        return lambda: mod.matmul(ta, tb)
    raise ValueError(name)


def run(quick=False):
    rng = np.random.default_rng(0)
    frameworks = [(n, m) for n, m in optional_frameworks() if n == "torch"]
    repeat = 3 if quick else 7
    min_time = 0.005 if quick else 0.2
    dtypes = (np.float32,) if quick else (np.float32, np.float64)
    shapes = QUICK_SHAPES if quick else SHAPES
    tf_times = None
    if not quick:
        cases = [(m, k, n, np.dtype(dt).name) for dt in dtypes for m, k, n in shapes]
        tf_times = run_tf(_TF_SCRIPT, {"cases": cases, "repeat": repeat, "min_time": min_time})
    out = []
    for dtype in dtypes:
        header = ["M x K . K x N", "headwater GFLOP/s", "% of peak", "numpy GFLOP/s",
                  "headwater / numpy"]
        if tf_times:
            header += ["TF GFLOP/s", "headwater / TF"]
        for name, _ in frameworks:
            header += [f"{name} GFLOP/s", f"headwater / {name}"]
        rows = []
        for m, k, n in shapes:
            a = rng.standard_normal((m, k)).astype(dtype)
            b = rng.standard_normal((k, n)).astype(dtype)
            flops = 2.0 * m * n * k
            t_hw = measure(lambda: _C.matmul(a, b), repeat=repeat, min_time=min_time)
            t_np = measure(lambda: a @ b, repeat=repeat, min_time=min_time)
            peak = PEAK if dtype == np.float32 else PEAK / 2
            row = [f"{m}x{k} . {k}x{n}", f"{flops / t_hw / 1e9:.1f}",
                   f"{100 * flops / t_hw / 1e9 / peak:.0f}%", f"{flops / t_np / 1e9:.1f}",
                   fmt_ratio(t_np / t_hw)]
            if tf_times:
                t_tf = tf_times.get("%dx%dx%dx%s" % (m, k, n, np.dtype(dtype).name))
                row += ([f"{flops / t_tf / 1e9:.1f}", fmt_ratio(t_tf / t_hw)] if t_tf
                        else ["-", "-"])
            for name, mod in frameworks:
                t_fw = measure(_framework_fn(name, mod, a, b), repeat=repeat, min_time=min_time)
                row += [f"{flops / t_fw / 1e9:.1f}", fmt_ratio(t_fw / t_hw)]
            rows.append(row)
        title = (f"matmul, {np.dtype(dtype).name}, median of repeats (ratio > 1: headwater is "
                 f"faster; peak {PEAK if dtype == np.float32 else PEAK / 2:.0f} GFLOP/s; TF "
                 f"includes its Session.run overhead)")
        out.append((title, table(header, rows)))
    return out


if __name__ == "__main__":
    for title, md in run():
        print(f"### {title}\n\n{md}\n")
