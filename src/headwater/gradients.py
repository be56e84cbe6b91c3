"""Reverse-mode automatic differentiation on the graph (TF1's `tf.gradients`).

`gradients(ys, xs)` appends the gradient subgraph to the user's graph: it finds the ops between
`xs` and `ys`, counts for each op how many consumers still have to deliver a gradient, and walks
backwards from `ys` in that order, calling each op type's gradient rule inside a name scope
`gradients/<op name>_grad/`. Several gradients arriving at one tensor are summed with `AddN`.
Gradient rules build ordinary graph ops, so gradients of gradients work.
"""

from __future__ import annotations

import collections

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import ops as _ops
from headwater.framework.op_registry import _OP_DEFS

__all__ = ["gradients", "hessians", "RegisterGradient", "NotDifferentiable",
           "NoGradient", "IndexedSlices", "stop_gradient_ops", "AggregationMethod",
           "UnconnectedGradients"]

# Gradient rules by name: an op type, or a name used with `Graph.gradient_override_map`.
_GRADIENT_REGISTRY = {}
# Op types explicitly declared to have no gradient (their inputs get None).
_NOT_DIFFERENTIABLE = set()


class RegisterGradient:
    """Decorator registering the gradient function for an op type (or an override name).

        @tf.RegisterGradient("MyOp")
        def _my_op_grad(op, grad):
            return [grad * 2]
    """

    def __init__(self, op_type):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, f):
        if self._op_type in _GRADIENT_REGISTRY:
            raise KeyError("Registering two gradient with name '%s'! (Previous registration "
                           "was in %s)" % (self._op_type,
                                           getattr(_GRADIENT_REGISTRY[self._op_type],
                                                   "__module__", "?")))
        _GRADIENT_REGISTRY[self._op_type] = f
        od = _OP_DEFS.get(self._op_type)
        if od is not None:
            od.gradient = f
        return f


def NotDifferentiable(op_type):  # noqa: N802 - TF1 spelling
    """Declare that ops of `op_type` have no gradient: their inputs receive None."""
    if not isinstance(op_type, str):
        raise TypeError("op_type must be a string")
    _NOT_DIFFERENTIABLE.add(op_type)


NoGradient = NotDifferentiable


class AggregationMethod:
    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


class UnconnectedGradients:
    NONE = "none"
    ZERO = "zero"


class IndexedSlices:
    """A sparse slice-wise gradient: `dense[indices[i]] += values[i]` (for gather/embeddings).

    Optimizers apply it row by row; anywhere a dense Tensor is needed it is converted with
    an `UnsortedSegmentSum`-style scatter.
    """

    def __init__(self, values, indices, dense_shape=None):
        self._values = values
        self._indices = indices
        self._dense_shape = dense_shape

    @property
    def values(self):
        return self._values

    @property
    def indices(self):
        return self._indices

    @property
    def dense_shape(self):
        return self._dense_shape

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def name(self):
        return self._values.name

    @property
    def op(self):
        return self._values.op

    @property
    def graph(self):
        return self._values.graph

    @property
    def device(self):
        return self._values.device

    @property
    def shape(self):
        from headwater.framework import tensor_shape
        ds = self._dense_shape
        if ds is not None and ds.op.type == "Const":
            return tensor_shape.TensorShape([int(d) for d in ds.op.get_attr("value")])
        vs = self._values.shape
        if vs.ndims is None:
            return tensor_shape.TensorShape(None)
        return tensor_shape.TensorShape([None] + vs.as_list()[1:])

    def get_shape(self):
        return self.shape

    def __neg__(self):
        return IndexedSlices(-self._values, self._indices, self._dense_shape)

    def __repr__(self):
        return "IndexedSlices(indices=%s, values=%s%s)" % (
            self._indices, self._values,
            (", dense_shape=%s" % self._dense_shape) if self._dense_shape is not None else "")


def _indexed_slices_to_tensor(value, dtype=None, name=None):
    from headwater.ops import math_ops

    if dtype is not None and _dtypes.as_dtype(dtype) != value.dtype:
        raise ValueError("Tensor conversion requested dtype %s for IndexedSlices with dtype %s"
                         % (_dtypes.as_dtype(dtype).name, value.dtype.name))
    if value.dense_shape is None:
        raise ValueError("Tensor conversion requested for IndexedSlices without dense_shape: "
                         "%s" % value)
    from headwater.ops import array_ops

    return math_ops.unsorted_segment_sum(value.values, value.indices,
                                         array_ops.gather(value.dense_shape, 0), name=name)


_ops.register_tensor_conversion_function(IndexedSlices, _indexed_slices_to_tensor)


def _is_trainable(t):
    dt = t.dtype.base_dtype
    return dt.is_floating or dt.is_complex


def _as_x(x):
    # TF1 differentiates with respect to the variable itself (its ref tensor); every read
    # of it passes through that tensor.
    v = getattr(x, "_variable", None)
    if isinstance(v, _ops.Tensor):
        return v
    if isinstance(x, _ops.Tensor):
        return x
    return _ops.convert_to_tensor(x)


def _grad_fn_for(op):
    override = op._attrs.get("_gradient_op_type")
    if override is not None:
        fn = _GRADIENT_REGISTRY.get(override)
        if fn is None:
            raise LookupError("No gradient defined for operation '%s' (op type: %s) under the "
                              "gradient override name '%s'." % (op.name, op.type, override))
        return fn
    if op.type in _NOT_DIFFERENTIABLE:
        return None
    fn = op._op_def.gradient or _GRADIENT_REGISTRY.get(op.type)
    if fn is None:
        loc = op.location_str()
        raise LookupError(
            "No gradient defined for operation '%s' (op type: %s)%s. Wrap it in "
            "tf.stop_gradient if no gradient should flow through it, or register one with "
            "@tf.RegisterGradient(\"%s\")." % (op.name, op.type,
                                               " created at " + loc if loc else "", op.type))
    return fn


def _aggregate(grads, name=None):
    """Sum the gradients arriving at one tensor (AddN; sparse ones concatenated)."""
    grads = [g for g in grads if g is not None]
    if not grads:
        return None
    if len(grads) == 1:
        return grads[0]
    from headwater.ops import array_ops, math_ops

    if all(isinstance(g, IndexedSlices) for g in grads):
        return IndexedSlices(array_ops.concat([g.values for g in grads], 0),
                             array_ops.concat([g.indices for g in grads], 0),
                             grads[0].dense_shape)
    dense = [_ops.convert_to_tensor(g) if isinstance(g, IndexedSlices) else g for g in grads]
    return math_ops.add_n(dense)


def _zeros_like(t):
    from headwater.ops import array_ops
    return array_ops.zeros_like(t)


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients=UnconnectedGradients.NONE):
    """Symbolic derivatives of `sum(ys)` with respect to each tensor in `xs`.

    Args:
      ys: a Tensor or list of Tensors to differentiate.
      xs: a Tensor/Variable or list of them.
      grad_ys: optional initial gradients, one per y (default: ones).
      name: name scope for the gradient ops.
      stop_gradients: tensors through which no gradient flows.
      unconnected_gradients: "none" (return None) or "zero" for xs that ys do not depend on.
    Returns:
      A list with one gradient per x (None where ys do not depend on x).
    Raises:
      LookupError: an op between xs and ys has no gradient rule.
      ValueError: bad arguments (e.g. grad_ys of the wrong length).
    """
    ys_list = ys if isinstance(ys, (list, tuple)) else [ys]
    xs_list = xs if isinstance(xs, (list, tuple)) else [xs]
    ys_list = [_ops.convert_to_tensor(y) if not isinstance(y, _ops.Tensor) else y
               for y in ys_list]
    xs_list = [_as_x(x) for x in xs_list]
    if grad_ys is None:
        grad_ys = [None] * len(ys_list)
    else:
        grad_ys = grad_ys if isinstance(grad_ys, (list, tuple)) else [grad_ys]
        if len(grad_ys) != len(ys_list):
            raise ValueError("Passed %d grad_ys for %d ys" % (len(grad_ys), len(ys_list)))
    stop_tensors = stop_gradients if isinstance(stop_gradients, (list, tuple)) else (
        [stop_gradients] if stop_gradients is not None else [])
    stop_tensors = [_as_x(t) for t in stop_tensors]
    graph = ys_list[0].graph if ys_list else _ops.get_default_graph()

    with graph.as_default(), _ops.name_scope(name, "gradients",
                                             list(ys_list) + list(xs_list)):
        # Initial gradients.
        from headwater.ops import array_ops

        init = []
        for i, (y, gy) in enumerate(zip(ys_list, grad_ys)):
            if gy is None:
                if not _is_trainable(y):
                    raise TypeError("Gradients of a tensor of dtype %s are not defined: '%s' "
                                    "is not floating point." % (y.dtype.name, y.name))
                n = y.shape.num_elements()
                if n is not None and n <= 1024:
                    # A known, small shape (a scalar loss, typically): a constant seed saves the
                    # Shape and Fill ops TF1 would run on every training step.
                    gy = array_ops.constant(np.ones(y.shape.as_list(),
                                                    dtype=y.dtype.as_numpy_dtype),
                                            name="grad_ys_%d" % i)
                else:
                    gy = array_ops.fill(array_ops.shape(y),
                                        array_ops.constant(1, dtype=y.dtype,
                                                           name="grad_ys_%d" % i))
            else:
                gy = _ops.convert_to_tensor(gy, dtype=y.dtype) if not isinstance(
                    gy, IndexedSlices) else gy
            init.append(gy)

        # Ops reachable forward from xs (through data edges).
        consumers = graph._consumer_map()
        reached = set()
        queue = collections.deque(x.op for x in xs_list)
        while queue:
            op = queue.popleft()
            if op in reached:
                continue
            reached.add(op)
            for t in op._outputs:
                for c in consumers.get(t, ()):
                    if c not in reached:
                        queue.append(c)
        # Ops between: reachable backwards from ys and forwards from xs.
        between = set()
        between_list = []
        queue = collections.deque(y.op for y in ys_list)
        while queue:
            op = queue.popleft()
            if op in reached and op not in between:
                between.add(op)
                between_list.append(op)
                for t in op._inputs:
                    queue.append(t.op)
        pending = collections.Counter()
        for op in between_list:
            for t in op._inputs:
                if t.op in between:
                    pending[t.op] += 1
        # An x whose inputs lie outside the between-set ends propagation (nothing below it is
        # asked for); an x computed from another x lets gradients flow on, as in TF1.
        stop_ops = set()
        for x in xs_list:
            op = x.op
            if all(pending[t.op] == 0 for t in op._inputs):
                stop_ops.add(op)
        stop_ops.update(t.op for t in stop_tensors)

        grads = {}  # Tensor -> list of gradient pieces
        for y, gy in zip(ys_list, init):
            grads.setdefault(y, []).append(gy)

        ready = collections.deque()
        seen_ready = set()
        for y in ys_list:
            op = y.op
            if op in between and pending[op] == 0 and op not in seen_ready:
                seen_ready.add(op)
                ready.append(op)
        while ready:
            op = ready.popleft()
            out_grads = []
            has_grad = False
            for t in op._outputs:
                g = grads.get(t)
                agg = None
                if g:
                    agg = _aggregate(g)
                    grads[t] = [agg]
                if agg is not None and _is_trainable(t):
                    has_grad = True
                out_grads.append(agg)
            in_grads = None
            if has_grad and op not in stop_ops:
                fn = _grad_fn_for(op)
                if fn is not None:
                    for i, t in enumerate(op._outputs):
                        if out_grads[i] is None and _is_trainable(t):
                            out_grads[i] = _zeros_like(t)
                    with _ops.name_scope(op.name + "_grad"):
                        in_grads = fn(op, *out_grads)
                    if isinstance(in_grads, (_ops.Tensor, IndexedSlices)) or in_grads is None:
                        in_grads = [in_grads]
                    in_grads = list(in_grads)
                    if len(in_grads) != len(op._inputs):
                        raise ValueError(
                            "Num gradients %d generated for op %s do not match num inputs %d"
                            % (len(in_grads), op.name, len(op._inputs)))
            for i, t in enumerate(op._inputs):
                if in_grads is not None:
                    g = in_grads[i]
                    if g is not None and _is_trainable(t):
                        if isinstance(g, _ops.Tensor) and g.dtype.base_dtype != \
                                t.dtype.base_dtype:
                            raise TypeError(
                                "Gradient of dtype %s computed for input %d of op '%s' (%s) "
                                "whose dtype is %s." % (g.dtype.name, i, op.name, op.type,
                                                        t.dtype.name))
                        if isinstance(g, _ops.Tensor) and not g.shape.is_compatible_with(
                                t.shape):
                            raise ValueError(
                                "Gradient rule of op '%s' (%s) produced shape %s for input %d "
                                "of shape %s." % (op.name, op.type, g.shape, i, t.shape))
                        grads.setdefault(t, []).append(g)
                src = t.op
                if src in between:
                    pending[src] -= 1
                    if pending[src] == 0 and src not in seen_ready:
                        seen_ready.add(src)
                        ready.append(src)

        result = []
        for x in xs_list:
            g = grads.get(x)
            agg = _aggregate(g) if g else None
            if agg is None and unconnected_gradients == UnconnectedGradients.ZERO:
                agg = _zeros_like(x)
            result.append(agg)
    return result


def hessians(ys, xs, name="hessians", colocate_gradients_with_ops=False,
             gate_gradients=False, aggregation_method=None):
    """Second derivatives of `sum(ys)` w.r.t. each x: a tensor of shape `x.shape + x.shape`.

    The x's must have fully defined static shapes (each gradient element is differentiated
    again, as TF1 does with a loop).
    """
    from headwater.ops import array_ops

    xs_list = xs if isinstance(xs, (list, tuple)) else [xs]
    out = []
    with _ops.name_scope(name):
        first = gradients(ys, xs_list)
        for g, x in zip(first, xs_list):
            xt = _as_x(x)
            if g is None:
                out.append(None)
                continue
            shape = xt.shape
            if not shape.is_fully_defined():
                raise ValueError("hessians requires a fully defined shape for %s, got %s"
                                 % (xt.name, shape))
            n = shape.num_elements()
            flat = array_ops.reshape(g, [-1])
            rows = []
            for j in range(n):
                (h,) = gradients(flat[j], [x])
                rows.append(h if h is not None else _zeros_like(xt))
            stacked = array_ops.stack(rows) if rows else array_ops.zeros([0] + shape.as_list(),
                                                                         dtype=xt.dtype)
            out.append(array_ops.reshape(stacked, shape.as_list() + shape.as_list()))
    return out


def stop_gradient_ops():
    return set(_NOT_DIFFERENTIABLE)
