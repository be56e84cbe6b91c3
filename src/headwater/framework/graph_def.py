"""GraphDef: a serializable description of a headwater `Graph`.

Two encodings of the same model:

- **Protocol buffers** (`GraphDef.to_proto()`, `SerializeToString()`, `from_proto()`): TF's own
  `tensorflow.GraphDef` message (via the `tensorboard` package's copy of the protos), so
  TensorBoard and other TF tooling read headwater graphs. Attribute values without a protobuf
  equivalent (references to other ops/tensors, control-flow contexts, nested lists, None) are
  stored in the `s` field as ``b"headwater-json:" + json`` so a round trip stays lossless.
- **JSON** (`to_json()`, `from_json()`): headwater's portable, human-readable format, used by
  `export_meta_graph` and `saved_model`. Loading it never executes code. Layout (version 1)::

      {"format": "headwater.GraphDef", "version": 1, "producer": 134,
       "node": [{"name": "W", "op": "VariableV2", "input": [], "device": "",
                 "attr": {"dtype": {"type": "float32"}, "shape": {"shape": [2, 3]}}}, ...]}

  A node's `input` lists "op" (output 0), "op:1" (output 1) and "^op" (control input). Each
  attribute value is a one-key object naming its kind:

  ============  ============================================================================
  ``type``      dtype name ("float32", "int64", "string", ...)
  ``shape``     null (unknown rank) or a list of int / null (unknown dimension)
  ``tensor``    {"dtype", "shape", "data": base64 of the raw little-endian bytes} or, for
                strings, {"dtype": "string", "shape", "strings": [base64 of each element]}
  ``b``/``i``   bool / int
  ``f``         float ("inf", "-inf", "nan" as strings)
  ``s``         text string; ``bytes``: base64 of a byte string
  ``list``      list of attribute values (``tuple``: same, restored as a Python tuple)
  ``none``      null
  ``tensor_ref`` / ``op_ref``  the name of a tensor ("op:0") or an operation of the same graph
  ``context``   a control-flow context {"kind", "name", "outer": [kind, name] | null,
                "ops": [member op names]}
  ============  ============================================================================

Op type strings and attribute names are TF's (`MatMul` with `T`, `transpose_a`, ...).
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import tensor_shape as _ts

__all__ = ["AttrValue", "NodeDef", "GraphDef", "graph_to_graph_def", "import_graph_def"]

FORMAT_NAME = "headwater.GraphDef"
FORMAT_VERSION = 1
# The GraphDef "producer" version written to protos: op semantics are TF 1.15's.
GRAPH_DEF_VERSION = 134
_PROTO_JSON_PREFIX = b"headwater-json:"

_SIMPLE_KINDS = ("type", "shape", "tensor", "b", "i", "f", "s")


def _tensorboard_protos():
    try:
        from tensorboard.compat.proto import attr_value_pb2, graph_pb2, node_def_pb2
        from tensorboard.compat.proto import tensor_pb2, tensor_shape_pb2
    except ImportError as e:
        raise ImportError("GraphDef protocol buffers need the tensorboard package: "
                          "pip install headwater[tensorboard]") from e
    return attr_value_pb2, graph_pb2, node_def_pb2, tensor_pb2, tensor_shape_pb2


# ---- attribute values ---------------------------------------------------------------------


class AttrValue:
    """One typed attribute value.

    Attributes:
      kind: one of "type", "shape", "tensor", "b", "i", "f", "s", "bytes", "list", "tuple",
        "none", "tensor_ref", "op_ref", "context", "unsupported".
      value: the Python value: a `DType`, `TensorShape`, numpy array, bool/int/float/str/bytes,
        a list of `AttrValue` (lists), a name (refs), a dict (contexts) or a repr string.
    """

    __slots__ = ("kind", "value")

    def __init__(self, kind, value):
        self.kind = kind
        self.value = value

    # TF proto-like accessors
    @property
    def type(self):
        return self.value if self.kind == "type" else None

    @property
    def shape(self):
        return self.value if self.kind == "shape" else None

    @property
    def tensor(self):
        return self.value if self.kind == "tensor" else None

    @property
    def list(self):
        return self.value if self.kind in ("list", "tuple") else None

    def __eq__(self, other):
        if not isinstance(other, AttrValue) or self.kind != other.kind:
            return False
        if self.kind == "tensor":
            a, b = self.value, other.value
            return (a.dtype == b.dtype and a.shape == b.shape
                    and a.tobytes() == b.tobytes() if a.dtype != object
                    else a.shape == b.shape and a.tolist() == b.tolist())
        if self.kind == "shape":
            return self.value._dims == other.value._dims
        if self.kind == "f":
            return self.value == other.value or (math.isnan(self.value)
                                                 and math.isnan(other.value))
        return self.value == other.value

    def __repr__(self):
        return "AttrValue(%s=%r)" % (self.kind, self.value)

    # ---- conversions from / to live Python values -------------------------------------------
    @classmethod
    def from_python(cls, v):
        """The AttrValue of an op attribute value `v` (as stored in `Operation._attrs`)."""
        from headwater.framework import ops as _ops

        t = type(v)
        if t is bool or t is np.bool_:
            return cls("b", bool(v))
        if t is int or isinstance(v, np.integer):
            return cls("i", int(v))
        if t is float or isinstance(v, np.floating):
            return cls("f", float(v))
        if t is str:
            return cls("s", v)
        if t is bytes:
            return cls("bytes", v)
        if v is None:
            return cls("none", None)
        if isinstance(v, _dtypes.DType):
            return cls("type", v)
        if isinstance(v, _ts.TensorShape):
            return cls("shape", v)
        if isinstance(v, np.ndarray):
            return cls("tensor", v)
        if isinstance(v, list):
            return cls("list", [cls.from_python(x) for x in v])
        if isinstance(v, tuple):
            return cls("tuple", [cls.from_python(x) for x in v])
        if isinstance(v, _ops.Tensor):
            return cls("tensor_ref", v.name)
        if isinstance(v, _ops.Operation):
            return cls("op_ref", v.name)
        if type(v).__name__ == "ControlFlowContext":
            outer = v.outer
            return cls("context", {"kind": v.kind, "name": v.name,
                                   "outer": None if outer is None else [outer.kind, outer.name],
                                   "ops": [op.name for op in v.ops]})
        return cls("unsupported", "%s: %r" % (type(v).__name__, v))

    # ---- JSON ------------------------------------------------------------------------------
    def to_json_obj(self):
        k, v = self.kind, self.value
        if k == "type":
            return {"type": v.name}
        if k == "shape":
            return {"shape": None if v._dims is None else list(v._dims)}
        if k == "tensor":
            return {"tensor": _tensor_to_json(v)}
        if k == "f":
            return {"f": v if math.isfinite(v) else repr(v)}
        if k == "bytes":
            return {"bytes": base64.b64encode(v).decode("ascii")}
        if k in ("list", "tuple"):
            return {k: [x.to_json_obj() for x in v]}
        return {k: v}

    @classmethod
    def from_json_obj(cls, obj):
        if not isinstance(obj, dict) or len(obj) != 1:
            raise ValueError("Invalid attribute value in GraphDef JSON: %r" % (obj,))
        (k, v), = obj.items()
        if k == "type":
            return cls(k, _dtypes.as_dtype(v))
        if k == "shape":
            return cls(k, _ts.TensorShape._from_tuple(None if v is None else tuple(
                None if d is None else int(d) for d in v)))
        if k == "tensor":
            return cls(k, _tensor_from_json(v))
        if k == "f":
            return cls(k, float(v))
        if k == "bytes":
            return cls(k, base64.b64decode(v))
        if k in ("list", "tuple"):
            return cls(k, [cls.from_json_obj(x) for x in v])
        if k == "b":
            return cls(k, bool(v))
        if k == "i":
            return cls(k, int(v))
        if k in ("s", "tensor_ref", "op_ref", "unsupported"):
            return cls(k, str(v))
        if k == "none":
            return cls(k, None)
        if k == "context":
            return cls(k, dict(v))
        raise ValueError("Unknown attribute value kind %r in GraphDef JSON." % k)

    # ---- protocol buffers ----------------------------------------------------------------------
    def _fill_proto(self, pb, protos):
        k, v = self.kind, self.value
        if k == "type":
            pb.type = v.as_datatype_enum
        elif k == "shape":
            _shape_to_proto(v, pb.shape)
        elif k == "tensor":
            _tensor_to_proto(v, pb.tensor)
        elif k == "b":
            pb.b = v
        elif k == "i":
            pb.i = v
        elif k == "f":
            pb.f = v
        elif k == "s":
            pb.s = v.encode("utf-8")
        elif k == "bytes":
            pb.s = v
        elif k == "list" and _homogeneous_simple(v):
            lst = pb.list
            lst.SetInParent()  # an empty list is still a (present) list
            if v:
                ik = "s" if v[0].kind == "bytes" else v[0].kind
                for x in v:
                    if ik == "type":
                        lst.type.append(x.value.as_datatype_enum)
                    elif ik == "shape":
                        _shape_to_proto(x.value, lst.shape.add())
                    elif ik == "tensor":
                        _tensor_to_proto(x.value, lst.tensor.add())
                    elif ik == "s":
                        lst.s.append(x.value if x.kind == "bytes" else x.value.encode("utf-8"))
                    else:
                        getattr(lst, ik).append(x.value)
        else:
            pb.s = _PROTO_JSON_PREFIX + json.dumps(self.to_json_obj()).encode("utf-8")

    @classmethod
    def _from_proto(cls, pb):
        which = pb.WhichOneof("value")
        if which == "type":
            return cls("type", _dtypes.as_dtype(pb.type))
        if which == "shape":
            return cls("shape", _shape_from_proto(pb.shape))
        if which == "tensor":
            return cls("tensor", _tensor_from_proto(pb.tensor))
        if which in ("b", "i", "f"):
            return cls(which, getattr(pb, which))
        if which == "s":
            s = pb.s
            if s.startswith(_PROTO_JSON_PREFIX):
                return cls.from_json_obj(json.loads(s[len(_PROTO_JSON_PREFIX):]))
            try:
                return cls("s", s.decode("utf-8"))
            except UnicodeDecodeError:
                return cls("bytes", s)
        if which == "list":
            lst = pb.list
            out = []
            for x in lst.s:
                try:
                    out.append(cls("s", x.decode("utf-8")))
                except UnicodeDecodeError:
                    out.append(cls("bytes", x))
            out += [cls("i", x) for x in lst.i]
            out += [cls("f", x) for x in lst.f]
            out += [cls("b", x) for x in lst.b]
            out += [cls("type", _dtypes.as_dtype(x)) for x in lst.type]
            out += [cls("shape", _shape_from_proto(x)) for x in lst.shape]
            out += [cls("tensor", _tensor_from_proto(x)) for x in lst.tensor]
            return cls("list", out)
        if which == "func":
            return cls("s", pb.func.name)
        return cls("none", None)

    def to_python(self, resolve=None):
        """The live value for `Operation._attrs`. `resolve(kind, value)` maps refs and
        contexts (import); without it they stay names."""
        k, v = self.kind, self.value
        if k in ("list", "tuple"):
            out = [x.to_python(resolve) for x in v]
            return tuple(out) if k == "tuple" else out
        if k in ("tensor_ref", "op_ref", "context"):
            return resolve(k, v) if resolve is not None else v
        if k == "unsupported":
            raise ValueError("Attribute value %s cannot be imported (it was not serializable "
                             "when the graph was exported)." % v)
        return v


def _homogeneous_simple(items):
    if not items:
        return True
    kinds = {"s" if x.kind == "bytes" else x.kind for x in items}
    return len(kinds) == 1 and next(iter(kinds)) in _SIMPLE_KINDS


def _shape_to_proto(shape, pb):
    pb.SetInParent()
    if shape._dims is None:
        pb.unknown_rank = True
        return
    for d in shape._dims:
        pb.dim.add().size = -1 if d is None else d


def _shape_from_proto(pb):
    if pb.unknown_rank:
        return _ts.TensorShape._from_tuple(None)
    return _ts.TensorShape._from_tuple(tuple(None if d.size < 0 else int(d.size)
                                             for d in pb.dim))


def _np_dtype(dtype):
    return np.dtype(dtype.as_numpy_dtype)


def _tensor_dtype(arr):
    return _dtypes.as_dtype(arr.dtype)


def _tensor_to_json(arr):
    dt = _tensor_dtype(arr)
    if dt == _dtypes.string:
        flat = [x if isinstance(x, bytes) else str(x).encode("utf-8") for x in arr.reshape(-1)]
        return {"dtype": "string", "shape": list(arr.shape),
                "strings": [base64.b64encode(x).decode("ascii") for x in flat]}
    le = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    return {"dtype": dt.name, "shape": list(arr.shape),
            "data": base64.b64encode(le.tobytes()).decode("ascii")}


def _readonly(arr):
    arr.flags.writeable = False
    return arr


def _tensor_from_json(obj):
    dt = _dtypes.as_dtype(obj["dtype"])
    shape = tuple(int(d) for d in obj["shape"])
    if dt == _dtypes.string:
        vals = [base64.b64decode(x) for x in obj["strings"]]
        arr = np.empty(len(vals), dtype=object)
        arr[:] = vals
        return _readonly(arr.reshape(shape))
    npdt = _np_dtype(dt)
    raw = base64.b64decode(obj["data"])
    n = int(np.prod(shape, dtype=np.int64))
    if len(raw) != n * npdt.itemsize:
        raise ValueError("Tensor data of %d bytes does not match dtype %s and shape %s."
                         % (len(raw), dt.name, list(shape)))
    arr = np.frombuffer(raw, dtype=npdt.newbyteorder("<")).astype(npdt, copy=True)
    return _readonly(arr.reshape(shape))


def _tensor_to_proto(arr, pb):
    dt = _tensor_dtype(arr)
    pb.dtype = dt.as_datatype_enum
    shp = pb.tensor_shape
    shp.SetInParent()
    for d in arr.shape:
        shp.dim.add().size = d
    if dt == _dtypes.string:
        for x in arr.reshape(-1):
            pb.string_val.append(x if isinstance(x, bytes) else str(x).encode("utf-8"))
    else:
        pb.tensor_content = np.ascontiguousarray(
            arr, dtype=arr.dtype.newbyteorder("<")).tobytes()


def _tensor_from_proto(pb):
    dt = _dtypes.as_dtype(pb.dtype)
    shape = tuple(int(d.size) for d in pb.tensor_shape.dim)
    n = int(np.prod(shape, dtype=np.int64))
    if dt == _dtypes.string:
        vals = list(pb.string_val)
        if len(vals) == 1 and n != 1:
            vals = vals * n
        arr = np.empty(len(vals), dtype=object)
        arr[:] = vals
        return _readonly(arr.reshape(shape))
    npdt = _np_dtype(dt)
    if pb.tensor_content:
        arr = np.frombuffer(pb.tensor_content, dtype=npdt.newbyteorder("<")).astype(npdt)
    else:
        # TF writes small constants to the typed repeated fields, the last value repeated.
        field = {np.dtype(np.float32): "float_val", np.dtype(np.float64): "double_val",
                 np.dtype(np.int64): "int64_val", np.dtype(np.bool_): "bool_val",
                 np.dtype(np.uint32): "uint32_val", np.dtype(np.uint64): "uint64_val",
                 np.dtype(np.complex64): "scomplex_val",
                 np.dtype(np.complex128): "dcomplex_val"}.get(npdt)
        if npdt == np.float16:
            vals = np.array(list(pb.half_val), dtype=np.uint16).view(np.float16)
        elif field is None:
            vals = np.array(list(pb.int_val), dtype=npdt)
        else:
            vals = np.array(list(getattr(pb, field)))
            if npdt.kind == "c":
                vals = vals[0::2] + 1j * vals[1::2]
            vals = vals.astype(npdt)
        if vals.size == 0:
            arr = np.zeros(n, dtype=npdt)
        elif vals.size < n:
            arr = np.concatenate([vals, np.full(n - vals.size, vals[-1], dtype=npdt)])
        else:
            arr = vals
    return _readonly(arr.reshape(shape).copy())


# ---- NodeDef / GraphDef ------------------------------------------------------------------------


class NodeDef:
    """One node: name, op type, inputs ("x", "x:1", "^ctrl"), device and attributes."""

    __slots__ = ("name", "op", "input", "device", "attr")

    def __init__(self, name, op, input=None, device="", attr=None):  # noqa: A002 - TF name
        self.name = name
        self.op = op
        self.input = list(input or [])
        self.device = device or ""
        self.attr = dict(attr or {})

    def __eq__(self, other):
        return (isinstance(other, NodeDef) and self.name == other.name and self.op == other.op
                and self.input == other.input and self.device == other.device
                and self.attr == other.attr)

    def __repr__(self):
        return "NodeDef(name=%r, op=%r, input=%r)" % (self.name, self.op, self.input)

    def to_json_obj(self):
        d = {"name": self.name, "op": self.op, "input": list(self.input)}
        if self.device:
            d["device"] = self.device
        d["attr"] = {k: v.to_json_obj() for k, v in sorted(self.attr.items())}
        return d

    @classmethod
    def from_json_obj(cls, d):
        return cls(str(d["name"]), str(d["op"]), [str(x) for x in d.get("input", [])],
                   str(d.get("device", "")),
                   {str(k): AttrValue.from_json_obj(v) for k, v in d.get("attr", {}).items()})


class GraphDef:
    """A list of `NodeDef`s plus the producer version (TF's `GraphDef` message)."""

    def __init__(self, node=None, versions_producer=GRAPH_DEF_VERSION):
        self.node = list(node or [])
        self.versions_producer = versions_producer

    def __eq__(self, other):
        return isinstance(other, GraphDef) and self.node == other.node

    def __repr__(self):
        return "<GraphDef with %d nodes>" % len(self.node)

    # ---- protobuf --------------------------------------------------------------------------
    def to_proto(self):
        """A `tensorboard.compat.proto.graph_pb2.GraphDef` with the same content."""
        protos = _tensorboard_protos()
        graph_pb2 = protos[1]
        pb = graph_pb2.GraphDef()
        pb.versions.producer = self.versions_producer
        for n in self.node:
            npb = pb.node.add()
            npb.name = n.name
            npb.op = n.op
            npb.input.extend(n.input)
            if n.device:
                npb.device = n.device
            for k, v in n.attr.items():
                v._fill_proto(npb.attr[k], protos)
        return pb

    def SerializeToString(self):  # noqa: N802 - protobuf spelling
        """The binary `tensorflow.GraphDef` encoding (needs the tensorboard package)."""
        return self.to_proto().SerializeToString()

    @classmethod
    def from_proto(cls, pb):
        """A GraphDef from a `GraphDef` protocol buffer (any implementation of the message)."""
        nodes = []
        for npb in pb.node:
            nodes.append(NodeDef(npb.name, npb.op, list(npb.input), npb.device,
                                 {k: AttrValue._from_proto(v) for k, v in npb.attr.items()}))
        return cls(nodes, pb.versions.producer)

    @classmethod
    def FromString(cls, data):  # noqa: N802 - protobuf spelling
        graph_pb2 = _tensorboard_protos()[1]
        pb = graph_pb2.GraphDef()
        pb.ParseFromString(data)
        return cls.from_proto(pb)

    def ParseFromString(self, data):  # noqa: N802 - protobuf spelling
        g = GraphDef.FromString(data)
        self.node = g.node
        self.versions_producer = g.versions_producer

    # ---- JSON ------------------------------------------------------------------------------
    def to_json_obj(self):
        return {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                "producer": self.versions_producer,
                "node": [n.to_json_obj() for n in self.node]}

    @classmethod
    def from_json_obj(cls, d):
        if not isinstance(d, dict) or d.get("format") != FORMAT_NAME:
            raise ValueError("Not a headwater GraphDef JSON document (format field missing).")
        v = d.get("version")
        if not isinstance(v, int) or v > FORMAT_VERSION:
            raise ValueError("GraphDef JSON version %r is newer than this headwater supports "
                             "(%d); upgrade headwater." % (v, FORMAT_VERSION))
        return cls([NodeDef.from_json_obj(n) for n in d["node"]],
                   int(d.get("producer", GRAPH_DEF_VERSION)))

    def to_json(self, indent=None):
        """The versioned JSON text (see the module docstring)."""
        return json.dumps(self.to_json_obj(), indent=indent)

    @classmethod
    def from_json(cls, s):
        if isinstance(s, bytes):
            s = s.decode("utf-8")
        return cls.from_json_obj(json.loads(s))

    def __str__(self):
        return self.to_json(indent=1)


# ---- export -------------------------------------------------------------------------------


def _input_name(t):
    return t._op._name if t._value_index == 0 else "%s:%d" % (t._op._name, t._value_index)


def graph_to_graph_def(graph, add_shapes=False, from_version=None, clear_devices=False,
                       ops=None):
    """The `GraphDef` of `graph`.

    Args:
      graph: a headwater `Graph`.
      add_shapes: add a `_output_shapes` attribute (list of static shapes) to every node.
      from_version: only nodes created at or after this op index (`Graph.version`-like).
      clear_devices: drop device strings.
      ops: optional subset of operations to export (in graph order).
    Returns:
      A `GraphDef`.
    """
    nodes = []
    start = from_version or 0
    op_list = graph._nodes_in_order if ops is None else ops
    for op in op_list:
        if op._id < start:
            continue
        inputs = [_input_name(t) for t in op._inputs]
        inputs += ["^" + c._name for c in op._control_inputs]
        attr = {}
        for k, v in op._attrs.items():
            if k[:1] == "_":
                continue
            attr[k] = AttrValue.from_python(v)
        if add_shapes:
            attr["_output_shapes"] = AttrValue("list", [AttrValue("shape", t._shape)
                                                        for t in op._outputs])
        nodes.append(NodeDef(op._name, op._type, inputs, "" if clear_devices else op._device,
                             attr))
    return GraphDef(nodes, GRAPH_DEF_VERSION)


# ---- import -------------------------------------------------------------------------------


def _parse_input(s):
    """("op", index, is_control) of a NodeDef input string."""
    if s.startswith("^"):
        return s[1:], -1, True
    name, sep, idx = s.rpartition(":")
    if sep and idx.isdigit():
        return name, int(idx), False
    return s, 0, False


def _ref_names(av, out):
    k = av.kind
    if k in ("list", "tuple"):
        for x in av.value:
            _ref_names(x, out)
    elif k == "tensor_ref":
        out.append(_parse_input(av.value)[0])
    elif k == "op_ref":
        out.append(av.value)
    elif k == "context":
        out.extend(av.value.get("ops", ()))


def _toposort_nodes(nodes):
    """Nodes ordered so every node comes after its inputs, control inputs and the ops its
    attributes reference (ties keep the file order)."""
    import heapq

    index = {}
    for i, n in enumerate(nodes):
        if n.name in index:
            raise ValueError("Duplicate node name in graph: '%s'" % n.name)
        index[n.name] = i
    deps = []
    users = [[] for _ in nodes]
    for i, n in enumerate(nodes):
        d = set()
        for s in n.input:
            name = _parse_input(s)[0]
            j = index.get(name)
            if j is not None:
                d.add(j)
        refs = []
        for av in n.attr.values():
            _ref_names(av, refs)
        for name in refs:
            j = index.get(name)
            if j is not None and j != i:
                d.add(j)
        deps.append(len(d))
        for j in d:
            users[j].append(i)
    heap = [i for i, c in enumerate(deps) if c == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        i = heapq.heappop(heap)
        order.append(nodes[i])
        for u in users[i]:
            deps[u] -= 1
            if deps[u] == 0:
                heapq.heappush(heap, u)
    if len(order) != len(nodes):
        stuck = [nodes[i].name for i, c in enumerate(deps) if c > 0]
        raise ValueError("GraphDef has a cycle through node '%s'." % stuck[0])
    return order


def _as_graph_def(obj):
    if isinstance(obj, GraphDef):
        return obj
    if isinstance(obj, (str, bytes)):
        try:
            return GraphDef.from_json(obj)
        except (ValueError, UnicodeDecodeError):
            if isinstance(obj, bytes):
                return GraphDef.FromString(obj)
            raise
    if hasattr(obj, "node") and hasattr(obj, "versions"):
        return GraphDef.from_proto(obj)
    raise TypeError("graph_def must be a GraphDef, got %s" % type(obj).__name__)


def import_graph_def(graph_def, input_map=None, return_elements=None, name=None,
                     op_dict=None, producer_op_list=None):
    """Import `graph_def` into the default graph (TF1's `tf.import_graph_def`).

    Args:
      graph_def: a `GraphDef`, a GraphDef protocol buffer, or its JSON text.
      input_map: dict mapping tensor names in `graph_def` ("x:0", "x", or "^op" for control
        inputs) to existing `Tensor`s (or `Operation`s for "^op") that replace them.
      return_elements: names in `graph_def` of tensors ("x:0") or operations ("x") to return.
      name: prefix for the imported names (default "import"; "" keeps the original names).
      op_dict, producer_op_list: accepted for TF1 compatibility; unused.
    Returns:
      The list of `return_elements` (Tensors/Operations) from the imported graph, or None.
    Raises:
      ValueError: unknown op types or inputs, bad input_map keys, unknown return elements.
    """
    return _import(graph_def, input_map, return_elements, name)[0]


def _import(graph_def, input_map, return_elements, name):
    """import_graph_def's work; returns (return elements, name prefix used, created ops)."""
    from headwater.framework import ops as _ops
    from headwater.framework.op_registry import get_op_def

    graph_def = _as_graph_def(graph_def)
    graph = _ops.get_default_graph()
    input_map = dict(input_map or {})
    norm_map = {}
    for k, v in input_map.items():
        if not isinstance(k, str):
            raise TypeError("input_map keys must be strings (tensor names), got %r" % (k,))
        if k.startswith("^"):
            if not isinstance(v, _ops.Operation):
                raise TypeError("input_map entry %r for a control input must map to an "
                                "Operation, got %r" % (k, v))
            norm_map[(k[1:], -1)] = v
            continue
        op_name, idx, _ = _parse_input(k)
        if not isinstance(v, _ops.Tensor):
            v = _ops.convert_to_tensor(v)
        norm_map[(op_name, idx)] = v
    used_map = set()
    if return_elements is not None:
        return_elements = list(return_elements)
    nodes = graph_def.node
    node_names = {n.name for n in nodes}
    for key in norm_map:
        if key[0] not in node_names:
            raise ValueError("Attempted to map inputs that were not found in graph_def: [%s]"
                             % (key[0] if key[1] < 0 else "%s:%d" % key))
    for n in nodes:
        for s in n.input:
            src, idx, ctrl = _parse_input(s)
            if src not in node_names and (src, idx) not in norm_map:
                raise ValueError("Node '%s': Unknown input node '%s'" % (n.name, s))
        try:
            get_op_def(n.op)
        except KeyError:
            raise ValueError("Op type not registered '%s' in headwater (node '%s')."
                             % (n.op, n.name)) from None
    order = _toposort_nodes(nodes)

    if name is None:
        name = "import"
    created = {}
    contexts = {}
    member_ctx = {}

    # Control-flow contexts (cond branches / loop bodies) are recreated first so member ops
    # get stamped as they are created.
    ctx_defs = {}

    def collect(av):
        if av.kind == "context":
            ctx_defs[(av.value["kind"], av.value["name"])] = av.value
        elif av.kind in ("list", "tuple"):
            for x in av.value:
                collect(x)
    for n in nodes:
        for av in n.attr.values():
            collect(av)

    def get_context(key):
        c = contexts.get(key)
        if c is None:
            from headwater.ops.control_flow_ops import ControlFlowContext

            d = ctx_defs[key]
            outer = get_context(tuple(d["outer"])) if d.get("outer") else None
            c = contexts[key] = ControlFlowContext(d["kind"], prefix + d["name"], outer)
        return c

    def lookup_tensor(src, idx, node_name):
        t = norm_map.get((src, idx))
        if t is not None:
            used_map.add((src, idx))
            return t
        op = created.get(src)
        if op is None:
            raise ValueError("Node '%s': Unknown input node '%s'" % (node_name, src))
        if idx >= len(op._outputs):
            raise ValueError("Node '%s': Connecting to invalid output %d of source node %s "
                             "which has %d outputs" % (node_name, idx, src, len(op._outputs)))
        return op._outputs[idx]

    def resolve(kind, v):
        if kind == "tensor_ref":
            src, idx, _ = _parse_input(v)
            return lookup_tensor(src, idx, v)
        if kind == "op_ref":
            op = created.get(v)
            if op is None:
                raise ValueError("Attribute references unknown node '%s'" % v)
            return op
        return get_context((v["kind"], v["name"]))

    with _ops.name_scope(name, "import", [v for v in norm_map.values()
                                          if isinstance(v, _ops.Tensor)]) as scope:
        prefix = scope
        for key in ctx_defs:
            c = get_context(key)
            for op_name in ctx_defs[key].get("ops", ()):
                member_ctx[op_name] = c
        saved_ctx = graph._cond_context
        try:
            with graph.control_dependencies(None):
                for n in order:
                    inputs = []
                    ctrl = []
                    for s in n.input:
                        src, idx, is_ctrl = _parse_input(s)
                        if is_ctrl:
                            c = norm_map.get((src, -1))
                            if c is not None:
                                used_map.add((src, -1))
                            else:
                                c = created[src]
                            ctrl.append(c)
                        else:
                            inputs.append(lookup_tensor(src, idx, n.name))
                    attrs = {}
                    out_shapes = None
                    for k, av in n.attr.items():
                        if k == "_output_shapes":
                            out_shapes = av.value
                            continue
                        attrs[k] = av.to_python(resolve)
                    full = prefix + n.name
                    graph._cond_context = member_ctx.get(n.name)
                    try:
                        if full in graph._nodes_by_name:
                            op = graph.create_op(n.op, inputs, attrs, name=n.name)
                        else:
                            op = graph.create_op(n.op, inputs, attrs, name=full + "/")
                            _mark_name_used(graph, full)
                    except (TypeError, ValueError) as e:
                        raise ValueError("Node '%s' (op: '%s') could not be imported: %s"
                                         % (n.name, n.op, e)) from e
                    if n.device:
                        op._set_device(n.device)
                    for c in ctrl:
                        if c not in op._control_inputs:
                            op._control_inputs.append(c)
                    if out_shapes:
                        for t, s in zip(op._outputs, out_shapes):
                            if s.kind == "shape":
                                try:
                                    t.set_shape(s.value)
                                except ValueError:
                                    pass
                    created[n.name] = op
        finally:
            graph._cond_context = saved_ctx
        _finish_contexts(contexts, ctx_defs, created)

    unused = set(norm_map) - used_map
    if unused:
        names = sorted(("^" + k[0]) if k[1] < 0 else "%s:%d" % k for k in unused)
        raise ValueError("Attempted to map inputs that were not found in graph_def: [%s]"
                         % ", ".join(names))
    if return_elements is None:
        return None, prefix, created
    out = []
    for r in return_elements:
        if not isinstance(r, str):
            raise TypeError("return_elements must be strings, got %r" % (r,))
        src, idx, is_ctrl = _parse_input(r)
        if ":" in r and not is_ctrl:
            op = created.get(src)
            if op is None or idx >= len(op._outputs):
                raise ValueError("Requested return tensor '%s' not found in graph def" % r)
            out.append(op._outputs[idx])
        else:
            op = created.get(src)
            if op is None:
                raise ValueError("Requested return node '%s' not found in graph def" % r)
            out.append(op)
    return out, prefix, created


def _mark_name_used(graph, full):
    # Ops created with an exact name ("name/") bypass unique_name; record the name (and its
    # scopes) so later ops in this graph do not reuse it.
    parts = full.split("/")
    for i in range(1, len(parts) + 1):
        key = "/".join(parts[:i]).lower()
        if key not in graph._names_in_use:
            graph._names_in_use[key] = 1


def _finish_contexts(contexts, ctx_defs, created):
    if not contexts:
        return
    from headwater.ops import control_flow_ops as cf

    for key, ctx in contexts.items():
        members = [created[n] for n in ctx_defs[key].get("ops", ()) if n in created]
        ctx.ops = members
        for op in members:
            cf._guard(op)
    for op in created.values():
        if op._type == "If":
            for attr, branch in (("then_context", 0), ("else_context", 1)):
                c = op._attrs.get(attr)
                if c is not None and hasattr(c, "if_op"):
                    c.if_op = op
                    c.branch = branch
