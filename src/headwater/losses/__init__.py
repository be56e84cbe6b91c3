"""`tf.losses`: TF1's weighted losses, reduction modes and loss collections.

    loss = tf.losses.softmax_cross_entropy(onehot_labels=y_, logits=y)
    total = tf.losses.get_total_loss()
"""

from headwater.losses.losses_impl import (  # noqa: F401
                                          Reduction,
                                          absolute_difference,
                                          compute_weighted_loss,
                                          cosine_distance,
                                          hinge_loss,
                                          huber_loss,
                                          log_loss,
                                          mean_squared_error,
                                          sigmoid_cross_entropy,
                                          softmax_cross_entropy,
                                          sparse_softmax_cross_entropy,
)
from headwater.losses.util import (  # noqa: F401
                                          add_loss,
                                          get_losses,
                                          get_regularization_loss,
                                          get_regularization_losses,
                                          get_total_loss,
)

__all__ = [n for n in dir() if not n.startswith("_") and n not in ("losses_impl", "util")]
