"""Import cost: `import headwater` on top of `import numpy`, in fresh interpreters.

The budget is < 50 ms added. Until headwater/__init__.py exists, headwater._C is measured.
"""

import importlib.util
import os
import statistics
import subprocess
import sys

from _harness import table

BUDGET_MS = 50.0

_TIMER = """
import time
t0 = time.perf_counter()
import {module}
print(time.perf_counter() - t0)
"""


def _target():
    spec = importlib.util.find_spec("headwater")
    if spec is not None and spec.origin and spec.origin.endswith("__init__.py"):
        return "headwater"
    return "headwater._C"


def _time_import(module, runs):
    env = dict(os.environ)
    samples = []
    for _ in range(runs):
        # numpy is imported first in both cases, so its cost is excluded from the difference
        # except where headwater imports more of numpy than `import numpy` does.
        code = "import numpy\n" + _TIMER.format(module=module) if module != "numpy" else \
            _TIMER.format(module="numpy")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, check=True)
        samples.append(float(proc.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def run(quick=False):
    runs = 3 if quick else 11
    target = _target()
    t_np = _time_import("numpy", runs)
    t_hw = _time_import(target, runs)
    verdict = "ok" if t_hw * 1e3 < BUDGET_MS else "OVER BUDGET"
    rows = [
        ["import numpy", f"{t_np * 1e3:.1f} ms", ""],
        [f"import {target} (after numpy)", f"{t_hw * 1e3:.1f} ms",
         f"{verdict} (budget {BUDGET_MS:.0f} ms)"],
    ]
    title = f"Import time (median of {runs} fresh interpreters)"
    return [(title, table(["what", "time", "note"], rows))]


if __name__ == "__main__":
    for title, md in run():
        print(f"### {title}\n\n{md}\n")
