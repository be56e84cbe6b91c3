"""Graph, Operation and Tensor: the deferred-computation core.

A `Graph` owns `Operation`s; each operation's outputs are symbolic `Tensor`s with a dtype and a
static (possibly partial) shape. Nothing is computed here: a `Session` compiles a plan from the
graph and runs it. Behaviour (names, scoping, errors) follows TensorFlow 1.x graph mode.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading


from headwater.framework import dtypes as _dtypes
from headwater.framework import tensor_shape as _tensor_shape
from headwater.framework.op_registry import get_op_def

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\-/>]*$")


def _user_location():
    """(filename, lineno) of the innermost frame outside headwater.

    Errors name the user's line that created an op; walking frames is far cheaper than
    `traceback.extract_stack`, which matters because graphs of 10k ops must build quickly.
    """
    f = sys._getframe(2)
    inside = _inside_pkg
    while f is not None:
        code = f.f_code
        r = inside.get(code)
        if r is None:
            r = inside[code] = code.co_filename.startswith(_PKG_DIR)
        if not r:
            return (code.co_filename, f.f_lineno)
        f = f.f_back
    return None


_inside_pkg = {}


class GraphKeys:
    """Standard collection names, as in TF1."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    SAVEABLE_OBJECTS = "saveable_objects"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    TRAIN_OP = "train_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"
    VARIABLES = GLOBAL_VARIABLES


class Tensor:
    """A symbolic handle to one output of an `Operation`.

    Equality and hashing are by identity, as in TF1 graph mode; use `headwater.equal` for an
    elementwise comparison.
    """

    __slots__ = ("_op", "_value_index", "_dtype", "_shape", "__weakref__")

    # numpy must defer to our reflected operators (np_array + tensor -> Tensor).
    __array_priority__ = 100

    def __init__(self, op, value_index, dtype, shape):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = shape

    @property
    def op(self):
        return self._op

    @property
    def value_index(self):
        return self._value_index

    @property
    def graph(self):
        return self._op._graph

    @property
    def name(self):
        return "%s:%d" % (self._op._name, self._value_index)

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        return self._op._device

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    def set_shape(self, shape):
        """Merge `shape` into the static shape (raises ValueError if incompatible)."""
        self._shape = self._shape.merge_with(_tensor_shape.as_shape(shape))

    def consumers(self):
        """Operations that take this tensor as an input (in creation order)."""
        return list(self._op._graph._consumer_map().get(self, ()))

    def eval(self, feed_dict=None, session=None):
        """Evaluate this tensor in `session` (default: the default session)."""
        return _run_using_default_session(self, feed_dict, self.graph, session)

    def _as_graph_element(self):
        return self

    def __repr__(self):
        return "<tf.Tensor '%s' shape=%s dtype=%s>" % (self.name, self._shape, self._dtype.name)

    def __str__(self):
        return 'Tensor("%s", shape=%s, dtype=%s)' % (self.name, self._shape, self._dtype.name)

    def __bool__(self):
        raise TypeError(
            "Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not None:` "
            "instead of `if t:` to test if a tensor is defined, and use TensorFlow ops such as "
            "tf.cond to execute subgraphs conditioned on the value of a tensor.")

    def __iter__(self):
        shape = self._shape
        if shape._dims is None:
            raise TypeError("Cannot iterate over a tensor with unknown shape.")
        if not shape._dims:
            raise TypeError("Cannot iterate over a scalar tensor.")
        n = shape._dims[0]
        if n is None:
            raise TypeError("Cannot iterate over a tensor with unknown first dimension.")
        for i in range(n):
            yield self[i]

    def __len__(self):
        raise TypeError(
            "len is not well defined for symbolic Tensors. (%s) Please call `x.shape` rather "
            "than `len(x)` for shape information." % self.name)

    __hash__ = object.__hash__

    @staticmethod
    def _override_operator(operator, func):
        setattr(Tensor, operator, func)


def _name_from_scope_name(name):
    return name[:-1] if (name and name[-1] == "/") else name


class Operation:
    """A node of the graph: an op type, inputs, attributes and output tensors."""

    __slots__ = ("_graph", "_name", "_type", "_inputs", "_outputs", "_attrs",
                 "_control_inputs", "_device", "_location", "_id",
                 "_op_def", "_cond_context", "__weakref__")

    def __init__(self, graph, name, op_type, inputs, attrs, output_specs, op_def):
        self._graph = graph
        self._name = name
        self._type = op_type
        self._inputs = inputs
        self._attrs = attrs
        self._op_def = op_def
        self._control_inputs = []
        self._device = graph._device_stack[-1] if graph._device_stack else ""
        self._location = None
        self._cond_context = graph._cond_context
        self._outputs = [Tensor(self, i, dt, sh) for i, (dt, sh) in enumerate(output_specs)]

    @property
    def name(self):
        return self._name

    @property
    def type(self):
        return self._type

    @property
    def graph(self):
        return self._graph

    @property
    def inputs(self):
        return tuple(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def control_inputs(self):
        return list(self._control_inputs)

    @property
    def device(self):
        return self._device

    def _set_device(self, device):
        self._device = device or ""

    @property
    def node_def(self):
        # A light stand-in for NodeDef until GraphDef export exists.
        return {"name": self._name, "op": self._type, "attr": dict(self._attrs),
                "input": [t.name for t in self._inputs] + ["^" + o.name for o in
                                                            self._control_inputs],
                "device": self._device}

    @property
    def traceback(self):
        return [self._location] if self._location else []

    def location_str(self):
        if self._location is None:
            return ""
        return "%s:%d" % self._location

    def get_attr(self, name):
        try:
            return self._attrs[name]
        except KeyError:
            raise ValueError("Operation '%s' has no attr named '%s'." % (self._name, name))

    def _set_attr(self, name, value):
        self._attrs[name] = value

    def _add_control_input(self, op):
        if op not in self._control_inputs:
            self._control_inputs.append(op)
            self._graph._version += 1
            self._graph._version_ctrl += 1

    def _add_control_inputs(self, ops):
        for op in ops:
            self._add_control_input(op)

    def run(self, feed_dict=None, session=None):
        """Run this operation in `session` (default: the default session)."""
        _run_using_default_session(self, feed_dict, self._graph, session)

    def _as_graph_element(self):
        return self

    def values(self):
        return tuple(self._outputs)

    def __repr__(self):
        return "<tf.Operation '%s' type=%s>" % (self._name, self._type)

    def __str__(self):
        lines = ['name: "%s"' % self._name, 'op: "%s"' % self._type]
        lines += ['input: "%s"' % (t.name if t.value_index else t.op.name) for t in self._inputs]
        lines += ['input: "^%s"' % o.name for o in self._control_inputs]
        if self._device:
            lines.append('device: "%s"' % self._device)
        for k in sorted(self._attrs):
            if not k.startswith("_"):
                lines.append("attr { key: %r value: %r }" % (k, self._attrs[k]))
        return "\n".join(lines)


class _GraphNameScope:
    # A plain class rather than @contextmanager: every `a + b` enters one, and generator-based
    # context managers cost several times more.
    __slots__ = ("_graph", "_name", "_old")

    def __init__(self, graph, name):
        self._graph = graph
        self._name = name

    def __enter__(self):
        g = self._graph
        name = self._name
        self._old = g._name_stack
        if name:
            if name[-1] == "/":
                new_stack = name[:-1]
            else:
                if not _VALID_SCOPE_NAME.match(name):
                    raise ValueError("'%s' is not a valid scope name" % name)
                new_stack = g.unique_name(name)
        else:
            new_stack = ""
        g._name_stack = new_stack
        return new_stack + "/" if new_stack else ""

    def __exit__(self, *exc):
        self._graph._name_stack = self._old
        return False


class _ControlDependenciesController:
    __slots__ = ("_graph", "control_inputs", "_new_stack", "_old_stack", "ops_created")

    def __init__(self, graph, control_inputs):
        self._graph = graph
        # None clears all outer dependencies, as in TF1.
        self._new_stack = control_inputs is None
        self.control_inputs = control_inputs or []
        self.ops_created = set()

    def __enter__(self):
        g = self._graph
        if self._new_stack:
            self._old_stack = g._control_dependencies_stack
            g._control_dependencies_stack = []
        g._control_dependencies_stack.append(self)

    def __exit__(self, *exc):
        g = self._graph
        g._control_dependencies_stack.pop()
        if self._new_stack:
            g._control_dependencies_stack = self._old_stack


class Graph:
    """A TensorFlow-1.x-style computation graph."""

    def __init__(self):
        self._lock = threading.RLock()
        self._nodes_by_name = {}
        self._nodes_in_order = []
        self._names_in_use = {}
        self._name_stack = ""
        self._control_dependencies_stack = []
        self._device_stack = []
        self._collections = {}
        self._finalized = False
        self._version = 0
        # Bumped only when an existing op gains control inputs: cached plans stay valid while
        # the graph merely grows, but not when edges of already-planned ops change.
        self._version_ctrl = 0
        self._seed = None
        self._last_id = 0
        self._cond_context = None
        self._gradient_override_map = {}
        self._building_function = False
        # Per-graph state owned by other modules (variable scopes, summary tags, ...).
        self._aux = {}

    # ---- default-graph plumbing -------------------------------------------------------------
    @contextlib.contextmanager
    def as_default(self):
        _default_graph_stack.push(self)
        try:
            yield self
        finally:
            _default_graph_stack.pop(self)

    @property
    def version(self):
        return self._version

    @property
    def seed(self):
        return self._seed

    @seed.setter
    def seed(self, seed):
        self._seed = seed

    @property
    def finalized(self):
        return self._finalized

    def finalize(self):
        self._finalized = True

    def _unsafe_unfinalize(self):
        self._finalized = False

    @property
    def building_function(self):
        return self._building_function

    # ---- naming -------------------------------------------------------------------------------
    def get_name_scope(self):
        return self._name_stack

    def unique_name(self, name, mark_as_used=True):
        if self._name_stack:
            name = self._name_stack + "/" + name
        name_key = name.lower()
        i = self._names_in_use.get(name_key, 0)
        if mark_as_used:
            self._names_in_use[name_key] = i + 1
        if i > 0:
            base_name_key = name_key
            while name_key in self._names_in_use:
                name_key = "%s_%d" % (base_name_key, i)
                i += 1
            if mark_as_used:
                self._names_in_use[name_key] = 1
            name = "%s_%d" % (name, i - 1)
        return name

    def name_scope(self, name):
        """Push a name scope; `None`/`""` resets to the top level, a trailing '/' re-enters."""
        return _GraphNameScope(self, name)

    # ---- op creation ----------------------------------------------------------------------
    def _check_not_finalized(self):
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")

    def create_op(self, op_type, inputs, attrs=None, name=None, output_specs=None):
        """Create an operation. Most code uses `headwater.framework.ops.create_op` instead."""
        return _create_op(self, op_type, list(inputs), attrs or {}, name, output_specs)

    def _consumer_map(self):
        """Tensor -> [consuming ops], rebuilt only when the graph changed. Computed on demand
        because keeping per-tensor lists costs every op creation for a rarely used query."""
        cache = self._aux.get("_consumers")
        if cache is None or cache[0] != self._version:
            m = {}
            for op in self._nodes_in_order:
                for t in op._inputs:
                    lst = m.get(t)
                    if lst is None:
                        m[t] = [op]
                    elif lst[-1] is not op:
                        lst.append(op)
            cache = self._aux["_consumers"] = (self._version, m)
        return cache[1]

    def _add_op(self, op):
        self._nodes_by_name[op._name] = op
        op._id = len(self._nodes_in_order)
        self._nodes_in_order.append(op)
        self._version += 1

    # ---- lookups --------------------------------------------------------------------------
    def get_operations(self):
        return list(self._nodes_in_order)

    def get_operation_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError("Operation names are strings (or similar), not %s."
                            % type(name).__name__)
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError("Tensor names are strings (or similar), not %s."
                            % type(name).__name__)
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        if hasattr(obj, "_as_graph_element") and not isinstance(obj, (Tensor, Operation)):
            obj = obj._as_graph_element()
        types_str = " or ".join(
            ([] if not allow_tensor else ["Tensor"])
            + ([] if not allow_operation else ["Operation"]))
        if isinstance(obj, str):
            name = obj
            if ":" in name and allow_tensor:
                op_name, out_n = name.split(":", 1)
                try:
                    out_n = int(out_n)
                except ValueError:
                    raise ValueError("The name %r looks a like a Tensor name, but is not a "
                                     "valid one. Tensor names must be of the form "
                                     "\"<op_name>:<output_index>\"." % name)
                if op_name not in self._nodes_by_name:
                    raise KeyError("The name %r refers to a Tensor which does not exist. The "
                                   "operation, %r, does not exist in the graph."
                                   % (name, op_name))
                op = self._nodes_by_name[op_name]
                if out_n >= len(op._outputs) or out_n < 0:
                    raise KeyError("The name %r refers to a Tensor which does not exist. The "
                                   "operation, %r, exists but only has %s outputs."
                                   % (name, op_name, len(op._outputs)))
                return op._outputs[out_n]
            elif ":" in name and not allow_tensor:
                raise ValueError("Name %r appears to refer to a Tensor, not a %s."
                                 % (name, types_str))
            elif ":" not in name and allow_operation:
                if name not in self._nodes_by_name:
                    raise KeyError("The name %r refers to an Operation not in the graph."
                                   % name)
                return self._nodes_by_name[name]
            else:
                if name in self._nodes_by_name:
                    err = ("The name %r refers to an Operation, not a %s." % (name, types_str))
                else:
                    err = ("The name %r looks like an (invalid) Operation name, not a %s."
                           % (name, types_str))
                err += (" Tensor names must be of the form \"<op_name>:<output_index>\".")
                raise ValueError(err)
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError("Tensor %s is not an element of this graph." % obj)
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError("Operation %s is not an element of this graph." % obj)
            return obj
        raise TypeError("Can not convert a %s into a %s." % (type(obj).__name__, types_str))

    def as_graph_def(self, from_version=None, add_shapes=False):
        """A `GraphDef` describing this graph (see `headwater.framework.graph_def`).

        Args:
          from_version: only ops created at or after this op index.
          add_shapes: add each node's output shapes as the `_output_shapes` attribute.
        """
        from headwater.framework import graph_def as _graph_def

        return _graph_def.graph_to_graph_def(self, add_shapes=add_shapes,
                                             from_version=from_version)

    # ---- collections ------------------------------------------------------------------------
    def add_to_collection(self, name, value):
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        if isinstance(names, str):
            names = [names]
        for name in set(names):
            self.add_to_collection(name, value)

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def get_collection(self, name, scope=None):
        coll = self._collections.get(name)
        if coll is None:
            return []
        if scope is None:
            return list(coll)
        regex = re.compile(scope)
        out = []
        for item in coll:
            nm = getattr(item, "name", None)
            if nm is not None and regex.match(nm):
                out.append(item)
        return out

    def get_all_collection_keys(self):
        return [k for k in self._collections if isinstance(k, str)]

    def clear_collection(self, name):
        self._collections.pop(name, None)

    # ---- control deps / devices -------------------------------------------------------------
    def control_dependencies(self, control_inputs):
        if control_inputs is None:
            return _ControlDependenciesController(self, None)
        ops = []
        for c in control_inputs:
            if hasattr(c, "_as_graph_element") and not isinstance(c, (Tensor, Operation)):
                c = c._as_graph_element()
            if isinstance(c, Tensor):
                c = c.op
            elif not isinstance(c, Operation):
                raise TypeError("Control input must be Operation or Tensor: %s" % (c,))
            if c.graph is not self:
                raise ValueError("Control input %s is not an element of this graph." % c.name)
            ops.append(c)
        return _ControlDependenciesController(self, ops)

    def _current_control_dependencies(self):
        ret = []
        for controller in self._control_dependencies_stack:
            for op in controller.control_inputs:
                if op not in ret:
                    ret.append(op)
        return ret

    @contextlib.contextmanager
    def device(self, device_name_or_function):
        if callable(device_name_or_function):
            raise NotImplementedError("device functions are not supported; pass a string")
        self._device_stack.append(canonical_device(device_name_or_function))
        try:
            yield
        finally:
            self._device_stack.pop()

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing=False):
        yield

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map):
        saved = dict(self._gradient_override_map)
        self._gradient_override_map.update(op_type_map)
        try:
            yield
        finally:
            self._gradient_override_map = saved

    def is_fetchable(self, tensor_or_op):
        return True

    def is_feedable(self, tensor):
        return True

    def __repr__(self):
        return "<headwater.Graph object at 0x%x>" % id(self)


def canonical_device(spec):
    """Normalise a device string (lower-case job/replica/task/device parts as TF does)."""
    if not spec:
        return ""
    spec = str(spec)
    parts = []
    for p in spec.split("/"):
        if not p:
            continue
        if p.lower().startswith(("cpu:", "gpu:")):
            p = "device:" + p.upper()
        parts.append(p)
    return "/" + "/".join(parts)


def _create_op(graph, op_type, inputs, attrs, name, output_specs):
    if graph._finalized:
        graph._check_not_finalized()
    op_def = get_op_def(op_type)
    for t in inputs:
        if t._op._graph is not graph:
            raise ValueError("Tensor %s must be from the same graph as the op being created "
                             "(%s)." % (t.name, op_type))
    if graph._gradient_override_map:
        mapped = graph._gradient_override_map.get(op_type)
        if mapped is not None:
            attrs["_gradient_op_type"] = mapped
    if output_specs is None:
        output_specs = op_def.infer(inputs, attrs)
    if name is None:
        name = graph.unique_name(op_def.default_name)
    elif name[-1:] == "/":
        name = name[:-1]
    else:
        if not _VALID_OP_NAME.match(name):
            raise ValueError("'%s' is not a valid node name" % name)
        name = graph.unique_name(name)
    op = Operation(graph, name, op_type, inputs, attrs, output_specs, op_def)
    op._location = _user_location()
    stack = graph._control_dependencies_stack
    if stack:
        input_ops = {t._op for t in inputs}
        for controller in stack:
            controller.ops_created.add(op)
            for c in controller.control_inputs:
                if c not in input_ops and c not in op._control_inputs:
                    op._control_inputs.append(c)
    graph._add_op(op)
    return op


# ---- default graph stack ------------------------------------------------------------------
class _DefaultGraphStack(threading.local):
    def __init__(self):
        self.stack = []
        self.global_default = None

    def get_default(self):
        if self.stack:
            return self.stack[-1]
        if _global_default[0] is None:
            _global_default[0] = Graph()
        return _global_default[0]

    def push(self, g):
        self.stack.append(g)

    def pop(self, g):
        if self.stack and self.stack[-1] is g:
            self.stack.pop()
        elif g in self.stack:
            self.stack.remove(g)


_global_default = [None]
_default_graph_stack = _DefaultGraphStack()


def get_default_graph():
    """The graph new ops are added to (a fresh global graph unless one is pushed)."""
    return _default_graph_stack.get_default()


def reset_default_graph():
    """Replace the global default graph with a new, empty one."""
    if _default_graph_stack.stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. If "
                             "you need a cleared graph, exit the nesting and create a new "
                             "graph.")
    _global_default[0] = Graph()


def _get_graph_from_inputs(op_input_list):
    for v in op_input_list:
        if isinstance(v, Tensor):
            return v.graph
        g = getattr(v, "graph", None)
        if isinstance(g, Graph):
            return g
    return get_default_graph()


class name_scope:  # noqa: N801 - TF1 spelling
    """`with name_scope(name, default_name, values) as scope:` as in TF1."""

    __slots__ = ("_name", "_default_name", "_values", "_ctx", "_graph_ctx")

    def __init__(self, name, default_name=None, values=None):
        self._name = default_name if name is None else name
        self._default_name = default_name
        self._values = values
        self._graph_ctx = None

    def __enter__(self):
        if self._name is None and self._values is not None:
            raise ValueError("At least one of name (%s) and default_name (%s) must be "
                             "provided." % (self._name, self._default_name))
        g = _get_graph_from_inputs(self._values) if self._values else get_default_graph()
        if g is not get_default_graph():
            self._graph_ctx = g.as_default()
            self._graph_ctx.__enter__()
        self._ctx = g.name_scope(self._name)
        return self._ctx.__enter__()

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)
        if self._graph_ctx is not None:
            self._graph_ctx.__exit__(*exc)
        return False


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)


def colocate_with(op, ignore_existing=False):
    return get_default_graph().colocate_with(op, ignore_existing)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


def get_name_scope():
    return get_default_graph().get_name_scope()


# ---- tensor conversion --------------------------------------------------------------------
_conversion_registry = []  # (type, fn) pairs, consulted in order


def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    _conversion_registry.append((priority, base_type, conversion_func))
    _conversion_registry.sort(key=lambda e: e[0])


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, dtype_hint=None):
    """Turn a Tensor, Variable, numpy array or Python value into a `Tensor`."""
    if type(value) is Tensor:
        if dtype is not None:
            dtype = _dtypes.as_dtype(dtype)
            if value._dtype != dtype:
                raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype "
                                 "%s: %r" % (dtype.name, value._dtype.name, value))
        return value
    for _, base_type, fn in _conversion_registry:
        if isinstance(value, base_type):
            ret = fn(value, dtype=dtype, name=name)
            if ret is not NotImplemented:
                return ret
    from headwater.ops import array_ops  # constant lives there; imported lazily (cycle)

    preferred = preferred_dtype or dtype_hint
    if dtype is None and preferred is not None:
        try:
            return array_ops.constant(value, dtype=preferred, name=name or "Const")
        except (TypeError, ValueError):
            pass
    return array_ops.constant(value, dtype=dtype, name=name or "Const")


def convert_n_to_tensor(values, dtype=None, name=None):
    return [convert_to_tensor(v, dtype=dtype) for v in values]


def convert_to_tensor_or_indexed_slices(value, dtype=None, name=None):
    return convert_to_tensor(value, dtype=dtype, name=name)


def is_tensor(x):
    return isinstance(x, Tensor) or hasattr(x, "_as_graph_element")


# ---- default session ------------------------------------------------------------------------
class _DefaultSessionStack(threading.local):
    def __init__(self):
        self.stack = []


_default_session_stack = _DefaultSessionStack()


def get_default_session():
    """The innermost session installed with `Session.as_default()` (or None)."""
    s = _default_session_stack.stack
    return s[-1] if s else None


@contextlib.contextmanager
def default_session(session):
    _default_session_stack.stack.append(session)
    try:
        yield session
    finally:
        _default_session_stack.stack.remove(session)


def _run_using_default_session(fetch, feed_dict, graph, session):
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError("Cannot evaluate tensor using `eval()`: No default session is "
                             "registered. Use `with sess.as_default()` or pass an explicit "
                             "session to `eval(session=sess)`")
        if session.graph is not graph:
            raise ValueError("Cannot use the default session to evaluate tensor: the tensor's "
                             "graph is different from the session's graph. Pass an explicit "
                             "session to `eval(session=sess)`.")
    elif session.graph is not graph:
        raise ValueError("Cannot use the given session to evaluate tensor: the tensor's graph "
                         "is different from the session's graph.")
    return session.run(fetch, feed_dict)


def apply_op(op_type, inputs, attrs=None, name=None, graph=None):
    """Create an op of `op_type` on `inputs` (Tensors) and return its single output Tensor,
    the list of outputs when it has several, or the Operation when it has none."""
    if graph is None:
        graph = inputs[0]._op._graph if inputs else get_default_graph()
    op = _create_op(graph, op_type, list(inputs), attrs if attrs is not None else {}, name,
                    None)
    outs = op._outputs
    n = len(outs)
    if n == 1:
        return outs[0]
    if n == 0:
        return op
    return outs
