"""The native kernels under AddressSanitizer + UndefinedBehaviorSanitizer.

Builds the kernel library with -fsanitize=address,undefined and runs tests/kernels/sanitize/
driver.cpp over edge shapes on every ISA with 1 and 2 threads (see sanitize/run.sh, which is
the documented command). It takes a minute or two on 2 cores, so it runs only when
HEADWATER_SANITIZE=1 (set in the CI job that checks it).
"""

import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.skipif(os.environ.get("HEADWATER_SANITIZE") != "1",
                    reason="set HEADWATER_SANITIZE=1 to build and run the sanitizer driver")
def test_kernels_clean_under_asan_ubsan(tmp_path):
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    # Asked for explicitly, so missing tools fail the run rather than skip it silently.
    missing = [t for t in ("cmake", "ninja") if shutil.which(t, path=env["PATH"]) is None]
    assert not missing, "HEADWATER_SANITIZE=1 needs %s on PATH (pip install cmake ninja " \
        "pybind11)" % " and ".join(missing)
    out = subprocess.run([os.path.join(HERE, "sanitize", "run.sh"), str(tmp_path / "build")],
                         capture_output=True, text=True, env=env, timeout=1800)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    assert "ok (0 failures)" in out.stdout
