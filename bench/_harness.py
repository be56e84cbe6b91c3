"""Shared timing and table helpers for the bench_*.py scripts.

Each bench module exposes ``run(quick=False) -> list[(title, markdown_table)]``; run.py finds
every ``bench_*.py`` beside it and prints what they return. Timings are medians of repeats
after warm-up, and every ratio compares libraries measured in the same process and run.
"""

import gc
import json
import os
import statistics
import subprocess
import sys
import time


def measure(fn, *, repeat=7, min_time=0.05, warmup=1, max_number=1_000_000):
    """Median seconds per call of ``fn()``.

    Calls are batched so one timed sample lasts at least ``min_time`` (small ops are otherwise
    dominated by timer resolution); ``repeat`` samples are taken and the median returned.
    """
    for _ in range(warmup):
        fn()
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time or number >= max_number:
            break
        number = min(max_number, max(number * 2, int(number * min_time / max(dt, 1e-9))))
    samples = [dt / number]
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat - 1):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - t0) / number)
    finally:
        if gc_was:
            gc.enable()
    return statistics.median(samples)


def fmt_time(seconds):
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(x):
    return f"{x:.2f}x"


def table(header, rows):
    """A GitHub markdown table; cells are converted with str()."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def optional_frameworks():
    """(name, module) for PyTorch / TensorFlow when importable; neither is required."""
    found = []
    try:
        import torch  # noqa: F401

        found.append(("torch", torch))
    except Exception:  # noqa: BLE001 - any import failure just means "not available"
        pass
    try:
        import tensorflow as tf  # noqa: F401

        found.append(("tensorflow", tf))
    except Exception:  # noqa: BLE001
        pass
    return found


def in_subprocess(module, call, timeout=1200):
    """What `call` (an expression calling a function of bench module `module`, e.g.
    ``"torch_timings(True)"``) returns, JSON-decoded, run by this interpreter in a fresh
    process; None if that fails. PyTorch is timed this way: its OpenMP threads keep spinning
    after each op and, in one process, slowed whatever ran next (and were slowed by our pool)
    by up to 50x on a 2-core machine."""
    code = ("import sys, json; sys.path.insert(0, %r); import %s as b; "
            "print('RESULT', json.dumps(b.%s))"
            % (os.path.dirname(os.path.abspath(__file__)), module, call))
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.split(" ", 1)[1])
    sys.stderr.write("%s.%s failed in a subprocess:\n%s\n" % (module, call, r.stderr[-2000:]))
    return None


def machine_summary():
    import platform

    import numpy as np

    from headwater import _C

    info = _C.cpu_info()
    cpu = " ".join(x for x in (info.get("vendor"), info.get("brand")) if x) or platform.machine()
    return (f"headwater {_C.__version__}, ISA {_C.get_isa()}, {_C.get_num_threads()} threads, "
            f"{cpu} ({info.get('logical_cpus')} logical CPUs), numpy {np.__version__}, "
            f"Python {platform.python_version()}")
