"""Fused optimizer updates on 1M-element float32 variables: headwater._C in place against the
numpy rules (the fallback path of train/training_ops.py)."""

import numpy as np

from _harness import fmt_ratio, fmt_time, measure, table

from headwater import _C
from headwater.train import training_ops as T

N = 1 << 20

# (label, native name, numpy rule, buffers, scalars before grad, scalars after grad, flags)
CASES = [
    ("SGD", "apply_gradient_descent", T._gradient_descent, 1, (0.1,), (), ()),
    ("Momentum", "apply_momentum", T._momentum, 2, (0.1,), (0.9,), (False,)),
    ("Nesterov", "apply_momentum", T._momentum, 2, (0.1,), (0.9,), (True,)),
    ("Adagrad", "apply_adagrad", T._adagrad, 2, (0.1,), (), (True,)),
    ("RMSProp", "apply_rms_prop", T._rms_prop, 3, (0.01, 0.9, 0.5, 1e-10), (), ()),
    ("centered RMSProp", "apply_centered_rms_prop", T._centered_rms_prop, 4,
     (0.01, 0.9, 0.5, 1e-10), (), ()),
    ("Adam", "apply_adam", T._adam, 3, (0.5, 0.5, 0.001, 0.9, 0.999, 1e-8), (), (False,)),
]


def run(quick=False):
    rng = np.random.default_rng(0)
    n = N // 16 if quick else N
    repeat = 3 if quick else 9
    min_time = 0.005 if quick else 0.1
    rows = []
    for label, name, rule, nbuf, before, after, flags in CASES[:2] if quick else CASES:
        bufs = [rng.uniform(0.1, 1, n).astype(np.float32) for _ in range(nbuf)]
        grad = rng.uniform(-1, 1, n).astype(np.float32)
        fn = getattr(_C, name + "_f32")
        c_args = [*bufs, *before, grad, *after, *flags]
        sv = [np.float32(s) for s in before]
        sa = [np.float32(s) for s in after]
        np_args = [*bufs, *sv, grad, *sa, *flags]
        t_c = measure(lambda: fn(*c_args), repeat=repeat, min_time=min_time)
        t_np = measure(lambda: rule(*np_args), repeat=repeat, min_time=min_time)
        # Bytes moved: every buffer read and written, the gradient read.
        gbs = (2 * nbuf + 1) * 4 * n / t_c / 1e9
        rows.append([label, fmt_time(t_c), f"{gbs:.0f}", fmt_time(t_np), fmt_ratio(t_np / t_c)])
    header = ["update", "headwater", "GB/s", "numpy rule", "numpy / headwater"]
    return [(f"Fused optimizer updates, float32, {n} elements, in place (median)",
             table(header, rows))]


if __name__ == "__main__":
    for title, md in run():
        print(f"### {title}\n\n{md}\n")
