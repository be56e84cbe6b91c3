"""Reductions, softmax and vectorised unary math: headwater._C against numpy (and PyTorch when
importable), float32, medians. PyTorch is timed in a subprocess: its OpenMP threads keep
spinning after each op and, in the same process, slowed whichever library ran next (and were
slowed by ours) by up to 50x on this 2-core machine."""


import numpy as np

from _harness import fmt_ratio, fmt_time, in_subprocess, measure, optional_frameworks, table

from headwater import _C


def _np_erf(x, out):
    """numpy has no erf: scipy's when installed, else the row is timed against None."""
    try:
        from scipy.special import erf
    except ImportError:
        return None
    return lambda: erf(x, out=out)


def _np_logsumexp(x):
    m = x.max(1, keepdims=True)
    return np.log(np.exp(x - m).sum(1)) + m[:, 0]


def _arrays(quick):
    """The benchmark's inputs, rebuilt identically in the torch subprocess."""
    rng = np.random.default_rng(0)
    v1m = rng.standard_normal(1 << 20).astype(np.float32)
    big = rng.standard_normal((1024, 1024) if quick else (4096, 4096)).astype(np.float32)
    logits = rng.standard_normal((100, 1000)).astype(np.float32)
    return v1m, big, logits, np.abs(v1m) + 0.1


def _torch_cases(torch, quick):
    """label -> torch callable, for the labels of run()'s cases (outputs preallocated where the
    headwater row writes into out=)."""
    v1m, big, logits, pos = (torch.from_numpy(a) for a in _arrays(quick))
    o = torch.empty_like(v1m)
    return {
        "sum, 1M": lambda: v1m.sum(),
        f"sum axis 0, {big.shape[0]}x{big.shape[1]}": lambda: big.sum(0),
        f"sum axis 1, {big.shape[0]}x{big.shape[1]}": lambda: big.sum(1),
        "exp, 1M (out=)": lambda: torch.exp(v1m, out=o),
        "tanh, 1M (out=)": lambda: torch.tanh(v1m, out=o),
        "sigmoid, 1M (out=)": lambda: torch.sigmoid(v1m, out=o),
        "log, 1M (out=)": lambda: torch.log(pos, out=o),
        "softplus, 1M (out=)": lambda: torch.nn.functional.softplus(v1m),
        "erf, 1M (out=)": lambda: torch.erf(v1m, out=o),
        "max, 1M": lambda: v1m.max(),
        f"max axis 1, {big.shape[0]}x{big.shape[1]}": lambda: big.amax(1),
        "argmax, 1M": lambda: v1m.argmax(),
        f"argmax axis 0, {big.shape[0]}x{big.shape[1]}": lambda: big.argmax(0),
        "logsumexp axis 1, 100x1000": lambda: torch.logsumexp(logits, 1),
        "softmax, 100x1000": lambda: torch.softmax(logits, 1),
    }


def torch_timings(labels, quick=False):
    """Median seconds per call of the torch version of each labelled row (run in the
    subprocess _run_torch starts)."""
    import torch

    repeat = 3 if quick else 9
    min_time = 0.005 if quick else 0.1
    cases = _torch_cases(torch, quick)
    return {lbl: measure(cases[lbl], repeat=repeat, min_time=min_time) for lbl in labels}


def _run_torch(labels, quick):
    return in_subprocess("bench_reduce", "torch_timings(%r, %r)" % (list(labels), quick)) or {}


def run(quick=False):
    repeat = 3 if quick else 9
    min_time = 0.005 if quick else 0.1
    has_torch = "torch" in dict(optional_frameworks())
    v1m, big, logits, pos = _arrays(quick)
    out = np.empty_like(v1m)
    cases = [
        ("sum, 1M", lambda: _C.reduce_sum(v1m), lambda: v1m.sum(), v1m.size),
        (f"sum axis 0, {big.shape[0]}x{big.shape[1]}", lambda: _C.reduce_sum(big, [0]),
         lambda: big.sum(0), big.size),
        (f"sum axis 1, {big.shape[0]}x{big.shape[1]}", lambda: _C.reduce_sum(big, [1]),
         lambda: big.sum(1), big.size),
        ("exp, 1M (out=)", lambda: _C.exp(v1m, out), lambda: np.exp(v1m, out=out), v1m.size),
        ("tanh, 1M (out=)", lambda: _C.tanh(v1m, out), lambda: np.tanh(v1m, out=out), v1m.size),
        ("sigmoid, 1M (out=)", lambda: _C.sigmoid(v1m, out),
         lambda: np.divide(1, 1 + np.exp(-v1m), out=out), v1m.size),
        ("log, 1M (out=)", lambda: _C.log(pos, out), lambda: np.log(pos, out=out), v1m.size),
        ("softplus, 1M (out=)", lambda: _C.softplus(v1m, out),
         lambda: np.logaddexp(0, v1m, out=out), v1m.size),
        ("erf, 1M (out=)", lambda: _C.erf(v1m, out), _np_erf(v1m, out), v1m.size),
        ("max, 1M", lambda: _C.reduce_max(v1m), lambda: v1m.max(), v1m.size),
        (f"max axis 1, {big.shape[0]}x{big.shape[1]}", lambda: _C.reduce_max(big, [1]),
         lambda: big.max(1), big.size),
        ("argmax, 1M", lambda: _C.argmax(v1m, 0), lambda: v1m.argmax(), v1m.size),
        (f"argmax axis 0, {big.shape[0]}x{big.shape[1]}", lambda: _C.argmax(big, 0),
         lambda: big.argmax(0), big.size),
        ("logsumexp axis 1, 100x1000", lambda: _C.reduce_logsumexp(logits, [1]),
         lambda: _np_logsumexp(logits), logits.size),
        ("softmax, 100x1000", lambda: _C.softmax(logits),
         lambda: np.exp(logits - logits.max(1, keepdims=True)) /
         np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True), logits.size),
    ]
    if quick:
        cases = cases[:1] + cases[3:4]
    torch_t = _run_torch([c[0] for c in cases], quick) if has_torch else {}
    header = ["op", "headwater", "Gelem/s", "numpy", "numpy / headwater"]
    if torch_t:
        header += ["torch", "torch / headwater"]
    rows = []
    for label, hw, npf, n in cases:
        t_hw = measure(hw, repeat=repeat, min_time=min_time)
        t_np = measure(npf, repeat=repeat, min_time=min_time) if npf is not None else None
        row = [label, fmt_time(t_hw), f"{n / t_hw / 1e9:.2f}",
               fmt_time(t_np) if t_np else "-", fmt_ratio(t_np / t_hw) if t_np else "-"]
        if torch_t:
            t_t = torch_t.get(label)
            row += [fmt_time(t_t), fmt_ratio(t_t / t_hw)] if t_t else ["-", "-"]
        rows.append(row)
    return [("Reductions, softmax and unary math, float32, median (ratio > 1: headwater is "
             "faster; torch timed in a subprocess)", table(header, rows))]


if __name__ == "__main__":
    for title, md in run():
        print(f"### {title}\n\n{md}\n")
