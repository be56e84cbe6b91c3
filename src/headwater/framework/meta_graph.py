"""Meta graphs: a graph plus what is needed to use it later (`export_meta_graph`,
`import_meta_graph`).

A meta graph file (``model.ckpt.meta``) is a JSON document (version 1)::

    {"format": "headwater.MetaGraphDef", "version": 1,
     "meta_info_def": {"tags": [], "headwater_version": "0.1.0",
                       "stripped_op_list": ["Const", "MatMul", ...]},
     "graph_def": {...},                  # see headwater.framework.graph_def
     "saver_def": {"max_to_keep": 5, ..., "variables": {"W": "W"}} | null,
     "collection_def": {"variables": [{"variable": {"variable_name": "W:0",
                                                     "initializer_name": "W/Assign",
                                                     "snapshot_name": "W/read:0",
                                                     "initial_value_name": "W/initial_value:0",
                                                     "trainable": true}}],
                        "train_op": [{"op": "GradientDescent"}],
                        "losses": [{"tensor": "loss:0"}], "my_ints": [{"i": 3}], ...},
     "signature_def": {"serving_default": {"inputs": {"x": {"name": "x:0", "dtype": "float32",
                                                            "shape": [null, 784]}},
                                           "outputs": {...},
                                           "method_name": "tensorflow/serving/predict"}}}

Collection items are tagged by kind: ``variable`` (a VariableDef: the names of the variable's
ops, rebuilt into `Variable` objects on import), ``tensor``, ``op``, ``s``, ``bytes`` (base64),
``i``, ``f``, ``b``. Items of other Python types are skipped on export. Loading never executes
code: the file is plain JSON plus the raw tensor bytes of constants.
"""

from __future__ import annotations

import base64
import json
import os
import warnings

from headwater.framework import ops as _ops
from headwater.framework.graph_def import GraphDef, _import, graph_to_graph_def

__all__ = ["MetaGraphDef", "SignatureDef", "TensorInfo", "export_meta_graph",
           "import_meta_graph", "read_meta_graph_file"]

FORMAT_NAME = "headwater.MetaGraphDef"
FORMAT_VERSION = 1


class TensorInfo:
    """Name, dtype and static shape of a tensor in a signature (TF1's TensorInfo)."""

    def __init__(self, name, dtype=None, tensor_shape=None):
        self.name = name
        self.dtype = dtype
        self.tensor_shape = tensor_shape

    def to_json_obj(self):
        shape = self.tensor_shape
        dims = None if shape is None or shape._dims is None else list(shape._dims)
        return {"name": self.name, "dtype": None if self.dtype is None else self.dtype.name,
                "shape": dims}

    @classmethod
    def from_json_obj(cls, d):
        from headwater.framework import dtypes, tensor_shape

        dt = d.get("dtype")
        shape = d.get("shape")
        return cls(d["name"], None if dt is None else dtypes.as_dtype(dt),
                   tensor_shape.TensorShape(shape))

    def __eq__(self, other):
        return isinstance(other, TensorInfo) and self.to_json_obj() == other.to_json_obj()

    def __repr__(self):
        return "TensorInfo(%r)" % self.to_json_obj()


class SignatureDef:
    """Named inputs and outputs of a computation (TF1's SignatureDef)."""

    def __init__(self, inputs=None, outputs=None, method_name=""):
        self.inputs = dict(inputs or {})
        self.outputs = dict(outputs or {})
        self.method_name = method_name

    def to_json_obj(self):
        return {"inputs": {k: v.to_json_obj() for k, v in self.inputs.items()},
                "outputs": {k: v.to_json_obj() for k, v in self.outputs.items()},
                "method_name": self.method_name}

    @classmethod
    def from_json_obj(cls, d):
        return cls({k: TensorInfo.from_json_obj(v) for k, v in d.get("inputs", {}).items()},
                   {k: TensorInfo.from_json_obj(v) for k, v in d.get("outputs", {}).items()},
                   d.get("method_name", ""))

    def __eq__(self, other):
        return isinstance(other, SignatureDef) and self.to_json_obj() == other.to_json_obj()

    def __repr__(self):
        return "SignatureDef(%r)" % self.to_json_obj()


class MetaInfoDef:
    def __init__(self, tags=None, stripped_op_list=None, meta_graph_version="",
                 headwater_version="", any_info=None):
        self.tags = list(tags or [])
        self.stripped_op_list = list(stripped_op_list or [])
        self.meta_graph_version = meta_graph_version
        self.headwater_version = headwater_version
        self.tensorflow_version = "1.15"
        self.any_info = any_info

    def to_json_obj(self):
        return {"tags": self.tags, "stripped_op_list": self.stripped_op_list,
                "meta_graph_version": self.meta_graph_version,
                "headwater_version": self.headwater_version}

    @classmethod
    def from_json_obj(cls, d):
        return cls(d.get("tags"), d.get("stripped_op_list"), d.get("meta_graph_version", ""),
                   d.get("headwater_version", ""))


class MetaGraphDef:
    """A graph, its saver configuration, collections and signatures."""

    def __init__(self, meta_info_def=None, graph_def=None, saver_def=None,
                 collection_def=None, signature_def=None):
        self.meta_info_def = meta_info_def or MetaInfoDef()
        self.graph_def = graph_def if graph_def is not None else GraphDef()
        self.saver_def = saver_def
        self.collection_def = dict(collection_def or {})
        self.signature_def = dict(signature_def or {})

    def HasField(self, name):  # noqa: N802 - protobuf spelling
        return getattr(self, name, None) is not None

    def to_json_obj(self):
        return {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                "meta_info_def": self.meta_info_def.to_json_obj(),
                "graph_def": self.graph_def.to_json_obj(),
                "saver_def": None if self.saver_def is None else self.saver_def.to_json_obj(),
                "collection_def": self.collection_def,
                "signature_def": {k: v.to_json_obj() for k, v in self.signature_def.items()}}

    @classmethod
    def from_json_obj(cls, d):
        from headwater.train.saver import SaverDef

        if not isinstance(d, dict) or d.get("format") != FORMAT_NAME:
            raise ValueError("Not a headwater meta graph (format field missing).")
        v = d.get("version")
        if not isinstance(v, int) or v > FORMAT_VERSION:
            raise ValueError("Meta graph version %r is newer than this headwater supports (%d)."
                             % (v, FORMAT_VERSION))
        sd = d.get("saver_def")
        return cls(MetaInfoDef.from_json_obj(d.get("meta_info_def") or {}),
                   GraphDef.from_json_obj(d["graph_def"]),
                   None if sd is None else SaverDef.from_json_obj(sd),
                   d.get("collection_def") or {},
                   {k: SignatureDef.from_json_obj(s)
                    for k, s in (d.get("signature_def") or {}).items()})

    def to_json(self, indent=None):
        return json.dumps(self.to_json_obj(), indent=indent)

    @classmethod
    def from_json(cls, s):
        if isinstance(s, bytes):
            s = s.decode("utf-8")
        return cls.from_json_obj(json.loads(s))

    def SerializeToString(self):  # noqa: N802 - protobuf spelling
        return self.to_json().encode("utf-8")


# ---- collections ------------------------------------------------------------------------------


def _variable_def(v, strip):
    init_val = v._initial_value
    return {"variable_name": strip(v._variable.name),
            "initializer_name": strip(v._initializer_op.name),
            "snapshot_name": strip(v._snapshot.name),
            "initial_value_name": None if init_val is None else strip(init_val.name),
            "trainable": bool(v._trainable)}


def _collection_item(item, strip):
    from headwater.ops.variables import Variable

    if isinstance(item, Variable):
        return {"variable": _variable_def(item, strip)}
    if isinstance(item, _ops.Tensor):
        return {"tensor": strip(item.name)}
    if isinstance(item, _ops.Operation):
        return {"op": strip(item.name)}
    if isinstance(item, bool):
        return {"b": item}
    if isinstance(item, int):
        return {"i": item}
    if isinstance(item, float):
        return {"f": item}
    if isinstance(item, str):
        return {"s": item}
    if isinstance(item, bytes):
        return {"bytes": base64.b64encode(item).decode("ascii")}
    return None


def _export_collections(graph, collection_list, strip, in_scope):
    out = {}
    keys = collection_list if collection_list is not None else graph.get_all_collection_keys()
    for key in keys:
        if not isinstance(key, str):
            continue
        items = []
        for item in graph.get_collection(key):
            if not in_scope(item):
                continue
            enc = _collection_item(item, strip)
            if enc is None and hasattr(item, "saver_def"):
                # A Saver (Scaffold puts one in SAVERS) is carried by the meta graph's own
                # saver_def, from which import_meta_graph rebuilds it.
                continue
            if enc is None:
                warnings.warn("Issue encountered when serializing %s: items of type %s are not "
                              "supported and were skipped." % (key, type(item).__name__))
                continue
            items.append(enc)
        if items:
            out[key] = items
    return out


def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None,
                      collection_list=None, as_text=False, graph=None, export_scope=None,
                      clear_devices=False, clear_extraneous_savers=False,
                      strip_default_attrs=False, save_debug_info=False,
                      signature_def=None, **kwargs):
    """Export a graph, its collections and a saver's configuration as a `MetaGraphDef`.

    Args:
      filename: if given, the JSON meta graph is written there atomically.
      meta_info_def: optional `MetaInfoDef` (tags).
      graph_def: export this GraphDef instead of the graph's own.
      saver_def: the `SaverDef` of the saver to rebuild on import.
      collection_list: collection keys to export (default all).
      as_text: indent the JSON (the format is text in either case).
      graph: the graph (default: the default graph).
      export_scope: export only ops under this name scope, with the scope stripped.
      clear_devices: drop device placements.
      signature_def: optional {key: SignatureDef}.
    Returns:
      The `MetaGraphDef`.
    """
    from headwater import __version__ as hw_version

    graph = graph or _ops.get_default_graph()
    if export_scope:
        scope = export_scope.rstrip("/") + "/"

        def strip(name):
            return name[len(scope):] if name.startswith(scope) else name

        def in_scope(item):
            nm = getattr(item, "name", None)
            return nm is None or nm.startswith(scope)
    else:
        scope = ""

        def strip(name):
            return name

        def in_scope(item):
            return True

    if graph_def is None:
        ops = None
        if scope:
            ops = [op for op in graph.get_operations() if op.name.startswith(scope)]
        graph_def = graph_to_graph_def(graph, add_shapes=True, clear_devices=clear_devices,
                                       ops=ops)
        if scope:
            graph_def = _strip_scope(graph_def, scope)
    elif not isinstance(graph_def, GraphDef):
        from headwater.framework.graph_def import _as_graph_def

        graph_def = _as_graph_def(graph_def)
    if meta_info_def is None:
        meta_info_def = MetaInfoDef()
    meta_info_def.headwater_version = hw_version
    meta_info_def.stripped_op_list = sorted({n.op for n in graph_def.node})
    if saver_def is not None and scope:
        import copy

        saver_def = copy.copy(saver_def)
        saver_def.variables = {k: strip(v) for k, v in saver_def.variables.items()
                               if v.startswith(scope)}
    mg = MetaGraphDef(meta_info_def, graph_def, saver_def,
                      _export_collections(graph, collection_list, strip, in_scope),
                      signature_def)
    if filename:
        from headwater.train.checkpoint_management import atomic_write_bytes

        atomic_write_bytes(os.fspath(filename), mg.to_json(indent=1 if as_text else None))
    return mg


def _strip_scope(graph_def, scope):
    from headwater.framework.graph_def import AttrValue, NodeDef

    def s(name):
        return name[len(scope):] if name.startswith(scope) else name

    def fix(av):
        k = av.kind
        if k in ("list", "tuple"):
            return AttrValue(k, [fix(x) for x in av.value])
        if k in ("tensor_ref", "op_ref"):
            return AttrValue(k, s(av.value))
        if k == "context":
            d = dict(av.value)
            d["name"] = s(d["name"])
            d["ops"] = [s(x) for x in d.get("ops", ())]
            if d.get("outer"):
                d["outer"] = [d["outer"][0], s(d["outer"][1])]
            return AttrValue(k, d)
        return av

    nodes = []
    for n in graph_def.node:
        inputs = [("^" + s(i[1:])) if i.startswith("^") else s(i) for i in n.input]
        nodes.append(NodeDef(s(n.name), n.op, inputs, n.device,
                             {k: fix(v) for k, v in n.attr.items()}))
    return GraphDef(nodes, graph_def.versions_producer)


def read_meta_graph_file(filename):
    """Read a meta graph file (JSON) into a `MetaGraphDef`.

    Raises:
      IOError: if the file does not exist; ValueError if it is not a meta graph.
    """
    if not os.path.isfile(filename):
        raise IOError("File %s does not exist." % filename)
    with open(filename, "rb") as f:
        data = f.read()
    try:
        return MetaGraphDef.from_json(data)
    except (ValueError, UnicodeDecodeError, KeyError) as e:
        raise ValueError("Cannot parse meta graph file %s: %s" % (filename, e)) from None


def _import_collections(graph, collection_def, prefix):
    from headwater.ops.variables import Variable

    var_cache = {}

    def name(n):
        return prefix + n

    for key, items in collection_def.items():
        coll = graph.get_collection_ref(key)
        for item in items:
            (kind, v), = item.items()
            if kind == "variable":
                var_name = name(v["variable_name"])
                var = var_cache.get(var_name)
                if var is None:
                    var = _find_existing_variable(graph, var_name)
                if var is None:
                    var = Variable._from_graph(
                        graph.get_tensor_by_name(var_name).op,
                        graph.get_operation_by_name(name(v["initializer_name"])),
                        graph.get_tensor_by_name(name(v["snapshot_name"])),
                        None if not v.get("initial_value_name") else
                        graph.get_tensor_by_name(name(v["initial_value_name"])),
                        v.get("trainable", True))
                var_cache[var_name] = var
                coll.append(var)
            elif kind == "tensor":
                coll.append(graph.get_tensor_by_name(name(v)))
            elif kind == "op":
                coll.append(graph.get_operation_by_name(name(v)))
            elif kind == "bytes":
                coll.append(base64.b64decode(v))
            elif kind in ("s", "i", "f", "b"):
                coll.append(v)


def _find_existing_variable(graph, var_name):
    for key in (_ops.GraphKeys.GLOBAL_VARIABLES, _ops.GraphKeys.LOCAL_VARIABLES):
        for v in graph.get_collection(key):
            if getattr(v, "name", None) == var_name:
                return v
    return None


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None,
                      input_map=None, **kwargs):
    """Recreate a saved graph in the default graph and return a `Saver` for its variables.

    Args:
      meta_graph_or_file: a `MetaGraphDef` or the path of a ".meta" file.
      clear_devices: drop device placements.
      import_scope: prefix the imported names with this scope.
      input_map: {tensor name: Tensor} replacing inputs of the imported graph.
    Returns:
      A `Saver` built from the meta graph's SaverDef (or over its variables), or None if the
      graph has no variables.
    """
    from headwater.train.saver import Saver

    if isinstance(meta_graph_or_file, MetaGraphDef):
        mg = meta_graph_or_file
    else:
        mg = read_meta_graph_file(os.fspath(meta_graph_or_file))
    graph = _ops.get_default_graph()
    gd = mg.graph_def
    if clear_devices:
        for n in gd.node:
            n.device = ""
    scope_name = import_scope or ""
    with graph.as_default():
        _, prefix, _ = _import(gd, input_map, None, scope_name)
        _import_collections(graph, mg.collection_def, prefix)
        if mg.saver_def is not None:
            sd = mg.saver_def
            if prefix:
                import copy

                sd = copy.copy(sd)
                sd.variables = {k: prefix + v for k, v in sd.variables.items()}
            return Saver(saver_def=sd, name=scope_name or None, allow_empty=True)
        if graph.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES):
            return Saver()
        return None
