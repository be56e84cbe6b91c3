"""`FileWriter` and `FileWriterCache`: TF1's `tf.summary.FileWriter` API over an events file."""

from __future__ import annotations

import threading
import time
import warnings
from time import time as _time

from headwater.summary import summary_ops as _summary_ops
from headwater.summary.summary_ops import is_metadata_free as _is_metadata_free
from headwater.summary.event_file import EventFileWriter

__all__ = ["FileWriter", "FileWriterCache"]


def _protos():
    from headwater.summary import _protos

    return _protos


_event_cls = []


def _event_class():
    if not _event_cls:
        _event_cls.append(_protos().event_pb2.Event)
    return _event_cls[0]


def _graph_def_proto(graph, graph_def):
    """A `tensorboard` GraphDef proto for a headwater Graph, a headwater GraphDef or a proto."""
    from headwater.framework import ops as _ops

    if graph is not None and graph_def is not None:
        raise ValueError("Please pass only graph, or graph_def (deprecated), but not both.")
    g = graph if graph is not None else graph_def
    if isinstance(g, _ops.Graph):
        g = g.as_graph_def(add_shapes=True)
    if hasattr(g, "to_proto"):
        return g.to_proto()
    graph_pb2 = _protos().graph_pb2
    if isinstance(g, graph_pb2.GraphDef):
        return g
    if isinstance(g, (bytes, bytearray)):
        return graph_pb2.GraphDef.FromString(bytes(g))
    raise TypeError("The passed graph must be an instance of `Graph` or the deprecated "
                    "`GraphDef`")


def _run_metadata_bytes(run_metadata):
    """Serialized `RunMetadata` from a proto or headwater's `tf.RunMetadata` holder."""
    if hasattr(run_metadata, "SerializeToString"):
        return run_metadata.SerializeToString()
    pb = _protos().config_pb2.RunMetadata()
    step_stats = getattr(run_metadata, "step_stats", None)
    if step_stats is not None:
        pb.step_stats.CopyFrom(step_stats)
    cost_graph = getattr(run_metadata, "cost_graph", None)
    if cost_graph is not None and hasattr(cost_graph, "SerializeToString"):
        pb.cost_graph.CopyFrom(cost_graph)
    for g in getattr(run_metadata, "partition_graphs", None) or ():
        pb.partition_graphs.add().CopyFrom(_graph_def_proto(g, None))
    return pb.SerializeToString()


class FileWriter:
    """Writes `Summary` protos, graphs and run metadata to an events file in `logdir`.

    Args:
      logdir: directory of the events file (created if missing).
      graph: a `Graph` to write right away (shown on TensorBoard's graph page).
      max_queue: events queued in memory before the writer thread writes them.
      flush_secs: how often queued events are flushed to disk, in seconds.
      graph_def: deprecated spelling of `graph`.
      filename_suffix: appended to the events file name.
      session: not supported (TF2 summary writers); must be None.
    """

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None, session=None):
        if session is not None:
            raise NotImplementedError("FileWriter(session=...) writes through TF2 summary ops, "
                                      "which headwater does not have; omit `session`.")
        self.event_writer = EventFileWriter(logdir, max_queue, flush_secs, filename_suffix)
        self._closed = False
        self._seen_summary_tags = set()
        self._session_run_tags = set()
        if graph is not None or graph_def is not None:
            self.add_graph(graph=graph, graph_def=graph_def)

    # ---- context manager / lifecycle --------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def get_logdir(self):
        """The directory events are written to."""
        return self.event_writer.get_logdir()

    def _warn_if_closed(self):
        if self._closed:
            warnings.warn("Attempting to use a closed FileWriter. The operation will be a noop "
                          "unless the FileWriter is explicitly reopened.", stacklevel=3)
            return True
        return False

    def flush(self):
        """Write all pending events to disk."""
        if self._warn_if_closed():
            return
        self.event_writer.flush()

    def close(self):
        """Flush and close the events file; `reopen()` starts a new file."""
        self.event_writer.close()
        self._closed = True

    def reopen(self):
        """Reopen a closed writer; events go to a new file in the same directory."""
        self.event_writer.reopen()
        self._closed = False

    # ---- events -----------------------------------------------------------------------------
    def _add_event(self, event, step):
        event.wall_time = time.time()
        if step is not None:
            event.step = step if type(step) is int else int(step)
        self.event_writer.add_event(event)

    def add_event(self, event):
        """Write an `Event` proto as it is."""
        if self._warn_if_closed():
            return
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None):
        """Write a `Summary` (proto or the serialized bytes a summary op evaluates to).

        Args:
          summary: a `Summary` proto or its serialized bytes.
          global_step: the step to record with it (an int or numpy integer).
        """
        if self._closed:
            self._warn_if_closed()
            return
        if type(summary) is bytes and _is_metadata_free(summary):
            # Straight from summary ops that never attach metadata (so valid, with nothing to
            # strip): the writer builds the Event when it writes the queue out.
            self.event_writer.add_summary_bytes(
                summary, _time(),
                global_step if global_step is None or type(global_step) is int else
                int(global_step))
            return
        event = _event_class()()
        if type(summary) is bytes:
            data = summary
        elif isinstance(summary, (bytes, bytearray)):
            data = bytes(summary)
        elif hasattr(summary, "item") and getattr(summary, "dtype", None) is not None:
            data = summary.item()  # a 0-d object array of bytes
        else:
            data = None
            event.summary.CopyFrom(summary)
        if data is not None:
            event.summary.MergeFromString(data)
            if _summary_ops.is_metadata_free(data):
                # Straight from summary ops that never attach metadata: nothing to strip, and
                # walking the values in Python would cost more than the rest of this call.
                self._add_event(event, global_step)
                return
        # Plugin metadata is needed once per tag; TensorBoard keeps the first it sees.
        seen = self._seen_summary_tags
        for value in event.summary.value:
            if not value.HasField("metadata"):
                continue
            if value.tag in seen:
                value.ClearField("metadata")
            else:
                seen.add(value.tag)
        self._add_event(event, global_step)

    def add_session_log(self, session_log, global_step=None):
        """Write a `SessionLog` proto (START/STOP/CHECKPOINT markers)."""
        if self._warn_if_closed():
            return
        event = _protos().event_pb2.Event(session_log=session_log)
        self._add_event(event, global_step)

    def add_graph(self, graph, global_step=None, graph_def=None):
        """Write a graph for TensorBoard's graph page.

        Args:
          graph: a headwater `Graph` (exported with `_output_shapes`, so edges show shapes),
            a headwater `GraphDef` or a `GraphDef` proto.
          global_step: optional step to record.
          graph_def: deprecated spelling of `graph`.
        """
        if self._warn_if_closed():
            return
        gd = _graph_def_proto(graph, graph_def)
        event = _protos().event_pb2.Event(graph_def=gd.SerializeToString())
        self._add_event(event, global_step)

    def add_meta_graph(self, meta_graph_def, global_step=None):
        """Write a serialized `MetaGraphDef` (bytes or proto)."""
        if self._warn_if_closed():
            return
        if hasattr(meta_graph_def, "SerializeToString"):
            meta_graph_def = meta_graph_def.SerializeToString()
        event = _protos().event_pb2.Event(meta_graph_def=bytes(meta_graph_def))
        self._add_event(event, global_step)

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        """Write the step statistics of a traced `Session.run` (TensorBoard's compute-time
        and memory views of the graph page).

        Args:
          run_metadata: the `RunMetadata` filled by a run with
            `RunOptions(trace_level=RunOptions.FULL_TRACE)`.
          tag: name of this run, unique per writer.
          global_step: optional step to record.

        Raises:
          ValueError: `tag` was already used by this writer.
        """
        if self._warn_if_closed():
            return
        if tag in self._session_run_tags:
            raise ValueError("The provided tag was already used for this event type")
        self._session_run_tags.add(tag)
        protos = _protos()
        tagged = protos.event_pb2.TaggedRunMetadata(
            tag=tag, run_metadata=_run_metadata_bytes(run_metadata))
        event = protos.event_pb2.Event(tagged_run_metadata=tagged)
        self._add_event(event, global_step)


class FileWriterCache:
    """One shared `FileWriter` per log directory (TF1's `tf.summary.FileWriterCache`)."""

    _cache = {}
    _lock = threading.RLock()

    @staticmethod
    def get(logdir):
        """The `FileWriter` for `logdir`, created (with the default graph) on first use."""
        from headwater.framework import ops as _ops

        with FileWriterCache._lock:
            w = FileWriterCache._cache.get(logdir)
            if w is None:
                w = FileWriterCache._cache[logdir] = FileWriter(
                    logdir, graph=_ops.get_default_graph())
            return w

    @staticmethod
    def clear():
        """Close and forget every cached writer."""
        with FileWriterCache._lock:
            for w in FileWriterCache._cache.values():
                w.close()
            FileWriterCache._cache.clear()
