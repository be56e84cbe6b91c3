"""Event files: TFRecord-framed `Event` protos, written as TensorBoard reads them.

A file is a sequence of records, each ``uint64 length | masked CRC-32C of the length | data |
masked CRC-32C of the data`` (little endian), the first record being an Event carrying
``file_version: "brain.Event:2"``. File names are ``events.out.tfevents.<seconds>.<hostname>``
(plus an optional suffix), as TensorFlow 1.x names them; TensorBoard finds them by the
``tfevents`` in the name.

The training loop pays only for serializing and framing an event (a few microseconds):
framed records are appended to an in-memory queue; when `max_queue` are pending, the `add`
call that filled it hands them to the file's buffer (TF1's documented behaviour: "before one of
the 'add' calls forces a flush"), and a daemon thread flushes the file every `flush_secs`.
Writing on the caller's thread is a memory copy into the file buffer, far cheaper than waking
a Python thread: that thread would need the GIL, and handing the GIL back and forth with a busy
training loop costs tens of microseconds per hand-over on a loaded machine.
"""

from __future__ import annotations

import atexit
import collections
import os
import socket
import struct
import threading
import time
import weakref

from headwater.framework import errors
from headwater.summary import crc32c as _crc

__all__ = ["EventFileWriter", "tf_record_iterator", "summary_iterator", "events_file_name"]

_FILE_VERSION = "brain.Event:2"
_INT64 = 1 << 63
_name_lock = threading.Lock()
_name_counter = [0]
# Writers still open at exit get their queued events written (TF1 would lose them).
_open_writers = weakref.WeakSet()


@atexit.register
def _flush_open_writers():
    for w in list(_open_writers):
        try:
            w.close()
        except Exception:  # noqa: S110 - best effort at interpreter exit
            pass


def events_file_name(logdir, filename_suffix=None, now=None):
    """A fresh events file path in `logdir`: TF1's name, disambiguated by pid and a counter
    when another writer of this process already took that name in the same second."""
    base = "events.out.tfevents.%010d.%s" % (int(time.time() if now is None else now),
                                              socket.gethostname())
    suffix = filename_suffix or ""
    with _name_lock:
        path = os.path.join(logdir, base + suffix)
        while os.path.exists(path):
            _name_counter[0] += 1
            path = os.path.join(logdir, "%s.%d.%d%s" % (base, os.getpid(), _name_counter[0],
                                                         suffix))
        # Claim the name before releasing the lock, so a concurrent writer sees it taken.
        open(path, "ab").close()
    return path


# The writer thread writes once this much is encoded (or at flush time): rare system calls,
# and few wake-ups of a thread that needs the GIL.
_WRITE_CHUNK = 128 * 1024
_IOV_MAX = 1024
_writev = getattr(os, "writev", None)  # not on Windows


def _write_all(fd, recs):
    """Write the byte strings `recs` to file descriptor `fd`, in order (gathered writes:
    no joined copy; the GIL is released during the system call)."""
    for i in range(0, len(recs), _IOV_MAX):
        part = recs[i:i + _IOV_MAX]
        if _writev is None:
            part = [b"".join(part)]
            n = os.write(fd, part[0])
        else:
            n = _writev(fd, part)
        total = sum(map(len, part))
        if n < total:  # partial write (signal, full disk...): finish with plain writes
            rest = memoryview(b"".join(part))[n:]
            while rest:
                rest = rest[os.write(fd, rest):]


def _event_protos():
    from headwater.summary._protos import event_pb2

    return event_pb2


class _EventProtos:
    Event = None
    Summary = None


def _event_and_summary():
    if _EventProtos.Event is None:
        from headwater.summary._protos import event_pb2, summary_pb2

        _EventProtos.Summary = summary_pb2.Summary
        _EventProtos.Event = event_pb2.Event
    return _EventProtos


class EventFileWriter:
    """Writes `Event` protos (or already serialized Event bytes) to a new events file.

    Args:
      logdir: directory for the file (created if missing).
      max_queue: records held in memory before the writer thread is woken to write them.
      flush_secs: how often the writer thread flushes the file to the OS.
      filename_suffix: appended to the file name.
    """

    def __init__(self, logdir, max_queue=10, flush_secs=120, filename_suffix=None):
        self._logdir = str(logdir)
        self._max_queue = max(1, int(max_queue))
        # At least a few milliseconds, so flush_secs=0 does not spin the writer thread.
        self._flush_secs = max(float(flush_secs), 0.005)
        self._filename_suffix = filename_suffix
        self._cond = threading.Condition(threading.Lock())
        # Serializes file writes between the worker thread and flush()/close().
        self._io_lock = threading.Lock()
        # Appends and pops of a deque are atomic, so `add` calls need no lock; writers pop
        # under the I/O lock, which keeps records in order.
        self._pending = collections.deque()
        # Encoded records waiting for the writer thread, and their total size.
        self._ready_lock = threading.Lock()
        self._ready = []
        self._ready_bytes = 0
        self._summary_headers = {}
        self._closed = True
        self._error = None
        self._file = None
        self._thread = None
        self._open()

    # ---- lifecycle ----------------------------------------------------------------------------
    def _open(self):
        os.makedirs(self._logdir, exist_ok=True)
        self._path = events_file_name(self._logdir, self._filename_suffix)
        self._file = open(self._path, "wb", buffering=0)
        self._closed = False
        self._error = None
        self._last_flush = time.monotonic()
        ev = _event_protos().Event(wall_time=time.time(), file_version=_FILE_VERSION)
        _write_all(self._file.fileno(), [_crc.frame_record(ev.SerializeToString())])
        self._thread = threading.Thread(target=self._run, name="headwater-EventFileWriter",
                                        daemon=True)
        self._thread.start()
        _open_writers.add(self)

    def get_logdir(self):
        """The directory the events file is in."""
        return self._logdir

    def get_filename(self):
        """Path of the current events file."""
        return self._path

    @property
    def closed(self):
        return self._closed

    def reopen(self):
        """After `close()`, start a new events file in the same directory (no-op if open)."""
        if self._closed:
            self._open()

    # ---- writing ------------------------------------------------------------------------------
    def add_event(self, event):
        """Queue one event: an `Event` proto or its serialized bytes."""
        if self._error is not None:
            self._raise_error()
        data = event if isinstance(event, (bytes, bytearray)) else event.SerializeToString()
        self._append(_crc.frame_record(data))

    def _append(self, rec):
        if self._closed:
            return
        pending = self._pending
        pending.append(rec)
        if len(pending) >= self._max_queue:
            self._write_full_queue()

    def _write_full_queue(self):
        self._encode_pending()

    def add_summary_bytes(self, summary, wall_time, step=None):
        """Queue an Event carrying the serialized `Summary` `summary` (valid bytes from a
        summary op), built when the queue is written out.

        Building events in batches when the queue is full runs the protobuf code back to back
        with warm caches; per call it cost several times more in a training loop, whose steps
        evict it, than in isolation.
        """
        if self._error is not None:
            self._raise_error()
        if step is not None and not -_INT64 <= step < _INT64:
            raise ValueError("Value out of range: %d" % step)
        if self._closed:
            return
        pending = self._pending
        pending.append((summary, wall_time, step))
        if len(pending) >= self._max_queue:
            self._write_full_queue()

    def _records(self, recs):
        # Deferred summaries become framed Event records here, in queue order. An Event's
        # bytes are its wall_time and step fields, then the `summary` field: a key and length
        # in front of the Summary's own bytes. That header depends only on the length, so it
        # is cut from an Event the protobuf classes serialize the first time a length is seen
        # (checked to end with the summary's bytes), and the wall_time/step part comes from
        # one reused Event message: every byte written is laid out by the protobuf classes,
        # without building and re-serializing a Summary message per event.
        if all(type(r) is bytes for r in recs):
            return recs
        protos = _event_and_summary()
        Event = protos.Event
        frame = _crc.frame_record
        headers = self._summary_headers
        ev = Event()
        out = []
        for r in recs:
            if type(r) is not bytes:
                data, wall_time, step = r
                ev.wall_time = wall_time
                if step is None:
                    ev.ClearField("step")
                else:
                    ev.step = step
                n = len(data)
                header = headers.get(n)
                if header is None:
                    full = Event(summary=protos.Summary.FromString(data)).SerializeToString()
                    if full.endswith(data):
                        if len(headers) >= 1024:
                            headers.clear()
                        header = headers[n] = full[:len(full) - n]
                    else:  # not laid out as expected: the whole Event through the message
                        whole = Event()
                        whole.CopyFrom(ev)
                        whole.summary.MergeFromString(data)
                        out.append(frame(whole.SerializeToString()))
                        continue
                r = frame(b"".join((ev.SerializeToString(), header, data)))
            out.append(r)
        return out

    def add_record(self, data):
        """Queue one already serialized record (e.g. an Event built elsewhere)."""
        self.add_event(bytes(data))

    def _take(self):
        # Caller holds the ready lock. Only the records present now: later appends wait.
        pop = self._pending.popleft
        return [pop() for _ in range(len(self._pending))]

    def _encode_pending(self):
        # The `add` call that fills the queue encodes it (warm caches, in order); the file
        # write is left to the writer thread, woken only once a chunk has accumulated.
        with self._ready_lock:
            recs = self._records(self._take())
            self._ready.extend(recs)
            self._ready_bytes += sum(map(len, recs))
            big = self._ready_bytes >= _WRITE_CHUNK
        if big:
            with self._cond:
                self._cond.notify()

    def _write_out(self, everything):
        # Writes the encoded records (and, for a flush, the queue too) in order.
        with self._io_lock:
            with self._ready_lock:
                if everything:
                    self._ready.extend(self._records(self._take()))
                ready, self._ready = self._ready, []
                self._ready_bytes = 0
            f = self._file
            if f is None:
                return
            if ready:
                _write_all(f.fileno(), ready)
            if everything:
                self._last_flush = time.monotonic()

    def _run(self):
        # Writes chunks and flushes every flush_secs, off the training thread: the write
        # system call (which can block for milliseconds when the disk is busy) runs here with
        # the GIL released.
        cond = self._cond
        while True:
            with cond:
                if self._closed:
                    return
                if self._ready_bytes < _WRITE_CHUNK:
                    wait = self._flush_secs - (time.monotonic() - self._last_flush)
                    if wait > 0:
                        cond.wait(wait)
                if self._closed:
                    return
            due = time.monotonic() - self._last_flush >= self._flush_secs
            if not due and self._ready_bytes < _WRITE_CHUNK:
                continue
            try:
                self._write_out(due)
            except Exception as e:  # disk full, directory removed...: report on next call
                self._error = e
                return

    def _raise_error(self):
        e = self._error
        raise errors.UnknownError(None, None, "Failed to write to events file %s: %s"
                                  % (self._path, e))

    def flush(self):
        """Write every queued event to the operating system."""
        if self._closed:
            return
        if self._error is not None:
            self._raise_error()
        try:
            self._write_out(True)
        except Exception as e:  # disk full, directory removed...: reported from now on
            self._error = e
            self._raise_error()

    def close(self):
        """Flush, stop the writer thread and close the file. Safe to call twice."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._thread = None
        with self._io_lock:
            _open_writers.discard(self)
            f, self._file = self._file, None
            try:
                with self._ready_lock:
                    ready = self._ready + self._records(self._take())
                    self._ready = []
                    self._ready_bytes = 0
                if ready:
                    _write_all(f.fileno(), ready)
            finally:
                f.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: S110 - interpreter shutdown: nothing sensible to do
            pass


# ---- reading ----------------------------------------------------------------------------------

_unpack_len = struct.Struct("<Q").unpack
_unpack_crc = struct.Struct("<I").unpack


def tf_record_iterator(path):
    """Yield the records of a TFRecord file, checking both CRCs of each.

    Raises:
      DataLossError: a checksum does not match or the file ends inside a record.
    """
    with open(path, "rb") as f:
        offset = 0
        while True:
            header = f.read(12)
            if not header:
                return
            if len(header) < 12:
                raise errors.DataLossError(None, None, "truncated record header at offset %d "
                                           "in %s" % (offset, path))
            (length,) = _unpack_len(header[:8])
            (hcrc,) = _unpack_crc(header[8:])
            if _crc.masked_crc32c(header[:8]) != hcrc:
                raise errors.DataLossError(None, None, "corrupted record at offset %d in %s: "
                                           "length checksum mismatch" % (offset, path))
            body = f.read(length + 4)
            if len(body) < length + 4:
                raise errors.DataLossError(None, None, "truncated record at offset %d in %s"
                                           % (offset, path))
            data = body[:length]
            (dcrc,) = _unpack_crc(body[length:])
            if _crc.masked_crc32c(data) != dcrc:
                raise errors.DataLossError(None, None, "corrupted record at offset %d in %s: "
                                           "data checksum mismatch" % (offset, path))
            yield data
            offset += 16 + length


def summary_iterator(path):
    """Yield the `Event` protos of an events file (TF1's `tf.train.summary_iterator`)."""
    Event = _event_protos().Event
    for rec in tf_record_iterator(path):
        yield Event.FromString(rec)
