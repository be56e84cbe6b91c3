"""`tf.train.Saver`: save and restore variables to and from checkpoints.

Checkpoint format (version 1)
=============================

A checkpoint is named by a *prefix* such as ``/tmp/model/model.ckpt-1000`` and is made of:

``<prefix>.safetensors``
    The tensors, in the `safetensors <https://github.com/huggingface/safetensors>`_ container,
    so other tools (the ``safetensors`` package, numpy, ...) can open it::

        8 bytes   N, the header length (unsigned little-endian)
        N bytes   JSON header, padded with spaces to a multiple of 8:
                  {"W": {"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 24]}, ...,
                   "__metadata__": {"format": "headwater.checkpoint", "version": "1",
                                    "crc32": "{\\"W\\": \\"1a2b3c4d\\", ...}"}}
        ...       the raw little-endian bytes of every tensor, back to back, in header order;
                  offsets are relative to the end of the header

    Tensor names are the variables' checkpoint keys (by default the variable op names: "W",
    "layer1/kernel"). dtypes: F16 F32 F64 BF16 I8 I16 I32 I64 U8 U16 U32 U64 BOOL, and C64/C128
    for complex64/complex128 (a headwater extension). ``__metadata__.crc32`` maps each tensor to
    the CRC-32 (zlib polynomial, 8 hex digits) of its bytes: the data file is self-describing
    and self-checking.

``<prefix>.index``
    A small JSON document written after the data file; its presence is what makes the
    checkpoint exist (``checkpoint_exists``)::

        {"format": "headwater.checkpoint.index", "version": 1,
         "data_file": "model.ckpt-1000.safetensors", "data_size": 1234,
         "tensors": {"W": {"dtype": "float32", "shape": [3, 2], "offset": 0, "length": 24,
                           "crc32": "1a2b3c4d"}}}

``<prefix>.meta`` (optional)
    The meta graph (``export_meta_graph``; JSON, see `headwater.framework.meta_graph`).

``checkpoint``
    TF1's state file in the checkpoint directory, listing the latest and the kept checkpoints
    (see `headwater.train.checkpoint_management`).

Safety: every file is written to a temporary name in the same directory, flushed, fsynced and
renamed over its final name, and the directory is fsynced. The state file is updated only after
the checkpoint's files are complete, and old checkpoints are deleted only after that, so a crash
or a full disk during a save leaves the previous checkpoint intact and loadable. Reading
validates the header (offsets inside the file, sizes matching dtype and shape) and every
tensor's CRC-32, raising `DataLossError` naming the file; nothing is ever unpickled or executed.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import time
import zlib

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.train import checkpoint_management as _cm

__all__ = [
    "Saver",
    "SaverDef",
    "NewCheckpointReader",
    "CheckpointReader",
    "latest_checkpoint",
    "get_checkpoint_state",
    "checkpoint_exists",
    "update_checkpoint_state",
    "get_checkpoint_mtimes",
    "remove_checkpoint",
    "export_meta_graph",
    "import_meta_graph",
    "write_graph",
]

FORMAT_VERSION = 1
_FORMAT = "headwater.checkpoint"
_INDEX_FORMAT = "headwater.checkpoint.index"
_CHUNK = 32 << 20
# Below this many bytes a checksum is cheaper than starting a thread for it.
_THREAD_MIN = 1 << 20
_MAX_HEADER = 256 << 20

_ST_DTYPES = {
    "float16": "F16", "float32": "F32", "float64": "F64", "bfloat16": "BF16",
    "int8": "I8", "int16": "I16", "int32": "I32", "int64": "I64",
    "uint8": "U8", "uint16": "U16", "uint32": "U32", "uint64": "U64", "bool": "BOOL",
    "complex64": "C64", "complex128": "C128",
}
_FROM_ST = {v: k for k, v in _ST_DTYPES.items()}

latest_checkpoint = _cm.latest_checkpoint
get_checkpoint_state = _cm.get_checkpoint_state
checkpoint_exists = _cm.checkpoint_exists
update_checkpoint_state = _cm.update_checkpoint_state
get_checkpoint_mtimes = _cm.get_checkpoint_mtimes
remove_checkpoint = _cm.remove_checkpoint


def _np_dtype_of(name):
    return np.dtype(_dtypes.as_dtype(name).as_numpy_dtype)


def _byte_view(arr):
    """A flat byte memoryview of `arr` in little-endian C order (no copy when it already is)."""
    if arr.dtype.byteorder == ">" or not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    if arr.ndim == 0:
        arr = arr.reshape(1)
    return memoryview(arr).cast("B"), arr


# ---- writing ------------------------------------------------------------------------------


def _build_header(entries, crcs):
    header = {}
    for name, dtname, shape, start, end in entries:
        header[name] = {"dtype": _ST_DTYPES[dtname], "shape": list(shape),
                        "data_offsets": [start, end]}
    header["__metadata__"] = {"format": _FORMAT, "version": str(FORMAT_VERSION),
                              "crc32": json.dumps(crcs, sort_keys=True)}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    return raw


def write_tensors(prefix, tensors):
    """Write `tensors` (a list of (name, numpy array)) as checkpoint `prefix`.

    The data file is written first, then the index; both atomically. Returns the index dict.
    CRC-32s are computed on a worker thread while the main thread writes (zlib releases the
    GIL), so checksumming adds little to the time of the write itself.
    """
    entries = []
    views = []
    offset = 0
    for name, arr in tensors:
        arr = np.asarray(arr)
        dt = _dtypes.as_dtype(arr.dtype)
        if dt.name not in _ST_DTYPES:
            raise TypeError("Cannot save tensor %r of dtype %s in a checkpoint." % (name,
                                                                                   dt.name))
        view, keep = _byte_view(arr)
        n = view.nbytes
        entries.append((name, dt.name, arr.shape, offset, offset + n))
        views.append((view, keep))
        offset += n
    placeholder = {e[0]: "00000000" for e in entries}
    header = _build_header(entries, placeholder)
    crcs = {}
    data_path = prefix + _cm.DATA_SUFFIX

    def write_data(f):
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        fd = f.fileno()
        f.flush()
        pending = [None]
        result = {}
        lock = threading.Lock()

        def crc_job(key, mv, seed):
            result[key] = zlib.crc32(mv, seed)

        for (name, _, _, _, _), (view, _) in zip(entries, views):
            crc = 0
            for i in range(0, max(len(view), 1), _CHUNK):
                chunk = view[i:i + _CHUNK]
                if len(chunk) < _THREAD_MIN:
                    crc = zlib.crc32(chunk, crc)
                    _write_all(fd, chunk)
                    continue
                t = threading.Thread(target=crc_job, args=(name, chunk, crc))
                t.start()
                pending[0] = t
                _write_all(fd, chunk)
                t.join()
                with lock:
                    crc = result[name]
            crcs[name] = "%08x" % (crc & 0xFFFFFFFF)
        final = _build_header(entries, crcs)
        if len(final) != len(header):  # cannot happen: CRCs are fixed width
            raise AssertionError("checkpoint header changed size")
        os.lseek(fd, 8, os.SEEK_SET)
        _write_all(fd, memoryview(final))
        f.seek(0, os.SEEK_END)

    _cm.atomic_write(data_path, write_data)
    total = 8 + len(header) + offset
    index = {"format": _INDEX_FORMAT, "version": FORMAT_VERSION,
             "data_file": os.path.basename(data_path), "data_size": total,
             "tensors": {name: {"dtype": dt, "shape": list(shape), "offset": s,
                                "length": e - s, "crc32": crcs[name]}
                         for name, dt, shape, s, e in entries}}
    _cm.atomic_write_bytes(prefix + _cm.INDEX_SUFFIX, json.dumps(index, indent=1,
                                                                 sort_keys=True))
    return index


def _write_all(fd, mv):
    # os.write may write less than asked (signals, pipes); loop until everything is written.
    n = len(mv)
    done = 0
    while done < n:
        done += os.write(fd, mv[done:])


# ---- reading ------------------------------------------------------------------------------


def _data_loss(path, msg):
    return errors.DataLossError(None, None, "%s (file: %s)" % (msg, path))


class CheckpointReader:
    """Read tensors of a checkpoint without a graph (TF1's `NewCheckpointReader`).

    The header is read and validated on construction; tensor bytes are read on demand and
    verified against their CRC-32.
    """

    def __init__(self, checkpoint_prefix):
        prefix = _cm.strip_checkpoint_suffix(os.fspath(checkpoint_prefix))
        self._prefix = prefix
        data_path = prefix + _cm.DATA_SUFFIX
        if not os.path.isfile(prefix + _cm.INDEX_SUFFIX) and not os.path.isfile(data_path):
            raise errors.NotFoundError(None, None, "Unsuccessful TensorSliceReader constructor: "
                                       "Failed to find any matching files for %s" % prefix)
        if not os.path.isfile(data_path):
            raise _data_loss(data_path, "Checkpoint data file is missing")
        self._path = data_path
        self._entries, self._crcs, self._data_start = _read_header(data_path)

    # TF1 names
    def get_variable_to_shape_map(self):
        """{tensor name: list of dims}."""
        return {k: list(e[1]) for k, e in self._entries.items()}

    def get_variable_to_dtype_map(self):
        """{tensor name: DType}."""
        return {k: _dtypes.as_dtype(e[0]) for k, e in self._entries.items()}

    def has_tensor(self, name):
        return name in self._entries

    def debug_string(self):
        return "".join("%s (%s) %s\n" % (k, e[0], list(e[1]))
                       for k, e in sorted(self._entries.items())).encode("utf-8")

    @property
    def file_path(self):
        return self._path

    def _check_key(self, name):
        if name not in self._entries:
            raise errors.NotFoundError(None, None, "Key %s not found in checkpoint %s"
                                       % (name, self._prefix))

    def get_tensor(self, name):
        """The value of tensor `name` (a new numpy array)."""
        self._check_key(name)
        with open(self._path, "rb", buffering=0) as f:
            return self._read_into(f, name, None)

    def _read_into(self, f, name, out):
        dtname, shape, start, end = self._entries[name]
        npdt = _np_dtype_of(dtname)
        if out is None:
            out = np.empty(shape, dtype=npdt)
        mv = memoryview(out.reshape(-1) if out.ndim == 0 else out).cast("B")
        n = end - start
        f.seek(self._data_start + start)
        crc = 0
        done = 0
        worker = None
        box = [0]

        def crc_job(chunk, seed):
            box[0] = zlib.crc32(chunk, seed)

        # Checksum chunk i on a worker thread while chunk i+1 is read.
        while done < n:
            chunk = mv[done:min(done + _CHUNK, n)]
            got = 0
            while got < len(chunk):
                r = f.readinto(chunk[got:])
                if not r:
                    raise _data_loss(self._path, "Checkpoint file is truncated while reading "
                                     "tensor %s" % name)
                got += r
            if worker is not None:
                worker.join()
                crc = box[0]
                worker = None
            if got < _THREAD_MIN:
                crc = zlib.crc32(chunk, crc)
            else:
                worker = threading.Thread(target=crc_job, args=(chunk, crc))
                worker.start()
            done += got
        if worker is not None:
            worker.join()
            crc = box[0]
        expected = self._crcs.get(name)
        actual = "%08x" % (crc & 0xFFFFFFFF)
        if expected is not None and expected != actual:
            raise _data_loss(self._path, "Checksum does not match: stored %s vs. calculated on "
                             "the restored bytes %s for tensor %s" % (expected, actual, name))
        if npdt.byteorder == ">" or (npdt.byteorder == "=" and not _LITTLE):
            out = out.byteswap()
        return out


_LITTLE = np.little_endian


def _read_header(path):
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise _data_loss(path, "Checkpoint file is truncated (no header)")
            (n,) = struct.unpack("<Q", head)
            if n > size - 8 or n > _MAX_HEADER:
                raise _data_loss(path, "Checkpoint header length %d exceeds the file size %d "
                                 "(truncated or corrupt file)" % (n, size))
            raw = f.read(n)
    except OSError as e:
        raise _cm.os_error_to_op_error(e, path, "read") from e
    try:
        header = json.loads(raw.decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("header is not a JSON object")
    except (ValueError, UnicodeDecodeError) as e:
        raise _data_loss(path, "Checkpoint header is not valid JSON: %s" % e) from None
    meta = header.pop("__metadata__", None) or {}
    crcs = {}
    if isinstance(meta, dict) and "crc32" in meta:
        try:
            crcs = json.loads(meta["crc32"])
            if not isinstance(crcs, dict):
                raise ValueError
        except (ValueError, TypeError):
            raise _data_loss(path, "Checkpoint checksum table is corrupt") from None
    data_len = size - 8 - n
    entries = {}
    for name, e in header.items():
        try:
            dtname = _FROM_ST[e["dtype"]]
            shape = tuple(int(d) for d in e["shape"])
            start, end = (int(x) for x in e["data_offsets"])
            if any(d < 0 for d in shape):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise _data_loss(path, "Checkpoint header entry for %r is invalid: %r"
                             % (name, e)) from None
        nbytes = int(np.prod(shape, dtype=np.int64)) * _np_dtype_of(dtname).itemsize
        if not (0 <= start <= end) or end - start != nbytes:
            raise _data_loss(path, "Checkpoint header entry for %r has offsets %s that do not "
                             "match dtype %s and shape %s" % (name, [start, end], dtname,
                                                              list(shape)))
        if end > data_len:
            raise _data_loss(path, "Checkpoint file is truncated: tensor %r needs bytes up to "
                             "%d but the data section has %d" % (name, end, data_len))
        entries[name] = (dtname, shape, start, end)
    return entries, crcs, 8 + n


def NewCheckpointReader(filepattern):  # noqa: N802 - TF1 name
    """A `CheckpointReader` for the checkpoint prefix `filepattern`."""
    return CheckpointReader(filepattern)


# ---- SaverDef ------------------------------------------------------------------------------


class SaverDef:
    """TF1's SaverDef: how a Saver is configured (kept in meta graphs).

    `variables` (a headwater addition) maps checkpoint keys to variable op names, so
    `import_meta_graph` can rebuild the Saver without graph save/restore ops.
    """

    V1 = 1
    V2 = 2
    LEGACY = 0
    _FIELDS = ("filename_tensor_name", "save_tensor_name", "restore_op_name", "max_to_keep",
               "sharded", "keep_checkpoint_every_n_hours", "version", "variables")

    def __init__(self, filename_tensor_name="save/Const:0",
                 save_tensor_name="save/control_dependency:0",
                 restore_op_name="save/restore_all", max_to_keep=5, sharded=False,
                 keep_checkpoint_every_n_hours=10000.0, version=2, variables=None):
        self.filename_tensor_name = filename_tensor_name
        self.save_tensor_name = save_tensor_name
        self.restore_op_name = restore_op_name
        self.max_to_keep = max_to_keep
        self.sharded = sharded
        self.keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self.version = version
        self.variables = dict(variables or {})

    def to_json_obj(self):
        return {k: getattr(self, k) for k in self._FIELDS}

    @classmethod
    def from_json_obj(cls, d):
        return cls(**{k: d[k] for k in cls._FIELDS if k in d})

    def __eq__(self, other):
        return isinstance(other, SaverDef) and self.to_json_obj() == other.to_json_obj()

    def __repr__(self):
        return "SaverDef(%r)" % self.to_json_obj()


# ---- Saver ---------------------------------------------------------------------------------


def _is_variable(v):
    from headwater.ops.variables import Variable

    return isinstance(v, Variable)


def _var_op(v):
    """The VariableV2 op behind a Variable, its tensor, or the op itself."""
    if _is_variable(v):
        return v.op
    if isinstance(v, _ops.Tensor) and v.op.type in ("VariableV2", "Variable"):
        return v.op
    if isinstance(v, _ops.Operation) and v.type in ("VariableV2", "Variable"):
        return v
    raise TypeError("Variable to save is not a Variable: %r" % (v,))


def _var_list_to_dict(var_list):
    """{checkpoint key: VariableV2 op}, keys being op names for lists (as TF1)."""
    out = {}
    if isinstance(var_list, dict):
        for k, v in var_list.items():
            if not isinstance(k, str):
                raise TypeError("var_list keys must be strings (checkpoint names), got %r"
                                % (k,))
            out[k] = _var_op(v)
        return out
    if not isinstance(var_list, (list, tuple, set)):
        raise TypeError("A non-collection (%s) was passed as var_list; use a list or a dict."
                        % type(var_list).__name__)
    for v in var_list:
        op = _var_op(v)
        name = op.name
        if name in out and out[name] is not op:
            raise ValueError("At least two variables have the same name: %s" % name)
        out[name] = op
    return out


def _shape_str(shape):
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


class Saver:
    """Saves and restores variables (TF1's `tf.train.Saver`).

    Values are read from and written to the session's variable store directly: no graph ops
    are added, so creating a Saver is cheap and does not change the graph.

    Args:
      var_list: variables to save: a list (keys are the variables' op names) or a dict
        {checkpoint key: variable}. Default: all global variables and saveable objects.
      reshape: allow restoring a variable from a checkpoint tensor of a different shape with
        the same number of elements.
      sharded: accepted; headwater always writes one data file.
      max_to_keep: how many recent checkpoints to keep (None or 0: keep all).
      keep_checkpoint_every_n_hours: additionally keep one checkpoint per this many hours.
      name: accepted for TF1 compatibility.
      allow_empty: allow a Saver with nothing to save.
      pad_step_number: format the global step with 8 digits ("model-00000100").
      save_relative_paths: write paths relative to the checkpoint directory in the state file.
      saver_def: build from a `SaverDef` (as `import_meta_graph` does).
    """

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=2, pad_step_number=False, save_relative_paths=False,
                 filename=None):
        if defer_build and var_list:
            raise ValueError("If `var_list` is provided then build cannot be deferred. Either "
                             "set defer_build=False or var_list=None.")
        self._graph = _ops.get_default_graph()
        self._reshape = reshape
        self._sharded = sharded
        self._name = name
        self._allow_empty = allow_empty
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._filename = filename
        self._write_version = write_version
        self._var_list = var_list
        self._var_map = None
        if saver_def is not None:
            max_to_keep = saver_def.max_to_keep
            keep_checkpoint_every_n_hours = saver_def.keep_checkpoint_every_n_hours
            if saver_def.variables and var_list is None:
                g = self._graph
                self._var_map = {k: g.get_operation_by_name(v)
                                 for k, v in saver_def.variables.items()}
        self._max_to_keep = max_to_keep
        self._keep_hours = keep_checkpoint_every_n_hours
        self._next_checkpoint_time = time.time() + keep_checkpoint_every_n_hours * 3600
        self._last_checkpoints = []  # [(path, timestamp)]
        self._to_delete = []
        self._last_preserved_timestamp = None
        self._saver_def = saver_def
        self._built = False
        if not defer_build:
            self.build()

    def build(self):
        """Resolve the variables to save (done on construction unless `defer_build`)."""
        if self._built:
            return
        if self._var_map is None:
            var_list = self._var_list
            if var_list is None:
                var_list = list(self._graph.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES))
                var_list += [v for v in self._graph.get_collection(
                    _ops.GraphKeys.SAVEABLE_OBJECTS) if _is_variable(v)]
            self._var_map = _var_list_to_dict(var_list)
        if not self._var_map and not self._allow_empty:
            raise ValueError("No variables to save")
        self._built = True
        if self._saver_def is None:
            self._saver_def = SaverDef(max_to_keep=self._max_to_keep or 0,
                                       sharded=self._sharded,
                                       keep_checkpoint_every_n_hours=self._keep_hours,
                                       version=self._write_version)
        self._saver_def.variables = {k: op.name for k, op in self._var_map.items()}

    def _check_built(self):
        if not self._built:
            raise RuntimeError("`build()` should be called before save if defer_build==True")

    @property
    def saver_def(self):
        self._check_built()
        return self._saver_def

    def as_saver_def(self):
        """The `SaverDef` describing this saver."""
        return self.saver_def

    def to_proto(self, export_scope=None):
        return self.saver_def

    # ---- bookkeeping of kept checkpoints ------------------------------------------------------
    @property
    def last_checkpoints(self):
        """Prefixes of the kept checkpoints, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints):
        """Deprecated: use `set_last_checkpoints_with_time`."""
        if not isinstance(last_checkpoints, list):
            raise TypeError("last_checkpoints must be a list")
        self._last_checkpoints = [(p, None) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        """Set the kept checkpoints from a list of (prefix, timestamp), oldest first."""
        if not isinstance(last_checkpoints_with_time, list):
            raise TypeError("last_checkpoints_with_time must be a list")
        self._last_checkpoints = [(p, t) for p, t in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths):
        """Adopt `checkpoint_paths` (those that exist, with their file times) as the kept
        checkpoints, e.g. after a restart: `saver.recover_last_checkpoints(
        ckpt.all_model_checkpoint_paths)`."""
        existing = [p for p in checkpoint_paths if _cm.checkpoint_exists(p)]
        mtimes = _cm.get_checkpoint_mtimes(existing)
        self.set_last_checkpoints_with_time(list(zip(existing, mtimes)))

    def _record_last_checkpoint(self, path):
        # Old checkpoints leave the list now but their files go only after the state file
        # no longer names them (`_maybe_delete_old_checkpoints`), as TF1.
        if not self._max_to_keep:
            return
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != path]
        self._last_checkpoints.append((path, time.time()))
        while len(self._last_checkpoints) > self._max_to_keep:
            self._to_delete.append(self._last_checkpoints.pop(0))

    def _maybe_delete_old_checkpoints(self, meta_graph_suffix):
        while self._to_delete:
            p, t = self._to_delete.pop(0)
            if self._keep_hours and t is not None and t > self._next_checkpoint_time:
                # Preserved: one checkpoint per keep_checkpoint_every_n_hours survives.
                self._next_checkpoint_time += self._keep_hours * 3600
                self._last_preserved_timestamp = t
                continue
            _cm.remove_checkpoint(p, meta_graph_suffix=meta_graph_suffix)

    # ---- save / restore ----------------------------------------------------------------------
    def _values_for(self, sess):
        variables = sess._state.variables
        out = []
        for key in sorted(self._var_map):
            op = self._var_map[key]
            if op.graph is not sess.graph:
                raise ValueError("Variable %s is not an element of the session's graph."
                                 % op.name)
            v = variables.get(op)
            if v is None:
                raise errors.FailedPreconditionError(
                    None, op, "Attempting to use uninitialized value %s" % op.name)
            out.append((key, v))
        return out

    def save(self, sess, save_path, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True,
             strip_default_attrs=False, save_debug_info=False):
        """Save the variables' values in `sess` as checkpoint `save_path[-global_step]`.

        Args:
          sess: the Session holding the values.
          save_path: checkpoint prefix, e.g. "/tmp/model/model.ckpt".
          global_step: optional int (or Tensor/Variable, evaluated in `sess`) appended to the
            prefix as "-<step>".
          latest_filename: name of the state file (default "checkpoint").
          meta_graph_suffix: suffix of the meta graph file.
          write_meta_graph: also write "<prefix>.meta".
          write_state: update the state file and rotate old checkpoints.
        Returns:
          The checkpoint prefix written (e.g. "/tmp/model/model.ckpt-1000").
        Raises:
          TypeError: if `sess` is not a Session.
          ValueError: if the parent directory does not exist.
          errors.ResourceExhaustedError: if the disk is full (the previous checkpoint is kept).
        """
        self._check_built()
        from headwater.client.session import BaseSession

        if latest_filename is None:
            latest_filename = "checkpoint"
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        if not isinstance(sess, BaseSession):
            raise TypeError("'sess' must be a Session; %s" % (sess,))
        save_path = os.fspath(save_path)
        if global_step is not None:
            if not isinstance(global_step, (int, np.integer)):
                global_step = int(sess.run(global_step))
            fmt = "%s-%08d" if self._pad_step_number else "%s-%d"
            checkpoint_file = fmt % (save_path, int(global_step))
        else:
            checkpoint_file = save_path
            if os.path.basename(save_path) == latest_filename and not self._sharded:
                raise ValueError("'latest_filename' collides with 'save_path': '%s' and '%s'"
                                 % (latest_filename, save_path))
        save_dir = os.path.dirname(save_path)
        if save_dir and not os.path.isdir(save_dir):
            raise ValueError("Parent directory of %s doesn't exist, can't save." % save_path)
        with sess._state.lock:
            values = self._values_for(sess)
            write_tensors(checkpoint_file, values)
        if write_meta_graph:
            meta = _cm.meta_graph_filename(checkpoint_file, meta_graph_suffix)
            self.export_meta_graph(meta, strip_default_attrs=strip_default_attrs)
        if write_state:
            self._record_last_checkpoint(checkpoint_file)
            paths = self.last_checkpoints
            stamps = [t for _, t in self._last_checkpoints]
            if any(t is None for t in stamps):
                stamps = None
            _cm.update_checkpoint_state(
                save_dir, checkpoint_file, paths, latest_filename,
                all_model_checkpoint_timestamps=stamps,
                last_preserved_timestamp=self._last_preserved_timestamp,
                save_relative_paths=self._save_relative_paths)
            self._maybe_delete_old_checkpoints(meta_graph_suffix)
        return checkpoint_file

    def restore(self, sess, save_path):
        """Restore the saved variables' values into `sess` from checkpoint `save_path`.

        Every requested key, dtype and shape is checked against the checkpoint header before
        any variable changes; each tensor's checksum is verified before it is assigned.
        Raises:
          ValueError: if `save_path` is None or not a valid checkpoint.
          errors.NotFoundError: listing the variables missing from the checkpoint.
          errors.InvalidArgumentError: on a dtype or shape mismatch (naming the variable).
          errors.DataLossError: corrupt or truncated files (naming the file).
        """
        self._check_built()
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        save_path = os.fspath(save_path)
        if not _cm.checkpoint_exists(save_path):
            raise ValueError("The passed save_path is not a valid checkpoint: " + save_path)
        reader = CheckpointReader(save_path)
        entries = reader._entries
        missing = sorted(k for k in self._var_map if k not in entries)
        if missing:
            raise errors.NotFoundError(
                None, None, "Restoring from checkpoint failed. Key %s not found in checkpoint "
                "%s. Keys missing from the checkpoint (%d): %s. This is most likely due to a "
                "Variable name or other graph key that is missing from the checkpoint. Please "
                "ensure that you have not altered the graph expected based on the checkpoint."
                % (missing[0], reader._prefix, len(missing), ", ".join(missing)))
        plan = []
        for key in sorted(self._var_map, key=lambda k: entries[k][2]):
            op = self._var_map[key]
            dtname, shape, _, _ = entries[key]
            var_dtype = op._attrs["dtype"].base_dtype
            if var_dtype.name != dtname:
                raise errors.InvalidArgumentError(
                    None, op, "Restoring from checkpoint failed for variable %s (checkpoint key "
                    "%s): the checkpoint has dtype %s but the variable has dtype %s"
                    % (op.name, key, dtname, var_dtype.name))
            dims = op._attrs["shape"]._dims
            target = shape
            if dims is not None and (len(dims) != len(shape) or any(
                    d is not None and d != s for d, s in zip(dims, shape))):
                n_ck = int(np.prod(shape, dtype=np.int64))
                if self._reshape and None not in dims and int(np.prod(
                        dims, dtype=np.int64)) == n_ck:
                    target = tuple(dims)
                else:
                    raise errors.InvalidArgumentError(
                        None, op, "Restoring from checkpoint failed for variable %s (checkpoint "
                        "key %s): the checkpoint has shape %s but the variable has shape %s. "
                        "Assign requires shapes of both tensors to match. lhs shape= %s rhs "
                        "shape= %s" % (op.name, key, _shape_str(shape), _shape_str(dims),
                                       _shape_str(dims), _shape_str(shape)))
            plan.append((key, op, target))
        variables = sess._state.variables
        try:
            f = open(reader._path, "rb", buffering=0)
        except OSError as e:
            raise _cm.os_error_to_op_error(e, reader._path, "read") from e
        with f, sess._state.lock:
            for key, op, target in plan:
                value = reader._read_into(f, key, None)
                if value.shape != target:
                    value = value.reshape(target)
                variables[op] = value

    # ---- meta graph ----------------------------------------------------------------------------
    def export_meta_graph(self, filename=None, collection_list=None, as_text=False,
                          export_scope=None, clear_devices=False,
                          clear_extraneous_savers=False, strip_default_attrs=False,
                          save_debug_info=False):
        """Write the graph with this saver's SaverDef (see `export_meta_graph`)."""
        from headwater.framework import meta_graph

        return meta_graph.export_meta_graph(
            filename=filename, graph=self._graph, saver_def=self.saver_def,
            collection_list=collection_list, as_text=as_text, export_scope=export_scope,
            clear_devices=clear_devices, strip_default_attrs=strip_default_attrs)


def export_meta_graph(*args, **kwargs):
    """See `headwater.framework.meta_graph.export_meta_graph`."""
    from headwater.framework import meta_graph

    return meta_graph.export_meta_graph(*args, **kwargs)


def import_meta_graph(*args, **kwargs):
    """See `headwater.framework.meta_graph.import_meta_graph`."""
    from headwater.framework import meta_graph

    return meta_graph.import_meta_graph(*args, **kwargs)


def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    """Write a graph to `logdir/name`: JSON text (`as_text=True`) or the binary GraphDef
    protocol buffer (needs tensorboard). Returns the path written."""
    from headwater.framework import graph_def as _gd

    g = graph_or_graph_def
    if isinstance(g, _ops.Graph):
        g = g.as_graph_def()
    elif not isinstance(g, _gd.GraphDef):
        g = _gd._as_graph_def(g)
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    data = g.to_json(indent=1) if as_text else g.SerializeToString()
    _cm.atomic_write_bytes(path, data)
    return path


# The checkpoint utilities live in their own module; re-exported here so `tf.train` gets them
# from one import of this module.
from headwater.train import checkpoint_utils as _checkpoint_utils  # noqa: E402
from headwater.train.checkpoint_utils import *  # noqa: F401,F403,E402

__all__ += _checkpoint_utils.__all__
