"""Export a headwater inference graph to ONNX.

    import headwater as tf
    ...
    with tf.Session() as sess:
        ...  # train or restore
        tf.onnx.export(sess, feeds=[x], fetches=[probs], path="model.onnx")

The exporter walks the part of the graph that computes `fetches` from `feeds`. Everything in it
that does not depend on a feed (variables, constants, and arithmetic on them such as
``rsqrt(moving_variance + eps) * gamma``) is evaluated once in the session and stored as an ONNX
initializer, so the exported model holds the session's current weights. The remaining ops are
mapped one by one to ONNX operators; TF's NHWC convolutions and pools become ONNX's NCHW ones
wrapped in Transposes, with SAME padding turned into explicit pads computed TF's way (the odd
pixel goes at the end).

Needs the optional `onnx` package (``pip install headwater[onnx]``), imported only when
`export` is called; `onnxruntime` is only needed to run the exported model.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["ConversionError", "export", "supported_op_types"]

DEFAULT_OPSET = 13
_MIN_OPSET = 13

# Ops whose value must never be baked into the model: folding them would freeze one random
# sample or one side effect into the weights.
_NEVER_FOLD_PREFIXES = ("Random", "TruncatedNormal", "Multinomial", "ParameterizedTruncated",
                        "StatelessRandom")


class ConversionError(ValueError):
    """A graph cannot be exported to ONNX (unsupported op, unknown static shape, ...)."""


def _onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError("headwater.onnx.export needs the onnx package: "
                          "pip install headwater[onnx]  (or: pip install onnx)") from e
    return onnx


def _where(op):
    loc = op._location
    return ", defined at %s:%d" % loc if loc else ""


def _op_error(op, message):
    return ConversionError("Cannot export op '%s' (type %s%s) to ONNX: %s"
                           % (op._name, op._type, _where(op), message))


def _tensor_name(t):
    # GraphDef spelling: "x" for output 0, "split:1" otherwise; readable in Netron and short
    # to type in onnxruntime feeds.
    return t._op._name if t._value_index == 0 else "%s:%d" % (t._op._name, t._value_index)


class _Poison:
    """Stands for the outputs of an op that could not be converted. The error is raised only
    if something in the model really consumes them: a shape computation feeding a Reshape
    whose static output shape is enough, for one, never needs converting."""

    __slots__ = ("error",)

    def __init__(self, error):
        self.error = error


# ---- the conversion context ----------------------------------------------------------------


class _Ctx:
    """Holds the ONNX graph being built and the mapping from headwater tensors to ONNX names."""

    def __init__(self, onnx, opset, consts):
        self.onnx = onnx
        self.helper = onnx.helper
        self.opset = opset
        self.consts = consts  # Tensor -> numpy value (feed-independent tensors)
        self.names = {}  # Tensor -> ONNX value name
        self.nodes = []
        self.initializers = []
        self.used = set()
        self.const_names = {}  # Tensor -> initializer name
        self.transposed = {}  # (name, perm) -> name of the transposed value
        self.op = None

    # names
    def unique(self, base):
        name = base
        i = 1
        while name in self.used:
            name = "%s_%d" % (base, i)
            i += 1
        self.used.add(name)
        return name

    def out(self, i=0):
        """A fresh ONNX name for output `i` of the op being converted."""
        return self.unique(_tensor_name(self.op._outputs[i]))

    def tmp(self, suffix):
        return self.unique("%s/onnx/%s" % (self.op._name, suffix))

    # values
    def value(self, t):
        """The numpy value of `t` if it does not depend on the feeds, else None."""
        return self.consts.get(t)

    def const_attr(self, t, what):
        """The value of `t`, which this op needs at export time (an axis, a permutation...)."""
        v = self.consts.get(t)
        if v is None:
            raise _op_error(self.op, "its %s input '%s' must be a constant (it depends on the "
                            "feeds)" % (what, t.name))
        return v

    def inp(self, t):
        """The ONNX name of tensor `t`, adding an initializer for a constant on first use."""
        name = self.names.get(t)
        if name is not None:
            if type(name) is _Poison:
                raise name.error
            return name
        if t in self.consts:
            name = self.const(self.consts[t], _tensor_name(t))
            self.names[t] = name
            return name
        raise _op_error(self.op, "its input '%s' comes from an output the exporter cannot "
                        "produce" % t.name)

    def const(self, value, base):
        name = self.unique(base)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def ints(self, values, suffix):
        return self.const(np.asarray(values, dtype=np.int64), self.tmp(suffix))

    def node(self, op_type, inputs, output=None, **attrs):
        """Append an ONNX node; returns its (single) output name."""
        if output is None:
            output = self.tmp(op_type)
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [output],
                                                name=self.unique(output + "/" + op_type),
                                                **attrs))
        return output

    def transpose(self, name, perm, output=None):
        perm = list(perm)
        cached = self.transposed.get((name, tuple(perm)))
        if cached is not None and output is None:
            return cached
        out = self.node("Transpose", [name], output, perm=perm)
        inv = list(np.argsort(perm))
        # Transpose pairs around consecutive conv/pool ops cancel: remember the way back.
        self.transposed[(name, tuple(perm))] = out
        self.transposed[(out, tuple(inv))] = name
        return out


# ---- converters ------------------------------------------------------------------------------

_CONVERTERS = {}


def _converter(*types):
    def deco(fn):
        for t in types:
            _CONVERTERS[t] = fn
        return fn
    return deco


def supported_op_types():
    """The sorted list of headwater op types the ONNX exporter can convert."""
    return sorted(set(_CONVERTERS) | {"Placeholder", "PlaceholderWithDefault", "Const",
                                      "VariableV2"})


_UNARY = {"Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Softplus": "Softplus",
          "Softsign": "Softsign", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Neg": "Neg",
          "Abs": "Abs", "Reciprocal": "Reciprocal", "Floor": "Floor", "Ceil": "Ceil",
          "Erf": "Erf", "Sin": "Sin", "Cos": "Cos", "Tan": "Tan", "Sign": "Sign",
          "Identity": "Identity", "StopGradient": "Identity", "Snapshot": "Identity",
          "LogicalNot": "Not", "Selu": "Selu", "Round": "Round", "IsNaN": "IsNaN",
          "Asin": "Asin", "Acos": "Acos", "Atan": "Atan", "Sinh": "Sinh", "Cosh": "Cosh"}


def _elementwise(ctx, x, build):
    """Apply `build(input_name, output_name)` to `x`. When `x` is the NHWC transpose of a
    conv/pool's NCHW result, apply it to the NCHW value instead and transpose back, so a
    conv -> bias -> relu -> conv chain stays in NCHW (the unused transposes are dropped)."""
    name = ctx.inp(x)
    nchw = ctx.transposed.get((name, _TO_NCHW))
    if nchw is None:
        return build(name, ctx.out())
    return ctx.transpose(build(nchw, ctx.tmp("nchw")), _TO_NHWC, output=ctx.out())


@_converter(*_UNARY)
def _unary(ctx, op):
    # ONNX Selu's default alpha/gamma are the same constants TF uses.
    return _elementwise(ctx, op._inputs[0],
                        lambda x, out: ctx.node(_UNARY[op._type], [x], out))


_BINARY = {"AddV2": "Add", "Add": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div",
           "Maximum": "Max", "Minimum": "Min", "Pow": "Pow", "Equal": "Equal",
           "Less": "Less", "Greater": "Greater", "LessOrEqual": "LessOrEqual",
           "LessEqual": "LessOrEqual", "GreaterEqual": "GreaterOrEqual",
           "LogicalAnd": "And", "LogicalOr": "Or"}


@_converter(*_BINARY)
def _binary(ctx, op):
    a, b = op._inputs
    if op._type == "RealDiv" and a._dtype.is_integer:
        raise _op_error(op, "integer RealDiv has no ONNX equivalent")
    # ONNX's elementwise ops broadcast numpy-style, exactly as TF's do.
    return ctx.node(_BINARY[op._type], [ctx.inp(a), ctx.inp(b)], ctx.out())


@_converter("SquaredDifference")
def _squared_difference(ctx, op):
    d = ctx.node("Sub", [ctx.inp(op._inputs[0]), ctx.inp(op._inputs[1])], ctx.tmp("diff"))
    return ctx.node("Mul", [d, d], ctx.out())


@_converter("Square")
def _square(ctx, op):
    x = ctx.inp(op._inputs[0])
    return ctx.node("Mul", [x, x], ctx.out())


@_converter("Rsqrt")
def _rsqrt(ctx, op):
    s = ctx.node("Sqrt", [ctx.inp(op._inputs[0])], ctx.tmp("sqrt"))
    return ctx.node("Reciprocal", [s], ctx.out())


@_converter("AddN")
def _add_n(ctx, op):
    return ctx.node("Sum", [ctx.inp(t) for t in op._inputs], ctx.out())


def _scalar_like(ctx, t, v, suffix):
    return ctx.const(np.asarray(v, dtype=t._dtype.base_dtype.as_numpy_dtype), ctx.tmp(suffix))


@_converter("Relu6")
def _relu6(ctx, op):
    x = op._inputs[0]
    lo, hi = _scalar_like(ctx, x, 0, "zero"), _scalar_like(ctx, x, 6, "six")
    return _elementwise(ctx, x, lambda x, out: ctx.node("Clip", [x, lo, hi], out))


@_converter("Elu")
def _elu(ctx, op):
    return _elementwise(ctx, op._inputs[0],
                        lambda x, out: ctx.node("Elu", [x], out, alpha=1.0))


@_converter("LeakyRelu")
def _leaky_relu(ctx, op):
    alpha = float(op._attrs["alpha"])
    return _elementwise(ctx, op._inputs[0],
                        lambda x, out: ctx.node("LeakyRelu", [x], out, alpha=alpha))


@_converter("Softmax", "LogSoftmax")
def _softmax(ctx, op):
    # TF normalises over the last axis. From opset 13 ONNX does the same per axis; before, it
    # flattened from `axis` on, which for the last axis is the same thing.
    return ctx.node(op._type, [ctx.inp(op._inputs[0])], ctx.out(), axis=-1)


@_converter("Cast")
def _cast(ctx, op):
    return ctx.node("Cast", [ctx.inp(op._inputs[0])], ctx.out(),
                    to=_onnx_dtype(ctx, op._attrs["DstT"]))


# ---- matmul ----------------------------------------------------------------------------------


def _maybe_transposed(ctx, t, perm, suffix):
    """`t` transposed by `perm`; a constant is transposed here rather than in the model."""
    v = ctx.value(t)
    if v is not None:
        return ctx.const(np.ascontiguousarray(np.transpose(v, perm)), ctx.tmp(suffix))
    return ctx.transpose(ctx.inp(t), perm)


@_converter("MatMul")
def _matmul(ctx, op):
    a, b = op._inputs
    an = _maybe_transposed(ctx, a, (1, 0), "a_T") if op._attrs["transpose_a"] else ctx.inp(a)
    bn = _maybe_transposed(ctx, b, (1, 0), "b_T") if op._attrs["transpose_b"] else ctx.inp(b)
    return ctx.node("MatMul", [an, bn], ctx.out())


def _rank(ctx, t, what):
    d = t._shape._dims
    if d is None:
        raise _op_error(ctx.op, "the rank of its %s '%s' is unknown; set a static shape"
                        % (what, t.name))
    return len(d)


@_converter("BatchMatMulV2", "BatchMatMul")
def _batch_matmul(ctx, op):
    names = []
    for t, adj, nm in zip(op._inputs, (op._attrs["adj_x"], op._attrs["adj_y"]), ("x", "y")):
        if adj:
            if t._dtype.is_complex:
                raise _op_error(op, "complex adjoints are not supported")
            r = _rank(ctx, t, nm)
            perm = list(range(r - 2)) + [r - 1, r - 2]
            names.append(_maybe_transposed(ctx, t, perm, nm + "_T"))
        else:
            names.append(ctx.inp(t))
    return ctx.node("MatMul", names, ctx.out())


@_converter("BiasAdd", "BiasAddV1")
def _bias_add(ctx, op):
    x, b = op._inputs
    if op._attrs.get("data_format", "NHWC") != "NCHW":
        nchw = ctx.transposed.get((ctx.inp(x), _TO_NCHW))
        if nchw is None:
            return ctx.node("Add", [ctx.inp(x), ctx.inp(b)], ctx.out())
        y = ctx.node("Add", [nchw, _channel_bias(ctx, b, 4)], ctx.tmp("nchw"))
        return ctx.transpose(y, _TO_NHWC, output=ctx.out())
    return ctx.node("Add", [ctx.inp(x), _channel_bias(ctx, b, _rank(ctx, x, "input"))],
                    ctx.out())


def _channel_bias(ctx, b, r):
    """Bias `b` [C] shaped [C, 1, ...] to broadcast over a rank-`r` channels-first value."""
    v = ctx.value(b)
    if v is not None:
        bn = ctx.const(v.reshape((-1,) + (1,) * (r - 2)), ctx.tmp("bias"))
    else:
        bn = ctx.node("Unsqueeze", [ctx.inp(b), ctx.ints(list(range(1, r - 1)), "axes")],
                      ctx.tmp("bias"))
    return bn


# ---- convolution and pooling ------------------------------------------------------------------

_TO_NCHW = (0, 3, 1, 2)
_TO_NHWC = (0, 2, 3, 1)


def _spatial(v, nchw):
    return [int(v[2]), int(v[3])] if nchw else [int(v[1]), int(v[2])]


def _pads(ctx, op, x, kernel, strides, dilations, nchw):
    """ONNX `pads` [top, left, bottom, right] for the op's padding, or None for VALID."""
    padding = op._attrs["padding"]
    if padding == "VALID":
        return [0, 0, 0, 0]
    if padding == "EXPLICIT":
        p = [int(i) for i in op._attrs["explicit_paddings"]]
        pairs = [p[i:i + 2] for i in range(0, 8, 2)]
        (t, bt), (l, r) = (pairs[2], pairs[3]) if nchw else (pairs[1], pairs[2])
        return [t, l, bt, r]
    d = x._shape._dims
    hw = None if d is None else ((d[2], d[3]) if nchw else (d[1], d[2]))
    if hw is None or None in hw:
        return None  # SAME with unknown spatial size: ONNX's SAME_UPPER pads as TF does
    before, after = [], []
    for size, k, s, dil in zip(hw, kernel, strides, dilations):
        out = -(-size // s)
        eff = (k - 1) * dil + 1
        total = max((out - 1) * s + eff - size, 0)
        before.append(total // 2)
        after.append(total - total // 2)
    return before + after


def _pad_attrs(pads):
    return {"auto_pad": "SAME_UPPER"} if pads is None else {"pads": pads}


def _to_nchw(ctx, x, nchw):
    return ctx.inp(x) if nchw else ctx.transpose(ctx.inp(x), _TO_NCHW)


def _from_nchw(ctx, y, nchw):
    if nchw:
        return ctx.node("Identity", [y], ctx.out())
    return ctx.transpose(y, _TO_NHWC, output=ctx.out())


@_converter("Conv2D", "DepthwiseConv2dNative")
def _conv2d(ctx, op):
    x, w = op._inputs
    a = op._attrs
    nchw = a.get("data_format", "NHWC") == "NCHW"
    strides = _spatial(a["strides"], nchw)
    dilations = _spatial(a.get("dilations", [1, 1, 1, 1]), nchw)
    wd = w._shape._dims
    if wd is None or None in wd:
        raise _op_error(op, "its filter shape must be fully known, got %s" % w._shape)
    kh, kw, cin, cout = wd
    group = 1
    wv = ctx.value(w)
    if op._type == "DepthwiseConv2dNative":
        # filter [H, W, C, M] -> ONNX [C*M, 1, H, W] with group C: TF's output channel c*M+m.
        group = cin
        if wv is not None:
            wn = ctx.const(np.ascontiguousarray(
                np.transpose(wv.reshape(kh, kw, 1, cin * cout), (3, 2, 0, 1))), ctx.tmp("W"))
        else:
            r = ctx.node("Reshape", [ctx.inp(w), ctx.ints([kh, kw, 1, cin * cout], "shape")],
                         ctx.tmp("W_flat"))
            wn = ctx.transpose(r, (3, 2, 0, 1))
    else:
        xd = x._shape._dims
        xc = None if xd is None else (xd[1] if nchw else xd[3])
        if xc is not None and xc != cin:
            group = xc // cin  # grouped convolution (input channels a multiple of cin)
        wn = _maybe_transposed(ctx, w, (3, 2, 0, 1), "W")  # HWIO -> OIHW
    pads = _pads(ctx, op, x, (kh, kw), strides, dilations, nchw)
    y = ctx.node("Conv", [_to_nchw(ctx, x, nchw), wn], ctx.tmp("conv_nchw"),
                 kernel_shape=[kh, kw], strides=strides, dilations=dilations, group=group,
                 **_pad_attrs(pads))
    return _from_nchw(ctx, y, nchw)


@_converter("MaxPool", "AvgPool")
def _pool(ctx, op):
    x = op._inputs[0]
    a = op._attrs
    nchw = a.get("data_format", "NHWC") == "NCHW"
    kernel = _spatial(a["ksize"], nchw)
    strides = _spatial(a["strides"], nchw)
    pads = _pads(ctx, op, x, kernel, strides, (1, 1), nchw)
    extra = {}
    if op._type == "AvgPool":
        # TF averages over the window's in-bounds elements only.
        extra["count_include_pad"] = 0
    y = ctx.node("MaxPool" if op._type == "MaxPool" else "AveragePool",
                 [_to_nchw(ctx, x, nchw)], ctx.tmp("pool_nchw"), kernel_shape=kernel,
                 strides=strides, **_pad_attrs(pads), **extra)
    return _from_nchw(ctx, y, nchw)


@_converter("FusedBatchNormV3", "FusedBatchNorm", "FusedBatchNormV2")
def _fused_batch_norm(ctx, op):
    a = op._attrs
    if a.get("is_training", True):
        raise _op_error(op, "only inference mode (is_training=False) can be exported; build "
                        "the model with training=False")
    x, scale, offset, mean, var = op._inputs
    nchw = a.get("data_format", "NHWC") == "NCHW"
    y = ctx.node("BatchNormalization",
                 [_to_nchw(ctx, x, nchw)] + [ctx.inp(t) for t in (scale, offset, mean, var)],
                 ctx.tmp("bn_nchw"), epsilon=float(a["epsilon"]))
    # Only `y` exists in the exported model; the batch statistics outputs are training-only.
    return [_from_nchw(ctx, y, nchw)] + [None] * (len(op._outputs) - 1)


# ---- shapes and layout ------------------------------------------------------------------------


@_converter("Reshape")
def _reshape(ctx, op):
    x, shape = op._inputs
    sv = ctx.value(shape)
    if sv is not None:
        sv = np.asarray(sv, dtype=np.int64).reshape(-1)
        if (sv == 0).any():
            # ONNX reads 0 as "copy the input's dimension" unless allowzero (opset 14) is set.
            if ctx.opset < 14:
                raise _op_error(op, "reshaping to a zero-sized dimension needs opset >= 14")
            return ctx.node("Reshape", [ctx.inp(x), ctx.ints(sv, "shape")], ctx.out(),
                            allowzero=1)
    else:
        # A shape computed from the input (e.g. tf.stack([tf.shape(x)[0], -1])).
        sv = _shape_from_input(ctx, shape, x)
        if sv is None:
            d = op._outputs[0]._shape._dims
            if d is None or sum(i is None for i in d) > 1 or 0 in d:
                raise _op_error(op, "its shape input depends on the feeds and the static "
                                "output shape %s has more than one unknown dimension"
                                % op._outputs[0]._shape)
            sv = [-1 if i is None else i for i in d]
    return ctx.node("Reshape", [ctx.inp(x), ctx.ints(sv, "shape")], ctx.out())


def _shape_from_input(ctx, shape, x):
    """ONNX Reshape's shape for a TF shape tensor packed from constants and dimensions of the
    reshaped tensor itself: ``tf.shape(x)[i]`` at position i becomes 0 ("copy dimension i"),
    a known static dimension its value. None if the shape is anything else."""
    op = shape._op
    if op._type != "Pack" or op._attrs.get("axis", 0) != 0:
        return None
    xd = x._shape._dims
    out = []
    for pos, t in enumerate(op._inputs):
        v = ctx.value(t)
        if v is not None:
            v = int(np.asarray(v).reshape(()))
            if v == 0:
                return None
            out.append(v)
            continue
        ss = t._op
        if ss._type != "StridedSlice" or ss._inputs[0]._op._type != "Shape":
            return None
        a = ss._attrs
        if (a.get("shrink_axis_mask") != 1 or a.get("new_axis_mask") or a.get("ellipsis_mask")
                or a.get("begin_mask")):
            return None
        src = ss._inputs[0]._op._inputs[0]
        begin = ctx.value(ss._inputs[1])
        if begin is None:
            return None
        i = int(np.asarray(begin).reshape(-1)[0])
        if xd is not None and i < 0:
            i += len(xd)
        if src is x and i == pos:
            out.append(0)
        elif src._shape._dims is not None and 0 <= i < len(src._shape._dims) and \
                src._shape._dims[i] is not None:
            out.append(int(src._shape._dims[i]))
        else:
            return None
    return out


@_converter("Transpose")
def _transpose(ctx, op):
    perm = [int(i) for i in ctx.const_attr(op._inputs[1], "perm").reshape(-1)]
    return ctx.node("Transpose", [ctx.inp(op._inputs[0])], ctx.out(), perm=perm)


@_converter("ConcatV2")
def _concat(ctx, op):
    axis = int(ctx.const_attr(op._inputs[-1], "axis"))
    return ctx.node("Concat", [ctx.inp(t) for t in op._inputs[:-1]], ctx.out(), axis=axis)


def _unsqueeze(ctx, name, axes, output):
    if ctx.opset >= 13:
        return ctx.node("Unsqueeze", [name, ctx.ints(axes, "axes")], output)
    return ctx.node("Unsqueeze", [name], output, axes=axes)


@_converter("Pack")
def _pack(ctx, op):
    axis = int(op._attrs["axis"])
    parts = [_unsqueeze(ctx, ctx.inp(t), [axis], ctx.tmp("expanded")) for t in op._inputs]
    return ctx.node("Concat", parts, ctx.out(), axis=axis)


@_converter("ExpandDims")
def _expand_dims(ctx, op):
    # TF's negative axis counts in the output's rank, like ONNX Unsqueeze's.
    axis = int(np.asarray(ctx.const_attr(op._inputs[1], "axis")).reshape(-1)[0])
    return _unsqueeze(ctx, ctx.inp(op._inputs[0]), [axis], ctx.out())


@_converter("Squeeze")
def _squeeze(ctx, op):
    axes = [int(i) for i in op._attrs.get("squeeze_dims") or ()]
    x = ctx.inp(op._inputs[0])
    if not axes:
        return ctx.node("Squeeze", [x], ctx.out())
    return ctx.node("Squeeze", [x, ctx.ints(axes, "axes")], ctx.out())


_REDUCE = {"Sum": "ReduceSum", "Mean": "ReduceMean", "Max": "ReduceMax", "Min": "ReduceMin",
           "Prod": "ReduceProd"}


@_converter(*_REDUCE)
def _reduce(ctx, op):
    x, ax = op._inputs
    axes = [int(i) for i in np.asarray(ctx.const_attr(ax, "reduction indices")).reshape(-1)]
    keep = int(bool(op._attrs.get("keep_dims", False)))
    if not axes:
        # TF reduces over nothing; ONNX would read empty axes as "all axes".
        return ctx.node("Identity", [ctx.inp(x)], ctx.out())
    onnx_type = _REDUCE[op._type]
    # ReduceSum took axes as an input from opset 13, the other reductions from opset 18.
    if onnx_type == "ReduceSum" or ctx.opset >= 18:
        return ctx.node(onnx_type, [ctx.inp(x), ctx.ints(axes, "axes")], ctx.out(),
                        keepdims=keep)
    return ctx.node(onnx_type, [ctx.inp(x)], ctx.out(), axes=axes, keepdims=keep)


@_converter("ArgMax", "ArgMin")
def _argmax(ctx, op):
    x, ax = op._inputs
    axis = int(np.asarray(ctx.const_attr(ax, "dimension")).reshape(-1)[0])
    out_dt = op._attrs.get("output_type")
    wants_int64 = out_dt is None or np.dtype(out_dt.as_numpy_dtype) == np.int64
    y = ctx.node(op._type, [ctx.inp(x)], ctx.out() if wants_int64 else ctx.tmp("int64"),
                 axis=axis, keepdims=0)
    if wants_int64:
        return y
    return ctx.node("Cast", [y], ctx.out(), to=_onnx_dtype(ctx, out_dt))


@_converter("Shape")
def _shape(ctx, op):
    s = ctx.node("Shape", [ctx.inp(op._inputs[0])], ctx.tmp("int64"))
    return ctx.node("Cast", [s], ctx.out(), to=_onnx_dtype(ctx, op._attrs["out_type"]))


@_converter("RandomUniform")
def _random_uniform(ctx, op):
    # Only reached when the shape depends on the feeds (dropout's noise of tf.shape(x));
    # a feed-independent random tensor is refused rather than frozen.
    shape = ctx.node("Cast", [ctx.inp(op._inputs[0])], ctx.tmp("shape"),
                     to=ctx.onnx.TensorProto.INT64)
    zeros = ctx.node("ConstantOfShape", [shape], ctx.tmp("zeros"))
    return ctx.node("RandomUniformLike", [zeros], ctx.out(), low=0.0, high=1.0,
                    dtype=_onnx_dtype(ctx, op._attrs["dtype"]))


def _onnx_dtype(ctx, dtype):
    return int(ctx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype.base_dtype.as_numpy_dtype)))


# ---- the graph walk ---------------------------------------------------------------------------


def _as_tensor_list(graph, items, what):
    """[(name or None, Tensor)] from a tensor, a name, a list of them or a dict name -> them."""
    if items is None:
        raise TypeError("%s must not be None" % what)
    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        if not isinstance(items, (list, tuple)):
            items = [items]
        pairs = [(None, t) for t in items]
    out = []
    for name, t in pairs:
        if name is not None and not isinstance(name, str):
            raise TypeError("%s dict keys must be strings (ONNX value names), got %r"
                            % (what, name))
        t = graph.as_graph_element(t, allow_tensor=True, allow_operation=False)
        out.append((name, t))
    if not out:
        raise ValueError("%s must name at least one tensor" % what)
    return out


def _needed_ops(fetches, cut):
    """Ops computing `fetches`, stopping at tensors in `cut`. Control dependencies are ignored:
    an inference model is data flow only."""
    needed = set()
    stack = [t._op for t in fetches if t not in cut]
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        for t in op._inputs:
            if t not in cut and t._op not in needed:
                stack.append(t._op)
    # Data inputs exist before their consumers are created, so creation order is topological.
    return sorted(needed, key=lambda op: op._id)


def _fold_constants(sess, order, feed_set, fixed, fetch_list):
    """Evaluate every feed-independent tensor the dynamic part of the graph (or the caller)
    needs, in one `sess.run`. Returns {Tensor: numpy value}."""
    dynamic = set(feed_set)
    for op in order:
        if any(t in dynamic for t in op._inputs):
            dynamic.update(t for t in op._outputs if t not in fixed)
        elif op._type == "Placeholder" and not all(t in fixed for t in op._outputs):
            raise _op_error(op, "this placeholder is needed to compute the fetches; list it "
                            "in `feeds` (a model input) or give it a fixed value in "
                            "`feed_dict`")
    wanted = []
    seen = set()
    for op in order:
        if any(t in dynamic for t in op._outputs):
            for t in op._inputs:
                if t not in dynamic and t not in seen:
                    seen.add(t)
                    wanted.append(t)
    for t in fetch_list:
        if t not in dynamic and t not in seen:
            seen.add(t)
            wanted.append(t)
    if not wanted:
        return {}, dynamic
    # Folding must not freeze a random sample or a side effect into the weights.
    for op in _needed_ops(wanted, fixed):
        if op._type.startswith(_NEVER_FOLD_PREFIXES) or (
                op._op_def.stateful and op._type not in ("VariableV2", "Variable")):
            raise _op_error(op, "it is random or stateful and its value would be frozen into "
                            "the model; feed the tensors that depend on it, or give them "
                            "fixed values in `feed_dict`")
    values = sess.run(wanted, feed_dict=fixed or None)
    consts = {}
    for t, v in zip(wanted, values):
        consts[t] = np.asarray(v)
    return consts, dynamic


def _value_info(helper, name, t, batch_name):
    dt = helper.np_dtype_to_tensor_dtype(np.dtype(t._dtype.base_dtype.as_numpy_dtype))
    d = t._shape._dims
    if d is None:
        return helper.make_tensor_value_info(name, dt, None)
    dims = [batch_name if (i == 0 and v is None and batch_name) else v for i, v in enumerate(d)]
    return helper.make_tensor_value_info(name, dt, dims)


def export(sess, feeds, fetches, path=None, opset=DEFAULT_OPSET, feed_dict=None,
           model_name="headwater", batch_dim_name="N", check=True):
    """Export the inference graph that computes `fetches` from `feeds` as an ONNX model.

    Variables and everything computed only from variables and constants are read from `sess`
    and stored in the model as initializers (the model holds the session's current weights).

    Args:
      sess: the `Session` holding the trained variables.
      feeds: the model's inputs: a Tensor or tensor name, a list of them, or a dict mapping an
        ONNX input name to one. Without a dict the ONNX names are the tensor names ("x" for
        "x:0", "split:1" for other outputs). Usually placeholders, but any tensor can be cut
        at and fed.
      fetches: the model's outputs, in the same forms as `feeds`.
      path: where to write the model (written to a temporary file, fsynced, then renamed), or
        None to only return it.
      opset: the ONNX opset to target (13 or newer).
      feed_dict: optional {tensor: value} of tensors to freeze into the model (e.g. a
        `keep_prob` placeholder set to 1.0, or `training` set to False).
      model_name: the ONNX graph name.
      batch_dim_name: symbolic name given to an input's unknown first dimension.
      check: run `onnx.checker.check_model` on the result.
    Returns:
      The `onnx.ModelProto`.
    Raises:
      ConversionError: an op in the graph has no ONNX equivalent (the message names the op,
        its type and the line that created it), or a needed static shape is unknown.
      ImportError: the `onnx` package is not installed.
    """
    onnx = _onnx()
    helper = onnx.helper
    max_opset = onnx.defs.onnx_opset_version()
    if not isinstance(opset, int) or not _MIN_OPSET <= opset <= max_opset:
        raise ValueError("opset must be an int from %d to %d (the newest this onnx package "
                         "knows), got %r" % (_MIN_OPSET, max_opset, opset))
    graph = sess.graph
    feed_pairs = _as_tensor_list(graph, feeds, "feeds")
    fetch_pairs = _as_tensor_list(graph, fetches, "fetches")
    fixed = {}
    for k, v in (feed_dict or {}).items():
        fixed[graph.as_graph_element(k, allow_tensor=True, allow_operation=False)] = v
    feed_set = {t for _, t in feed_pairs}
    both = feed_set & set(fixed)
    if both:
        raise ValueError("Tensor %s is both a model input (feeds) and frozen (feed_dict)"
                         % min(t.name for t in both))
    fetch_list = [t for _, t in fetch_pairs]

    order = _needed_ops(fetch_list, feed_set | set(fixed))
    consts, dynamic = _fold_constants(sess, order, feed_set, fixed, fetch_list)
    ctx = _Ctx(onnx, opset, consts)

    inputs = []
    for name, t in feed_pairs:
        if t in ctx.names:
            raise ValueError("Tensor %s is listed twice in feeds" % t.name)
        name = ctx.unique(name or _tensor_name(t))
        ctx.names[t] = name
        inputs.append(_value_info(helper, name, t, batch_dim_name))

    for op in order:
        if not any(t in dynamic for t in op._outputs):
            continue
        conv = _CONVERTERS.get(op._type)
        ctx.op = op
        try:
            if conv is None:
                raise _op_error(op, "no ONNX converter for op type %s (see "
                                "headwater.onnx.supported_op_types())" % op._type)
            outs = conv(ctx, op)
        except ConversionError as e:
            outs = [_Poison(e)] * len(op._outputs)
        if not isinstance(outs, list):
            outs = [outs] + [None] * (len(op._outputs) - 1)
        for t, n in zip(op._outputs, outs):
            if n is not None:
                ctx.names[t] = n

    outputs = []
    emitted = set()
    ctx.op = None
    for name, t in fetch_pairs:
        if t not in ctx.names and t in consts:
            ctx.names[t] = ctx.const(consts[t], name or _tensor_name(t))
            if name is None:
                name = ctx.names[t]
        src = ctx.names.get(t)
        if type(src) is _Poison:
            raise src.error
        if src is None:
            raise ConversionError("Cannot export fetch '%s': the exporter cannot produce this "
                                  "output of op '%s' (type %s%s)"
                                  % (t.name, t._op._name, t._op._type, _where(t._op)))
        if name is not None and name != src:
            if name in ctx.used:
                raise ValueError("Output name %r is already used in the model" % name)
            ctx.used.add(name)
            ctx.nodes.append(helper.make_node("Identity", [src], [name], name=name + "/Identity"))
            src = name
        if src in emitted:
            continue
        emitted.add(src)
        outputs.append(_value_info(helper, src, t, None))

    nodes, inits = _live(ctx.nodes, ctx.initializers, [o.name for o in outputs])
    g = helper.make_graph(nodes, model_name, inputs, outputs, inits)
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(g, opset_imports=opsets, producer_name="headwater",
                              ir_version=helper.find_min_ir_version_for(opsets))
    if check:
        onnx.checker.check_model(model)
    if path is not None:
        _write_atomic(os.fspath(path), model.SerializeToString())
    return model


def _live(nodes, initializers, output_names):
    """The nodes and initializers the outputs depend on (converted ops whose results nothing
    reads, such as an unused shape computation, are dropped)."""
    live = set(output_names)
    keep = []
    for n in reversed(nodes):
        if any(o in live for o in n.output):
            keep.append(n)
            live.update(n.input)
    keep.reverse()
    return keep, [i for i in initializers if i.name in live]


def _write_atomic(path, data):
    tmp = "%s.tmp%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
