"""headwater: TensorFlow 1.x-style graphs and sessions with a SIMD C++ core.

    import headwater as tf

This module only re-exports the TF1-shaped public surface; heavy or optional parts (summaries,
estimators, layers, ...) load on first use so that `import headwater` stays cheap.
"""
# ruff: noqa: F401, F403, E402, A004

__version__ = "0.1.0"

from headwater.framework import dtypes, errors
from headwater.framework.dtypes import (DType, as_dtype, bfloat16, bool, complex64, complex128,
                                        double, float16, float32, float64, half, int8, int16,
                                        int32, int64, string, uint8, uint16, uint32, uint64)
from headwater.framework.dtypes import float as float  # tf.float is float32's alias
from headwater.framework.ops import (Graph, GraphKeys, Operation, Tensor, add_to_collection,
                                     add_to_collections, colocate_with, control_dependencies,
                                     convert_to_tensor, convert_to_tensor_or_indexed_slices,
                                     device, get_collection, get_collection_ref,
                                     get_default_graph, get_default_session, get_name_scope,
                                     is_tensor, name_scope, register_tensor_conversion_function,
                                     reset_default_graph)
from headwater.framework.random_seed import set_random_seed
from headwater.framework.tensor_shape import Dimension, TensorShape, dimension_value
from headwater.framework.graph_def import AttrValue, GraphDef, NodeDef, import_graph_def
from headwater.framework.meta_graph import MetaGraphDef
from headwater.client.session import IndexedSlicesValue, InteractiveSession, Session
from headwater.protos import (ConfigProto, GPUOptions, GraphOptions, OptimizerOptions,
                              RunMetadata, RunOptions)
from headwater.ops.array_ops import *
from headwater.ops.math_ops import *
from headwater.ops.state_ops import *
from headwater.ops.variables import *
from headwater.ops.variable_scope import *
from headwater.ops.random_ops import *
from headwater.ops.init_ops import *
from headwater.ops.control_flow_ops import *
from headwater.ops.logging_ops import *
from headwater.ops.check_ops import *
from headwater.ops.clip_ops import *
from headwater.gradients import (AggregationMethod, IndexedSlices, NoGradient,
                                 NotDifferentiable, RegisterGradient, UnconnectedGradients,
                                 gradients, hessians)
from headwater import compat, initializers, linalg, math, nn, random, saved_model, train
from headwater.platform import app, flags, gfile
from headwater.platform import tf_logging as logging

newaxis = None

# Submodules imported on first use, so `import headwater` stays cheap.
_LAZY_SUBMODULES = frozenset(["test", "summary", "estimator", "feature_column", "data",
                              "layers", "losses", "metrics", "datasets", "onnx"])
_SUMMARY_PROTOS = frozenset(["Summary", "Event", "SessionLog", "SummaryMetadata",
                             "HistogramProto"])


def __getattr__(name):
    if name in _SUMMARY_PROTOS:
        # TF1 exposes the summary protos at the top level; they need tensorboard's protobufs,
        # which load only when asked for.
        from headwater import summary as _summary

        return getattr(_summary, name)
    if name in _LAZY_SUBMODULES:
        import importlib

        mod = importlib.import_module("headwater." + name)
        globals()[name] = mod
        return mod
    raise AttributeError("module 'headwater' has no attribute %r" % name)


def _tf1_print_compat():
    # TF1 programs print fetched scalars (`print(sess.run([a, b]))` -> `[3.0, 4.0]`); numpy 2
    # would print `[np.float32(3.0), ...]`. Keep the TF1-era scalar repr unless opted out.
    import os

    import numpy as np

    if os.environ.get("HEADWATER_NUMPY_LEGACY_PRINT", "1") != "0" and \
            int(np.__version__.split(".")[0]) >= 2:
        np.set_printoptions(legacy="1.25")


_tf1_print_compat()


def disable_v2_behavior():
    """No-op: headwater always behaves like TensorFlow 1.x graph mode."""


def disable_eager_execution():
    """No-op: headwater has no eager mode."""


def enable_v2_behavior():
    raise NotImplementedError("headwater implements TensorFlow 1.x graph mode only.")


def executing_eagerly():
    return False


def disable_resource_variables():
    """No-op: headwater variables are TF1 ref variables."""


def show_config():
    """Print version, compiler, build flags, the chosen and available ISAs and threads."""
    from headwater._config import show_config as _show

    _show()
