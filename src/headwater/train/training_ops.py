"""Fused optimizer update ops (TF's ApplyAdam, SparseApplyMomentum, ...).

Each op names its variable and slot variables through ref inputs (TF1's ref edges): the plan
does not evaluate them and the kernel updates the arrays held in the session's variable store
*in place*, which is what makes a training step cheap (no new array per variable per step).
The op's output is the updated variable, like TF's `out` ref output.

Kernels are numpy, written with in-place ufuncs to keep temporaries few, in exactly the order
of operations of TF's CPU kernels so float32 results agree to rounding. A compiled kernel from
`headwater._C` replaces the numpy one when it exists. Its contract: a function named
``<snake_case op type>_<f32|f64>`` (e.g. ``apply_adam_f32``, ``apply_momentum_f64``) taking
the op's inputs in TF order -- variable, slots and gradient as C-contiguous numpy arrays of the
dtype (variable and slots updated in place), scalar inputs as Python floats -- followed by the
op's bool attributes (``use_nesterov``); it returns None. Sparse ops have no native path yet.

Sparse ops follow TF's semantics: rows named by `indices` are updated with the dense rule;
duplicate indices apply the rule once per occurrence, in order (optimizers sum duplicates
first, so the vectorized path is the one that runs in practice).
"""

from __future__ import annotations

import numpy as np

from headwater._native import _C
from headwater.framework import dtypes as _dtypes
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.framework.op_registry import register_op

__all__ = [
    "apply_adadelta",
    "apply_adagrad",
    "apply_adam",
    "apply_centered_rms_prop",
    "apply_ftrl",
    "apply_ftrl_v2",
    "apply_gradient_descent",
    "apply_momentum",
    "apply_rms_prop",
    "sparse_apply_adadelta",
    "sparse_apply_adagrad",
    "sparse_apply_centered_rms_prop",
    "sparse_apply_ftrl",
    "sparse_apply_ftrl_v2",
    "sparse_apply_momentum",
    "sparse_apply_rms_prop",
]

_VARIABLE_OP_TYPES = ("VariableV2", "Variable")
_INDEX_DTYPES = (_dtypes.int32, _dtypes.int64)


def _shape_str(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


# ---- the numpy update rules (dense, in place) ------------------------------------------------
# Each takes the op's non-index inputs in TF order (variable and slots as arrays updated in
# place, scalars as 0-d arrays or numpy scalars of the variable's dtype) plus bool attrs.


def _gradient_descent(var, alpha, delta):
    var -= delta * alpha


def _momentum(var, accum, lr, grad, momentum, use_nesterov):
    accum *= momentum
    accum += grad
    if use_nesterov:
        t = grad * lr
        t += accum * momentum * lr
        var -= t
    else:
        var -= accum * lr


def _adagrad(var, accum, lr, grad, update_slots):
    if update_slots:
        accum += grad * grad
    t = grad * lr
    t /= np.sqrt(accum)
    var -= t


def _adadelta(var, accum, accum_update, lr, rho, epsilon, grad):
    one_minus_rho = 1 - rho
    accum *= rho
    accum += grad * grad * one_minus_rho
    update = accum_update + epsilon
    np.sqrt(update, out=update)
    t = accum + epsilon
    np.sqrt(t, out=t)
    update /= t
    update *= grad
    var -= update * lr
    accum_update *= rho
    np.multiply(update, update, out=update)
    update *= one_minus_rho
    accum_update += update


def _rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad):
    t = grad * grad
    t -= ms
    t *= 1 - rho
    ms += t
    np.add(ms, epsilon, out=t)
    np.sqrt(t, out=t)
    u = grad * lr
    u /= t
    mom *= momentum
    mom += u
    var -= mom


def _centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad):
    one_minus_rho = 1 - rho
    t = grad * grad
    t -= ms
    t *= one_minus_rho
    ms += t
    np.subtract(grad, mg, out=t)
    t *= one_minus_rho
    mg += t
    # denom = (ms - mg^2) + epsilon, applied as grad * lr * rsqrt(denom) like TF.
    np.multiply(mg, mg, out=t)
    np.subtract(ms, t, out=t)
    t += epsilon
    np.sqrt(t, out=t)
    u = grad * lr
    u /= t
    mom *= momentum
    mom += u
    var -= mom


def _adam(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad, use_nesterov):
    one = beta1.dtype.type(1)
    alpha = lr * np.sqrt(one - beta2_power) / (one - beta1_power)
    t = grad - m
    t *= one - beta1
    m += t
    np.multiply(grad, grad, out=t)
    t -= v
    t *= one - beta2
    v += t
    if use_nesterov:
        u = grad * (one - beta1)
        u += beta1 * m
        u *= alpha
    else:
        u = m * alpha
    np.sqrt(v, out=t)
    t += epsilon
    u /= t
    var -= u


def _ftrl_core(var, accum, linear, grad, lr, l1, l2, lr_power, shrinkage):
    g2 = grad * grad
    new_accum = accum + g2
    if lr_power == -0.5:
        new_pow = np.sqrt(new_accum)
        sigma = new_pow - np.sqrt(accum)
    else:
        new_pow = np.power(new_accum, -lr_power)
        sigma = new_pow - np.power(accum, -lr_power)
    sigma /= lr
    sigma *= var
    # linear += grad_with_shrinkage - sigma * var, rounded in TF's order.
    if shrinkage is None:
        np.subtract(grad, sigma, out=sigma)
    else:
        np.subtract(grad + (2 * shrinkage) * var, sigma, out=sigma)
    linear += sigma
    x = np.sign(linear)
    x *= l1
    x -= linear
    new_pow /= lr
    new_pow += 2 * l2
    x /= new_pow
    np.copyto(var, np.where(np.abs(linear) > l1, x, 0))
    accum += g2


def _ftrl(var, accum, linear, grad, lr, l1, l2, lr_power):
    _ftrl_core(var, accum, linear, grad, lr, l1, l2, lr_power, None)


def _ftrl_v2(var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power):
    _ftrl_core(var, accum, linear, grad, lr, l1, l2, lr_power, l2_shrinkage)


# ---- op specs --------------------------------------------------------------------------------


class _Spec:
    """Input layout of one training op type."""

    __slots__ = ("type", "names", "n_ref", "grad", "indices", "scalars", "rule", "bool_attrs",
                 "snake")

    def __init__(self, type, names, n_ref, rule, bool_attrs=(), sparse=False):
        self.type = type
        self.names = tuple(names)
        self.n_ref = n_ref
        self.grad = self.names.index("grad" if "grad" in names else "delta")
        self.indices = self.names.index("indices") if sparse else None
        self.scalars = tuple(i for i, n in enumerate(self.names)
                             if i >= n_ref and i != self.grad and i != self.indices)
        self.rule = rule
        self.bool_attrs = tuple(bool_attrs)
        snake = []
        for i, ch in enumerate(type):
            if ch.isupper() and i and not type[i - 1].isupper():
                snake.append("_")
            snake.append(ch.lower())
        self.snake = "".join(snake).replace("rmsprop", "rms_prop")


_SPECS = {}


def _spec(type, names, n_ref, rule, bool_attrs=(), sparse=False):
    s = _Spec(type, names, n_ref, rule, bool_attrs, sparse)
    _SPECS[type] = s
    return s


def _infer_for(spec):
    op_type = spec.type

    def infer(inputs, attrs):
        names = spec.names
        if len(inputs) != len(names):
            raise ValueError("%s takes %d inputs (%s), got %d." % (
                op_type, len(names), ", ".join(names), len(inputs)))
        var = inputs[0]
        dt = var._dtype.base_dtype
        if not (dt.is_floating or dt.is_complex):
            raise TypeError("Value passed to parameter 'var' of '%s' Op has DataType %s not in "
                            "list of allowed values: float16, bfloat16, float32, float64, "
                            "complex64, complex128" % (op_type, dt.name))
        for i in range(spec.n_ref):
            if inputs[i]._op._type not in _VARIABLE_OP_TYPES:
                raise TypeError("Input '%s' of '%s' Op requires l-value input (a variable), "
                                "got %s." % (names[i], op_type, inputs[i].name))
        for i, t in enumerate(inputs):
            if i == spec.indices:
                if t._dtype not in _INDEX_DTYPES:
                    raise TypeError("Value passed to parameter 'indices' of '%s' Op has "
                                    "DataType %s not in list of allowed values: int32, int64"
                                    % (op_type, t._dtype.name))
            elif t._dtype.base_dtype != dt:
                raise TypeError("Input '%s' of '%s' Op has type %s that does not match type %s "
                                "of argument 'var'." % (names[i], op_type, t._dtype.name,
                                                        dt.name))
        for i in spec.scalars:
            d = inputs[i]._shape._dims
            if d is not None and len(d) != 0:
                raise ValueError("Shape must be rank 0 but is rank %d for '%s' (op: '%s'): "
                                 "%s is not a scalar: %s" % (len(d), op_type, op_type,
                                                             names[i], inputs[i]._shape))
        shape = var._shape
        for i in range(1, spec.n_ref):
            if not shape.is_compatible_with(inputs[i]._shape):
                raise ValueError("var and %s do not have the same shape: %s vs %s for '%s'."
                                 % (names[i], shape, inputs[i]._shape, op_type))
            shape = shape.merge_with(inputs[i]._shape)
        grad = inputs[spec.grad]
        if spec.indices is None:
            if not shape.is_compatible_with(grad._shape):
                raise ValueError("var and grad do not have the same shape: %s vs %s for '%s'."
                                 % (shape, grad._shape, op_type))
            shape = shape.merge_with(grad._shape)
        else:
            idx = inputs[spec.indices]._shape
            if idx._dims is not None and len(idx._dims) != 1:
                raise ValueError("indices must be one-dimensional, got shape %s for '%s'."
                                 % (idx, op_type))
            gd, vd = grad._shape._dims, shape._dims
            if gd is not None and vd is not None:
                if len(gd) != len(vd) or not vd:
                    raise ValueError("var and grad must have the same rank (at least 1), got "
                                     "%s and %s for '%s'." % (shape, grad._shape, op_type))
                for k in range(1, len(vd)):
                    if vd[k] is not None and gd[k] is not None and vd[k] != gd[k]:
                        raise ValueError("var and grad must match in dimension %d: %s vs %s "
                                         "for '%s'." % (k, shape, grad._shape, op_type))
            if gd and idx._dims and gd[0] is not None and idx._dims[0] is not None \
                    and gd[0] != idx._dims[0]:
                raise ValueError("grad must be the same size as indices in the first "
                                 "dimension: %s vs %s for '%s'." % (grad._shape, idx, op_type))
        return [(var._dtype, shape)]
    return infer


def _variable_getter(variables, var_op, name):
    msg = "Attempting to use uninitialized value %s" % var_op.name

    def get():
        try:
            cur = variables[var_op]
        except KeyError:
            raise errors.FailedPreconditionError(None, None, msg) from None
        if not cur.flags.writeable or type(cur) is not np.ndarray:
            # Assign always stores a private writable copy; anything else (a value loaded
            # from outside) is copied once so the in-place updates below never touch memory
            # owned by someone else.
            cur = np.array(cur)
            variables[var_op] = cur
        return cur
    return get


def _dense_kernel(spec):
    rule = spec.rule
    n_ref = spec.n_ref
    names = spec.names

    def kernel(op, ctx):
        variables = ctx.variables
        getters = [_variable_getter(variables, op._inputs[i]._op, names[i])
                   for i in range(n_ref)]
        flags = tuple(bool(op._attrs.get(a, False)) for a in spec.bool_attrs)
        np_dtype = np.dtype(op._inputs[0]._dtype.base_dtype.as_numpy_dtype)
        native = None
        if _C is not None and np_dtype in (np.float32, np.float64):
            native = getattr(_C, "%s_%s" % (spec.snake, "f32" if np_dtype == np.float32
                                            else "f64"), None)
        grad_pos = spec.grad - n_ref  # position of grad among the kernel's arguments

        def check(arrays, grad):
            shape = arrays[0].shape
            for i in range(1, n_ref):
                if arrays[i].shape != shape:
                    raise errors.InvalidArgumentError(
                        None, None, "var and %s do not have the same shape%s %s"
                        % (names[i], _shape_str(shape), _shape_str(arrays[i].shape)))
            if grad.shape != shape:
                raise errors.InvalidArgumentError(
                    None, None, "var and grad do not have the same shape%s %s"
                    % (_shape_str(shape), _shape_str(grad.shape)))

        if n_ref == 1 and grad_pos == 1 and native is None and not flags:
            # ApplyGradientDescent: the per-step hot path of small models.
            get = getters[0]

            def apply_one(alpha, delta):
                var = get()
                if delta.shape != var.shape:
                    check([var], np.asarray(delta))
                rule(var, alpha, delta)
                return var
            return apply_one

        def apply(*vals):
            arrays = [g() for g in getters]
            grad = vals[grad_pos]
            if type(grad) is not np.ndarray:
                grad = np.asarray(grad, dtype=np_dtype)
            check(arrays, grad)
            if native is not None and grad.dtype == np_dtype and grad.flags.c_contiguous \
                    and all(a.flags.c_contiguous for a in arrays):
                args = list(arrays)
                for i, v in enumerate(vals):
                    args.append(grad if i == grad_pos else float(v))
                native(*args, *flags)
            else:
                rule(*arrays, *vals, *flags)
            return arrays[0]
        return apply
    return kernel


def _sparse_kernel(spec):
    rule = spec.rule
    n_ref = spec.n_ref
    names = spec.names
    # Kernel arguments are the non-ref inputs; the dense rule wants them without indices.
    grad_pos = spec.grad - n_ref
    idx_pos = spec.indices - n_ref

    def kernel(op, ctx):
        variables = ctx.variables
        getters = [_variable_getter(variables, op._inputs[i]._op, names[i])
                   for i in range(n_ref)]
        flags = tuple(bool(op._attrs.get(a, False)) for a in spec.bool_attrs)

        def apply(*vals):
            arrays = [g() for g in getters]
            var = arrays[0]
            indices = np.asarray(vals[idx_pos])
            grad = np.asarray(vals[grad_pos])
            rest = [v for i, v in enumerate(vals) if i != idx_pos]
            if var.ndim < 1:
                raise errors.InvalidArgumentError(None, None,
                                                  "var must be at least 1 dimensional")
            for i in range(1, n_ref):
                if arrays[i].shape != var.shape:
                    raise errors.InvalidArgumentError(
                        None, None, "var and %s do not have the same shape%s %s"
                        % (names[i], _shape_str(var.shape), _shape_str(arrays[i].shape)))
            if indices.ndim != 1:
                raise errors.InvalidArgumentError(None, None, "indices must be one-dimensional")
            if grad.shape != indices.shape + var.shape[1:]:
                raise errors.InvalidArgumentError(
                    None, None, "grad must have shape indices.shape + var.shape[1:] = %s, got "
                    "%s" % (_shape_str(indices.shape + var.shape[1:]), _shape_str(grad.shape)))
            n = indices.size
            if n == 0:
                return var
            first = var.shape[0]
            lo, hi = indices.min(), indices.max()
            if lo < 0 or hi >= first:
                bad = int(np.flatnonzero((indices < 0) | (indices >= first))[0])
                raise errors.InvalidArgumentError(
                    None, None, "Index %d at offset %d in indices is out of range [0, %d)"
                    % (int(indices[bad]), bad, first))
            if n == 1 or np.unique(indices).size == n:
                rows = [a[indices] for a in arrays]
                rest[grad_pos] = grad
                rule(*rows, *rest, *flags)
                for a, r in zip(arrays, rows):
                    a[indices] = r
            else:
                # Duplicates: TF applies the rule once per occurrence, in order.
                for k in range(n):
                    j = int(indices[k])
                    rest[grad_pos] = grad[k:k + 1]
                    rule(*[a[j:j + 1] for a in arrays], *rest, *flags)
            return var
        return apply
    return kernel


def _register(spec):
    kernel = _sparse_kernel(spec) if spec.indices is not None else _dense_kernel(spec)
    register_op(spec.type, _infer_for(spec), kernel, stateful=True,
                ref_inputs=tuple(range(spec.n_ref)), aliases=True)


for _s in (
    _spec("ApplyGradientDescent", ("var", "alpha", "delta"), 1, _gradient_descent),
    _spec("ApplyMomentum", ("var", "accum", "lr", "grad", "momentum"), 2, _momentum,
          ("use_nesterov",)),
    _spec("SparseApplyMomentum", ("var", "accum", "lr", "grad", "indices", "momentum"), 2,
          _momentum, ("use_nesterov",), sparse=True),
    _spec("ApplyAdagrad", ("var", "accum", "lr", "grad"), 2, _adagrad, ("update_slots",)),
    _spec("SparseApplyAdagrad", ("var", "accum", "lr", "grad", "indices"), 2, _adagrad,
          ("update_slots",), sparse=True),
    _spec("ApplyAdadelta", ("var", "accum", "accum_update", "lr", "rho", "epsilon", "grad"), 3,
          _adadelta),
    _spec("SparseApplyAdadelta", ("var", "accum", "accum_update", "lr", "rho", "epsilon",
                                  "grad", "indices"), 3, _adadelta, sparse=True),
    _spec("ApplyRMSProp", ("var", "ms", "mom", "lr", "rho", "momentum", "epsilon", "grad"), 3,
          _rms_prop),
    _spec("SparseApplyRMSProp", ("var", "ms", "mom", "lr", "rho", "momentum", "epsilon",
                                 "grad", "indices"), 3, _rms_prop, sparse=True),
    _spec("ApplyCenteredRMSProp", ("var", "mg", "ms", "mom", "lr", "rho", "momentum",
                                   "epsilon", "grad"), 4, _centered_rms_prop),
    _spec("SparseApplyCenteredRMSProp", ("var", "mg", "ms", "mom", "lr", "rho", "momentum",
                                         "epsilon", "grad", "indices"), 4, _centered_rms_prop,
          sparse=True),
    _spec("ApplyAdam", ("var", "m", "v", "beta1_power", "beta2_power", "lr", "beta1", "beta2",
                        "epsilon", "grad"), 3, _adam, ("use_nesterov",)),
    _spec("ApplyFtrl", ("var", "accum", "linear", "grad", "lr", "l1", "l2", "lr_power"), 3,
          _ftrl),
    _spec("ApplyFtrlV2", ("var", "accum", "linear", "grad", "lr", "l1", "l2", "l2_shrinkage",
                          "lr_power"), 3, _ftrl_v2),
    _spec("SparseApplyFtrl", ("var", "accum", "linear", "grad", "indices", "lr", "l1", "l2",
                              "lr_power"), 3, _ftrl, sparse=True),
    _spec("SparseApplyFtrlV2", ("var", "accum", "linear", "grad", "indices", "lr", "l1", "l2",
                                "l2_shrinkage", "lr_power"), 3, _ftrl_v2, sparse=True),
):
    _register(_s)
del _s


def registered_training_op_types():
    """The op types defined here (for tests that cover every one)."""
    return sorted(_SPECS)


# ---- graph builders (TF's gen_training_ops) --------------------------------------------------


def _ref(v, op_type, arg):
    """The VariableV2 output tensor behind `v` (a Variable or its variable tensor)."""
    if isinstance(v, _ops.Tensor):
        if v._op._type in _VARIABLE_OP_TYPES:
            return v
    else:
        t = getattr(v, "_variable", None)
        if isinstance(t, _ops.Tensor):
            return t
    raise TypeError("Input '%s' of '%s' Op requires l-value input (a tf.Variable or its "
                    "variable tensor), got %r." % (arg, op_type, v))


def _build(op_type, args, attrs, name):
    spec = _SPECS[op_type]
    var = _ref(args[0], op_type, spec.names[0])
    dt = var._dtype.base_dtype
    inputs = [var]
    for i in range(1, len(args)):
        a = args[i]
        if i < spec.n_ref:
            inputs.append(_ref(a, op_type, spec.names[i]))
        elif i == spec.indices:
            inputs.append(_ops.convert_to_tensor(a, preferred_dtype=_dtypes.int32))
        else:
            inputs.append(_ops.convert_to_tensor(a, preferred_dtype=dt))
    attrs = dict(attrs)
    attrs["T"] = dt
    if spec.indices is not None:
        attrs["Tindices"] = inputs[spec.indices]._dtype
    return _ops.apply_op(op_type, inputs, attrs, name=name, graph=var.graph)


def apply_gradient_descent(var, alpha, delta, use_locking=False, name=None):
    """var -= alpha * delta. Returns the updated variable."""
    return _build("ApplyGradientDescent", (var, alpha, delta),
                  {"use_locking": bool(use_locking)}, name)


def apply_momentum(var, accum, lr, grad, momentum, use_locking=False, use_nesterov=False,
                   name=None):
    """accum = accum * momentum + grad; var -= lr * accum (Nesterov: lr * (grad + momentum *
    accum))."""
    return _build("ApplyMomentum", (var, accum, lr, grad, momentum),
                  {"use_locking": bool(use_locking), "use_nesterov": bool(use_nesterov)}, name)


def sparse_apply_momentum(var, accum, lr, grad, indices, momentum, use_locking=False,
                          use_nesterov=False, name=None):
    """`apply_momentum` on the rows `indices` of var and accum."""
    return _build("SparseApplyMomentum", (var, accum, lr, grad, indices, momentum),
                  {"use_locking": bool(use_locking), "use_nesterov": bool(use_nesterov)}, name)


def apply_adagrad(var, accum, lr, grad, use_locking=False, update_slots=True, name=None):
    """accum += grad^2; var -= lr * grad / sqrt(accum)."""
    return _build("ApplyAdagrad", (var, accum, lr, grad),
                  {"use_locking": bool(use_locking), "update_slots": bool(update_slots)}, name)


def sparse_apply_adagrad(var, accum, lr, grad, indices, use_locking=False, update_slots=True,
                         name=None):
    """`apply_adagrad` on the rows `indices`."""
    return _build("SparseApplyAdagrad", (var, accum, lr, grad, indices),
                  {"use_locking": bool(use_locking), "update_slots": bool(update_slots)}, name)


def apply_adadelta(var, accum, accum_update, lr, rho, epsilon, grad, use_locking=False,
                   name=None):
    """The Adadelta update (Zeiler 2012) as TF's ApplyAdadelta kernel computes it."""
    return _build("ApplyAdadelta", (var, accum, accum_update, lr, rho, epsilon, grad),
                  {"use_locking": bool(use_locking)}, name)


def sparse_apply_adadelta(var, accum, accum_update, lr, rho, epsilon, grad, indices,
                          use_locking=False, name=None):
    """`apply_adadelta` on the rows `indices`."""
    return _build("SparseApplyAdadelta",
                  (var, accum, accum_update, lr, rho, epsilon, grad, indices),
                  {"use_locking": bool(use_locking)}, name)


def apply_rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad, use_locking=False,
                   name=None):
    """ms += (grad^2 - ms)(1 - rho); mom = mom * momentum + lr * grad / sqrt(ms + epsilon);
    var -= mom."""
    return _build("ApplyRMSProp", (var, ms, mom, lr, rho, momentum, epsilon, grad),
                  {"use_locking": bool(use_locking)}, name)


def sparse_apply_rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad, indices,
                          use_locking=False, name=None):
    """`apply_rms_prop` on the rows `indices`."""
    return _build("SparseApplyRMSProp", (var, ms, mom, lr, rho, momentum, epsilon, grad,
                                         indices), {"use_locking": bool(use_locking)}, name)


def apply_centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad,
                            use_locking=False, name=None):
    """Centered RMSProp: the denominator uses ms - mg^2 (mg: running mean of grad)."""
    return _build("ApplyCenteredRMSProp", (var, mg, ms, mom, lr, rho, momentum, epsilon, grad),
                  {"use_locking": bool(use_locking)}, name)


def sparse_apply_centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad, indices,
                                   use_locking=False, name=None):
    """`apply_centered_rms_prop` on the rows `indices`."""
    return _build("SparseApplyCenteredRMSProp", (var, mg, ms, mom, lr, rho, momentum, epsilon,
                                                 grad, indices),
                  {"use_locking": bool(use_locking)}, name)


def apply_adam(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
               use_locking=False, use_nesterov=False, name=None):
    """The Adam update with bias correction folded into the step size, as TF's ApplyAdam."""
    return _build("ApplyAdam", (var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon,
                                grad),
                  {"use_locking": bool(use_locking), "use_nesterov": bool(use_nesterov)}, name)


def apply_ftrl(var, accum, linear, grad, lr, l1, l2, lr_power, use_locking=False,
               multiply_linear_by_lr=False, name=None):
    """FTRL-proximal update (McMahan et al. 2013), as TF's ApplyFtrl."""
    if multiply_linear_by_lr:
        raise NotImplementedError("ApplyFtrl(multiply_linear_by_lr=True) is not supported.")
    return _build("ApplyFtrl", (var, accum, linear, grad, lr, l1, l2, lr_power),
                  {"use_locking": bool(use_locking)}, name)


def apply_ftrl_v2(var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power,
                  use_locking=False, multiply_linear_by_lr=False, name=None):
    """FTRL-proximal with L2 shrinkage added to the gradient for the linear term."""
    if multiply_linear_by_lr:
        raise NotImplementedError("ApplyFtrlV2(multiply_linear_by_lr=True) is not supported.")
    return _build("ApplyFtrlV2", (var, accum, linear, grad, lr, l1, l2, l2_shrinkage,
                                  lr_power), {"use_locking": bool(use_locking)}, name)


def sparse_apply_ftrl(var, accum, linear, grad, indices, lr, l1, l2, lr_power,
                      use_locking=False, multiply_linear_by_lr=False, name=None):
    """`apply_ftrl` on the rows `indices`."""
    if multiply_linear_by_lr:
        raise NotImplementedError("SparseApplyFtrl(multiply_linear_by_lr=True) is not "
                                  "supported.")
    return _build("SparseApplyFtrl", (var, accum, linear, grad, indices, lr, l1, l2, lr_power),
                  {"use_locking": bool(use_locking)}, name)


def sparse_apply_ftrl_v2(var, accum, linear, grad, indices, lr, l1, l2, l2_shrinkage, lr_power,
                         use_locking=False, multiply_linear_by_lr=False, name=None):
    """`apply_ftrl_v2` on the rows `indices`."""
    if multiply_linear_by_lr:
        raise NotImplementedError("SparseApplyFtrlV2(multiply_linear_by_lr=True) is not "
                                  "supported.")
    return _build("SparseApplyFtrlV2", (var, accum, linear, grad, indices, lr, l1, l2,
                                        l2_shrinkage, lr_power),
                  {"use_locking": bool(use_locking)}, name)
