"""TF1's `tf.summary`: summary ops, `FileWriter` and the event-file format TensorBoard reads.

    loss_summary = tf.summary.scalar("loss", loss)
    merged = tf.summary.merge_all()
    writer = tf.summary.FileWriter("/tmp/logs", sess.graph)
    writer.add_summary(sess.run(merged, feed_dict), step)

The protocol buffer classes (`Summary`, `Event`, `SessionLog`, ...) are TensorBoard's own,
loaded from the optional `tensorboard` package the first time one is used; importing this
module does not import it.
"""

from headwater.summary.summary_ops import (audio, get_summary_description, histogram, image,
                                          merge, merge_all, scalar, tensor_summary, text)
from headwater.summary.writer import FileWriter, FileWriterCache

__all__ = ["FileWriter", "FileWriterCache", "scalar", "histogram", "image", "audio", "text",
           "tensor_summary", "merge", "merge_all", "get_summary_description",
           "Summary", "Event", "SessionLog",
           "SummaryDescription", "SummaryMetadata", "HistogramProto", "TaggedRunMetadata"]

_LAZY_PROTOS = {
    "Summary": ("summary_pb2", "Summary"),
    "SummaryDescription": ("summary_pb2", "SummaryDescription"),
    "SummaryMetadata": ("summary_pb2", "SummaryMetadata"),
    "HistogramProto": ("summary_pb2", "HistogramProto"),
    "Event": ("event_pb2", "Event"),
    "SessionLog": ("event_pb2", "SessionLog"),
    "TaggedRunMetadata": ("event_pb2", "TaggedRunMetadata"),
}


def __getattr__(name):
    spec = _LAZY_PROTOS.get(name)
    if spec is None:
        raise AttributeError("module 'headwater.summary' has no attribute %r" % name)
    from headwater.summary import _protos

    value = getattr(getattr(_protos, spec[0]), spec[1])
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY_PROTOS))
