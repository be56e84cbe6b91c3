"""`tf.initializers` / `tf.keras.initializers`-style names for the TF1 initializer classes."""

from headwater.ops.init_ops import (Constant, GlorotNormal, GlorotUniform, Identity,  # noqa: F401
                                    Ones, Orthogonal, RandomNormal, RandomUniform,
                                    TruncatedNormal, UniformUnitScaling, VarianceScaling, Zeros,
                                    he_normal, he_uniform, lecun_normal, lecun_uniform)
from headwater.ops.variables import global_variables_initializer as global_variables  # noqa
from headwater.ops.variables import local_variables_initializer as local_variables  # noqa
from headwater.ops.variables import variables_initializer as variables  # noqa: F401

zeros = Zeros
ones = Ones
constant = Constant
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
uniform_unit_scaling = UniformUnitScaling
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
orthogonal = Orthogonal
identity = Identity
