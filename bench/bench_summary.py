"""Cost of summaries: MNIST softmax training with and without writing summaries every step.

Compares per-step time of the plain training step against the same step also fetching and
writing (FileWriter.add_summary) merged summaries every step: loss and accuracy scalars, then
additionally histograms of the weights and biases. Also times the raw event-file path (CRC-32C
framing and queueing) and the graph export.
"""

import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import fmt_time, measure, table  # noqa: E402


def _mnist_batches(n_batches, batch=100, seed=0):
    here = os.path.dirname(os.path.abspath(__file__))
    shared = os.path.normpath(os.path.join(here, "..", "..", "shared", "data", "mnist"))
    rng = np.random.default_rng(seed)
    try:
        from headwater.datasets.mnist import read_data_sets

        ds = read_data_sets(shared if os.path.isdir(shared) else None, one_hot=True,
                            seed=seed).train
        return [ds.next_batch(batch) for _ in range(n_batches)]
    except Exception:  # no data: random digits cost the same
        return [(rng.random((batch, 784), dtype=np.float32),
                 np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)])
                for _ in range(n_batches)]


def _build(tf, summaries):
    x = tf.placeholder(tf.float32, [None, 784])
    y_ = tf.placeholder(tf.float32, [None, 10])
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    y = tf.matmul(x, W) + b
    xent = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=y))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(xent)
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1)), tf.float32))
    merged = None
    if summaries != "none":
        tf.summary.scalar("cross_entropy", xent)
        tf.summary.scalar("accuracy", acc)
        if summaries == "scalars+histograms":
            tf.summary.histogram("weights", W)
            tf.summary.histogram("biases", b)
        merged = tf.summary.merge_all()
    return x, y_, train, merged, xent, acc


def _step_time(summaries, batches, repeat, fetch_metrics=False):
    import headwater as tf
    import headwater.summary  # noqa: F401

    with tf.Graph().as_default() as g:
        x, y_, train, merged, xent, acc = _build(tf, summaries)
        with tempfile.TemporaryDirectory() as d, tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            writer = tf.summary.FileWriter(d, g) if merged is not None else None
            i = [0]

            def step():
                xs, ys = batches[i[0] % len(batches)]
                i[0] += 1
                if writer is None and fetch_metrics:
                    sess.run([train, xent, acc], {x: xs, y_: ys})
                elif writer is None:
                    sess.run(train, {x: xs, y_: ys})
                else:
                    s, _ = sess.run([merged, train], {x: xs, y_: ys})
                    writer.add_summary(s, i[0])
            t = measure(step, repeat=repeat, min_time=0.2 if repeat > 3 else 0.02)
            if writer is not None:
                writer.close()
    return t


def _event_path_times(quick):
    import headwater as tf
    import headwater.summary as summary
    from headwater.summary import crc32c

    rows = []
    blob = os.urandom(1 << 20)
    rows.append(["CRC-32C of 1 MiB (%s)" % crc32c.backend,
                 fmt_time(measure(lambda: crc32c.crc32c(blob), repeat=3 if quick else 7))])
    s = summary.Summary(value=[summary.Summary.Value(tag="loss", simple_value=0.5)])
    data = s.SerializeToString()
    with tempfile.TemporaryDirectory() as d:
        w = summary.FileWriter(d, flush_secs=3600)
        rows.append(["FileWriter.add_summary(serialized scalar)",
                     fmt_time(measure(lambda: w.add_summary(data, 1),
                                      repeat=3 if quick else 7))])
        w.close()
        with tf.Graph().as_default() as g:
            _build(tf, "scalars+histograms")
            w = summary.FileWriter(d)
            rows.append(["add_graph (MNIST softmax training graph, %d ops)"
                         % len(g.get_operations()),
                         fmt_time(measure(lambda: w.add_graph(g), repeat=3 if quick else 5))])
            w.close()
    return rows


def run(quick=False):
    """[(title, markdown table)] for bench/run.py."""
    batches = _mnist_batches(10 if quick else 50)
    repeat = 3 if quick else 9
    bare = _step_time("none", batches, repeat)
    base = _step_time("none", batches, repeat, fetch_metrics=True)
    rows = [["none (train op only)", fmt_time(bare), "-", "-"],
            ["none, fetching loss and accuracy", fmt_time(base),
             "%+.1f%%" % (100 * (base / bare - 1)),
             "-"]]
    for kind in ("scalars", "scalars+histograms"):
        t = _step_time(kind, batches, repeat)
        rows.append(["%s every step" % kind, fmt_time(t), "%+.1f%%" % (100 * (t / bare - 1)),
                     "%+.1f%%" % (100 * (t / base - 1))])
    out = [("Summaries: MNIST softmax training step (batch 100); scalars = loss and accuracy, "
            "histograms = weights (7840 values) and biases",
            table(["summaries written", "time per step", "vs train op only",
                   "vs fetching loss+accuracy"], rows))]
    out.append(("Summaries: event-file path", table(["operation", "time"],
                                                   _event_path_times(quick))))
    return out


if __name__ == "__main__":
    for title, md in run(quick="--quick" in sys.argv):
        print("## %s\n\n%s\n" % (title, md))
