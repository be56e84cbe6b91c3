"""ISA selection, thread pool control, environment variables and show_config()."""

import io
import multiprocessing
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from headwater import _C


def run_python(code, **env):
    full = dict(os.environ)
    for k in ("HEADWATER_ISA", "HEADWATER_NUM_THREADS"):
        full.pop(k, None)
    full.update(env)
    proc = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_isa_lists():
    compiled = _C.compiled_isas()
    available = _C.available_isas()
    assert available[0] == "scalar" and compiled[0] == "scalar"
    assert set(available) <= set(compiled) <= {"scalar", "avx2", "avx512"}
    assert _C.get_isa() in available
    info = _C.cpu_info()
    if info["avx512"]:
        assert info["avx2_fma"]
    if "avx512" in compiled and info["avx512"]:
        assert "avx512" in available


def test_set_isa_roundtrip():
    prev = _C.get_isa()
    try:
        for name in _C.available_isas():
            _C.set_isa(name)
            assert _C.get_isa() == name
            np.testing.assert_array_equal(_C.add(np.ones(40), np.ones(40)), np.full(40, 2.0))
    finally:
        _C.set_isa(prev)


def test_set_isa_errors():
    with pytest.raises(ValueError, match=r"set_isa: unknown ISA 'sse9'"):
        _C.set_isa("sse9")
    for name in ("avx2", "avx512"):
        if name not in _C.available_isas():
            with pytest.raises(ValueError, match=name):
                _C.set_isa(name)


def test_num_threads(restore_threads):
    _C.set_num_threads(3)
    assert _C.get_num_threads() == 3
    _C.set_num_threads(1)
    assert _C.get_num_threads() == 1
    np.testing.assert_array_equal(_C.add(np.ones(1 << 18), 1.0), np.full(1 << 18, 2.0))
    _C.set_num_threads(0)
    assert _C.get_num_threads() >= 1
    with pytest.raises(ValueError, match="set_num_threads: n must be >= 0"):
        _C.set_num_threads(-1)


def test_resize_while_other_threads_run_kernels(restore_threads):
    # set_num_threads must wait for, not pull the pool out from under, running kernels.
    a = np.ones((1 << 18) + 3, np.float32)
    stop = threading.Event()
    errors = []

    def work():
        try:
            while not stop.is_set():
                np.testing.assert_array_equal(_C.add(a, a), 2 * a)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(2)]
    for t in ts:
        t.start()
    try:
        for i in range(60):
            _C.set_num_threads(1 + i % 3)
    finally:
        stop.set()
        for t in ts:
            t.join()
    assert not errors, errors[0]


def test_many_small_parallel_regions(restore_threads):
    # Back-to-back regions exercise the hand-off between spinning and sleeping workers.
    rng = np.random.default_rng(5)
    a = rng.standard_normal((1 << 17) + 1).astype(np.float32)
    want = a + a
    for n in (2, 3):
        _C.set_num_threads(n)
        for _ in range(200):
            np.testing.assert_array_equal(_C.add(a, a), want)


def test_env_isa_scalar():
    out = run_python("from headwater import _C; print(_C.get_isa())", HEADWATER_ISA="scalar")
    assert out.stdout.strip() == "scalar"


def test_env_isa_invalid_warns_and_falls_back():
    out = run_python("from headwater import _C; print(_C.get_isa())", HEADWATER_ISA="sse9")
    assert out.stdout.strip() == _C.available_isas()[-1]
    assert "HEADWATER_ISA='sse9'" in out.stderr and "RuntimeWarning" in out.stderr


def test_env_num_threads():
    code = ("import numpy as np; from headwater import _C; "
            "r = _C.add(np.ones(1 << 20), np.ones(1 << 20)); assert (r == 2).all(); "
            "print(_C.get_num_threads())")
    assert run_python(code, HEADWATER_NUM_THREADS="1").stdout.strip() == "1"
    assert run_python(code, HEADWATER_NUM_THREADS="3").stdout.strip() == "3"
    bad = run_python(code, HEADWATER_NUM_THREADS="lots")
    assert "HEADWATER_NUM_THREADS='lots'" in bad.stderr


def _child_add(q):
    a = np.ones(1 << 20, np.float32)
    q.put(float(_C.add(a, a).sum()))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_pool_survives_fork(restore_threads):
    _C.set_num_threads(2)
    _C.add(np.ones(1 << 20), np.ones(1 << 20))  # make sure the pool's workers exist
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_add, args=(q,))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert q.get(timeout=5) == 2.0 * (1 << 20)


def test_build_info():
    info = _C.build_info()
    for key in ("version", "compiler_id", "compiler_version", "build_type", "cxx_flags",
                "native", "compiled_isas"):
        assert key in info
    assert info["compiled_isas"] == _C.compiled_isas()
    assert isinstance(_C.__version__, str) and _C.__version__


def test_show_config_prints_fields():
    from headwater._config import get_config, show_config

    buf = io.StringIO()
    show_config(file=buf)
    text = buf.getvalue()
    for field in ("headwater ", "compiler", "build type", "cxx flags", "HEADWATER_NATIVE",
                  "ISA in use", "ISAs compiled", "ISAs available", "threads"):
        assert field in text, field
    assert _C.get_isa() in text
    cfg = get_config()
    assert cfg["isa"] == _C.get_isa() and cfg["num_threads"] == _C.get_num_threads()


def test_show_config_stdout(capsys):
    from headwater._config import show_config

    show_config()
    assert "ISA in use" in capsys.readouterr().out
