"""`tf.estimator.inputs`: input functions reading numpy arrays and pandas frames (TF1).

An input_fn built here returns `(features, labels)` tensors fed by a batching iterator (a
`headwater.data` dataset): shuffled or in order, for `num_epochs` passes (None: forever).
When the data runs out, reading raises `OutOfRangeError`, which ends `Estimator.train`,
`evaluate` and `predict` as TF1's queues do. The last batch of a finite input may be smaller.
"""

from __future__ import annotations

import collections

import numpy as np

from headwater.data import dataset_ops as _ds
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts

__all__ = ["numpy_input_fn", "pandas_input_fn"]

_TARGET_KEY = "__target_key__"


class _ArrayBatches(_ds.Dataset):
    """Batches of rows of equal-length arrays: whole batches by fancy indexing (one numpy
    call per array per batch, not per row)."""

    def __init__(self, arrays, batch_size, num_epochs, shuffle, seed=None):
        self._arrays = arrays
        self._n = len(arrays[0])
        self._batch = int(batch_size)
        self._epochs = num_epochs
        self._shuffle = shuffle
        self._seed = seed
        self._structure = tuple(_ds._Spec(_ds._dtype_of(a), _ts.TensorShape(
            (None,) + a.shape[1:])) for a in arrays)
        self._calls = 0

    def _indices(self, rng):
        epoch = 0
        n = self._n
        while self._epochs is None or epoch < self._epochs:
            yield rng.permutation(n) if self._shuffle else np.arange(n)
            epoch += 1

    def _make(self, env, ctx):
        self._calls += 1
        rng = np.random.default_rng(None if self._seed is None else [self._seed, self._calls])
        bs = self._batch
        arrays = self._arrays
        pending = np.empty(0, dtype=np.int64)
        for idx in self._indices(rng):
            pending = idx if not len(pending) else np.concatenate([pending, idx])
            while len(pending) >= bs:
                take, pending = pending[:bs], pending[bs:]
                yield [a[take] for a in arrays]
        if len(pending):
            yield [a[pending] for a in arrays]


def _as_array(v, name):
    a = np.asarray(v)
    if a.ndim == 0:
        raise ValueError("%s must be an array with a batch dimension; got a scalar." % name)
    if a.dtype.kind in "US":
        a = a.astype(object)
    return a


def numpy_input_fn(x, y=None, batch_size=128, num_epochs=1, shuffle=None,
                   queue_capacity=1000, num_threads=1):
    """An input_fn feeding dicts of numpy arrays to a model.

    Args:
      x: dict {feature name: array} (or one array, giving a single feature tensor).
      y: labels: an array, a dict of arrays, or None.
      batch_size: rows per batch.
      num_epochs: passes over the data; None repeats forever.
      shuffle: whether to shuffle rows (required, as TF1).
      queue_capacity, num_threads: accepted for TF1 compatibility.
    Returns:
      A function returning `(features, labels)` (or `features` when `y` is None).
    Raises:
      ValueError: if `shuffle` is not given, lengths differ, or y's keys collide with x's.
      TypeError: if x is not a dict or array.
    """
    if not isinstance(shuffle, bool):
        raise ValueError("shuffle must be provided and explicitly set as boolean (it is "
                         f"recommended to set it as True for training); got {shuffle}")
    if batch_size is None or int(batch_size) <= 0:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size}")
    if num_epochs is not None and int(num_epochs) <= 0:
        raise ValueError(f"num_epochs must be None or a positive integer; got {num_epochs}"
                         )
    if isinstance(x, dict):
        x_dict = collections.OrderedDict((k, _as_array(v, "x[%r]" % k)) for k, v in x.items())
        unpack_x = False
    elif isinstance(x, (np.ndarray, list, tuple)):
        x_dict = collections.OrderedDict([("__x__", _as_array(x, "x"))])
        unpack_x = True
    else:
        raise TypeError(f"x must be a dict or array; got {type(x).__name__}")
    if not x_dict:
        raise ValueError("x cannot be an empty dict")
    if isinstance(y, dict):
        y_dict = collections.OrderedDict((k, _as_array(v, "y[%r]" % k)) for k, v in y.items())
        overlap = set(x_dict) & set(y_dict)
        if overlap:
            raise ValueError(f"{len(overlap)} duplicate keys are found in both x and y: {sorted(overlap)}"
                             )
    elif y is not None:
        y_dict = collections.OrderedDict([(_TARGET_KEY, _as_array(y, "y"))])
    else:
        y_dict = collections.OrderedDict()
    lengths = {len(v) for v in list(x_dict.values()) + list(y_dict.values())}
    if len(lengths) != 1:
        if y is not None and len({len(v) for v in x_dict.values()}) == 1:
            raise ValueError("Length of tensors in x and y is mismatched. All elements in x "
                             "and y must have the same length.")
        raise ValueError("Length of tensors in x is mismatched. All elements in x must have "
                         "the same length.")
    names = list(x_dict) + list(y_dict)
    arrays = [x_dict[k] for k in x_dict] + [y_dict[k] for k in y_dict]
    n_x = len(x_dict)

    def input_fn():
        ds = _ArrayBatches(arrays, batch_size, num_epochs, shuffle)
        with _ops.name_scope("numpy_input_fn" if not unpack_x else "numpy_input_fn_x"):
            outs = ds.make_one_shot_iterator().get_next()
        feats = collections.OrderedDict(zip(names[:n_x], outs[:n_x]))
        features = feats["__x__"] if unpack_x else dict(feats)
        if y is None:
            return features
        labels = dict(zip(names[n_x:], outs[n_x:]))
        if not isinstance(y, dict):
            labels = labels[_TARGET_KEY]
        return features, labels

    return input_fn


def pandas_input_fn(x, y=None, batch_size=128, num_epochs=1, shuffle=None,
                    queue_capacity=1000, num_threads=1, target_column="target"):
    """An input_fn feeding a pandas DataFrame (columns become features) and a Series of
    labels. Requires pandas.

    Raises:
      ValueError: if `shuffle` is not given, or the indexes of x and y differ.
    """
    try:
        import pandas as pd  # noqa: F401
    except ImportError:
        raise TypeError("pandas_input_fn should not be called without pandas installed") \
            from None
    if not isinstance(shuffle, bool):
        raise ValueError("shuffle must be provided and explicitly set as boolean (it is "
                         f"recommended to set it as True for training); got {shuffle}")
    x = x.copy()
    if y is not None:
        if target_column in x:
            raise ValueError("Cannot use name %s for target column: DataFrame already has a "
                             "column with that name: %s" % (target_column, x.columns))
        if not np.array_equal(x.index, y.index):
            raise ValueError("Index for x and y are mismatched.\nIndex for x: %s\nIndex for y: "
                             "%s\n" % (x.index, y.index))
        y_arr = y.values if not hasattr(y, "columns") else {
            c: y[c].values for c in y.columns}
    else:
        y_arr = None
    feats = {str(c): x[c].values for c in x.columns}
    return numpy_input_fn(feats, y_arr, batch_size=batch_size, num_epochs=num_epochs,
                          shuffle=shuffle, queue_capacity=queue_capacity,
                          num_threads=num_threads)
