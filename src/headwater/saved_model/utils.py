"""TensorInfo helpers (TF1's `tf.saved_model.utils`)."""

from headwater.framework import ops as _ops
from headwater.framework.meta_graph import TensorInfo

__all__ = ["build_tensor_info", "get_tensor_from_tensor_info"]


def build_tensor_info(tensor):
    """The `TensorInfo` (name, dtype, static shape) of `tensor` (or a Variable)."""
    if hasattr(tensor, "_as_graph_element") and not isinstance(tensor, _ops.Tensor):
        tensor = _ops.convert_to_tensor(tensor)
    if not isinstance(tensor, _ops.Tensor):
        raise TypeError("build_tensor_info expects a Tensor, got %r" % (tensor,))
    return TensorInfo(tensor.name, tensor.dtype.base_dtype, tensor.shape)


def get_tensor_from_tensor_info(tensor_info, graph=None, import_scope=None):
    """The tensor of `graph` (default graph) named by `tensor_info`."""
    graph = graph or _ops.get_default_graph()
    name = tensor_info.name
    if import_scope:
        name = import_scope.rstrip("/") + "/" + name
    return graph.get_tensor_by_name(name)
