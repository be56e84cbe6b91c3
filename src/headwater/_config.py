"""Build and runtime configuration of headwater's native core.

``show_config()`` is what to paste into a bug report: it says which compiler and flags built
``headwater._C``, which instruction set the kernels are running on and with how many threads.
"""

import os
import platform
import sys

__all__ = ["get_config", "show_config"]


def _version():
    # importlib.metadata is only imported here, so `import headwater` does not pay for it.
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    try:
        return version("headwater")
    except PackageNotFoundError:
        return None


def get_config():
    """Return the configuration as a dict (the data behind ``show_config``).

    Returns:
      A dict with keys ``version``, ``native_module``, ``build`` (from ``_C.build_info()``),
      ``cpu`` (from ``_C.cpu_info()``), ``isa``, ``isas_compiled``, ``isas_available``,
      ``num_threads``, ``env`` and ``numpy``. If the native module cannot be imported,
      ``native_module`` is None and ``error`` holds the reason.
    """
    import numpy

    cfg = {
        "version": _version(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "env": {k: os.environ.get(k) for k in ("HEADWATER_ISA", "HEADWATER_NUM_THREADS")},
    }
    try:
        from headwater import _C
    except ImportError as e:
        cfg.update(native_module=None, error=str(e))
        return cfg
    build = dict(_C.build_info())
    cfg.update(
        native_module=getattr(_C, "__file__", None),
        build=build,
        cpu=dict(_C.cpu_info()),
        isa=_C.get_isa(),
        isas_compiled=list(_C.compiled_isas()),
        isas_available=list(_C.available_isas()),
        num_threads=_C.get_num_threads(),
    )
    if cfg["version"] is None:
        cfg["version"] = build.get("version")
    return cfg


def show_config(file=None):
    """Print version, compiler, build flags, the ISA in use, available ISAs and thread count.

    Args:
      file: a text stream to write to; defaults to ``sys.stdout``.
    """
    out = sys.stdout if file is None else file
    cfg = get_config()
    lines = [f"headwater {cfg['version'] or 'unknown'}"]

    def row(key, value):
        lines.append(f"  {key:<22}{value}")

    row("python", f"{cfg['python']} ({cfg['platform']})")
    row("numpy", cfg["numpy"])
    if cfg["native_module"] is None:
        row("native module", f"NOT AVAILABLE: {cfg['error']}")
    else:
        b, cpu = cfg["build"], cfg["cpu"]
        row("native module", cfg["native_module"])
        row("compiler", f"{b['compiler_id']} {b['compiler_version']}")
        row("build type", b["build_type"])
        row("cxx flags", b["cxx_flags"])
        row("avx2 flags", b["avx2_flags"] or "-")
        row("avx512 flags", b["avx512_flags"] or "-")
        row("HEADWATER_NATIVE", "ON" if b["native"] else "OFF")
        row("target", f"{b['system_name']} {b['system_processor']}")
        row("cpu", " ".join(x for x in (cpu["vendor"], cpu["brand"]) if x) or "unknown")
        row("ISA in use", cfg["isa"])
        row("ISAs compiled", ", ".join(cfg["isas_compiled"]))
        row("ISAs available", ", ".join(cfg["isas_available"]) + "  (compiled and CPU-supported)")
        row("threads", f"{cfg['num_threads']} (logical CPUs available: {cpu['logical_cpus']})")
    for k, v in cfg["env"].items():
        if v is not None:
            row(k, v)
    print("\n".join(lines), file=out)
