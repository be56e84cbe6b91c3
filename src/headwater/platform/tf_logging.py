"""`tf.logging`: TF1's logging facade over Python's `logging` (logger "tensorflow")."""

import logging as _logging
import sys as _sys

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
WARNING = _logging.WARNING
ERROR = _logging.ERROR
FATAL = _logging.FATAL

_logger = None


def get_logger():
    """The "tensorflow" logger, with TF1's default stderr handler and WARN level."""
    global _logger
    if _logger is None:
        lg = _logging.getLogger("tensorflow")
        if not lg.handlers:
            h = _logging.StreamHandler(_sys.stderr)
            h.setFormatter(_logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
            lg.addHandler(h)
            lg.propagate = False
        if lg.level == _logging.NOTSET:
            lg.setLevel(WARN)
        _logger = lg
    return _logger


def set_verbosity(v):
    get_logger().setLevel(v)


def get_verbosity():
    return get_logger().getEffectiveLevel()


def log(level, msg, *args, **kwargs):
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs):
    get_logger().debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs):
    get_logger().info(msg, *args, **kwargs)


def warn(msg, *args, **kwargs):
    get_logger().warning(msg, *args, **kwargs)


warning = warn


def error(msg, *args, **kwargs):
    get_logger().error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs):
    get_logger().fatal(msg, *args, **kwargs)


_counts = {}


def log_every_n(level, msg, n, *args):
    key = (level, msg)
    c = _counts.get(key, 0)
    if c % n == 0:
        log(level, msg, *args)
    _counts[key] = c + 1


def log_first_n(level, msg, n, *args):
    key = ("first", level, msg)
    c = _counts.get(key, 0)
    if c < n:
        log(level, msg, *args)
    _counts[key] = c + 1


def log_if(level, msg, condition, *args):
    if condition:
        log(level, msg, *args)
