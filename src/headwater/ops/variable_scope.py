"""TF1 variable scopes and `get_variable`: named, shareable variables.

Variables created by `get_variable` are named by the *variable* scope only ("foo/bar/v"), while
the ops created inside a `variable_scope` block get the matching (uniquified) *name* scope, as in
TF1. The store of shared variables and the scope stack are kept per graph in `graph._aux`, so a
new graph (or `reset_default_graph()`) starts empty.
"""

from __future__ import annotations

import enum

from headwater.framework import dtypes as _dtypes
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.ops import init_ops
from headwater.ops import variables as _variables

__all__ = [
    "AUTO_REUSE",
    "VariableScope",
    "get_local_variable",
    "get_variable",
    "get_variable_scope",
    "no_regularizer",
    "variable_op_scope",
    "variable_scope",
]


class _ReuseMode(enum.Enum):
    """Mode for variable access within a variable scope."""

    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE
AUTO_REUSE.__doc__ = ("When passed in as the value for the `reuse` flag, AUTO_REUSE indicates "
                      "that get_variable() should create the requested variable if it doesn't "
                      "exist or, if it does exist, simply return it.")

_VARSTORE_KEY = "__variable_store"
_VARSCOPESTORE_KEY = "__varscope"


def no_regularizer(_):
    """Use this function to prevent regularization of variables."""
    return None


# ---- stores --------------------------------------------------------------------------------


class _VariableStore:
    """Variables created by `get_variable`, by full name."""

    def __init__(self):
        self._vars = {}

    def get_variable(self, name, shape=None, dtype=_dtypes.float32, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape=True,
                     use_resource=None, custom_getter=None, constraint=None,
                     synchronization=_variables.VariableSynchronization.AUTO,
                     aggregation=_variables.VariableAggregation.NONE):
        if custom_getter is not None and not callable(custom_getter):
            raise ValueError("Passed a custom_getter which is not callable: %s"
                             % custom_getter)
        if partitioner is not None:
            raise NotImplementedError("Partitioned variables are not supported by headwater "
                                      "(get_variable(%r, partitioner=...))." % name)
        if shape is not None and not isinstance(shape, _ts.TensorShape):
            shape = _ts.as_shape(shape)

        def _true_getter(name, shape=None, dtype=_dtypes.float32, initializer=None,
                         regularizer=None, reuse=None, trainable=None, collections=None,
                         caching_device=None, partitioner=None, validate_shape=True,
                         use_resource=None, constraint=None,
                         synchronization=_variables.VariableSynchronization.AUTO,
                         aggregation=_variables.VariableAggregation.NONE):
            if partitioner is not None:
                raise NotImplementedError("Partitioned variables are not supported by "
                                          "headwater.")
            return self._get_single_variable(
                name=name, shape=shape, dtype=dtype, initializer=initializer,
                regularizer=regularizer, reuse=reuse, trainable=trainable,
                collections=collections, caching_device=caching_device,
                validate_shape=validate_shape, constraint=constraint,
                synchronization=synchronization, aggregation=aggregation)

        if custom_getter is not None:
            kwargs = {"getter": _true_getter, "name": name, "shape": shape, "dtype": dtype,
                      "initializer": initializer, "regularizer": regularizer, "reuse": reuse,
                      "trainable": trainable, "collections": collections,
                      "caching_device": caching_device, "partitioner": partitioner,
                      "validate_shape": validate_shape, "use_resource": use_resource,
                      "synchronization": synchronization, "aggregation": aggregation}
            if _accepts_kwarg(custom_getter, "constraint"):
                kwargs["constraint"] = constraint
            return custom_getter(**kwargs)
        return _true_getter(name, shape=shape, dtype=dtype, initializer=initializer,
                            regularizer=regularizer, reuse=reuse, trainable=trainable,
                            collections=collections, caching_device=caching_device,
                            partitioner=partitioner, validate_shape=validate_shape,
                            use_resource=use_resource, constraint=constraint,
                            synchronization=synchronization, aggregation=aggregation)

    def _get_single_variable(self, name, shape=None, dtype=_dtypes.float32, initializer=None,
                             regularizer=None, reuse=None, trainable=None, collections=None,
                             caching_device=None, validate_shape=True, constraint=None,
                             synchronization=_variables.VariableSynchronization.AUTO,
                             aggregation=_variables.VariableAggregation.NONE):
        initializing_from_value = initializer is not None and not callable(initializer)
        if shape is not None and initializing_from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        dtype = _dtypes.as_dtype(dtype)
        shape = _ts.as_shape(shape)

        found = self._vars.get(name)
        if found is not None:
            if reuse is False:
                msg = ("Variable %s already exists, disallowed. Did you mean to set reuse=True "
                       "or reuse=tf.AUTO_REUSE in VarScope?" % name)
                loc = found.op._location
                if loc is not None:
                    msg += " Originally defined at:\n\n  File \"%s\", line %d" % loc
                raise ValueError(msg)
            if not shape.is_compatible_with(found.get_shape()):
                raise ValueError("Trying to share variable %s, but specified shape %s and "
                                 "found shape %s." % (name, shape, found.get_shape()))
            if not dtype.is_compatible_with(found.dtype):
                raise ValueError("Trying to share variable %s, but specified dtype %s and "
                                 "found dtype %s." % (name, dtype.name, found.dtype.name))
            return found

        if reuse is True:
            raise ValueError("Variable %s does not exist, or was not created with "
                             "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                             "VarScope?" % name)

        if initializer is None:
            initializer = _default_initializer(name, dtype)
            initializing_from_value = False
        if initializing_from_value:
            init_val = initializer
            variable_dtype = None
        else:
            if isinstance(initializer, type):
                initializer = initializer()
            if shape.is_fully_defined():
                dims = shape.as_list()

                def init_val():
                    return initializer(dims, dtype=dtype, partition_info=None)
                variable_dtype = dtype.base_dtype
            elif _takes_no_required_args(initializer):
                init_val = initializer
                variable_dtype = None
            else:
                raise ValueError("The initializer passed is not valid. It should be a callable "
                                 "with no arguments and the shape should not be provided or an "
                                 "instance of `tf.keras.initializers.*' and `shape` should be "
                                 "fully defined.")
        v = _variables.Variable(initial_value=init_val, name=name, trainable=trainable,
                                collections=collections, caching_device=caching_device,
                                dtype=variable_dtype, validate_shape=validate_shape,
                                constraint=constraint, synchronization=synchronization,
                                aggregation=aggregation)
        self._vars[name] = v
        if regularizer is not None:
            g = _ops.get_default_graph()
            with _variables.init_scope(g), _ops.name_scope(name + "/Regularizer/"):
                loss = regularizer(v)
            if loss is not None:
                _ops.add_to_collection(_ops.GraphKeys.REGULARIZATION_LOSSES, loss)
        return v


def _default_initializer(name, dtype):
    if dtype.is_floating:
        return init_ops.glorot_uniform_initializer()
    if dtype.is_integer or dtype.is_unsigned or dtype.is_bool or dtype == _dtypes.string:
        return init_ops.zeros_initializer()
    raise ValueError("An initializer for variable %s of %s is required"
                     % (name, dtype.base_dtype))


def _constant_dtype(value):
    """The dtype `value` would convert to, without adding a Const op to the graph."""
    if isinstance(value, _ops.Tensor) or hasattr(value, "_as_graph_element"):
        return value.dtype.base_dtype
    arr = _dtypes.convert_to_numpy(value)
    return _dtypes.string if arr.dtype == object else _dtypes.as_dtype(arr.dtype)


def _accepts_kwarg(fn, kw):
    import inspect  # only for custom getters, never on the op-building hot path

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return kw in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _takes_no_required_args(fn):
    import inspect

    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in params)


class _VariableScopeStore:
    """The current variable scope and how often each scope name was opened (per graph)."""

    def __init__(self):
        self.current_scope = VariableScope(False)
        self.variable_scopes_count = {}

    def open_variable_scope(self, scope_name):
        self.variable_scopes_count[scope_name] = self.variable_scopes_count.get(scope_name,
                                                                                0) + 1

    def close_variable_subscopes(self, scope_name):
        prefix = scope_name + "/" if scope_name is not None else None
        for k in self.variable_scopes_count:
            if prefix is None or k.startswith(prefix):
                self.variable_scopes_count[k] = 0

    def variable_scope_count(self, scope_name):
        return self.variable_scopes_count.get(scope_name, 0)


def _get_default_variable_store():
    aux = _ops.get_default_graph()._aux
    store = aux.get(_VARSTORE_KEY)
    if store is None:
        store = aux[_VARSTORE_KEY] = _VariableStore()
    return store


def _get_variable_scope_store():
    aux = _ops.get_default_graph()._aux
    store = aux.get(_VARSCOPESTORE_KEY)
    if store is None:
        store = aux[_VARSCOPESTORE_KEY] = _VariableScopeStore()
    return store


def get_variable_scope():
    """The current `VariableScope`."""
    return _get_variable_scope_store().current_scope


# ---- VariableScope -------------------------------------------------------------------------


class VariableScope:
    """Defaults and reuse mode for `get_variable` inside a `variable_scope`.

    Attributes:
      name: the scope's name ("foo/bar"); variables are named `name + "/" + var_name`.
      original_name_scope: the name scope (with trailing "/") opened when the scope was first
        entered.
      reuse: False/None (create), True (must exist) or AUTO_REUSE.
    """

    def __init__(self, reuse, name="", initializer=None, regularizer=None, caching_device=None,
                 partitioner=None, custom_getter=None, name_scope="", dtype=_dtypes.float32,
                 use_resource=None, constraint=None):
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._reuse = reuse
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint

    @property
    def name(self):
        return self._name

    @property
    def original_name_scope(self):
        return self._name_scope

    @property
    def reuse(self):
        return self._reuse

    @property
    def initializer(self):
        return self._initializer

    @property
    def dtype(self):
        return self._dtype

    @property
    def use_resource(self):
        return self._use_resource

    @property
    def regularizer(self):
        return self._regularizer

    @property
    def caching_device(self):
        return self._caching_device

    @property
    def partitioner(self):
        return self._partitioner

    @property
    def custom_getter(self):
        return self._custom_getter

    @property
    def constraint(self):
        return self._constraint

    def reuse_variables(self):
        """Reuse variables in this scope from now on."""
        self._reuse = True

    def set_initializer(self, initializer):
        self._initializer = initializer

    def set_dtype(self, dtype):
        self._dtype = dtype

    def set_use_resource(self, use_resource):
        self._use_resource = use_resource

    def set_regularizer(self, regularizer):
        self._regularizer = regularizer

    def set_caching_device(self, caching_device):
        self._caching_device = caching_device

    def set_partitioner(self, partitioner):
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter):
        self._custom_getter = custom_getter

    def get_collection(self, name):
        """Items of collection `name` whose names start with this scope's name."""
        scope = self._name + "/" if self._name else ""
        return _ops.get_collection(name, scope)

    def trainable_variables(self):
        return self.get_collection(_ops.GraphKeys.TRAINABLE_VARIABLES)

    def global_variables(self):
        return self.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self):
        return self.get_collection(_ops.GraphKeys.LOCAL_VARIABLES)

    def get_variable(self, var_store, name, shape=None, dtype=None, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape=True,
                     use_resource=None, custom_getter=None, constraint=None,
                     synchronization=_variables.VariableSynchronization.AUTO,
                     aggregation=_variables.VariableAggregation.NONE):
        """Get or create variable `name` in this scope using `var_store`."""
        if regularizer is None:
            regularizer = self._regularizer
        if caching_device is None:
            caching_device = self._caching_device
        if partitioner is None:
            partitioner = self._partitioner
        if custom_getter is None:
            custom_getter = self._custom_getter
        if reuse is None:
            reuse = self._reuse
        if use_resource is None:
            use_resource = self._use_resource
        full_name = self._name + "/" + name if self._name else name
        # Variable names depend only on the variable scope, so the name scope is reset while
        # the variable's ops are created.
        with _ops.get_default_graph().name_scope(None):
            if dtype is not None and initializer is not None and not callable(initializer):
                init_dtype = _constant_dtype(initializer)
                if init_dtype != _dtypes.as_dtype(dtype):
                    raise ValueError("Initializer type '%s' and explicit dtype '%s' don't "
                                     "match." % (init_dtype.name, _dtypes.as_dtype(dtype).name))
            if initializer is None:
                initializer = self._initializer
            if constraint is None:
                constraint = self._constraint
            if dtype is None:
                dtype = self._dtype
            return var_store.get_variable(
                full_name, shape=shape, dtype=dtype, initializer=initializer,
                regularizer=regularizer, reuse=reuse, trainable=trainable,
                collections=collections, caching_device=caching_device,
                partitioner=partitioner, validate_shape=validate_shape,
                use_resource=use_resource, custom_getter=custom_getter,
                constraint=constraint, synchronization=synchronization,
                aggregation=aggregation)

    def __repr__(self):
        return "<VariableScope %r reuse=%r>" % (self._name, self._reuse)


# ---- get_variable --------------------------------------------------------------------------


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 synchronization=_variables.VariableSynchronization.AUTO,
                 aggregation=_variables.VariableAggregation.NONE):
    """Get an existing variable named `scope/name` or create a new one.

    Args:
      name: the variable's name within the current variable scope.
      shape: its shape (omit when `initializer` is a constant value or tensor).
      dtype: its dtype (default: the scope's, float32).
      initializer: an initializer (called with shape and dtype), a callable with no required
        arguments, a Tensor or a constant. Default: glorot_uniform for floats, zeros for
        integers, bools and strings.
      regularizer: function of the variable; its result is added to REGULARIZATION_LOSSES.
      trainable: add to TRAINABLE_VARIABLES (default True).
      collections: collections to add the variable to (default GLOBAL_VARIABLES).
    Returns:
      The `Variable`.
    Raises:
      ValueError: creating an existing variable without reuse, reusing a missing one, or a
        shape/dtype mismatch on reuse.
    """
    return get_variable_scope().get_variable(
        _get_default_variable_store(), name, shape=shape, dtype=dtype,
        initializer=initializer, regularizer=regularizer, trainable=trainable,
        collections=collections, caching_device=caching_device, partitioner=partitioner,
        validate_shape=validate_shape, use_resource=use_resource, custom_getter=custom_getter,
        constraint=constraint, synchronization=synchronization, aggregation=aggregation)


def get_local_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                       trainable=False, collections=None, caching_device=None,
                       partitioner=None, validate_shape=True, use_resource=None,
                       custom_getter=None, constraint=None,
                       synchronization=_variables.VariableSynchronization.AUTO,
                       aggregation=_variables.VariableAggregation.NONE):
    """`get_variable` for a non-trainable variable in the LOCAL_VARIABLES collection."""
    if collections:
        collections = list(collections) + [_ops.GraphKeys.LOCAL_VARIABLES]
    else:
        collections = [_ops.GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                        regularizer=regularizer, trainable=False, collections=collections,
                        caching_device=caching_device, partitioner=partitioner,
                        validate_shape=validate_shape, use_resource=use_resource,
                        custom_getter=custom_getter, constraint=constraint,
                        synchronization=synchronization, aggregation=aggregation)


# ---- variable_scope context manager --------------------------------------------------------


def _wrap_custom_getter(custom_getter, old_getter):
    """Nest custom getters: the new one receives a getter that goes through the old one."""
    if old_getter is None:
        return custom_getter

    def wrapped(getter, *args, **kwargs):
        def inner(*a, **kw):
            return old_getter(getter, *a, **kw)
        return custom_getter(inner, *args, **kwargs)
    return wrapped


class _pure_variable_scope:  # noqa: N801 - TF1 spelling
    """Switch the current VariableScope without touching the name scope."""

    def __init__(self, name_or_scope, reuse=None, initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None,
                 old_name_scope=None, dtype=_dtypes.float32, use_resource=None,
                 constraint=None):
        self._name_or_scope = name_or_scope
        self._reuse = reuse
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._old_name_scope = old_name_scope
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint
        self._store = _get_variable_scope_store()
        self._old = self._store.current_scope

    def _apply_overrides(self, scope, old_getter):
        if self._initializer is not None:
            scope.set_initializer(self._initializer)
        if self._regularizer is not None:
            scope.set_regularizer(self._regularizer)
        if self._caching_device is not None:
            scope.set_caching_device(self._caching_device)
        if self._partitioner is not None:
            scope.set_partitioner(self._partitioner)
        if self._custom_getter is not None:
            scope.set_custom_getter(_wrap_custom_getter(self._custom_getter, old_getter))
        if self._dtype is not None:
            scope.set_dtype(self._dtype)
        if self._use_resource is not None:
            scope.set_use_resource(self._use_resource)
        if self._constraint is not None:
            scope._constraint = self._constraint

    def __enter__(self):
        store = self._store
        if isinstance(self._name_or_scope, VariableScope):
            src = self._name_or_scope
            self._new_name = src.name
            scope = VariableScope(src.reuse if not self._reuse else self._reuse,
                                  name=src.name, initializer=src.initializer,
                                  regularizer=src.regularizer,
                                  caching_device=src.caching_device,
                                  partitioner=src.partitioner,
                                  custom_getter=src.custom_getter,
                                  name_scope=src.original_name_scope, dtype=src.dtype,
                                  use_resource=src.use_resource, constraint=src.constraint)
            self._apply_overrides(scope, src.custom_getter)
            store.open_variable_scope(self._new_name)
            self._old_subscopes = dict(store.variable_scopes_count)
        else:
            old = self._old
            self._new_name = (old.name + "/" + self._name_or_scope if old.name
                              else self._name_or_scope)
            # Reuse is inherited by sub-scopes (reuse=False cannot switch it off).
            reuse = self._reuse or old.reuse
            name_scope = (self._name_or_scope if self._old_name_scope is None
                          else self._old_name_scope)
            scope = VariableScope(reuse, name=self._new_name, initializer=old.initializer,
                                  regularizer=old.regularizer,
                                  caching_device=old.caching_device,
                                  partitioner=old.partitioner, custom_getter=old.custom_getter,
                                  name_scope=name_scope, dtype=old.dtype,
                                  use_resource=old.use_resource, constraint=old.constraint)
            self._apply_overrides(scope, old.custom_getter)
            store.open_variable_scope(self._new_name)
        store.current_scope = scope
        return scope

    def __exit__(self, *exc):
        store = self._store
        if isinstance(self._name_or_scope, VariableScope):
            store.variable_scopes_count = self._old_subscopes
        else:
            store.close_variable_subscopes(self._new_name)
        store.current_scope = self._old
        return False


def _get_unique_variable_scope(prefix):
    store = _get_variable_scope_store()
    current = store.current_scope
    name = current.name + "/" + prefix if current.name else prefix
    if store.variable_scope_count(name) == 0:
        return prefix
    idx = 1
    while store.variable_scope_count(name + "_%d" % idx) > 0:
        idx += 1
    return prefix + "_%d" % idx


class variable_scope:  # noqa: N801 - TF1 spelling
    """A context manager for defining ops that create variables (TF1's `tf.variable_scope`).

    Args:
      name_or_scope: a string or a `VariableScope` to (re-)enter.
      default_name: used (made unique) when `name_or_scope` is None.
      values: tensors passed to the op function (used to pick the graph).
      initializer, regularizer, caching_device, partitioner, custom_getter, dtype,
      use_resource, constraint: defaults for variables created in this scope.
      reuse: True, None/False (inherit) or AUTO_REUSE.
      auxiliary_name_scope: if False, do not open a matching name scope.

    Entering yields the `VariableScope`.
    """

    def __init__(self, name_or_scope, default_name=None, values=None, initializer=None,
                 regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                 reuse=None, dtype=None, use_resource=None, constraint=None,
                 auxiliary_name_scope=True):
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._values = values
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._reuse = reuse
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint
        if self._default_name is None and self._name_or_scope is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if self._reuse is False:
            # Non-inheriting scopes are not allowed: False means None here.
            self._reuse = None
        if not (self._reuse is True or self._reuse is None or self._reuse is AUTO_REUSE):
            raise ValueError("The reuse parameter must be True or False or None.")
        if self._values is None:
            self._values = []
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError("The auxiliary_name_scope must be `True` or `False`, while get "
                            "{}".format(auxiliary_name_scope))
        self._auxiliary_name_scope = auxiliary_name_scope
        self._graph_ctx = None
        self._current_name_scope = None
        self._pure = None

    def _pure_scope(self, name_or_scope, old_name_scope, reuse):
        return _pure_variable_scope(
            name_or_scope, reuse=reuse, initializer=self._initializer,
            regularizer=self._regularizer, caching_device=self._caching_device,
            partitioner=self._partitioner, custom_getter=self._custom_getter,
            old_name_scope=old_name_scope, dtype=self._dtype,
            use_resource=self._use_resource, constraint=self._constraint)

    def __enter__(self):
        if self._values:
            g = _ops._get_graph_from_inputs(self._values)
            if g is not _ops.get_default_graph():
                self._graph_ctx = g.as_default()
                self._graph_ctx.__enter__()
        try:
            return self._enter()
        except BaseException:
            if self._graph_ctx is not None:
                self._graph_ctx.__exit__(None, None, None)
                self._graph_ctx = None
            raise

    def _enter(self):
        graph = _ops.get_default_graph()
        if self._auxiliary_name_scope:
            current_name_scope = None
        else:
            ns = graph.get_name_scope()
            current_name_scope = graph.name_scope(ns + "/" if ns else ns)

        if self._name_or_scope is not None:
            if not isinstance(self._name_or_scope, (VariableScope, str)):
                raise TypeError("VariableScope: name_or_scope must be a string or "
                                "VariableScope.")
            if isinstance(self._name_or_scope, str):
                ns_name = self._name_or_scope
            else:
                ns_name = self._name_or_scope.name.split("/")[-1]
            if ns_name or current_name_scope is not None:
                if current_name_scope is None:
                    current_name_scope = graph.name_scope(ns_name)
                current_name_scope_name = current_name_scope.__enter__()
                self._current_name_scope = current_name_scope
                if isinstance(self._name_or_scope, str):
                    old_name_scope = current_name_scope_name
                else:
                    old_name_scope = self._name_or_scope.original_name_scope
            else:
                # Entering the root variable scope.
                old_name_scope = None
            pure = self._pure_scope(self._name_or_scope, old_name_scope, self._reuse)
        else:
            if self._reuse:
                raise ValueError("reuse=True cannot be used without a name_or_scope")
            if current_name_scope is None:
                current_name_scope = graph.name_scope(self._default_name)
            current_name_scope_name = current_name_scope.__enter__()
            self._current_name_scope = current_name_scope
            unique_default_name = _get_unique_variable_scope(self._default_name)
            pure = self._pure_scope(unique_default_name, current_name_scope_name, None)
        try:
            scope = pure.__enter__()
        except BaseException:
            if self._current_name_scope is not None:
                self._current_name_scope.__exit__(None, None, None)
                self._current_name_scope = None
            raise
        self._pure = pure
        return scope

    def __exit__(self, exc_type, exc, tb):
        self._pure.__exit__(exc_type, exc, tb)
        self._pure = None
        if self._current_name_scope is not None:
            self._current_name_scope.__exit__(exc_type, exc, tb)
            self._current_name_scope = None
        if self._graph_ctx is not None:
            self._graph_ctx.__exit__(exc_type, exc, tb)
            self._graph_ctx = None
        return False


def variable_op_scope(values, name_or_scope, default_name=None, initializer=None,
                      regularizer=None, caching_device=None, partitioner=None,
                      custom_getter=None, reuse=None, dtype=None, use_resource=None,
                      constraint=None):
    """Deprecated: `variable_scope(name_or_scope, default_name, values, ...)`."""
    return variable_scope(name_or_scope, default_name=default_name, values=values,
                          initializer=initializer, regularizer=regularizer,
                          caching_device=caching_device, partitioner=partitioner,
                          custom_getter=custom_getter, reuse=reuse, dtype=dtype,
                          use_resource=use_resource, constraint=constraint)
