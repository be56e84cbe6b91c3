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

# The products of one 784-256-256-10 MLP training step (batch 128) in the layouts the gradients
# use: (label, m, k, n, transpose_a, transpose_b, bias + relu epilogue).
MLP_PRODUCTS = [
    ("x . W1 + b, relu", 128, 784, 256, False, False, True),
    ("dW1 = x^T . dH1", 784, 128, 256, True, False, False),
    ("h1 . W2 + b, relu", 128, 256, 256, False, False, True),
    ("dW2 = h1^T . dH2", 256, 128, 256, True, False, False),
    ("dH1 = dH2 . W2^T", 128, 256, 256, False, True, False),
    ("h2 . W3 + b", 128, 256, 10, False, False, True),
    ("dW3 = h2^T . dL", 256, 128, 10, True, False, False),
    ("dH2 = dL . W3^T", 128, 10, 256, False, True, False),
]

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
for label, m, k, n, ta, tb, epi in req.get("mlp", []):
    g = tf.Graph()
    with g.as_default():
        rng = np.random.default_rng(0)
        a = tf.compat.v1.Variable(rng.standard_normal((k, m) if ta else (m, k)).astype("float32"))
        b = tf.compat.v1.Variable(rng.standard_normal((n, k) if tb else (k, n)).astype("float32"))
        c = tf.matmul(a, b, transpose_a=ta, transpose_b=tb)
        if epi:
            c = tf.nn.bias_add(c, tf.compat.v1.Variable(np.zeros(n, "float32")))
            if "relu" in label:
                c = tf.nn.relu(c)
        sess = tf.compat.v1.Session(graph=g)
        sess.run(tf.compat.v1.global_variables_initializer())
        f = sess.make_callable(c.op)
        out["mlp:" + label] = measure(f, req["repeat"], req["min_time"])
print(json.dumps(out))
'''


def _cases(rng, dtypes, shapes, mlp):
    """(key, flops, headwater fn, numpy fn, torch fn factory) for every measured product."""
    cases = []
    for dtype in dtypes:
        for m, k, n in shapes:
            a = rng.standard_normal((m, k)).astype(dtype)
            b = rng.standard_normal((k, n)).astype(dtype)

            def torch_fn(mod, a=a, b=b):
                ta, tb = mod.from_numpy(a), mod.from_numpy(b)
                return lambda: mod.matmul(ta, tb)

            cases.append(((np.dtype(dtype).name, m, k, n), 2.0 * m * n * k,
                          lambda a=a, b=b: _C.matmul(a, b), lambda a=a, b=b: a @ b, torch_fn))
    for label, m, k, n, ta, tb, epi in mlp:
        # Each library does what a user of it would write: numpy and PyTorch add the bias and
        # apply the ReLU as separate ops.
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
        bias = rng.standard_normal(n).astype(np.float32) if epi else None
        relu = epi and "relu" in label
        an, bn = (a.T if ta else a), (b.T if tb else b)

        def np_fn(an=an, bn=bn, bias=bias, relu=relu):
            c = an @ bn
            if bias is not None:
                c += bias
            if relu:
                np.maximum(c, 0, out=c)
            return c

        def torch_fn(mod, an=an, bn=bn, bias=bias, relu=relu):
            ta_, tb_ = mod.from_numpy(an), mod.from_numpy(bn)
            tbias = mod.from_numpy(bias) if bias is not None else None

            def f():
                c = mod.matmul(ta_, tb_) if tbias is None else mod.addmm(tbias, ta_, tb_)
                return mod.relu_(c) if relu else c
            return f

        cases.append((("mlp", label, m, k, n), 2.0 * m * n * k,
                      lambda a=a, b=b, ta=ta, tb=tb, bias=bias, relu=relu:
                      _C.matmul(a, b, ta, tb, bias=bias, relu=relu), np_fn, torch_fn))
    return cases


def run(quick=False):
    rng = np.random.default_rng(0)
    frameworks = [(n, m) for n, m in optional_frameworks() if n == "torch"]
    repeat = 3 if quick else 7
    min_time = 0.005 if quick else 0.2
    dtypes = (np.float32,) if quick else (np.float32, np.float64)
    shapes = QUICK_SHAPES if quick else SHAPES
    mlp = [] if quick else MLP_PRODUCTS
    tf_times = None
    if not quick:
        tf_cases = [(m, k, n, np.dtype(dt).name) for dt in dtypes for m, k, n in shapes]
        tf_times = run_tf(_TF_SCRIPT, {"cases": tf_cases, "repeat": repeat, "min_time": min_time,
                                       "mlp": mlp})
    cases = _cases(rng, dtypes, shapes, mlp)
    # One library at a time, PyTorch last: its OpenMP threads (and OpenBLAS's) keep spinning
    # for a while after each call, and on two cores that steals a core from whatever is
    # measured next in this process.
    t_hw = {key: measure(hw, repeat=repeat, min_time=min_time) for key, _, hw, _, _ in cases}
    t_np = {key: measure(npf, repeat=repeat, min_time=min_time) for key, _, _, npf, _ in cases}
    t_fw = {name: {key: measure(tfn(mod), repeat=repeat, min_time=min_time)
                   for key, _, _, _, tfn in cases} for name, mod in frameworks}
    flops = {key: fl for key, fl, _, _, _, in cases}

    out = []
    for dtype in dtypes:
        dt = np.dtype(dtype).name
        peak = PEAK if dtype == np.float32 else PEAK / 2
        header = ["M x K . K x N", "headwater GFLOP/s", "% of peak", "numpy GFLOP/s",
                  "headwater / numpy"]
        if tf_times:
            header += ["TF GFLOP/s", "headwater / TF"]
        for name, _ in frameworks:
            header += [f"{name} GFLOP/s", f"headwater / {name}"]
        rows = []
        for m, k, n in shapes:
            key = (dt, m, k, n)
            fl, th = flops[key], t_hw[key]
            row = [f"{m}x{k} . {k}x{n}", f"{fl / th / 1e9:.1f}",
                   f"{100 * fl / th / 1e9 / peak:.0f}%", f"{fl / t_np[key] / 1e9:.1f}",
                   fmt_ratio(t_np[key] / th)]
            if tf_times:
                t_tf = tf_times.get("%dx%dx%dx%s" % (m, k, n, dt))
                row += [f"{fl / t_tf / 1e9:.1f}", fmt_ratio(t_tf / th)] if t_tf else ["-", "-"]
            for name, _ in frameworks:
                row += [f"{fl / t_fw[name][key] / 1e9:.1f}", fmt_ratio(t_fw[name][key] / th)]
            rows.append(row)
        title = (f"matmul, {dt}, median of repeats (ratio > 1: headwater is faster; peak "
                 f"{peak:.0f} GFLOP/s; TF includes its Session.run overhead)")
        out.append((title, table(header, rows)))
    if mlp:
        header = ["product (M x K . K x N)", "headwater us", "GFLOP/s", "% of peak", "numpy us",
                  "headwater / numpy"]
        if tf_times:
            header += ["TF us", "headwater / TF"]
        for name, _ in frameworks:
            header += [f"{name} us", f"headwater / {name}"]
        rows = []
        for label, m, k, n, _, _, _ in mlp:
            key = ("mlp", label, m, k, n)
            fl, th = flops[key], t_hw[key]
            row = [f"{label} ({m}x{k} . {k}x{n})", f"{th * 1e6:.1f}", f"{fl / th / 1e9:.1f}",
                   f"{100 * fl / th / 1e9 / PEAK:.0f}%", f"{t_np[key] * 1e6:.1f}",
                   fmt_ratio(t_np[key] / th)]
            if tf_times:
                t_tf = tf_times.get("mlp:" + label)
                row += [f"{t_tf * 1e6:.1f}", fmt_ratio(t_tf / th)] if t_tf else ["-", "-"]
            for name, _ in frameworks:
                row += [f"{t_fw[name][key] * 1e6:.1f}", fmt_ratio(t_fw[name][key] / th)]
            rows.append(row)
        out.append(("matmul, float32, the 784-256-256-10 MLP training step's products (batch "
                    "128) in their gradient layouts, median of repeats (ratio > 1: headwater is "
                    "faster; TF includes its Session.run overhead)", table(header, rows)))
    return out


if __name__ == "__main__":
    for title, md in run():
        print(f"### {title}\n\n{md}\n")
