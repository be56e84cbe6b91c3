"""Random ops with TF1's seeding rules.

Each random op records `seed`/`seed2` attributes from `random_seed.get_seed` when it is created.
Its kernel draws from a numpy Generator owned by the session (`ctx.rng_for(op)`): with a graph or
op seed set, a fresh session replays the same sequence; successive runs in one session continue
the stream (different values); without any seed every session gets fresh entropy. The values
are not bit-identical to TensorFlow's Philox streams, only distributed the same way.

Wrappers build the same graph structure as TF1, e.g. `random_normal` is
RandomStandardNormal -> Mul (stddev) -> Add (mean) and its result is named "random_normal".
"""

from __future__ import annotations

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import errors, random_seed
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.framework.op_registry import register_op

__all__ = [
    "multinomial",
    "random_gamma",
    "random_normal",
    "random_poisson",
    "random_shuffle",
    "random_uniform",
    "truncated_normal",
]

_FLOAT_DTYPES = (_dtypes.float16, _dtypes.bfloat16, _dtypes.float32, _dtypes.float64)
_INDEX_DTYPES = (_dtypes.int32, _dtypes.int64)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


# ---- shapes -------------------------------------------------------------------------------


def _shape_tensor(shape):
    """Convert a shape (list, tuple, TensorShape or 1-D int tensor) into an int tensor."""
    if isinstance(shape, _ops.Tensor) or hasattr(shape, "_as_graph_element"):
        return _ops.convert_to_tensor(shape)
    if isinstance(shape, _ts.TensorShape):
        if not shape.is_fully_defined():
            raise ValueError("Cannot convert a partially known TensorShape %s to a Tensor."
                             % shape)
        shape = shape.as_list()
    elif isinstance(shape, (list, tuple)):
        shape = [_ts.dimension_value(d) if isinstance(d, _ts.Dimension) else d for d in shape]
        if all(type(d) is int for d in shape):
            # Fast path: a plain list of ints needs no auto-packing of tensors.
            from headwater.ops import array_ops

            big = any(d > 2**31 - 1 for d in shape)
            return array_ops.constant(np.array(shape, dtype=np.int64 if big else np.int32),
                                      name="shape")
    dtype = _dtypes.int32
    arr = np.asarray(shape)
    if arr.dtype.kind in "iu" and arr.size and (arr.max() > 2**31 - 1):
        dtype = _dtypes.int64
    return _ops.convert_to_tensor(shape, dtype=dtype, name="shape")


def _static_shape(op_type, t):
    """The static output shape described by the 1-D int shape tensor `t`."""
    if t._dtype.base_dtype not in _INDEX_DTYPES:
        raise TypeError("Value passed to parameter 'shape' of '%s' Op has DataType %s not in "
                        "list of allowed values: int32, int64" % (op_type, t._dtype.name))
    dims = t._shape._dims
    if dims is not None and len(dims) != 1:
        raise ValueError("Shape must be rank 1 but is rank %d for '%s' (op: '%s')."
                         % (len(dims), op_type, op_type))
    op = t._op
    if op._type == "Const":
        vals = op._attrs["value"].reshape(-1).tolist()
        if any(v < -1 for v in vals):
            raise ValueError("Shape %s for '%s' has negative dimensions." % (vals, op_type))
        return _ts.TensorShape._from_tuple(tuple(None if v == -1 else v for v in vals))
    if op._type == "Shape":
        return op._inputs[0]._shape
    if dims is None or dims[0] is None:
        return _ts.TensorShape(None)
    return _ts.TensorShape([None] * dims[0])


def _size_getter():
    """A function mapping a shape value to a size tuple, memoized on the (Const) array."""
    cache = [None, None]

    def size_of(shape):
        if shape is cache[0]:
            return cache[1]
        size = tuple(np.asarray(shape).reshape(-1).tolist())
        for d in size:
            if d < 0:
                raise errors.InvalidArgumentError(
                    None, None, "Shape %s has negative dimensions" % (list(size),))
        cache[0] = shape
        cache[1] = size
        return size
    return size_of


def _seed_attrs(seed):
    s1, s2 = random_seed.get_seed(seed)
    return {"seed": s1 or 0, "seed2": s2 or 0}


# ---- float distributions ------------------------------------------------------------------


def _check_float(op_type, dtype):
    if dtype.base_dtype not in _FLOAT_DTYPES:
        raise TypeError("Value passed to parameter 'dtype' of '%s' Op has DataType %s not in "
                        "list of allowed values: float16, bfloat16, float32, float64"
                        % (op_type, dtype.name))


def _float_random_infer(op_type):
    def infer(inputs, attrs):
        dtype = attrs["dtype"]
        _check_float(op_type, dtype)
        return [(dtype, _static_shape(op_type, inputs[0]))]
    return infer


def _standard_normal(rng, size, gen_dt):
    return rng.standard_normal(size, dtype=gen_dt)


def _truncated_normal(rng, size, gen_dt):
    x = rng.standard_normal(size, dtype=gen_dt)
    flat = x.reshape(-1)
    # Redraw values beyond two standard deviations until none remain (TF's definition).
    bad = np.flatnonzero(np.abs(flat) >= 2.0)
    while bad.size:
        flat[bad] = rng.standard_normal(bad.size, dtype=gen_dt)
        bad = bad[np.abs(flat[bad]) >= 2.0]
    return x


def _uniform(rng, size, gen_dt):
    return rng.random(size, dtype=gen_dt)


def _largest_below_one(dt):
    # np.nextafter does not support bfloat16, so probe from float32 downward.
    for k in range(24, 0, -1):
        y = np.array(1.0 - 2.0 ** -k, dtype=np.float32).astype(dt)
        if float(y) < 1.0:
            return y
    return np.array(0.5, dtype=dt)


def _float_random_kernel(method, upper_open=False):
    def kernel(op, ctx):
        rng = ctx.rng_for(op)
        dt = np.dtype(op._attrs["dtype"].as_numpy_dtype)
        native = dt == _F32 or dt == _F64
        gen_dt = dt if native else _F32
        size_of = _size_getter()
        if native:
            def random(shape):
                return method(rng, size_of(shape), gen_dt)
            return random
        # float16/bfloat16: draw float32 and round; keep [0, 1) half-open after rounding.
        below_one = _largest_below_one(dt) if upper_open else None

        def random_cast(shape):
            x = method(rng, size_of(shape), gen_dt).astype(dt)
            if below_one is not None:
                np.minimum(x, below_one, out=x)
            return x
        return random_cast
    return kernel


register_op("RandomStandardNormal", _float_random_infer("RandomStandardNormal"),
            _float_random_kernel(_standard_normal), stateful=True)
register_op("TruncatedNormal", _float_random_infer("TruncatedNormal"),
            _float_random_kernel(_truncated_normal), stateful=True)
register_op("RandomUniform", _float_random_infer("RandomUniform"),
            _float_random_kernel(_uniform, upper_open=True), stateful=True)


def _random_float_op(op_type, shape, dtype, seed, name=None):
    attrs = {"dtype": dtype, "T": shape._dtype}
    attrs.update(_seed_attrs(seed))
    return _ops.apply_op(op_type, [shape], attrs, name=name)


def _scale_shift(rnd, scale, shift, name):
    """`rnd * scale + shift` as TF1 builds it (Mul named "mul", Add named `name`)."""
    from headwater.ops import math_ops

    mul = math_ops.multiply(rnd, scale, name="mul")
    return math_ops.add(mul, shift, name=name)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=_dtypes.float32, seed=None, name=None):
    """Samples from a normal distribution.

    Args:
      shape: 1-D int tensor or Python list: the output shape.
      mean, stddev: scalars or tensors broadcastable to `shape`.
      dtype: float16, bfloat16, float32 or float64.
      seed: op-level seed (combined with the graph seed, see `set_random_seed`).
      name: name of the result (default "random_normal").
    Returns:
      A tensor of `shape` filled with normal samples.
    """
    dtype = _dtypes.as_dtype(dtype)
    with _ops.name_scope(name, "random_normal", [shape, mean, stddev]) as name:
        shape_t = _shape_tensor(shape)
        mean_t = _ops.convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev_t = _ops.convert_to_tensor(stddev, dtype=dtype, name="stddev")
        rnd = _random_float_op("RandomStandardNormal", shape_t, dtype, seed)
        return _scale_shift(rnd, stddev_t, mean_t, name)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_dtypes.float32, seed=None,
                     name=None):
    """Samples from a normal distribution truncated to two standard deviations.

    Values whose magnitude exceeds two standard deviations from the mean are redrawn.

    Args:
      shape: 1-D int tensor or Python list: the output shape.
      mean, stddev: the mean and standard deviation before truncation.
      dtype: float16, bfloat16, float32 or float64.
      seed: op-level seed.
      name: name of the result (default "truncated_normal").
    """
    dtype = _dtypes.as_dtype(dtype)
    with _ops.name_scope(name, "truncated_normal", [shape, mean, stddev]) as name:
        shape_t = _shape_tensor(shape)
        mean_t = _ops.convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev_t = _ops.convert_to_tensor(stddev, dtype=dtype, name="stddev")
        rnd = _random_float_op("TruncatedNormal", shape_t, dtype, seed)
        return _scale_shift(rnd, stddev_t, mean_t, name)


# ---- uniform ------------------------------------------------------------------------------


def _uniform_int_infer(inputs, attrs):
    shape, lo, hi = inputs
    dt = lo._dtype.base_dtype
    if dt not in _INDEX_DTYPES:
        raise TypeError("Value passed to parameter 'minval' of 'RandomUniformInt' Op has "
                        "DataType %s not in list of allowed values: int32, int64" % dt.name)
    if hi._dtype.base_dtype != dt:
        raise TypeError("Input 'maxval' of 'RandomUniformInt' Op has type %s that does not "
                        "match type %s of argument 'minval'." % (hi._dtype.name, dt.name))
    for t, what in ((lo, "minval"), (hi, "maxval")):
        if t._shape._dims not in (None, ()):
            raise ValueError("Shape must be rank 0 but is rank %d for 'RandomUniformInt': "
                             "%s must be a scalar." % (len(t._shape._dims), what))
    return [(dt, _static_shape("RandomUniformInt", shape))]


def _uniform_int_kernel(op, ctx):
    rng = ctx.rng_for(op)
    dt = np.dtype(op._attrs["Tout"].as_numpy_dtype)
    size_of = _size_getter()

    def random_uniform_int(shape, lo, hi):
        size = size_of(shape)
        lo = int(lo)
        hi = int(hi)
        if lo >= hi:
            if not size or all(size):
                raise errors.InvalidArgumentError(None, None, "Need minval < maxval: %d >= %d"
                                                  % (lo, hi))
        if 0 in size:
            return np.zeros(size, dtype=dt)
        return rng.integers(lo, hi, size=size, dtype=dt)
    return random_uniform_int


register_op("RandomUniformInt", _uniform_int_infer, _uniform_int_kernel, stateful=True)


def random_uniform(shape, minval=0, maxval=None, dtype=_dtypes.float32, seed=None,
                   name=None):
    """Samples from a uniform distribution on [minval, maxval).

    Args:
      shape: 1-D int tensor or Python list: the output shape.
      minval: lower bound (inclusive).
      maxval: upper bound (exclusive); defaults to 1 for floats, required for integers.
      dtype: float16, bfloat16, float32, float64, int32 or int64.
      seed: op-level seed.
      name: name of the result (default "random_uniform").
    """
    dtype = _dtypes.as_dtype(dtype)
    if dtype not in _FLOAT_DTYPES + _INDEX_DTYPES:
        raise ValueError("Invalid dtype %r" % dtype)
    if maxval is None:
        if dtype.is_integer:
            raise ValueError("Must specify maxval for integer dtype %r" % dtype)
        maxval = 1
    with _ops.name_scope(name, "random_uniform", [shape, minval, maxval]) as name:
        shape_t = _shape_tensor(shape)
        lo = _ops.convert_to_tensor(minval, dtype=dtype, name="min")
        hi = _ops.convert_to_tensor(maxval, dtype=dtype, name="max")
        if dtype.is_integer:
            attrs = {"Tout": dtype, "T": shape_t._dtype}
            attrs.update(_seed_attrs(seed))
            return _ops.apply_op("RandomUniformInt", [shape_t, lo, hi], attrs, name=name)
        from headwater.ops import math_ops

        rnd = _random_float_op("RandomUniform", shape_t, dtype, seed)
        span = math_ops.subtract(hi, lo, name="sub")
        return _scale_shift(rnd, span, lo, name)


# ---- shuffle ------------------------------------------------------------------------------


def _shuffle_infer(inputs, attrs):
    x = inputs[0]
    return [(x._dtype, x._shape)]


def _shuffle_kernel(op, ctx):
    rng = ctx.rng_for(op)

    def random_shuffle(x):
        x = np.asarray(x)
        if x.ndim == 0 or x.shape[0] <= 1:
            return x.copy()
        return x[rng.permutation(x.shape[0])]
    return random_shuffle


register_op("RandomShuffle", _shuffle_infer, _shuffle_kernel, stateful=True)


def random_shuffle(value, seed=None, name=None):
    """Randomly shuffles a tensor along its first dimension.

    Args:
      value: the tensor to shuffle.
      seed: op-level seed.
      name: op name (default "RandomShuffle").
    """
    value = _ops.convert_to_tensor(value, name="value")
    attrs = {"T": value._dtype}
    attrs.update(_seed_attrs(seed))
    return _ops.apply_op("RandomShuffle", [value], attrs, name=name)


# ---- multinomial / categorical ------------------------------------------------------------


def _const_scalar(t):
    if t._op._type == "Const":
        return int(t._op._attrs["value"])
    return None


def _multinomial_infer(inputs, attrs):
    logits, num_samples = inputs
    if logits._dtype.base_dtype not in _FLOAT_DTYPES + _INDEX_DTYPES:
        raise TypeError("Value passed to parameter 'logits' of 'Multinomial' Op has DataType "
                        "%s not in list of allowed values: float16, bfloat16, float32, "
                        "float64, int32, int64" % logits._dtype.name)
    if num_samples._dtype.base_dtype != _dtypes.int32:
        raise TypeError("Input 'num_samples' of 'Multinomial' Op has type %s that does not "
                        "match expected type of int32." % num_samples._dtype.name)
    out = attrs["output_dtype"]
    if out not in _INDEX_DTYPES:
        raise TypeError("Value passed to parameter 'output_dtype' of 'Multinomial' Op has "
                        "DataType %s not in list of allowed values: int32, int64" % out.name)
    dims = logits._shape._dims
    if dims is not None and len(dims) != 2:
        raise ValueError("Shape must be rank 2 but is rank %d for 'Multinomial': logits must "
                         "be [batch_size, num_classes]." % len(dims))
    n = _const_scalar(num_samples)
    batch = dims[0] if dims is not None else None
    return [(out, _ts.TensorShape([batch, n]))]


def _multinomial_kernel(op, ctx):
    rng = ctx.rng_for(op)
    out_dt = np.dtype(op._attrs["output_dtype"].as_numpy_dtype)

    def multinomial(logits, num_samples):
        n = int(num_samples)
        logits = np.asarray(logits, dtype=np.float64)
        batch, k = logits.shape
        if n < 0:
            raise errors.InvalidArgumentError(None, None, "num_samples should be nonnegative, "
                                              "got %d" % n)
        if k == 0:
            raise errors.InvalidArgumentError(None, None, "num_classes should be positive, "
                                              "got: 0")
        if batch == 0 or n == 0:
            return np.zeros((batch, n), dtype=out_dt)
        m = logits.max(axis=1, keepdims=True)
        m[~np.isfinite(m)] = 0.0
        cum = np.cumsum(np.exp(logits - m), axis=1)
        cum /= cum[:, -1:]
        u = rng.random((batch, n))
        if batch <= 32:
            out = np.empty((batch, n), dtype=out_dt)
            for b in range(batch):
                out[b] = np.searchsorted(cum[b], u[b], side="right")
        else:
            # One searchsorted over all rows: row b's CDF is shifted into (b, b + 1].
            off = np.arange(batch, dtype=np.float64)[:, None]
            idx = np.searchsorted((cum + off).reshape(-1), (u + off).reshape(-1),
                                  side="right").reshape(batch, n)
            out = (idx - np.arange(batch)[:, None] * k).astype(out_dt)
        np.clip(out, 0, k - 1, out=out)
        return out
    return multinomial


register_op("Multinomial", _multinomial_infer, _multinomial_kernel, stateful=True)


def _multinomial_impl(logits, num_samples, dtype, seed):
    logits = _ops.convert_to_tensor(logits, name="logits")
    num_samples = _ops.convert_to_tensor(num_samples, dtype=_dtypes.int32,
                                         name="num_samples")
    dtype = _dtypes.int64 if dtype is None else _dtypes.as_dtype(dtype)
    attrs = {"T": logits._dtype, "output_dtype": dtype}
    attrs.update(_seed_attrs(seed))
    return _ops.apply_op("Multinomial", [logits, num_samples], attrs)


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """Draws samples from a categorical distribution given unnormalized log-probabilities.

    Args:
      logits: [batch_size, num_classes] tensor of log-probabilities (up to a constant).
      num_samples: number of samples per row.
      seed: op-level seed.
      name: name scope (default "multinomial").
      output_dtype: int32 or int64 (default int64).
    Returns:
      A [batch_size, num_samples] tensor of class indices.
    """
    with _ops.name_scope(name, "multinomial", [logits]):
        return _multinomial_impl(logits, num_samples, output_dtype, seed)


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """`tf.random.categorical`: like `multinomial` with the dtype argument named `dtype`."""
    with _ops.name_scope(name, "categorical", [logits]):
        return _multinomial_impl(logits, num_samples, dtype, seed)


# ---- gamma / poisson ----------------------------------------------------------------------


def _param_random_infer(op_type, out_attr):
    def infer(inputs, attrs):
        shape, param = inputs
        base = _static_shape(op_type, shape)
        return [(attrs[out_attr], base.concatenate(param._shape))]
    return infer


def _gamma_kernel(op, ctx):
    rng = ctx.rng_for(op)
    dt = np.dtype(op._attrs["T"].as_numpy_dtype)
    gen_dt = dt if dt in (_F32, _F64) else _F32
    size_of = _size_getter()

    def random_gamma(shape, alpha):
        alpha = np.asarray(alpha)
        size = size_of(shape) + alpha.shape
        x = rng.standard_gamma(alpha.astype(gen_dt), size=size, dtype=gen_dt)
        return x.astype(dt, copy=False)
    return random_gamma


register_op("RandomGamma", _param_random_infer("RandomGamma", "T"), _gamma_kernel,
            stateful=True)


def random_gamma(shape, alpha, beta=None, dtype=_dtypes.float32, seed=None, name=None):
    """Samples from Gamma(alpha, beta) distributions (beta is the rate).

    Args:
      shape: the sample shape per distribution.
      alpha: shape parameter(s); the output shape is `shape + broadcast(alpha, beta).shape`.
      beta: rate parameter(s) (default 1).
      dtype: float16, float32 or float64.
      seed: op-level seed.
    """
    dtype = _dtypes.as_dtype(dtype)
    _check_float("RandomGamma", dtype)
    from headwater.ops import math_ops

    with _ops.name_scope(name, "random_gamma", [shape, alpha, beta]):
        shape_t = _ops.convert_to_tensor(shape, name="shape", dtype=_dtypes.int32)
        alpha_t = _ops.convert_to_tensor(alpha, name="alpha", dtype=dtype)
        beta_t = _ops.convert_to_tensor(beta if beta is not None else 1, name="beta",
                                        dtype=dtype)
        if beta is not None:
            alpha_t = math_ops.add(alpha_t, math_ops.multiply(beta_t, 0))
        attrs = {"T": dtype, "S": _dtypes.int32}
        attrs.update(_seed_attrs(seed))
        g = _ops.apply_op("RandomGamma", [shape_t, alpha_t], attrs)
        if beta is not None:
            g = math_ops.truediv(g, beta_t)
        tiny = np.finfo(np.float32 if dtype == _dtypes.bfloat16 else
                        np.dtype(dtype.as_numpy_dtype)).tiny
        return math_ops.maximum(_ops.convert_to_tensor(tiny, dtype=dtype), g)


def _poisson_kernel(op, ctx):
    rng = ctx.rng_for(op)
    dt = np.dtype(op._attrs["dtype"].as_numpy_dtype)
    size_of = _size_getter()

    def random_poisson(shape, lam):
        lam = np.asarray(lam, dtype=np.float64)
        return rng.poisson(lam, size=size_of(shape) + lam.shape).astype(dt, copy=False)
    return random_poisson


register_op("RandomPoissonV2", _param_random_infer("RandomPoissonV2", "dtype"),
            _poisson_kernel, stateful=True)


def random_poisson(lam, shape, dtype=_dtypes.float32, seed=None, name=None):
    """Samples from Poisson distribution(s) with rate(s) `lam`.

    Returns:
      A tensor of shape `shape + lam.shape` and dtype `dtype`.
    """
    dtype = _dtypes.as_dtype(dtype)
    with _ops.name_scope(name, "random_poisson", [lam, shape]):
        shape_t = _ops.convert_to_tensor(shape, name="shape", dtype=_dtypes.int32)
        lam_t = _ops.convert_to_tensor(lam, name="lam", preferred_dtype=_dtypes.float32)
        attrs = {"dtype": dtype, "R": lam_t._dtype}
        attrs.update(_seed_attrs(seed))
        return _ops.apply_op("RandomPoissonV2", [shape_t, lam_t], attrs)


# Aliases for the `tf.random` namespace.
normal = random_normal
uniform = random_uniform
shuffle = random_shuffle
gamma = random_gamma


def poisson(lam, shape, dtype=_dtypes.float32, seed=None, name=None):
    """`tf.random.poisson` (same argument order as TF1's random_poisson)."""
    return random_poisson(lam, shape, dtype=dtype, seed=seed, name=name)


# Random draws have no gradient with respect to their shape/parameter inputs (as TF1).
from headwater.gradients import NotDifferentiable as _NotDifferentiable  # noqa: E402

for _type in ("RandomStandardNormal", "TruncatedNormal", "RandomUniform", "RandomUniformInt",
              "RandomShuffle", "Multinomial", "RandomGamma", "RandomPoissonV2", "Orthogonalize"):
    _NotDifferentiable(_type)
del _type
