"""Reductions, softmax and vectorised unary math: headwater._C against numpy (and PyTorch when
importable), float32, medians."""

import numpy as np

from _harness import fmt_ratio, fmt_time, measure, optional_frameworks, table

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


def run(quick=False):
    rng = np.random.default_rng(0)
    repeat = 3 if quick else 9
    min_time = 0.005 if quick else 0.1
    torch = dict(optional_frameworks()).get("torch")
    v1m = rng.standard_normal(1 << 20).astype(np.float32)
    big = rng.standard_normal((1024, 1024) if quick else (4096, 4096)).astype(np.float32)
    logits = rng.standard_normal((100, 1000)).astype(np.float32)
    pos = np.abs(v1m) + 0.1
    out = np.empty_like(v1m)
    cases = [
        ("sum, 1M", lambda: _C.reduce_sum(v1m), lambda: v1m.sum(), v1m.size,
         (lambda t: (lambda: t.sum())) if torch else None, v1m),
        (f"sum axis 0, {big.shape[0]}x{big.shape[1]}", lambda: _C.reduce_sum(big, [0]),
         lambda: big.sum(0), big.size, (lambda t: (lambda: t.sum(0))) if torch else None, big),
        (f"sum axis 1, {big.shape[0]}x{big.shape[1]}", lambda: _C.reduce_sum(big, [1]),
         lambda: big.sum(1), big.size, (lambda t: (lambda: t.sum(1))) if torch else None, big),
        ("exp, 1M (out=)", lambda: _C.exp(v1m, out), lambda: np.exp(v1m, out=out), v1m.size,
         (lambda t: (lambda: torch.exp(t))) if torch else None, v1m),
        ("tanh, 1M (out=)", lambda: _C.tanh(v1m, out), lambda: np.tanh(v1m, out=out), v1m.size,
         (lambda t: (lambda: torch.tanh(t))) if torch else None, v1m),
        ("sigmoid, 1M (out=)", lambda: _C.sigmoid(v1m, out),
         lambda: np.divide(1, 1 + np.exp(-v1m), out=out), v1m.size,
         (lambda t: (lambda: torch.sigmoid(t))) if torch else None, v1m),
        ("log, 1M (out=)", lambda: _C.log(pos, out), lambda: np.log(pos, out=out), v1m.size,
         (lambda t: (lambda: torch.log(t))) if torch else None, pos),
        ("softplus, 1M (out=)", lambda: _C.softplus(v1m, out),
         lambda: np.logaddexp(0, v1m, out=out), v1m.size,
         (lambda t: (lambda: torch.nn.functional.softplus(t))) if torch else None, v1m),
        ("erf, 1M (out=)", lambda: _C.erf(v1m, out), _np_erf(v1m, out), v1m.size,
         (lambda t: (lambda: torch.erf(t))) if torch else None, v1m),
        ("max, 1M", lambda: _C.reduce_max(v1m), lambda: v1m.max(), v1m.size,
         (lambda t: (lambda: t.max())) if torch else None, v1m),
        (f"max axis 1, {big.shape[0]}x{big.shape[1]}", lambda: _C.reduce_max(big, [1]),
         lambda: big.max(1), big.size, (lambda t: (lambda: t.amax(1))) if torch else None, big),
        ("argmax, 1M", lambda: _C.argmax(v1m, 0), lambda: v1m.argmax(), v1m.size,
         (lambda t: (lambda: t.argmax())) if torch else None, v1m),
        (f"argmax axis 0, {big.shape[0]}x{big.shape[1]}", lambda: _C.argmax(big, 0),
         lambda: big.argmax(0), big.size, (lambda t: (lambda: t.argmax(0))) if torch else None,
         big),
        ("logsumexp axis 1, 100x1000", lambda: _C.reduce_logsumexp(logits, [1]),
         lambda: _np_logsumexp(logits), logits.size,
         (lambda t: (lambda: torch.logsumexp(t, 1))) if torch else None, logits),
        ("softmax, 100x1000", lambda: _C.softmax(logits),
         lambda: np.exp(logits - logits.max(1, keepdims=True)) /
         np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True), logits.size,
         (lambda t: (lambda: torch.softmax(t, 1))) if torch else None, logits),
    ]
    if quick:
        cases = cases[:1] + cases[3:4]
    header = ["op", "headwater", "Gelem/s", "numpy", "numpy / headwater"]
    if torch:
        header += ["torch", "torch / headwater"]
    rows = []
    for label, hw, npf, n, tfn, arr in cases:
        t_hw = measure(hw, repeat=repeat, min_time=min_time)
        t_np = measure(npf, repeat=repeat, min_time=min_time) if npf is not None else None
        row = [label, fmt_time(t_hw), f"{n / t_hw / 1e9:.2f}",
               fmt_time(t_np) if t_np else "-", fmt_ratio(t_np / t_hw) if t_np else "-"]
        if torch:
            t_t = measure(tfn(torch.from_numpy(arr)), repeat=repeat, min_time=min_time)
            row += [fmt_time(t_t), fmt_ratio(t_t / t_hw)]
        rows.append(row)
    return [("Reductions, softmax and unary math, float32, median (ratio > 1: headwater is "
             "faster)", table(header, rows))]


if __name__ == "__main__":
    for title, md in run():
        print(f"### {title}\n\n{md}\n")
