"""The protocol buffer classes TensorBoard reads, from the `tensorboard` package's copies.

Imported only when a summary is built or written, so `import headwater` stays light and
`tensorboard` stays an optional dependency (`pip install headwater[tensorboard]`).
"""

try:
    from tensorboard.compat.proto import (attr_value_pb2, config_pb2, event_pb2, graph_pb2,
                                          node_def_pb2, step_stats_pb2, summary_pb2,
                                          tensor_pb2, tensor_shape_pb2, types_pb2)
except ImportError as e:  # pragma: no cover - exercised only without tensorboard
    raise ImportError("headwater.summary needs the tensorboard package for its protocol "
                      "buffers: pip install headwater[tensorboard]  (or: pip install "
                      "tensorboard)") from e

__all__ = ["attr_value_pb2", "config_pb2", "event_pb2", "graph_pb2", "node_def_pb2",
           "step_stats_pb2", "summary_pb2", "tensor_pb2", "tensor_shape_pb2", "types_pb2"]
