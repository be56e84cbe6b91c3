"""Fused optimizer update ops (TF's ApplyAdam, SparseApplyMomentum, ...).

Each op names its variable and slot variables through ref inputs (TF1's ref edges): the plan
does not evaluate them and the kernel updates the arrays held in the session's variable store
*in place*, which is what makes a training step cheap (no new array per variable per step).
The op's output is the updated variable, like TF's `out` ref output.

Kernels are numpy, in the order of operations of TF's CPU kernels so float32 results agree to
rounding: big variables are updated with `out=` ufuncs (few temporaries), small ones through
value-returning forms (numpy scalar arithmetic for one element), where the fixed cost of
in-place ufuncs would dominate. A compiled kernel from
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

import operator

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


# ---- the numpy update rules ------------------------------------------------------------------
# Two forms per rule, computing the same roundings in TF's order:
# - `_<name>(...)` updates large arrays in place with `out=` ufuncs (no full-size temporaries
#   beyond one or two scratch arrays);
# - `_<name>_x(...)` returns the new values. On numpy scalars (1-element variables) it costs a
#   few tens of ns per operation, and on small arrays allocating results beats in-place ufuncs,
#   whose fixed overhead is several times larger.
# Arguments are the op's non-index inputs in TF order (variable and slots, scalars as numpy
# scalars or 0-d arrays of the variable's dtype, the gradient) plus its bool attrs.

_add, _sub, _mul, _div, _sqrt = np.add, np.subtract, np.multiply, np.divide, np.sqrt


def _gradient_descent(var, alpha, delta):
    _sub(var, _mul(delta, alpha), out=var)


def _gradient_descent_x(var, alpha, delta):
    return (var - delta * alpha,)


def _momentum(var, accum, lr, grad, momentum, use_nesterov):
    _mul(accum, momentum, out=accum)
    _add(accum, grad, out=accum)
    if use_nesterov:
        t = _mul(grad, lr)
        _add(t, _mul(_mul(accum, momentum), lr), out=t)
    else:
        t = _mul(accum, lr)
    _sub(var, t, out=var)


def _momentum_x(var, accum, lr, grad, momentum, use_nesterov):
    accum = accum * momentum + grad
    if use_nesterov:
        return var - (grad * lr + accum * momentum * lr), accum
    return var - accum * lr, accum


def _adagrad(var, accum, lr, grad, update_slots):
    if update_slots:
        _add(accum, _mul(grad, grad), out=accum)
    t = _mul(grad, lr)
    _div(t, _sqrt(accum), out=t)
    _sub(var, t, out=var)


def _adagrad_x(var, accum, lr, grad, update_slots):
    if update_slots:
        accum = accum + grad * grad
    return var - grad * lr / _sqrt(accum), accum


def _adadelta(var, accum, accum_update, lr, rho, epsilon, grad):
    one_minus_rho = 1 - rho
    _mul(accum, rho, out=accum)
    t = _mul(grad, grad)
    _mul(t, one_minus_rho, out=t)
    _add(accum, t, out=accum)
    update = _add(accum_update, epsilon)
    _sqrt(update, out=update)
    _add(accum, epsilon, out=t)
    _sqrt(t, out=t)
    _div(update, t, out=update)
    _mul(update, grad, out=update)
    _sub(var, _mul(update, lr, out=t), out=var)
    _mul(accum_update, rho, out=accum_update)
    _mul(update, update, out=update)
    _mul(update, one_minus_rho, out=update)
    _add(accum_update, update, out=accum_update)


def _adadelta_x(var, accum, accum_update, lr, rho, epsilon, grad):
    one_minus_rho = 1 - rho
    accum = accum * rho + grad * grad * one_minus_rho
    update = _sqrt(accum_update + epsilon) / _sqrt(accum + epsilon) * grad
    var = var - update * lr
    accum_update = accum_update * rho + update * update * one_minus_rho
    return var, accum, accum_update


def _rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad):
    t = _mul(grad, grad)
    _sub(t, ms, out=t)
    _mul(t, 1 - rho, out=t)
    _add(ms, t, out=ms)
    _add(ms, epsilon, out=t)
    _sqrt(t, out=t)
    u = _mul(grad, lr)
    _div(u, t, out=u)
    _mul(mom, momentum, out=mom)
    _add(mom, u, out=mom)
    _sub(var, mom, out=var)


def _rms_prop_x(var, ms, mom, lr, rho, momentum, epsilon, grad):
    ms = ms + (grad * grad - ms) * (1 - rho)
    mom = mom * momentum + grad * lr / _sqrt(ms + epsilon)
    return var - mom, ms, mom


def _centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad):
    one_minus_rho = 1 - rho
    t = _mul(grad, grad)
    _sub(t, ms, out=t)
    _mul(t, one_minus_rho, out=t)
    _add(ms, t, out=ms)
    _sub(grad, mg, out=t)
    _mul(t, one_minus_rho, out=t)
    _add(mg, t, out=mg)
    # denom = (ms - mg^2) + epsilon; TF scales grad * lr by rsqrt(denom).
    _mul(mg, mg, out=t)
    _sub(ms, t, out=t)
    _add(t, epsilon, out=t)
    _sqrt(t, out=t)
    u = _mul(grad, lr)
    _div(u, t, out=u)
    _mul(mom, momentum, out=mom)
    _add(mom, u, out=mom)
    _sub(var, mom, out=var)


def _centered_rms_prop_x(var, mg, ms, mom, lr, rho, momentum, epsilon, grad):
    one_minus_rho = 1 - rho
    ms = ms + (grad * grad - ms) * one_minus_rho
    mg = mg + (grad - mg) * one_minus_rho
    mom = mom * momentum + grad * lr / _sqrt(ms - mg * mg + epsilon)
    return var - mom, mg, ms, mom


def _adam_alpha(beta1_power, beta2_power, lr):
    # The bias correction folded into the step size, in the variable's dtype.
    return lr * _sqrt(1 - beta2_power) / (1 - beta1_power)


def _adam(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad, use_nesterov):
    alpha = _adam_alpha(beta1_power, beta2_power, lr)
    t = _sub(grad, m)
    _mul(t, 1 - beta1, out=t)
    _add(m, t, out=m)
    _mul(grad, grad, out=t)
    _sub(t, v, out=t)
    _mul(t, 1 - beta2, out=t)
    _add(v, t, out=v)
    if use_nesterov:
        u = _mul(grad, 1 - beta1)
        _add(u, _mul(m, beta1), out=u)
        _mul(u, alpha, out=u)
    else:
        u = _mul(m, alpha)
    _sqrt(v, out=t)
    _add(t, epsilon, out=t)
    _div(u, t, out=u)
    _sub(var, u, out=var)


def _adam_x(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
            use_nesterov):
    alpha = _adam_alpha(beta1_power, beta2_power, lr)
    m = m + (grad - m) * (1 - beta1)
    v = v + (grad * grad - v) * (1 - beta2)
    if use_nesterov:
        u = (grad * (1 - beta1) + beta1 * m) * alpha
    else:
        u = m * alpha
    return var - u / (_sqrt(v) + epsilon), m, v


def _ftrl_x(var, accum, linear, grad, lr, l1, l2, lr_power, shrinkage=None):
    new_accum = accum + grad * grad
    if lr_power == -0.5:
        new_pow = _sqrt(new_accum)
        sigma = (new_pow - _sqrt(accum)) / lr * var
    else:
        new_pow = np.power(new_accum, -lr_power)
        sigma = (new_pow - np.power(accum, -lr_power)) / lr * var
    g = grad if shrinkage is None else grad + 2 * shrinkage * var
    linear = linear + (g - sigma)
    x = np.sign(linear) * l1 - linear
    y = new_pow / lr + 2 * l2
    var = np.where(np.abs(linear) > l1, x / y, 0).astype(x.dtype, copy=False)
    return var, new_accum, linear


def _ftrl_v2_x(var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power):
    return _ftrl_x(var, accum, linear, grad, lr, l1, l2, lr_power, l2_shrinkage)


# ---- op specs --------------------------------------------------------------------------------


class _Spec:
    """Input layout of one training op type."""

    __slots__ = ("bool_attrs", "expr", "grad", "indices", "n_ref", "names", "rule", "scalars",
                 "snake", "type")

    def __init__(self, type, names, n_ref, rule, expr, bool_attrs=(), sparse=False):
        self.type = type
        self.names = tuple(names)
        self.n_ref = n_ref
        self.grad = self.names.index("grad" if "grad" in names else "delta")
        self.indices = self.names.index("indices") if sparse else None
        self.scalars = tuple(i for i, n in enumerate(self.names)
                             if i >= n_ref and i != self.grad and i != self.indices)
        self.rule = rule
        self.expr = expr
        self.bool_attrs = tuple(bool_attrs)
        snake = []
        for i, ch in enumerate(type):
            if ch.isupper() and i and not type[i - 1].isupper():
                snake.append("_")
            snake.append(ch.lower())
        self.snake = "".join(snake).replace("rmsprop", "rms_prop")


_SPECS = {}


def _spec(type, names, n_ref, rules, bool_attrs=(), sparse=False):
    s = _Spec(type, names, n_ref, rules[0], rules[1], bool_attrs, sparse)
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


# Variables of at most this many elements are updated through the `_x` form of the rule
# (new values copied back); bigger ones in place. Read when a plan binds the kernel.
_SMALL_ELEMENTS = 4096


def _scalar(v):
    # Hyperparameters arrive as 0-d arrays; numpy scalars make the arithmetic cheap.
    return v[()] if type(v) is np.ndarray else v


def _dense_kernel(spec):
    n_ref = spec.n_ref
    names = spec.names
    grad_pos = spec.grad - n_ref  # position of grad among the kernel's arguments

    def kernel(op, ctx):
        rule = spec.rule
        expr = spec.expr
        small = _SMALL_ELEMENTS
        variables = ctx.variables
        getters = [_variable_getter(variables, op._inputs[i]._op, names[i])
                   for i in range(n_ref)]
        flags = tuple(bool(op._attrs.get(a, False)) for a in spec.bool_attrs)
        np_dtype = np.dtype(op._inputs[0]._dtype.base_dtype.as_numpy_dtype)
        native = None
        if _C is not None and np_dtype in (np.float32, np.float64):
            native = getattr(_C, "%s_%s" % (spec.snake, "f32" if np_dtype == np.float32
                                            else "f64"), None)

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

        # The slot arrays and gradient shape the native update last ran on after the full
        # checks: while the variables still hold those arrays (an assign may swap them) and
        # the gradient matches, the hyperparameters go straight to the kernel, which takes
        # numpy scalars as they come and rejects anything but a scalar.
        checked = [None, None]
        same = operator.is_

        def apply(*vals):
            arrays = [g() for g in getters]
            grad = vals[grad_pos]
            if checked[0] is not None and type(grad) is np.ndarray and \
                    grad.shape == checked[1] and grad.dtype == np_dtype and \
                    grad.flags.c_contiguous and all(map(same, arrays, checked[0])):
                try:
                    native(*arrays, *vals, *flags)
                    return arrays[0]
                except TypeError:
                    pass  # a hyperparameter that is not a plain scalar: the full path
            var = arrays[0]
            if type(grad) is not np.ndarray:
                grad = np.asarray(grad, dtype=np_dtype)
            check(arrays, grad)
            n = var.size
            if native is not None and grad.dtype == np_dtype and \
                    grad.flags.c_contiguous and all(a.flags.c_contiguous for a in arrays):
                args = list(arrays)
                for i, v in enumerate(vals):
                    args.append(grad if i == grad_pos else float(v))
                native(*args, *flags)
                checked[0], checked[1] = arrays, grad.shape
            elif n == 1:
                # One element: numpy scalar arithmetic in the variable's dtype.
                idx = (0,) * var.ndim
                args = [a[idx] for a in arrays]
                args.extend([grad[idx] if i == grad_pos else _scalar(v)
                             for i, v in enumerate(vals)])
                for a, new in zip(arrays, expr(*args, *flags)):
                    a[idx] = new
            elif n <= small or rule is None:
                args = list(arrays)
                args.extend([grad if i == grad_pos else _scalar(v)
                             for i, v in enumerate(vals)])
                for a, new in zip(arrays, expr(*args, *flags)):
                    np.copyto(a, new)
            else:
                rule(*arrays, *vals, *flags)
            return var
        return apply
    return kernel


def _sparse_kernel(spec):
    n_ref = spec.n_ref
    names = spec.names
    # Kernel arguments are the non-ref inputs; the rule wants them without the indices.
    grad_pos = spec.grad - n_ref
    idx_pos = spec.indices - n_ref

    def kernel(op, ctx):
        expr = spec.expr
        variables = ctx.variables
        getters = [_variable_getter(variables, op._inputs[i]._op, names[i])
                   for i in range(n_ref)]
        flags = tuple(bool(op._attrs.get(a, False)) for a in spec.bool_attrs)

        def apply(*vals):
            arrays = [g() for g in getters]
            var = arrays[0]
            indices = np.asarray(vals[idx_pos])
            grad = np.asarray(vals[grad_pos])
            rest = [_scalar(v) for i, v in enumerate(vals) if i != idx_pos]
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
                rest[grad_pos] = grad
                news = expr(*[a[indices] for a in arrays], *rest, *flags)
                for a, new in zip(arrays, news):
                    a[indices] = new
            else:
                # Duplicates: TF applies the rule once per occurrence, in order.
                for k in range(n):
                    j = int(indices[k])
                    rest[grad_pos] = grad[k:k + 1]
                    news = expr(*[a[j:j + 1] for a in arrays], *rest, *flags)
                    for a, new in zip(arrays, news):
                        a[j:j + 1] = new
            return var
        return apply
    return kernel


def _register(spec):
    kernel = _sparse_kernel(spec) if spec.indices is not None else _dense_kernel(spec)
    register_op(spec.type, _infer_for(spec), kernel, stateful=True,
                ref_inputs=tuple(range(spec.n_ref)), aliases=True)


for _s in (
    _spec("ApplyGradientDescent", ("var", "alpha", "delta"), 1,
          (_gradient_descent, _gradient_descent_x)),
    _spec("ApplyMomentum", ("var", "accum", "lr", "grad", "momentum"), 2,
          (_momentum, _momentum_x), ("use_nesterov",)),
    _spec("SparseApplyMomentum", ("var", "accum", "lr", "grad", "indices", "momentum"), 2,
          (_momentum, _momentum_x), ("use_nesterov",), sparse=True),
    _spec("ApplyAdagrad", ("var", "accum", "lr", "grad"), 2, (_adagrad, _adagrad_x),
          ("update_slots",)),
    _spec("SparseApplyAdagrad", ("var", "accum", "lr", "grad", "indices"), 2,
          (_adagrad, _adagrad_x), ("update_slots",), sparse=True),
    _spec("ApplyAdadelta", ("var", "accum", "accum_update", "lr", "rho", "epsilon", "grad"), 3,
          (_adadelta, _adadelta_x)),
    _spec("SparseApplyAdadelta", ("var", "accum", "accum_update", "lr", "rho", "epsilon",
                                  "grad", "indices"), 3, (_adadelta, _adadelta_x),
          sparse=True),
    _spec("ApplyRMSProp", ("var", "ms", "mom", "lr", "rho", "momentum", "epsilon", "grad"), 3,
          (_rms_prop, _rms_prop_x)),
    _spec("SparseApplyRMSProp", ("var", "ms", "mom", "lr", "rho", "momentum", "epsilon",
                                 "grad", "indices"), 3, (_rms_prop, _rms_prop_x),
          sparse=True),
    _spec("ApplyCenteredRMSProp", ("var", "mg", "ms", "mom", "lr", "rho", "momentum",
                                   "epsilon", "grad"), 4,
          (_centered_rms_prop, _centered_rms_prop_x)),
    _spec("SparseApplyCenteredRMSProp", ("var", "mg", "ms", "mom", "lr", "rho", "momentum",
                                         "epsilon", "grad", "indices"), 4,
          (_centered_rms_prop, _centered_rms_prop_x), sparse=True),
    _spec("ApplyAdam", ("var", "m", "v", "beta1_power", "beta2_power", "lr", "beta1", "beta2",
                        "epsilon", "grad"), 3, (_adam, _adam_x),
          ("use_nesterov",)),
    _spec("ApplyFtrl", ("var", "accum", "linear", "grad", "lr", "l1", "l2", "lr_power"), 3,
          (None, _ftrl_x)),
    _spec("ApplyFtrlV2", ("var", "accum", "linear", "grad", "lr", "l1", "l2", "l2_shrinkage",
                          "lr_power"), 3, (None, _ftrl_v2_x)),
    _spec("SparseApplyFtrl", ("var", "accum", "linear", "grad", "indices", "lr", "l1", "l2",
                              "lr_power"), 3, (None, _ftrl_x), sparse=True),
    _spec("SparseApplyFtrlV2", ("var", "accum", "linear", "grad", "indices", "lr", "l1", "l2",
                                "l2_shrinkage", "lr_power"), 3, (None, _ftrl_v2_x),
          sparse=True),
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
