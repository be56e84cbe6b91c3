"""Initializers (TF1's `init_ops`): objects called with a shape and dtype that build the ops
producing a variable's initial value.

`get_variable` calls them inside "<var>/Initializer", so a glorot-uniform kernel "w" gets ops
"w/Initializer/random_uniform/...". Fan-in/fan-out follow TF: for a kernel of shape
[..., in, out] the receptive field (product of the leading dimensions) multiplies both.
"""

from __future__ import annotations

import math

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.framework.op_registry import register_op
from headwater.ops import random_ops

__all__ = [
    "constant_initializer",
    "glorot_normal_initializer",
    "glorot_uniform_initializer",
    "ones_initializer",
    "orthogonal_initializer",
    "random_normal_initializer",
    "random_uniform_initializer",
    "truncated_normal_initializer",
    "uniform_unit_scaling_initializer",
    "variance_scaling_initializer",
    "zeros_initializer",
]


def _as_dims(shape):
    """A list of Python ints from a list/tuple/TensorShape (must be fully defined)."""
    if isinstance(shape, _ops.Tensor):
        raise TypeError("Initializers need a static shape (list of ints), got tensor %s."
                        % shape.name)
    s = _ts.as_shape(shape)
    if not s.is_fully_defined():
        raise ValueError("Initializers need a fully defined shape, got %s." % s)
    return s.as_list()


def _const(value, dtype, name):
    value.flags.writeable = False
    return _ops.apply_op("Const", [], {"value": value, "dtype": dtype}, name=name,
                         graph=_ops.get_default_graph())


def _assert_float_dtype(dtype):
    dtype = _dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError("Expected floating point type, got %s." % dtype)
    return dtype


def _compute_fans(shape):
    """(fan_in, fan_out) of a weight of `shape`, as TF computes them."""
    if len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape[0], shape[1]
    else:
        receptive_field_size = 1
        for dim in shape[:-2]:
            receptive_field_size *= dim
        fan_in = shape[-2] * receptive_field_size
        fan_out = shape[-1] * receptive_field_size
    return int(fan_in), int(fan_out)


class Initializer:
    """Base class: `init(shape, dtype=None, partition_info=None)` returns a Tensor."""

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self):
        """The constructor arguments as a dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Instantiate an initializer from `get_config()` output."""
        config = dict(config)
        config.pop("partition_info", None)
        return cls(**config)


class Zeros(Initializer):
    """Initializer that generates tensors initialized to 0."""

    def __init__(self, dtype=_dtypes.float32):
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self.dtype if dtype is None else _dtypes.as_dtype(dtype)
        dims = _as_dims(shape)
        if dtype == _dtypes.string:
            value = np.full(dims, b"", dtype=object)
        else:
            # np.zeros maps untouched zero pages lazily, so large zero constants are cheap.
            value = np.zeros(dims, dtype=dtype.as_numpy_dtype)
        return _const(value, dtype.base_dtype, "zeros")

    def get_config(self):
        return {"dtype": self.dtype.name}


class Ones(Initializer):
    """Initializer that generates tensors initialized to 1."""

    def __init__(self, dtype=_dtypes.float32):
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self.dtype if dtype is None else _dtypes.as_dtype(dtype)
        value = np.ones(_as_dims(shape), dtype=dtype.as_numpy_dtype)
        return _const(value, dtype.base_dtype, "ones")

    def get_config(self):
        return {"dtype": self.dtype.name}


class Constant(Initializer):
    """Initializer that generates tensors with constant values.

    `value` may be a scalar (broadcast) or a list/array: with as many elements as the shape
    it is reshaped; with fewer, the last element fills the rest (TF1's rule); with more it is
    a TypeError.
    """

    def __init__(self, value=0, dtype=_dtypes.float32, verify_shape=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError("Invalid type for initial value: %s (expected Python scalar, list "
                            "or tuple of values, or numpy.ndarray)." % type(value))
        self.value = value
        self.dtype = _dtypes.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        dtype = self.dtype if dtype is None else _dtypes.as_dtype(dtype)
        if verify_shape is None:
            verify_shape = self._verify_shape
        dims = _as_dims(shape)
        arr = _dtypes.convert_to_numpy(self.value, dtype)
        n = int(np.prod(dims)) if dims else 1
        if verify_shape and list(arr.shape) != dims:
            raise TypeError("Expected Tensor's shape: %s, got %s."
                            % (tuple(dims), tuple(arr.shape)))
        if arr.size == 1:
            value = np.full(dims, arr.reshape(()), dtype=arr.dtype)
        elif arr.size == n:
            value = np.array(arr.reshape(dims))
        elif arr.size > n:
            raise TypeError("Too many elements provided. Needed at most %d, but received %d"
                            % (n, arr.size))
        elif arr.size == 0:
            raise TypeError("Expected %d elements to initialize shape %s, got an empty value."
                            % (n, dims))
        else:
            flat = np.empty(n, dtype=arr.dtype)
            flat[:arr.size] = arr.reshape(-1)
            flat[arr.size:] = arr.reshape(-1)[-1]
            value = flat.reshape(dims)
        return _const(value, dtype.base_dtype, "Const")

    def get_config(self):
        return {"value": self.value, "dtype": self.dtype.name,
                "verify_shape": self._verify_shape}


class RandomUniform(Initializer):
    """Initializer that generates tensors with a uniform distribution on [minval, maxval)."""

    def __init__(self, minval=0, maxval=None, seed=None, dtype=_dtypes.float32):
        self.minval = minval
        self.maxval = maxval
        self.seed = seed
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self.dtype if dtype is None else _dtypes.as_dtype(dtype)
        return random_ops.random_uniform(_as_dims(shape), self.minval, self.maxval, dtype,
                                         seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed,
                "dtype": self.dtype.name}


class _MeanStddevInitializer(Initializer):
    # RandomNormal and TruncatedNormal differ only in the random op they call.
    _sampler = None

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=_dtypes.float32):
        self.mean = mean
        self.stddev = stddev
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self.dtype if dtype is None else _dtypes.as_dtype(dtype)
        return type(self)._sampler(_as_dims(shape), self.mean, self.stddev, dtype,
                                   seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed,
                "dtype": self.dtype.name}


class RandomNormal(_MeanStddevInitializer):
    """Initializer that generates tensors with a normal distribution."""

    _sampler = staticmethod(random_ops.random_normal)


class TruncatedNormal(_MeanStddevInitializer):
    """Initializer that generates a truncated normal distribution (|x - mean| < 2 stddev)."""

    _sampler = staticmethod(random_ops.truncated_normal)


class UniformUnitScaling(Initializer):
    """Deprecated TF1 initializer: uniform in +-sqrt(3 / input_size) * factor."""

    def __init__(self, factor=1.0, seed=None, dtype=_dtypes.float32):
        self.factor = factor
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self.dtype if dtype is None else _dtypes.as_dtype(dtype)
        dims = _as_dims(shape)
        input_size = 1.0
        for d in dims[:-1]:
            input_size *= float(d)
        input_size = max(input_size, 1.0)
        max_val = math.sqrt(3 / input_size) * self.factor
        return random_ops.random_uniform(dims, -max_val, max_val, dtype, seed=self.seed)

    def get_config(self):
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


# Standard deviation of the unit normal truncated to [-2, 2]; dividing by it makes the
# truncated distribution's variance match the requested scale.
_TRUNCATED_STDDEV_CORRECTION = 0.87962566103423978


class VarianceScaling(Initializer):
    """Initializer whose scale adapts to the weight's shape.

    With `distribution="truncated_normal"` (or TF1's "normal") samples come from a truncated
    normal with stddev `sqrt(scale / n) / 0.8796...`, "untruncated_normal" uses a plain normal
    with stddev `sqrt(scale / n)` and "uniform" draws from +-sqrt(3 * scale / n), where n is
    fan_in, fan_out or their average according to `mode`.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=_dtypes.float32):
        if scale <= 0.:
            raise ValueError("`scale` must be positive float.")
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError("Invalid `mode` argument:", mode)
        distribution = distribution.lower()
        if distribution not in {"normal", "uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError("Invalid `distribution` argument:", distribution)
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self.dtype if dtype is None else _dtypes.as_dtype(dtype)
        dims = _as_dims(shape)
        scale_dims = dims
        if partition_info is not None:
            scale_dims = list(partition_info.full_shape)
        fan_in, fan_out = _compute_fans(scale_dims)
        scale = self.scale
        if self.mode == "fan_in":
            scale /= max(1., fan_in)
        elif self.mode == "fan_out":
            scale /= max(1., fan_out)
        else:
            scale /= max(1., (fan_in + fan_out) / 2.)
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(scale) / _TRUNCATED_STDDEV_CORRECTION
            return random_ops.truncated_normal(dims, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            stddev = math.sqrt(scale)
            return random_ops.random_normal(dims, 0.0, stddev, dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_ops.random_uniform(dims, -limit, limit, dtype, seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """Glorot/Xavier uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))."""

    def __init__(self, seed=None, dtype=_dtypes.float32):
        super().__init__(scale=1.0, mode="fan_avg", distribution="uniform", seed=seed,
                         dtype=dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Glorot/Xavier normal: truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""

    def __init__(self, seed=None, dtype=_dtypes.float32):
        super().__init__(scale=1.0, mode="fan_avg", distribution="truncated_normal",
                         seed=seed, dtype=dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


# ---- orthogonal ---------------------------------------------------------------------------


def _orthogonalize_infer(inputs, attrs):
    return [(inputs[0]._dtype, _ts.TensorShape(list(attrs["shape"])))]


def _orthogonalize_kernel(op, ctx):
    shape = tuple(op._attrs["shape"])
    gain = op._attrs["gain"]
    transpose = op._attrs["transpose"]
    dt = np.dtype(op._attrs["T"].as_numpy_dtype)

    def orthogonalize(a):
        q, r = np.linalg.qr(np.asarray(a, dtype=np.float64))
        # Sign fix so the result is uniformly distributed over orthogonal matrices.
        d = np.sign(np.diag(r))
        d[d == 0] = 1.0
        q = q * d
        if transpose:
            q = q.T
        return (gain * q).reshape(shape).astype(dt)
    return orthogonalize


# Headwater-specific: TF1 composes Qr, DiagPart, Sign, Mul, Transpose and Reshape here; one op
# (with no gradient needed: it only feeds initializers) keeps init_ops free of linalg deps.
register_op("Orthogonalize", _orthogonalize_infer, _orthogonalize_kernel,
            default_name="orthogonal")


class Orthogonal(Initializer):
    """Initializer that generates an orthogonal matrix (rows or columns orthonormal).

    Shapes of rank > 2 are flattened to (prod(shape[:-1]), shape[-1]) first.
    """

    def __init__(self, gain=1.0, seed=None, dtype=_dtypes.float32):
        self.gain = gain
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self.dtype if dtype is None else _dtypes.as_dtype(dtype)
        dims = _as_dims(shape)
        if len(dims) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional")
        num_rows = 1
        for d in dims[:-1]:
            num_rows *= d
        num_cols = dims[-1]
        transpose = num_rows < num_cols
        flat_shape = [num_cols, num_rows] if transpose else [num_rows, num_cols]
        a = random_ops.random_normal(flat_shape, dtype=dtype, seed=self.seed)
        return _ops.apply_op("Orthogonalize", [a],
                             {"T": dtype, "shape": tuple(dims), "gain": float(self.gain),
                              "transpose": transpose})

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


class Identity(Initializer):
    """Initializer that generates the identity matrix (2-D shapes only), times `gain`."""

    def __init__(self, gain=1.0, dtype=_dtypes.float32):
        self.gain = gain
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self.dtype if dtype is None else _dtypes.as_dtype(dtype)
        dims = _as_dims(shape)
        if len(dims) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices.")
        value = (np.eye(dims[0], dims[1]) * self.gain).astype(dtype.as_numpy_dtype)
        return _const(value, dtype.base_dtype, "eye")

    def get_config(self):
        return {"gain": self.gain, "dtype": self.dtype.name}


# ---- helper constructors ------------------------------------------------------------------


def lecun_normal(seed=None):
    """LeCun normal: truncated normal with stddev sqrt(1 / fan_in)."""
    return VarianceScaling(scale=1., mode="fan_in", distribution="truncated_normal", seed=seed)


def lecun_uniform(seed=None):
    """LeCun uniform: U(-limit, limit), limit = sqrt(3 / fan_in)."""
    return VarianceScaling(scale=1., mode="fan_in", distribution="uniform", seed=seed)


def he_normal(seed=None):
    """He normal: truncated normal with stddev sqrt(2 / fan_in)."""
    return VarianceScaling(scale=2., mode="fan_in", distribution="truncated_normal", seed=seed)


def he_uniform(seed=None):
    """He uniform: U(-limit, limit), limit = sqrt(6 / fan_in)."""
    return VarianceScaling(scale=2., mode="fan_in", distribution="uniform", seed=seed)


# TF1 lower-case spellings.
zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
uniform_unit_scaling_initializer = UniformUnitScaling
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
orthogonal_initializer = Orthogonal
identity_initializer = Identity

# Lower-case aliases used by `tf.initializers` / `tf.keras.initializers`.
zeros = Zeros
ones = Ones
constant = Constant
random_uniform = RandomUniform
random_normal = RandomNormal
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
orthogonal = Orthogonal
identity = Identity
