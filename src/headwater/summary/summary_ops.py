"""Summary ops: graph ops that evaluate to a serialized `Summary` proto (a string scalar).

Op types and naming follow TensorFlow 1.x: `tf.summary.scalar("xent", x)` inside
`name_scope("loss")` creates a `ScalarSummary` op named "loss/xent" whose tag input is the
constant "loss/xent/tags" holding "loss/xent"; a second "xent" in the same scope gets the
unique name and tag "loss/xent_1". With `family`, the tag is "<family>/<scope>" so TensorBoard
groups it under the family's tab. New summaries join `GraphKeys.SUMMARIES` (or `collections`),
which `merge_all` merges.

Kernels build TensorBoard's own protos with numpy values; the protobuf classes are imported
only when a summary op is created or run.
"""

from __future__ import annotations

import collections
import logging
import math
import re
import struct
import sys
import zlib

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.framework.op_registry import register_op
from headwater._native import _C

__all__ = ["scalar", "histogram", "image", "audio", "text", "tensor_summary", "merge",
           "merge_all", "get_summary_description"]

_SUMMARIES = _ops.GraphKeys.SUMMARIES
_SCALAR_STRING = _ts.TensorShape._from_tuple(())
_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")
_logger = logging.getLogger("headwater")
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_isfinite = math.isfinite
if _C is not None and not hasattr(_C, "histogram_collapse"):  # an older build of _C
    _C = None


def _pb():
    from headwater.summary import _protos

    return _protos


def _string_out(inputs, attrs):
    return [(_dtypes.string, _SCALAR_STRING)]


def _as_str(t):
    return t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t)


def _result(summary_pb):
    # A 0-d string tensor: Session.run hands the user the serialized bytes, as TF1 does.
    out = np.empty((), dtype=object)
    out[()] = summary_pb.SerializeToString()
    return out


def _bytes_result(data):
    out = np.empty((), dtype=object)
    out[()] = data
    return out


# The most recent outputs of summary kernels that never attach `SummaryMetadata` (scalar,
# histogram, their merges), by identity: `FileWriter.add_summary` then knows it has no
# plugin metadata to strip without walking the values. The dict holds the bytes objects
# themselves, so an id cannot be reused while it is listed.
_plain_outputs = {}
_plain_order = collections.deque()
_PLAIN_KEEP = 32


def _mark_metadata_free(data):
    key = id(data)
    if key not in _plain_outputs:
        _plain_outputs[key] = data
        order = _plain_order
        order.append(key)
        if len(order) > _PLAIN_KEEP:
            try:
                _plain_outputs.pop(order.popleft(), None)
            except IndexError:  # another thread emptied it meanwhile
                pass


def is_metadata_free(data):
    """True if the bytes object `data` is a recent output of summary ops known to carry no
    `SummaryMetadata` (False means: unknown)."""
    return _plain_outputs.get(id(data)) is data


# ---- naming ----------------------------------------------------------------------------------

def clean_tag(name):
    """Replace characters TensorBoard tags cannot hold with '_' and drop leading slashes."""
    if name is not None:
        new_name = _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")
        if new_name != name:
            _logger.info("Summary name %s is illegal; using %s instead.", name, new_name)
            name = new_name
    return name


class summary_scope:  # noqa: N801 - used like TF1's contextmanager function
    """`with summary_scope(name, family, values=...) as (tag, scope):` as TF1's helper."""

    __slots__ = ("_name", "_family", "_default_name", "_values", "_ns")

    def __init__(self, name, family=None, default_name=None, values=None):
        self._name = clean_tag(name)
        self._family = clean_tag(family)
        self._default_name = default_name
        self._values = values

    def __enter__(self):
        base = self._name if self._family is None else "%s/%s" % (self._family, self._name)
        self._ns = _ops.name_scope(base, self._default_name, self._values)
        scope = self._ns.__enter__()
        tag = scope.rstrip("/")
        if self._family is not None:
            # The family prefix again, so TensorBoard shows it in the family's tab.
            tag = "%s/%s" % (self._family, tag)
        return tag, scope

    def __exit__(self, *exc):
        return self._ns.__exit__(*exc)


def _const_tag(t):
    """The tag string of a 0-d Const tag input, known when the kernel is bound (summary ops
    always get one), else None."""
    op = t._op
    if op._type != "Const":
        return None
    v = op._attrs.get("value")
    if v is None or np.ndim(v) != 0:
        return None
    return _as_str(np.asarray(v).item())


def _collect(val, collections, default_collections):
    if collections is None:
        collections = default_collections
    for key in collections:
        _ops.add_to_collection(key, val)


def _const(value, name, dtype=_dtypes.string):
    from headwater.ops import array_ops

    return array_ops.constant(value, dtype=dtype, name=name)


def _create(op_type, inputs, attrs, scope):
    # `scope` ends with "/": the op takes the scope's own (already unique) name.
    g = inputs[0]._op._graph
    return g.create_op(op_type, inputs, attrs, name=scope)._outputs[0]


# ---- inference helpers ---------------------------------------------------------------------------

def _check_tag(op_type, t, param="tag"):
    if t._dtype.base_dtype != _dtypes.string:
        raise TypeError("Input '%s' of '%s' Op has type %s that does not match expected type "
                        "of string." % (param, op_type, t._dtype.name))


def _check_real(op_type, t, param):
    d = t._dtype.base_dtype
    if d == _dtypes.bool or not (d.is_floating or d.is_integer):
        raise TypeError("Value passed to parameter '%s' has DataType %s not in list of allowed "
                        "values: float32, float64, int32, uint8, int16, int8, int64, bfloat16, "
                        "uint16, float16, uint32, uint64 (op %s)" % (param, d.name, op_type))


def _known_dims(shape):
    dims = shape._dims
    if dims is None or any(d is None for d in dims):
        return None
    return dims


# ---- ScalarSummary -------------------------------------------------------------------------------

def _scalar_infer(inputs, attrs):
    tags, values = inputs
    _check_tag("ScalarSummary", tags, "tags")
    _check_real("ScalarSummary", values, "values")
    a, b = _known_dims(tags._shape), _known_dims(values._shape)
    if a is not None and b is not None and a != b:
        raise ValueError("tags and values not the same shape: %s != %s (tag '%s')"
                         % (_ts.TensorShape(a), _ts.TensorShape(b),
                            attrs.get("_tag", tags.op.name)))
    return _string_out(inputs, attrs)


def _scalar_general(op, ctx):
    def scalar_summary(tags, values):
        pb = _pb().summary_pb2.Summary()
        if type(tags) is not np.ndarray or tags.ndim == 0:
            if np.ndim(values) != 0:
                raise errors.InvalidArgumentError(
                    None, None, "tags and values not the same shape: [] != %s (tag '%s')"
                    % (list(np.shape(values)), _as_str(np.asarray(tags).item())))
            v = pb.value.add()
            v.tag = _as_str(tags[()] if type(tags) is np.ndarray else tags)
            v.simple_value = float(values)
            return _result(pb)
        values = np.asarray(values)
        if tags.shape != values.shape:
            raise errors.InvalidArgumentError(
                None, None, "tags and values not the same shape: %s != %s (tag '%s')"
                % (list(tags.shape), list(values.shape),
                   _as_str(tags.flat[0]) if tags.size else ""))
        for t, x in zip(tags.flat, values.flat):
            v = pb.value.add()
            v.tag = _as_str(t)
            v.simple_value = float(x)
        return _result(pb)
    return scalar_summary


def _scalar_template(tag):
    """(prefix, pack) such that `prefix + pack(x)` is the serialized one-value Summary of
    `tag` with simple_value x, or None if the protobuf classes lay it out otherwise.

    The bytes come from the protobuf classes: `simple_value` is a float in a oneof, so it is
    serialized even when 0 and always as the message's last 4 bytes (field 2 after the tag,
    field 1). Checked here against messages built the ordinary way, so a protobuf that
    serialized differently would just keep the per-run message path."""
    Summary = _pb().summary_pb2.Summary
    pack = struct.Struct("<f").pack

    def built(x):
        return Summary(value=[Summary.Value(tag=tag, simple_value=x)]).SerializeToString()

    prefix = built(0.0)[:-4]
    for x in (0.0, -0.0, 1.5, -3.25e-7, float("inf"), float("nan"), 3.0e38, 1e-45):
        if built(x) != prefix + pack(x):
            return None
    return prefix, pack


def _scalar_kernel(op, ctx):
    general = _scalar_general(op, ctx)
    tag = _const_tag(op._inputs[0])
    if tag is None:
        return general
    template = _scalar_template(tag)
    if template is None:
        return general
    # The tag is a constant: only the value's 4 bytes change from run to run.
    prefix, pack = template
    ndarray = np.ndarray
    empty = np.empty
    mark = _mark_metadata_free

    def scalar_summary(tags, values):
        if type(values) is ndarray and values.ndim:
            return general(tags, values)  # reports the shape mismatch
        try:
            data = prefix + pack(float(values))
        except OverflowError:  # beyond float32: the message path rounds it to +-inf
            return general(tags, values)
        out = empty((), dtype=object)
        out[()] = data
        mark(data)
        return out
    return scalar_summary


register_op("ScalarSummary", _scalar_infer, _scalar_kernel, stateful=False)


def scalar(name, tensor, collections=None, family=None):
    """A summary op holding one scalar value (TensorBoard's scalars tab).

    Args:
      name: summary name; with the enclosing name scopes it becomes the tag.
      tensor: a real numeric scalar tensor.
      collections: graph collections to add the op to (default `[GraphKeys.SUMMARIES]`).
      family: optional tag prefix grouping summaries in TensorBoard.

    Returns:
      A scalar string `Tensor`: the serialized `Summary` proto.

    Raises:
      ValueError: `tensor` is not a scalar (when its shape is known).
    """
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        tensor = _ops.convert_to_tensor(tensor)
        tags = _const(tag, "tags")
        val = _create("ScalarSummary", [tags, tensor], {"T": tensor.dtype.base_dtype,
                                                        "_tag": tag}, scope)
        _collect(val, collections, [_SUMMARIES])
    return val


# ---- HistogramSummary ----------------------------------------------------------------------------

_DBL_MAX = sys.float_info.max
_default_limits = []


def default_bucket_limits():
    """TensorFlow's default histogram bucket edges: 0, then +-1e-12 growing by 10% per bucket
    up to 1e20, closed by +-DBL_MAX (1551 edges). A value v goes in the bucket of the first
    edge greater than v."""
    if not _default_limits:
        pos = []
        v = 1.0e-12
        while v < 1.0e20:  # repeated multiplication, as TF does: the edges must match exactly
            pos.append(v)
            v *= 1.1
        pos.append(_DBL_MAX)
        neg = [-x for x in reversed(pos)]
        _default_limits.append(np.array(neg + [0.0] + pos, dtype=np.float64))
    return _default_limits[0]


_LOG_STEP = float(np.log(1.1))


def _bucket_index(v):
    """Index of the first default edge greater than each value: `searchsorted(limits, v,
    "right")`, but from the edges' geometric spacing (a logarithm, then a +-1 correction
    against the exact edges), which is several times faster than a binary search."""
    limits = default_bucket_limits()
    n_pos = (len(limits) - 1) // 2  # index of the 0.0 edge (775)
    pos = limits[n_pos + 1:]  # 1e-12, 1.1e-12, ..., DBL_MAX (776 edges)
    a = np.abs(v)
    neg = v < 0
    with np.errstate(divide="ignore", over="ignore"):
        est = np.floor(np.log(np.maximum(a, 1e-300) * 1e12) / _LOG_STEP) + 1
    c = np.clip(est, 0, len(pos) - 1).astype(np.intp)
    # c counts the edges <= a (positives) or < a (negatives); fix the estimate by one step.
    lo = pos[np.maximum(c - 1, 0)]
    hi = pos[c]
    too_high = (c > 0) & np.where(neg, lo >= a, lo > a)
    c -= too_high
    hi = np.where(too_high, lo, hi)
    too_low = (c < len(pos) - 1) & np.where(neg, hi < a, hi <= a)
    c += too_low
    return np.where(neg, n_pos - c, n_pos + 1 + c)


def _histogram_stats(v):
    """(counts per default bucket, min, max, sum, sum of squares) of a flat float64 array,
    in numpy. Sums are np.sum's pairwise order, as the native kernel adds them."""
    counts = np.bincount(_bucket_index(v), minlength=len(default_bucket_limits()))
    with np.errstate(over="ignore"):  # finite values may sum to infinity, as in TF
        return counts, float(v.min()), float(v.max()), float(v.sum()), float(np.sum(v * v))


def _nonfinite_error(v, tag):
    bad = "Nan" if np.isnan(v).any() else "Infinity"
    return errors.InvalidArgumentError(None, None, "%s in summary histogram for: %s" % (bad, tag))


def fill_histogram(pb, values, tag=None):
    """Fill the `HistogramProto` `pb` from `values` (any shape, real dtype) with TF's default
    buckets, empty bucket runs collapsed into one as TensorFlow encodes them.

    float32/float64 values are bucketed in `headwater._C` when it is built (several times
    faster than numpy); both paths give identical protos.

    Raises:
      InvalidArgumentError: `values` holds a NaN or infinity.
    """
    limits = default_bucket_limits()
    arr = values if type(values) is np.ndarray else np.asarray(values)
    if arr.size == 0:
        pb.min = _DBL_MAX
        pb.max = -_DBL_MAX
        pb.bucket_limit.append(_DBL_MAX)
        pb.bucket.append(0.0)
        return pb
    dt = arr.dtype
    if _C is not None and dt == _F32:
        counts, lo, hi, total, total_sq = _C.histogram_buckets_f32(arr, limits)
    elif _C is not None:
        if dt != _F64:
            arr = arr.astype(np.float64)
        counts, lo, hi, total, total_sq = _C.histogram_buckets_f64(arr, limits)
    else:
        arr = arr.astype(np.float64, copy=False).ravel()
        if not np.isfinite(arr).all():
            raise _nonfinite_error(arr, tag)
        counts, lo, hi, total, total_sq = _histogram_stats(arr)
    # A NaN or infinity makes the sum non-finite; a non-finite sum of finite values (overflow)
    # is legitimate, so look at the values only then.
    if not _isfinite(total):
        flat = arr.ravel()
        if not np.isfinite(flat).all():
            raise _nonfinite_error(flat, tag)
    pb.min = lo
    pb.max = hi
    pb.num = float(arr.size)
    pb.sum = total
    pb.sum_squares = total_sq
    if _C is not None:
        kept_limits, kept_counts = _C.histogram_collapse(counts, limits)
    else:
        nonzero = counts > 0
        # Keep non-empty buckets and the last bucket of each run of empty ones.
        keep = nonzero.copy()
        keep[:-1] |= nonzero[1:]
        keep[-1] = True
        kept_limits = limits[keep].tolist()
        kept_counts = counts[keep].astype(np.float64).tolist()
    pb.bucket_limit.extend(kept_limits)
    pb.bucket.extend(kept_counts)
    return pb


def histogram_proto(values, tag=None):
    """A new `HistogramProto` of `values` (see `fill_histogram`).

    Raises:
      InvalidArgumentError: `values` holds a NaN or infinity.
    """
    return fill_histogram(_pb().summary_pb2.HistogramProto(), values, tag)


def _histogram_infer(inputs, attrs):
    tag, values = inputs
    _check_tag("HistogramSummary", tag)
    _check_real("HistogramSummary", values, "values")
    return _string_out(inputs, attrs)


# ---- serialized HistogramProto without a Python float per bucket ----------------------------
#
# Filling `bucket_limit`/`bucket` through the message API creates a Python float per kept
# bucket (~180 for a 7840-value weight matrix), which costs more than the bucketing itself.
# Instead the proto's bytes are assembled from parts the protobuf classes serialize: the five
# scalar fields from a HistogramProto holding only them, and each packed repeated double field
# as the header the protobuf classes write for k values followed by the k little-endian
# doubles (which is what a packed double field's payload is). Fields 1-5 then 6 then 7 is the
# order the protobuf serializer uses, so the bytes equal a full message's serialization; the
# summary op parses them into its Summary message, so what is written is still produced by
# the protobuf classes. `_fast_histogram_ok` checks the assembly against the message API
# once and falls back to it if they ever differ.

_packed_headers = {}
_fast_histogram = []  # [bool] once checked


def _packed_header(k):
    h = _packed_headers.get(k)
    if h is None:
        H = _pb().summary_pb2.HistogramProto
        zeros = [0.0] * k
        a = H(bucket_limit=zeros).SerializeToString()
        b = H(bucket=zeros).SerializeToString()
        h = _packed_headers[k] = (a[:len(a) - 8 * k], b[:len(b) - 8 * k])
    return h


_stats_pack = []


def _stats_template():
    """`pack(min, max, num, sum, sum_squares)` -> the bytes of a HistogramProto holding just
    those five non-zero doubles: the field keys the protobuf classes write, around the values'
    8 little-endian bytes (a double field's wire form). Checked by `_fast_histogram_ok`."""
    if not _stats_pack:
        t = _pb().summary_pb2.HistogramProto(min=1.0, max=1.0, num=1.0, sum=1.0,
                                              sum_squares=1.0).SerializeToString()
        keys = t[0::9]
        ok = len(t) == 45 and all(t[9 * i + 1:9 * i + 9] == struct.pack("<d", 1.0)
                                  for i in range(5))
        if ok:
            packer = struct.Struct("<" + "".join("%dsd" % 1 for _ in range(5))).pack
            k = [keys[i:i + 1] for i in range(5)]

            def pack(a, b, c, d, e):
                return packer(k[0], a, k[1], b, k[2], c, k[3], d, k[4], e)
        else:
            H = _pb().summary_pb2.HistogramProto

            def pack(a, b, c, d, e):
                return H(min=a, max=b, num=c, sum=d, sum_squares=e).SerializeToString()
        _stats_pack.append(pack)
    return _stats_pack[0]


def _assembled_histogram(arr, tag):
    """Serialized HistogramProto of a non-empty ndarray (native kernel)."""
    dt = arr.dtype
    if dt == _F32:
        kl, kc, lo, hi, total, total_sq = _C.histogram_summary_f32(arr, _default_limits[0])
    else:
        if dt != _F64:
            arr = arr.astype(np.float64)
        kl, kc, lo, hi, total, total_sq = _C.histogram_summary_f64(arr, _default_limits[0])
    if not _isfinite(total):  # NaN/inf in the values, or finite values overflowing the sum
        flat = arr.ravel()
        if not np.isfinite(flat).all():
            raise _nonfinite_error(flat, tag)
    num = float(arr.size)
    if lo and hi and total and total_sq:  # proto3 leaves zeros out: then the message decides
        base = _stats_template()(lo, hi, num, total, total_sq)
    else:
        base = _pb().summary_pb2.HistogramProto(min=lo, max=hi, num=num, sum=total,
                                                 sum_squares=total_sq).SerializeToString()
    h_lim, h_cnt = _packed_header(len(kl))
    return b"".join((base, h_lim, kl.tobytes(), h_cnt, kc.tobytes()))


def _fast_histogram_ok():
    if not _fast_histogram:
        ok = _C is not None and hasattr(_C, "histogram_summary_f32") and \
            sys.byteorder == "little"
        if ok:
            default_bucket_limits()
            rng = np.random.default_rng(0)
            for n in (1, 3, 200, 5000):
                v = rng.normal(size=n) * 10.0 ** rng.integers(-13, 20, size=n)
                for arr in (v, v.astype(np.float32), np.zeros(n)):
                    if _assembled_histogram(arr, "t") != histogram_proto(arr).SerializeToString():
                        ok = False
        _fast_histogram.append(ok)
    return _fast_histogram[0]


def histogram_bytes(values, tag=None):
    """The serialized `HistogramProto` of `values` (equal to
    `histogram_proto(values, tag).SerializeToString()`, faster).

    Raises:
      InvalidArgumentError: `values` holds a NaN or infinity.
    """
    arr = values if type(values) is np.ndarray else np.asarray(values)
    if arr.size and _fast_histogram_ok():
        return _assembled_histogram(arr, tag)
    return histogram_proto(arr, tag).SerializeToString()


def _histogram_kernel(op, ctx):
    Summary = _pb().summary_pb2.Summary
    static_tag = _const_tag(op._inputs[0])
    mark = _mark_metadata_free

    HistogramProto = _pb().summary_pb2.HistogramProto
    # Serialized Summary = (value header, tag, histo header) + HistogramProto bytes, and the
    # prefix depends only on the tag and the histogram's byte length. It is taken from a
    # Summary the protobuf classes serialize the first time a length is seen, then reused:
    # bucket counts change slowly in training, so a handful of lengths recur.
    prefixes = {}

    def histogram_summary(tag, values):
        tag = static_tag if static_tag is not None else _as_str(np.asarray(tag).item())
        hb = histogram_bytes(values, tag)
        key = (len(hb), tag)
        prefix = prefixes.get(key)
        if prefix is None:
            pb = Summary()
            v = pb.value.add()
            v.tag = tag
            v.histo.CopyFrom(HistogramProto.FromString(hb))
            full = pb.SerializeToString()
            if not full.endswith(hb):  # not laid out as expected: keep the message's bytes
                mark(full)
                return _bytes_result(full)
            if len(prefixes) >= 256:
                prefixes.clear()
            prefix = prefixes[key] = full[:len(full) - len(hb)]
        data = prefix + hb
        mark(data)
        return _bytes_result(data)
    return histogram_summary


register_op("HistogramSummary", _histogram_infer, _histogram_kernel)


def histogram(name, values, collections=None, family=None):
    """A summary op holding a histogram of `values` (TensorBoard's histograms and
    distributions tabs), bucketed as TensorFlow does.

    Args:
      name: summary name (tag after name scopes).
      values: a real numeric tensor of any shape.
      collections: graph collections to add the op to (default `[GraphKeys.SUMMARIES]`).
      family: optional tag prefix.

    Returns:
      A scalar string `Tensor`: the serialized `Summary`. Running it fails with
      InvalidArgumentError if `values` holds NaN or infinity.
    """
    with summary_scope(name, family, values=[values], default_name="HistogramSummary") \
            as (tag, scope):
        values = _ops.convert_to_tensor(values)
        t = _const(tag, "tag")
        val = _create("HistogramSummary", [t, values], {"T": values.dtype.base_dtype}, scope)
        _collect(val, collections, [_SUMMARIES])
    return val


# ---- ImageSummary --------------------------------------------------------------------------------

_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_PNG_COLOR = {1: 0, 2: 4, 3: 2, 4: 6}  # gray, gray+alpha, RGB, RGBA


def _png_chunk(kind, data):
    return b"".join((struct.pack(">I", len(data)), kind, data,
                     struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF)))


def encode_png(image, compression=-1):
    """PNG bytes of a uint8 image of shape [height, width, channels] (1 to 4 channels)."""
    img = np.ascontiguousarray(image, dtype=np.uint8)
    if img.ndim == 2:
        img = img[:, :, None]
    h, w, c = img.shape
    if c not in _PNG_COLOR:
        raise ValueError("PNG images have 1 to 4 channels, got %d" % c)
    raw = np.zeros((h, 1 + w * c), dtype=np.uint8)  # filter byte 0 ("None") per row
    raw[:, 1:] = img.reshape(h, w * c)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, _PNG_COLOR[c], 0, 0, 0)
    return b"".join((_PNG_SIG, _png_chunk(b"IHDR", ihdr),
                     _png_chunk(b"IDAT", zlib.compress(raw.tobytes(), compression)),
                     _png_chunk(b"IEND", b"")))


def _normalize_image(img, bad_color):
    """TF1's float image to uint8: all >= 0 -> scale by 255/max; with negatives -> scale by
    127/max|v| and center on 128. Pixels with a non-finite channel get `bad_color`. The range
    comes from each image's finite pixels only."""
    h, w, depth = img.shape
    flat = img.reshape(h * w, depth).astype(np.float32)
    finite = np.isfinite(flat).all(axis=1)
    good = flat[finite]
    if good.size:
        lo, hi = float(good.min()), float(good.max())
    else:
        lo, hi = float("inf"), float("-inf")
    if lo < 0:
        m = max(abs(lo), abs(hi))
        scale, offset = (0.0 if m < 1e-6 else 127.0 / m), 128.0
    else:
        scale, offset = (0.0 if hi < 1e-6 else 255.0 / hi), 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        out = (flat * np.float32(scale) + np.float32(offset))
        out = np.where(finite[:, None], out, 0).astype(np.uint8)
    if not finite.all():
        out[~finite] = bad_color[:depth]
    return out.reshape(h, w, depth)


def _image_infer(inputs, attrs):
    tag, tensor = inputs
    _check_tag("ImageSummary", tag)
    d = tensor._dtype.base_dtype
    if d not in (_dtypes.uint8, _dtypes.float32, _dtypes.float16, _dtypes.float64):
        raise TypeError("Value passed to parameter 'tensor' has DataType %s not in list of "
                        "allowed values: uint8, float32, float16, float64" % d.name)
    dims = tensor._shape._dims
    if dims is not None and (len(dims) != 4 or dims[3] not in (None, 1, 3, 4)):
        raise ValueError("Tensor must be 4-D with last dim 1, 3, or 4, not %s"
                         % _ts.TensorShape(dims))
    return _string_out(inputs, attrs)


def _image_kernel(op, ctx):
    max_images = int(op._attrs.get("max_images", 3))
    bad_color = np.asarray(op._attrs.get("bad_color", [255, 0, 0, 255]), dtype=np.uint8)

    def image_summary(tag, tensor):
        tag = _as_str(np.asarray(tag).item())
        t = np.asarray(tensor)
        if t.ndim != 4 or t.shape[3] not in (1, 3, 4):
            raise errors.InvalidArgumentError(
                None, None, "Tensor must be 4-D with last dim 1, 3, or 4, not %s"
                % _ts.TensorShape(t.shape))
        batch, h, w, depth = t.shape
        if not (h < 2 ** 29 and w < 2 ** 29 and h * w < 2 ** 29):
            raise errors.InvalidArgumentError(None, None, "Image too large: %d x %d" % (h, w))
        if t.dtype != np.uint8 and bad_color.size < depth:
            raise errors.InvalidArgumentError(
                None, None, "bad_color must have at least depth elements, got %d < %d"
                % (bad_color.size, depth))
        pb = _pb().summary_pb2.Summary()
        for i in range(min(batch, max_images)):
            img = t[i] if t.dtype == np.uint8 else _normalize_image(t[i], bad_color)
            v = pb.value.add()
            # The tag depends on the number of requested images, not the number produced.
            v.tag = "%s/image/%d" % (tag, i) if max_images > 1 else "%s/image" % tag
            v.image.height = h
            v.image.width = w
            v.image.colorspace = depth
            v.image.encoded_image_string = encode_png(img)
        return _result(pb)
    return image_summary


register_op("ImageSummary", _image_infer, _image_kernel)


def image(name, tensor, max_outputs=3, collections=None, family=None):
    """A summary op with up to `max_outputs` images of a batch, PNG-encoded.

    Args:
      name: summary name; tags are "<tag>/image/<i>" (or "<tag>/image" if max_outputs is 1).
      tensor: [batch, height, width, channels] with 1 (grayscale), 3 (RGB) or 4 (RGBA)
        channels; uint8 as is, floats rescaled per image as TF1 does (all non-negative:
        times 255/max; otherwise 127/max|x| around 128).
      max_outputs: how many images of the batch to keep.
      collections: graph collections (default `[GraphKeys.SUMMARIES]`).
      family: optional tag prefix.

    Returns:
      A scalar string `Tensor`: the serialized `Summary`.
    """
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        tensor = _ops.convert_to_tensor(tensor)
        t = _const(tag, "tag")
        val = _create("ImageSummary", [t, tensor],
                      {"T": tensor.dtype.base_dtype, "max_images": int(max_outputs),
                       "bad_color": np.array([255, 0, 0, 255], dtype=np.uint8)}, scope)
        _collect(val, collections, [_SUMMARIES])
    return val


# ---- AudioSummaryV2 ------------------------------------------------------------------------------

def encode_wav(samples, sample_rate):
    """16-bit PCM WAV bytes of float samples [frames, channels] in [-1, 1] (clipped)."""
    s = np.asarray(samples, dtype=np.float32)
    if s.ndim == 1:
        s = s[:, None]
    frames, channels = s.shape
    pcm = np.clip(np.rint(s * np.float32(32768.0)), -32768, 32767).astype("<i2")
    data = pcm.tobytes()
    rate = int(sample_rate)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    return b"".join((b"RIFF", struct.pack("<I", 36 + len(data)), b"WAVE",
                     b"fmt ", struct.pack("<I", len(fmt)), fmt,
                     b"data", struct.pack("<I", len(data)), data))


def _audio_infer(inputs, attrs):
    tag, tensor, rate = inputs
    _check_tag("AudioSummaryV2", tag)
    if tensor._dtype.base_dtype != _dtypes.float32:
        raise TypeError("Input 'tensor' of 'AudioSummaryV2' Op has type %s that does not match "
                        "expected type of float32." % tensor._dtype.name)
    if rate._dtype.base_dtype != _dtypes.float32:
        raise TypeError("Input 'sample_rate' of 'AudioSummaryV2' Op has type %s that does not "
                        "match expected type of float32." % rate._dtype.name)
    dims = tensor._shape._dims
    if dims is not None and len(dims) not in (2, 3):
        raise ValueError("Tensor must be 3-D or 2-D, got: %s" % _ts.TensorShape(dims))
    return _string_out(inputs, attrs)


def _audio_kernel(op, ctx):
    max_outputs = int(op._attrs.get("max_outputs", 3))

    def audio_summary(tag, tensor, sample_rate):
        tag = _as_str(np.asarray(tag).item())
        t = np.asarray(tensor, dtype=np.float32)
        if t.ndim not in (2, 3):
            raise errors.InvalidArgumentError(None, None, "Tensor must be 3-D or 2-D, got: %s"
                                              % _ts.TensorShape(t.shape))
        if np.ndim(sample_rate) != 0:
            raise errors.InvalidArgumentError(None, None, "sample_rate must be rank 0")
        rate = float(sample_rate)
        if rate <= 0:
            raise errors.InvalidArgumentError(None, None, "sample_rate must be > 0")
        if t.ndim == 2:
            t = t[:, :, None]
        batch, frames, channels = t.shape
        pb = _pb().summary_pb2.Summary()
        for i in range(min(batch, max_outputs)):
            v = pb.value.add()
            v.tag = "%s/audio/%d" % (tag, i) if max_outputs > 1 else "%s/audio" % tag
            a = v.audio
            a.sample_rate = rate
            a.num_channels = channels
            a.length_frames = frames
            a.encoded_audio_string = encode_wav(t[i], rate)
            a.content_type = "audio/wav"
        return _result(pb)
    return audio_summary


register_op("AudioSummaryV2", _audio_infer, _audio_kernel)


def audio(name, tensor, sample_rate, max_outputs=3, collections=None, family=None):
    """A summary op with up to `max_outputs` clips of a batch of audio, as 16-bit WAV.

    Args:
      name: summary name; tags are "<tag>/audio/<i>" (or "<tag>/audio" if max_outputs is 1).
      tensor: float32 [batch, frames, channels] or [batch, frames], values in [-1, 1].
      sample_rate: samples per second (a float32 scalar or Python number).
      max_outputs: how many clips of the batch to keep.
      collections: graph collections (default `[GraphKeys.SUMMARIES]`).
      family: optional tag prefix.

    Returns:
      A scalar string `Tensor`: the serialized `Summary`.
    """
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        tensor = _ops.convert_to_tensor(tensor)
        rate = _ops.convert_to_tensor(sample_rate, dtype=_dtypes.float32, name="sample_rate")
        t = _const(tag, "tag")
        val = _create("AudioSummaryV2", [t, tensor, rate], {"max_outputs": int(max_outputs)},
                      scope)
        _collect(val, collections, [_SUMMARIES])
    return val


# ---- TensorSummaryV2 (tensor_summary, text) ------------------------------------------------------

def make_tensor_proto(value):
    """A `TensorProto` of a numpy value (strings in string_val, others as tensor_content)."""
    pb = _pb().tensor_pb2.TensorProto()
    arr = np.asarray(value)
    if arr.dtype.kind in "OSU":
        pb.dtype = _dtypes.string.as_datatype_enum
        pb.string_val.extend([x if isinstance(x, bytes) else str(x).encode("utf-8")
                              for x in arr.ravel().tolist()])
    else:
        dt = _dtypes.as_dtype(arr.dtype)
        pb.dtype = dt.as_datatype_enum
        pb.tensor_content = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"),
                                                             copy=False).tobytes()
    pb.tensor_shape.SetInParent()
    for d in arr.shape:
        pb.tensor_shape.dim.add().size = d
    return pb


def _tensor_summary_infer(inputs, attrs):
    tag, tensor, meta = inputs
    _check_tag("TensorSummaryV2", tag)
    _check_tag("TensorSummaryV2", meta, "serialized_summary_metadata")
    return _string_out(inputs, attrs)


def _tensor_summary_kernel(op, ctx):
    def tensor_summary_v2(tag, tensor, serialized_summary_metadata):
        pb = _pb().summary_pb2.Summary()
        v = pb.value.add()
        v.tag = _as_str(np.asarray(tag).item())
        v.metadata.SetInParent()  # present even when empty, as TF writes it
        v.metadata.ParseFromString(np.asarray(serialized_summary_metadata).item())
        v.tensor.CopyFrom(make_tensor_proto(tensor))
        return _result(pb)
    return tensor_summary_v2


register_op("TensorSummaryV2", _tensor_summary_infer, _tensor_summary_kernel)


def tensor_summary(name, tensor, summary_description=None, collections=None,
                   summary_metadata=None, family=None, display_name=None):
    """A summary op holding a whole tensor (TensorBoard's plugins read these).

    Args:
      name: summary name (tag after name scopes).
      tensor: a tensor of any dtype and shape.
      summary_description: deprecated alias of `summary_metadata`.
      collections: graph collections (default `[GraphKeys.SUMMARIES]`).
      summary_metadata: a `SummaryMetadata` proto (e.g. naming the plugin that displays it).
      family: optional tag prefix.
      display_name: sets `summary_metadata.display_name`.

    Returns:
      A scalar string `Tensor`: the serialized `Summary`.
    """
    if summary_description is not None and summary_metadata is not None:
        raise ValueError("Only one of summary_description and summary_metadata may be "
                         "specified, not both.")
    if summary_description is not None:
        summary_metadata = summary_description
    if summary_metadata is None:
        summary_metadata = _pb().summary_pb2.SummaryMetadata()
    if display_name is not None:
        summary_metadata.display_name = display_name
    serialized = summary_metadata.SerializeToString()
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        tensor = _ops.convert_to_tensor(tensor)
        t = _const(tag, "tag")
        meta = _const(serialized, "serialized_summary_metadata")
        val = _create("TensorSummaryV2", [t, tensor, meta], {"T": tensor.dtype.base_dtype},
                      scope)
        _collect(val, collections, [_SUMMARIES])
    return val


def text(name, tensor, collections=None):
    """A summary op holding a string tensor for TensorBoard's text tab (Markdown rendered).

    Args:
      name: summary name.
      tensor: a string tensor.
      collections: graph collections (default `[GraphKeys.SUMMARIES]`).

    Returns:
      A scalar string `Tensor`: the serialized `Summary`.

    Raises:
      ValueError: `tensor` is not a string tensor.
    """
    tensor = _ops.convert_to_tensor(tensor)
    if tensor.dtype != _dtypes.string:
        raise ValueError("Expected tensor %s to have dtype string, got %s"
                         % (tensor.name, tensor.dtype))
    summary_pb2 = _pb().summary_pb2
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text"))
    return tensor_summary(name=name, tensor=tensor, summary_metadata=metadata,
                          collections=collections)


# ---- MergeSummary --------------------------------------------------------------------------------

def _merge_infer(inputs, attrs):
    for t in inputs:
        if t._dtype.base_dtype != _dtypes.string:
            raise TypeError("Tensors in list passed to 'inputs' of 'MergeSummary' Op have type "
                            "%s that does not match expected type of string." % t._dtype.name)
    return _string_out(inputs, attrs)


def _merge_general(op, ctx):
    def merge_summary(*inputs):
        Summary = _pb().summary_pb2.Summary
        out = Summary()
        tags = set()
        piece = Summary()
        for x in inputs:
            for s in (x.ravel().tolist() if type(x) is np.ndarray and x.ndim else
                      [np.asarray(x).item()]):
                piece.ParseFromString(s)
                for v in piece.value:
                    if v.tag in tags:
                        raise errors.InvalidArgumentError(
                            None, None, "Duplicate tag %s found in summary inputs" % v.tag)
                    tags.add(v.tag)
                # Serialized Summaries concatenate into their merge (repeated field).
                out.MergeFrom(piece)
        return _result(out)
    return merge_summary


def _static_tags(t):
    """Every tag the summary op producing `t` can emit, when fixed at graph-build time (a
    superset for image/audio, whose count depends on the batch), else None."""
    op = t._op
    ty = op._type
    if ty not in _STATIC_TAG_OPS or not op._inputs:
        return None
    tag = _const_tag(op._inputs[0])
    if tag is None:
        return None
    if ty == "ImageSummary" or ty == "AudioSummaryV2":
        kind = "image" if ty == "ImageSummary" else "audio"
        n = int(op._attrs.get("max_images" if kind == "image" else "max_outputs", 3))
        if n <= 1:
            return ("%s/%s" % (tag, kind),)
        return tuple("%s/%s/%d" % (tag, kind, i) for i in range(n))
    return (tag,)


_METADATA_FREE_OPS = frozenset(("ScalarSummary", "HistogramSummary", "ImageSummary",
                                "AudioSummaryV2"))
_STATIC_TAG_OPS = frozenset(("ScalarSummary", "HistogramSummary", "ImageSummary",
                             "AudioSummaryV2", "TensorSummaryV2"))


def _merge_kernel(op, ctx):
    general = _merge_general(op, ctx)
    tags = []
    for t in op._inputs:
        st = _static_tags(t)
        if st is None:
            return general
        tags.extend(st)
    if len(set(tags)) != len(tags):
        return general  # a duplicate tag: the general path reports it (if it is emitted)
    join = b"".join
    # Merges of ops that never attach SummaryMetadata carry none (unless an input is fed with
    # such bytes: then FileWriter merely keeps a repeated tag's metadata, which TensorBoard
    # reads the same).
    plain = all(t._op._type in _METADATA_FREE_OPS for t in op._inputs)
    mark = _mark_metadata_free

    # Tags known to be distinct: a Summary is only its repeated `value` field, and serialized
    # repeated fields concatenate, so the merge is the inputs' bytes back to back -- the same
    # bytes the parse-and-merge path produces.
    ndarray = np.ndarray

    def merge_summary(*inputs):
        try:
            pieces = [x[()] for x in inputs if type(x) is ndarray]
        except IndexError:  # not 0-d: something other than the summary ops' own output
            return general(*inputs)
        if len(pieces) != len(inputs):
            return general(*inputs)
        data = join(pieces)
        if plain:
            mark(data)
        out = np.empty((), dtype=object)
        out[()] = data
        return out
    return merge_summary


register_op("MergeSummary", _merge_infer, _merge_kernel)


def merge(inputs, collections=None, name=None):
    """Merge summaries into one serialized `Summary`.

    Args:
      inputs: string tensors holding serialized `Summary` protos.
      collections: graph collections to add the result to (default none).
      name: op name (default "Merge/MergeSummary").

    Returns:
      A scalar string `Tensor`. Running it fails with InvalidArgumentError if two inputs
      share a tag.
    """
    inputs = [_ops.convert_to_tensor(x) for x in inputs]
    if not inputs:
        raise ValueError("merge requires at least one summary to merge")
    with _ops.name_scope(name, "Merge", inputs):
        g = inputs[0]._op._graph
        val = g.create_op("MergeSummary", inputs, {"N": len(inputs)},
                          name=name if name is not None else "MergeSummary")._outputs[0]
        _collect(val, collections, [])
    return val


def merge_all(key=_SUMMARIES, scope=None, name=None):
    """Merge every summary in collection `key` (optionally filtered by `scope`).

    Returns:
      The merged string `Tensor`, or None when the collection holds no summaries (as TF1).
    """
    summary_ops = _ops.get_collection(key, scope=scope)
    if not summary_ops:
        return None
    return merge(summary_ops, name=name)


def get_summary_description(node_def):
    """The `SummaryDescription` stored in a TensorSummary node's "description" attr."""
    desc = _pb().summary_pb2.SummaryDescription()
    attrs = node_def.attr if hasattr(node_def, "attr") else node_def.get("attr", {})
    raw = attrs.get("description") if hasattr(attrs, "get") else None
    if raw is not None:
        s = getattr(raw, "s", raw)
        desc.ParseFromString(s if isinstance(s, bytes) else str(s).encode("utf-8"))
    return desc
