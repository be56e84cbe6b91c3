"""Histogram summaries bucketed on the background thread give the bytes of the in-line path."""

import numpy as np
import pytest

pytest.importorskip("tensorboard")

import headwater as tf  # noqa: E402
from headwater._native import _C  # noqa: E402
from headwater.framework import errors  # noqa: E402
from headwater.runtime import schedule  # noqa: E402
from headwater.summary import _protos, summary_ops  # noqa: E402

Summary = _protos.summary_pb2.Summary
pytestmark = pytest.mark.skipif(_C is None, reason="needs the native module")


@pytest.fixture(params=[1, 2])
def threads(request):
    old = _C.get_num_threads()
    _C.set_num_threads(request.param)
    yield request.param
    _C.set_num_threads(old)


@pytest.fixture
def sync_only():
    schedule.ASYNC_HISTOGRAMS = False
    yield
    schedule.ASYNC_HISTOGRAMS = True


def _limits():
    summary_ops.default_bucket_limits()
    return summary_ops._default_limits[0]


@pytest.mark.parametrize("n", [0, 1, 2, 7, 2047, 2048, 7841, 32768, 32769, 100003])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_job_equals_the_in_line_kernel_and_owns_a_copy(n, dtype):
    rng = np.random.default_rng(n)
    v = (rng.standard_normal(n) * 10.0 ** rng.integers(-6, 6, n)).astype(dtype)
    lim = _limits()
    sync = (_C.histogram_summary_f32 if dtype == np.float32 else _C.histogram_summary_f64)(v, lim)
    submit = (_C.histogram_summary_submit_f32 if dtype == np.float32
              else _C.histogram_summary_submit_f64)
    job = submit(v, lim)
    v[:] = 3.0  # the job bucketed its own copy
    got = job.result()
    assert got[6] is False
    np.testing.assert_array_equal(got[0], sync[0])
    np.testing.assert_array_equal(got[1], sync[1])
    assert got[2:6] == sync[2:]
    assert job.done()
    assert job.result()[4] == sync[4]  # asking twice is fine


def test_job_reports_nan_and_infinity():
    lim = _limits()
    v = np.linspace(-1, 1, 5000).astype(np.float32)
    v[17] = np.inf
    got = _C.histogram_summary_submit_f32(v, lim).result()
    assert not np.isfinite(got[4]) and got[6] is False
    v[18] = np.nan
    assert _C.histogram_summary_submit_f32(v, lim).result()[6] is True


def test_many_jobs_in_flight_finish_in_any_order():
    lim = _limits()
    rng = np.random.default_rng(0)
    vs = [rng.standard_normal(3000 + i).astype(np.float32) for i in range(40)]
    jobs = [_C.histogram_summary_submit_f32(v, lim) for v in vs]
    for v, job in reversed(list(zip(vs, jobs))):
        assert job.result()[4] == _C.histogram_summary_f32(v, lim)[4]


def _train_with_summaries(steps, fetch_histogram=False):
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        x = tf.constant(np.random.default_rng(0).random((64, 300), dtype=np.float32))
        W = tf.Variable(tf.random_normal([300, 20], stddev=0.1))
        b = tf.Variable(tf.zeros([20]))
        loss = tf.reduce_mean(tf.square(tf.matmul(x, W) + b))
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        tf.summary.scalar("loss", loss)
        hw = tf.summary.histogram("weights", W)
        tf.summary.histogram("biases", b)
        merged = tf.summary.merge_all()
        fetches = [merged, train, W] + ([hw] if fetch_histogram else [])
        out = []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run(W)
            for _ in range(steps):
                got = sess.run(fetches)
                out.append((got[0], before) + tuple(got[3:]))
                before = got[2]
        return out


def test_merged_histograms_match_the_in_line_path(threads, sync_only):
    expected = _train_with_summaries(4)
    schedule.ASYNC_HISTOGRAMS = True
    got = _train_with_summaries(4)
    assert [g[0] for g in got] == [e[0] for e in expected]
    for data, before in got:
        h = {v.tag: v for v in Summary.FromString(data).value}["weights"].histo
        assert h.num == before.size
        assert h.min == pytest.approx(float(before.min()), rel=1e-6)
        assert h.sum == pytest.approx(float(before.astype(np.float64).sum()), rel=1e-5,
                                      abs=1e-6)


def test_fetched_histogram_is_plain_bytes(threads):
    for data, _, h in _train_with_summaries(2, fetch_histogram=True):
        assert type(h) is bytes
        assert Summary.FromString(h).value[0].tag == "weights"
        assert h in data


def test_nan_in_a_background_histogram_names_the_histogram_op(threads):
    with tf.Graph().as_default():
        v = tf.placeholder(tf.float32, [5000])
        tf.summary.scalar("s", tf.reduce_sum(v))
        tf.summary.histogram("values", v, collections=None)
        merged = tf.summary.merge_all()
        bad = np.zeros(5000, np.float32)
        bad[4321] = np.nan
        with tf.Session() as sess:
            assert Summary.FromString(sess.run(merged, {v: np.ones(5000, np.float32)}))
            with pytest.raises(errors.InvalidArgumentError,
                               match="Nan in summary histogram for: values") as e:
                sess.run(merged, {v: bad})
            assert e.value.op is not None and e.value.op.type == "HistogramSummary"
            bad[4321] = -np.inf
            with pytest.raises(errors.InvalidArgumentError, match="Infinity in summary"):
                sess.run(merged, {v: bad})


def test_only_histograms_read_by_merges_alone_go_to_the_background():
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [None])
        ha = tf.summary.histogram("a", a)
        hb = tf.summary.histogram("b", a * 2.0)
        merged = tf.summary.merge_all()
        with tf.Session() as sess:
            feed = {a: np.arange(3000, dtype=np.float32)}
            sess.run(merged, feed)
            kinds = {s.report_op.name if hasattr(s, "report_op") else s.name: s._type
                     for s in sess._entry([merged], (a,)).plan.run_ops}
            assert kinds[ha.op.name] == "_AsyncHistogram"
            assert kinds[hb.op.name] == "_AsyncHistogram"
            sess.run([merged, hb], feed)
            kinds = {s.report_op.name if hasattr(s, "report_op") else s.name: s._type
                     for s in sess._entry([merged, hb], (a,)).plan.run_ops}
            assert kinds[ha.op.name] == "_AsyncHistogram"
            assert kinds[hb.op.name] == "HistogramSummary"  # fetched: computed in line
