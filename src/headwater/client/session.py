"""Session and InteractiveSession: run fetches from a graph.

`Session.run` maps the user's fetch structure and feed keys to a cached `Plan` (see
`headwater.runtime.plan`), converts and shape-checks the feeds, calls the plan once and rebuilds
the fetch structure. Variable values live in the session (`SessionState`), so two sessions on
one graph never share state.
"""

from __future__ import annotations

import collections
import threading

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.runtime.plan import compile_plan, wrap_run_error

_Tensor = _ops.Tensor
_Operation = _ops.Operation
_ndarray = np.ndarray


class SessionState:
    """What one session owns: variable values and per-op random generators."""

    def __init__(self, session, graph):
        self.session = session
        self.graph = graph
        self.variables = {}  # variable Operation -> numpy array
        self.rngs = {}  # op -> numpy Generator
        self.lock = threading.RLock()

    def rng_for(self, op):
        """A generator per random op, seeded from the graph and op seeds as TF1 does, so a new
        session replays the same random sequence when seeds are set."""
        rng = self.rngs.get(op)
        if rng is None:
            from headwater.framework import random_seed

            seed, seed2 = random_seed.get_seed_for_op(op)
            rng = np.random.default_rng([seed, seed2] if seed is not None else None)
            self.rngs[op] = rng
        return rng


IndexedSlicesValue = collections.namedtuple("IndexedSlicesValue",
                                            ["values", "indices", "dense_shape"])


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


class _FetchMapper:
    """Flattens a nested fetch structure and rebuilds results in the same shape."""

    def __init__(self, graph, fetches):
        self.graph = graph
        self.unique = []  # Tensors and Operations, each once
        self.index = {}
        self.builder = self._build(fetches)

    def _leaf(self, f):
        if f is None:
            raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
        try:
            el = self.graph.as_graph_element(f, allow_tensor=True, allow_operation=True)
        except TypeError:
            raise TypeError("Fetch argument %r has invalid type %r, must be a string or Tensor. "
                            "(Can not convert a %s into a Tensor or Operation.)"
                            % (f, type(f), type(f).__name__)) from None
        except ValueError as e:
            raise ValueError("Fetch argument %r cannot be interpreted as a Tensor. (%s)"
                             % (f, e)) from None
        except KeyError as e:
            raise ValueError("Fetch argument %r cannot be interpreted as a Tensor. (%s)"
                             % (f, e.args[0])) from None
        i = self.index.get(el)
        if i is None:
            i = self.index[el] = len(self.unique)
            self.unique.append(el)
        return i

    def _build(self, f):
        if type(f).__name__ == "IndexedSlices" and hasattr(f, "dense_shape"):
            parts = [f.values, f.indices] + ([f.dense_shape] if f.dense_shape is not None
                                             else [])
            subs = [self._build(x) for x in parts]
            if len(subs) == 2:
                subs.append(lambda vals: None)
            return lambda vals: IndexedSlicesValue(*[s(vals) for s in subs])
        if isinstance(f, (list, tuple)) and not _is_namedtuple(f):
            subs = [self._build(x) for x in f]
            typ = type(f)
            if typ is list:
                return lambda vals: [s(vals) for s in subs]
            if typ is tuple:
                return lambda vals: tuple(s(vals) for s in subs)
            return lambda vals: typ([s(vals) for s in subs])
        if _is_namedtuple(f):
            subs = [self._build(x) for x in f]
            typ = type(f)
            return lambda vals: typ(*[s(vals) for s in subs])
        if isinstance(f, dict):
            keys = list(f.keys())
            subs = [self._build(f[k]) for k in keys]
            typ = type(f)

            def build_dict(vals):
                d = typ() if typ is not dict else {}
                for k, s in zip(keys, subs):
                    d[k] = s(vals)
                return d
            return build_dict
        i = self._leaf(f)
        return lambda vals: vals[i]


def _structure_key(f):
    """A hashable key describing a fetch structure (None if it has no cheap key)."""
    t = type(f)
    if t is _Tensor or t is _Operation or t is str:
        return f
    if t is list or t is tuple:
        return (t, tuple(_structure_key(x) for x in f))
    if t is dict:
        return (dict, tuple((k, _structure_key(v)) for k, v in f.items()))
    try:
        hash(f)
    except TypeError:
        return None
    return (t, f)


class _RunEntry:
    """A cached run signature: the plan, feed converters and the result builder."""

    __slots__ = ("plan", "fn", "feed_convs", "builder", "single", "ctrl_version")


def _feed_converter(tensor):
    np_dtype = np.dtype(tensor.dtype.as_numpy_dtype) if tensor.dtype.is_numpy_compatible \
        else np.dtype(object)
    dims = tensor.shape._dims
    name = tensor.name
    shape_str = str(tensor.shape)
    is_string = tensor.dtype == _dtypes.string

    def bad_shape(val):
        raise ValueError("Cannot feed value of shape %r for Tensor %r, which has shape %r"
                         % (val.shape, name, shape_str))

    def conv(val):
        if type(val) is not _ndarray or val.dtype != np_dtype:
            if isinstance(val, (_Tensor, _Operation)):
                raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable "
                                "feed values include Python scalars, strings, lists, numpy "
                                "ndarrays, or TensorHandles. For reference, the tensor object "
                                "was %s which was passed to the feed with key %s."
                                % (val, tensor))
            if is_string:
                val = np.asarray(val, dtype=object)
            else:
                try:
                    val = np.asarray(val, dtype=np_dtype)
                except (TypeError, ValueError) as e:
                    raise ValueError("Cannot feed value %r to Tensor %r of dtype %s: %s"
                                     % (val, name, tensor.dtype.name, e)) from None
        if dims is not None:
            vshape = val.shape
            if len(vshape) != len(dims):
                bad_shape(val)
            for a, b in zip(vshape, dims):
                if b is not None and a != b:
                    bad_shape(val)
        return val

    return conv


class BaseSession:
    def __init__(self, target="", graph=None, config=None):
        if graph is None:
            graph = _ops.get_default_graph()
        elif not isinstance(graph, _ops.Graph):
            raise TypeError("graph must be a tf.Graph, but got %s" % type(graph))
        self._graph = graph
        self._target = target
        self._config = config
        self._closed = False
        self._state = SessionState(self, graph)
        self._cache = {}
        self._build_lock = threading.Lock()
        self._default_session_ctx = None
        self._default_graph_ctx = None
        if config is not None:
            n = getattr(config, "intra_op_parallelism_threads", 0)
            if n:
                from headwater import _native

                _native.set_num_threads(n)

    @property
    def graph(self):
        return self._graph

    @property
    def graph_def(self):
        return self._graph.as_graph_def() if hasattr(self._graph, "as_graph_def") else None

    @property
    def sess_str(self):
        return self._target

    def list_devices(self):
        return [_DeviceAttributes("/job:localhost/replica:0/task:0/device:CPU:0", "CPU")]

    def as_default(self):
        return _ops.default_session(self)

    def close(self):
        self._closed = True
        self._cache.clear()
        self._state.variables.clear()

    def __enter__(self):
        if self._default_graph_ctx is None:
            self._default_graph_ctx = self._graph.as_default()
        self._default_session_ctx = self.as_default()
        self._default_graph_ctx.__enter__()
        self._default_session_ctx.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._default_session_ctx.__exit__(exc_type, exc, tb)
        self._default_graph_ctx.__exit__(exc_type, exc, tb)
        self._default_session_ctx = None
        self._default_graph_ctx = None
        self.close()
        return False

    def __del__(self):
        pass

    # ---- run ----------------------------------------------------------------------------------
    def _entry(self, fetches, feed_keys):
        skey = _structure_key(fetches)
        key = (skey, feed_keys) if skey is not None else None
        if key is not None:
            entry = self._cache.get(key)
            if entry is not None and entry.ctrl_version == self._graph._version_ctrl:
                return entry
        entry = self._build_entry(fetches, feed_keys)
        if key is not None:
            self._cache[key] = entry
        return entry

    def _resolve_feed_key(self, k):
        g = self._graph
        if isinstance(k, _Tensor):
            if k.graph is not g:
                raise ValueError("Cannot interpret feed_dict key as Tensor: Tensor %s is not "
                                 "an element of this graph." % k.name)
            return k
        if isinstance(k, str):
            try:
                return g.as_graph_element(k, allow_tensor=True, allow_operation=False)
            except (KeyError, ValueError) as e:
                raise TypeError("Cannot interpret feed_dict key as Tensor: %s"
                                % (e.args[0],)) from None
        if hasattr(k, "_as_graph_element"):
            el = k._as_graph_element()
            if isinstance(el, _Tensor):
                return el
        raise TypeError("Cannot interpret feed_dict key as Tensor: Can not convert a %s into "
                        "a Tensor." % type(k).__name__)

    def _build_entry(self, fetches, feed_keys):
        with self._build_lock:
            mapper = _FetchMapper(self._graph, fetches)
            feed_tensors = [self._resolve_feed_key(k) for k in feed_keys]
            if len(set(feed_tensors)) != len(feed_tensors):
                raise ValueError("The same tensor is fed more than once in feed_dict.")
            fetch_tensors = [el for el in mapper.unique if isinstance(el, _Tensor)]
            targets = [el for el in mapper.unique if isinstance(el, _Operation)]
            plan = compile_plan(fetch_tensors, targets, feed_tensors, self._state,
                                self._graph)
            pos = {t: i for i, t in enumerate(fetch_tensors)}
            # unique-element index -> value position (targets give None)
            remap = [pos.get(el) for el in mapper.unique]
            builder = mapper.builder
            entry = _RunEntry()
            entry.plan = plan
            entry.fn = plan.fn
            entry.feed_convs = [_feed_converter(t) for t in feed_tensors]
            entry.ctrl_version = self._graph._version_ctrl
            if isinstance(fetches, (_Tensor, _Operation, str)) or (
                    hasattr(fetches, "_as_graph_element") and not isinstance(
                        fetches, (list, tuple, dict))):
                entry.single = remap[0]
                entry.builder = None
            else:
                entry.single = -1
                if all(r is not None for r in remap) and remap == list(range(len(remap))):
                    entry.builder = builder
                else:
                    def rebuild(vals, builder=builder, remap=remap):
                        return builder([None if r is None else vals[r] for r in remap])
                    entry.builder = rebuild
            return entry

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Run the ops and evaluate the tensors in `fetches`, substituting `feed_dict` values.

        Returns values in the structure of `fetches` (numpy arrays; None for operations).
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        if options is not None and options.trace_level:
            # Traced runs time every op for TensorBoard; the normal path never pays for it.
            from headwater.summary.tracing import traced_run
            return traced_run(self, fetches, feed_dict, options, run_metadata)
        if feed_dict:
            entry = self._entry(fetches, tuple(feed_dict))
            feeds = [c(v) for c, v in zip(entry.feed_convs, feed_dict.values())]
        else:
            entry = self._entry(fetches, ())
            feeds = ()
        try:
            vals = entry.fn(feeds)
        except Exception as e:
            raise wrap_run_error(entry.plan, e) from e.__cause__
        s = entry.single
        if s is None:
            return None
        if s >= 0:
            return vals[s]
        return entry.builder(vals)

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        """A fast callable `f(*feed_values)` running `fetches` with the tensors of `feed_list`
        fed positionally."""
        feed_keys = tuple(feed_list or ())
        entry = self._build_entry(fetches, feed_keys)
        fn = entry.fn
        convs = entry.feed_convs
        plan = entry.plan
        single = entry.single
        builder = entry.builder

        def call(*args, **kwargs):
            if len(args) != len(convs):
                raise TypeError("Expected %d feed values, got %d." % (len(convs), len(args)))
            feeds = [c(v) for c, v in zip(convs, args)]
            try:
                vals = fn(feeds)
            except Exception as e:
                raise wrap_run_error(plan, e) from e.__cause__
            if single is None:
                return None
            if single >= 0:
                return vals[single]
            return builder(vals)
        return call

    def partial_run_setup(self, fetches, feeds=None):
        raise errors.UnimplementedError(None, None, "partial_run is not supported by headwater")


class _DeviceAttributes:
    def __init__(self, name, device_type, memory_limit_bytes=0):
        self.name = name
        self.device_type = device_type
        self.memory_limit_bytes = memory_limit_bytes


class Session(BaseSession):
    """A class for running headwater operations (TF1's `tf.Session`)."""


class InteractiveSession(BaseSession):
    """A Session that installs itself as the default on construction (for shells/notebooks)."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        self._default_session_ctx = self.as_default()
        self._default_session_ctx.__enter__()
        self._default_graph_ctx = self._graph.as_default()
        self._default_graph_ctx.__enter__()
        self._explicitly_closed = False

    def close(self):
        super().close()
        if self._default_session_ctx is not None:
            self._default_session_ctx.__exit__(None, None, None)
            self._default_graph_ctx.__exit__(None, None, None)
            self._default_session_ctx = None
            self._default_graph_ctx = None
