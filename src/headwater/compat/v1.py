"""Alias module: importing `headwater.compat.v1` yields the `headwater` module itself."""

import sys

import headwater as _hw

sys.modules[__name__] = _hw
