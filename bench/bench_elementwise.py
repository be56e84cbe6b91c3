"""Elementwise add/mul: headwater._C against numpy (and torch/tensorflow when importable);
the fused chain relu(x*w+b)*0.5 against numpy, torch and TensorFlow 1.x graph mode. PyTorch is
timed in a subprocess: its OpenMP threads keep spinning after each op and, in the same process,
slowed whichever library ran next (and were slowed by ours) by up to 50x on this 2-core
machine."""


import numpy as np

from _harness import fmt_ratio, fmt_time, in_subprocess, measure, optional_frameworks, table
from _tfref import TIMER, run_tf

from headwater import _C

CASES = [
    ("1", (1,), (1,)),
    ("1K", (1 << 10,), (1 << 10,)),
    ("1M", (1 << 20,), (1 << 20,)),
    ("16M", (1 << 24,), (1 << 24,)),
    ("bcast 1024x1024 + 1024", (1024, 1024), (1024,)),
    ("bcast 1024x1 + 1x1024", (1024, 1), (1, 1024)),
]
QUICK_CASES = CASES[:3]


def _framework_fns(name, mod, op, a, b):
    if name == "tensorflow":
        ta, tb = mod.constant(a), mod.constant(b)
        f = mod.add if op == "add" else mod.multiply
        return lambda: f(ta, tb)
    raise ValueError(name)


def _binary_arrays(quick, dtype):
    """Inputs of run()'s rows, in order, rebuilt identically in the torch subprocess."""
    rng = np.random.default_rng(0)
    for d in (np.float32,) if quick else (np.float32, np.float64):
        for op in ("add", "mul"):
            for label, sa, sb in QUICK_CASES if quick else CASES:
                a = rng.standard_normal(sa).astype(d)
                b = rng.standard_normal(sb).astype(d)
                if d == dtype:
                    yield op, label, a, b


def _fused_arrays():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1024, 1024)).astype(np.float32)
    w = rng.standard_normal(1024).astype(np.float32)
    b = rng.standard_normal(1024).astype(np.float32)
    return x, w, b


def torch_timings(quick=False):
    """Median seconds per call of torch's versions of the rows ("dtype op label" -> s, and
    "fused" for its best eager form of the chain, into out=)."""
    import torch

    from _harness import measure as _measure

    repeat = 3 if quick else 9
    min_time = 0.005 if quick else 0.1
    res = {}
    for dtype in (np.float32,) if quick else (np.float32, np.float64):
        for op, label, a, b in _binary_arrays(quick, dtype):
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            f = torch.add if op == "add" else torch.mul
            res[f"{np.dtype(dtype).name} {op} {label}"] = _measure(
                lambda: f(ta, tb), repeat=repeat, min_time=min_time)
    tx, tw, tb = (torch.from_numpy(a) for a in _fused_arrays())
    tout = torch.empty_like(tx)

    def torch_best():
        torch.addcmul(tb, tx, tw, out=tout)
        torch.relu_(tout)
        tout.mul_(0.5)

    res["fused"] = _measure(torch_best, repeat=repeat, min_time=min_time)
    return res


def _run_torch(quick):
    if "torch" not in dict(optional_frameworks()):
        return {}
    return in_subprocess("bench_elementwise", "torch_timings(%r)" % quick) or {}


def run(quick=False):
    frameworks = [(n, m) for n, m in optional_frameworks() if n != "torch"]
    torch_t = _run_torch(quick)
    repeat = 3 if quick else 9
    min_time = 0.005 if quick else 0.1
    out = []
    for dtype in (np.float32,) if quick else (np.float32, np.float64):
        header = ["op", "shape", "headwater", "numpy", "numpy / headwater"]
        names = (["torch"] if torch_t else []) + [name for name, _ in frameworks]
        for name in names:
            header += [name, f"{name} / headwater"]
        rows = []
        for op, label, a, b in _binary_arrays(quick, dtype):
            hw_fn = getattr(_C, op)
            np_fn = np.add if op == "add" else np.multiply
            t_hw = measure(lambda: hw_fn(a, b), repeat=repeat, min_time=min_time)
            t_np = measure(lambda: np_fn(a, b), repeat=repeat, min_time=min_time)
            row = [op, label, fmt_time(t_hw), fmt_time(t_np), fmt_ratio(t_np / t_hw)]
            if torch_t:
                t_t = torch_t.get(f"{np.dtype(dtype).name} {op} {label}")
                row += [fmt_time(t_t), fmt_ratio(t_t / t_hw)] if t_t else ["-", "-"]
            for name, mod in frameworks:
                t_fw = measure(_framework_fns(name, mod, op, a, b), repeat=repeat,
                               min_time=min_time)
                row += [fmt_time(t_fw), fmt_ratio(t_fw / t_hw)]
            rows.append(row)
        title = f"Elementwise, {np.dtype(dtype).name} (ratio > 1: headwater is faster)"
        out.append((title, table(header, rows)))
    out.append(run_fused(quick, torch_t.get("fused")))
    return out


# relu(x * w + b) * 0.5 with x 1024x1024 and w, b rows of 1024 (a dense layer's epilogue).
FUSED_PROGRAM = [("mul", 3, 0, 1), ("add", 3, 3, 2), ("relu", 3, 3), ("const", 4, 0.5),
                 ("mul", 3, 3, 4)]

_TF_FUSED = TIMER + r'''
import numpy as np
import tensorflow.compat.v1 as tf
tf.disable_eager_execution()
p = json.loads(sys.stdin.read())
rng = np.random.default_rng(0)
x = rng.standard_normal((1024, 1024)).astype(np.float32)
w = rng.standard_normal(1024).astype(np.float32)
b = rng.standard_normal(1024).astype(np.float32)
g = tf.Graph()
with g.as_default():
    # Variables, so graph optimisation cannot constant-fold the chain away.
    xv, wv, bv = tf.Variable(x), tf.Variable(w), tf.Variable(b)
    y = tf.nn.relu(xv * wv + bv) * 0.5
    s = tf.Session(graph=g)
    s.run(tf.global_variables_initializer())
    op = y.op
    t = measure(lambda: s.run(op), repeat=p["repeat"])
print(json.dumps({"fused": t}))
'''


def run_fused(quick=False, t_torch=None):
    """The fused chain on 1M float32: headwater writes into out= in one pass; numpy's best is
    four ufunc passes into out=; torch's best eager form (addcmul, relu_, mul_ into out=) is
    timed by torch_timings in a subprocess and passed in."""
    repeat = 3 if quick else 9
    min_time = 0.005 if quick else 0.1
    x, w, b = _fused_arrays()
    out = np.empty_like(x)
    half = np.float32(0.5)

    def np_out():
        np.multiply(x, w, out=out)
        np.add(out, b, out=out)
        np.maximum(out, 0, out=out)
        np.multiply(out, half, out=out)

    def np_alloc():
        return np.maximum(x * w + b, 0) * half

    t_hw = measure(lambda: _C.fused_elementwise(FUSED_PROGRAM, [x, w, b], out), repeat=repeat,
                   min_time=min_time)
    t_np = measure(np_out, repeat=repeat, min_time=min_time)
    t_na = measure(np_alloc, repeat=repeat, min_time=min_time)
    header = ["chain, float32 1024x1024", "headwater (out=)", "Gelem/s", "numpy (out=)",
              "numpy / headwater", "numpy (allocating)"]
    row = ["relu(x*w+b)*0.5", fmt_time(t_hw), f"{x.size / t_hw / 1e9:.2f}", fmt_time(t_np),
           fmt_ratio(t_np / t_hw), fmt_time(t_na)]
    if t_torch:
        header += ["torch (out=)", "torch / headwater"]
        row += [fmt_time(t_torch), fmt_ratio(t_torch / t_hw)]
    tf_res = None if quick else run_tf(_TF_FUSED, {"repeat": repeat})
    if tf_res is not None:
        header += ["TF 1.x graph", "TF / headwater"]
        row += [fmt_time(tf_res["fused"]), fmt_ratio(tf_res["fused"] / t_hw)]
    return ("Fused elementwise chain (ratio > 1: headwater is faster)", table(header, [row]))


if __name__ == "__main__":
    for title, md in run():
        print(f"### {title}\n\n{md}\n")
