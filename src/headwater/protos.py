"""Configuration and run-time option objects with TF1's names and fields.

TF1 uses protocol buffers here; users only construct them with keyword arguments and read
fields back, so plain attribute holders suffice (and keep `import headwater` light).
"""


class _Message:
    _fields = {}

    def __init__(self, **kwargs):
        for k, v in self._fields.items():
            setattr(self, k, v() if callable(v) else v)
        for k, v in kwargs.items():
            if k not in self._fields:
                raise ValueError("Protocol message %s has no \"%s\" field."
                                 % (type(self).__name__, k))
            setattr(self, k, v)

    def __repr__(self):
        items = ", ".join("%s=%r" % (k, getattr(self, k)) for k in self._fields
                          if getattr(self, k) != (self._fields[k]() if callable(
                              self._fields[k]) else self._fields[k]))
        return "%s(%s)" % (type(self).__name__, items)

    def CopyFrom(self, other):  # noqa: N802 - protobuf spelling
        for k in self._fields:
            setattr(self, k, getattr(other, k))


class GPUOptions(_Message):
    _fields = {"allow_growth": False, "per_process_gpu_memory_fraction": 0.0,
               "visible_device_list": ""}


class GraphOptions(_Message):
    _fields = {"enable_bfloat16_sendrecv": False, "infer_shapes": False,
               "build_cost_model": 0, "optimizer_options": None}


class ConfigProto(_Message):
    """Session configuration; `intra_op_parallelism_threads` sets headwater's kernel threads."""

    _fields = {"device_count": dict, "intra_op_parallelism_threads": 0,
               "inter_op_parallelism_threads": 0, "use_per_session_threads": False,
               "allow_soft_placement": False, "log_device_placement": False,
               "gpu_options": GPUOptions, "graph_options": GraphOptions,
               "operation_timeout_in_ms": 0, "isolate_session_state": False}


class RunOptions(_Message):
    NO_TRACE = 0
    SOFTWARE_TRACE = 1
    HARDWARE_TRACE = 2
    FULL_TRACE = 3
    _fields = {"trace_level": 0, "timeout_in_ms": 0, "output_partition_graphs": False,
               "report_tensor_allocations_upon_oom": False}


class RunMetadata(_Message):
    _fields = {"step_stats": None, "cost_graph": None, "partition_graphs": list}


class OptimizerOptions(_Message):
    L0 = -1
    L1 = 0
    ON_1 = 1
    OFF = 2
    DEFAULT = 0
    _fields = {"do_common_subexpression_elimination": False, "do_constant_folding": False,
               "opt_level": 0, "global_jit_level": 0}
