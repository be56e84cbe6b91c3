"""Checkpoint save/restore throughput against the disk's raw write bandwidth.

A model of 100M float32 parameters (quick mode: 1M) in a few variables is saved with
`tf.train.Saver` and restored; the same bytes are also written with plain `os.write` calls and
one `fsync`, in the same run and directory, as the bandwidth reference. The target (issue 7):
save and restore at >= 50% of that bandwidth, and never more than one extra copy of the
largest tensor in memory (measured with tracemalloc, which sees numpy's buffers, in a separate
untimed pass). Restore reads what was just written, so it usually comes from the page cache.
"""

import os
import shutil
import statistics
import tempfile
import time
import tracemalloc

import numpy as np

from _harness import fmt_time, table


def _build(n_params):
    import headwater as tf

    # One large tensor holding 40% of the parameters plus four smaller ones.
    sizes = [int(n_params * 0.4)] + [int(n_params * 0.15)] * 4
    sizes[-1] += n_params - sum(sizes)
    g = tf.Graph()
    rng = np.random.default_rng(0)
    with g.as_default():
        vs = [tf.Variable(tf.zeros([n], tf.float32), name="layer%d/kernel" % i)
              for i, n in enumerate(sizes)]
        saver = tf.train.Saver(max_to_keep=1)
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        for v, n in zip(vs, sizes):
            sess._state.variables[v.op] = rng.standard_normal(n, dtype=np.float32)
    return g, sess, saver, vs, max(sizes) * 4


def _raw_write(path, arrays):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for a in arrays:
            mv = memoryview(a).cast("B")
            done = 0
            while done < len(mv):
                done += os.write(fd, mv[done:done + (32 << 20)])
        os.fsync(fd)
    finally:
        os.close(fd)


def _peak_extra(fn, warm):
    """Peak bytes allocated by `fn()` beyond what was live before it. `warm()` runs first
    under tracing so the variables' own arrays are tracked (tracemalloc ignores frees of
    blocks allocated before it started, which would hide that restore frees old values)."""
    tracemalloc.start()
    try:
        warm()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _fmt_bytes(n):
    if n >= 1 << 20:
        return "%.1f MiB" % (n / (1 << 20))
    if n >= 1 << 10:
        return "%.1f KiB" % (n / (1 << 10))
    return "%d B" % n


def run(quick=False):
    n_params = 1_000_000 if quick else 100_000_000
    repeat = 1 if quick else 3
    g, sess, saver, vs, largest = _build(n_params)
    nbytes = sum(sess._state.variables[v.op].nbytes for v in vs)
    d = tempfile.mkdtemp(prefix="hw-bench-ckpt-")
    try:
        prefix = os.path.join(d, "model.ckpt")
        raw_times, save_times, restore_times = [], [], []
        for _ in range(repeat):
            # Fetched afresh and dropped before restoring: a stale reference would keep the
            # replaced arrays alive and inflate restore's memory.
            arrays = [sess._state.variables[v.op] for v in vs]
            t0 = time.perf_counter()
            _raw_write(os.path.join(d, "raw.bin"), arrays)
            raw_times.append(time.perf_counter() - t0)
            del arrays
            os.unlink(os.path.join(d, "raw.bin"))
            t0 = time.perf_counter()
            path = saver.save(sess, prefix, write_meta_graph=False)
            save_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            saver.restore(sess, path)
            restore_times.append(time.perf_counter() - t0)
        # Memory passes (untimed: tracemalloc slows allocation-heavy code).
        def restore():
            saver.restore(sess, prefix)

        save_mem = _peak_extra(lambda: saver.save(sess, prefix, write_meta_graph=False),
                               restore)
        restore_mem = _peak_extra(restore, restore)
    finally:
        shutil.rmtree(d, ignore_errors=True)
        sess.close()
    raw = statistics.median(raw_times)
    bw = nbytes / raw
    rows = [["raw os.write + fsync (reference)", fmt_time(raw), "%.2f GB/s" % (bw / 1e9),
             "100%", "-"]]
    for name, times, mem in (("Saver.save", save_times, save_mem),
                             ("Saver.restore", restore_times, restore_mem)):
        t = statistics.median(times)
        rows.append([name, fmt_time(t), "%.2f GB/s" % (nbytes / t / 1e9),
                     "%.0f%%" % (100 * raw / t),
                     "%s (%.2fx largest tensor)" % (_fmt_bytes(mem), mem / largest)])
    title = "Checkpoint save/restore, %dM float32 parameters (%s, largest tensor %s)" % (
        n_params // 1_000_000, _fmt_bytes(nbytes), _fmt_bytes(largest))
    return [(title, table(["operation", "time", "throughput", "vs raw write bandwidth",
                           "peak extra memory"], rows))]


if __name__ == "__main__":
    import sys

    for title, md in run(quick="--quick" in sys.argv):
        print("## %s\n\n%s\n" % (title, md))
