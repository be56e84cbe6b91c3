"""Run every bench/bench_*.py and print the results as markdown.

    python bench/run.py                 # everything
    python bench/run.py matmul import   # only bench_matmul.py and bench_import.py
    python bench/run.py --quick         # tiny sizes, few repeats: checks the harness works

A bench module plugs in by defining ``run() -> list[(title, markdown_table)]``; if its run()
accepts ``quick=``, --quick passes it, otherwise --quick skips that module.
"""

import argparse
import importlib
import inspect
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def discover():
    return sorted(f[len("bench_"):-3] for f in os.listdir(HERE)
                  if f.startswith("bench_") and f.endswith(".py"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all): "
                        + ", ".join(discover()))
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes and repeats")
    args = parser.parse_args(argv)

    sys.path.insert(0, HERE)
    from _harness import machine_summary

    names = args.names or discover()
    unknown = sorted(set(names) - set(discover()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    print(f"# headwater benchmarks\n\n{machine_summary()}\n")
    start = time.perf_counter()
    for name in names:
        mod = importlib.import_module(f"bench_{name}")
        takes_quick = "quick" in inspect.signature(mod.run).parameters
        if args.quick and not takes_quick:
            print(f"_bench_{name}: skipped (no quick mode)_\n", flush=True)
            continue
        t0 = time.perf_counter()
        results = mod.run(quick=args.quick) if takes_quick else mod.run()
        for title, md in results:
            print(f"## {title}\n\n{md}\n", flush=True)
        print(f"_bench_{name}: {time.perf_counter() - t0:.1f} s_\n", flush=True)
    print(f"_total: {time.perf_counter() - start:.1f} s_")
    return 0


if __name__ == "__main__":
    sys.exit(main())
