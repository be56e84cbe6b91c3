"""`tf.nn`: neural-network ops under their TF1 names (`tf.nn.relu`, `tf.nn.conv2d`, ...)."""

from headwater.ops.math_ops import sigmoid, tanh
from headwater.ops.nn_ops import (
    avg_pool,
    batch_normalization,
    bias_add,
    conv2d,
    conv2d_backprop_filter,
    conv2d_backprop_input,
    conv2d_transpose,
    crelu,
    depthwise_conv2d,
    depthwise_conv2d_native,
    depthwise_conv2d_native_backprop_filter,
    depthwise_conv2d_native_backprop_input,
    dropout,
    elu,
    embedding_lookup,
    fused_batch_norm,
    in_top_k,
    l2_loss,
    l2_normalize,
    leaky_relu,
    log_softmax,
    max_pool,
    moments,
    relu,
    relu6,
    relu_layer,
    selu,
    sigmoid_cross_entropy_with_logits,
    softmax,
    softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2,
    softplus,
    softsign,
    sparse_softmax_cross_entropy_with_logits,
    swish,
    top_k,
    weighted_cross_entropy_with_logits,
    xw_plus_b,
    zero_fraction,
)

# TF2-era spellings that TF1 (compat.v1) also accepts.
max_pool2d = max_pool
avg_pool2d = avg_pool
silu = swish

__all__ = [
    "avg_pool", "avg_pool2d", "batch_normalization", "bias_add", "conv2d",
    "conv2d_backprop_filter", "conv2d_backprop_input", "conv2d_transpose", "crelu",
    "depthwise_conv2d", "depthwise_conv2d_native", "depthwise_conv2d_native_backprop_filter",
    "depthwise_conv2d_native_backprop_input", "dropout", "elu", "embedding_lookup",
    "fused_batch_norm", "in_top_k", "l2_loss", "l2_normalize", "leaky_relu", "log_softmax",
    "max_pool", "max_pool2d", "moments", "relu", "relu6", "relu_layer", "selu", "sigmoid",
    "sigmoid_cross_entropy_with_logits", "silu", "softmax", "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2", "softplus", "softsign",
    "sparse_softmax_cross_entropy_with_logits", "swish", "tanh", "top_k",
    "weighted_cross_entropy_with_logits", "xw_plus_b", "zero_fraction",
]
