"""TF1 `tf.layers.Layer`: a callable that owns variables created through `get_variable`.

Scoping follows TF1's legacy layers: a layer built with `name="fc1"` (the functional forms pass
it as the scope) uses variable scope "fc1" as is, so a second, non-reusing layer of that name
fails with "Variable fc1/kernel already exists"; an unnamed layer takes a fresh default scope
("dense", "dense_1", ...). Ops are created under the scope's original name scope
("dense/MatMul"), variables are named "dense/kernel:0".
"""

from __future__ import annotations

import re

from headwater.framework import dtypes as _dtypes
from headwater.framework import ops as _ops
from headwater.ops import variable_scope as vs

__all__ = ["InputSpec", "Layer"]


def _to_snake_case(name):
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    # Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, as TF names them.
    return re.sub(r"_(\d)_?d\b", r"\1d", s)


class InputSpec:
    """Expected rank/dtype of a layer's input (kept for TF1 API compatibility)."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None):
        self.dtype = dtype
        self.shape = shape
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = axes or {}


class Layer:
    """Base class of the TF1 layers.

    Subclasses implement `build(input_shape)` (creating weights with `add_weight`) and
    `call(inputs, **kwargs)`. Calling the layer builds it once, then applies `call` under the
    layer's variable scope; later calls reuse the variables.
    """

    _DEFAULT_BASE = None

    def __init__(self, trainable=True, name=None, dtype=None, _scope=None, _reuse=None,
                 **kwargs):
        self.trainable = trainable
        self.built = False
        self._dtype = None if dtype is None else _dtypes.as_dtype(dtype).base_dtype
        self._reuse = _reuse
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._updates = []
        self._losses = []
        self._base_name = name or _to_snake_case(type(self).__name__)
        self._name = name
        self._scope = None
        self.activity_regularizer = kwargs.pop("activity_regularizer", None)
        if kwargs:
            raise TypeError("Keyword argument not understood: %s" % ", ".join(sorted(kwargs)))
        if _scope is not None:
            with vs.variable_scope(_scope) as captured:
                self._scope = captured

    # ---- properties ----------------------------------------------------------------------
    @property
    def name(self):
        if self._name is None and self._scope is not None:
            return self._scope.name.split("/")[-1]
        return self._name or self._base_name

    @property
    def scope_name(self):
        if self._scope is None:
            raise ValueError("No name available for layer scope because the layer \"%s\" has "
                             "not been used yet." % self._base_name)
        return self._scope.name

    @property
    def dtype(self):
        return self._dtype

    @property
    def trainable_weights(self):
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return list(self._non_trainable_weights)
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    variables = weights

    @property
    def updates(self):
        return list(self._updates)

    @property
    def losses(self):
        return list(self._losses)

    # ---- building --------------------------------------------------------------------------
    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None,
                   trainable=True, constraint=None, **kwargs):
        """Create (or, when reusing, fetch) variable `name` in the layer's scope."""
        dtype = dtype or self._dtype
        trainable = bool(trainable and self.trainable)
        v = vs.get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                            regularizer=regularizer, trainable=trainable,
                            constraint=constraint)
        if trainable:
            if v not in self._trainable_weights:
                self._trainable_weights.append(v)
        elif v not in self._non_trainable_weights:
            self._non_trainable_weights.append(v)
        return v

    def add_update(self, updates, inputs=None):
        if not isinstance(updates, (list, tuple)):
            updates = [updates]
        for u in updates:
            self._updates.append(u)
            _ops.add_to_collection(_ops.GraphKeys.UPDATE_OPS, u)

    def add_loss(self, losses, inputs=None):
        if not isinstance(losses, (list, tuple)):
            losses = [losses]
        for loss in losses:
            self._losses.append(loss)
            _ops.add_to_collection(_ops.GraphKeys.REGULARIZATION_LOSSES, loss)

    def build(self, input_shape):
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def compute_output_shape(self, input_shape):
        raise NotImplementedError

    def _set_scope(self):
        if self._scope is None:
            if self._reuse:
                with vs.variable_scope(self._base_name) as captured:
                    self._scope = captured
            else:
                with vs.variable_scope(None, default_name=self._base_name) as captured:
                    self._scope = captured

    def __call__(self, inputs, *args, **kwargs):
        """Build the layer on the first call and apply it to `inputs`."""
        if not isinstance(inputs, (list, tuple)):
            inputs = _ops.convert_to_tensor(inputs)
            first = inputs
        else:
            inputs = [_ops.convert_to_tensor(x) for x in inputs]
            first = inputs[0]
        if self._dtype is None:
            self._dtype = first.dtype.base_dtype
        graph = first.graph
        with graph.as_default():
            self._set_scope()
            reuse = True if self.built else self._reuse
            with vs.variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False):
                with _ops.name_scope(self._scope.original_name_scope):
                    if not self.built:
                        self.build(first.shape if not isinstance(inputs, list)
                                   else [x.shape for x in inputs])
                        self.built = True
                    outputs = self.call(inputs, *args, **kwargs)
                    if self.activity_regularizer is not None:
                        with _ops.name_scope("ActivityRegularizer"):
                            self._activity_loss(outputs)
        return outputs

    def _activity_loss(self, outputs):
        from headwater.ops import array_ops, math_ops

        loss = self.activity_regularizer(outputs)
        if loss is None:
            return
        # TF1 (1.14+) divides the activity loss by the batch size.
        batch = math_ops.cast(array_ops.shape(outputs)[0], loss.dtype)
        self.add_loss(math_ops.truediv(loss, batch))

    apply = __call__
