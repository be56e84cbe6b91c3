"""Fixtures for the native-kernel tests: run under every ISA this machine can execute."""

import numpy as np
import pytest

from headwater import _C

ISAS = list(_C.available_isas())
DTYPES = [np.float32, np.float64]


@pytest.fixture(params=ISAS)
def isa(request):
    """Switch the kernels to each available ISA in turn, restoring the previous one after."""
    prev = _C.get_isa()
    _C.set_isa(request.param)
    try:
        yield request.param
    finally:
        _C.set_isa(prev)


@pytest.fixture
def restore_threads():
    """Lets a test call _C.set_num_threads freely."""
    prev = _C.get_num_threads()
    try:
        yield
    finally:
        _C.set_num_threads(prev)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
