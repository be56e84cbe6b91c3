"""Elementwise add/mul: headwater._C against numpy (and torch/tensorflow when importable)."""

import numpy as np

from _harness import fmt_ratio, fmt_time, measure, optional_frameworks, table

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
    if name == "torch":
        ta, tb = mod.from_numpy(a), mod.from_numpy(b)
        f = mod.add if op == "add" else mod.mul
        return lambda: f(ta, tb)
    if name == "tensorflow":
        ta, tb = mod.constant(a), mod.constant(b)
        f = mod.add if op == "add" else mod.multiply
        return lambda: f(ta, tb)
    raise ValueError(name)


def run(quick=False):
    rng = np.random.default_rng(0)
    frameworks = optional_frameworks()
    repeat = 3 if quick else 9
    min_time = 0.005 if quick else 0.1
    out = []
    for dtype in (np.float32,) if quick else (np.float32, np.float64):
        header = ["op", "shape", "headwater", "numpy", "numpy / headwater"]
        for name, _ in frameworks:
            header += [name, f"{name} / headwater"]
        rows = []
        for op in ("add", "mul"):
            for label, sa, sb in QUICK_CASES if quick else CASES:
                a = rng.standard_normal(sa).astype(dtype)
                b = rng.standard_normal(sb).astype(dtype)
                hw_fn = getattr(_C, op)
                np_fn = np.add if op == "add" else np.multiply
                t_hw = measure(lambda: hw_fn(a, b), repeat=repeat, min_time=min_time)
                t_np = measure(lambda: np_fn(a, b), repeat=repeat, min_time=min_time)
                row = [op, label, fmt_time(t_hw), fmt_time(t_np), fmt_ratio(t_np / t_hw)]
                for name, mod in frameworks:
                    t_fw = measure(_framework_fns(name, mod, op, a, b), repeat=repeat,
                                   min_time=min_time)
                    row += [fmt_time(t_fw), fmt_ratio(t_fw / t_hw)]
                rows.append(row)
        title = f"Elementwise, {np.dtype(dtype).name} (ratio > 1: headwater is faster)"
        out.append((title, table(header, rows)))
    return out


if __name__ == "__main__":
    for title, md in run():
        print(f"### {title}\n\n{md}\n")
