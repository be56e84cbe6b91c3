"""Access to the compiled core `headwater._C`, loaded once.

Ops fall back to their numpy reference when the extension is missing (e.g. a source tree used
without building), so the graph layer never hard-depends on a compiler being present.
"""

try:
    from headwater import _C
except ImportError:  # pragma: no cover - only in unbuilt source trees
    _C = None


def set_num_threads(n):
    if _C is not None:
        _C.set_num_threads(int(n))


def get_num_threads():
    return _C.get_num_threads() if _C is not None else 1
