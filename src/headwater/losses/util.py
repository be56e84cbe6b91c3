"""Loss collection helpers (TF1's `tf.losses` utilities)."""

from __future__ import annotations

from headwater.framework import ops as _ops
from headwater.ops import array_ops, math_ops

__all__ = ["add_loss", "get_losses", "get_regularization_loss", "get_regularization_losses",
           "get_total_loss"]


def add_loss(loss, loss_collection=_ops.GraphKeys.LOSSES):
    """Add `loss` to `loss_collection` (nothing when the collection is None or empty)."""
    if loss_collection:
        _ops.add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=_ops.GraphKeys.LOSSES):
    """The losses in `loss_collection`, optionally filtered by a name-scope regex `scope`."""
    return _ops.get_collection(loss_collection, scope)


def get_regularization_losses(scope=None):
    """The tensors of the REGULARIZATION_LOSSES collection (filtered by `scope`)."""
    return _ops.get_collection(_ops.GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    """Sum of the regularization losses (a float32 0.0 constant when there are none)."""
    losses = get_regularization_losses(scope)
    if losses:
        return math_ops.add_n(losses, name=name)
    return array_ops.constant(0.0)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None):
    """Sum of the LOSSES collection plus (by default) the regularization losses.

    Raises:
      ValueError: when there is no loss at all (as TF1's `add_n([])`).
    """
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses = losses + get_regularization_losses(scope=scope)
    if not losses:
        raise ValueError("get_total_loss: no losses found (the LOSSES and "
                         "REGULARIZATION_LOSSES collections are empty).")
    return math_ops.add_n(losses, name=name)
