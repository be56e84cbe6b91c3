"""headwater: TensorFlow 1.x-style graphs and sessions with a SIMD C++ core.

    import headwater as tf
"""

from headwater.framework import dtypes as _dtypes_mod
from headwater.framework import errors
from headwater.framework.dtypes import *  # noqa: F401,F403 - tf.float32 etc.
from headwater.framework.dtypes import DType, as_dtype
from headwater.framework.ops import (Graph, GraphKeys, Operation, Tensor, add_to_collection,
                                     add_to_collections, colocate_with, control_dependencies,
                                     convert_to_tensor, device, get_collection,
                                     get_collection_ref, get_default_graph,
                                     get_default_session, is_tensor, name_scope,
                                     reset_default_graph)
from headwater.framework.random_seed import set_random_seed
from headwater.framework.tensor_shape import Dimension, TensorShape
from headwater.client.session import InteractiveSession, Session
from headwater.ops.array_ops import *  # noqa: F401,F403
from headwater.ops.math_ops import *  # noqa: F401,F403
from headwater.ops.state_ops import *  # noqa: F401,F403
from headwater.ops.variables import *  # noqa: F401,F403
from headwater.ops.variable_scope import *  # noqa: F401,F403
from headwater.ops.random_ops import *  # noqa: F401,F403
from headwater.ops.init_ops import *  # noqa: F401,F403
from headwater.ops.control_flow_ops import *  # noqa: F401,F403
from headwater.ops.logging_ops import *  # noqa: F401,F403
from headwater.ops.check_ops import *  # noqa: F401,F403

__version__ = "0.1.0"


def show_config():
    """Print version, compiler, build flags, the chosen and available ISAs and threads."""
    from headwater._config import show_config as _show

    _show()
