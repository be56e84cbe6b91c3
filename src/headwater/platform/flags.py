"""`tf.flags` / `tf.app.flags`: absl-style command-line flags on top of argparse.

    flags = tf.app.flags
    flags.DEFINE_integer("steps", 100, "number of steps")
    FLAGS = flags.FLAGS
    ...  FLAGS.steps  (parsed on first access, or by tf.app.run)
"""

import argparse as _argparse
import sys as _sys


class _FlagValues:
    def __init__(self):
        object.__setattr__(self, "_defs", {})
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_parsed", False)

    def _define(self, name, default, help, type_, choices=None):
        if name in self._defs:
            raise ValueError("Flag --%s is defined twice." % name)
        self._defs[name] = (default, help, type_, choices)
        self._values[name] = default

    def __call__(self, argv):
        """Parse `argv` (argv[0] is the program); returns the unparsed remainder."""
        p = _argparse.ArgumentParser(prog=argv[0] if argv else None, allow_abbrev=False)
        for name, (default, help_, type_, choices) in self._defs.items():
            if type_ is bool:
                p.add_argument("--" + name, nargs="?", const=True, default=default,
                               type=_parse_bool, help=help_)
                p.add_argument("--no" + name, dest=name, action="store_false")
            elif type_ is list:
                p.add_argument("--" + name, default=default, help=help_,
                               type=lambda s: s.split(",") if s else [])
            else:
                p.add_argument("--" + name, default=default, type=type_, help=help_,
                               choices=choices)
        ns, rest = p.parse_known_args(argv[1:] if argv else [])
        self._values.update(vars(ns))
        object.__setattr__(self, "_parsed", True)
        return [argv[0] if argv else ""] + rest

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._defs:
            raise AttributeError("Unknown command line flag '%s'" % name)
        if not self._parsed:
            self(_sys.argv)
        return self._values[name]

    def __setattr__(self, name, value):
        if name not in self._defs:
            raise AttributeError("Unknown command line flag '%s'" % name)
        self._values[name] = value

    def __contains__(self, name):
        return name in self._defs

    def flag_values_dict(self):
        return dict(self._values)

    def is_parsed(self):
        return self._parsed

    def mark_as_parsed(self):
        object.__setattr__(self, "_parsed", True)


def _parse_bool(s):
    if isinstance(s, bool):
        return s
    if s.lower() in ("true", "t", "1", "yes"):
        return True
    if s.lower() in ("false", "f", "0", "no"):
        return False
    raise _argparse.ArgumentTypeError("expected a boolean, got %r" % s)


FLAGS = _FlagValues()


def DEFINE_string(name, default, help, flag_values=FLAGS, **kw):  # noqa: N802
    flag_values._define(name, default, help, str)


def DEFINE_integer(name, default, help, flag_values=FLAGS, **kw):  # noqa: N802
    flag_values._define(name, default, help, int)


def DEFINE_float(name, default, help, flag_values=FLAGS, **kw):  # noqa: N802
    flag_values._define(name, default, help, float)


def DEFINE_boolean(name, default, help, flag_values=FLAGS, **kw):  # noqa: N802
    flag_values._define(name, default, help, bool)


DEFINE_bool = DEFINE_boolean


def DEFINE_enum(name, default, enum_values, help, flag_values=FLAGS, **kw):  # noqa: N802
    flag_values._define(name, default, help, str, choices=list(enum_values))


def DEFINE_list(name, default, help, flag_values=FLAGS, **kw):  # noqa: N802
    if isinstance(default, str):
        default = default.split(",") if default else []
    flag_values._define(name, default, help, list)
