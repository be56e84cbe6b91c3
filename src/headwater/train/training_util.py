"""The global step: an int64 scalar variable counting training steps (TF1's training_util)."""

from __future__ import annotations

import logging

from headwater.framework import dtypes as _dtypes
from headwater.framework import ops as _ops
from headwater.ops import init_ops
from headwater.ops import variable_scope as _vs
from headwater.ops import variables as _variables

__all__ = [
    "assert_global_step",
    "create_global_step",
    "get_global_step",
    "get_or_create_global_step",
    "global_step",
]

_GraphKeys = _ops.GraphKeys
_GLOBAL_STEP_READ_KEY = "global_step_read_op_cache"


def global_step(sess, global_step_tensor):
    """The current value of `global_step_tensor` in `sess`, as a Python int.

    Args:
      sess: a Session.
      global_step_tensor: the global step Variable or Tensor (or its name).
    """
    return int(sess.run(global_step_tensor))


def get_global_step(graph=None):
    """The global step variable of `graph` (default graph), or None if there is none.

    It is the single member of the GLOBAL_STEP collection or, failing that, the tensor named
    "global_step:0".

    Raises:
      TypeError: if the global step found is not an integer scalar Variable or Tensor.
    """
    graph = graph or _ops.get_default_graph()
    global_step_tensors = graph.get_collection(_GraphKeys.GLOBAL_STEP)
    if len(global_step_tensors) == 1:
        global_step_tensor = global_step_tensors[0]
    elif not global_step_tensors:
        try:
            global_step_tensor = graph.get_tensor_by_name("global_step:0")
        except KeyError:
            return None
    else:
        logging.getLogger("headwater").error("Multiple tensors in global_step collection.")
        return None
    assert_global_step(global_step_tensor)
    return global_step_tensor


def create_global_step(graph=None):
    """Create the global step variable in `graph` (default graph).

    It is an int64 scalar named "global_step", zero-initialized, non-trainable, in the
    GLOBAL_VARIABLES and GLOBAL_STEP collections.

    Raises:
      ValueError: if the graph already has a global step.
    """
    graph = graph or _ops.get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default() as g, g.name_scope(None):
        return _vs.get_variable(
            _GraphKeys.GLOBAL_STEP, shape=[], dtype=_dtypes.int64,
            initializer=init_ops.zeros_initializer(), trainable=False,
            aggregation=_variables.VariableAggregation.ONLY_FIRST_REPLICA,
            collections=[_GraphKeys.GLOBAL_VARIABLES, _GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    """The global step variable of `graph`, created if it does not exist yet."""
    graph = graph or _ops.get_default_graph()
    global_step_tensor = get_global_step(graph)
    if global_step_tensor is None:
        global_step_tensor = create_global_step(graph)
    return global_step_tensor


def assert_global_step(global_step_tensor):
    """Check that `global_step_tensor` is an integer scalar Variable or Tensor.

    Raises:
      TypeError: otherwise.
    """
    if not isinstance(global_step_tensor, (_variables.Variable, _ops.Tensor)):
        raise TypeError('Existing "global_step" must be a Variable or Tensor: %s.'
                        % global_step_tensor)
    if not global_step_tensor.dtype.base_dtype.is_integer:
        raise TypeError('Existing "global_step" does not have integer type: %s'
                        % global_step_tensor.dtype)
    shape = global_step_tensor.get_shape()
    if shape.ndims != 0 and shape.is_fully_defined():
        raise TypeError('Existing "global_step" is not scalar: %s' % shape)


def _get_global_step_read(graph=None):
    """A read of the global step cached per graph (None if there is no global step)."""
    graph = graph or _ops.get_default_graph()
    cached = graph.get_collection(_GLOBAL_STEP_READ_KEY)
    if len(cached) == 1:
        return cached[0]
    return None


def _get_or_create_global_step_read(graph=None):
    """A tensor reading the global step, created once per graph (for hooks and summaries).

    It reads through `initialized_value()`, so ops built under its control dependency run
    even before the global step's initializer.
    """
    graph = graph or _ops.get_default_graph()
    read = _get_global_step_read(graph)
    if read is not None:
        return read
    step = get_global_step(graph)
    if step is None:
        return None
    with graph.as_default() as g, g.name_scope(None), g.name_scope(step.op.name + "/"):
        value = step.initialized_value() if isinstance(step, _variables.Variable) else step
        # "+ 0" makes a new tensor rather than an alias of the variable.
        read = value + 0
        g.add_to_collection(_GLOBAL_STEP_READ_KEY, read)
    return _get_global_step_read(graph)


def _increment_global_step(increment, graph=None):
    """An op adding `increment` to the global step (after the cached read has run)."""
    graph = graph or _ops.get_default_graph()
    step = get_global_step(graph)
    if step is None:
        raise ValueError("Global step should be created to use _increment_global_step.")
    read = _get_or_create_global_step_read(graph)
    with graph.as_default(), graph.name_scope(step.op.name + "/"):
        with _ops.control_dependencies([read]):
            return step.assign_add(increment)
