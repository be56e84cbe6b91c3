"""Reading checkpoints without a Saver: `list_variables`, `load_variable`,
`init_from_checkpoint` (TF1's `tf.train` checkpoint utilities), and the `RestoreV2` op."""

from __future__ import annotations

import os
import time

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.framework.op_registry import register_op
from headwater.train import checkpoint_management as _cm
from headwater.train.saver import CheckpointReader

__all__ = [
    "checkpoints_iterator",
    "init_from_checkpoint",
    "list_variables",
    "load_checkpoint",
    "load_variable",
]


def _get_checkpoint_filename(ckpt_dir_or_file):
    ckpt_dir_or_file = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(ckpt_dir_or_file):
        path = _cm.latest_checkpoint(ckpt_dir_or_file)
        if path is None:
            raise ValueError("Couldn't find 'checkpoint' file or checkpoints in given "
                             "directory %s" % ckpt_dir_or_file)
        return path
    return ckpt_dir_or_file


def load_checkpoint(ckpt_dir_or_file):
    """A `CheckpointReader` for a checkpoint prefix or the latest one in a directory.

    Raises:
      ValueError: if a directory holds no checkpoint.
    """
    return CheckpointReader(_get_checkpoint_filename(ckpt_dir_or_file))


def load_variable(ckpt_dir_or_file, name):
    """The numpy value of tensor `name` in the checkpoint (a trailing ":0" is ignored)."""
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


def list_variables(ckpt_dir_or_file):
    """Sorted list of (name, shape) of the tensors in the checkpoint."""
    reader = load_checkpoint(ckpt_dir_or_file)
    shapes = reader.get_variable_to_shape_map()
    return [(name, shapes[name]) for name in sorted(shapes)]


def checkpoints_iterator(checkpoint_dir, min_interval_secs=0, timeout=None, timeout_fn=None):
    """Yield each new latest checkpoint of `checkpoint_dir` as it appears."""
    last = None
    while True:
        deadline = None if timeout is None else time.time() + timeout
        while True:
            path = _cm.latest_checkpoint(checkpoint_dir)
            if path is not None and path != last:
                break
            if deadline is not None and time.time() > deadline:
                path = None
                break
            time.sleep(1)
        if path is None:
            if timeout_fn is None or timeout_fn():
                return
            continue
        start = time.time()
        last = path
        yield path
        wait = min_interval_secs - (time.time() - start)
        if wait > 0:
            time.sleep(wait)


# ---- RestoreV2 -----------------------------------------------------------------------------


def _restore_infer(inputs, attrs):
    return [(dt, _ts.TensorShape(None)) for dt in attrs["dtypes"]]


def _restore_kernel(op, ctx):
    dtypes = [np.dtype(d.as_numpy_dtype) for d in op._attrs["dtypes"]]

    def restore_v2(prefix, names, slices):
        prefix = prefix.item() if isinstance(prefix, np.ndarray) else prefix
        if isinstance(prefix, bytes):
            prefix = prefix.decode("utf-8")
        reader = CheckpointReader(prefix)
        out = []
        for n, dt in zip(np.asarray(names, dtype=object).reshape(-1), dtypes):
            n = n.decode("utf-8") if isinstance(n, bytes) else str(n)
            v = reader.get_tensor(n)
            if v.dtype != dt:
                raise errors.InvalidArgumentError(
                    None, None, "tensor_name = %s; expected dtype %s does not equal original "
                    "dtype %s" % (n, dt.name, v.dtype.name))
            out.append(v)
        return out[0] if len(out) == 1 else tuple(out)
    return restore_v2


register_op("RestoreV2", _restore_infer, _restore_kernel, stateful=True)

try:
    from headwater.gradients import NotDifferentiable as _NotDifferentiable

    _NotDifferentiable("RestoreV2")
except Exception:  # noqa: BLE001 - gradients registry optional at import time
    pass


def _restore_op(ckpt_file, tensor_name, dtype, shape, name):
    from headwater.ops import array_ops

    prefix = array_ops.constant(ckpt_file, dtype=_dtypes.string, name="prefix")
    names = array_ops.constant([tensor_name], dtype=_dtypes.string, name="tensor_names")
    slices = array_ops.constant([""], dtype=_dtypes.string, name="shape_and_slices")
    g = prefix.graph
    op = g.create_op("RestoreV2", [prefix, names, slices], {"dtypes": [dtype]}, name=name,
                     output_specs=[(dtype, _ts.TensorShape(list(shape)))])
    return op.outputs[0]


def _set_initializer(var, ckpt_file, tensor_name, reader):
    """Make `var`'s initializer assign the checkpoint tensor `tensor_name` (TF1 semantics)."""
    from headwater.ops import state_ops
    from headwater.ops.variables import init_scope

    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    if tensor_name not in shapes:
        raise ValueError("Tensor %s is not found in %s checkpoint %s"
                         % (tensor_name, ckpt_file, sorted(shapes)))
    shape = shapes[tensor_name]
    if not var.shape.is_compatible_with(_ts.TensorShape(shape)):
        raise ValueError("Shape of variable %s (%s) doesn't match with shape of tensor %s (%s) "
                         "from checkpoint reader." % (var.name, var.shape, tensor_name, shape))
    if dtypes[tensor_name] != var.dtype.base_dtype:
        raise ValueError("dtype of variable %s (%s) doesn't match with dtype of tensor %s (%s) "
                         "from checkpoint reader." % (var.name, var.dtype.name, tensor_name,
                                                      dtypes[tensor_name].name))
    g = var.graph
    with g.as_default(), init_scope(g), g.name_scope(var.op.name + "/"):
        value = _restore_op(ckpt_file, tensor_name, var.dtype.base_dtype, shape,
                            "checkpoint_initializer")
        assign = state_ops.assign(var._variable, value)
    var._initializer_op = assign.op
    var._initial_value = value


def _variables_by_name(graph):
    out = {}
    from headwater.ops import variable_scope as vs

    try:
        store = vs._get_default_variable_store()._vars
        out.update({k: v for k, v in store.items() if getattr(v, "graph", None) is graph})
    except Exception:  # noqa: BLE001 - the store is an implementation detail
        pass
    for key in (_ops.GraphKeys.GLOBAL_VARIABLES, _ops.GraphKeys.LOCAL_VARIABLES):
        for v in graph.get_collection(key):
            out.setdefault(v.op.name, v)
    return out


def init_from_checkpoint(ckpt_dir_or_file, assignment_map):
    """Initialize variables from a checkpoint by replacing their initializers (TF1 semantics).

    `assignment_map` maps checkpoint names to current variables:
    ``{"old_scope/var": "new_scope/var"}`` or a Variable object (one variable),
    ``{"old_scope/": "new_scope/"}`` (every variable under the scope) and ``{"/": "scope/"}``
    (the whole checkpoint into a scope). Run the (new) initializers afterwards, e.g. with
    `global_variables_initializer()`; nothing is read until then.

    Raises:
      ValueError: names missing from the checkpoint or the graph, or mismatched shapes.
    """
    from headwater.ops.variables import Variable

    ckpt_file = _get_checkpoint_filename(ckpt_dir_or_file)
    reader = CheckpointReader(ckpt_file)
    variable_map = reader.get_variable_to_shape_map()
    graph = _ops.get_default_graph()
    store = _variables_by_name(graph)
    for tensor_name_in_ckpt, current in sorted(assignment_map.items(), key=lambda kv: kv[0]):
        if isinstance(current, (list, tuple)):
            for v in current:
                _set_initializer(v, ckpt_file, tensor_name_in_ckpt, reader)
            continue
        if isinstance(current, Variable):
            _set_initializer(current, ckpt_file, tensor_name_in_ckpt, reader)
            continue
        if not isinstance(current, str):
            raise TypeError("assignment_map values must be variables or names, got %r"
                            % (current,))
        var = store.get(current)
        if var is not None:
            if tensor_name_in_ckpt not in variable_map:
                raise ValueError("Tensor %s is not found in %s checkpoint %s"
                                 % (tensor_name_in_ckpt, ckpt_dir_or_file, variable_map))
            _set_initializer(var, ckpt_file, tensor_name_in_ckpt, reader)
            continue
        scopes = current[:current.rindex("/")] if "/" in current else ""
        if not tensor_name_in_ckpt.endswith("/"):
            raise ValueError("Assignment map with scope only name {} should map to scope only "
                             "{}. Should be 'scope/': 'other_scope/'."
                             .format(scopes, tensor_name_in_ckpt))
        names = sorted(n for n in store if not scopes or n.startswith(scopes + "/"))
        for var_name in names:
            full = var_name[len(scopes):]
            if current != "/":
                full = full[1:]
            if tensor_name_in_ckpt != "/":
                full = tensor_name_in_ckpt + full
            if full.endswith("/"):
                full = full[:-1]
            if full not in variable_map:
                raise ValueError("Tensor %s (%s in %s) is not found in %s checkpoint"
                                 % (full, var_name[len(scopes) + 1:], tensor_name_in_ckpt,
                                    ckpt_dir_or_file))
            _set_initializer(store[var_name], ckpt_file, full, reader)
