"""`tf.app`: `run(main)` parses flags and calls `main(argv)`, as TF1 does."""

import sys as _sys

from headwater.platform import flags  # noqa: F401


def run(main=None, argv=None):
    """Parse `argv` (default sys.argv) into `tf.app.flags.FLAGS` and exit with main(argv)."""
    args = _sys.argv if argv is None else argv
    rest = flags.FLAGS(args)
    if main is None:
        main = _sys.modules["__main__"].main
    _sys.exit(main(rest))
