"""matmul GFLOP/s: headwater._C against numpy's BLAS (and torch/tensorflow when importable)."""

import numpy as np

from _harness import fmt_ratio, measure, optional_frameworks, table

from headwater import _C

SHAPES = [
    (64, 64, 64),
    (128, 128, 128),
    (256, 256, 256),
    (512, 512, 512),
    (1024, 1024, 1024),
    (100, 784, 256),
    (100, 256, 10),
]
QUICK_SHAPES = [(64, 64, 64), (100, 256, 10)]


def _framework_fn(name, mod, a, b):
    if name == "torch":
        ta, tb = mod.from_numpy(a), mod.from_numpy(b)
        return lambda: mod.matmul(ta, tb)
    if name == "tensorflow":
        ta, tb = mod.constant(a), mod.constant(b)
        return lambda: mod.matmul(ta, tb)
    raise ValueError(name)


def run(quick=False):
    rng = np.random.default_rng(0)
    frameworks = optional_frameworks()
    repeat = 3 if quick else 7
    min_time = 0.005 if quick else 0.2
    out = []
    for dtype in (np.float32,) if quick else (np.float32, np.float64):
        header = ["M x K . K x N", "headwater GFLOP/s", "numpy GFLOP/s", "headwater / numpy"]
        for name, _ in frameworks:
            header += [f"{name} GFLOP/s", f"headwater / {name}"]
        rows = []
        for m, k, n in QUICK_SHAPES if quick else SHAPES:
            a = rng.standard_normal((m, k)).astype(dtype)
            b = rng.standard_normal((k, n)).astype(dtype)
            flops = 2.0 * m * n * k
            t_hw = measure(lambda: _C.matmul(a, b), repeat=repeat, min_time=min_time)
            t_np = measure(lambda: a @ b, repeat=repeat, min_time=min_time)
            row = [f"{m}x{k} . {k}x{n}", f"{flops / t_hw / 1e9:.1f}", f"{flops / t_np / 1e9:.1f}",
                   fmt_ratio(t_np / t_hw)]
            for name, mod in frameworks:
                t_fw = measure(_framework_fn(name, mod, a, b), repeat=repeat, min_time=min_time)
                row += [f"{flops / t_fw / 1e9:.1f}", fmt_ratio(t_fw / t_hw)]
            rows.append(row)
        title = f"matmul, {np.dtype(dtype).name} (ratio > 1: headwater is faster)"
        out.append((title, table(header, rows)))
    return out


if __name__ == "__main__":
    for title, md in run():
        print(f"### {title}\n\n{md}\n")
