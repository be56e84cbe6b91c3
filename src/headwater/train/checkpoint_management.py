"""The `checkpoint` state file and checkpoint bookkeeping (TF1's `checkpoint_management`).

The state file lives in the checkpoint directory (default name "checkpoint") and is TF1's
`CheckpointState` protocol buffer in text format, so TF tooling reads it::

    model_checkpoint_path: "model.ckpt-1000"
    all_model_checkpoint_paths: "model.ckpt-900"
    all_model_checkpoint_paths: "model.ckpt-1000"
    all_model_checkpoint_timestamps: 1700000000.5
    all_model_checkpoint_timestamps: 1700000100.25
    last_preserved_timestamp: 1699999999.0

Every file here and in the saver is written atomically (`atomic_write`): to a temporary name in
the same directory, flushed, fsynced, renamed over the target and the directory fsynced, so a
crash or a full disk leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import errno
import os
import re
import time

from headwater.framework import errors

__all__ = [
    "CheckpointState",
    "checkpoint_exists",
    "generate_checkpoint_state_proto",
    "get_checkpoint_mtimes",
    "get_checkpoint_state",
    "latest_checkpoint",
    "remove_checkpoint",
    "update_checkpoint_state",
]

INDEX_SUFFIX = ".index"
DATA_SUFFIX = ".safetensors"


# ---- atomic files ----------------------------------------------------------------------------


def _fsync_dir(dirname):
    try:
        fd = os.open(dirname or ".", os.O_RDONLY)
    except OSError:
        return  # e.g. platforms that cannot open directories
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def os_error_to_op_error(e, path, what="write"):
    """A TF-style OpError for an OSError on `path` (the OSError stays as __cause__)."""
    msg = "Failed to %s %s: %s" % (what, path, e.strerror or e)
    code = e.errno
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return errors.ResourceExhaustedError(None, None, msg)
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return errors.PermissionDeniedError(None, None, msg)
    if code == errno.ENOENT:
        return errors.NotFoundError(None, None, msg)
    return errors.UnknownError(None, None, msg)


def _tmp_name(path):
    d, b = os.path.split(path)
    return os.path.join(d, ".%s.tmp%d.%d" % (b, os.getpid(), time.monotonic_ns() % 10**9))


def atomic_write(path, writer):
    """Write `path` atomically: `writer(fileobj)` fills a temporary file in the same directory,
    which is then flushed, fsynced and renamed over `path`; the directory is fsynced.

    On any failure the temporary file is removed, `path` is untouched, and OSErrors are raised
    as TF OpErrors (ResourceExhaustedError for a full disk).
    """
    tmp = _tmp_name(path)
    try:
        with open(tmp, "wb") as f:
            writer(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise os_error_to_op_error(e, path) from e
        raise
    _fsync_dir(os.path.dirname(path))


def atomic_write_bytes(path, data):
    """Atomically replace `path` with `data` (bytes or str)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    atomic_write(path, lambda f: f.write(data))


# ---- CheckpointState text format -----------------------------------------------------------


def _c_escape(s):
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "'":
            out.append("\\'")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif b < 0x20 or b >= 0x7F:
            out.append("\\%03o" % b)
        else:
            out.append(c)
    return "".join(out)


_SIMPLE_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", "'": b"'", '"': b'"',
                   "a": b"\a", "b": b"\b", "f": b"\f", "v": b"\v", "?": b"?"}


def _c_unescape(s):
    out = bytearray()
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        i += 1
        if i >= n:
            raise ValueError("dangling escape")
        c = s[i]
        if c in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[c]
            i += 1
        elif c in "01234567":
            j = i
            while j < n and j < i + 3 and s[j] in "01234567":
                j += 1
            out.append(int(s[i:j], 8) & 0xFF)
            i = j
        elif c == "x":
            j = i + 1
            while j < n and j < i + 3 and s[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(s[i + 1:j], 16))
            i = j
        else:
            raise ValueError("bad escape \\%s" % c)
    return out.decode("utf-8", errors="surrogateescape")


def _format_double(x):
    # text_format prints doubles with the shortest repr that round-trips.
    r = repr(float(x))
    return r


class CheckpointState:
    """TF1's CheckpointState message: the latest checkpoint and the ones still kept."""

    def __init__(self, model_checkpoint_path="", all_model_checkpoint_paths=None,
                 all_model_checkpoint_timestamps=None, last_preserved_timestamp=0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths or [])
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps or [])
        self.last_preserved_timestamp = last_preserved_timestamp

    def __eq__(self, other):
        return isinstance(other, CheckpointState) and vars(self) == vars(other)

    def __repr__(self):
        return "CheckpointState(%r)" % vars(self)

    def __str__(self):
        return self.to_text()

    def to_text(self):
        """The text-format protobuf (what TF's `text_format.MessageToString` writes)."""
        lines = []
        if self.model_checkpoint_path:
            lines.append('model_checkpoint_path: "%s"' % _c_escape(self.model_checkpoint_path))
        for p in self.all_model_checkpoint_paths:
            lines.append('all_model_checkpoint_paths: "%s"' % _c_escape(p))
        for t in self.all_model_checkpoint_timestamps:
            lines.append("all_model_checkpoint_timestamps: %s" % _format_double(t))
        if self.last_preserved_timestamp:
            lines.append("last_preserved_timestamp: %s"
                         % _format_double(self.last_preserved_timestamp))
        return "".join(line + "\n" for line in lines)

    _LINE = re.compile(r'^\s*([A-Za-z_]+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$')

    @classmethod
    def from_text(cls, text):
        """Parse the text format; raises ValueError on malformed input."""
        st = cls()
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = cls._LINE.match(line)
            if m is None:
                raise ValueError("line %d: cannot parse %r" % (lineno, line))
            key, sval, nval = m.groups()
            if key in ("model_checkpoint_path", "all_model_checkpoint_paths"):
                if sval is None:
                    raise ValueError("line %d: %s needs a quoted string" % (lineno, key))
                v = _c_unescape(sval)
                if key == "model_checkpoint_path":
                    st.model_checkpoint_path = v
                else:
                    st.all_model_checkpoint_paths.append(v)
            elif key in ("all_model_checkpoint_timestamps", "last_preserved_timestamp"):
                v = float(nval if nval is not None else sval)
                if key == "last_preserved_timestamp":
                    st.last_preserved_timestamp = v
                else:
                    st.all_model_checkpoint_timestamps.append(v)
            # Unknown fields are skipped, as a newer writer may add some.
        return st


def generate_checkpoint_state_proto(save_dir, model_checkpoint_path,
                                    all_model_checkpoint_paths=None,
                                    all_model_checkpoint_timestamps=None,
                                    last_preserved_timestamp=None):
    """A CheckpointState; `model_checkpoint_path` is appended to the list if not last.

    Relative paths in the result are relative to `save_dir` when `save_dir` is relative too
    (as TF1 does).
    """
    if all_model_checkpoint_paths is None:
        all_model_checkpoint_paths = []
    all_model_checkpoint_paths = list(all_model_checkpoint_paths)
    if not all_model_checkpoint_paths or \
            all_model_checkpoint_paths[-1] != model_checkpoint_path:
        all_model_checkpoint_paths.append(model_checkpoint_path)
    if all_model_checkpoint_timestamps and \
            len(all_model_checkpoint_timestamps) != len(all_model_checkpoint_paths):
        raise ValueError("Checkpoint timestamps, if provided, must match checkpoint paths (got "
                         "paths %r and timestamps %r)" % (all_model_checkpoint_paths,
                                                          all_model_checkpoint_timestamps))
    if not os.path.isabs(save_dir):
        if not os.path.isabs(model_checkpoint_path):
            model_checkpoint_path = os.path.relpath(model_checkpoint_path, save_dir)
        all_model_checkpoint_paths = [p if os.path.isabs(p) else os.path.relpath(p, save_dir)
                                      for p in all_model_checkpoint_paths]
    return CheckpointState(model_checkpoint_path, all_model_checkpoint_paths,
                           all_model_checkpoint_timestamps or [],
                           last_preserved_timestamp or 0.0)


def _state_path(save_dir, latest_filename):
    return os.path.join(save_dir, latest_filename or "checkpoint")


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None, save_relative_paths=False):
    """Atomically (re)write the state file in `save_dir`.

    Args:
      save_dir: the checkpoint directory.
      model_checkpoint_path: the latest checkpoint prefix.
      all_model_checkpoint_paths: kept checkpoints, oldest first (the latest is appended if it
        is not last).
      latest_filename: state file name (default "checkpoint").
      all_model_checkpoint_timestamps: save times matching `all_model_checkpoint_paths`.
      last_preserved_timestamp: time of the last checkpoint kept by
        `keep_checkpoint_every_n_hours`.
      save_relative_paths: store paths relative to `save_dir`.
    """
    if save_relative_paths:
        def rel(p):
            return os.path.relpath(p, save_dir) if os.path.isabs(p) else \
                os.path.basename(p) if os.path.dirname(p) == save_dir else p
        model_checkpoint_path = rel(model_checkpoint_path)
        all_model_checkpoint_paths = [rel(p) for p in (all_model_checkpoint_paths or [])]
        st = CheckpointState(model_checkpoint_path, all_model_checkpoint_paths,
                             all_model_checkpoint_timestamps or [],
                             last_preserved_timestamp or 0.0)
        if not st.all_model_checkpoint_paths or \
                st.all_model_checkpoint_paths[-1] != model_checkpoint_path:
            st.all_model_checkpoint_paths.append(model_checkpoint_path)
    else:
        st = CheckpointState(model_checkpoint_path, all_model_checkpoint_paths,
                             all_model_checkpoint_timestamps or [],
                             last_preserved_timestamp or 0.0)
        if not st.all_model_checkpoint_paths or \
                st.all_model_checkpoint_paths[-1] != model_checkpoint_path:
            st.all_model_checkpoint_paths.append(model_checkpoint_path)
    path = _state_path(save_dir, latest_filename)
    if path == model_checkpoint_path:
        raise RuntimeError("Save path '%s' conflicts with path used for checkpoint state.  "
                           "Please use a different save path." % model_checkpoint_path)
    atomic_write_bytes(path, st.to_text())


def _resolve(checkpoint_dir, p):
    if os.path.isabs(p):
        return p
    joined = os.path.join(checkpoint_dir, p)
    # TF1 joins relative paths with the directory; paths written relative to the working
    # directory (a relative save_path) still resolve when that is where they are.
    if not checkpoint_exists(joined) and checkpoint_exists(p):
        return p
    return joined


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The CheckpointState from `checkpoint_dir`'s state file, or None if there is none.

    Relative paths are resolved against `checkpoint_dir` (as TF1).
    Raises:
      errors.DataLossError: if the state file exists but cannot be parsed.
    """
    path = _state_path(checkpoint_dir, latest_filename)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return None
    try:
        st = CheckpointState.from_text(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise errors.DataLossError(None, None, "Unable to parse checkpoint state file %s: %s"
                                   % (path, e)) from None
    if not st.model_checkpoint_path:
        raise errors.DataLossError(None, None, "Invalid checkpoint state loaded from %s"
                                   % path)
    st.model_checkpoint_path = _resolve(checkpoint_dir, st.model_checkpoint_path)
    st.all_model_checkpoint_paths = [_resolve(checkpoint_dir, p)
                                     for p in st.all_model_checkpoint_paths]
    return st


def checkpoint_exists(checkpoint_prefix):
    """True if a checkpoint with this prefix exists (its index file is present)."""
    if not checkpoint_prefix:
        return False
    prefix = strip_checkpoint_suffix(checkpoint_prefix)
    return os.path.isfile(prefix + INDEX_SUFFIX)


def strip_checkpoint_suffix(path):
    """Map "x.index"/"x.safetensors" to the prefix "x"; other paths are returned unchanged."""
    path = os.fspath(path)
    for suffix in (INDEX_SUFFIX, DATA_SUFFIX):
        if path.endswith(suffix) and not os.path.isfile(path + INDEX_SUFFIX):
            return path[:-len(suffix)]
    return path


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint in `checkpoint_dir` (from its state file), or None
    if there is no state file or the checkpoint it names is gone."""
    st = get_checkpoint_state(checkpoint_dir, latest_filename)
    if st and st.model_checkpoint_path and checkpoint_exists(st.model_checkpoint_path):
        return st.model_checkpoint_path
    return None


def get_checkpoint_mtimes(checkpoint_prefixes):
    """Modification times (seconds) of the index files of the checkpoints that exist."""
    out = []
    for p in checkpoint_prefixes:
        try:
            out.append(os.stat(strip_checkpoint_suffix(p) + INDEX_SUFFIX).st_mtime)
        except OSError:
            pass
    return out


def remove_checkpoint(checkpoint_prefix, checkpoint_format_version=2, meta_graph_suffix="meta"):
    """Delete the files of a checkpoint (index, data and meta graph), ignoring missing ones.

    The index goes first: without it the checkpoint no longer exists, whatever remains.
    """
    for suffix in (INDEX_SUFFIX, DATA_SUFFIX, "." + meta_graph_suffix):
        try:
            os.unlink(checkpoint_prefix + suffix)
        except FileNotFoundError:
            pass
        except OSError:
            pass


def meta_graph_filename(checkpoint_filename, meta_graph_suffix="meta"):
    """"model.ckpt-123" -> "model.ckpt-123.meta" (a "-?????-of-?????" shard suffix dropped)."""
    basename = re.sub(r"-[\d\?]+-of-\d+$", "", checkpoint_filename)
    return ".".join([basename, meta_graph_suffix])
