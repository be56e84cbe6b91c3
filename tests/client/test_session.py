"""Session.run: fetch structures, feeds, errors, plan caching, threads, memory."""

import collections
import threading

import numpy as np
import pytest

import headwater as tf


@pytest.fixture
def g():
    with tf.Graph().as_default() as graph:
        yield graph


def test_fetch_structures(g):
    a = tf.constant(1.0)
    b = tf.constant([1, 2])
    c = tf.add(a, a)
    P = collections.namedtuple("P", "x y")
    with tf.Session() as s:
        assert s.run(a) == 1.0
        assert isinstance(s.run(a), np.float32)  # 0-d fetches are numpy scalars, as in TF1
        out = s.run([a, (b, {"k": c}), P(x=c, y=[a])])
        assert out[0] == 1.0
        assert isinstance(out[1], tuple)
        np.testing.assert_array_equal(out[1][0], [1, 2])
        assert out[1][1] == {"k": 2.0}
        assert isinstance(out[2], P) and out[2].x == 2.0 and out[2].y == [1.0]
        assert s.run([]) == []
        assert s.run({}) == {}
        assert s.run(c.op) is None
        assert s.run([c.op, c]) == [None, 2.0]
        assert s.run("Add:0") == 2.0
        assert s.run(["Add", "Add:0"]) == [None, 2.0]


def test_duplicate_fetch_computed_once(g):
    calls = []
    x = tf.placeholder(tf.float32, [])
    y = x + 1.0
    with tf.Session() as s:
        r = s.run([y, y, {"again": y}], {x: 1.0})
        assert r == [2.0, 2.0, {"again": 2.0}]
        entry = next(iter(s._cache.values()))
        assert entry.plan.fetch_tensors == [y]
    assert not calls


def test_fetched_values_are_private_copies(g):
    a = tf.constant([1.0, 2.0])
    with tf.Session() as s:
        v = s.run(a)
        v[0] = 100.0
        np.testing.assert_array_equal(s.run(a), [1.0, 2.0])


def test_feed_by_tensor_and_by_name_and_non_placeholder(g):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    c = tf.constant([[10.0, 20.0]])
    y = tf.add(x, c)
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(y, {x: [[1, 2]]}), [[11, 22]])
        np.testing.assert_allclose(s.run(y, {"x:0": [[1, 2]]}), [[11, 22]])
        # Any tensor can be fed, not only placeholders; the feed cuts the graph there.
        np.testing.assert_allclose(s.run(y, {x: [[0, 0]], c: [[1.0, 1.0]]}), [[1, 1]])
        assert s.run(y, {y: [[5.0, 5.0]]}).tolist() == [[5.0, 5.0]]


def test_feed_dtype_conversion(g):
    x = tf.placeholder(tf.float32, [3])
    i = tf.placeholder(tf.int32, [])
    with tf.Session() as s:
        v = s.run(x, {x: np.array([1, 2, 3], dtype=np.int64)})
        assert v.dtype == np.float32
        assert s.run(i, {i: 3}).dtype == np.int32
        with pytest.raises(TypeError, match="The value of a feed cannot be a tf.Tensor"):
            s.run(x, {x: tf.constant([1.0, 2.0, 3.0])})


def test_feed_shape_error_message(g):
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y = tf.identity(x)
    with tf.Session() as s:
        with pytest.raises(ValueError) as ei:
            s.run(y, {x: np.zeros((2, 783))})
        assert str(ei.value) == ("Cannot feed value of shape (2, 783) for Tensor 'x:0', which "
                                 "has shape '(?, 784)'")
        with pytest.raises(ValueError, match="Cannot feed value of shape"):
            s.run(y, {x: np.zeros(784)})


def test_missing_feed_error_names_placeholder_and_line(g):
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y = tf.identity(x)
    with tf.Session() as s:
        with pytest.raises(tf.errors.InvalidArgumentError) as ei:
            s.run(y)
    msg = str(ei.value)
    assert msg.startswith("You must feed a value for placeholder tensor 'x' with dtype float "
                          "and shape [?,784]")
    assert __file__ in msg
    assert ei.value.op is x.op
    assert ei.value.error_code == tf.errors.INVALID_ARGUMENT


def test_runtime_kernel_error_becomes_invalid_argument(g):
    x = tf.placeholder(tf.float32, [None])
    y = tf.placeholder(tf.float32, [None])
    z = tf.add(x, y, name="my_add")
    with tf.Session() as s:
        with pytest.raises(tf.errors.InvalidArgumentError) as ei:
            s.run(z, {x: [1.0, 2.0], y: [1.0, 2.0, 3.0]})
    assert "my_add" in str(ei.value)
    assert ei.value.op is z.op


def test_bad_fetch_and_feed_keys(g):
    a = tf.constant(1.0)
    with tf.Session() as s:
        with pytest.raises(TypeError, match="Fetch argument None"):
            s.run(None)
        with pytest.raises(TypeError, match="invalid type"):
            s.run(3)
        with pytest.raises(ValueError, match="cannot be interpreted as a Tensor"):
            s.run("nope:0")
        with pytest.raises(TypeError, match="Cannot interpret feed_dict key"):
            s.run(a, {"nope:0": 1.0})
    other = tf.Graph()
    with other.as_default():
        b = tf.constant(2.0)
    with tf.Session() as s:
        with pytest.raises(ValueError, match="not an element of this graph"):
            s.run(b)


def test_plan_cached_per_signature(g):
    x = tf.placeholder(tf.float32, [])
    y = x + 1.0
    z = tf.identity(y)
    with tf.Session() as s:
        s.run(y, {x: 1.0})
        s.run(y, {x: 2.0})
        assert len(s._cache) == 1
        s.run([y], {x: 2.0})
        s.run(z, {x: 2.0})
        assert len(s._cache) == 3
        # a graph that grows after planning keeps its plans valid
        w = y + 2.0
        assert s.run(y, {x: 1.0}) == 2.0
        assert s.run(w, {x: 1.0}) == 4.0


def test_plan_prunes_unneeded_ops(g):
    x = tf.placeholder(tf.float32, [])
    y = x + 1.0
    tf.placeholder(tf.float32, [], name="unused") + 2.0
    with tf.Session() as s:
        s.run(y, {x: 1.0})
        (entry,) = s._cache.values()
        types = sorted(op.type for op in entry.plan.ops)
    assert types == ["AddV2", "Const"]


def test_control_dependencies_run_first(g):
    x = tf.placeholder(tf.float32, [], name="must_feed")
    with tf.control_dependencies([x]):
        y = tf.constant(1.0)
    with tf.Session() as s:
        with pytest.raises(tf.errors.InvalidArgumentError, match="must_feed"):
            s.run(y)
        assert s.run(y, {x: 0.0}) == 1.0


def test_make_callable(g):
    x = tf.placeholder(tf.float32, [None])
    y = tf.add(x, x)
    with tf.Session() as s:
        f = s.make_callable(y, [x])
        np.testing.assert_allclose(f([1.0, 2.0]), [2.0, 4.0])
        f2 = s.make_callable([y, y.op], feed_list=[x])
        out = f2(np.ones(3, np.float32))
        assert out[1] is None
        np.testing.assert_allclose(out[0], [2.0, 2.0, 2.0])
        with pytest.raises(TypeError, match="Expected 1 feed values"):
            f()


def test_default_session_eval_and_run(g):
    a = tf.constant(3.0)
    b = tf.identity(a)
    with pytest.raises(ValueError, match="No default session"):
        a.eval()
    with tf.Session() as s:
        assert tf.get_default_session() is s
        assert a.eval() == 3.0
        b.op.run()
    assert tf.get_default_session() is None
    s = tf.Session()
    with s.as_default():
        assert b.eval() == 3.0
    assert b.eval(session=s) == 3.0
    s.close()
    with pytest.raises(RuntimeError, match="closed Session"):
        s.run(a)


def test_interactive_session(g):
    a = tf.constant(2.0)
    sess = tf.InteractiveSession()
    try:
        assert a.eval() == 2.0
    finally:
        sess.close()
    assert tf.get_default_session() is None


def test_session_on_explicit_graph():
    g1 = tf.Graph()
    with g1.as_default():
        a = tf.constant(5.0)
    s = tf.Session(graph=g1)
    assert s.graph is g1
    assert s.run(a) == 5.0
    with pytest.raises(TypeError):
        tf.Session(graph=3)


def test_threads_can_share_a_session(g):
    x = tf.placeholder(tf.float64, [None])
    y = x
    for _ in range(20):
        y = y + 1.0
    s = tf.Session()
    errors = []

    def worker(k):
        try:
            for i in range(200):
                v = np.full(7, float(k * 1000 + i))
                out = s.run(y, {x: v})
                if not np.array_equal(out, v + 20):
                    errors.append((k, i))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []


def test_large_graph_uses_interpreter_and_agrees(g):
    from headwater.runtime import plan as plan_mod
    x = tf.placeholder(tf.float32, [])
    y = x
    for _ in range(plan_mod.CODEGEN_MAX_OPS + 50):
        y = y + 1.0
    with tf.Session() as s:
        assert s.run(y, {x: 0.5}) == pytest.approx(0.5 + plan_mod.CODEGEN_MAX_OPS + 50)
        (entry,) = s._cache.values()
        assert entry.plan.code is None  # interpreted
        bad = tf.placeholder(tf.float32, [], name="late")
        with pytest.raises(tf.errors.InvalidArgumentError, match="late"):
            s.run(y + bad, {x: 0.0})


def test_intermediates_are_freed_after_last_use(g):
    # A long chain of large intermediates must keep ~2 live buffers, not all of them.
    import tracemalloc
    n = 1 << 18  # 1 MiB of float32 per buffer
    x = tf.placeholder(tf.float32, [n])
    y = x
    for _ in range(30):
        y = tf.add(y, y)
    with tf.Session() as s:
        v = np.ones(n, np.float32)
        s.run(y, {x: v})
        tracemalloc.start()
        s.run(y, {x: v})
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 4 * n * 4, peak  # well under the 30 buffers a naive executor would keep


def test_fetch_indexed_slices_gives_value_triple(g):
    p = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (grad,) = tf.gradients(tf.reduce_sum(tf.gather(p, [0, 2, 0])), p)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        v = s.run(grad)
    assert isinstance(v, tf.IndexedSlicesValue)
    np.testing.assert_array_equal(v.indices, [0, 2, 0])
    np.testing.assert_array_equal(v.values, np.ones((3, 2)))
    np.testing.assert_array_equal(v.dense_shape, [3, 2])


def test_traced_run_fills_step_stats(g):
    pytest.importorskip("tensorboard")
    x = tf.placeholder(tf.float32, [3])
    y = tf.reduce_sum(x * 2.0)
    opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    md = tf.RunMetadata()
    with tf.Session() as s:
        assert s.run(y, {x: [1.0, 2.0, 3.0]}, options=opts, run_metadata=md) == 12.0
    names = {ns.node_name for dev in md.step_stats.dev_stats for ns in dev.node_stats}
    assert y.op.name in names
