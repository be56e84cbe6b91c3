"""Printing and run-time checks: Print, print (tf.print), Assert, check_numerics.

Values are formatted like TensorFlow's C++ `Tensor::SummarizeValue`: TF1's `Print`/`Assert`
style (`[1 2 3...]`, nested rows run together: `[[1 2][3 4]]`) and TF2's `tf.print` style
(`[1 2 ... 9 10]`, rows on separate lines). Floats print in the shortest `%g` form that
round-trips (6 then 9 significant digits for float32, 15 then 17 for float64), bools as 1/0.
"""

from __future__ import annotations

import sys
import weakref

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.framework.op_registry import register_op
from headwater.ops.common import same_as_input

__all__ = [
    "Print",
    "print",
    "Assert",
    "check_numerics",
    "verify_tensor_all_finite",
]



# ---- value formatting ----------------------------------------------------------------------

def _fmt_float(v, digits, more):
    """`v` (a numpy float) in the shortest of `%.{digits}g` / `%.{more}g` that round-trips."""
    if v != v:
        return "-nan" if np.signbit(v) else "nan"
    s = "%.*g" % (digits, v)
    if type(v)(s) != v:
        s = "%.*g" % (more, v)
    return s


def _element_formatter(arr, v2):
    kind = arr.dtype.kind
    if kind == "f":
        if arr.dtype.itemsize >= 8:
            return lambda x: _fmt_float(np.float64(x), 15, 17)
        return lambda x: _fmt_float(np.float32(x), 6, 9)
    if kind == "b":
        return lambda x: "1" if x else "0"
    if kind in "iu":
        return lambda x: str(int(x))
    if kind == "c":
        part = np.float64 if arr.dtype.itemsize > 8 else np.float32
        digits = (15, 17) if arr.dtype.itemsize > 8 else (6, 9)

        def cplx(x):
            return "(%s,%s)" % (_fmt_float(part(x.real), *digits),
                                _fmt_float(part(x.imag), *digits))
        return cplx
    if kind in "OSU":
        def string(x):
            if isinstance(x, bytes):
                x = x.decode("utf-8", "backslashreplace")
            s = _c_escape(str(x))
            return '"%s"' % s if v2 else s
        return string
    return str


def _c_escape(s):
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\"":
            out.append("\\\"")
        elif ch == "'":
            out.append("\\'")
        elif ch == "\\":
            out.append("\\\\")
        elif o < 32 or o == 127:
            out.append("\\%03o" % o)
        else:
            out.append(ch)
    return "".join(out)


def summarize_v1(value, summarize=3):
    """TF1 `Print`/`Assert` text of a value (without the surrounding brackets)."""
    arr = np.asarray(value)
    n = arr.size
    limit = n if summarize is None or summarize < 0 else min(summarize, n)
    fmt = _element_formatter(arr, False)
    flat = arr.reshape(-1)
    shape = arr.shape
    if not shape:
        s = " ".join(fmt(flat[i]) for i in range(limit))
        return s + ("..." if n > limit else "")
    out = []
    idx = [0]
    ndim = len(shape)

    def dim(d):
        if idx[0] >= limit:
            return
        count = shape[d]
        if d == ndim - 1:
            for i in range(count):
                if idx[0] >= limit:
                    if d != 0:
                        out.append("...")
                    return
                if i > 0:
                    out.append(" ")
                out.append(fmt(flat[idx[0]]))
                idx[0] += 1
            return
        for _ in range(count):
            opened = False
            if idx[0] < limit:
                out.append("[")
                opened = True
            dim(d + 1)
            if idx[0] < limit or opened:
                out.append("]")

    dim(0)
    if n > limit:
        out.append("...")
    return "".join(out)


def summarize_v2(value, summarize=3):
    """TF2 `tf.print` text of a value: first and last `summarize` entries per dimension."""
    arr = np.asarray(value)
    fmt = _element_formatter(arr, True)
    shape = arr.shape
    ndim = len(shape)
    if ndim == 0:
        return fmt(arr[()])
    ends = max(shape) if summarize is None or summarize < 0 else summarize
    out = []

    def spacing(d):
        if d == ndim - 1:
            out.append(" ")
            return
        out.append("\n" * (ndim - d - 1))
        out.append(" " * (d + 1))

    def dim(d, idx):
        if d == ndim:
            out.append(fmt(arr[idx]))
            return
        out.append("[")
        count = shape[d]
        start_of_end = max(ends, count - ends)
        for i in range(min(ends, count)):
            if i > 0:
                spacing(d)
            dim(d + 1, idx + (i,))
        if count > 2 * ends:
            spacing(d)
            out.append("...")
        for i in range(start_of_end, count):
            spacing(d)
            dim(d + 1, idx + (i,))
        out.append("]")

    dim(0, ())
    return "".join(out)


# ---- Print (TF1) ---------------------------------------------------------------------------

# Print counts runs per (session, op) like TF1's shared stateful kernel, so `first_n` holds
# across the different plans one session compiles.
_print_counts = weakref.WeakKeyDictionary()


def _counter_for(ctx, op):
    if ctx is None:
        return [0]
    try:
        per = _print_counts.get(ctx)
        if per is None:
            per = _print_counts[ctx] = {}
    except TypeError:  # ctx not weak-referenceable
        return [0]
    c = per.get(op)
    if c is None:
        c = per[op] = [0]
    return c


def _print_kernel(op, ctx):
    a = op._attrs
    message = a["message"]
    first_n = a["first_n"]
    summarize = a["summarize"]
    count = _counter_for(ctx, op)

    def print_(x, *data):
        if first_n < 0 or count[0] < first_n:
            count[0] += 1
            msg = message + "".join("[%s]" % summarize_v1(d, summarize) for d in data)
            stream = sys.stderr
            stream.write(msg + "\n")
            stream.flush()
        return x
    return print_


register_op("Print", same_as_input, _print_kernel, stateful=True, aliases=True)


def Print(input_, data, message=None, first_n=None, summarize=None, name=None):  # noqa: N802
    """Identity of `input_` that prints `message` and the `data` tensors to stderr when run.

    Args:
      input_: the tensor passed through.
      data: list of tensors to print (each as `[v1 v2 ...]`).
      message: prefix string.
      first_n: print only the first `first_n` times (None/negative: always).
      summarize: number of entries printed per tensor (default 3; negative: all).
      name: optional op name.

    Returns:
      A tensor with the value of `input_`.
    """
    x = _ops.convert_to_tensor(input_)
    data = [_ops.convert_to_tensor(d) for d in (data or [])]
    attrs = {"T": x.dtype, "message": "" if message is None else str(message),
             "first_n": -1 if first_n is None else int(first_n),
             "summarize": 3 if summarize is None else int(summarize)}
    return _ops.apply_op("Print", [x] + data, attrs, name=name)


# ---- print (TF2 tf.print) ------------------------------------------------------------------

def _no_outputs(inputs, attrs):
    return []


def _resolve_stream(stream):
    if stream == "stderr":
        return sys.stderr
    if stream == "stdout":
        return sys.stdout
    return stream


def _printv2_kernel(op, ctx):
    a = op._attrs
    parts = a["template"]
    stream = a["output_stream"]
    sep, end = a["sep"], a["end"]

    def printv2(*values):
        it = iter(values)
        pieces = [p(it) if callable(p) else p for p in parts]
        text = sep.join(pieces)
        if callable(stream) and not hasattr(stream, "write"):
            stream(text)
            return None
        if isinstance(stream, str) and stream.startswith("file://"):
            with open(stream[len("file://"):], "a") as f:
                f.write(text + end)
            return None
        s = _resolve_stream(stream)
        s.write(text + end)
        s.flush()
        return None
    return printv2


register_op("PrintV2", _no_outputs, _printv2_kernel, stateful=True)


def _template_piece(x, tensors, summarize, top):
    """A str, or a callable formatting the next values from an iterator (for tensors)."""
    if isinstance(x, _ops.Tensor) or (hasattr(x, "_as_graph_element")
                                      and not isinstance(x, _ops.Operation)):
        tensors.append(_ops.convert_to_tensor(x))
        return lambda it: summarize_v2(next(it), summarize)
    if isinstance(x, (list, tuple, dict)):
        if isinstance(x, dict):
            keys = list(x)
            subs = [_template_piece(x[k], tensors, summarize, False) for k in keys]
            return _compose(lambda ss: "{" + ", ".join(
                "%r: %s" % (k, s) for k, s in zip(keys, ss)) + "}", subs)
        subs = [_template_piece(v, tensors, summarize, False) for v in x]
        if isinstance(x, list):
            return _compose(lambda ss: "[" + ", ".join(ss) + "]", subs)
        tail = "," if len(x) == 1 else ""
        return _compose(lambda ss: "(" + ", ".join(ss) + tail + ")", subs)
    if isinstance(x, _ops.Operation):
        raise ValueError("tf.print cannot print an Operation (%s); print its outputs instead."
                         % x.name)
    if isinstance(x, str):
        return x if top else repr(x)
    return str(x)


def _compose(join, subs):
    if not any(callable(s) for s in subs):
        return join(subs)

    def piece(it):
        return join([s(it) if callable(s) else s for s in subs])
    return piece


def print(*inputs, **kwargs):  # noqa: A001 - TF's public name
    """Print `inputs` when the returned op runs (TF's `tf.print`).

    Args:
      *inputs: tensors, Python values and nested lists/tuples/dicts of them.
      output_stream: sys.stderr (default), sys.stdout, a logging function, or "file://path".
      summarize: first and last entries printed per dimension (default 3; None/-1: all).
      sep: separator between inputs (default " "); end: appended (default newline).
      name: optional op name.

    Returns:
      The print `Operation` (use it as a control dependency in graph mode).
    """
    output_stream = kwargs.pop("output_stream", sys.stderr)
    summarize = kwargs.pop("summarize", 3)
    sep = kwargs.pop("sep", " ")
    end = kwargs.pop("end", "\n")
    name = kwargs.pop("name", None)
    if kwargs:
        raise ValueError("Unrecognized keyword arguments for tf.print: %s" % (kwargs,))
    if output_stream is sys.stderr:
        stream = "stderr"
    elif output_stream is sys.stdout:
        stream = "stdout"
    elif isinstance(output_stream, str):
        if not output_stream.startswith("file://"):
            raise ValueError("Unsupported output stream %r: use sys.stdout, sys.stderr, a "
                             "logging function or 'file://<path>'." % output_stream)
        stream = output_stream
    elif callable(output_stream) or hasattr(output_stream, "write"):
        stream = output_stream
    else:
        raise ValueError("Unsupported output stream %r." % (output_stream,))
    if summarize is None:
        summarize = -1
    tensors = []
    template = [_template_piece(x, tensors, summarize, True) for x in inputs]
    attrs = {"template": template, "output_stream": stream, "sep": sep, "end": end,
             "summarize": summarize}
    g = tensors[0].graph if tensors else _ops.get_default_graph()
    return _ops.apply_op("PrintV2", tensors, attrs, name=name, graph=g)


# ---- Assert --------------------------------------------------------------------------------

def _assert_kernel(op, ctx):
    a = op._attrs
    template = a["template"]
    summarize = a["summarize"]

    def assert_(condition, *data):
        if type(condition) is not np.ndarray or condition.ndim:
            if np.ndim(condition) > 1 or np.size(condition) != 1:
                raise errors.InvalidArgumentError(
                    None, None, "In[0] should be a scalar: %s" % (list(np.shape(condition)),))
            condition = np.asarray(condition).reshape(())
        if not condition:
            it = iter(data)
            pieces = [p if p is not None else "[%s]" % summarize_v1(next(it), summarize)
                      for p in template]
            raise errors.InvalidArgumentError(None, None,
                                              "assertion failed: " + " ".join(pieces))
        return None
    return assert_


def _assert_infer(inputs, attrs):
    return []


register_op("Assert", _assert_infer, _assert_kernel, stateful=True)


def Assert(condition, data, summarize=None, name=None):  # noqa: N802
    """An op that raises InvalidArgumentError("assertion failed: ...") when `condition` is false.

    Args:
      condition: scalar bool tensor.
      data: list of tensors (or Python values) printed in the error message.
      summarize: entries printed per tensor (default 3).
      name: optional name scope (default "Assert").

    Returns:
      The assert `Operation`.
    """
    summarize = 3 if summarize is None else int(summarize)
    with _ops.name_scope(name, "Assert", [condition]):
        condition = _ops.convert_to_tensor(condition)
        if condition.dtype != _dtypes.bool:
            raise TypeError("Input 'condition' of 'Assert' Op has type %s that does not match "
                            "expected type of bool." % condition.dtype.name)
        tensors, template = [], []
        for d in data:
            if d is None:
                d = "None"
            if isinstance(d, _ops.Tensor) or hasattr(d, "_as_graph_element"):
                tensors.append(_ops.convert_to_tensor(d))
                template.append(None)
            elif isinstance(d, (str, bytes)):
                template.append("[%s]" % (d.decode() if isinstance(d, bytes) else d))
            else:
                template.append("[%s]" % summarize_v1(np.asarray(d), summarize))
        attrs = {"template": template, "summarize": summarize, "T": [t.dtype for t in tensors]}
        return _ops.apply_op("Assert", [condition] + tensors, attrs, name="Assert")


# ---- CheckNumerics -------------------------------------------------------------------------

_FLOAT_TYPES = (_dtypes.float16, _dtypes.float32, _dtypes.float64, _dtypes.bfloat16)


def _check_numerics_infer(inputs, attrs):
    x = inputs[0]
    if x.dtype.base_dtype not in _FLOAT_TYPES:
        raise TypeError("Value passed to parameter 'tensor' has DataType %s not in list of "
                        "allowed values: bfloat16, float16, float32, float64" % x.dtype.name)
    return [(x._dtype, x._shape)]


def _check_numerics_kernel(op, ctx):
    message = op._attrs["message"]
    isfinite = np.isfinite

    def check_numerics(x):
        if not isfinite(x).all():
            has_nan = bool(np.isnan(x).any())
            has_inf = bool(np.isinf(x).any())
            what = "Inf and NaN" if has_nan and has_inf else ("Inf" if has_inf else "NaN")
            raise errors.InvalidArgumentError(None, None,
                                              "%s : Tensor had %s values" % (message, what))
        return x
    return check_numerics


register_op("CheckNumerics", _check_numerics_infer, _check_numerics_kernel, aliases=True)


def check_numerics(tensor, message, name=None):
    """Identity of `tensor` that fails with InvalidArgumentError if it holds NaN or Inf.

    Args:
      tensor: a floating-point tensor.
      message: prefix of the error message.
      name: optional op name.

    Returns:
      A tensor with the value of `tensor`.
    """
    x = _ops.convert_to_tensor(tensor)
    return _ops.apply_op("CheckNumerics", [x], {"T": x.dtype, "message": str(message)},
                         name=name)


def verify_tensor_all_finite(t, msg, name=None):
    """`t`, gated on a `check_numerics` of it (TF1's `tf.verify_tensor_all_finite`)."""
    from headwater.ops import control_flow_ops

    with _ops.name_scope(name, "VerifyFinite", [t]) as scope:
        t = _ops.convert_to_tensor(t)
        verify = check_numerics(t, message=msg)
        return control_flow_ops.with_dependencies([verify], t, name=scope)
