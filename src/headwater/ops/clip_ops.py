"""Gradient clipping (TF1's clip_ops): by value, by norm, by global norm, by average norm.

`clip_by_value` and `clip_by_norm` are defined in math_ops and re-exported here.
"""

from __future__ import annotations

from headwater.framework import ops as _ops
from headwater.gradients import IndexedSlices
from headwater.ops import array_ops, math_ops
from headwater.ops.math_ops import clip_by_norm, clip_by_value

__all__ = [
    "clip_by_average_norm",
    "clip_by_global_norm",
    "clip_by_norm",
    "clip_by_value",
    "global_norm",
]


def _check_list(t_list):
    if not isinstance(t_list, (list, tuple)) or isinstance(t_list, str):
        raise TypeError("`t_list` should be a sequence of tensors. Received %s."
                        % type(t_list))
    return list(t_list)


def _values_of(t_list):
    return [_ops.convert_to_tensor(t.values if isinstance(t, IndexedSlices) else t,
                                   name="t_%d" % i) if t is not None else None
            for i, t in enumerate(t_list)]


def global_norm(t_list, name=None):
    """sqrt(sum(||t||^2 for t in t_list)): the L2 norm of all tensors together.

    Args:
      t_list: a list of Tensors or IndexedSlices (for which the values count); None entries
        are ignored.
      name: op name scope (default "global_norm"); the result is named "global_norm".
    Returns:
      A scalar Tensor.
    Raises:
      TypeError: if `t_list` is not a sequence.
    """
    t_list = _check_list(t_list)
    with _ops.name_scope(name, "global_norm",
                         [t for t in t_list if t is not None and
                          not isinstance(t, IndexedSlices)]):
        values = _values_of(t_list)
        half_squared_norms = []
        for v in values:
            if v is not None:
                # TF's L2Loss: sum(t^2) / 2.
                half_squared_norms.append(math_ops.reduce_sum(math_ops.square(v)) * 0.5)
        if half_squared_norms:
            half_squared_norm = math_ops.reduce_sum(array_ops.stack(half_squared_norms))
        else:
            half_squared_norm = array_ops.constant(0.0)
        return math_ops.sqrt(
            half_squared_norm * array_ops.constant(2.0, dtype=half_squared_norm.dtype),
            name="global_norm")


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scale every tensor of `t_list` by clip_norm / max(global_norm, clip_norm).

    Args:
      t_list: a list of Tensors, IndexedSlices or None (passed through).
      clip_norm: the maximum global norm (a positive float or scalar Tensor).
      use_norm: the global norm to use, if already computed.
      name: op name scope (default "clip_by_global_norm").
    Returns:
      (list_clipped, global_norm). If the global norm is inf or nan, every entry becomes
      nan, as in TF1.
    Raises:
      TypeError: if `t_list` is not a sequence.
    """
    t_list = _check_list(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    with _ops.name_scope(name, "clip_by_global_norm",
                         [t for t in t_list if isinstance(t, _ops.Tensor)] + [use_norm]) \
            as name:
        dtype = use_norm.dtype.base_dtype
        clip_norm_t = _ops.convert_to_tensor(clip_norm, preferred_dtype=dtype,
                                             name="clip_norm")
        scale_for_finite = clip_norm_t * math_ops.minimum(
            1.0 / use_norm, array_ops.constant(1.0, dtype=dtype) / clip_norm_t)
        # A no-op for a finite norm; makes the scale nan for an inf or nan norm.
        scale = scale_for_finite + (use_norm - use_norm)
        values = _values_of(t_list)
        values_clipped = []
        for i, v in enumerate(values):
            if v is None:
                values_clipped.append(None)
            else:
                values_clipped.append(array_ops.identity(
                    v * math_ops.cast(scale, v.dtype.base_dtype), name="%s_%d" % (name, i)))
        list_clipped = [IndexedSlices(c, t.indices, t.dense_shape)
                        if isinstance(t, IndexedSlices) else c
                        for c, t in zip(values_clipped, t_list)]
    return list_clipped, use_norm


def clip_by_average_norm(t, clip_norm, name=None):
    """Scale `t` so that its L2 norm divided by its number of elements is at most
    `clip_norm` (deprecated in TF1; kept for old programs)."""
    with _ops.name_scope(name, "clip_by_average_norm", [t, clip_norm]) as name:
        t = _ops.convert_to_tensor(t, name="t")
        dtype = t.dtype.base_dtype
        n_element = math_ops.cast(array_ops.size(t), dtype)
        l2norm_inv = math_ops.rsqrt(math_ops.reduce_sum(t * t,
                                                        _all_axes(t)))
        clip_norm_t = _ops.convert_to_tensor(clip_norm, preferred_dtype=dtype)
        return array_ops.identity(
            t * clip_norm_t * math_ops.minimum(l2norm_inv * n_element,
                                               array_ops.constant(1.0, dtype=dtype)
                                               / clip_norm_t),
            name=name)


def _all_axes(t):
    """All axes of `t` (static when its rank is known)."""
    nd = t.get_shape().ndims
    if nd is not None:
        return list(range(nd))
    return array_ops.range(array_ops.rank(t))
