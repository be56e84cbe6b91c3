"""`tf.Variable` (TF1 reference variables), variable collections and initializer ops.

`Variable(initial_value, name="W")` builds the same ops as TF1: `W/initial_value` (Const, when
the initial value is a Python/numpy value), `W` (VariableV2, the storage handle), `W/Assign`
(the initializer) and `W/read` (Identity: the snapshot every consumer reads). A Variable is
usable wherever a Tensor is: it converts to its read tensor and forwards Tensor's operators.
"""

from __future__ import annotations

from headwater.framework import dtypes as _dtypes
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.ops import state_ops

__all__ = [
    "Variable",
    "all_variables",
    "assert_variables_initialized",
    "global_variables",
    "global_variables_initializer",
    "initialize_all_variables",
    "initialize_local_variables",
    "initialize_variables",
    "is_variable_initialized",
    "local_variables",
    "local_variables_initializer",
    "model_variables",
    "moving_average_variables",
    "report_uninitialized_variables",
    "trainable_variables",
    "variables_initializer",
]

_GraphKeys = _ops.GraphKeys
_Tensor = _ops.Tensor


class init_scope:  # noqa: N801 - TF1 spelling
    """Build ops outside any control-dependency context, cond branch or loop body.

    TF1 creates variables this way so that their initializers run on their own.
    """

    __slots__ = ("_graph", "_prev", "_deps")

    def __init__(self, graph=None):
        self._graph = graph if graph is not None else _ops.get_default_graph()

    def __enter__(self):
        g = self._graph
        self._prev = g._cond_context
        g._cond_context = None
        self._deps = g.control_dependencies(None)
        self._deps.__enter__()
        return g

    def __exit__(self, *exc):
        self._deps.__exit__(*exc)
        self._graph._cond_context = self._prev
        return False


class VariableSynchronization:
    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregation:
    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3
    ONLY_FIRST_TOWER = 3


class Variable:
    """A TF1 reference variable: a tensor whose value persists across `Session.run` calls.

    Args:
      initial_value: a Tensor, numpy array, Python value, or a callable returning one.
      trainable: also add the variable to the TRAINABLE_VARIABLES collection.
      collections: collection keys (default `[GraphKeys.GLOBAL_VARIABLES]`).
      validate_shape: if False the variable may later be assigned values of any shape.
      name: op name of the variable (default "Variable").
      dtype: convert the initial value to this dtype.
      constraint: optional projection applied by optimizers after updates.
      shape: the variable's static shape (defaults to the initial value's).
    """

    # numpy must defer to our reflected operators (np_array * var -> Tensor).
    __array_priority__ = 100

    def __init__(self, initial_value=None, trainable=None, collections=None,
                 validate_shape=True, caching_device=None, name=None, variable_def=None,
                 dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None, synchronization=VariableSynchronization.AUTO,
                 aggregation=VariableAggregation.NONE, shape=None):
        if variable_def is not None:
            raise NotImplementedError("Variable(variable_def=...) is not supported by "
                                      "headwater; create the variable from initial_value.")
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        if constraint is not None and not callable(constraint):
            raise ValueError("The `constraint` argument must be a callable.")
        if trainable is None:
            trainable = synchronization != VariableSynchronization.ON_READ
        if collections is None:
            collections = [_GraphKeys.GLOBAL_VARIABLES]
        elif isinstance(collections, str) or not isinstance(collections, (list, tuple, set)):
            raise ValueError("collections argument to Variable constructor must be a list, "
                             "tuple, or set. Got %s of type %s"
                             % (collections, type(collections)))
        collections = list(collections)
        if trainable and _GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(_GraphKeys.TRAINABLE_VARIABLES)
        if dtype is not None:
            dtype = _dtypes.as_dtype(dtype).base_dtype
        init_from_fn = callable(initial_value)

        graph = _ops.get_default_graph()
        with init_scope(graph):
            self._init_ops(graph, initial_value, init_from_fn, name, dtype, shape,
                           validate_shape, expected_shape)
        self._trainable = bool(trainable)
        self._constraint = constraint
        self._caching_device = caching_device
        self._synchronization = synchronization
        self._aggregation = aggregation
        self._save_slice_info = None
        self._in_graph_mode = True
        graph.add_to_collections(collections, self)

    @classmethod
    def _from_graph(cls, variable_op, initializer_op, snapshot, initial_value=None,
                    trainable=True):
        """Rebuild a Variable around existing ops (its VariableV2 op, the Assign initializer
        and the read Identity), as `import_meta_graph` does; adds no ops or collections."""
        self = cls.__new__(cls)
        self._variable = variable_op.outputs[0]
        self._initializer_op = initializer_op
        self._snapshot = snapshot
        self._initial_value = initial_value
        self._trainable = bool(trainable)
        self._constraint = None
        self._caching_device = None
        self._synchronization = VariableSynchronization.AUTO
        self._aggregation = VariableAggregation.NONE
        self._save_slice_info = None
        self._in_graph_mode = True
        return self

    def _init_ops(self, graph, initial_value, init_from_fn, name, dtype, shape, validate_shape,
                  expected_shape):
        with _ops.name_scope(name, "Variable",
                             [] if init_from_fn else [initial_value]) as scope_name:
            if init_from_fn:
                with _ops.name_scope("Initializer"):
                    init_tensor = _ops.convert_to_tensor(
                        initial_value(), name="initial_value", dtype=dtype)
            else:
                init_tensor = _ops.convert_to_tensor(initial_value, name="initial_value",
                                                     dtype=dtype)
            if init_tensor.graph is not graph:
                raise ValueError("initial_value of Variable %s must be from the same graph "
                                 "as the variable." % scope_name[:-1])
            if init_tensor._op._cond_context is not None:
                raise ValueError(
                    "Initializer for variable %s is from inside a control-flow construct, "
                    "such as a loop or conditional. When creating a variable inside a loop "
                    "or conditional, use a lambda as the initializer." % scope_name[:-1])
            init_shape = init_tensor.get_shape()
            if shape is not None:
                var_shape = _ts.as_shape(shape)
                if not var_shape.is_compatible_with(init_shape):
                    raise ValueError("The initial value's shape (%s) is not compatible "
                                     "with the explicitly supplied `shape` argument (%s)."
                                     % (init_shape, var_shape))
            elif validate_shape:
                var_shape = init_shape
                if not var_shape.is_fully_defined():
                    raise ValueError("initial_value must have a shape specified: %s"
                                     % init_tensor)
            else:
                var_shape = _ts.TensorShape(None)
            if expected_shape is not None and validate_shape:
                _ts.as_shape(expected_shape).assert_is_compatible_with(var_shape)
            self._initial_value = init_tensor
            self._variable = state_ops.variable_op_v2(var_shape, init_tensor.dtype,
                                                      name=scope_name)
            base = scope_name[:-1].rsplit("/", 1)[-1]
            guarded = _guard_against_uninitialized_dependencies(base, init_tensor)
            self._initializer_op = state_ops.assign(
                self._variable, guarded, validate_shape=validate_shape).op
            self._snapshot = _ops.apply_op("Identity", [self._variable],
                                           {"T": init_tensor.dtype}, name="read")

    # ---- identity -----------------------------------------------------------------------------
    @property
    def name(self):
        """The name of the variable tensor, e.g. "W:0"."""
        return self._variable.name

    @property
    def op(self):
        """The VariableV2 operation."""
        return self._variable._op

    @property
    def graph(self):
        return self._variable.graph

    @property
    def device(self):
        return self._variable.device

    @property
    def dtype(self):
        """The element dtype (TF1 reports the ref dtype, e.g. float32_ref, only in repr)."""
        return self._variable._dtype

    @property
    def shape(self):
        return self._variable._shape

    def get_shape(self):
        return self._variable._shape

    def set_shape(self, shape):
        """Merge `shape` into the static shape of the variable and of its read tensor."""
        self._variable.set_shape(shape)
        self._snapshot.set_shape(shape)

    @property
    def trainable(self):
        return self._trainable

    @property
    def constraint(self):
        return self._constraint

    @property
    def synchronization(self):
        return self._synchronization

    @property
    def aggregation(self):
        return self._aggregation

    @property
    def initializer(self):
        """The Assign operation that initializes the variable."""
        return self._initializer_op

    @property
    def initial_value(self):
        """The tensor the initializer assigns."""
        return self._initial_value

    def _ref(self):
        return self._variable

    def _as_graph_element(self):
        # The variable tensor itself: fetching it returns the current value and feeding it
        # substitutes a value for every reader (they all go through "<name>/read").
        return self._variable

    def _AsTensor(self):  # noqa: N802 - TF1 spelling
        return self._snapshot

    def __repr__(self):
        return "<tf.Variable '%s' shape=%s dtype=%s>" % (self.name, self.shape,
                                                         self.dtype._as_ref.name)

    def __str__(self):
        return self.__repr__()

    def __iter__(self):
        raise TypeError("'Variable' object is not iterable.")

    def __len__(self):
        raise TypeError("len is not well defined for symbolic Variables. (%s) Please call "
                        "`x.shape` rather than `len(x)` for shape information." % self.name)

    __hash__ = object.__hash__

    # ---- reading -------------------------------------------------------------------------------
    def value(self):
        """The snapshot tensor ("<name>/read") through which the variable is read."""
        return self._snapshot

    def read_value(self):
        """A new Identity reading the variable's current value."""
        return _ops.apply_op("Identity", [self._variable], {"T": self.dtype}, name="read")

    def initialized_value(self):
        """The variable's value, computed from its initial value if it is uninitialized.

        Use it to initialize a variable from another one's value.
        """
        g = self.graph
        with g.as_default(), init_scope(g):
            return state_ops.initialized_value(self._variable, self._initial_value)

    def is_initialized(self, name=None):
        """A bool scalar tensor: whether the variable is initialized."""
        return state_ops.is_variable_initialized(self._variable, name=name)

    def eval(self, session=None):
        """The variable's value in `session` (default: the default session)."""
        return self._variable.eval(session=session)

    # ---- writing -------------------------------------------------------------------------------
    def assign(self, value, use_locking=False, name=None, read_value=True):
        """Assign `value`; returns the new value (or the Assign op if `read_value=False`)."""
        t = state_ops.assign(self._variable, value, use_locking=use_locking, name=name)
        return t if read_value else t.op

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        """Add `delta`; returns the new value (or the op if `read_value=False`)."""
        t = state_ops.assign_add(self._variable, delta, use_locking=use_locking, name=name)
        return t if read_value else t.op

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        """Subtract `delta`; returns the new value (or the op if `read_value=False`)."""
        t = state_ops.assign_sub(self._variable, delta, use_locking=use_locking, name=name)
        return t if read_value else t.op

    def scatter_update(self, sparse_delta, use_locking=False, name=None):
        """`self[sparse_delta.indices] = sparse_delta.values` (an IndexedSlices-like)."""
        return state_ops.scatter_update(self._variable, sparse_delta.indices,
                                        sparse_delta.values, use_locking=use_locking,
                                        name=name)

    def scatter_add(self, sparse_delta, use_locking=False, name=None):
        return state_ops.scatter_add(self._variable, sparse_delta.indices,
                                     sparse_delta.values, use_locking=use_locking, name=name)

    def scatter_sub(self, sparse_delta, use_locking=False, name=None):
        return state_ops.scatter_sub(self._variable, sparse_delta.indices,
                                     sparse_delta.values, use_locking=use_locking, name=name)

    def count_up_to(self, limit):
        """Increment until `limit`; returns the value before the increment."""
        return state_ops.count_up_to(self._variable, limit)

    def load(self, value, session=None):
        """Assign `value` (a numpy/Python value) in `session` without adding ops."""
        if session is None:
            session = _ops.get_default_session()
            if session is None:
                raise ValueError("Either session argument should be provided or default "
                                 "session should be established")
        session.run(self._initializer_op, {self._initializer_op._inputs[1]: value})

    def _set_save_slice_info(self, save_slice_info):
        self._save_slice_info = save_slice_info

    def _get_save_slice_info(self):
        return self._save_slice_info

    def to_proto(self, export_scope=None):
        raise NotImplementedError("Variable.to_proto is not supported by headwater.")


# ---- Tensor behaviour: conversion and operators --------------------------------------------


def _variable_to_tensor(var, dtype=None, name=None, as_ref=False):
    if as_ref:
        return var._variable
    if dtype is not None and not _dtypes.as_dtype(dtype).is_compatible_with(var.dtype):
        raise ValueError("Incompatible type conversion requested to type '%s' for variable "
                         "of type '%s'" % (_dtypes.as_dtype(dtype).name,
                                           var.dtype._as_ref.name))
    return var._snapshot


_ops.register_tensor_conversion_function(Variable, _variable_to_tensor)

# TF1's Tensor.OVERLOADABLE_OPERATORS minus __eq__/__ne__ (identity semantics in graph mode).
_BINARY_OPERATORS = (
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__",
    "__rpow__", "__matmul__", "__rmatmul__", "__lt__", "__le__", "__gt__", "__ge__",
    "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__", "__getitem__",
)
_UNARY_OPERATORS = ("__neg__", "__abs__", "__invert__", "__bool__")


def _binary_delegate(opname):
    # Looked up on Tensor at call time: math/array ops install their overloads after import.
    def delegate(self, other):
        fn = getattr(_Tensor, opname, None)
        if fn is None:
            return NotImplemented
        return fn(self._snapshot, other)
    delegate.__name__ = opname
    return delegate


def _unary_delegate(opname):
    def delegate(self):
        fn = getattr(_Tensor, opname, None)
        if fn is None:
            raise TypeError("bad operand type for %s: 'Variable' (no Tensor overload yet)"
                            % opname)
        return fn(self._snapshot)
    delegate.__name__ = opname
    return delegate


for _name in _BINARY_OPERATORS:
    setattr(Variable, _name, _binary_delegate(_name))
for _name in _UNARY_OPERATORS:
    setattr(Variable, _name, _unary_delegate(_name))
del _name


# ---- initial values that read other variables -----------------------------------------------


def _find_variable(graph, var_op):
    for key in (_GraphKeys.GLOBAL_VARIABLES, _GraphKeys.LOCAL_VARIABLES):
        for v in graph.get_collection(key):
            if getattr(v, "op", None) is var_op:
                return v
    return None


def _guard_against_uninitialized_dependencies(name, initial_value):
    """Rewrite `initial_value` so it reads other variables through `initialized_value()`.

    TF1 does the same: `tf.Variable(w * 2)` must initialize even when `w`'s initializer runs in
    the same `Session.run` (or after). Ops on a path from a variable are copied with the
    variable replaced; everything else is shared.
    """
    # Fast path: collect ancestors iteratively and stop if no variable is among them.
    seen = set()
    stack = [initial_value._op]
    found = False
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        t = op._type
        if t in ("VariableV2", "Variable"):
            found = True
            continue
        if t in ("IsVariableInitialized", "InitializedValue"):
            continue
        ref = op._op_def.ref_inputs
        for i, x in enumerate(op._inputs):
            if not (ref and i in ref):
                stack.append(x._op)
    if not found:
        return initial_value
    graph = initial_value.graph
    cache = {}

    def replace_op(op):
        # Returns a list of output tensors for `op` in the guarded graph.
        if op in cache:
            return cache[op]
        t = op._type
        if t in ("VariableV2", "Variable"):
            var = _find_variable(graph, op)
            out = [var.initialized_value()] if var is not None else op._outputs
            cache[op] = out
            return out
        if t in ("IsVariableInitialized", "InitializedValue"):
            cache[op] = op._outputs
            return op._outputs
        ref = op._op_def.ref_inputs
        new_inputs = []
        modified = False
        for i, x in enumerate(op._inputs):
            if ref and i in ref:
                new_inputs.append(x)
                continue
            nx = replace_op(x._op)[x._value_index]
            modified = modified or nx is not x
            new_inputs.append(nx)
        if not modified:
            cache[op] = op._outputs
            return op._outputs
        with graph.name_scope(None):
            new_op = graph.create_op(op._type, new_inputs, dict(op._attrs),
                                     name="%s_%s" % (op._name, name),
                                     output_specs=[(o._dtype, o._shape) for o in op._outputs])
        cache[op] = new_op._outputs
        return new_op._outputs

    import sys
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10000))
    try:
        return replace_op(initial_value._op)[initial_value._value_index]
    finally:
        sys.setrecursionlimit(limit)


# ---- collections -------------------------------------------------------------------------


def global_variables(scope=None):
    """Variables in the GLOBAL_VARIABLES collection (optionally filtered by a name regex)."""
    return _ops.get_collection(_GraphKeys.GLOBAL_VARIABLES, scope)


def all_variables():
    """Deprecated alias of `global_variables()`."""
    return global_variables()


def trainable_variables(scope=None):
    """Variables created with `trainable=True` (optionally filtered by a name regex)."""
    return _ops.get_collection(_GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope=None):
    """Variables in the LOCAL_VARIABLES collection (e.g. metric accumulators)."""
    return _ops.get_collection(_GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope=None):
    """Variables in the MODEL_VARIABLES collection."""
    return _ops.get_collection(_GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope=None):
    """Variables in the MOVING_AVERAGE_VARIABLES collection."""
    return _ops.get_collection(_GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


# ---- initializers ------------------------------------------------------------------------


def variables_initializer(var_list, name="init"):
    """An op (a NoOp named `name`) that runs the initializers of `var_list`."""
    return state_ops.group_no_op([v.initializer for v in var_list], name)


def initialize_variables(var_list, name="init"):
    """Deprecated alias of `variables_initializer`."""
    return variables_initializer(var_list, name)


def global_variables_initializer():
    """An op named "init" that initializes all global variables."""
    return variables_initializer(global_variables(), name="init")


def initialize_all_variables():
    """Deprecated alias of `global_variables_initializer()`."""
    return global_variables_initializer()


def local_variables_initializer():
    """An op named "init" that initializes all local variables."""
    return variables_initializer(local_variables(), name="init")


def initialize_local_variables():
    """Deprecated alias of `local_variables_initializer()`."""
    return local_variables_initializer()


def is_variable_initialized(variable):
    """A bool scalar tensor: whether `variable` is initialized in the running session."""
    return state_ops.is_variable_initialized(variable)


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """A 1-D string tensor with the op names of the uninitialized variables in `var_list`.

    Args:
      var_list: variables to check (default: all global and local variables).
      name: op name.
    """
    if var_list is None:
        var_list = global_variables() + local_variables()
    var_ops = [v.op for v in var_list]
    return _ops.apply_op("ReportUninitializedVariables", [],
                         {"var_ops": tuple(var_ops)}, name=name,
                         graph=_ops.get_default_graph())


def _report_infer(inputs, attrs):
    return [(_dtypes.string, _ts.TensorShape([None]))]


def _report_kernel(op, ctx):
    import numpy as np

    variables = ctx.variables
    entries = [(v, v.name.encode("utf-8")) for v in op._attrs["var_ops"]]

    def report_uninitialized_variables():
        return np.array([n for v, n in entries if v not in variables], dtype=object)
    return report_uninitialized_variables


def _register_report_op():
    from headwater.framework.op_registry import register_op

    # One op reading the session's variable store, rather than TF1's stack/boolean_mask
    # chain, so it does not depend on array ops and runs in O(#variables).
    register_op("ReportUninitializedVariables", _report_infer, _report_kernel,
                stateful=True)


_register_report_op()


def assert_variables_initialized(var_list=None):
    """An op that fails with FailedPreconditionError if any variable is uninitialized."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    var_ops = tuple(v.op for v in var_list)
    return _ops.apply_op("AssertVariablesInitialized", [], {"var_ops": var_ops},
                         graph=_ops.get_default_graph())


def _assert_init_kernel(op, ctx):
    from headwater.framework import errors

    variables = ctx.variables
    var_ops = op._attrs["var_ops"]

    def assert_variables_initialized():
        for v in var_ops:
            if v not in variables:
                raise errors.FailedPreconditionError(
                    None, None, "Attempting to use uninitialized value %s" % v.name)
    return assert_variables_initialized


def _register_assert_op():
    from headwater.framework.op_registry import register_op

    register_op("AssertVariablesInitialized", lambda inputs, attrs: [], _assert_init_kernel,
                stateful=True)


_register_assert_op()
