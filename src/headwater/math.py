"""`tf.math`: the elementwise, reduction and comparison ops under their TF 1.13+ names."""

from headwater.ops.math_ops import *  # noqa: F401,F403
from headwater.ops.math_ops import (abs, add, add_n, argmax, argmin, cumprod,  # noqa: F401,A004
                                    cumsum, divide, equal, erf, exp, floordiv, floormod,
                                    greater, greater_equal, is_finite, is_inf, is_nan, less,
                                    less_equal, log, log1p, logical_and, logical_not, logical_or,
                                    logical_xor, maximum, minimum, multiply, negative, not_equal,
                                    pow, reciprocal, reduce_all, reduce_any, reduce_logsumexp,
                                    reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum,
                                    round, rsqrt, sigmoid, sign, sqrt, square,
                                    squared_difference, subtract, tanh, truediv)
from headwater.ops.math_ops import floormod as mod  # noqa: F401
from headwater.ops.math_ops import divide as div  # noqa: F401
from headwater.ops.math_ops import logical_xor as xor  # noqa: F401
