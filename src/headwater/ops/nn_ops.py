"""Neural-network ops (`tf.nn`): activations, softmax and losses, convolution, pooling,
normalization, dropout, embeddings and top-k, with their gradient rules.

Primitive op types follow TF1 (Relu, BiasAdd, Conv2D, MaxPool, FusedBatchNormV3,
SoftmaxCrossEntropyWithLogits, ...); the backward passes that TF1 implements as op types
(ReluGrad, BiasAddGrad, Conv2DBackpropInput/Filter, MaxPoolGrad, AvgPoolGrad, ...) are op types
here too, each with its own gradient rule so second derivatives work. Composite functions
(dropout, moments, batch_normalization, sigmoid cross-entropy, l2_normalize, ...) build the same
small graphs of math ops as TF1 and are differentiated through those ops.

Convolution and pooling kernels work in NHWC with numpy: windows are strided views
(`as_strided`), convolutions are one im2col copy plus one matrix product per batch chunk, and
window scatters (backprop to the input, pooling gradients) are a loop over the kernel taps or a
single `bincount`. NCHW is accepted by transposing around the NHWC kernels.
"""

from __future__ import annotations

import collections
import numbers
import weakref

import numpy as np
from numpy.lib.stride_tricks import as_strided

from headwater._native import _C
from headwater.framework import dtypes as _dt
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.framework.op_registry import get_op_def, register_op
from headwater.gradients import NotDifferentiable, RegisterGradient
from headwater.ops import array_ops, math_ops
from headwater.ops.common import proto_shape_str, to_tensor
from headwater.ops.common import shape_from_tuple as _shape

__all__ = [
    # activations
    "relu", "relu6", "elu", "selu", "leaky_relu", "softplus", "softsign", "crelu", "swish",
    "softmax", "log_softmax", "bias_add", "xw_plus_b", "relu_layer",
    # losses and normalization
    "l2_loss", "l2_normalize", "moments", "batch_normalization", "fused_batch_norm",
    "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
    "sparse_softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits",
    "weighted_cross_entropy_with_logits",
    # regularization / lookup / ranking
    "dropout", "embedding_lookup", "in_top_k", "top_k", "zero_fraction",
    # convolution and pooling
    "conv2d", "conv2d_backprop_input", "conv2d_backprop_filter", "conv2d_transpose",
    "depthwise_conv2d", "depthwise_conv2d_native",
    "depthwise_conv2d_native_backprop_input", "depthwise_conv2d_native_backprop_filter",
    "max_pool", "avg_pool",
]

# Op types defined (and given a gradient rule or declared NotDifferentiable) by this module.
OP_TYPES = (
    "Relu", "ReluGrad", "Relu6", "Relu6Grad", "Elu", "EluGrad", "Selu", "SeluGrad",
    "LeakyRelu", "LeakyReluGrad", "Softplus", "SoftplusGrad", "Softsign", "SoftsignGrad",
    "Softmax", "LogSoftmax", "BiasAdd", "BiasAddGrad", "L2Loss",
    "SoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyWithLogits",
    "Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter",
    "DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
    "DepthwiseConv2dNativeBackpropFilter",
    "MaxPool", "MaxPoolGrad", "MaxPoolGradGrad", "AvgPool", "AvgPoolGrad",
    "FusedBatchNormV3", "TopKV2", "InTopKV2",
)

_FLOAT = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)
_REAL = (_dt.float32, _dt.float64, _dt.int32, _dt.uint8, _dt.int16, _dt.int8, _dt.int64,
         _dt.bfloat16, _dt.uint16, _dt.float16, _dt.uint32, _dt.uint64)
_CONV = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64, _dt.int32)
_INDEX = (_dt.int32, _dt.int64)
_Tensor = _ops.Tensor
_VALID_OP_NAME = _ops._VALID_OP_NAME

# Elements per im2col chunk: big enough for an efficient GEMM, small enough to stay in cache
# range and not double the memory of a large batch.
_CHUNK_ELEMENTS = 1 << 21

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# ---- helpers -------------------------------------------------------------------------------


def _apply(op_type, inputs, attrs, name=None):
    """Create `op_type` with its final name reserved first (inference errors can name it, as
    TF1 reserves the name before shape inference). Returns the output(s) like `apply_op`."""
    g = inputs[0]._op._graph if inputs else _ops.get_default_graph()
    if name is None:
        name = g.unique_name(get_op_def(op_type).default_name)
    elif name[-1:] == "/":
        name = name[:-1]
    else:
        if not _VALID_OP_NAME.match(name):
            raise ValueError("'%s' is not a valid node name" % name)
        name = g.unique_name(name)
    attrs["_name"] = name
    return _ops.apply_op(op_type, inputs, attrs, name + "/", graph=g)


def _label(op_type, attrs):
    return "'%s' (op: '%s')" % (attrs.get("_name", op_type), op_type)


def _shapes(inputs):
    return ", ".join(proto_shape_str(t._shape) for t in inputs)


def _err(op_type, attrs, inputs, msg, cls=ValueError):
    return cls("%s for %s with input shapes: %s." % (msg, _label(op_type, attrs),
                                                      _shapes(inputs)))


def _check_dtype(param, t, allowed):
    dt = t._dtype.base_dtype
    if dt not in allowed:
        raise TypeError("Value passed to parameter '%s' has DataType %s not in list of allowed "
                        "values: %s" % (param, dt.name, ", ".join(a.name for a in allowed)))
    return dt


def _check_same(op_type, param, t, first, ref):
    if t._dtype.base_dtype != ref._dtype.base_dtype:
        raise TypeError("Input '%s' of '%s' Op has type %s that does not match type %s of "
                        "argument '%s'." % (param, op_type, t._dtype.name, ref._dtype.name,
                                            first))


def _rank_error(op_type, attrs, inputs, want, got, at_least=False):
    return _err(op_type, attrs, inputs, "Shape must be %srank %d but is rank %d"
                % ("at least " if at_least else "", want, got))


def _dims(t):
    return t._shape._dims


def _np_dtype(dtype):
    return np.dtype(dtype.as_numpy_dtype)


def _is_zero(t):
    """True when gradient `t` is known to be all zeros (filled in for an unused output)."""
    if t is None:
        return True
    op = getattr(t, "_op", None)
    if op is None:
        return False
    if op._type == "ZerosLike":
        return True
    if op._type == "Fill":
        v = array_ops.constant_value(op._inputs[1])
        return v is not None and not np.any(v)
    if op._type == "Const":
        return not np.any(op._attrs["value"])
    return False


def _shape_tensor_of(t):
    """A shape tensor for `t`: a constant when its static shape is fully known."""
    d = _dims(t)
    if d is not None and None not in d:
        return array_ops.constant(np.array(d, dtype=np.int32), dtype=_dt.int32)
    return array_ops.shape(t)


def _matmul_fn():
    """`a @ b` for 2-D arrays: the native GEMM when present, else numpy's BLAS."""
    cmm = getattr(_C, "matmul", None) if _C is not None else None
    if cmm is None:
        return np.matmul

    def operand(x):
        # Transposed views (im2col^T, W^T) go to the GEMM as flags rather than copies.
        if x.flags.c_contiguous:
            return x, False
        if x.T.flags.c_contiguous:
            return x.T, True
        return np.ascontiguousarray(x), False

    def mm(a, b):
        if a.dtype == b.dtype and (a.dtype == np.float32 or a.dtype == np.float64):
            a, ta = operand(a)
            b, tb = operand(b)
            return cmm(a, b, ta, tb)
        return np.matmul(a, b)
    return mm


# ---- unary activations ---------------------------------------------------------------------


def _unary_infer(allowed, param="features"):
    def infer(inputs, attrs):
        x = inputs[0]
        _check_dtype(param, x, allowed)
        return [(x._dtype.base_dtype, x._shape)]
    return infer


def _grad_infer(allowed):
    # XGrad(gradients, features_or_outputs): both of one dtype and shape.
    def infer(inputs, attrs):
        g, f = inputs
        _check_dtype("gradients", g, allowed)
        _check_same(attrs.get("_type", "Grad"), "features", f, "gradients", g)
        try:
            shape = g._shape.merge_with(f._shape)
        except ValueError:
            raise ValueError("Shapes %s and %s are not compatible (gradients and features)."
                             % (g._shape, f._shape)) from None
        return [(g._dtype.base_dtype, shape)]
    return infer


# Below this many elements numpy's relu/relu-gradient beat the native call's overhead.
_NATIVE_RELU_MIN = 4096


def _relu_kernel(op, ctx):
    npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
    zero = np.zeros((), dtype=npdt)
    _max = np.maximum
    crelu = getattr(_C, "relu", None) if _C is not None else None
    if crelu is None or npdt not in (np.float32, np.float64):
        def relu_(x):
            return _max(x, zero)
        return relu_
    nd, small = np.ndarray, _NATIVE_RELU_MIN

    # One threaded pass, bit-identical to maximum(x, 0).
    def relu_c(x):
        if type(x) is nd and x.size >= small and x.dtype == npdt:
            return crelu(x)
        return _max(x, zero)
    return relu_c


def _relu6_kernel(op, ctx):
    npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
    zero, six = np.zeros((), npdt), np.array(6, npdt)

    def relu6_(x):
        return np.minimum(np.maximum(x, zero), six)
    return relu6_


def _elu(x):
    return np.where(x < 0, np.expm1(np.minimum(x, 0)), x)


def _selu(x):
    return _SELU_SCALE * np.where(x < 0, _SELU_ALPHA * np.expm1(np.minimum(x, 0)), x)


def _float_kernel(fn):
    """Kernel factory running `fn` and casting back (python floats widen float16/32)."""
    def kernel(op, ctx):
        npdt = _np_dtype(op._outputs[0]._dtype.base_dtype)

        def run(*xs):
            return np.asarray(fn(*xs), dtype=npdt)
        return run
    return kernel


def _leaky_relu_kernel(op, ctx):
    npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
    alpha = np.array(op._attrs["alpha"], dtype=npdt)

    def leaky_relu_(x):
        return np.where(x > 0, x, x * alpha)
    return leaky_relu_


def _softplus(x):
    return np.logaddexp(np.zeros((), x.dtype), x)


def _softsign(x):
    return x / (1 + np.abs(x))


register_op("Relu", _unary_infer(_REAL), _relu_kernel)
register_op("Relu6", _unary_infer(_REAL), _relu6_kernel)
register_op("Elu", _unary_infer(_FLOAT), _float_kernel(_elu))
register_op("Selu", _unary_infer(_FLOAT), _float_kernel(_selu))
register_op("LeakyRelu", _unary_infer(_FLOAT), _leaky_relu_kernel)
# Below this many elements numpy's call costs less than the native one's argument handling.
_NATIVE_UNARY_MIN = 64


def _native_float_kernel(c_name, np_fn):
    """`_C.<c_name>(x)` (vectorised, threaded) for float32/float64 arrays of at least
    `_NATIVE_UNARY_MIN` elements; `_float_kernel(np_fn)` for everything else (scalars,
    float16, tiny tensors, or no native core)."""
    def kernel(op, ctx):
        fallback = _float_kernel(np_fn)(op, ctx)
        npdt = _np_dtype(op._outputs[0]._dtype.base_dtype)
        cfn = getattr(_C, c_name, None) if _C is not None else None
        if cfn is None or npdt not in (np.float32, np.float64):
            return fallback
        nd = np.ndarray
        small = _NATIVE_UNARY_MIN

        def run(x):
            if type(x) is nd and x.dtype == npdt and x.size >= small:
                return cfn(x)
            return fallback(x)
        return run
    return kernel


def _softplus_grad_kernel(op, ctx):
    # g * sigmoid(x), with the native sigmoid when it applies.
    fallback = _float_kernel(_softplus_grad)(op, ctx)
    npdt = _np_dtype(op._outputs[0]._dtype.base_dtype)
    sig = getattr(_C, "sigmoid", None) if _C is not None else None
    if sig is None or npdt not in (np.float32, np.float64):
        return fallback
    nd = np.ndarray
    small = _NATIVE_UNARY_MIN

    def softplus_grad_(g, f):
        if (type(f) is nd and f.dtype == npdt and f.size >= small and type(g) is nd
                and g.shape == f.shape and g.dtype == npdt):
            s = sig(f)
            return np.multiply(g, s, out=s)
        return fallback(g, f)
    return softplus_grad_


register_op("Softplus", _unary_infer(_FLOAT), _native_float_kernel("softplus", _softplus))
register_op("Softsign", _unary_infer(_FLOAT), _float_kernel(_softsign))


def _relu_grad_kernel(op, ctx):
    # TF computes gradients * (features > 0): a multiply by the mask (3x faster than where,
    # and the same values, NaN propagation included). The native kernel does the same in one
    # threaded pass without the boolean temporary.
    def relu_grad_(g, f):
        return np.multiply(g, np.greater(f, 0))
    npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
    cgrad = getattr(_C, "relu_grad", None) if _C is not None else None
    if cgrad is None or npdt not in (np.float32, np.float64):
        return relu_grad_
    nd, small = np.ndarray, _NATIVE_RELU_MIN

    def relu_grad_c(g, f):
        if (type(g) is nd and type(f) is nd and g.size >= small and g.shape == f.shape
                and g.dtype == npdt and f.dtype == npdt):
            return cgrad(g, f)
        return relu_grad_(g, f)
    return relu_grad_c


def _relu6_grad_kernel(op, ctx):
    zero = np.zeros((), dtype=_np_dtype(op._inputs[0]._dtype.base_dtype))

    def relu6_grad_(g, f):
        return np.where((f > 0) & (f < 6), g, zero)
    return relu6_grad_


def _leaky_relu_grad_kernel(op, ctx):
    npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
    alpha = np.array(op._attrs["alpha"], dtype=npdt)

    def leaky_relu_grad_(g, f):
        return np.where(f > 0, g, g * alpha)
    return leaky_relu_grad_


def _elu_grad(g, y):
    return np.where(y < 0, g * (y + 1), g)


def _selu_grad(g, y):
    return np.where(y < 0, g * (y + _SELU_SCALE * _SELU_ALPHA), g * _SELU_SCALE)


def _softplus_grad(g, f):
    return g * np.exp(-np.logaddexp(np.zeros((), f.dtype), -f))


def _softsign_grad(g, f):
    d = 1 + np.abs(f)
    return g / (d * d)


register_op("ReluGrad", _grad_infer(_REAL), _relu_grad_kernel)
register_op("Relu6Grad", _grad_infer(_REAL), _relu6_grad_kernel)
register_op("EluGrad", _grad_infer(_FLOAT), _float_kernel(_elu_grad))
register_op("SeluGrad", _grad_infer(_FLOAT), _float_kernel(_selu_grad))
register_op("LeakyReluGrad", _grad_infer(_FLOAT), _leaky_relu_grad_kernel)
register_op("SoftplusGrad", _grad_infer(_FLOAT), _softplus_grad_kernel)
register_op("SoftsignGrad", _grad_infer(_FLOAT), _float_kernel(_softsign_grad))


def _unary(op_type, x, name, attrs=None):
    x = to_tensor(x, name="features")
    a = {"T": x._dtype.base_dtype}
    if attrs:
        a.update(attrs)
    return _apply(op_type, [x], a, name)


def relu(features, name=None):
    """max(features, 0) (op type Relu).

    Args:
      features: a real-valued Tensor.
      name: optional op name (default "Relu").
    Returns:
      A Tensor of the same dtype and shape.
    """
    return _unary("Relu", features, name)


def relu6(features, name=None):
    """min(max(features, 0), 6) (op type Relu6)."""
    return _unary("Relu6", features, name)


def elu(features, name=None):
    """Exponential linear unit: x if x > 0 else exp(x) - 1 (op type Elu)."""
    return _unary("Elu", features, name)


def selu(features, name=None):
    """Scaled ELU: scale * (x if x > 0 else alpha * (exp(x) - 1)) (op type Selu)."""
    return _unary("Selu", features, name)


def leaky_relu(features, alpha=0.2, name=None):
    """x if x > 0 else alpha * x (op type LeakyRelu, default name "LeakyRelu").

    Args:
      features: a float Tensor.
      alpha: slope for negative inputs (a Python number).
      name: optional op name.
    """
    with _ops.name_scope(name, "LeakyRelu", [features, alpha]) as name:
        return _unary("LeakyRelu", features, name, {"alpha": float(alpha)})


def softplus(features, name=None):
    """log(exp(features) + 1), computed stably (op type Softplus)."""
    return _unary("Softplus", features, name)


def softsign(features, name=None):
    """features / (abs(features) + 1) (op type Softsign)."""
    return _unary("Softsign", features, name)


def crelu(features, name=None, axis=-1):
    """Concatenated ReLU: relu(concat([x, -x], axis)), doubling the `axis` dimension."""
    with _ops.name_scope(name, "CRelu", [features]) as name:
        features = to_tensor(features, name="features")
        c = array_ops.concat([features, math_ops.negative(features)], axis, name="concat")
        return relu(c, name=name)


def swish(features, beta=1.0):
    """x * sigmoid(beta * x) (named "swish")."""
    with _ops.name_scope(None, "swish", [features]) as name:
        features = to_tensor(features, name="features")
        z = features if beta == 1.0 else math_ops.multiply(features, beta)
        return math_ops.multiply(features, math_ops.sigmoid(z), name=name)


# ---- softmax ---------------------------------------------------------------------------------


def _softmax_infer(op_type):
    def infer(inputs, attrs):
        x = inputs[0]
        _check_dtype("logits", x, _FLOAT)
        d = _dims(x)
        if d is not None and len(d) < 1:
            raise _rank_error(op_type, attrs, inputs, 1, 0, at_least=True)
        return [(x._dtype.base_dtype, x._shape)]
    return infer


def _softmax_np(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    e /= np.sum(e, axis=-1, keepdims=True)
    return e


def _log_softmax_np(x):
    z = x - np.max(x, axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


def _softmax_kernel(fn, native_name):
    def kernel(op, ctx):
        npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
        if npdt in (np.float32, np.float64):
            cfn = getattr(_C, native_name, None) if _C is not None else None
            if cfn is None:
                return fn

            def native(x):
                # One fused pass per row in C++; numpy for what it does not take.
                if type(x) is np.ndarray and x.ndim >= 1 and x.dtype == npdt and x.size:
                    return cfn(x)
                return fn(x)
            return native

        def low_precision(x):
            return fn(x.astype(np.float32)).astype(npdt)
        return low_precision
    return kernel


register_op("Softmax", _softmax_infer("Softmax"), _softmax_kernel(_softmax_np, "softmax"))
register_op("LogSoftmax", _softmax_infer("LogSoftmax"),
            _softmax_kernel(_log_softmax_np, "log_softmax"))


def _softmax_wrapper(op_type, logits, axis, name, dim):
    if axis is None:
        axis = -1 if dim is None else dim
    elif dim is not None and dim != axis:
        raise ValueError("Cannot specify both 'axis' and 'dim'.")
    logits = to_tensor(logits, name="logits")
    d = _dims(logits)
    if isinstance(axis, _Tensor):
        axis = array_ops._const_scalar(axis)
        if axis is None:
            raise ValueError("softmax needs a static axis.")
    axis = int(axis)
    if d is None or axis == -1 or axis == len(d) - 1:
        if d is not None and d and not -len(d) <= axis < len(d):
            raise errors.InvalidArgumentError(
                None, None, "`dim` must be in the range [%d, %d) where %d is the number of "
                "dimensions in the input. Received: dim=%d" % (-len(d), len(d), len(d), axis))
        return _apply(op_type, [logits], {"T": logits._dtype.base_dtype}, name)
    n = len(d)
    if not -n <= axis < n:
        raise errors.InvalidArgumentError(
            None, None, "`dim` must be in the range [%d, %d) where %d is the number of "
            "dimensions in the input. Received: dim=%d" % (-n, n, n, axis))
    axis %= n
    # The op normalises the last axis: swap `axis` there and back, as TF1 does.
    perm = list(range(n))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    t = array_ops.transpose(logits, perm)
    out = _apply(op_type, [t], {"T": logits._dtype.base_dtype})
    return array_ops.transpose(out, perm, name=name or "transpose")


def softmax(logits, axis=None, name=None, dim=None):
    """exp(logits) / sum(exp(logits), axis), computed stably (op type Softmax).

    Args:
      logits: a float Tensor of rank >= 1.
      axis: the dimension to normalise (default -1, the last).
      name: optional op name.
      dim: deprecated alias of `axis`.
    Returns:
      A Tensor of the dtype and shape of `logits`.
    """
    return _softmax_wrapper("Softmax", logits, axis, name, dim)


def log_softmax(logits, axis=None, name=None, dim=None):
    """logits - log(sum(exp(logits), axis)), computed stably (op type LogSoftmax)."""
    return _softmax_wrapper("LogSoftmax", logits, axis, name, dim)


# ---- bias_add ----------------------------------------------------------------------------------


def _channel_axis(data_format, rank):
    return 1 if (data_format or "NHWC").startswith("NC") and rank is not None and rank > 2 \
        else -1


def _bias_add_infer(inputs, attrs):
    x, b = inputs
    _check_dtype("value", x, _REAL)
    _check_same("BiasAdd", "bias", b, "value", x)
    dx, db = _dims(x), _dims(b)
    if db is not None and len(db) != 1:
        raise _rank_error("BiasAdd", attrs, inputs, 1, len(db))
    nchw = attrs["data_format"] == "NCHW"
    if dx is not None:
        if len(dx) < 2:
            raise _rank_error("BiasAdd", attrs, inputs, 2, len(dx), at_least=True)
        if nchw and len(dx) < 3:
            raise _rank_error("BiasAdd", attrs, inputs, 3, len(dx), at_least=True)
        c = dx[1] if nchw else dx[-1]
        if db is not None and c is not None and db[0] is not None and c != db[0]:
            raise _err("BiasAdd", attrs, inputs, "Dimensions must be equal, but are %d and %d"
                       % (c, db[0]))
        if c is None and db is not None and db[0] is not None:
            dx = list(dx)
            dx[1 if nchw else -1] = db[0]
            return [(x._dtype.base_dtype, _shape(tuple(dx)))]
    return [(x._dtype.base_dtype, x._shape)]


def _bias_add_kernel(op, ctx):
    nchw = op._attrs["data_format"] == "NCHW"

    def bias_add_(x, b):
        c = x.shape[1] if nchw else x.shape[-1]
        if b.shape[0] != c:
            raise errors.InvalidArgumentError(
                None, None, "Must provide as many biases as the %s dimension of the input "
                "tensor: %s vs. %s" % ("channel" if nchw else "last", list(b.shape),
                                       list(x.shape)))
        if nchw:
            b = b.reshape((c,) + (1,) * (x.ndim - 2))
        return np.add(x, b)
    return bias_add_


register_op("BiasAdd", _bias_add_infer, _bias_add_kernel)


def _bias_add_grad_infer(inputs, attrs):
    g = inputs[0]
    _check_dtype("out_backprop", g, _REAL)
    d = _dims(g)
    if d is None:
        return [(g._dtype.base_dtype, _shape((None,)))]
    if len(d) < 2:
        raise _rank_error("BiasAddGrad", attrs, inputs, 2, len(d), at_least=True)
    c = d[1] if attrs["data_format"] == "NCHW" else d[-1]
    return [(g._dtype.base_dtype, _shape((c,)))]


def _bias_add_grad_kernel(op, ctx):
    nchw = op._attrs["data_format"] == "NCHW"

    def bias_add_grad_(g):
        axes = tuple(i for i in range(g.ndim) if i != (1 if nchw else g.ndim - 1))
        return np.sum(g, axis=axes, dtype=g.dtype)
    return bias_add_grad_


register_op("BiasAddGrad", _bias_add_grad_infer, _bias_add_grad_kernel)


def _data_format_attr(data_format, op):
    if data_format is None:
        return "NHWC"
    if data_format in ("NHWC", "NWC", "NDHWC", "N...C"):
        return "NHWC"
    if data_format in ("NCHW", "NCW", "NCDHW", "NC..."):
        return "NCHW"
    raise ValueError("Unknown data_format %r for %s: use 'NHWC' or 'NCHW'." % (data_format, op))


def bias_add(value, bias, data_format=None, name=None):
    """Add a 1-D `bias` along the channel dimension of `value` (op type BiasAdd).

    Args:
      value: a Tensor of rank >= 2 (rank >= 3 for NCHW).
      bias: a 1-D Tensor whose size is the channel dimension of `value` (the last one for
        NHWC, dimension 1 for NCHW).
      data_format: "NHWC" (default) or "NCHW".
      name: optional op name (default "BiasAdd").
    Raises:
      ValueError: if `bias` is not 1-D or does not match the channel dimension.
    """
    with _ops.name_scope(name, "BiasAdd", [value, bias]) as name:
        value = to_tensor(value, name="input")
        bias = to_tensor(bias, dtype=value._dtype.base_dtype, name="bias")
        return _apply("BiasAdd", [value, bias],
                      {"T": value._dtype.base_dtype,
                       "data_format": _data_format_attr(data_format, "bias_add")}, name)


def _bias_add_grad(out_backprop, data_format, name=None):
    return _apply("BiasAddGrad", [out_backprop], {"T": out_backprop._dtype.base_dtype,
                                                  "data_format": data_format}, name)


def xw_plus_b(x, weights, biases, name=None):
    """matmul(x, weights) + biases (the result is a BiasAdd named "xw_plus_b")."""
    with _ops.name_scope(name, "xw_plus_b", [x, weights, biases]) as name:
        x = to_tensor(x, name="x")
        weights = to_tensor(weights, name="weights")
        biases = to_tensor(biases, name="biases")
        mm = math_ops.matmul(x, weights)
        return bias_add(mm, biases, name=name)


def relu_layer(x, weights, biases, name=None):
    """relu(matmul(x, weights) + biases) (named "relu_layer")."""
    with _ops.name_scope(name, "relu_layer", [x, weights, biases]) as name:
        x = to_tensor(x, name="x")
        weights = to_tensor(weights, name="weights")
        biases = to_tensor(biases, name="biases")
        xw_plus_b_ = bias_add(math_ops.matmul(x, weights), biases)
        return relu(xw_plus_b_, name=name)


# ---- L2 loss and normalisation ---------------------------------------------------------------


def _l2_loss_infer(inputs, attrs):
    t = inputs[0]
    _check_dtype("t", t, _FLOAT)
    return [(t._dtype.base_dtype, _shape(()))]


def _l2_loss_kernel(op, ctx):
    npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
    acc = npdt if npdt in (np.float32, np.float64) else np.float32

    def l2_loss_(t):
        t = t.astype(acc, copy=False).ravel()
        return np.asarray(np.dot(t, t) * 0.5, dtype=npdt)
    return l2_loss_


register_op("L2Loss", _l2_loss_infer, _l2_loss_kernel)


def l2_loss(t, name=None):
    """sum(t ** 2) / 2 over all elements (op type L2Loss): a scalar of `t`'s dtype."""
    t = to_tensor(t, name="t")
    return _apply("L2Loss", [t], {"T": t._dtype.base_dtype}, name)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x ** 2, axis), epsilon)) (named "l2_normalize").

    Args:
      x: a float Tensor.
      axis: dimension(s) to normalise along (default: all).
      epsilon: lower bound of the squared norm (avoids division by zero).
      dim: deprecated alias of `axis`.
    """
    if axis is None:
        axis = dim
    elif dim is not None and dim != axis:
        raise ValueError("Cannot specify both 'axis' and 'dim'.")
    with _ops.name_scope(name, "l2_normalize", [x]) as name:
        x = to_tensor(x, name="x")
        square_sum = math_ops.reduce_sum(math_ops.square(x), axis, keepdims=True)
        eps = to_tensor(epsilon, dtype=x._dtype.base_dtype)
        x_inv_norm = math_ops.rsqrt(math_ops.maximum(square_sum, eps))
        return math_ops.multiply(x, x_inv_norm, name=name)


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """Mean and variance of `x` over `axes` (named "moments").

    Args:
      x: a Tensor.
      axes: list of axes to reduce.
      shift: unused (kept for TF1 compatibility).
      keep_dims / keepdims: keep the reduced axes with size 1.
    Returns:
      (mean, variance): the (biased) variance, as TF1 computes it.
    """
    if keep_dims is not None and keepdims is not None and keep_dims != keepdims:
        raise ValueError("Cannot specify both 'keep_dims' and 'keepdims'.")
    keep = bool(keepdims if keepdims is not None else keep_dims)
    with _ops.name_scope(name, "moments", [x, axes]):
        x = to_tensor(x, name="x")
        y = math_ops.cast(x, _dt.float32) if x._dtype.base_dtype == _dt.float16 else x
        axes = list(axes) if isinstance(axes, (list, tuple)) else axes
        mean = math_ops.reduce_mean(y, axes, keepdims=True, name="mean")
        variance = math_ops.reduce_mean(
            math_ops.squared_difference(y, array_ops.stop_gradient(mean)), axes,
            keepdims=True, name="variance")
        if not keep:
            mean = array_ops.squeeze(mean, axes)
            variance = array_ops.squeeze(variance, axes)
        if x._dtype.base_dtype == _dt.float16:
            return math_ops.cast(mean, _dt.float16), math_ops.cast(variance, _dt.float16)
        return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """(x - mean) * scale / sqrt(variance + epsilon) + offset (named "batchnorm").

    `offset` and `scale` may be None (0 and 1).
    """
    with _ops.name_scope(name, "batchnorm", [x, mean, variance, scale, offset]):
        x = to_tensor(x, name="x")
        dt = x._dtype.base_dtype
        mean = to_tensor(mean, dtype=dt, name="mean")
        variance = to_tensor(variance, dtype=dt, name="variance")
        inv = math_ops.rsqrt(math_ops.add(variance, to_tensor(variance_epsilon, dtype=dt)))
        if scale is not None:
            inv = math_ops.multiply(inv, to_tensor(scale, dtype=dt, name="scale"))
        if offset is not None:
            shift = math_ops.subtract(to_tensor(offset, dtype=dt, name="offset"),
                                      math_ops.multiply(mean, inv))
        else:
            shift = math_ops.negative(math_ops.multiply(mean, inv))
        return math_ops.add(math_ops.multiply(x, inv), shift)


# ---- fused batch norm --------------------------------------------------------------------------


def _fbn_infer(inputs, attrs):
    x, scale, offset, mean, var = inputs
    _check_dtype("x", x, _FLOAT)
    _check_dtype("scale", scale, (_dt.float32, _dt.float64))
    for nm, t in (("offset", offset), ("mean", mean), ("variance", var)):
        _check_same("FusedBatchNormV3", nm, t, "scale", scale)
    d = _dims(x)
    if d is not None and len(d) != 4:
        raise _rank_error("FusedBatchNormV3", attrs, inputs, 4, len(d))
    c = None if d is None else (d[1] if attrs["data_format"] == "NCHW" else d[3])
    params = (scale, offset) if attrs["is_training"] else (scale, offset, mean, var)
    for t in params:
        td = _dims(t)
        if td is not None:
            if len(td) != 1:
                raise _rank_error("FusedBatchNormV3", attrs, inputs, 1, len(td))
            if c is not None and td[0] is not None and td[0] != c:
                raise _err("FusedBatchNormV3", attrs, inputs,
                           "Dimensions must be equal, but are %d and %d" % (c, td[0]))
            if c is None:
                c = td[0]
    u = scale._dtype.base_dtype
    vec = _shape((c,))
    return [(x._dtype.base_dtype, x._shape), (u, vec), (u, vec), (u, vec), (u, vec),
            (u, _ts.TensorShape(None))]


def _fbn_kernel(op, ctx):
    a = op._attrs
    eps = float(a["epsilon"])
    training = bool(a["is_training"])
    nchw = a["data_format"] == "NCHW"
    factor = float(a.get("exponential_avg_factor", 1.0))
    xdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
    udt = _np_dtype(op._inputs[1]._dtype.base_dtype)
    empty = np.zeros((0,), dtype=udt)

    def fused_batch_norm_(x, scale, offset, mean, var):
        xc = np.moveaxis(x, 1, 3) if nchw else x
        c = xc.shape[3]
        if scale.shape != (c,) or offset.shape != (c,):
            raise errors.InvalidArgumentError(
                None, None, "scale and offset must have shape [%d] (the channel dimension), "
                "got %s and %s" % (c, list(scale.shape), list(offset.shape)))
        xf = xc.reshape(-1, c).astype(udt, copy=False)
        n = xf.shape[0]
        if training:
            m = xf.mean(axis=0)
            v = np.mean(np.square(xf - m), axis=0)
            # The batch_variance output is the unbiased (sample) variance, as in TF.
            out_var = v * (n / (n - 1.0)) if n > 1 else v
            if factor != 1.0 and mean.size:
                m_out = (1 - factor) * mean + factor * m
                out_var = (1 - factor) * var + factor * out_var
            else:
                m_out = m
        else:
            if mean.shape != (c,) or var.shape != (c,):
                raise errors.InvalidArgumentError(
                    None, None, "When is_training=false, mean and variance must have shape "
                    "[%d], got %s and %s" % (c, list(mean.shape), list(var.shape)))
            m, v = mean, var
            m_out, out_var = mean, var
        inv = scale / np.sqrt(v + eps)
        y = (xf * inv + (offset - m * inv)).astype(xdt, copy=False).reshape(xc.shape)
        if nchw:
            y = np.ascontiguousarray(np.moveaxis(y, 3, 1))
        return (y, np.asarray(m_out, udt), np.asarray(out_var, udt), np.asarray(m, udt),
                np.asarray(v, udt), empty)
    return fused_batch_norm_


register_op("FusedBatchNormV3", _fbn_infer, _fbn_kernel)


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None,
                     exponential_avg_factor=1.0):
    """Batch normalization of a 4-D tensor in one op (op type FusedBatchNormV3).

    Args:
      x: 4-D float Tensor (NHWC or NCHW).
      scale, offset: 1-D Tensors of the channel size.
      mean, variance: population statistics; required when `is_training` is False.
      epsilon: added to the variance.
      data_format: "NHWC" or "NCHW".
      is_training: normalise with the batch statistics (True) or `mean`/`variance`.
    Returns:
      (y, batch_mean, batch_variance). In training mode batch_variance is the unbiased
      (n / (n - 1)) variance, as TF returns it, while y is normalised with the biased one.
    """
    x = to_tensor(x, name="input")
    scale = to_tensor(scale, name="scale")
    offset = to_tensor(offset, dtype=scale._dtype.base_dtype, name="offset")
    if (not is_training or exponential_avg_factor != 1.0) and (mean is None or
                                                               variance is None):
        raise ValueError("Both `mean` and `variance` must be a 1D tensor when `is_training` "
                         "is False or `exponential_avg_factor` != 1.0. Received: `mean` %r "
                         "and `variance` %r" % (mean, variance))
    udt = scale._dtype.base_dtype
    if mean is None:
        mean = array_ops.constant([], dtype=udt)
    if variance is None:
        variance = array_ops.constant([], dtype=udt)
    mean = to_tensor(mean, dtype=udt, name="mean")
    variance = to_tensor(variance, dtype=udt, name="variance")
    # TF adds this floor so that cuDNN accepts epsilon; keep the same effective value.
    epsilon = max(1.001e-05, epsilon)
    outs = _apply("FusedBatchNormV3", [x, scale, offset, mean, variance],
                  {"T": x._dtype.base_dtype, "U": udt, "epsilon": float(epsilon),
                   "data_format": _data_format_attr(data_format, "fused_batch_norm"),
                   "is_training": bool(is_training),
                   "exponential_avg_factor": float(exponential_avg_factor)}, name)
    return outs[0], outs[1], outs[2]


# ---- cross-entropy losses ----------------------------------------------------------------------


def _xent_infer(inputs, attrs):
    logits, labels = inputs
    _check_dtype("features", logits, _FLOAT)
    _check_same("SoftmaxCrossEntropyWithLogits", "labels", labels, "features", logits)
    dl, db = _dims(logits), _dims(labels)
    for d in (dl, db):
        if d is not None and len(d) != 2:
            raise _rank_error("SoftmaxCrossEntropyWithLogits", attrs, inputs, 2, len(d))
    shape = logits._shape
    if dl is not None and db is not None:
        out = []
        for i in range(2):
            a, b = dl[i], db[i]
            if a is not None and b is not None and a != b:
                raise _err("SoftmaxCrossEntropyWithLogits", attrs, inputs,
                           "Dimensions must be equal, but are %d and %d" % (a, b))
            out.append(a if a is not None else b)
        shape = _shape(tuple(out))
    elif dl is None:
        shape = labels._shape if db is not None else _ts.TensorShape([None, None])
    dt = logits._dtype.base_dtype
    return [(dt, _shape((shape._dims[0],))), (dt, shape)]


def _stable_log_softmax(logits):
    z = logits - np.max(logits, axis=1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))


def _xent_kernel(op, ctx):
    npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
    work = npdt if npdt in (np.float32, np.float64) else np.float32
    cfn = _native("softmax_cross_entropy_with_logits") if work == npdt else None

    def softmax_cross_entropy_with_logits_(logits, labels):
        if cfn is not None and logits.ndim == 2 and logits.shape == labels.shape and \
                logits.dtype == npdt and labels.dtype == npdt and logits.shape[1]:
            return cfn(logits, labels)
        if logits.shape != labels.shape:
            raise errors.InvalidArgumentError(
                None, None, "logits and labels must be same size: logits_size=%s "
                "labels_size=%s" % (proto_list(logits.shape), proto_list(labels.shape)))
        lg = logits.astype(work, copy=False)
        lb = labels.astype(work, copy=False)
        log_sm = _stable_log_softmax(lg)
        loss = -np.sum(lb * log_sm, axis=1)
        backprop = np.exp(log_sm) - lb
        return loss.astype(npdt, copy=False), backprop.astype(npdt, copy=False)
    return softmax_cross_entropy_with_logits_


def proto_list(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


register_op("SoftmaxCrossEntropyWithLogits", _xent_infer, _xent_kernel)


def _sparse_xent_infer(inputs, attrs):
    logits, labels = inputs
    _check_dtype("features", logits, _FLOAT)
    _check_dtype("labels", labels, _INDEX)
    dl, db = _dims(logits), _dims(labels)
    if dl is not None and len(dl) != 2:
        raise _rank_error("SparseSoftmaxCrossEntropyWithLogits", attrs, inputs, 2, len(dl))
    if db is not None and len(db) != 1:
        raise _rank_error("SparseSoftmaxCrossEntropyWithLogits", attrs, inputs, 1, len(db))
    batch = dl[0] if dl is not None else None
    if db is not None:
        if batch is not None and db[0] is not None and batch != db[0]:
            raise _err("SparseSoftmaxCrossEntropyWithLogits", attrs, inputs,
                       "Dimensions must be equal, but are %d and %d" % (batch, db[0]))
        batch = batch if batch is not None else db[0]
    classes = dl[1] if dl is not None else None
    dt = logits._dtype.base_dtype
    return [(dt, _shape((batch,))), (dt, _shape((batch, classes)))]


def _sparse_xent_kernel(op, ctx):
    npdt = _np_dtype(op._inputs[0]._dtype.base_dtype)
    work = npdt if npdt in (np.float32, np.float64) else np.float32

    cfn = _native("sparse_softmax_cross_entropy_with_logits") if work == npdt else None

    def sparse_softmax_cross_entropy_with_logits_(logits, labels):
        if cfn is not None and logits.ndim == 2 and logits.dtype == npdt and \
                logits.shape[1] and labels.ndim == 1 and labels.shape[0] == logits.shape[0] \
                and labels.dtype in _NATIVE_INDEX:
            return cfn(logits, labels)
        n, c = logits.shape
        if labels.shape != (n,):
            raise errors.InvalidArgumentError(
                None, None, "logits and labels must have the same first dimension, got "
                "logits shape %s and labels shape %s" % (proto_list(logits.shape),
                                                         proto_list(labels.shape)))
        bad = (labels < 0) | (labels >= c)
        if bad.any():
            v = int(labels[np.argmax(bad)])
            raise errors.InvalidArgumentError(
                None, None, "Received a label value of %d which is outside the valid range "
                "of [0, %d).  Label values: %s" % (v, c, " ".join(str(int(i))
                                                                 for i in labels.ravel())))
        log_sm = _stable_log_softmax(logits.astype(work, copy=False))
        rows = np.arange(n)
        loss = -log_sm[rows, labels]
        backprop = np.exp(log_sm)
        backprop[rows, labels] -= 1
        return loss.astype(npdt, copy=False), backprop.astype(npdt, copy=False)
    return sparse_softmax_cross_entropy_with_logits_


register_op("SparseSoftmaxCrossEntropyWithLogits", _sparse_xent_infer, _sparse_xent_kernel)


def _move_dim_to_end(t, axis, rank):
    perm = [i for i in range(rank) if i != axis] + [axis]
    return array_ops.transpose(t, perm)


def _flatten_outer_dims(t):
    """Reshape `t` to 2-D [prod(outer dims), last dim], keeping static dims."""
    d = _dims(t)
    if d is not None and len(d) == 2:
        return array_ops.reshape(t, [-1 if d[0] is None else d[0], -1 if d[1] is None
                                     else d[1]]) if None in d else array_ops.reshape(t, list(d))
    if d is not None and d[-1] is not None:
        return array_ops.reshape(t, [-1, d[-1]])
    last = array_ops.strided_slice(array_ops.shape(t), [-1], [0], end_mask=1)
    return array_ops.reshape(t, array_ops.concat([[-1], last], 0))


def _ensure_named(fn_name, sentinel):
    if sentinel is not None:
        raise ValueError("Only call `%s` with named arguments (labels=..., logits=..., ...)"
                         % fn_name)


def softmax_cross_entropy_with_logits_v2(_sentinel=None, labels=None, logits=None, axis=None,
                                         name=None, dim=None):
    """Softmax cross-entropy between `labels` (a distribution per row) and `logits`.

    Gradients flow into both `logits` and `labels`. The op (type SoftmaxCrossEntropyWithLogits)
    is fused: it computes the loss stably and softmax - labels for the gradient.

    Args:
      labels: probabilities, same shape as `logits`.
      logits: unscaled log probabilities.
      axis: the class dimension (default -1); `dim` is its deprecated alias.
      name: optional name (default "softmax_cross_entropy_with_logits").
    Returns:
      A Tensor with the shape of `logits` minus the class dimension.
    """
    _ensure_named("softmax_cross_entropy_with_logits_v2", _sentinel)
    if axis is None:
        axis = -1 if dim is None else dim
    elif dim is not None and dim != axis:
        raise ValueError("Cannot specify both 'axis' and 'dim'.")
    with _ops.name_scope(name, "softmax_cross_entropy_with_logits",
                         [logits, labels]) as name:
        logits = to_tensor(logits, name="logits")
        labels = to_tensor(labels, dtype=logits._dtype.base_dtype, name="labels")
        dt = logits._dtype.base_dtype
        if dt == _dt.float16 or dt == _dt.bfloat16:
            precise_logits = math_ops.cast(logits, _dt.float32)
            labels = math_ops.cast(labels, _dt.float32)
        else:
            precise_logits = logits
        d = _dims(logits)
        if d is None:
            raise ValueError("softmax_cross_entropy_with_logits needs logits of known rank.")
        rank = len(d)
        if rank == 0:
            raise ValueError("logits must have rank >= 1, got a scalar.")
        axis = int(axis)
        if not -rank <= axis < rank:
            raise ValueError("axis %d is out of range for logits of rank %d" % (axis, rank))
        axis %= rank
        ld = _dims(labels)
        if ld is not None and len(ld) != rank:
            raise ValueError("labels and logits must have the same rank, got shapes %s and %s"
                             % (labels._shape, logits._shape))
        if axis != rank - 1:
            precise_logits = _move_dim_to_end(precise_logits, axis, rank)
            labels = _move_dim_to_end(labels, axis, rank)
        out_dims = tuple(x for i, x in enumerate(d) if i != axis)
        if rank != 2:
            flat_logits = _flatten_outer_dims(precise_logits)
            flat_labels = _flatten_outer_dims(labels)
        else:
            flat_logits, flat_labels = precise_logits, labels
        cost, _ = _apply("SoftmaxCrossEntropyWithLogits", [flat_logits, flat_labels],
                         {"T": flat_logits._dtype.base_dtype}, name)
        if rank != 2:
            if None not in out_dims:
                cost = array_ops.reshape(cost, list(out_dims))
            else:
                shp = array_ops.shape(precise_logits)
                outer = array_ops.strided_slice(shp, [0], [-1])
                cost = array_ops.reshape(cost, outer)
                cost.set_shape(out_dims)
        if dt == _dt.float16 or dt == _dt.bfloat16:
            cost = math_ops.cast(cost, dt)
        return cost


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1,
                                      name=None, axis=None):
    """TF1's softmax cross-entropy: like the v2 function but no gradient flows into `labels`
    (they pass through stop_gradient)."""
    _ensure_named("softmax_cross_entropy_with_logits", _sentinel)
    if axis is not None:
        dim = axis
    with _ops.name_scope(name, "softmax_cross_entropy_with_logits_sg",
                         [logits, labels]) as name:
        labels = array_ops.stop_gradient(labels, name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=dim,
                                                name=name)


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name=None):
    """Softmax cross-entropy with integer class `labels` (op type
    SparseSoftmaxCrossEntropyWithLogits).

    Args:
      labels: int32/int64 Tensor of shape `logits.shape[:-1]` with values in [0, classes).
      logits: float Tensor [..., classes].
      name: optional name (default "SparseSoftmaxCrossEntropyWithLogits").
    Returns:
      The per-example loss, shape of `labels`, dtype of `logits`.
    Raises:
      ValueError: if the ranks do not match; InvalidArgumentError at run time for labels
        outside [0, classes).
    """
    _ensure_named("sparse_softmax_cross_entropy_with_logits", _sentinel)
    with _ops.name_scope(name, "SparseSoftmaxCrossEntropyWithLogits", [labels, logits]):
        labels = to_tensor(labels)
        logits = to_tensor(logits)
        dt = logits._dtype.base_dtype
        precise = math_ops.cast(logits, _dt.float32) if dt in (_dt.float16, _dt.bfloat16) \
            else logits
        ld, gd = _dims(labels), _dims(logits)
        if ld is not None and gd is not None and len(ld) != len(gd) - 1:
            raise ValueError("`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: "
                             "labels.shape=%s of rank %d and logits.shape=%s of rank %d"
                             % (_shape_repr(labels._shape), len(ld),
                                _shape_repr(logits._shape), len(gd)))
        if ld is not None and gd is not None:
            for i, (a, b) in enumerate(zip(ld, gd[:-1])):
                if a is not None and b is not None and a != b:
                    raise ValueError("Shape mismatch: The shape of labels (received %s) should "
                                     "equal the shape of logits except for the last dimension "
                                     "(received %s)." % (_shape_repr(labels._shape),
                                                         _shape_repr(logits._shape)))
        _check_dtype("labels", labels, _INDEX)
        if gd is not None and len(gd) == 2:
            cost, _ = _apply("SparseSoftmaxCrossEntropyWithLogits", [precise, labels],
                             {"T": precise._dtype.base_dtype,
                              "Tlabels": labels._dtype.base_dtype})
        else:
            flat_labels = array_ops.reshape(labels, [-1])
            flat_logits = _flatten_outer_dims(precise)
            cost, _ = _apply("SparseSoftmaxCrossEntropyWithLogits", [flat_logits, flat_labels],
                             {"T": precise._dtype.base_dtype,
                              "Tlabels": labels._dtype.base_dtype})
            if ld is not None and None not in ld:
                cost = array_ops.reshape(cost, list(ld))
            else:
                cost = array_ops.reshape(cost, array_ops.shape(labels))
                if ld is not None:
                    cost.set_shape(ld)
        if dt in (_dt.float16, _dt.bfloat16):
            cost = math_ops.cast(cost, dt)
        return cost


def _shape_repr(shape):
    d = shape._dims
    if d is None:
        return "<unknown>"
    return "(" + ", ".join("?" if x is None else str(x) for x in d) + ("," if len(d) == 1
                                                                       else "") + ")"


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """Elementwise logistic loss, computed stably as
    max(x, 0) - x * z + log(1 + exp(-|x|)) (named "logistic_loss").

    Args:
      labels: Tensor of the same dtype and shape as `logits`, values in [0, 1].
      logits: float Tensor.
    Raises:
      ValueError: if the shapes differ.
    """
    _ensure_named("sigmoid_cross_entropy_with_logits", _sentinel)
    with _ops.name_scope(name, "logistic_loss", [logits, labels]) as name:
        logits = to_tensor(logits, name="logits")
        labels = to_tensor(labels, dtype=logits._dtype.base_dtype, name="labels")
        if not logits._shape.is_compatible_with(labels._shape):
            raise ValueError("`logits` and `labels` must have the same shape, received (%s vs "
                             "%s)." % (_shape_repr(logits._shape), _shape_repr(labels._shape)))
        zeros = array_ops.zeros_like(logits, dtype=logits._dtype.base_dtype)
        cond = math_ops.greater_equal(logits, zeros)
        relu_logits = math_ops.where(cond, logits, zeros)
        neg_abs_logits = math_ops.where(cond, math_ops.negative(logits), logits)
        return math_ops.add(math_ops.subtract(relu_logits, math_ops.multiply(logits, labels)),
                            math_ops.log1p(math_ops.exp(neg_abs_logits)), name=name)


def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None, name=None,
                                       targets=None):
    """Logistic loss with positive examples weighted by `pos_weight`:
    (1 - z) * x + (1 + (q - 1) * z) * (log(1 + exp(-|x|)) + max(-x, 0))
    (named "logistic_loss"). `targets` is the TF1 alias of `labels`."""
    if labels is None:
        labels = targets
    elif targets is not None:
        raise ValueError("Cannot specify both 'labels' and 'targets'.")
    if labels is None or logits is None or pos_weight is None:
        raise ValueError("weighted_cross_entropy_with_logits needs labels, logits and "
                         "pos_weight.")
    with _ops.name_scope(name, "logistic_loss", [logits, labels]) as name:
        logits = to_tensor(logits, name="logits")
        dt = logits._dtype.base_dtype
        labels = to_tensor(labels, dtype=dt, name="labels")
        if not logits._shape.is_compatible_with(labels._shape):
            raise ValueError("`logits` and `labels` must have the same shape, received (%s vs "
                             "%s)." % (_shape_repr(logits._shape), _shape_repr(labels._shape)))
        q = to_tensor(pos_weight, dtype=dt)
        one = to_tensor(1, dtype=dt)
        log_weight = math_ops.add(one, math_ops.multiply(math_ops.subtract(q, one), labels))
        soft = math_ops.add(math_ops.log1p(math_ops.exp(math_ops.negative(
            math_ops.abs(logits)))), math_ops.maximum(math_ops.negative(logits),
                                                      array_ops.zeros_like(logits)))
        return math_ops.add(math_ops.multiply(math_ops.subtract(one, labels), logits),
                            math_ops.multiply(log_weight, soft), name=name)


# ---- dropout -------------------------------------------------------------------------------------


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Keep each element with probability 1 - rate (= keep_prob), scaled by 1 / keep_prob;
    zero the others (named "dropout/...", result "dropout/mul_1").

    Args:
      x: a float Tensor.
      keep_prob: probability to keep an element (a float or a scalar Tensor, e.g. a
        placeholder). Deprecated in TF1 in favour of `rate`.
      noise_shape: shape of the keep/drop mask, broadcast against `x` (e.g. [batch, 1] keeps
        or drops whole rows).
      seed: op-level random seed (see `set_random_seed`).
      rate: probability to drop an element; exclusive with `keep_prob`.
    Raises:
      ValueError: for both or neither of keep_prob/rate, a Python value outside [0, 1), or a
        non-float `x`.
    """
    if keep_prob is not None and rate is not None:
        raise ValueError("Cannot specify both 'keep_prob' and 'rate'.")
    if keep_prob is not None:
        if isinstance(keep_prob, numbers.Real):
            rate = 1 - keep_prob
        else:
            try:
                rate = 1 - keep_prob
            except TypeError:
                raise ValueError("keep_prob must be a floating point number or Tensor (got %r)"
                                 % (keep_prob,)) from None
    if rate is None:
        raise ValueError("`rate` must be provided. Received: rate=None")
    with _ops.name_scope(name, "dropout", [x]) as name:
        x = to_tensor(x, name="x")
        dt = x._dtype.base_dtype
        if not dt.is_floating:
            raise ValueError("`x.dtype` must be a floating point tensor as `x` will be scaled. "
                             "Received: x_dtype=%r" % dt)
        if isinstance(rate, numbers.Real) and not 0 <= rate < 1:
            raise ValueError("`rate` must be a scalar tensor or a float in the range [0, 1). "
                             "Received: rate=%r" % (rate,))
        rate_t = to_tensor(rate, dtype=dt, name="rate")
        if not rate_t._shape.is_compatible_with(_ts.TensorShape(())):
            raise ValueError("`rate` must be a scalar tensor, got shape %s" % rate_t._shape)
        if noise_shape is None:
            noise = array_ops.shape(x)
        elif isinstance(noise_shape, (list, tuple)) and x._shape._dims is not None and \
                len(noise_shape) == len(x._shape._dims):
            # None in noise_shape means "the dimension of x", as in TF.
            if any(d is None for d in noise_shape):
                xs = array_ops.shape(x)
                noise = array_ops.stack([xs[i] if d is None else d
                                         for i, d in enumerate(noise_shape)])
            else:
                noise = noise_shape
        else:
            noise = noise_shape
        from headwater.ops import random_ops

        one = to_tensor(1, dtype=dt)
        keep = math_ops.subtract(one, rate_t, name="sub")
        scale = math_ops.truediv(one, keep)
        random_tensor = random_ops.random_uniform(noise, seed=seed, dtype=dt)
        keep_mask = math_ops.greater_equal(random_tensor, rate_t)
        ret = math_ops.multiply(math_ops.multiply(x, scale, name="mul"),
                                math_ops.cast(keep_mask, dt), name="mul_1")
        ret.set_shape(x._shape)
        return ret


# ---- embedding lookup --------------------------------------------------------------------------


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    """Rows of `params` for each id in `ids` (a gather; result "embedding_lookup/Identity").

    Args:
      params: a Tensor/Variable, or a list of them partitioned along dimension 0 with
        `partition_strategy` "mod" (id i lives in part i % n) or "div" (contiguous).
      ids: int32/int64 Tensor of ids.
      max_norm: if set, rows whose L2 norm exceeds it are scaled down to it.
    Returns:
      A Tensor of shape ids.shape + params.shape[1:].
    """
    if params is None or (isinstance(params, (list, tuple)) and not params):
        raise ValueError("Length of params is currently 0. Need at least one param.")
    plist = list(params) if isinstance(params, (list, tuple)) else [params]
    if partition_strategy not in ("mod", "div"):
        raise ValueError("Unrecognized partition strategy: " + str(partition_strategy))
    with _ops.name_scope(name, "embedding_lookup", plist + [ids]) as name:
        ids = to_tensor(ids, name="ids")
        if len(plist) == 1:
            result = array_ops.gather(plist[0], ids, name=name)
        else:
            parts = [to_tensor(p) for p in plist]
            sizes = [_dims(p)[0] if _dims(p) is not None else None for p in parts]
            if None in sizes:
                raise ValueError("embedding_lookup with several params needs static first "
                                 "dimensions, got %s" % [p.shape for p in parts])
            full = array_ops.concat(parts, 0)
            if partition_strategy == "div":
                idx = ids
            else:
                n = len(parts)
                offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(
                    _np_dtype(ids._dtype.base_dtype))
                part = math_ops.floormod(ids, n)
                row = math_ops.floor_div(ids, n)
                idx = math_ops.add(array_ops.gather(
                    array_ops.constant(offsets, dtype=ids._dtype.base_dtype), part), row)
            result = array_ops.gather(full, idx, name=name)
        if max_norm is not None:
            rd, idd = _dims(result), _dims(ids)
            if rd is None or idd is None:
                raise ValueError("max_norm needs params and ids of known rank.")
            axes = list(range(len(idd), len(rd)))
            result = math_ops.clip_by_norm(result, max_norm, axes=axes)
        return array_ops.identity(result)


# ---- top k ---------------------------------------------------------------------------------


def _top_k_infer(inputs, attrs):
    x, k = inputs
    _check_dtype("input", x, _REAL)
    if k._dtype.base_dtype != _dt.int32:
        raise TypeError("Input 'k' of 'TopKV2' Op has type %s that does not match expected "
                        "type of int32." % k._dtype.name)
    kd = _dims(k)
    if kd is not None and len(kd) != 0:
        raise _rank_error("TopKV2", attrs, inputs, 0, len(kd))
    kv = array_ops._const_scalar(k)
    d = _dims(x)
    if kv is not None and kv < 0:
        raise _err("TopKV2", attrs, inputs, "Dimension size, given by scalar input 1, must be "
                   "non-negative but is %d" % kv)
    if d is None:
        return [(x._dtype.base_dtype, _ts.TensorShape(None)), (_dt.int32,
                                                               _ts.TensorShape(None))]
    if len(d) < 1:
        raise _rank_error("TopKV2", attrs, inputs, 1, 0, at_least=True)
    if kv is not None and d[-1] is not None and d[-1] < kv:
        raise _err("TopKV2", attrs, inputs, "input must have last dimension >= k = %d but is "
                   "%d" % (kv, d[-1]))
    out = _shape(d[:-1] + (kv,))
    return [(x._dtype.base_dtype, out), (_dt.int32, out)]


def _top_k_kernel(op, ctx):
    def top_k_(x, k):
        k = int(k)
        n = x.shape[-1]
        if n < k:
            raise errors.InvalidArgumentError(None, None, "input must have at least k columns. "
                                              "Had %d, needed %d" % (n, k))
        # Stable descending order (ties: lower index first): sort the reversed row
        # ascending, stably, and read it backwards.
        order = np.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1][..., :k]
        idx = (n - 1) - order
        vals = np.take_along_axis(x, idx, axis=-1)
        return vals, idx.astype(np.int32)
    return top_k_


register_op("TopKV2", _top_k_infer, _top_k_kernel)


def top_k(input, k=1, sorted=True, name=None):
    """The `k` largest entries of the last dimension and their indices (op type TopKV2).

    Ties keep the lower index first. Returns (values, indices) with shape
    input.shape[:-1] + [k]; indices are int32.
    """
    input = to_tensor(input, name="input")
    k = to_tensor(k, dtype=_dt.int32, name="k")
    vals, idx = _apply("TopKV2", [input, k], {"T": input._dtype.base_dtype,
                                             "sorted": bool(sorted)}, name)
    return _TopKResult(vals, idx)


# (values, indices) with attribute access, like TF's namedtuple.
_TopKResult = collections.namedtuple("TopKV2", ["values", "indices"])


def _in_top_k_infer(inputs, attrs):
    p, t, k = inputs
    if p._dtype.base_dtype != _dt.float32:
        raise TypeError("Input 'predictions' of 'InTopKV2' Op has type %s that does not match "
                        "expected type of float32." % p._dtype.name)
    _check_dtype("targets", t, _INDEX)
    _check_same("InTopKV2", "k", k, "targets", t)
    pd, td = _dims(p), _dims(t)
    if pd is not None and len(pd) != 2:
        raise _rank_error("InTopKV2", attrs, inputs, 2, len(pd))
    if td is not None and len(td) != 1:
        raise _rank_error("InTopKV2", attrs, inputs, 1, len(td))
    batch = pd[0] if pd is not None else None
    if td is not None:
        if batch is not None and td[0] is not None and td[0] != batch:
            raise _err("InTopKV2", attrs, inputs, "Dimensions must be equal, but are %d and %d"
                       % (batch, td[0]))
        batch = batch if batch is not None else td[0]
    return [(_dt.bool, _shape((batch,)))]


def _in_top_k_kernel(op, ctx):
    def in_top_k_(pred, targets, k):
        n, c = pred.shape
        if targets.shape != (n,):
            raise errors.InvalidArgumentError(None, None, "targets must have shape [%d], got %s"
                                              % (n, list(targets.shape)))
        valid = (targets >= 0) & (targets < c)
        t = np.where(valid, targets, 0)
        p = pred[np.arange(n), t]
        # In the top k iff fewer than k predictions are strictly larger (ties count in).
        larger = np.sum(pred > p[:, None], axis=1)
        return valid & np.isfinite(p) & (larger < int(k))
    return in_top_k_


register_op("InTopKV2", _in_top_k_infer, _in_top_k_kernel)


def in_top_k(predictions, targets, k, name=None):
    """Whether each target is among the top `k` predictions of its row (op type InTopKV2).

    A target tied with the k-th largest prediction counts as in the top k (fewer than k
    values are strictly larger). Non-finite predictions and out-of-range targets give False.
    """
    with _ops.name_scope(name, "in_top_k"):
        predictions = to_tensor(predictions, name="predictions")
        targets = to_tensor(targets, preferred_dtype=_dt.int32, name="targets")
        k = to_tensor(k, dtype=targets._dtype.base_dtype, name="k")
        return _apply("InTopKV2", [predictions, targets, k], {"T": targets._dtype.base_dtype})


def zero_fraction(value, name=None):
    """The fraction of zeros in `value`, as a float32 scalar (named "zero_fraction")."""
    with _ops.name_scope(name, "zero_fraction", [value]):
        value = to_tensor(value, name="value")
        zero = to_tensor(0, dtype=value._dtype.base_dtype)
        frac = math_ops.reduce_mean(math_ops.cast(math_ops.equal(value, zero), _dt.float32))
        return array_ops.identity(frac, name="fraction")


# ---- convolution and pooling: shapes -----------------------------------------------------------


def _conv_out(in_size, k, stride, dilation, padding, explicit=None):
    """(out, pad_before, pad_after) along one spatial dimension, TF's arithmetic."""
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        out = -(-in_size // stride)
        total = max((out - 1) * stride + eff - in_size, 0)
        return out, total // 2, total - total // 2
    if padding == "VALID":
        return (in_size - eff) // stride + 1 if in_size >= eff else -1, 0, 0
    before, after = explicit
    span = in_size + before + after
    return (span - eff) // stride + 1 if span >= eff else -1, before, after


def _static_out(in_size, k, stride, dilation, padding, explicit, op_type, attrs, inputs):
    if in_size is None or k is None:
        return None
    out = _conv_out(in_size, k, stride, dilation, padding, explicit)[0]
    if out < 0:
        eff = (k - 1) * dilation + 1
        raise _err(op_type, attrs, inputs, "Negative dimension size caused by subtracting %d "
                   "from %d" % (eff, in_size + (sum(explicit) if explicit else 0)))
    return out


def _spatial_list(v, what, nchw):
    """`strides`/`ksize`/`dilations` argument (int, [h, w] or a 4-list) -> 4-list in the data
    format's order."""
    if isinstance(v, _Tensor):
        c = array_ops.constant_value(v)
        if c is None:
            raise ValueError("%s must be known at graph-construction time." % what)
        v = c.tolist()
    if isinstance(v, (int, np.integer)):
        v = [int(v)]
    v = [int(i) for i in v]
    if len(v) == 1:
        v = v * 2
    if len(v) == 2:
        return [1, 1] + v if nchw else [1] + v + [1]
    if len(v) == 4:
        return v
    raise ValueError("%s should be of length 1, 2 or 4. Received: %s=%s of length %d"
                     % (what, what, v, len(v)))


def _hw(v, nchw):
    return (v[2], v[3]) if nchw else (v[1], v[2])


def _check_nc_is_one(v, nchw, what):
    n, c = (v[0], v[1]) if nchw else (v[0], v[3])
    if n != 1 or c != 1:
        raise ValueError("Current implementation does not yet support %s in the batch and "
                         "depth dimensions." % what)


def _padding_attr(padding, nchw, op):
    """-> (padding string, explicit_paddings 8-list)."""
    if isinstance(padding, str):
        p = padding.upper()
        if p not in ("SAME", "VALID"):
            raise ValueError("Attr 'padding' of '%s' Op passed string '%s' not in: \"SAME\", "
                             "\"VALID\", \"EXPLICIT\"." % (op, padding))
        return p, []
    if isinstance(padding, (list, tuple)):
        pads = [list(p) for p in padding]
        if len(pads) != 4 or any(len(p) != 2 for p in pads):
            raise ValueError("When padding is a list it must have 4 [before, after] pairs, got "
                             "%r" % (padding,))
        nc = (pads[0], pads[1]) if nchw else (pads[0], pads[3])
        if any(nc[0]) or any(nc[1]):
            raise ValueError("Explicit padding of the batch and channel dimensions must be 0, "
                             "got %r" % (padding,))
        return "EXPLICIT", [int(i) for p in pads for i in p]
    raise ValueError("padding must be 'SAME', 'VALID' or a list of pairs, got %r" % (padding,))


class _Geom:
    """Spatial geometry of a conv/pool op, read once from its attributes."""

    __slots__ = ("dh", "dw", "exp_h", "exp_w", "kh", "kw", "nchw", "padding", "sh", "sw")

    def __init__(self, attrs, kh=None, kw=None):
        self.nchw = attrs.get("data_format", "NHWC") == "NCHW"
        self.sh, self.sw = _hw(attrs["strides"], self.nchw)
        self.dh, self.dw = _hw(attrs.get("dilations", [1, 1, 1, 1]), self.nchw)
        if "ksize" in attrs:
            kh, kw = _hw(attrs["ksize"], self.nchw)
        self.kh, self.kw = kh, kw
        self.padding = attrs["padding"]
        ep = attrs.get("explicit_paddings") or []
        if self.padding == "EXPLICIT":
            pairs = [ep[0:2], ep[2:4], ep[4:6], ep[6:8]]
            ph, pw = (pairs[2], pairs[3]) if self.nchw else (pairs[1], pairs[2])
            self.exp_h, self.exp_w = tuple(ph), tuple(pw)
        else:
            self.exp_h = self.exp_w = None

    def out_pads(self, h, w, kh=None, kw=None):
        kh = self.kh if kh is None else kh
        kw = self.kw if kw is None else kw
        oh, pt, pb = _conv_out(h, kh, self.sh, self.dh, self.padding, self.exp_h)
        ow, pl, pr = _conv_out(w, kw, self.sw, self.dw, self.padding, self.exp_w)
        return oh, ow, (pt, pb, pl, pr)


def _nhwc(dims, nchw):
    """(n, h, w, c) from a 4-tuple of dims in the data format."""
    if nchw:
        return dims[0], dims[2], dims[3], dims[1]
    return tuple(dims)


def _from_nhwc(n, h, w, c, nchw):
    return (n, c, h, w) if nchw else (n, h, w, c)


# ---- convolution and pooling: numpy kernels (NHWC) ---------------------------------------------


def _pad_hw(x, pads, value=0):
    pt, pb, pl, pr = pads
    if not (pt or pb or pl or pr):
        return x
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=value)


def _windows(xp, kh, kw, sh, sw, dh, dw, oh, ow):
    """Strided view (N, OH, OW, KH, KW, C) of the windows of padded NHWC `xp` (no copy)."""
    n, _, _, c = xp.shape
    s0, s1, s2, s3 = xp.strides
    return as_strided(xp, (n, oh, ow, kh, kw, c), (s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3),
                      writeable=False)


def _chunk(per_item):
    return max(1, _CHUNK_ELEMENTS // max(1, per_item))


def _conv_fwd(x, w, g, mm):
    n, h, wd, c = x.shape
    kh, kw, ci, co = w.shape
    if ci != c:
        raise errors.InvalidArgumentError(None, None, "input depth must be evenly divisible "
                                          "by filter depth: %d vs %d" % (c, ci))
    oh, ow, pads = g.out_pads(h, wd, kh, kw)
    if oh <= 0 or ow <= 0:
        raise errors.InvalidArgumentError(None, None, "Computed output size would be negative:"
                                          " input %dx%d, filter %dx%d" % (h, wd, kh, kw))
    wm = w.reshape(kh * kw * c, co)
    if kh == 1 and kw == 1 and g.sh == 1 and g.sw == 1 and not any(pads):
        return mm(x.reshape(-1, c), wm).reshape(n, oh, ow, co)
    xp = _pad_hw(x, pads)
    cols = _windows(xp, kh, kw, g.sh, g.sw, g.dh, g.dw, oh, ow)
    out = np.empty((n, oh, ow, co), dtype=np.result_type(x.dtype, w.dtype))
    step = _chunk(oh * ow * kh * kw * c)
    k = kh * kw * c
    for i in range(0, n, step):
        part = cols[i:i + step].reshape(-1, k)
        out[i:i + step] = mm(part, wm).reshape(-1, oh, ow, co)
    return out


def _scatter_windows(dxp, dcols, kh, kw, sh, sw, dh, dw, oh, ow):
    """dxp[window positions] += dcols (N, OH, OW, KH, KW, C): the adjoint of `_windows`."""
    for i in range(kh):
        r0 = i * dh
        for j in range(kw):
            c0 = j * dw
            dxp[:, r0:r0 + (oh - 1) * sh + 1:sh, c0:c0 + (ow - 1) * sw + 1:sw, :] += \
                dcols[:, :, :, i, j, :]


def _conv_bwd_input(in_shape, w, dy, g, mm):
    n, h, wd, c = in_shape
    kh, kw, ci, co = w.shape
    oh, ow, pads = g.out_pads(h, wd, kh, kw)
    if dy.shape != (n, oh, ow, co):
        raise errors.InvalidArgumentError(
            None, None, "Conv2DBackpropInput: out_backprop has shape %s but the convolution of "
            "input %s with filter %s gives %s" % (list(dy.shape), list(in_shape),
                                                   list(w.shape), [n, oh, ow, co]))
    if ci != c:
        raise errors.InvalidArgumentError(None, None, "input depth must be evenly divisible "
                                          "by filter depth: %d vs %d" % (c, ci))
    pt, pb, pl, pr = pads
    dt = np.result_type(w.dtype, dy.dtype)
    wmt = w.reshape(kh * kw * c, co).T
    if kh == 1 and kw == 1 and g.sh == 1 and g.sw == 1 and not any(pads):
        return mm(dy.reshape(-1, co), wmt).reshape(n, h, wd, c)
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, c), dtype=dt)
    step = _chunk(oh * ow * kh * kw * c)
    for i in range(0, n, step):
        d = dy[i:i + step]
        dcols = mm(d.reshape(-1, co), wmt).reshape(d.shape[0], oh, ow, kh, kw, c)
        _scatter_windows(dxp[i:i + step], dcols, kh, kw, g.sh, g.sw, g.dh, g.dw, oh, ow)
    return dxp[:, pt:pt + h, pl:pl + wd, :]


def _conv_bwd_filter(x, f_shape, dy, g, mm):
    n, h, wd, c = x.shape
    kh, kw, ci, co = f_shape
    oh, ow, pads = g.out_pads(h, wd, kh, kw)
    if dy.shape != (n, oh, ow, co) or ci != c:
        raise errors.InvalidArgumentError(
            None, None, "Conv2DBackpropFilter: out_backprop has shape %s but the convolution "
            "of input %s with a filter of shape %s gives %s" % (
                list(dy.shape), list(x.shape), list(f_shape), [n, oh, ow, co]))
    xp = _pad_hw(x, pads)
    cols = _windows(xp, kh, kw, g.sh, g.sw, g.dh, g.dw, oh, ow)
    k = kh * kw * c
    dw = np.zeros((k, co), dtype=np.result_type(x.dtype, dy.dtype))
    step = _chunk(oh * ow * k)
    for i in range(0, n, step):
        part = cols[i:i + step].reshape(-1, k)
        dw += mm(part.T, dy[i:i + step].reshape(-1, co))
    return dw.reshape(kh, kw, ci, co)


def _dw_fwd(x, w, g):
    n, h, wd, c = x.shape
    kh, kw, ci, m = w.shape
    if ci != c:
        raise errors.InvalidArgumentError(None, None, "input depth must be equal to filter "
                                          "depth: %d vs %d" % (c, ci))
    oh, ow, pads = g.out_pads(h, wd, kh, kw)
    cols = _windows(_pad_hw(x, pads), kh, kw, g.sh, g.sw, g.dh, g.dw, oh, ow)
    out = np.einsum("nhwijc,ijcm->nhwcm", cols, w, optimize=True)
    return out.reshape(n, oh, ow, c * m)


def _dw_bwd_input(in_shape, w, dy, g):
    n, h, wd, c = in_shape
    kh, kw, ci, m = w.shape
    oh, ow, pads = g.out_pads(h, wd, kh, kw)
    if dy.shape != (n, oh, ow, c * m) or ci != c:
        raise errors.InvalidArgumentError(
            None, None, "DepthwiseConv2dNativeBackpropInput: out_backprop has shape %s, "
            "expected %s" % (list(dy.shape), [n, oh, ow, c * m]))
    pt, pb, pl, pr = pads
    d = dy.reshape(n, oh, ow, c, m)
    dcols = np.einsum("nhwcm,ijcm->nhwijc", d, w, optimize=True)
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, c), dtype=np.result_type(w.dtype, dy.dtype))
    _scatter_windows(dxp, dcols, kh, kw, g.sh, g.sw, g.dh, g.dw, oh, ow)
    return dxp[:, pt:pt + h, pl:pl + wd, :]


def _dw_bwd_filter(x, f_shape, dy, g):
    n, h, wd, c = x.shape
    kh, kw, ci, m = f_shape
    oh, ow, pads = g.out_pads(h, wd, kh, kw)
    if dy.shape != (n, oh, ow, c * m) or ci != c:
        raise errors.InvalidArgumentError(
            None, None, "DepthwiseConv2dNativeBackpropFilter: out_backprop has shape %s, "
            "expected %s" % (list(dy.shape), [n, oh, ow, c * m]))
    cols = _windows(_pad_hw(x, pads), kh, kw, g.sh, g.sw, g.dh, g.dw, oh, ow)
    d = dy.reshape(n, oh, ow, c, m)
    return np.einsum("nhwijc,nhwcm->ijcm", cols, d, optimize=True)


def _lowest(dtype):
    if dtype.kind == "f":
        return -np.inf
    return np.iinfo(dtype).min


def _pool_check(x, g):
    h, w = x.shape[1], x.shape[2]
    oh, ow, pads = g.out_pads(h, w)
    if oh <= 0 or ow <= 0:
        raise errors.InvalidArgumentError(None, None, "Computed output size would be negative: "
                                          "input %dx%d, window %dx%d" % (h, w, g.kh, g.kw))
    return oh, ow, pads


def _max_pool_fwd(x, g):
    n, h, w, c = x.shape
    oh, ow, pads = _pool_check(x, g)
    kh, kw, sh, sw = g.kh, g.kw, g.sh, g.sw
    if not any(pads) and sh == kh and sw == kw and h == oh * kh and w == ow * kw:
        # Non-overlapping tiles: a reshape instead of windows.
        return x.reshape(n, oh, kh, ow, kw, c).max(axis=(2, 4))
    xp = _pad_hw(x, pads, _lowest(x.dtype))
    return _windows(xp, kh, kw, sh, sw, 1, 1, oh, ow).max(axis=(3, 4))


def _max_pool_argmax(x, g):
    """Flat indices into the padded input of each window's first maximum (row-major within
    the window), plus the padded shape."""
    n, c = x.shape[0], x.shape[3]
    oh, ow, pads = _pool_check(x, g)
    kh, kw, sh, sw = g.kh, g.kw, g.sh, g.sw
    xp = _pad_hw(x, pads, _lowest(x.dtype))
    hp, wp = xp.shape[1], xp.shape[2]
    win = _windows(xp, kh, kw, sh, sw, 1, 1, oh, ow).reshape(n, oh, ow, kh * kw, c)
    am = win.argmax(axis=3)
    rows = np.arange(oh).reshape(1, oh, 1, 1) * sh + am // kw
    cols = np.arange(ow).reshape(1, 1, ow, 1) * sw + am % kw
    flat = ((np.arange(n).reshape(n, 1, 1, 1) * hp + rows) * wp + cols) * c + \
        np.arange(c).reshape(1, 1, 1, c)
    return flat, (n, hp, wp, c), pads


def _max_pool_grad(x, grad, g):
    h, w = x.shape[1], x.shape[2]
    flat, pshape, pads = _max_pool_argmax(x, g)
    if grad.shape != flat.shape:
        raise errors.InvalidArgumentError(None, None, "MaxPoolGrad: grad has shape %s, expected "
                                          "%s" % (list(grad.shape), list(flat.shape)))
    size = pshape[0] * pshape[1] * pshape[2] * pshape[3]
    dxp = np.bincount(flat.ravel(), weights=grad.ravel(), minlength=size)
    dxp = dxp.astype(grad.dtype, copy=False).reshape(pshape)
    pt, _, pl, _ = pads
    return dxp[:, pt:pt + h, pl:pl + w, :]


def _max_pool_grad_grad(x, grad, g):
    flat, _, pads = _max_pool_argmax(x, g)
    if grad.shape != x.shape:
        raise errors.InvalidArgumentError(None, None, "MaxPoolGradGrad: grad has shape %s, "
                                          "expected %s" % (list(grad.shape), list(x.shape)))
    gp = _pad_hw(grad, pads)
    return np.take(gp.ravel(), flat)


def _avg_counts(h, w, g, cache):
    key = (h, w)
    cnt = cache.get(key)
    if cnt is None:
        oh, ow, pads = g.out_pads(h, w)
        ones = _pad_hw(np.ones((1, h, w, 1)), pads)
        cnt = _windows(ones, g.kh, g.kw, g.sh, g.sw, 1, 1, oh, ow).sum(axis=(3, 4))
        cache[key] = cnt = np.maximum(cnt, 1)
    return cnt


def _avg_pool_fwd(x, g, cache):
    n, h, w, c = x.shape
    oh, ow, pads = _pool_check(x, g)
    kh, kw, sh, sw = g.kh, g.kw, g.sh, g.sw
    if not any(pads) and sh == kh and sw == kw and h == oh * kh and w == ow * kw:
        return x.reshape(n, oh, kh, ow, kw, c).mean(axis=(2, 4), dtype=x.dtype)
    xp = _pad_hw(x, pads)
    s = _windows(xp, kh, kw, sh, sw, 1, 1, oh, ow).sum(axis=(3, 4), dtype=x.dtype)
    # Padded positions do not count: SAME windows at the border average fewer elements.
    return (s / _avg_counts(h, w, g, cache).astype(x.dtype)).astype(x.dtype, copy=False)


def _avg_pool_grad(in_shape, grad, g, cache):
    n, h, w, c = in_shape
    oh, ow, pads = g.out_pads(h, w)
    if grad.shape != (n, oh, ow, c):
        raise errors.InvalidArgumentError(None, None, "AvgPoolGrad: grad has shape %s, expected "
                                          "%s" % (list(grad.shape), [n, oh, ow, c]))
    pt, pb, pl, pr = pads
    scaled = grad / _avg_counts(h, w, g, cache).astype(grad.dtype)
    dxp = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype=grad.dtype)
    kh, kw = g.kh, g.kw
    for i in range(kh):
        for j in range(kw):
            dxp[:, i:i + (oh - 1) * g.sh + 1:g.sh, j:j + (ow - 1) * g.sw + 1:g.sw, :] += scaled
    return dxp[:, pt:pt + h, pl:pl + w, :]


def _to_nhwc(x):
    return np.moveaxis(x, 1, 3)


def _from_nhwc_arr(x):
    return np.ascontiguousarray(np.moveaxis(x, 3, 1))


def _sizes_nhwc(sizes, nchw):
    s = tuple(int(v) for v in np.asarray(sizes).reshape(-1))
    if len(s) != 4:
        raise errors.InvalidArgumentError(None, None, "input_sizes must be a 4-element vector, "
                                          "got %s" % (list(s),))
    return (s[0], s[2], s[3], s[1]) if nchw else s


# ---- convolution and pooling: op registrations -------------------------------------------------


def _conv_dtype_check(op_type, first, a, second, b):
    _check_dtype(first, a, _CONV)
    _check_same(op_type, second, b, first, a)


def _conv_shape(op_type, attrs, inputs, xd, fd, depthwise=False):
    """Static output dims (data-format order) of a convolution of input dims `xd` with filter
    dims `fd` (either may be None)."""
    g = _Geom(attrs)
    nchw = g.nchw
    if xd is not None and len(xd) != 4:
        raise _rank_error(op_type, attrs, inputs, 4, len(xd))
    if fd is not None and len(fd) != 4:
        raise _rank_error(op_type, attrs, inputs, 4, len(fd))
    n = h = w = c = None
    if xd is not None:
        n, h, w, c = _nhwc(xd, nchw)
    kh = kw = ci = co = None
    if fd is not None:
        kh, kw, ci, co = fd
    if c is not None and ci is not None:
        if depthwise and c != ci:
            raise _err(op_type, attrs, inputs, "Dimensions must be equal, but are %d and %d"
                       % (c, ci))
        if not depthwise and c != ci:
            raise _err(op_type, attrs, inputs, "Depth of input (%d) is not a multiple of input "
                       "depth of filter (%d)" % (c, ci) if c % ci else
                       "Grouped convolution is not supported: depth of input (%d) differs from "
                       "input depth of filter (%d)" % (c, ci))
    oh = _static_out(h, kh, g.sh, g.dh, g.padding, g.exp_h, op_type, attrs, inputs)
    ow = _static_out(w, kw, g.sw, g.dw, g.padding, g.exp_w, op_type, attrs, inputs)
    if depthwise:
        cin = c if c is not None else ci
        oc = cin * co if (cin is not None and co is not None) else None
    else:
        oc = co
    return _from_nhwc(n, oh, ow, oc, nchw)


def _conv2d_infer(inputs, attrs):
    x, f = inputs
    _conv_dtype_check("Conv2D", "input", x, "filter", f)
    return [(x._dtype.base_dtype, _shape(_conv_shape("Conv2D", attrs, inputs, _dims(x),
                                                     _dims(f))))]


def _format_wrap(fn, nchw, arg_pos=(0,)):
    """Run NHWC kernel `fn` on NCHW data: transpose the data arguments in and the result out."""
    if not nchw:
        return fn

    def wrapped(*args):
        args = list(args)
        for i in arg_pos:
            args[i] = _to_nhwc(args[i])
        return _from_nhwc_arr(fn(*args))
    return wrapped


_NATIVE_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_NATIVE_INDEX = (np.dtype(np.int32), np.dtype(np.int64))


def _native(name):
    """`_C.<name>` when the native core is built, else None (the numpy kernels run)."""
    return getattr(_C, name, None) if _C is not None else None


def _native_ok(*arrays):
    """True when the native conv/pool kernels can take these operands: 4-D float32/float64
    arrays of one dtype. Anything else (and every error case) goes to the numpy kernels, which
    raise TF's errors."""
    d = arrays[0].dtype
    if d not in _NATIVE_FLOATS:
        return False
    for a in arrays:
        if a.dtype != d or a.ndim != 4:
            return False
    return True


def _conv2d_kernel(op, ctx):
    g = _Geom(op._attrs)
    mm = _matmul_fn()
    cconv = _native("conv2d")
    strides, dil = (g.sh, g.sw), (g.dh, g.dw)

    def conv2d_(x, w):
        if cconv is not None and _native_ok(x, w) and w.shape[2] == x.shape[3]:
            oh, ow, pads = g.out_pads(x.shape[1], x.shape[2], w.shape[0], w.shape[1])
            if oh > 0 and ow > 0:
                return cconv(x, w, strides, dil, pads)
        return _conv_fwd(x, w, g, mm)
    return _format_wrap(conv2d_, g.nchw, (0,))


def _backprop_infer(op_type, sizes_index, depthwise=False):
    """Inference for the conv backprops: input `sizes_index` is the 1-D size of the result
    (input_sizes for BackpropInput, filter_sizes for BackpropFilter), the other of the first
    two inputs is the known operand, and input 2 is out_backprop."""
    sizes_name = ("input_sizes", "filter_sizes")[sizes_index]
    other_name = ("filter", "input")[sizes_index]

    def infer(inputs, attrs):
        sizes, other, dy = inputs[sizes_index], inputs[1 - sizes_index], inputs[2]
        _check_dtype(sizes_name, sizes, (_dt.int32, _dt.int64))
        _conv_dtype_check(op_type, other_name, other, "out_backprop", dy)
        lst = array_ops._const_list(sizes)
        if lst is not None and len(lst) != 4:
            raise _err(op_type, attrs, inputs, "%s must be 4-dimensional, got %d"
                       % (sizes_name, len(lst)))
        dims = tuple(None if (v is None or v < 0) else v for v in lst) if lst else \
            (None,) * 4
        od, dd = _dims(other), _dims(dy)
        for known in (od, dd):
            if known is not None and len(known) != 4:
                raise _rank_error(op_type, attrs, inputs, 4, len(known))
        if od is not None and None not in dims:
            x_dims, f_dims = (dims, od) if sizes_index == 0 else (od, dims)
            expect = _conv_shape(op_type, attrs, inputs, x_dims, f_dims, depthwise)
            if dd is not None:
                for e, got in zip(expect, dd):
                    if e is not None and got is not None and e != got:
                        raise _err(op_type, attrs, inputs, "out_backprop has shape %s but the "
                                   "forward convolution gives %s"
                                   % (proto_shape_str(dy._shape), list(expect)))
        return [(other._dtype.base_dtype, _shape(dims))]
    return infer


def _backprop_input_infer(op_type, depthwise=False):
    return _backprop_infer(op_type, 0, depthwise)


def _conv2d_backprop_input_kernel(op, ctx):
    g = _Geom(op._attrs)
    mm = _matmul_fn()
    nchw = g.nchw
    cbwd = _native("conv2d_backprop_input")
    strides, dil = (g.sh, g.sw), (g.dh, g.dw)

    def bwd(s, w, dy):
        if cbwd is not None and _native_ok(w, dy) and w.shape[2] == s[3]:
            oh, ow, pads = g.out_pads(s[1], s[2], w.shape[0], w.shape[1])
            if dy.shape == (s[0], oh, ow, w.shape[3]):
                return cbwd(s, w, dy, strides, dil, pads)
        return _conv_bwd_input(s, w, dy, g, mm)

    def conv2d_backprop_input_(sizes, w, dy):
        s = _sizes_nhwc(sizes, nchw)
        if nchw:
            return _from_nhwc_arr(bwd(s, w, _to_nhwc(dy)))
        return bwd(s, w, dy)
    return conv2d_backprop_input_


def _backprop_filter_infer(op_type, depthwise=False):
    return _backprop_infer(op_type, 1, depthwise)


def _conv2d_backprop_filter_kernel(op, ctx):
    g = _Geom(op._attrs)
    mm = _matmul_fn()
    nchw = g.nchw
    cbwd = _native("conv2d_backprop_filter")
    strides, dil = (g.sh, g.sw), (g.dh, g.dw)

    def conv2d_backprop_filter_(x, sizes, dy):
        fs = tuple(int(v) for v in np.asarray(sizes).reshape(-1))
        if nchw:
            x, dy = _to_nhwc(x), _to_nhwc(dy)
        if cbwd is not None and len(fs) == 4 and _native_ok(x, dy) and fs[2] == x.shape[3]:
            oh, ow, pads = g.out_pads(x.shape[1], x.shape[2], fs[0], fs[1])
            if dy.shape == (x.shape[0], oh, ow, fs[3]):
                return cbwd(x, fs, dy, strides, dil, pads)
        return _conv_bwd_filter(x, fs, dy, g, mm)
    return conv2d_backprop_filter_


register_op("Conv2D", _conv2d_infer, _conv2d_kernel)
register_op("Conv2DBackpropInput", _backprop_input_infer("Conv2DBackpropInput"),
            _conv2d_backprop_input_kernel)
register_op("Conv2DBackpropFilter", _backprop_filter_infer("Conv2DBackpropFilter"),
            _conv2d_backprop_filter_kernel)


def _depthwise_infer(inputs, attrs):
    x, f = inputs
    _conv_dtype_check("DepthwiseConv2dNative", "input", x, "filter", f)
    return [(x._dtype.base_dtype, _shape(_conv_shape("DepthwiseConv2dNative", attrs, inputs,
                                                     _dims(x), _dims(f), depthwise=True)))]


def _depthwise_kernel(op, ctx):
    g = _Geom(op._attrs)

    def depthwise_conv2d_native_(x, w):
        return _dw_fwd(x, w, g)
    return _format_wrap(depthwise_conv2d_native_, g.nchw, (0,))


def _depthwise_bwd_input_kernel(op, ctx):
    g = _Geom(op._attrs)
    nchw = g.nchw

    def depthwise_conv2d_native_backprop_input_(sizes, w, dy):
        s = _sizes_nhwc(sizes, nchw)
        if nchw:
            return _from_nhwc_arr(_dw_bwd_input(s, w, _to_nhwc(dy), g))
        return _dw_bwd_input(s, w, dy, g)
    return depthwise_conv2d_native_backprop_input_


def _depthwise_bwd_filter_kernel(op, ctx):
    g = _Geom(op._attrs)
    nchw = g.nchw

    def depthwise_conv2d_native_backprop_filter_(x, sizes, dy):
        fs = tuple(int(v) for v in np.asarray(sizes).reshape(-1))
        if nchw:
            x, dy = _to_nhwc(x), _to_nhwc(dy)
        return _dw_bwd_filter(x, fs, dy, g)
    return depthwise_conv2d_native_backprop_filter_


register_op("DepthwiseConv2dNative", _depthwise_infer, _depthwise_kernel)
register_op("DepthwiseConv2dNativeBackpropInput",
            _backprop_input_infer("DepthwiseConv2dNativeBackpropInput", depthwise=True),
            _depthwise_bwd_input_kernel)
register_op("DepthwiseConv2dNativeBackpropFilter",
            _backprop_filter_infer("DepthwiseConv2dNativeBackpropFilter", depthwise=True),
            _depthwise_bwd_filter_kernel)


def _pool_shape(op_type, attrs, inputs, xd):
    g = _Geom(attrs)
    if xd is None:
        return (None,) * 4
    if len(xd) != 4:
        raise _rank_error(op_type, attrs, inputs, 4, len(xd))
    n, h, w, c = _nhwc(xd, g.nchw)
    oh = _static_out(h, g.kh, g.sh, 1, g.padding, g.exp_h, op_type, attrs, inputs)
    ow = _static_out(w, g.kw, g.sw, 1, g.padding, g.exp_w, op_type, attrs, inputs)
    return _from_nhwc(n, oh, ow, c, g.nchw)


def _pool_infer(op_type, allowed):
    def infer(inputs, attrs):
        x = inputs[0]
        _check_dtype("input", x, allowed)
        return [(x._dtype.base_dtype, _shape(_pool_shape(op_type, attrs, inputs, _dims(x))))]
    return infer


def _native_pool(g, x):
    """Explicit pads for the native pool kernels, or None when the numpy kernel must run."""
    if not _native_ok(x):
        return None
    oh, ow, pads = g.out_pads(x.shape[1], x.shape[2])
    return pads if (oh > 0 and ow > 0) else None


# MaxPool -> MaxPoolGrad argmax workspaces, keyed by id() of the pooled output they belong to.
# The forward kernel records each window's first maximum (one byte per output element) when the
# graph differentiates the pool, and the gradient kernel, handed the same x and y objects,
# spreads the gradient from it instead of re-reading x (10 MB for Deep-MNIST's first pool,
# against 0.6 MB). Entries die with their output array; a lookup that does not find the very
# same x, y and geometry falls back to recomputing the argmax from x (same result either way).
_POOL_ARGMAX = {}


def _remember_argmax(x, y, geom, arg):
    key = id(y)

    def drop(ref, key=key):
        ent = _POOL_ARGMAX.get(key)
        if ent is not None and ent[0] is ref:
            _POOL_ARGMAX.pop(key, None)
    _POOL_ARGMAX[key] = (weakref.ref(y, drop), weakref.ref(x), geom, arg)


def _recall_argmax(x, y, geom):
    ent = _POOL_ARGMAX.get(id(y))
    if ent is not None and ent[0]() is y and ent[1]() is x and ent[2] == geom:
        return ent[3]
    return None


def _pool_has_grad(op):
    return any(c.type == "MaxPoolGrad" for c in op.outputs[0].consumers())


def _max_pool_kernel(op, ctx):
    g = _Geom(op._attrs)
    cpool = _native("max_pool")
    k, st = (g.kh, g.kw), (g.sh, g.sw)
    # Only where the gradient can use it: NHWC, windows that do not overlap (what the native
    # argmax kernels take), and a MaxPoolGrad in the graph (inference pays nothing).
    cpool_arg = (_native("max_pool_argmax") if not g.nchw and g.sh >= g.kh and g.sw >= g.kw
                 and g.kh * g.kw <= 256 and _pool_has_grad(op) else None)

    def max_pool_(x):
        pads = _native_pool(g, x) if cpool is not None else None
        if pads is not None:
            if cpool_arg is not None:
                y, arg = cpool_arg(x, k, st, pads)
                _remember_argmax(x, y, (k, st, pads), arg)
                return y
            return cpool(x, k, st, pads)
        return _max_pool_fwd(x, g)
    return _format_wrap(max_pool_, g.nchw)


def _avg_pool_kernel(op, ctx):
    g = _Geom(op._attrs)
    cache = {}
    cpool = _native("avg_pool")
    k, st = (g.kh, g.kw), (g.sh, g.sw)

    def avg_pool_(x):
        pads = _native_pool(g, x) if cpool is not None else None
        if pads is not None:
            return cpool(x, k, st, pads)
        return _avg_pool_fwd(x, g, cache)
    return _format_wrap(avg_pool_, g.nchw)


def _max_pool_grad_infer(op_type, out_is_input):
    def infer(inputs, attrs):
        x, y, grad = inputs
        _check_dtype("orig_input", x, _REAL)
        _check_same(op_type, "orig_output", y, "orig_input", x)
        _check_same(op_type, "grad", grad, "orig_input", x)
        for t in inputs:
            d = _dims(t)
            if d is not None and len(d) != 4:
                raise _rank_error(op_type, attrs, inputs, 4, len(d))
        return [(x._dtype.base_dtype, x._shape if out_is_input else y._shape)]
    return infer


def _max_pool_grad_kernel(op, ctx):
    g = _Geom(op._attrs)
    cgrad = _native("max_pool_grad")
    cgrad_arg = _native("max_pool_grad_argmax")
    k, st = (g.kh, g.kw), (g.sh, g.sw)

    def grad_nhwc(x, grad, y=None):
        pads = _native_pool(g, x) if cgrad is not None else None
        if pads is not None and grad.dtype == x.dtype and grad.ndim == 4:
            oh, ow, _ = g.out_pads(x.shape[1], x.shape[2])
            if grad.shape == (x.shape[0], oh, ow, x.shape[3]):
                arg = _recall_argmax(x, y, (k, st, pads)) if y is not None else None
                if arg is not None and cgrad_arg is not None:
                    return cgrad_arg(x.shape, arg, grad, k, st, pads)
                return cgrad(x, grad, k, st, pads)
        return _max_pool_grad(x, grad, g)

    def max_pool_grad_(x, y, grad):
        return grad_nhwc(x, grad, y)
    if not g.nchw:
        return max_pool_grad_

    def max_pool_grad_nchw(x, y, grad):
        return _from_nhwc_arr(grad_nhwc(_to_nhwc(x), _to_nhwc(grad)))
    return max_pool_grad_nchw


def _max_pool_grad_grad_kernel(op, ctx):
    g = _Geom(op._attrs)

    def max_pool_grad_grad_(x, y, grad):
        return _max_pool_grad_grad(x, grad, g)
    if not g.nchw:
        return max_pool_grad_grad_

    def max_pool_grad_grad_nchw(x, y, grad):
        return _from_nhwc_arr(_max_pool_grad_grad(_to_nhwc(x), _to_nhwc(grad), g))
    return max_pool_grad_grad_nchw


def _avg_pool_grad_infer(inputs, attrs):
    sizes, grad = inputs
    _check_dtype("orig_input_shape", sizes, (_dt.int32,))
    _check_dtype("grad", grad, _FLOAT)
    lst = array_ops._const_list(sizes)
    dims = tuple(None if (v is None or v < 0) else v for v in lst) if lst else (None,) * 4
    return [(grad._dtype.base_dtype, _shape(dims))]


def _avg_pool_grad_kernel(op, ctx):
    g = _Geom(op._attrs)
    cache = {}
    nchw = g.nchw
    cgrad = _native("avg_pool_grad")
    k, st = (g.kh, g.kw), (g.sh, g.sw)

    def grad_nhwc(s, grad):
        if cgrad is not None and _native_ok(grad):
            oh, ow, pads = g.out_pads(s[1], s[2])
            if oh > 0 and ow > 0 and grad.shape == (s[0], oh, ow, s[3]):
                return cgrad(s, grad, k, st, pads)
        return _avg_pool_grad(s, grad, g, cache)

    def avg_pool_grad_(sizes, grad):
        s = _sizes_nhwc(sizes, nchw)
        if nchw:
            return _from_nhwc_arr(grad_nhwc(s, _to_nhwc(grad)))
        return grad_nhwc(s, grad)
    return avg_pool_grad_


register_op("MaxPool", _pool_infer("MaxPool", _REAL), _max_pool_kernel)
register_op("AvgPool", _pool_infer("AvgPool", _FLOAT), _avg_pool_kernel)
register_op("MaxPoolGrad", _max_pool_grad_infer("MaxPoolGrad", True), _max_pool_grad_kernel)
register_op("MaxPoolGradGrad", _max_pool_grad_infer("MaxPoolGradGrad", False),
            _max_pool_grad_grad_kernel)
register_op("AvgPoolGrad", _avg_pool_grad_infer, _avg_pool_grad_kernel)


# ---- convolution and pooling: wrappers ---------------------------------------------------------


def _conv_attrs(strides, padding, data_format, dilations, op_type):
    df = _data_format_attr(data_format, op_type)
    nchw = df == "NCHW"
    if strides is None:
        raise ValueError("strides must be given for %s" % op_type)
    strides = _spatial_list(strides, "strides", nchw)
    dilations = _spatial_list(dilations if dilations is not None else 1, "dilations", nchw)
    _check_nc_is_one(strides, nchw, "strides")
    _check_nc_is_one(dilations, nchw, "dilations")
    if min(strides) < 1 or min(dilations) < 1:
        raise ValueError("strides and dilations must be >= 1, got strides=%s dilations=%s"
                         % (strides, dilations))
    pad, explicit = _padding_attr(padding, nchw, op_type)
    if pad != "VALID" and pad != "SAME" and pad != "EXPLICIT":
        raise ValueError("bad padding %r" % padding)
    return {"strides": strides, "padding": pad, "explicit_paddings": explicit,
            "data_format": df, "dilations": dilations}


def _pick(a, a_name, b, b_name):
    if a is not None and b is not None:
        raise ValueError("Cannot specify both '%s' and '%s'." % (a_name, b_name))
    return a if a is not None else b


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,
           data_format="NHWC", dilations=(1, 1, 1, 1), name=None, filters=None):
    """2-D convolution (op type Conv2D).

    Args:
      input: 4-D Tensor [batch, height, width, channels] (NHWC) or NCHW.
      filter: 4-D Tensor [filter_height, filter_width, in_channels, out_channels]
        (`filters` is the TF2 spelling).
      strides: int, [sh, sw] or a 4-list in the data format's order (batch/channel must be 1).
      padding: "SAME", "VALID", or explicit [[0, 0], [top, bottom], [left, right], [0, 0]].
      data_format: "NHWC" or "NCHW".
      dilations: int, [dh, dw] or a 4-list.
      name: optional op name (default "Conv2D").
    Returns:
      A Tensor [batch, out_height, out_width, out_channels]; with SAME padding
      out = ceil(in / stride), with VALID out = ceil((in - (k - 1) * d) / stride).
    """
    filter = _pick(filter, "filter", filters, "filters")
    input = to_tensor(input, name="input")
    filter = to_tensor(filter, dtype=None if isinstance(filter, _Tensor) else
                       input._dtype.base_dtype, name="filter")
    attrs = _conv_attrs(strides, padding, data_format, dilations, "Conv2D")
    attrs["T"] = input._dtype.base_dtype
    attrs["use_cudnn_on_gpu"] = bool(use_cudnn_on_gpu)
    return _apply("Conv2D", [input, filter], attrs, name)


def _sizes_tensor(sizes, name):
    if isinstance(sizes, _Tensor) or hasattr(sizes, "_as_graph_element"):
        return to_tensor(sizes)
    if isinstance(sizes, _ts.TensorShape):
        sizes = sizes.as_list()
    if isinstance(sizes, (list, tuple)) and any(isinstance(s, _Tensor) for s in sizes):
        return array_ops.stack([to_tensor(s, dtype=_dt.int32) if not isinstance(s, _Tensor)
                                else s for s in sizes], name=name)
    return array_ops.constant(np.asarray(sizes, dtype=np.int32), dtype=_dt.int32, name=name)


def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None, strides=None,
                          padding=None, use_cudnn_on_gpu=True, data_format="NHWC",
                          dilations=(1, 1, 1, 1), name=None, filters=None):
    """Gradient of conv2d with respect to its input (op type Conv2DBackpropInput).

    Args:
      input_sizes: 1-D int32 Tensor (or list): the shape of the convolution's input.
      filter: the convolution's filter.
      out_backprop: gradient with respect to the convolution's output.
    """
    filter = _pick(filter, "filter", filters, "filters")
    out_backprop = to_tensor(out_backprop, name="out_backprop")
    filter = to_tensor(filter, dtype=out_backprop._dtype.base_dtype, name="filter")
    attrs = _conv_attrs(strides, padding, data_format, dilations, "Conv2DBackpropInput")
    attrs["T"] = out_backprop._dtype.base_dtype
    attrs["use_cudnn_on_gpu"] = bool(use_cudnn_on_gpu)
    sizes = _sizes_tensor(input_sizes, "input_sizes")
    return _apply("Conv2DBackpropInput", [sizes, filter, out_backprop], attrs, name)


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,
                           use_cudnn_on_gpu=True, data_format="NHWC",
                           dilations=(1, 1, 1, 1), name=None):
    """Gradient of conv2d with respect to its filter (op type Conv2DBackpropFilter)."""
    input = to_tensor(input, name="input")
    out_backprop = to_tensor(out_backprop, dtype=input._dtype.base_dtype, name="out_backprop")
    attrs = _conv_attrs(strides, padding, data_format, dilations, "Conv2DBackpropFilter")
    attrs["T"] = input._dtype.base_dtype
    attrs["use_cudnn_on_gpu"] = bool(use_cudnn_on_gpu)
    sizes = _sizes_tensor(filter_sizes, "filter_sizes")
    return _apply("Conv2DBackpropFilter", [input, sizes, out_backprop], attrs, name)


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None,
                     padding="SAME", data_format="NHWC", name=None, input=None,
                     filters=None, dilations=None):
    """Transposed 2-D convolution ("deconvolution"): the gradient of conv2d with respect to
    its input (op type Conv2DBackpropInput, named "conv2d_transpose").

    Args:
      value: 4-D input [batch, height, width, in_channels] (NHWC).
      filter: [height, width, output_channels, in_channels].
      output_shape: 1-D shape of the output (list or Tensor).
      strides, padding, data_format, dilations: as for conv2d of the output.
    Raises:
      ValueError: if the channel counts of value, filter and output_shape disagree.
    """
    value = _pick(value, "value", input, "input")
    filter = _pick(filter, "filter", filters, "filters")
    with _ops.name_scope(name, "conv2d_transpose", [value, filter, output_shape]) as name:
        value = to_tensor(value, name="value")
        filter = to_tensor(filter, dtype=value._dtype.base_dtype, name="filter")
        df = _data_format_attr(data_format, "conv2d_transpose")
        axis = 1 if df == "NCHW" else 3
        vd, fd = _dims(value), _dims(filter)
        if vd is not None and fd is not None and len(vd) == 4 and len(fd) == 4 and \
                vd[axis] is not None and fd[3] is not None and vd[axis] != fd[3]:
            raise ValueError("input channels does not match filter's input channels, %d != %d"
                             % (vd[axis], fd[3]))
        sizes = _sizes_tensor(output_shape, "output_shape")
        lst = array_ops._const_list(sizes)
        if lst is not None and len(lst) != 4:
            raise ValueError("output_shape must have shape (4,), got (%d,)" % len(lst))
        if lst is not None and fd is not None and len(fd) == 4 and lst[axis] is not None and \
                fd[2] is not None and lst[axis] != fd[2]:
            raise ValueError("output_shape does not match filter's output channels, %d != %d"
                             % (lst[axis], fd[2]))
        return conv2d_backprop_input(sizes, filter, value, strides, padding,
                                     data_format=df, dilations=dilations or 1, name=name)


def depthwise_conv2d_native(input, filter, strides, padding, data_format="NHWC",
                            dilations=(1, 1, 1, 1), name=None):
    """Depthwise 2-D convolution (op type DepthwiseConv2dNative): each input channel c is
    convolved with filter[:, :, c, :], giving in_channels * channel_multiplier outputs."""
    input = to_tensor(input, name="input")
    filter = to_tensor(filter, dtype=input._dtype.base_dtype, name="filter")
    attrs = _conv_attrs(strides, padding, data_format, dilations, "DepthwiseConv2dNative")
    attrs["T"] = input._dtype.base_dtype
    return _apply("DepthwiseConv2dNative", [input, filter], attrs, name)


def depthwise_conv2d_native_backprop_input(input_sizes, filter, out_backprop, strides,
                                           padding, data_format="NHWC",
                                           dilations=(1, 1, 1, 1), name=None):
    """Gradient of depthwise_conv2d_native with respect to its input."""
    out_backprop = to_tensor(out_backprop, name="out_backprop")
    filter = to_tensor(filter, dtype=out_backprop._dtype.base_dtype, name="filter")
    attrs = _conv_attrs(strides, padding, data_format, dilations,
                        "DepthwiseConv2dNativeBackpropInput")
    attrs["T"] = out_backprop._dtype.base_dtype
    sizes = _sizes_tensor(input_sizes, "input_sizes")
    return _apply("DepthwiseConv2dNativeBackpropInput", [sizes, filter, out_backprop], attrs,
                  name)


def depthwise_conv2d_native_backprop_filter(input, filter_sizes, out_backprop,
                                            strides, padding, data_format="NHWC",
                                            dilations=(1, 1, 1, 1), name=None):
    """Gradient of depthwise_conv2d_native with respect to its filter."""
    input = to_tensor(input, name="input")
    out_backprop = to_tensor(out_backprop, dtype=input._dtype.base_dtype, name="out_backprop")
    attrs = _conv_attrs(strides, padding, data_format, dilations,
                        "DepthwiseConv2dNativeBackpropFilter")
    attrs["T"] = input._dtype.base_dtype
    sizes = _sizes_tensor(filter_sizes, "filter_sizes")
    return _apply("DepthwiseConv2dNativeBackpropFilter", [input, sizes, out_backprop], attrs,
                  name)


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None,
                     data_format=None, dilations=None):
    """Depthwise convolution with an optional atrous `rate` (named "depthwise").

    Args:
      input: 4-D Tensor.
      filter: [height, width, in_channels, channel_multiplier].
      strides: 4-list (or [sh, sw]).
      padding: "SAME" or "VALID".
      rate: dilation rate [rh, rw] (TF1's name for `dilations`).
    """
    if rate is not None and dilations is not None:
        raise ValueError("Cannot specify both 'rate' and 'dilations'.")
    rate = rate if rate is not None else dilations
    with _ops.name_scope(name, "depthwise", [input, filter]) as name:
        input = to_tensor(input, name="tensor_in")
        filter = to_tensor(filter, dtype=input._dtype.base_dtype, name="filter_in")
        if rate is not None:
            r = _spatial_list(rate, "rate", (data_format or "NHWC") == "NCHW")
            rh, rw = _hw(r, (data_format or "NHWC") == "NCHW")
            s = _spatial_list(strides, "strides", (data_format or "NHWC") == "NCHW")
            if (rh > 1 or rw > 1) and max(s) > 1:
                raise ValueError("strides > 1 not supported in conjunction with rate > 1")
            dil = [rh, rw]
        else:
            dil = 1
        return depthwise_conv2d_native(input, filter, strides, padding,
                                       data_format=data_format or "NHWC", dilations=dil,
                                       name=name)


def _pool_attrs(ksize, strides, padding, data_format, op_type):
    df = _data_format_attr(data_format, op_type)
    nchw = df == "NCHW"
    ksize = _spatial_list(ksize, "ksize", nchw)
    strides = _spatial_list(strides, "strides", nchw)
    _check_nc_is_one(ksize, nchw, "pooling")
    _check_nc_is_one(strides, nchw, "strides")
    if min(ksize) < 1 or min(strides) < 1:
        raise ValueError("ksize and strides must be >= 1, got ksize=%s strides=%s"
                         % (ksize, strides))
    pad, _ = _padding_attr(padding, nchw, op_type)
    if pad == "EXPLICIT":
        raise ValueError("%s does not support explicit padding; use 'SAME' or 'VALID'."
                         % op_type)
    return {"ksize": ksize, "strides": strides, "padding": pad, "data_format": df}


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None,
             input=None):
    """Max pooling over spatial windows (op type MaxPool).

    Args:
      value: 4-D Tensor (NHWC or NCHW); `input` is the TF2 spelling.
      ksize: window size: int, [kh, kw] or a 4-list.
      strides: int, [sh, sw] or a 4-list.
      padding: "SAME" (out = ceil(in / stride), padding never wins the max) or "VALID".
    """
    value = _pick(value, "value", input, "input")
    with _ops.name_scope(name, "MaxPool", [value]) as name:
        value = to_tensor(value, name="input")
        attrs = _pool_attrs(ksize, strides, padding, data_format, "MaxPool")
        attrs["T"] = value._dtype.base_dtype
        return _apply("MaxPool", [value], attrs, name)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None,
             input=None):
    """Average pooling (op type AvgPool); with SAME padding the border windows average only
    the elements inside the input, as TF does."""
    value = _pick(value, "value", input, "input")
    with _ops.name_scope(name, "AvgPool", [value]) as name:
        value = to_tensor(value, name="input")
        attrs = _pool_attrs(ksize, strides, padding, data_format, "AvgPool")
        attrs["T"] = value._dtype.base_dtype
        return _apply("AvgPool", [value], attrs, name)


def _copy_geom_attrs(op, extra=()):
    a = {k: op._attrs[k] for k in ("strides", "padding", "data_format") if k in op._attrs}
    for k in ("dilations", "explicit_paddings", "ksize", "use_cudnn_on_gpu") + tuple(extra):
        if k in op._attrs:
            a[k] = op._attrs[k]
    return a


def _raw(op_type, inputs, op, name=None):
    attrs = _copy_geom_attrs(op)
    attrs["T"] = op._attrs.get("T", inputs[-1]._dtype.base_dtype)
    return _apply(op_type, list(inputs), attrs, name)


# ---- gradient rules ------------------------------------------------------------------------------


def _xgrad(op_type, grad, x, attrs=None):
    a = {"T": grad._dtype.base_dtype, "_type": op_type}
    if attrs:
        a.update(attrs)
    return _apply(op_type, [grad, x], a)


@RegisterGradient("Relu")
def _relu_grad(op, grad):
    return _xgrad("ReluGrad", grad, op.outputs[0])


@RegisterGradient("Relu6")
def _relu6_grad(op, grad):
    return _xgrad("Relu6Grad", grad, op.outputs[0])


@RegisterGradient("Elu")
def _elu_grad_rule(op, grad):
    return _xgrad("EluGrad", grad, op.outputs[0])


@RegisterGradient("Selu")
def _selu_grad_rule(op, grad):
    return _xgrad("SeluGrad", grad, op.outputs[0])


@RegisterGradient("LeakyRelu")
def _leaky_relu_grad_rule(op, grad):
    return _xgrad("LeakyReluGrad", grad, op.inputs[0], {"alpha": op._attrs["alpha"]})


@RegisterGradient("Softplus")
def _softplus_grad_rule(op, grad):
    return _xgrad("SoftplusGrad", grad, op.inputs[0])


@RegisterGradient("Softsign")
def _softsign_grad_rule(op, grad):
    return _xgrad("SoftsignGrad", grad, op.inputs[0])


# Second order. ReluGrad(g, x) is linear in g and piecewise constant in x.
@RegisterGradient("ReluGrad")
def _relu_grad_grad(op, grad):
    x = op.inputs[1]
    return _xgrad("ReluGrad", grad, x), array_ops.zeros_like(x)


@RegisterGradient("Relu6Grad")
def _relu6_grad_grad(op, grad):
    x = op.inputs[1]
    return _xgrad("Relu6Grad", grad, x), array_ops.zeros_like(x)


@RegisterGradient("LeakyReluGrad")
def _leaky_relu_grad_grad(op, grad):
    x = op.inputs[1]
    return (_xgrad("LeakyReluGrad", grad, x, {"alpha": op._attrs["alpha"]}),
            array_ops.zeros_like(x))


@RegisterGradient("EluGrad")
def _elu_grad_grad(op, grad):
    # EluGrad(g, y) = g * (y + 1) where y < 0, else g.
    g, y = op.inputs
    zero = array_ops.zeros_like(y)
    return (_xgrad("EluGrad", grad, y),
            math_ops.where(math_ops.less(y, zero), math_ops.multiply(grad, g), zero))


@RegisterGradient("SeluGrad")
def _selu_grad_grad(op, grad):
    # SeluGrad(g, y) = g * (y + scale * alpha) where y < 0, else g * scale.
    g, y = op.inputs
    zero = array_ops.zeros_like(y)
    return (_xgrad("SeluGrad", grad, y),
            math_ops.where(math_ops.less(y, zero), math_ops.multiply(grad, g), zero))


@RegisterGradient("SoftplusGrad")
def _softplus_grad_grad(op, grad):
    # SoftplusGrad(g, x) = g * sigmoid(x); d/dx = g * s * (1 - s).
    g, x = op.inputs
    s = math_ops.sigmoid(x)
    ds = math_ops.multiply(s, math_ops.subtract(to_tensor(1, dtype=s._dtype.base_dtype), s))
    return (_xgrad("SoftplusGrad", grad, x),
            math_ops.multiply(math_ops.multiply(grad, g), ds))


@RegisterGradient("SoftsignGrad")
def _softsign_grad_grad(op, grad):
    # SoftsignGrad(g, x) = g / (1 + |x|)^2; d/dx = -2 g sign(x) / (1 + |x|)^3.
    g, x = op.inputs
    dt = x._dtype.base_dtype
    d = math_ops.add(to_tensor(1, dtype=dt), math_ops.abs(x))
    dd = math_ops.truediv(math_ops.multiply(to_tensor(-2, dtype=dt), math_ops.sign(x)),
                          math_ops.multiply(math_ops.square(d), d))
    return (_xgrad("SoftsignGrad", grad, x),
            math_ops.multiply(math_ops.multiply(grad, g), dd))


@RegisterGradient("Softmax")
def _softmax_grad(op, grad):
    y = op.outputs[0]
    s = math_ops.reduce_sum(math_ops.multiply(grad, y), -1, keepdims=True)
    return math_ops.multiply(math_ops.subtract(grad, s), y)


@RegisterGradient("LogSoftmax")
def _log_softmax_grad(op, grad):
    sm = math_ops.exp(op.outputs[0])
    return math_ops.subtract(grad, math_ops.multiply(
        math_ops.reduce_sum(grad, -1, keepdims=True), sm))


@RegisterGradient("BiasAdd")
def _bias_add_grad_rule(op, grad):
    return grad, _bias_add_grad(grad, op._attrs["data_format"])


@RegisterGradient("BiasAddGrad")
def _bias_add_grad_grad(op, grad):
    # BiasAddGrad sums out_backprop over all but the channel axis; its adjoint broadcasts
    # the channel vector back over that shape.
    ob = op.inputs[0]
    return bias_add(array_ops.zeros_like(ob), grad, data_format=op._attrs["data_format"])


@RegisterGradient("L2Loss")
def _l2_loss_grad(op, grad):
    return math_ops.multiply(op.inputs[0], grad)


def _xent_second_order(logits, grad_grad):
    # d(softmax - labels)/dlogits applied to grad_grad: (gg - <gg, p>) * p.
    p = softmax(logits)
    return math_ops.multiply(math_ops.subtract(
        grad_grad, math_ops.reduce_sum(math_ops.multiply(grad_grad, p), -1, keepdims=True)), p)


@RegisterGradient("SoftmaxCrossEntropyWithLogits")
def _xent_grad(op, grad_loss, grad_grad):
    logits = op.inputs[0]
    gl = array_ops.expand_dims(grad_loss, -1)
    grad = math_ops.multiply(gl, op.outputs[1])
    if not _is_zero(grad_grad):
        grad = math_ops.add(grad, _xent_second_order(logits, grad_grad))
    return grad, math_ops.multiply(gl, math_ops.negative(log_softmax(logits)))


@RegisterGradient("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_xent_grad(op, grad_loss, grad_grad):
    grad = math_ops.multiply(array_ops.expand_dims(grad_loss, -1), op.outputs[1])
    if not _is_zero(grad_grad):
        grad = math_ops.add(grad, _xent_second_order(op.inputs[0], grad_grad))
    return grad, None


@RegisterGradient("Conv2D")
def _conv2d_grad(op, grad):
    x, f = op.inputs
    return (_raw("Conv2DBackpropInput", [_shape_tensor_of(x), f, grad], op),
            _raw("Conv2DBackpropFilter", [x, _shape_tensor_of(f), grad], op))


@RegisterGradient("Conv2DBackpropInput")
def _conv2d_backprop_input_grad(op, grad):
    # Linear in (filter, out_backprop): out = A(filter) out_backprop.
    _, f, dy = op.inputs
    return (None, _raw("Conv2DBackpropFilter", [grad, _shape_tensor_of(f), dy], op),
            _raw("Conv2D", [grad, f], op))


@RegisterGradient("Conv2DBackpropFilter")
def _conv2d_backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    return (_raw("Conv2DBackpropInput", [_shape_tensor_of(x), grad, dy], op), None,
            _raw("Conv2D", [x, grad], op))


@RegisterGradient("DepthwiseConv2dNative")
def _depthwise_grad(op, grad):
    x, f = op.inputs
    return (_raw("DepthwiseConv2dNativeBackpropInput", [_shape_tensor_of(x), f, grad], op),
            _raw("DepthwiseConv2dNativeBackpropFilter", [x, _shape_tensor_of(f), grad], op))


@RegisterGradient("DepthwiseConv2dNativeBackpropInput")
def _depthwise_bwd_input_grad(op, grad):
    _, f, dy = op.inputs
    return (None,
            _raw("DepthwiseConv2dNativeBackpropFilter", [grad, _shape_tensor_of(f), dy], op),
            _raw("DepthwiseConv2dNative", [grad, f], op))


@RegisterGradient("DepthwiseConv2dNativeBackpropFilter")
def _depthwise_bwd_filter_grad(op, grad):
    x, _, dy = op.inputs
    return (_raw("DepthwiseConv2dNativeBackpropInput", [_shape_tensor_of(x), grad, dy], op),
            None, _raw("DepthwiseConv2dNative", [x, grad], op))


@RegisterGradient("MaxPool")
def _max_pool_grad_rule(op, grad):
    return _raw("MaxPoolGrad", [op.inputs[0], op.outputs[0], grad], op)


@RegisterGradient("MaxPoolGrad")
def _max_pool_grad_grad_rule(op, grad):
    # Piecewise constant in the forward values; linear in the routed gradient.
    x, y, _ = op.inputs
    return (array_ops.zeros_like(x), array_ops.zeros_like(y),
            _raw("MaxPoolGradGrad", [x, y, grad], op))


@RegisterGradient("MaxPoolGradGrad")
def _max_pool_grad_grad_grad_rule(op, grad):
    x, y, _ = op.inputs
    return (array_ops.zeros_like(x), array_ops.zeros_like(y),
            _raw("MaxPoolGrad", [x, y, grad], op))


@RegisterGradient("AvgPool")
def _avg_pool_grad_rule(op, grad):
    return _raw("AvgPoolGrad", [_shape_tensor_of(op.inputs[0]), grad], op)


@RegisterGradient("AvgPoolGrad")
def _avg_pool_grad_grad_rule(op, grad):
    return None, _raw("AvgPool", [grad], op)


@RegisterGradient("FusedBatchNormV3")
def _fused_batch_norm_grad(op, grad_y, *unused_stat_grads):
    """Gradient of y only, as TF: the statistics outputs are treated as side results."""
    x, scale, _, mean, var = op.inputs
    a = op._attrs
    eps = a["epsilon"]
    nchw = a["data_format"] == "NCHW"
    axes = [0, 2, 3] if nchw else [0, 1, 2]
    xdt = x._dtype.base_dtype
    udt = scale._dtype.base_dtype
    if xdt != udt:
        x = math_ops.cast(x, udt)
        grad_y = math_ops.cast(grad_y, udt)

    def bc(v):
        return array_ops.reshape(v, [1, -1, 1, 1]) if nchw else v

    if a["is_training"]:
        m = bc(op.outputs[3])
        v = bc(op.outputs[4])
    else:
        m, v = bc(mean), bc(var)
    rstd = math_ops.rsqrt(math_ops.add(v, to_tensor(eps, dtype=udt)))
    xc = math_ops.subtract(x, m)
    x_hat = math_ops.multiply(xc, rstd)
    d_offset = math_ops.reduce_sum(grad_y, axes)
    d_scale = math_ops.reduce_sum(math_ops.multiply(grad_y, x_hat), axes)
    s = bc(scale)
    if a["is_training"]:
        # dx = scale * rstd * (dy - mean(dy) - x_hat * mean(dy * x_hat))
        mdy = math_ops.reduce_mean(grad_y, axes, keepdims=True)
        mdyx = math_ops.reduce_mean(math_ops.multiply(grad_y, x_hat), axes, keepdims=True)
        inner = math_ops.subtract(math_ops.subtract(grad_y, mdy),
                                  math_ops.multiply(x_hat, mdyx))
        dx = math_ops.multiply(math_ops.multiply(s, rstd), inner)
        d_mean = d_var = None
    else:
        dx = math_ops.multiply(grad_y, math_ops.multiply(s, rstd))
        srstd = math_ops.multiply(scale, math_ops.rsqrt(math_ops.add(
            var, to_tensor(eps, dtype=udt))))
        d_mean = math_ops.negative(math_ops.multiply(d_offset, srstd))
        d_var = math_ops.multiply(to_tensor(-0.5, dtype=udt), math_ops.multiply(
            math_ops.multiply(d_scale, srstd), math_ops.rsqrt(math_ops.add(
                var, to_tensor(eps, dtype=udt)))))
    if xdt != udt:
        dx = math_ops.cast(dx, xdt)
    return dx, d_scale, d_offset, d_mean, d_var


@RegisterGradient("TopKV2")
def _top_k_grad(op, grad_values, grad_indices):
    """Scatter the gradient of the values into the positions they came from."""
    x, _ = op.inputs
    idx = op.outputs[1]
    in_shape = array_ops.shape(x)
    n = array_ops.gather(in_shape, array_ops.size(in_shape) - 1)
    k = array_ops.gather(array_ops.shape(idx), array_ops.size(in_shape) - 1)
    idx2 = array_ops.reshape(idx, array_ops.stack([-1, k]))
    rows = array_ops.gather(array_ops.shape(idx2), 0)
    offsets = array_ops.expand_dims(math_ops.multiply(array_ops.range(rows), n), -1)
    flat = array_ops.reshape(math_ops.add(idx2, offsets), [-1, 1])
    total = array_ops.reshape(array_ops.size(x), [1])
    scattered = array_ops.scatter_nd(flat, array_ops.reshape(grad_values, [-1]), total)
    return array_ops.reshape(scattered, in_shape), None


NotDifferentiable("InTopKV2")
