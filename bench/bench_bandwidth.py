"""Binary elementwise ops into a preallocated `out=` against the machine's copy bandwidth.

The issue's targets: add/mul on 1M float32 with out= at least as fast as the best other
library, and on 16M float32 at >= 80% of the measured copy bandwidth. Copy bandwidth is
measured here, in the same run, as numpy copying into a preallocated array with one thread and
with one thread per core (numpy releases the GIL while copying). A binary op moves 12 bytes per
element (two reads, one write), a copy 8; bandwidths compare bytes per second.
"""

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import (fmt_ratio, fmt_time, in_subprocess, measure,  # noqa: E402
                      optional_frameworks, table)

from headwater import _C  # noqa: E402


def _threaded_copy(dst, src, pool, parts):
    bounds = [len(src) * i // parts for i in range(parts + 1)]
    futs = [pool.submit(np.copyto, dst[a:b], src[a:b]) for a, b in zip(bounds, bounds[1:])]
    for f in futs:
        f.result()


def _arrays_1m():
    rng = np.random.default_rng(1)
    n1 = 1 << 20
    return (rng.standard_normal(n1).astype(np.float32), rng.standard_normal(n1).astype(np.float32))


def torch_timings(quick=False):
    """Seconds per call of torch.add / torch.mul into out= on the 1M rows' arrays."""
    import torch

    repeat = 3 if quick else 11
    min_time = 0.005 if quick else 0.1
    a, b = _arrays_1m()
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    to = torch.empty_like(ta)
    return {op: measure(lambda f=f: f(ta, tb, out=to), repeat=repeat, min_time=min_time)
            for op, f in (("add", torch.add), ("mul", torch.mul))}


def _run_torch(quick):
    if "torch" not in dict(optional_frameworks()):
        return None
    return in_subprocess("bench_bandwidth", "torch_timings(%r)" % quick)


def run(quick=False):
    rng = np.random.default_rng(0)
    repeat = 3 if quick else 11
    min_time = 0.005 if quick else 0.1
    threads = _C.get_num_threads()
    torch_t = _run_torch(quick)
    rows = []
    n16 = (1 << 20) if quick else (1 << 24)
    src = rng.standard_normal(n16).astype(np.float32)
    dst = np.empty_like(src)
    t_copy1 = measure(lambda: np.copyto(dst, src), repeat=repeat, min_time=min_time)
    with ThreadPoolExecutor(threads) as pool:
        t_copyn = measure(lambda: _threaded_copy(dst, src, pool, threads), repeat=repeat,
                          min_time=min_time)
    copy_bw = max(8.0 * n16 / t_copy1, 8.0 * n16 / t_copyn)
    bw_rows = [["numpy copyto, 1 thread", fmt_time(t_copy1), "%.1f" % (8e-9 * n16 / t_copy1),
                ""],
               ["numpy copyto, %d threads" % threads, fmt_time(t_copyn),
                "%.1f" % (8e-9 * n16 / t_copyn), ""]]
    for op in ("add", "mul"):
        a = rng.standard_normal(n16).astype(np.float32)
        b = rng.standard_normal(n16).astype(np.float32)
        o = np.empty_like(a)
        f = getattr(_C, op)
        t = measure(lambda: f(a, b, o), repeat=repeat, min_time=min_time)
        bw = 12.0 * n16 / t
        bw_rows.append(["headwater %s, out=" % op, fmt_time(t), "%.1f" % (bw * 1e-9),
                        "%.0f%%" % (100 * bw / copy_bw)])
    label = "16M" if not quick else "1M"
    out = [("Binary ops on %s float32 into out= vs copy bandwidth (GB/s counts bytes moved: "
            "12 per element for a binary op, 8 for a copy; target >= 80%% of the best copy)"
            % label, table(["operation", "time", "GB/s", "% of copy bandwidth"], bw_rows))]

    header = ["op, 1M float32, out=", "headwater", "numpy", "numpy / headwater"]
    if torch_t:
        header += ["torch (subprocess)", "torch / headwater"]
    a, b = _arrays_1m()
    o = np.empty_like(a)
    for op in ("add", "mul"):
        f = getattr(_C, op)
        npf = np.add if op == "add" else np.multiply
        t_hw = measure(lambda: f(a, b, o), repeat=repeat, min_time=min_time)
        t_np = measure(lambda: npf(a, b, out=o), repeat=repeat, min_time=min_time)
        row = [op, fmt_time(t_hw), fmt_time(t_np), fmt_ratio(t_np / t_hw)]
        if torch_t:
            row += [fmt_time(torch_t[op]), fmt_ratio(torch_t[op] / t_hw)]
        rows.append(row)
    out.append(("Binary ops on 1M float32 with out= (ratio > 1: headwater is faster)",
                table(header, rows)))
    return out


if __name__ == "__main__":
    for title, md in run(quick="--quick" in sys.argv):
        print("### %s\n\n%s\n" % (title, md))
