"""A small `tf.data`: datasets whose elements are produced in Python, read through iterator ops.

A `Dataset` describes a pipeline (`from_tensor_slices(...).shuffle(...).batch(...)`); an
iterator turns it into graph ops. `get_next()` is a stateful op whose kernel pulls the next
element from a Python iterator kept in the session's runtime state, so every session has its
own position in the data, and the end of the data raises `tf.errors.OutOfRangeError` as TF1.

Elements are nested structures (tuples, dicts) of numpy values; their dtypes and static shapes
are known when the dataset is built, so `get_next()` tensors carry them. Datasets built from
graph Tensors capture those tensors: they become inputs of the iterator ops and their values
are read when the iterator is (re)initialized.
"""

from __future__ import annotations

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.framework.op_registry import register_op

__all__ = ["Dataset", "Iterator", "make_initializable_iterator", "make_one_shot_iterator"]

AUTOTUNE = -1


# ---- nested structures ------------------------------------------------------------------------

def _is_seq(x):
    return isinstance(x, (tuple, dict))


def flatten(x):
    """Leaves of a nested structure; dict values in sorted key order (as `tf.nest`). Lists are
    leaves (tf.data converts a list to one tensor)."""
    if isinstance(x, dict):
        out = []
        for k in sorted(x):
            out.extend(flatten(x[k]))
        return out
    if isinstance(x, tuple):
        out = []
        for e in x:
            out.extend(flatten(e))
        return out
    return [x]


def pack_as(structure, flat):
    """Rebuild `structure` with the leaves taken in order from `flat`."""
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            built = {k: build(s[k]) for k in sorted(s)}
            return {k: built[k] for k in s}
        if isinstance(s, tuple) and hasattr(type(s), "_fields"):
            return type(s)(*[build(e) for e in s])
        if isinstance(s, tuple):
            return tuple(build(e) for e in s)
        return next(it)
    return build(structure)


def map_structure(fn, structure):
    return pack_as(structure, [fn(x) for x in flatten(structure)])


class _Spec:
    """dtype and static shape of one component of an element."""

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype, shape):
        self.dtype = dtype
        self.shape = shape

    def __repr__(self):
        return "Spec(%s, %s)" % (self.dtype.name, self.shape)


def _np_dtype(dtype):
    return np.dtype(object) if dtype == _dtypes.string else np.dtype(dtype.as_numpy_dtype)


def _to_numpy_leaf(v):
    """A numpy array with TF1's dtype inference for Python values (floats -> float32)."""
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "US":
            return v.astype(object)
        return v
    arr = np.asarray(v)
    if arr.dtype.kind in "USO":
        return arr.astype(object)
    if arr.dtype == np.float64 and not isinstance(v, np.generic):
        arr = arr.astype(np.float32)
    elif arr.dtype == np.int64 and not isinstance(v, np.generic):
        arr = arr.astype(np.int32)
    return arr


def _dtype_of(arr):
    if arr.dtype == object:
        return _dtypes.string
    return _dtypes.as_dtype(arr.dtype)


# ---- datasets ------------------------------------------------------------------------------

class Dataset:
    """A pipeline of elements (TF1's `tf.data.Dataset`, the common transformations).

    Subclasses define `_structure` (nested `_Spec`s), `_captures` (graph Tensors whose values
    the pipeline reads) and `_make(env, ctx)`, a generator of flat element lists, where `env`
    maps each captured Tensor to its value in this run.
    """

    _captures = ()

    def _make(self, env, ctx):
        raise NotImplementedError

    # ---- properties ----
    @property
    def output_types(self):
        return map_structure(lambda s: s.dtype, self._structure)

    @property
    def output_shapes(self):
        return map_structure(lambda s: s.shape, self._structure)

    @property
    def output_classes(self):
        return map_structure(lambda s: _ops.Tensor, self._structure)

    @property
    def element_spec(self):
        return self._structure

    def __iter__(self):
        raise TypeError("headwater datasets are graph-mode: iterate with "
                        "`dataset.make_one_shot_iterator().get_next()` in a Session.")

    # ---- sources ----
    @staticmethod
    def from_tensor_slices(tensors):
        """Elements are the slices of `tensors` along their first dimension.

        Args:
          tensors: a nested structure (tuple/dict) of arrays, Python lists or Tensors, all
            with the same first dimension.
        """
        return _TensorSlices(tensors)

    @staticmethod
    def from_tensors(tensors):
        """A dataset of one element: `tensors`."""
        return _Tensors(tensors)

    @staticmethod
    def range(*args):
        """Elements start, start+step, ... < stop (int64), as Python's `range`."""
        return _TensorSlices(np.arange(*args, dtype=np.int64))

    @staticmethod
    def from_generator(generator, output_types, output_shapes=None):
        """Elements produced by calling `generator()` (a Python generator function)."""
        return _FromGenerator(generator, output_types, output_shapes)

    @staticmethod
    def zip(datasets):
        return _Zip(datasets)

    # ---- transformations ----
    def batch(self, batch_size, drop_remainder=False):
        """Stack `batch_size` consecutive elements; the last batch may be smaller unless
        `drop_remainder`."""
        return _Batch(self, batch_size, drop_remainder)

    def repeat(self, count=None):
        """Repeat the data `count` times (None or -1: forever)."""
        return _Repeat(self, count)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True):
        """Shuffle with a buffer of `buffer_size` elements, as TF: each output is drawn
        uniformly from the buffer, which is refilled from the input."""
        return _Shuffle(self, buffer_size, seed)

    def map(self, map_func, num_parallel_calls=None):
        """Apply `map_func` (built once as graph ops) to every element. A tuple element is
        passed as positional arguments, as TF1."""
        return _Map(self, map_func)

    def filter(self, predicate):
        return _Filter(self, predicate)

    def take(self, count):
        return _Take(self, count)

    def skip(self, count):
        return _Skip(self, count)

    def prefetch(self, buffer_size):
        """Accepted for TF1 compatibility; elements are produced on demand."""
        return self

    def cache(self, filename=""):
        return self

    # ---- iterators ----
    def make_one_shot_iterator(self):
        """An iterator that initializes itself on first use."""
        return Iterator(self, one_shot=True)

    def make_initializable_iterator(self, shared_name=None):
        """An iterator that must be initialized by running its `initializer` (again to
        restart, possibly with new values of captured placeholders)."""
        return Iterator(self, one_shot=False)


def _leaf_input(v):
    if isinstance(v, _ops.Tensor) or hasattr(v, "_as_graph_element") and not \
            isinstance(v, np.ndarray):
        return _ops.convert_to_tensor(v)
    return _to_numpy_leaf(v)


def _const_or_env(leaf, env):
    return env[leaf] if isinstance(leaf, _ops.Tensor) else leaf


class _TensorSlices(Dataset):
    def __init__(self, tensors):
        self._tensors = tensors
        leaves = [_leaf_input(v) for v in flatten(tensors)]
        if not leaves:
            raise ValueError("from_tensor_slices needs at least one component.")
        specs = []
        n = None
        for v in leaves:
            shape = v.shape if isinstance(v, _ops.Tensor) else _ts.TensorShape(v.shape)
            dims = shape._dims
            if dims is not None and len(dims) == 0:
                raise ValueError("Unbatching a tensor is only supported for rank >= 1")
            first = None if dims is None else dims[0]
            if first is not None:
                if n is not None and n != first:
                    raise ValueError("Dimensions %d and %d are not compatible: all components "
                                     "of from_tensor_slices need the same first dimension."
                                     % (n, first))
                n = first
            dtype = v.dtype.base_dtype if isinstance(v, _ops.Tensor) else _dtype_of(v)
            specs.append(_Spec(dtype, _ts.TensorShape(None if dims is None else dims[1:])))
        self._leaves = leaves
        self._structure = pack_as(tensors, specs)
        self._captures = [v for v in leaves if isinstance(v, _ops.Tensor)]

    def _make(self, env, ctx):
        vals = [_const_or_env(v, env) for v in self._leaves]
        n = len(vals[0])
        for v in vals[1:]:
            if len(v) != n:
                raise errors.InvalidArgumentError(
                    None, None, "All components of from_tensor_slices must have the same "
                    "first dimension: got %d and %d." % (n, len(v)))
        for i in range(n):
            yield [v[i] for v in vals]


class _Tensors(Dataset):
    def __init__(self, tensors):
        leaves = [_leaf_input(v) for v in flatten(tensors)]
        self._leaves = leaves
        self._structure = pack_as(tensors, [
            _Spec(v.dtype.base_dtype, v.shape) if isinstance(v, _ops.Tensor)
            else _Spec(_dtype_of(v), _ts.TensorShape(v.shape)) for v in leaves])
        self._captures = [v for v in leaves if isinstance(v, _ops.Tensor)]

    def _make(self, env, ctx):
        yield [_const_or_env(v, env) for v in self._leaves]


class _FromGenerator(Dataset):
    def __init__(self, generator, output_types, output_shapes):
        self._gen = generator
        types = map_structure(_dtypes.as_dtype, output_types)
        if output_shapes is None:
            output_shapes = map_structure(lambda t: None, output_types)
        tflat = flatten(types)
        sflat = flatten(output_shapes) if _is_seq(output_types) else [output_shapes]
        self._structure = pack_as(types, [_Spec(t, _ts.as_shape(s) if s is not None
                                                else _ts.TensorShape(None))
                                          for t, s in zip(tflat, sflat)])
        self._np = [_np_dtype(t) for t in tflat]

    def _make(self, env, ctx):
        dts = self._np
        for el in self._gen():
            yield [np.asarray(v, dtype=d) for v, d in zip(flatten(el), dts)]


class _Unary(Dataset):
    def __init__(self, input_ds):
        self._input = input_ds
        self._structure = input_ds._structure
        self._captures = input_ds._captures


class _Batch(_Unary):
    def __init__(self, input_ds, batch_size, drop_remainder):
        super().__init__(input_ds)
        self._n = int(batch_size)
        if self._n <= 0:
            raise ValueError("batch_size must be positive, got %d" % self._n)
        self._drop = drop_remainder
        lead = self._n if drop_remainder else None
        self._structure = map_structure(
            lambda s: _Spec(s.dtype, _ts.TensorShape([lead]).concatenate(s.shape)),
            input_ds._structure)
        self._dts = [_np_dtype(s.dtype) for s in flatten(input_ds._structure)]

    def _make(self, env, ctx):
        n = self._n
        buf = []
        for el in self._input._make(env, ctx):
            buf.append(el)
            if len(buf) == n:
                yield self._stack(buf)
                buf = []
        if buf and not self._drop:
            yield self._stack(buf)

    def _stack(self, buf):
        out = []
        for i, dt in enumerate(self._dts):
            try:
                out.append(np.asarray([el[i] for el in buf], dtype=dt))
            except ValueError as e:
                raise errors.InvalidArgumentError(
                    None, None, "Cannot batch tensors with different shapes in component "
                    "%d: %s" % (i, e)) from None
        return out


class _Repeat(_Unary):
    def __init__(self, input_ds, count):
        super().__init__(input_ds)
        self._count = -1 if count is None else int(count)

    def _make(self, env, ctx):
        k = 0
        while self._count < 0 or k < self._count:
            empty = True
            for el in self._input._make(env, ctx):
                empty = False
                yield el
            if empty:
                return
            k += 1


class _Take(_Unary):
    def __init__(self, input_ds, count):
        super().__init__(input_ds)
        self._count = int(count)

    def _make(self, env, ctx):
        if self._count == 0:
            return
        for i, el in enumerate(self._input._make(env, ctx)):
            yield el
            if self._count > 0 and i + 1 >= self._count:
                return


class _Skip(_Unary):
    def __init__(self, input_ds, count):
        super().__init__(input_ds)
        self._count = int(count)

    def _make(self, env, ctx):
        for i, el in enumerate(self._input._make(env, ctx)):
            if self._count < 0 or i >= self._count:
                if self._count >= 0:
                    yield el


class _Shuffle(_Unary):
    def __init__(self, input_ds, buffer_size, seed):
        super().__init__(input_ds)
        self._size = int(buffer_size)
        if self._size <= 0:
            raise ValueError("buffer_size must be greater than zero.")
        from headwater.framework import random_seed

        g = _ops.get_default_graph()
        if seed is None and getattr(g, "seed", None) is None:
            self._seeds = None
        else:
            try:
                self._seeds = random_seed.get_seed(seed)
            except Exception:  # noqa: BLE001 - fall back to the op seed alone
                self._seeds = (0, seed)
        self._calls = 0

    def _make(self, env, ctx):
        # Each iterator initialization gets its own (reproducible) order.
        self._calls += 1
        if self._seeds is None:
            rng = np.random.default_rng()
        else:
            rng = np.random.default_rng([s or 0 for s in self._seeds] + [self._calls])
        buf = []
        size = self._size
        for el in self._input._make(env, ctx):
            if len(buf) < size:
                buf.append(el)
                continue
            i = int(rng.integers(size))
            out = buf[i]
            buf[i] = el
            yield out
        while buf:
            i = int(rng.integers(len(buf)))
            buf[i], buf[-1] = buf[-1], buf[i]
            yield buf.pop()


def _trace(input_ds, fn, name):
    """Build `fn` once on placeholders standing for one element; returns (placeholders,
    result structure of Tensors)."""
    from headwater.ops import array_ops

    specs = flatten(input_ds._structure)
    with _ops.name_scope(name):
        phs = [array_ops.placeholder(s.dtype, s.shape, name="arg%d" % i)
               for i, s in enumerate(specs)]
        el = pack_as(input_ds._structure, phs)
        if isinstance(el, tuple) and not hasattr(type(el), "_fields"):
            out = fn(*el)
        else:
            out = fn(el)
        out = map_structure(_ops.convert_to_tensor, out)
    return phs, out


class _Map(_Unary):
    def __init__(self, input_ds, fn):
        super().__init__(input_ds)
        self._phs, out = _trace(input_ds, fn, "map")
        self._outs = flatten(out)
        self._structure = pack_as(out, [_Spec(t.dtype.base_dtype, t.shape)
                                        for t in self._outs])

    def _make(self, env, ctx):
        run = _callable(ctx, self, self._outs, self._phs)
        for el in self._input._make(env, ctx):
            yield list(run(*el))


class _Filter(_Unary):
    def __init__(self, input_ds, predicate):
        super().__init__(input_ds)
        self._phs, out = _trace(input_ds, predicate, "filter")
        if not isinstance(out, _ops.Tensor) or out.dtype != _dtypes.bool:
            raise ValueError("`predicate` must return a scalar boolean tensor.")
        self._out = out

    def _make(self, env, ctx):
        run = _callable(ctx, self, [self._out], self._phs)
        for el in self._input._make(env, ctx):
            if run(*el)[0]:
                yield el


class _Zip(Dataset):
    def __init__(self, datasets):
        self._datasets = datasets
        flat = flatten(datasets) if _is_seq(datasets) else [datasets]
        self._flat = flat
        self._structure = pack_as(datasets, [d._structure for d in flat]) \
            if _is_seq(datasets) else datasets._structure
        self._captures = [c for d in flat for c in d._captures]

    def _make(self, env, ctx):
        for els in zip(*[d._make(env, ctx) for d in self._flat]):
            yield [v for el in els for v in el]


def _callable(ctx, key, fetches, feeds):
    cache = ctx.__dict__.setdefault("dataset_fns", {})
    fn = cache.get(key)
    if fn is None:
        fn = cache[key] = ctx.session.make_callable(list(fetches), feed_list=feeds)
    return fn


# ---- iterator ops ---------------------------------------------------------------------------

def _iterators(ctx):
    its = ctx.__dict__.get("iterators")
    if its is None:
        its = ctx.__dict__["iterators"] = {}
    return its


def _get_next_infer(inputs, attrs):
    return [(s.dtype, s.shape) for s in attrs["_specs"]]


_END = "End of sequence"


def _get_next_kernel(op, ctx):
    it_obj = op._attrs["_iterator"]
    its = _iterators(ctx)
    caps = it_obj._dataset._captures
    one_shot = it_obj._one_shot
    specs = op._attrs["_specs"]
    single = len(specs) == 1
    OutOfRange = errors.OutOfRangeError
    np_dts = [_np_dtype(s.dtype) for s in specs]
    asarray = np.asarray

    def get_next(*values):
        state = its.get(it_obj)
        if state is None:
            if not one_shot:
                raise errors.FailedPreconditionError(
                    None, op, "GetNext() failed because the iterator has not been "
                    "initialized. Ensure that you have run the initializer operation for this "
                    "iterator before getting the next element.")
            state = its[it_obj] = it_obj._dataset._make(dict(zip(caps, values)), ctx)
        try:
            el = next(state)
        except StopIteration:
            raise OutOfRange(None, op, _END) from None
        out = tuple(asarray(v, dtype=d) for v, d in zip(el, np_dts))
        return out[0] if single else out
    return get_next


register_op("IteratorGetNext", _get_next_infer, _get_next_kernel, stateful=True)


def _make_iterator_kernel(op, ctx):
    it_obj = op._attrs["_iterator"]
    its = _iterators(ctx)
    caps = it_obj._dataset._captures

    def make_iterator(*values):
        its[it_obj] = it_obj._dataset._make(dict(zip(caps, values)), ctx)
    return make_iterator


register_op("MakeIterator", lambda inputs, attrs: [], _make_iterator_kernel, stateful=True)


class Iterator:
    """Reads a `Dataset` in a session (TF1's `tf.data.Iterator`)."""

    def __init__(self, dataset, one_shot):
        self._dataset = dataset
        self._one_shot = one_shot
        self._graph = _ops.get_default_graph()
        self._initializer = None
        self._specs = flatten(dataset._structure)
        if not one_shot:
            self._initializer = _ops.apply_op(
                "MakeIterator", list(dataset._captures), {"_iterator": self},
                name="MakeIterator", graph=self._graph)
        self._default_next = None

    def __hash__(self):
        return id(self)

    @property
    def initializer(self):
        """The op (re)starting the iterator at the beginning of the data."""
        if self._initializer is None:
            raise ValueError("Iterator does not have an initializer.")
        return self._initializer

    @property
    def output_types(self):
        return self._dataset.output_types

    @property
    def output_shapes(self):
        return self._dataset.output_shapes

    @property
    def output_classes(self):
        return self._dataset.output_classes

    def get_next(self, name=None):
        """Tensors (in the dataset's element structure) holding the next element; running
        them past the end raises `tf.errors.OutOfRangeError`."""
        inputs = list(self._dataset._captures) if self._one_shot else []
        outs = _ops.apply_op("IteratorGetNext", inputs,
                             {"_iterator": self, "_specs": self._specs},
                             name=name or "IteratorGetNext", graph=self._graph)
        if isinstance(outs, _ops.Tensor):
            outs = [outs]
        return pack_as(self._dataset._structure, list(outs))


def make_one_shot_iterator(dataset):
    """`tf.data.make_one_shot_iterator(dataset)` (TF1.13+ spelling)."""
    return dataset.make_one_shot_iterator()


def make_initializable_iterator(dataset, shared_name=None):
    """`tf.data.make_initializable_iterator(dataset)`."""
    return dataset.make_initializable_iterator()
