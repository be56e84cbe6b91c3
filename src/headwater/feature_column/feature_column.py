"""`tf.feature_column`: describe raw features and turn them into model inputs (TF1).

Dense columns (`numeric_column`, `bucketized_column`, `indicator_column`, `embedding_column`)
become float32 blocks of `input_layer`; every column can feed `linear_model`, which gives
each a weight variable named as TF1 ("linear_model/<column>/weights", ".../bias_weights").

Categorical values are carried as dense int64 id tensors of shape [batch, k] where -1 marks
"no value" (TF1 uses SparseTensors; a feature of shape [batch] is one value per example).
String hashing uses a stable 64-bit FNV-1a hash: buckets are deterministic across runs and
machines, but not the same numbers as TF's FarmHash.
"""

from __future__ import annotations

import collections
import math

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.framework.op_registry import register_op

__all__ = [
    "bucketized_column",
    "categorical_column_with_hash_bucket",
    "categorical_column_with_identity",
    "categorical_column_with_vocabulary_list",
    "crossed_column",
    "embedding_column",
    "indicator_column",
    "input_layer",
    "linear_model",
    "make_parse_example_spec",
    "numeric_column",
]


# ---- ops: vocabulary lookup and hashing ---------------------------------------------------

def _fnv64(s):
    h = 0xCBF29CE484222325
    for b in s:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _as_bytes(v):
    if isinstance(v, bytes):
        return v
    if isinstance(v, (np.integer, int)):
        return str(int(v)).encode()
    return str(v).encode()


def _ids_infer(inputs, attrs):
    return [(_dtypes.int64, inputs[0].shape)]


def _vocab_kernel(op, ctx):
    table = op._attrs["_table"]
    default = op._attrs["default_value"]
    oov = op._attrs["num_oov_buckets"]
    size = len(table)
    get = table.get

    def lookup(x):
        flat = np.ravel(x)
        out = np.empty(flat.shape, np.int64)
        for i, v in enumerate(flat.tolist()):
            key = v.decode() if isinstance(v, bytes) else v
            idx = get(key)
            if idx is None:
                if key in ("", None) or (isinstance(key, int) and key == -1 and
                                         -1 not in table):
                    idx = -1  # padding: no value
                elif oov:
                    idx = size + _fnv64(_as_bytes(key)) % oov
                else:
                    idx = default
            out[i] = idx
        return out.reshape(np.shape(x))
    return lookup


register_op("HwVocabularyLookup", _ids_infer, _vocab_kernel)


def _hash_kernel(op, ctx):
    n = op._attrs["num_buckets"]

    def string_to_hash_bucket(x):
        flat = np.ravel(x)
        out = np.empty(flat.shape, np.int64)
        for i, v in enumerate(flat.tolist()):
            out[i] = -1 if v in ("", b"") else _fnv64(_as_bytes(v)) % n
        return out.reshape(np.shape(x))
    return string_to_hash_bucket


register_op("HwStringToHashBucket", _ids_infer, _hash_kernel)


def _cross_infer(inputs, attrs):
    batch = inputs[0].shape._dims[0] if inputs[0].shape._dims else None
    k = 1
    for t in inputs:
        d = t.shape._dims
        k = None if (d is None or d[1] is None or k is None) else k * d[1]
    return [(_dtypes.int64, _ts.TensorShape([batch, k]))]


def _cross_kernel(op, ctx):
    n = op._attrs["num_buckets"]
    seed = op._attrs["hash_key"]

    def cross(*cols):
        batch = cols[0].shape[0]
        rows = []
        for r in range(batch):
            combos = [b""]
            for c in cols:
                vals = [_as_bytes(v) for v in c[r].tolist() if v not in (-1, "", b"")]
                combos = [a + b"\x1f" + v for a in combos for v in vals]
            rows.append([(_fnv64(seed + a) % n) for a in combos])
        k = max(1, max(len(r) for r in rows)) if rows else 1
        out = np.full((batch, k), -1, np.int64)
        for r, ids in enumerate(rows):
            out[r, :len(ids)] = ids
        return out
    return cross


register_op("HwCrossHash", _cross_infer, _cross_kernel)

from headwater.gradients import NotDifferentiable as _nd

for _t in ("HwVocabularyLookup", "HwStringToHashBucket", "HwCrossHash"):
    _nd(_t)


# ---- helpers --------------------------------------------------------------------------------

class _Cache:
    """Per-call transformed features, so a column used twice is computed once."""

    def __init__(self, features):
        if not isinstance(features, dict):
            raise ValueError(f"features should be a dictionary of `Tensor`s. Given type: {type(features)}"
                             )
        self.features = features
        self.cache = {}

    def raw(self, key):
        if key not in self.features:
            raise ValueError(f"Feature '{key}' is not in features dictionary. Available features: "
                             f"{sorted(self.features)}")
        return _ops.convert_to_tensor(self.features[key])

    def get(self, column, fn):
        v = self.cache.get(column)
        if v is None:
            v = self.cache[column] = fn(self)
        return v


def _tf():
    import headwater as tf

    return tf


def _to_2d(t):
    tf = _tf()
    dims = t.shape._dims
    if dims is not None and len(dims) == 1:
        return tf.expand_dims(t, -1)
    if dims is not None and len(dims) > 2:
        n = int(np.prod(dims[1:])) if None not in dims[1:] else -1
        return tf.reshape(t, [-1, n])
    return t


class _FeatureColumn:
    _is_dense = False
    _is_categorical = False

    def __lt__(self, other):
        return self.name < other.name

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self.name)


# ---- numeric / bucketized ----------------------------------------------------------------

class _NumericColumn(_FeatureColumn, collections.namedtuple(
        "NumericColumn", ["key", "shape", "default_value", "dtype", "normalizer_fn"])):
    _is_dense = True

    @property
    def name(self):
        return self.key

    @property
    def _num_elements(self):
        return int(np.prod(self.shape))

    @property
    def _variable_shape(self):
        return _ts.TensorShape(self.shape)

    def _transform(self, cache):
        tf = _tf()
        x = cache.raw(self.key)
        if x.dtype == _dtypes.string:
            raise ValueError("Column dtype and SparseTensors dtype must be compatible. key: "
                             f"{self.key}, column dtype: {self.dtype.name}, tensor dtype: string")
        if self.normalizer_fn is not None:
            x = self.normalizer_fn(x)
        x = tf.cast(x, tf.float32)
        x = _to_2d(x)
        n = self._num_elements
        if x.shape._dims is not None and x.shape._dims[1] not in (None, n):
            raise ValueError(f"Feature '{self.key}' has {x.shape._dims[1]} values per example but numeric_column "
                             f"expects shape {self.shape} ({n} values).")
        return x

    def _get_dense_tensor(self, cache):
        return cache.get(self, self._transform)


def numeric_column(key, shape=(1,), default_value=None, dtype=_dtypes.float32,
                   normalizer_fn=None):
    """A real-valued feature `key` of `shape` per example (float32 in the model).

    Raises:
      ValueError: for a bad shape or non-float/int dtype.
    """
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(int(d) for d in shape)
    if any(d <= 0 for d in shape):
        raise ValueError(f"shape dimensions must be greater than 0. shape: {shape}, key: {key}"
                         )
    dtype = _dtypes.as_dtype(dtype)
    if not (dtype.is_integer or dtype.is_floating):
        raise ValueError(f"dtype must be convertible to float. dtype: {dtype}, key: {key}"
                         )
    if normalizer_fn is not None and not callable(normalizer_fn):
        raise TypeError(f"normalizer_fn must be a callable. Given: {normalizer_fn}")
    return _NumericColumn(key, shape, default_value, dtype, normalizer_fn)


class _BucketizedColumn(_FeatureColumn, collections.namedtuple(
        "BucketizedColumn", ["source_column", "boundaries"])):
    _is_dense = True
    _is_categorical = True

    @property
    def name(self):
        return f"{self.source_column.name}_bucketized"

    @property
    def num_buckets(self):
        return (len(self.boundaries) + 1) * self.source_column._num_elements

    @property
    def _variable_shape(self):
        return _ts.TensorShape(tuple(self.source_column.shape) + (len(self.boundaries) + 1,))

    def _bucket_ids(self, cache):
        tf = _tf()
        x = self.source_column._get_dense_tensor(cache)  # [batch, n]
        b = tf.constant(np.asarray(self.boundaries, np.float32))
        return tf.reduce_sum(tf.cast(tf.expand_dims(x, -1) >= b, tf.int64), axis=-1)

    def _get_dense_tensor(self, cache):
        tf = _tf()
        ids = self._bucket_ids(cache)
        n = self.source_column._num_elements * (len(self.boundaries) + 1)
        return tf.reshape(tf.one_hot(ids, len(self.boundaries) + 1, dtype=tf.float32), [-1, n])

    def _get_ids(self, cache):
        tf = _tf()
        ids = self._bucket_ids(cache)
        n = self.source_column._num_elements
        offsets = tf.constant(np.arange(n, dtype=np.int64) * (len(self.boundaries) + 1))
        return ids + offsets


def bucketized_column(source_column, boundaries):
    """Buckets of a numeric column split at sorted `boundaries` (dense one-hot, or ids for
    linear models).

    Raises:
      ValueError: if `source_column` is not a numeric_column or boundaries are not sorted.
    """
    if not isinstance(source_column, _NumericColumn):
        raise ValueError("source_column must be a column generated with numeric_column(). "
                         f"Given: {source_column}")
    if len(source_column.shape) > 1:
        raise ValueError(f"source_column must be one-dimensional column. Given: {source_column}"
                         )
    if not boundaries or not isinstance(boundaries, (list, tuple)):
        raise ValueError("boundaries must be a sorted list.")
    for i in range(len(boundaries) - 1):
        if boundaries[i] >= boundaries[i + 1]:
            raise ValueError("boundaries must be a sorted list.")
    return _BucketizedColumn(source_column, tuple(float(b) for b in boundaries))


# ---- categorical -------------------------------------------------------------------------

class _CategoricalColumn(_FeatureColumn):
    _is_categorical = True

    def _get_ids(self, cache):
        return cache.get(self, self._transform)


class _IdentityColumn(_CategoricalColumn, collections.namedtuple(
        "IdentityCategoricalColumn", ["key", "number_buckets", "default_value"])):

    @property
    def name(self):
        return self.key

    @property
    def num_buckets(self):
        return self.number_buckets

    def _transform(self, cache):
        tf = _tf()
        x = cache.raw(self.key)
        if not x.dtype.is_integer:
            raise ValueError(f"Invalid input, not integer. key: {self.key} dtype: {x.dtype}"
                             )
        ids = _to_2d(tf.cast(x, tf.int64))
        ok = tf.logical_and(ids >= 0, ids < self.number_buckets)
        fill = -1 if self.default_value is None else self.default_value
        return tf.where(ok, ids, tf.fill(tf.shape(ids), tf.constant(fill, tf.int64)))


def categorical_column_with_identity(key, num_buckets, default_value=None):
    """Integer ids in [0, num_buckets) used directly; others become `default_value` (or
    are ignored when it is None)."""
    if num_buckets < 1:
        raise ValueError(f"num_buckets {num_buckets} < 1, column_name {key}")
    if default_value is not None and not 0 <= default_value < num_buckets:
        raise ValueError(f"default_value {default_value} not in range [0, {num_buckets}), column_name {key}"
                         )
    return _IdentityColumn(key, int(num_buckets), default_value)


class _VocabularyListColumn(_CategoricalColumn, collections.namedtuple(
        "VocabularyListCategoricalColumn",
        ["key", "vocabulary_list", "dtype", "default_value", "num_oov_buckets"])):

    @property
    def name(self):
        return self.key

    @property
    def num_buckets(self):
        return len(self.vocabulary_list) + self.num_oov_buckets

    def _transform(self, cache):
        x = _to_2d(cache.raw(self.key))
        if self.dtype == _dtypes.string and x.dtype != _dtypes.string or \
                self.dtype != _dtypes.string and x.dtype == _dtypes.string:
            raise ValueError("Column dtype and SparseTensors dtype must be compatible. key: "
                             f"{self.key}, column dtype: {self.dtype.name}, tensor dtype: {x.dtype.name}")
        table = {v: i for i, v in enumerate(self.vocabulary_list)}
        return _ops.apply_op("HwVocabularyLookup", [x], {
            "_table": table, "default_value": self.default_value,
            "num_oov_buckets": self.num_oov_buckets}, name="vocabulary_lookup")


def categorical_column_with_vocabulary_list(key, vocabulary_list, dtype=None,
                                            default_value=-1, num_oov_buckets=0):
    """Values mapped to their index in `vocabulary_list`; unknown values to
    `default_value` (-1: ignored) or to one of `num_oov_buckets` hash buckets."""
    if not vocabulary_list:
        raise ValueError(f"vocabulary_list {vocabulary_list} must be non-empty, column_name: {key}"
                         )
    if len(set(vocabulary_list)) != len(vocabulary_list):
        raise ValueError(f"Duplicate keys in vocabulary_list {vocabulary_list}, column_name: {key}"
                         )
    if num_oov_buckets and default_value != -1:
        raise ValueError(f"Can't specify both num_oov_buckets and default_value in {key}."
                         )
    if dtype is None:
        dtype = _dtypes.string if isinstance(vocabulary_list[0], str) else _dtypes.int64
    return _VocabularyListColumn(key, tuple(vocabulary_list), _dtypes.as_dtype(dtype),
                                 default_value, int(num_oov_buckets))


class _HashedColumn(_CategoricalColumn, collections.namedtuple(
        "HashedCategoricalColumn", ["key", "hash_bucket_size", "dtype"])):

    @property
    def name(self):
        return self.key

    @property
    def num_buckets(self):
        return self.hash_bucket_size

    def _transform(self, cache):
        x = _to_2d(cache.raw(self.key))
        return _ops.apply_op("HwStringToHashBucket", [x],
                             {"num_buckets": self.hash_bucket_size}, name="hash_bucket")


def categorical_column_with_hash_bucket(key, hash_bucket_size, dtype=_dtypes.string):
    """Values (strings or ints) hashed into `hash_bucket_size` buckets."""
    if hash_bucket_size is None or hash_bucket_size < 1:
        raise ValueError(f"hash_bucket_size must be at least 1. hash_bucket_size: {hash_bucket_size}, key: {key}"
                         )
    return _HashedColumn(key, int(hash_bucket_size), _dtypes.as_dtype(dtype))


class _CrossedColumn(_CategoricalColumn, collections.namedtuple(
        "CrossedColumn", ["keys", "hash_bucket_size", "hash_key"])):

    @property
    def name(self):
        return "_X_".join(sorted(k if isinstance(k, str) else k.name for k in self.keys))

    @property
    def num_buckets(self):
        return self.hash_bucket_size

    def _transform(self, cache):
        parts = []
        for k in self.keys:
            if isinstance(k, str):
                parts.append(_to_2d(cache.raw(k)))
            else:
                parts.append(k._get_ids(cache))
        return _ops.apply_op("HwCrossHash", parts, {
            "num_buckets": self.hash_bucket_size,
            "hash_key": str(self.hash_key or "").encode()}, name="cross")


def crossed_column(keys, hash_bucket_size, hash_key=None):
    """Every combination of the values of `keys` (feature names or categorical columns),
    hashed into `hash_bucket_size` buckets."""
    if not hash_bucket_size or hash_bucket_size < 1:
        raise ValueError(f"hash_bucket_size must be > 1. hash_bucket_size: {hash_bucket_size}"
                         )
    if not keys or len(keys) < 2:
        raise ValueError(f"keys must be a list with length > 1. Given: {keys}")
    for k in keys:
        if not isinstance(k, (str, _CategoricalColumn, _BucketizedColumn)):
            raise ValueError("Unsupported key type. All keys must be either string, or "
                             f"categorical column except HashedCategoricalColumn. Given: {k}"
                             )
    return _CrossedColumn(tuple(keys), int(hash_bucket_size), hash_key)


# ---- indicator / embedding ----------------------------------------------------------------

class _IndicatorColumn(_FeatureColumn, collections.namedtuple(
        "IndicatorColumn", ["categorical_column"])):
    _is_dense = True

    @property
    def name(self):
        return f"{self.categorical_column.name}_indicator"

    @property
    def _variable_shape(self):
        return _ts.TensorShape([self.categorical_column.num_buckets])

    def _get_dense_tensor(self, cache):
        tf = _tf()
        ids = self.categorical_column._get_ids(cache)
        return tf.reduce_sum(tf.one_hot(ids, self.categorical_column.num_buckets,
                                        dtype=tf.float32), axis=1)


def indicator_column(categorical_column):
    """Multi-hot float32 encoding of a categorical column (counts for repeated ids)."""
    if not isinstance(categorical_column, _CategoricalColumn) and not \
            isinstance(categorical_column, _BucketizedColumn):
        raise ValueError(f"Unsupported input type. Input must be a CategoricalColumn. Given: {categorical_column}"
                         )
    return _IndicatorColumn(categorical_column)


class _EmbeddingColumn(_FeatureColumn, collections.namedtuple(
        "EmbeddingColumn", ["categorical_column", "dimension", "combiner", "initializer",
                            "ckpt_to_load_from", "tensor_name_in_ckpt", "max_norm",
                            "trainable"])):
    _is_dense = True

    @property
    def name(self):
        return f"{self.categorical_column.name}_embedding"

    @property
    def _variable_shape(self):
        return _ts.TensorShape([self.dimension])

    def _get_dense_tensor(self, cache, trainable=True):
        tf = _tf()
        weights = tf.get_variable("embedding_weights",
                                  [self.categorical_column.num_buckets, self.dimension],
                                  dtype=tf.float32, initializer=self.initializer,
                                  trainable=self.trainable and trainable)
        if self.ckpt_to_load_from is not None:
            from headwater.train import checkpoint_utils

            checkpoint_utils.init_from_checkpoint(
                self.ckpt_to_load_from, {self.tensor_name_in_ckpt: weights})
        ids = self.categorical_column._get_ids(cache)  # [batch, k]
        return _combine(tf, weights, ids, self.combiner, self.max_norm)


def _combine(tf, weights, ids, combiner, max_norm=None):
    """sum/mean/sqrtn of the rows of `weights` at the valid (>= 0) ids of each example."""
    valid = ids >= 0
    safe = tf.where(valid, ids, tf.zeros_like(ids))
    emb = tf.gather(weights, safe)  # [batch, k, d]
    if max_norm is not None:
        norm = tf.sqrt(tf.reduce_sum(tf.square(emb), axis=-1, keepdims=True))
        emb = emb * tf.minimum(1.0, max_norm / tf.maximum(norm, 1e-12))
    mask = tf.expand_dims(tf.cast(valid, weights.dtype.base_dtype), -1)
    total = tf.reduce_sum(emb * mask, axis=1)
    if combiner == "sum":
        return total
    count = tf.reduce_sum(mask, axis=1)
    if combiner == "mean":
        return total / tf.maximum(count, 1.0)
    if combiner == "sqrtn":
        return total / tf.maximum(tf.sqrt(count), 1.0)
    raise ValueError(f"Unsupported combiner: {combiner}")


def embedding_column(categorical_column, dimension, combiner="mean", initializer=None,
                     ckpt_to_load_from=None, tensor_name_in_ckpt=None, max_norm=None,
                     trainable=True):
    """A trainable `dimension`-wide embedding of a categorical column, combining several
    ids per example by "mean" (default), "sum" or "sqrtn".

    The default initializer is truncated normal with stddev 1/sqrt(dimension), as TF1.
    """
    if dimension is None or dimension < 1:
        raise ValueError(f"Invalid dimension {dimension}.")
    if (ckpt_to_load_from is None) != (tensor_name_in_ckpt is None):
        raise ValueError("Must specify both `ckpt_to_load_from` and `tensor_name_in_ckpt` or "
                         "none of them.")
    if initializer is not None and not callable(initializer):
        raise ValueError("initializer must be callable if specified. Embedding of column_name: "
                         f"{categorical_column.name}")
    if initializer is None:
        from headwater.ops import init_ops

        initializer = init_ops.truncated_normal_initializer(mean=0.0,
                                                            stddev=1 / math.sqrt(dimension))
    return _EmbeddingColumn(categorical_column, int(dimension), combiner, initializer,
                            ckpt_to_load_from, tensor_name_in_ckpt, max_norm, trainable)


# ---- input_layer / linear_model ---------------------------------------------------------

def _check_columns(feature_columns):
    if isinstance(feature_columns, _FeatureColumn):
        feature_columns = [feature_columns]
    feature_columns = list(feature_columns or [])
    if not feature_columns:
        raise ValueError("feature_columns must not be empty.")
    names = set()
    for c in feature_columns:
        if not isinstance(c, _FeatureColumn):
            raise ValueError(f"Items of feature_columns must be a FeatureColumn. Given (type {type(c)}): "
                             f"{c}.")
        if c.name in names:
            raise ValueError(f"Duplicate feature column name found for columns: {c.name}."
                             )
        names.add(c.name)
    return sorted(feature_columns, key=lambda c: c.name)


def input_layer(features, feature_columns, weight_collections=None, trainable=True,
                cols_to_vars=None, cols_to_output_tensors=None):
    """Concatenate the dense columns (sorted by name) into a float32 [batch, n] tensor.

    Raises:
      ValueError: for a categorical column (wrap it with embedding_column or
        indicator_column) or a feature missing from `features`.
    """
    tf = _tf()
    columns = _check_columns(feature_columns)
    for c in columns:
        if not c._is_dense:
            raise ValueError("Items of feature_columns must be a _DenseColumn. You can wrap a "
                             "categorical column with an embedding_column or indicator_column. "
                             f"Given: {c}")
    cache = _Cache(features)
    outputs = []
    with tf.variable_scope(None, default_name="input_layer"):
        for c in columns:
            with tf.variable_scope(None, default_name=c.name):
                t = c._get_dense_tensor(cache)
                n = int(np.prod(c._variable_shape.as_list()))
                t = tf.reshape(t, [-1, n], name="Reshape")
                outputs.append(t)
                if cols_to_output_tensors is not None:
                    cols_to_output_tensors[c] = t
                if cols_to_vars is not None:
                    cols_to_vars[c] = tf.get_collection(
                        tf.GraphKeys.GLOBAL_VARIABLES,
                        scope=tf.get_variable_scope().name + "/")
        return tf.concat(outputs, 1) if len(outputs) > 1 else tf.identity(outputs[0])


def linear_model(features, feature_columns, units=1, sparse_combiner="sum",
                 weight_collections=None, trainable=True, cols_to_vars=None):
    """A linear combination of all columns: dense columns through a [n, units] weight matrix,
    categorical columns by summing ("sum", "mean" or "sqrtn") the weight rows of their ids,
    plus "bias_weights". Variables (zero-initialized): "linear_model/<column>/weights".

    Returns:
      float32 Tensor [batch, units].
    """
    tf = _tf()
    columns = _check_columns(feature_columns)
    cache = _Cache(features)
    parts = []
    with tf.variable_scope(None, default_name="linear_model"):
        for c in columns:
            with tf.variable_scope(None, default_name=c.name):
                if c._is_categorical:
                    w = tf.get_variable("weights", [c.num_buckets, units], dtype=tf.float32,
                                        initializer=tf.zeros_initializer(),
                                        trainable=trainable, collections=_colls(
                                            weight_collections))
                    parts.append(_combine(tf, w, c._get_ids(cache), sparse_combiner))
                else:
                    n = int(np.prod(c._variable_shape.as_list()))
                    w = tf.get_variable("weights", [n, units], dtype=tf.float32,
                                        initializer=tf.zeros_initializer(),
                                        trainable=trainable, collections=_colls(
                                            weight_collections))
                    x = tf.reshape(c._get_dense_tensor(cache), [-1, n])
                    parts.append(tf.matmul(x, w, name="weighted_sum"))
                if cols_to_vars is not None:
                    cols_to_vars[c] = [w]
        bias = tf.get_variable("bias_weights", [units], dtype=tf.float32,
                               initializer=tf.zeros_initializer(), trainable=trainable,
                               collections=_colls(weight_collections))
        if cols_to_vars is not None:
            cols_to_vars["bias"] = [bias]
        total = parts[0] if len(parts) == 1 else tf.add_n(parts)
        return tf.nn.bias_add(total, bias, name="weighted_sum")


def _colls(weight_collections):
    base = [_ops.GraphKeys.GLOBAL_VARIABLES, _ops.GraphKeys.MODEL_VARIABLES]
    return base + list(weight_collections or [])


def make_parse_example_spec(feature_columns):
    """{feature key: (dtype, shape)} for the raw features the columns read (a simplified
    stand-in for TF1's parsing spec)."""
    spec = {}

    def visit(c):
        if isinstance(c, str):
            spec[c] = (_dtypes.string, ())
        elif isinstance(c, _NumericColumn):
            spec[c.key] = (c.dtype, c.shape)
        elif isinstance(c, _BucketizedColumn):
            visit(c.source_column)
        elif isinstance(c, (_IndicatorColumn, _EmbeddingColumn)):
            visit(c.categorical_column)
        elif isinstance(c, _CrossedColumn):
            for k in c.keys:
                visit(k)
        elif hasattr(c, "key"):
            spec[c.key] = (getattr(c, "dtype", _dtypes.int64), ())
    for c in feature_columns:
        visit(c)
    return spec
