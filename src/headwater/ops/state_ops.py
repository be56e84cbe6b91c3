"""State ops: TF1 reference variables (VariableV2) and the ops that read or update them.

A variable's value lives in the running session (`SessionState.variables`, keyed by the
VariableV2 Operation), so two sessions on one graph hold independent values. Update ops name
their variable through a *ref input* (input 0): the plan does not evaluate it, the kernel looks
the variable up in the session store instead.

Storage discipline: `Assign` stores a private copy and `AssignAdd`/`AssignSub` store a new
array, so a value handed out earlier (a fetch, or a view made by a reshape) never changes behind
the user's back. Only the scatter ops update in place, because copying a large embedding table
for every sparse update would be quadratic work.
"""

from __future__ import annotations

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.framework.op_registry import get_op_def, register_op
from headwater.ops.common import SCALAR_SHAPE

__all__ = [
    "assign",
    "assign_add",
    "assign_sub",
    "count_up_to",
    "is_variable_initialized",
    "scatter_add",
    "scatter_div",
    "scatter_max",
    "scatter_min",
    "scatter_mul",
    "scatter_nd_add",
    "scatter_nd_sub",
    "scatter_nd_update",
    "scatter_sub",
    "scatter_update",
]

_VARIABLE_OP_TYPES = ("VariableV2", "Variable")


def _uninitialized_message(var_op):
    return "Attempting to use uninitialized value %s" % var_op.name


def _shape_str(shape):
    """'[2,3]' as TF's TensorShape::DebugString prints a concrete shape."""
    return "[" + ",".join(str(d) for d in shape) + "]"


def _static_shape_str(shape):
    dims = shape._dims
    if dims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


# ---- VariableV2 ----------------------------------------------------------------------------


def _variable_infer(inputs, attrs):
    return [(attrs["dtype"], attrs["shape"])]


def _variable_kernel(op, ctx):
    variables = ctx.variables
    msg = _uninitialized_message(op)

    def variable():
        try:
            return variables[op]
        except KeyError:
            raise errors.FailedPreconditionError(None, None, msg) from None
    return variable


register_op("VariableV2", _variable_infer, _variable_kernel, default_name="Variable",
            stateful=True, aliases=True)


def variable_op_v2(shape, dtype, name="Variable", container="", shared_name=""):
    """Create a VariableV2 op (the variable's storage handle) and return its output tensor.

    Args:
      shape: static shape of the variable (may be partially known).
      dtype: element dtype (a ref dtype is reduced to its base dtype).
      name: op name.
    Returns:
      The variable's output `Tensor` (TF1's ref tensor).
    """
    dtype = _dtypes.as_dtype(dtype).base_dtype
    return _ops.apply_op("VariableV2", [], {"shape": _ts.as_shape(shape), "dtype": dtype,
                                            "container": container,
                                            "shared_name": shared_name},
                         name=name, graph=_ops.get_default_graph())


def _ref_tensor(ref, op_type):
    """The VariableV2 output tensor named by `ref` (a Variable or the variable tensor)."""
    if not isinstance(ref, _ops.Tensor):
        var = getattr(ref, "_variable", None)
        if isinstance(var, _ops.Tensor):
            return var
    elif ref._op._type in _VARIABLE_OP_TYPES:
        return ref
    raise TypeError("Input 'ref' of '%s' Op requires l-value input (a tf.Variable or its "
                    "variable tensor), got %r." % (op_type, ref))


def _var_op_of(op):
    return op._inputs[0]._op


def _check_value_dtype(op_type, ref, value, arg="value"):
    if value._dtype != ref._dtype:
        raise TypeError("Input '%s' of '%s' Op has type %s that does not match type %s of "
                        "argument 'ref'." % (arg, op_type, value._dtype.name,
                                             ref._dtype.name))


def _check_same_shape(op_type, ref, value):
    if not ref._shape.is_compatible_with(value._shape):
        raise ValueError("Shapes must be equal, but variable '%s' has shape %s and the value "
                         "has shape %s for '%s' (op: '%s') with input shapes: %s, %s."
                         % (ref._op.name, ref._shape, value._shape, op_type, op_type,
                            _static_shape_str(ref._shape), _static_shape_str(value._shape)))
    return ref._shape.merge_with(value._shape)


def _value_tensor(value, ref):
    return _ops.convert_to_tensor(value, preferred_dtype=ref._dtype)


# ---- Assign --------------------------------------------------------------------------------


def _assign_infer(inputs, attrs):
    ref, value = inputs
    _check_value_dtype("Assign", ref, value)
    if attrs.get("validate_shape", True):
        return [(ref._dtype, _check_same_shape("Assign", ref, value))]
    return [(ref._dtype, value._shape)]


def _assign_kernel(op, ctx):
    var_op = _var_op_of(op)
    variables = ctx.variables
    np_dtype = np.dtype(var_op._attrs["dtype"].as_numpy_dtype)
    validate = op._attrs.get("validate_shape", True)
    dims = var_op._attrs["shape"]._dims
    if not validate or dims is None:
        def assign(value):
            new = np.array(value, dtype=np_dtype)
            variables[var_op] = new
            return new
        return assign

    fully_defined = None not in dims
    static = tuple(dims)

    def assign_checked(value):
        new = np.array(value, dtype=np_dtype)
        shape = new.shape
        if shape != static and (fully_defined or len(shape) != len(static) or any(
                d is not None and d != s for d, s in zip(static, shape))):
            old = variables.get(var_op)
            lhs = old.shape if old is not None else static
            raise errors.InvalidArgumentError(
                None, None, "Assign requires shapes of both tensors to match. lhs shape= %s "
                "rhs shape= %s" % (_shape_str("?" if d is None else d for d in lhs),
                                   _shape_str(shape)))
        variables[var_op] = new
        return new
    return assign_checked


register_op("Assign", _assign_infer, _assign_kernel, stateful=True, ref_inputs=(0,),
            aliases=True)


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """Update `ref` (a Variable) by assigning `value` to it.

    Args:
      ref: a `Variable` (or its variable tensor).
      value: the new value; converted to the variable's dtype.
      validate_shape: if True (default) the value's shape must match the variable's.
      use_locking: accepted for TF1 compatibility (updates are always serialized).
      name: op name (default "Assign").
    Returns:
      A tensor that holds the new value once the assignment has run.
    """
    ref = _ref_tensor(ref, "Assign")
    value = _value_tensor(value, ref)
    attrs = {"T": ref._dtype, "validate_shape": True if validate_shape is None
             else bool(validate_shape), "use_locking": True if use_locking is None
             else bool(use_locking)}
    return _ops.apply_op("Assign", [ref, value], attrs, name=name)


# ---- AssignAdd / AssignSub -----------------------------------------------------------------


def _assign_update_infer(op_type):
    def infer(inputs, attrs):
        ref, value = inputs
        _check_value_dtype(op_type, ref, value)
        return [(ref._dtype, _check_same_shape(op_type, ref, value))]
    return infer


def _assign_update_kernel(ufunc):
    def kernel(op, ctx):
        var_op = _var_op_of(op)
        variables = ctx.variables
        msg = _uninitialized_message(var_op)

        def update(value):
            try:
                cur = variables[var_op]
            except KeyError:
                raise errors.FailedPreconditionError(None, None, msg) from None
            try:
                vshape = value.shape
            except AttributeError:
                value = np.asarray(value, dtype=cur.dtype)
                vshape = value.shape
            if vshape != cur.shape:
                raise errors.InvalidArgumentError(
                    None, None, "Cannot update variable with shape %s using a Tensor with "
                    "shape %s, shapes must be equal." % (_shape_str(cur.shape),
                                                         _shape_str(vshape)))
            # A new array rather than an in-place update: see the module docstring.
            new = ufunc(cur, value)
            if type(new) is not np.ndarray:
                new = np.asarray(new)
            variables[var_op] = new
            return new
        return update
    return kernel


register_op("AssignAdd", _assign_update_infer("AssignAdd"), _assign_update_kernel(np.add),
            stateful=True, ref_inputs=(0,), aliases=True)
register_op("AssignSub", _assign_update_infer("AssignSub"),
            _assign_update_kernel(np.subtract), stateful=True, ref_inputs=(0,), aliases=True)


def assign_add(ref, value, use_locking=None, name=None):
    """Update `ref` by adding `value` to it; returns the new value.

    Args:
      ref: a `Variable` (must be initialized when the op runs).
      value: a tensor of the variable's dtype and shape.
      use_locking: accepted for TF1 compatibility.
      name: op name (default "AssignAdd").
    """
    ref = _ref_tensor(ref, "AssignAdd")
    value = _value_tensor(value, ref)
    return _ops.apply_op("AssignAdd", [ref, value],
                         {"T": ref._dtype, "use_locking": bool(use_locking)}, name=name)


def assign_sub(ref, value, use_locking=None, name=None):
    """Update `ref` by subtracting `value` from it; returns the new value.

    Args:
      ref: a `Variable` (must be initialized when the op runs).
      value: a tensor of the variable's dtype and shape.
      use_locking: accepted for TF1 compatibility.
      name: op name (default "AssignSub").
    """
    ref = _ref_tensor(ref, "AssignSub")
    value = _value_tensor(value, ref)
    return _ops.apply_op("AssignSub", [ref, value],
                         {"T": ref._dtype, "use_locking": bool(use_locking)}, name=name)


# ---- Scatter ops ---------------------------------------------------------------------------


def _scatter_infer(op_type):
    def infer(inputs, attrs):
        ref, indices, updates = inputs
        if not indices._dtype.is_integer:
            raise TypeError("Value passed to parameter 'indices' of '%s' Op has DataType %s "
                            "not in list of allowed values: int32, int64"
                            % (op_type, indices._dtype.name))
        _check_value_dtype(op_type, ref, updates, "updates")
        rdims, idims, udims = ref._shape._dims, indices._shape._dims, updates._shape._dims
        if rdims is not None and idims is not None and udims is not None:
            if not rdims:
                raise ValueError("Shape must be at least rank 1 but is rank 0 for '%s' (op: "
                                 "'%s')." % (op_type, op_type))
            want = _ts.TensorShape(list(idims) + list(rdims[1:]))
            if udims and not want.is_compatible_with(updates._shape):
                raise ValueError(
                    "Shapes %s and %s are incompatible: updates must have shape "
                    "indices.shape + ref.shape[1:] = %s for '%s' (op: '%s')."
                    % (updates._shape, want, want, op_type, op_type))
        return [(ref._dtype, ref._shape)]
    return infer


def _check_indices(indices, n):
    if indices.size:
        lo = indices.min()
        hi = indices.max()
        if lo < 0 or hi >= n:
            flat = indices.reshape(-1)
            bad = int(np.flatnonzero((flat < 0) | (flat >= n))[0])
            raise errors.InvalidArgumentError(
                None, None, "indices[%d] = %d is not in [0, %d)" % (bad, int(flat[bad]), n))


def _scatter_kernel(mode):
    def kernel(op, ctx):
        var_op = _var_op_of(op)
        variables = ctx.variables
        msg = _uninitialized_message(var_op)

        def scatter(indices, updates):
            try:
                cur = variables[var_op]
            except KeyError:
                raise errors.FailedPreconditionError(None, None, msg) from None
            indices = np.asarray(indices)
            updates = np.asarray(updates)
            if cur.ndim == 0:
                raise errors.InvalidArgumentError(None, None,
                                                  "Expected ref to be at least a vector")
            want = indices.shape + cur.shape[1:]
            if updates.shape != want and updates.ndim != 0:
                raise errors.InvalidArgumentError(
                    None, None, "Must have updates.shape = indices.shape + params.shape[1:] "
                    "or updates.shape = [], got updates.shape %s, indices.shape %s, "
                    "params.shape %s" % (_shape_str(updates.shape), _shape_str(indices.shape),
                                         _shape_str(cur.shape)))
            _check_indices(indices, cur.shape[0])
            if not cur.flags.writeable:
                cur = cur.copy()
                variables[var_op] = cur
            if mode is None:
                cur[indices] = updates
            else:
                mode.at(cur, indices, updates)
            return cur
        return scatter
    return kernel


_SCATTER_OPS = {
    "ScatterUpdate": None,
    "ScatterAdd": np.add,
    "ScatterSub": np.subtract,
    "ScatterMul": np.multiply,
    "ScatterDiv": None,  # filled below: true or floor division by dtype
    "ScatterMax": np.maximum,
    "ScatterMin": np.minimum,
}


class _DivAt:
    """`ufunc.at`-style division that keeps integer variables integral (TF's semantics)."""

    @staticmethod
    def at(cur, indices, updates):
        if cur.dtype.kind in "iu":
            np.floor_divide.at(cur, indices, updates)
        else:
            np.divide.at(cur, indices, updates)


_SCATTER_OPS["ScatterDiv"] = _DivAt

for _t, _mode in _SCATTER_OPS.items():
    register_op(_t, _scatter_infer(_t), _scatter_kernel(_mode), stateful=True,
                ref_inputs=(0,), aliases=True)
del _t, _mode


def _scatter(op_type, ref, indices, updates, use_locking, name):
    ref = _ref_tensor(ref, op_type)
    indices = _ops.convert_to_tensor(indices, preferred_dtype=_dtypes.int32)
    updates = _value_tensor(updates, ref)
    return _ops.apply_op(op_type, [ref, indices, updates],
                         {"T": ref._dtype, "Tindices": indices._dtype,
                          "use_locking": bool(use_locking)}, name=name)


def scatter_update(ref, indices, updates, use_locking=True, name=None):
    """`ref[indices, ...] = updates`; returns the updated variable value.

    Args:
      ref: a `Variable`.
      indices: int tensor of indices into the first dimension of `ref`.
      updates: tensor of shape `indices.shape + ref.shape[1:]`.
    """
    return _scatter("ScatterUpdate", ref, indices, updates, use_locking, name)


def scatter_add(ref, indices, updates, use_locking=False, name=None):
    """`ref[indices, ...] += updates` (duplicate indices accumulate)."""
    return _scatter("ScatterAdd", ref, indices, updates, use_locking, name)


def scatter_sub(ref, indices, updates, use_locking=False, name=None):
    """`ref[indices, ...] -= updates` (duplicate indices accumulate)."""
    return _scatter("ScatterSub", ref, indices, updates, use_locking, name)


def scatter_mul(ref, indices, updates, use_locking=False, name=None):
    """`ref[indices, ...] *= updates` (duplicate indices multiply)."""
    return _scatter("ScatterMul", ref, indices, updates, use_locking, name)


def scatter_div(ref, indices, updates, use_locking=False, name=None):
    """`ref[indices, ...] /= updates` (duplicate indices divide)."""
    return _scatter("ScatterDiv", ref, indices, updates, use_locking, name)


def scatter_max(ref, indices, updates, use_locking=False, name=None):
    """`ref[indices, ...] = max(ref[indices, ...], updates)`."""
    return _scatter("ScatterMax", ref, indices, updates, use_locking, name)


def scatter_min(ref, indices, updates, use_locking=False, name=None):
    """`ref[indices, ...] = min(ref[indices, ...], updates)`."""
    return _scatter("ScatterMin", ref, indices, updates, use_locking, name)


# ---- ScatterNd ops -------------------------------------------------------------------------


def _scatter_nd_infer(op_type):
    def infer(inputs, attrs):
        ref, indices, updates = inputs
        if not indices._dtype.is_integer:
            raise TypeError("Value passed to parameter 'indices' of '%s' Op has DataType %s "
                            "not in list of allowed values: int32, int64"
                            % (op_type, indices._dtype.name))
        _check_value_dtype(op_type, ref, updates, "updates")
        rdims, idims, udims = ref._shape._dims, indices._shape._dims, updates._shape._dims
        if rdims is not None and idims is not None and udims is not None and idims \
                and idims[-1] is not None:
            k = idims[-1]
            if k > len(rdims):
                raise ValueError("The last dimension of indices (%d) must be <= the rank of "
                                 "ref (%d) for '%s'." % (k, len(rdims), op_type))
            want = _ts.TensorShape(list(idims[:-1]) + list(rdims[k:]))
            if not want.is_compatible_with(updates._shape):
                raise ValueError("Shapes %s and %s are incompatible: updates must have shape "
                                 "indices.shape[:-1] + ref.shape[indices.shape[-1]:] for "
                                 "'%s'." % (updates._shape, want, op_type))
        return [(ref._dtype, ref._shape)]
    return infer


def _scatter_nd_kernel(mode):
    def kernel(op, ctx):
        var_op = _var_op_of(op)
        variables = ctx.variables
        msg = _uninitialized_message(var_op)

        def scatter_nd(indices, updates):
            try:
                cur = variables[var_op]
            except KeyError:
                raise errors.FailedPreconditionError(None, None, msg) from None
            indices = np.asarray(indices)
            k = indices.shape[-1]
            flat = indices.reshape(-1, k)
            for j in range(k):
                col = flat[:, j]
                if col.size and (col.min() < 0 or col.max() >= cur.shape[j]):
                    bad = int(np.flatnonzero((col < 0) | (col >= cur.shape[j]))[0])
                    raise errors.InvalidArgumentError(
                        None, None, "indices[%d] = [%s] does not index into shape %s"
                        % (bad, ", ".join(str(int(x)) for x in flat[bad]),
                           _shape_str(cur.shape)))
            if not cur.flags.writeable:
                cur = cur.copy()
                variables[var_op] = cur
            idx = tuple(indices[..., j] for j in range(k))
            if mode is None:
                cur[idx] = updates
            else:
                mode.at(cur, idx, updates)
            return cur
        return scatter_nd
    return kernel


for _t, _mode in (("ScatterNdUpdate", None), ("ScatterNdAdd", np.add),
                  ("ScatterNdSub", np.subtract)):
    register_op(_t, _scatter_nd_infer(_t), _scatter_nd_kernel(_mode), stateful=True,
                ref_inputs=(0,), aliases=True)
del _t, _mode


def scatter_nd_update(ref, indices, updates, use_locking=True, name=None):
    """Set `ref[indices[i]] = updates[i]` where each `indices[i]` is a (partial) index tuple."""
    return _scatter("ScatterNdUpdate", ref, indices, updates, use_locking, name)


def scatter_nd_add(ref, indices, updates, use_locking=False, name=None):
    """`ref[indices[i]] += updates[i]` (duplicates accumulate)."""
    return _scatter("ScatterNdAdd", ref, indices, updates, use_locking, name)


def scatter_nd_sub(ref, indices, updates, use_locking=False, name=None):
    """`ref[indices[i]] -= updates[i]` (duplicates accumulate)."""
    return _scatter("ScatterNdSub", ref, indices, updates, use_locking, name)


# ---- IsVariableInitialized / CountUpTo / InitializedValue ----------------------------------

def _is_initialized_infer(inputs, attrs):
    return [(_dtypes.bool, SCALAR_SHAPE)]


def _is_initialized_kernel(op, ctx):
    var_op = _var_op_of(op)
    variables = ctx.variables
    true = np.array(True)
    false = np.array(False)
    true.flags.writeable = False
    false.flags.writeable = False

    def is_variable_initialized():
        return true if var_op in variables else false
    return is_variable_initialized


register_op("IsVariableInitialized", _is_initialized_infer, _is_initialized_kernel,
            stateful=True, ref_inputs=(0,), aliases=True)


def is_variable_initialized(ref, name=None):
    """A bool scalar tensor: whether the variable `ref` has been initialized in the session."""
    ref = _ref_tensor(ref, "IsVariableInitialized")
    return _ops.apply_op("IsVariableInitialized", [ref], {"dtype": ref._dtype}, name=name)


def _count_up_to_infer(inputs, attrs):
    ref = inputs[0]
    if ref._dtype not in (_dtypes.int32, _dtypes.int64):
        raise TypeError("Value passed to parameter 'ref' of 'CountUpTo' Op has DataType %s not "
                        "in list of allowed values: int32, int64" % ref._dtype.name)
    if ref._shape._dims not in (None, ()):
        raise ValueError("Shape must be rank 0 but is rank %d for 'CountUpTo'."
                         % len(ref._shape._dims))
    return [(ref._dtype, SCALAR_SHAPE)]


def _count_up_to_kernel(op, ctx):
    var_op = _var_op_of(op)
    variables = ctx.variables
    limit = int(op._attrs["limit"])
    msg = _uninitialized_message(var_op)

    def count_up_to():
        try:
            cur = variables[var_op]
        except KeyError:
            raise errors.FailedPreconditionError(None, None, msg) from None
        if cur >= limit:
            raise errors.OutOfRangeError(None, None, "Reached limit of %d" % limit)
        variables[var_op] = np.array(cur + 1, dtype=cur.dtype)
        return cur
    return count_up_to


register_op("CountUpTo", _count_up_to_infer, _count_up_to_kernel, stateful=True,
            ref_inputs=(0,), aliases=True)


def count_up_to(ref, limit, name=None):
    """Increment the int variable `ref` until it reaches `limit` (then OutOfRangeError).

    Returns:
      A tensor holding the value of `ref` before the increment.
    """
    ref = _ref_tensor(ref, "CountUpTo")
    return _ops.apply_op("CountUpTo", [ref], {"T": ref._dtype, "limit": int(limit)}, name=name)


def _initialized_value_infer(inputs, attrs):
    ref, init = inputs
    return [(ref._dtype, ref._shape)]


def _initialized_value_kernel(op, ctx):
    var_op = _var_op_of(op)
    variables = ctx.variables

    def initialized_value(init):
        v = variables.get(var_op)
        return init if v is None else v
    return initialized_value


# Headwater's stand-in for TF1's `cond(is_variable_initialized(v), v.read_value,
# lambda: v.initial_value)`: one op, so the variable is never read before it is initialized.
register_op("InitializedValue", _initialized_value_infer, _initialized_value_kernel,
            default_name="initialized_value", stateful=True, ref_inputs=(0,), aliases=True)


def initialized_value(ref, initial_value, name=None):
    """The variable's value if it is initialized, else `initial_value` (evaluated)."""
    ref = _ref_tensor(ref, "InitializedValue")
    return _ops.apply_op("InitializedValue", [ref, initial_value], {"T": ref._dtype},
                         name=name)


# ---- NoOp (shared with control_flow_ops) ---------------------------------------------------


def _noop():
    return None


def ensure_no_op_registered():
    """Register the NoOp op type unless control_flow_ops already did."""
    try:
        get_op_def("NoOp")
    except KeyError:
        register_op("NoOp", lambda inputs, attrs: [], lambda op, ctx: _noop,
                    default_name="NoOp")


def group_no_op(control_inputs, name):
    """A NoOp named `name` depending on `control_inputs` (TF1's `group`)."""
    ensure_no_op_registered()
    g = _ops.get_default_graph()
    with g.control_dependencies(control_inputs):
        return _ops.apply_op("NoOp", [], {}, name=name, graph=g)



# State ops have no gradient: they update variables rather than compute values (as TF1).
from headwater.gradients import NotDifferentiable as _NotDifferentiable  # noqa: E402

for _type in ("InitializedValue", "IsVariableInitialized", "Assign", "AssignAdd", "AssignSub",
              "ScatterUpdate", "ScatterAdd", "ScatterSub", "ScatterMul", "ScatterDiv",
              "ScatterMax", "ScatterMin", "ScatterNdUpdate", "ScatterNdAdd", "ScatterNdSub",
              "CountUpTo", "ReportUninitializedVariables", "AssertVariablesInitialized"):
    _NotDifferentiable(_type)
del _type
