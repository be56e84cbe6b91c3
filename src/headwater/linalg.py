"""`tf.linalg`: the matrix ops headwater has."""

from headwater.ops.math_ops import einsum, matmul, tensordot  # noqa: F401
from headwater.ops.array_ops import eye, transpose  # noqa: F401
