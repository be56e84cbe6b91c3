"""`tf.random`: random tensors and the graph-level seed."""

from headwater.framework.random_seed import set_random_seed as set_seed  # noqa: F401
from headwater.framework.random_seed import get_seed  # noqa: F401
from headwater.ops.random_ops import (categorical, multinomial, random_gamma,  # noqa: F401
                                      random_normal, random_poisson, random_shuffle,
                                      random_uniform, truncated_normal)
from headwater.ops.random_ops import random_gamma as gamma  # noqa: F401
from headwater.ops.random_ops import random_normal as normal  # noqa: F401
from headwater.ops.random_ops import random_poisson as poisson  # noqa: F401
from headwater.ops.random_ops import random_shuffle as shuffle  # noqa: F401
from headwater.ops.random_ops import random_uniform as uniform  # noqa: F401
from headwater.framework.random_seed import set_random_seed  # noqa: F401
