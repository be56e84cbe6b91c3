"""Cost of summaries: MNIST softmax training with and without writing summaries every step.

The baseline is the training step fetching what the summaries are computed from (train op,
loss and accuracy; for histograms also the weights and biases), so the measured overhead is
only the summary ops, their merge and `FileWriter.add_summary`, not the accuracy computation a
summary happens to need. Both variants run in the same graph and session, interleaved in
alternating blocks, so machine load drifting during the run affects them alike; the overhead
is the median over blocks of (summary block / neighbouring baseline blocks). Also times the raw
event-file path (CRC-32C framing and queueing) and the graph export.
"""

import os
import statistics
import sys
import tempfile
import time

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


def _interleaved(summaries, batches, rounds, steps):
    """(baseline seconds/step, with-summaries seconds/step, overhead) as medians over
    `rounds` alternating blocks of `steps` steps each."""
    import headwater as tf
    import headwater.summary  # noqa: F401

    with tf.Graph().as_default() as g:
        x, y_, train, merged, xent, acc = _build(tf, summaries)
        fetches = [train, xent, acc]
        if "histograms" in summaries:
            fetches += tf.trainable_variables()  # the histograms' inputs
        with tempfile.TemporaryDirectory() as d, tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            writer = tf.summary.FileWriter(d, g)
            i = [0]

            def base_block():
                t0 = time.perf_counter()
                for _ in range(steps):
                    xs, ys = batches[i[0] % len(batches)]
                    i[0] += 1
                    sess.run(fetches, {x: xs, y_: ys})
                return (time.perf_counter() - t0) / steps

            def summary_block():
                t0 = time.perf_counter()
                for _ in range(steps):
                    xs, ys = batches[i[0] % len(batches)]
                    i[0] += 1
                    out = sess.run([merged] + fetches, {x: xs, y_: ys})
                    writer.add_summary(out[0], i[0])
                return (time.perf_counter() - t0) / steps

            base_block(), summary_block()  # warm-up: plans compiled, caches filled
            bases, withs, ratios = [], [], []
            for r in range(rounds):
                # b1 w b2 (or w b1 w2): the ratio compares against both neighbours.
                if r % 2:
                    w1, b, w2 = summary_block(), base_block(), summary_block()
                    bases.append(b), withs.extend((w1, w2)), ratios.append((w1 + w2) / (2 * b))
                else:
                    b1, w, b2 = base_block(), summary_block(), base_block()
                    bases.extend((b1, b2)), withs.append(w), ratios.append(2 * w / (b1 + b2))
            writer.close()
    return statistics.median(bases), statistics.median(withs), statistics.median(ratios) - 1


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
    rounds, steps = (3, 20) if quick else (15, 100)
    from headwater._native import _C

    rows = []
    default_threads = _C.get_num_threads() if _C is not None else 1
    # One kernel thread too: with several, summary work between steps can outlast the pool's
    # spin window, and the next step's matmul then pays for waking the workers.
    for threads in sorted({default_threads, 1}, reverse=True):
        if _C is not None:
            _C.set_num_threads(threads)
        try:
            for kind in ("scalars", "scalars+histograms"):
                base, with_s, overhead = _interleaved(kind, batches, rounds, steps)
                rows.append([kind, threads, fmt_time(base), fmt_time(with_s),
                             fmt_time(with_s - base), "%+.1f%%" % (100 * overhead)])
        finally:
            if _C is not None:
                _C.set_num_threads(default_threads)
    out = [("Summaries: MNIST softmax training step (batch 100) with summaries written every "
            "step; scalars = loss and accuracy, histograms = weights (7840 values) and biases. "
            "Baseline fetches the same non-summary tensors; medians of %d interleaved blocks "
            "of %d steps" % (rounds, steps),
            table(["summaries", "kernel threads", "baseline step",
                   "step + summaries + add_summary",
                   "difference", "overhead (median of block ratios)"], rows))]
    out.append(("Summaries: event-file path", table(["operation", "time"],
                                                   _event_path_times(quick))))
    return out


if __name__ == "__main__":
    for title, md in run(quick="--quick" in sys.argv):
        print("## %s\n\n%s\n" % (title, md))
