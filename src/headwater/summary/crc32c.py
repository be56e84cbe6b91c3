"""CRC-32C and TFRecord framing for event files.

The checksum runs in `headwater._C` (SSE4.2 `crc32` instruction, or a slicing-by-8 table on
other CPUs). Without the native module, the `google-crc32c` or `crc32c` packages are used when
installed; the pure-Python table loop is a last resort kept for unbuilt source trees only
(about 1 MB/s: fine for scalars, slow for large graphs).
"""

from __future__ import annotations

import struct

from headwater._native import _C

__all__ = ["crc32c", "masked_crc32c", "mask", "unmask", "frame_record", "backend"]

_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF


def mask(crc):
    """TFRecord's masking of a CRC: rotate right by 15 bits, add a constant (mod 2**32)."""
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & _U32


def unmask(masked):
    """Inverse of `mask`."""
    rot = (masked - _MASK_DELTA) & _U32
    return ((rot >> 17) | (rot << 15)) & _U32


def _table():
    poly = 0x82F63B78
    tab = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (poly if c & 1 else 0)
        tab.append(c)
    return tab


_TABLE = None


def _crc32c_python(data, crc=0):
    global _TABLE
    if _TABLE is None:
        _TABLE = _table()
    tab = _TABLE
    c = crc ^ _U32
    for b in bytes(data):
        c = tab[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ _U32


def _pick_backend():
    if _C is not None and hasattr(_C, "crc32c"):
        return "headwater._C", _C.crc32c
    try:
        import google_crc32c

        def fn(data, crc=0):
            return google_crc32c.extend(crc, bytes(data))
        return "google_crc32c", fn
    except ImportError:
        pass
    try:
        import crc32c as _crc32c_pkg

        def fn(data, crc=0):
            return _crc32c_pkg.crc32c(bytes(data), crc)
        return "crc32c", fn
    except ImportError:
        pass
    return "python", _crc32c_python


backend, crc32c = _pick_backend()

_pack_len = struct.Struct("<Q").pack
_pack_crc = struct.Struct("<I").pack

if backend == "headwater._C":
    masked_crc32c = _C.masked_crc32c
    frame_record = _C.tfrecord_frame
else:
    def masked_crc32c(data):
        """TFRecord's masked CRC-32C of `data`."""
        return mask(crc32c(data))

    def frame_record(data):
        """One TFRecord: uint64 length, its masked CRC, `data`, the data's masked CRC."""
        header = _pack_len(len(data))
        return b"".join((header, _pack_crc(masked_crc32c(header)), data,
                         _pack_crc(masked_crc32c(data))))
