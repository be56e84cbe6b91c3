"""Control flow: no_op, group, tuple, cond, case, while_loop."""

import collections

import numpy as np
import pytest

import headwater as tf


@pytest.fixture
def g():
    with tf.Graph().as_default() as graph:
        yield graph


def _printed(capfd):
    return capfd.readouterr().err


# ---- no_op / group / tuple -------------------------------------------------------------------

def test_no_op(g):
    op = tf.no_op()
    assert isinstance(op, tf.Operation)
    assert op.type == "NoOp" and op.name == "NoOp" and op.outputs == []
    assert tf.no_op(name="nothing").name == "nothing"
    with tf.Session() as s:
        assert s.run(op) is None


def test_group_runs_all_inputs_in_order(g, capfd):
    x = tf.constant([1, 2])
    a = tf.Print(x, [x], "a")
    b = tf.Print(x, [x], "b")
    grp = tf.group(a, [b.op])
    assert grp.type == "NoOp" and grp.name == "group_deps"
    assert set(grp.control_inputs) == {a.op, b.op}
    assert tf.group(a, name="mine").name == "mine"
    assert tf.group().type == "NoOp"
    with tf.Session() as s:
        assert s.run(grp) is None
    assert _printed(capfd) == "a[1 2]\nb[1 2]\n"
    with pytest.raises(TypeError, match="Expected tf.group"):
        tf.group(a, 3)
    with pytest.raises(ValueError, match="Unknown keyword"):
        tf.group(a, foo=1)


def test_tuple_gates_every_output(g, capfd):
    x = tf.constant(1.0)
    y = tf.constant([2.0, 3.0])
    side = tf.Print(x, [x], "side")
    tx, ty, none = tf.tuple([x, y, None], control_inputs=[side])
    assert none is None
    assert tx.dtype == tf.float32 and ty.shape.as_list() == [2]
    assert tx.op.type == "Identity" and tx.name.startswith("tuple/")
    with tf.Session() as s:
        assert s.run(tx) == 1.0
        assert _printed(capfd) == "side[1]\n"  # fetching one output ran every gating input
        np.testing.assert_array_equal(s.run(ty), [2.0, 3.0])
    with pytest.raises(ValueError, match="at least one Tensor"):
        tf.tuple([None])


# ---- cond ----------------------------------------------------------------------------------

def test_cond_values_and_naming(g):
    x = tf.placeholder(tf.float32, [None])
    p = tf.placeholder(tf.bool, [])
    out = tf.cond(p, lambda: x + 1.0, lambda: tf.multiply(x, 2.0))
    assert out.name == "cond:0" and out.op.type == "If"
    assert out.dtype == tf.float32 and out.shape.as_list() == [None]
    assert g.get_operation_by_name("cond/add").type == "AddV2"  # branch ops under the scope
    out2 = tf.cond(p, lambda: x, lambda: x)
    assert out2.name == "cond_1:0"
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(out, {x: [1, 2], p: True}), [2, 3])
        np.testing.assert_array_equal(s.run(out, {x: [1, 2], p: False}), [2, 4])
        np.testing.assert_array_equal(s.run(out2, {x: [5], p: False}), [5])


def test_cond_runs_only_taken_branch_print(g, capfd):
    x = tf.constant([1, 2, 3])
    p = tf.placeholder(tf.bool, [])
    out = tf.cond(p, lambda: tf.Print(x, [x], "true:"), lambda: tf.Print(x + 1, [x], "false:"))
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(out, {p: True}), [1, 2, 3])
        assert _printed(capfd) == "true:[1 2 3]\n"
        np.testing.assert_array_equal(s.run(out, {p: False}), [2, 3, 4])
        assert _printed(capfd) == "false:[1 2 3]\n"


def test_cond_runs_only_taken_branch_assign(g):
    v = tf.Variable(0, name="v")
    p = tf.placeholder(tf.bool, [])
    out = tf.cond(p, lambda: tf.assign_add(v, 1), lambda: tf.assign_add(v, 10))
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        assert s.run(out, {p: True}) == 1
        assert s.run(v) == 1
        assert s.run(out, {p: False}) == 11
        assert s.run(out, {p: False}) == 21
        assert s.run(v) == 21


def test_cond_side_effect_through_control_dependency(g, capfd):
    x = tf.constant(3)
    p = tf.placeholder(tf.bool, [])

    def true_fn():
        with tf.control_dependencies([tf.print("in true", x)]):
            return tf.identity(x)

    def false_fn():
        with tf.control_dependencies([tf.print("in false", x)]):
            return x + 1

    out = tf.cond(p, true_fn, false_fn)
    with tf.Session() as s:
        assert s.run(out, {p: False}) == 4
        assert _printed(capfd) == "in false 3\n"
        assert s.run(out, {p: True}) == 3
        assert _printed(capfd) == "in true 3\n"


def test_cond_captures_outer_tensors_and_runs_them_once(g, capfd):
    a = tf.placeholder(tf.float32, [])
    b = tf.Print(a * 2.0, [a], "b:")  # outer op, read by both branches
    p = tf.placeholder(tf.bool, [])
    out = tf.cond(p, lambda: b + a, lambda: b - a)
    assert set(out.op.inputs) == {p, b, a}
    with tf.Session() as s:
        assert s.run(out, {a: 3.0, p: True}) == 9.0
        assert s.run(out, {a: 3.0, p: False}) == 3.0
    assert _printed(capfd) == "b:[3]\nb:[3]\n"


def test_cond_outer_control_dependencies_apply_to_the_cond(g, capfd):
    x = tf.constant(1)
    pr = tf.print("before")
    with tf.control_dependencies([pr]):
        out = tf.cond(tf.constant(True), lambda: x + 1, lambda: x - 1)
    assert pr in out.op.control_inputs
    # A control dependency taken inside a branch on an outer op moves to the cond op.
    pr2 = tf.print("outer2")

    def t():
        with tf.control_dependencies([pr2]):
            return tf.identity(x)

    out2 = tf.cond(tf.constant(False), t, lambda: x)
    assert pr2 in out2.op.control_inputs
    with tf.Session() as s:
        assert s.run(out) == 2
        assert _printed(capfd) == "before\n"
        assert s.run(out2) == 1
        assert _printed(capfd) == "outer2\n"


def test_nested_cond(g):
    x = tf.placeholder(tf.int32, [])

    def outer_true():
        return tf.cond(tf.less(x, 10), lambda: x * 100, lambda: x * 10)

    out = tf.cond(tf.less(x, 100), outer_true, lambda: tf.identity(x))
    with tf.Session() as s:
        assert s.run(out, {x: 5}) == 500
        assert s.run(out, {x: 50}) == 500
        assert s.run(out, {x: 500}) == 500
        assert s.run(out, {x: 7}) == 700


def test_cond_nested_branch_reads_outer_branch_tensor(g):
    x = tf.placeholder(tf.int32, [])

    def outer_true():
        y = x * 2  # created in the outer branch, read inside the inner one
        return tf.cond(tf.less(y, 10), lambda: y + 1, lambda: y - 1)

    out = tf.cond(tf.less(x, 100), outer_true, lambda: x)
    with tf.Session() as s:
        assert s.run(out, {x: 3}) == 7
        assert s.run(out, {x: 30}) == 59
        assert s.run(out, {x: 300}) == 300


def test_cond_output_structures(g):
    p = tf.placeholder(tf.bool, [])
    a = tf.constant(1.0)
    b = tf.constant([1, 2])
    P = collections.namedtuple("P", "u v")
    res = tf.cond(p, lambda: {"a": a, "b": (b, P(a, b))},
                  lambda: {"a": a * 2.0, "b": (b + 1, P(a, b * 2))})
    assert isinstance(res, dict) and isinstance(res["b"], tuple)
    assert isinstance(res["b"][1], P)
    with tf.Session() as s:
        t = s.run(res, {p: True})
        f = s.run(res, {p: False})
    assert t["a"] == 1.0 and f["a"] == 2.0
    np.testing.assert_array_equal(t["b"][0], [1, 2])
    np.testing.assert_array_equal(f["b"][0], [2, 3])
    np.testing.assert_array_equal(f["b"][1].v, [2, 4])


def test_cond_singleton_unpacking_and_strict(g):
    p = tf.constant(True)
    x = tf.constant(1)
    assert isinstance(tf.cond(p, lambda: [x], lambda: [x]), tf.Tensor)
    res = tf.cond(p, lambda: [x], lambda: [x], strict=True)
    assert isinstance(res, list) and len(res) == 1
    two = tf.cond(p, lambda: (x, x), lambda: (x, x + 1))
    assert isinstance(two, tuple) and len(two) == 2


def test_cond_python_values_and_operations_as_outputs(g, capfd):
    p = tf.placeholder(tf.bool, [])
    out = tf.cond(p, lambda: 1.5, lambda: tf.constant(2.5))
    assert out.dtype == tf.float32
    op_out = tf.cond(p, lambda: tf.print("t"), lambda: tf.print("f"))
    assert op_out.dtype == tf.bool
    with tf.Session() as s:
        assert s.run(out, {p: True}) == 1.5
        assert s.run(out, {p: False}) == 2.5
        assert s.run(op_out, {p: True}) is np.True_
        assert s.run(op_out, {p: False}) is np.False_
    assert _printed(capfd) == "t\nf\n"


def test_cond_static_shape_merging(g):
    p = tf.placeholder(tf.bool, [])
    a = tf.placeholder(tf.float32, [2, 3])
    b = tf.placeholder(tf.float32, [2, 4])
    c = tf.placeholder(tf.float32, [2, 3, 1])
    d = tf.placeholder(tf.float32, [None, 3])
    assert tf.cond(p, lambda: a, lambda: a).shape.as_list() == [2, 3]
    assert tf.cond(p, lambda: a, lambda: b).shape.as_list() == [2, None]
    assert tf.cond(p, lambda: a, lambda: c).shape.ndims is None
    assert tf.cond(p, lambda: a, lambda: d).shape.as_list() == [None, 3]


def test_cond_errors(g):
    x = tf.constant(1)
    p = tf.placeholder(tf.bool, [])
    with pytest.raises(TypeError, match="pred must not be a Python bool"):
        tf.cond(True, lambda: x, lambda: x)
    with pytest.raises(TypeError, match="true_fn must be callable"):
        tf.cond(p, x, lambda: x)
    with pytest.raises(TypeError, match="false_fn must be callable"):
        tf.cond(p, lambda: x, None)
    with pytest.raises(TypeError, match="true_fn and fn1"):
        tf.cond(p, lambda: x, lambda: x, fn1=lambda: x)
    with pytest.raises(TypeError, match="bool"):
        tf.cond(tf.constant(1.0), lambda: x, lambda: x)
    with pytest.raises(ValueError, match="rank 0"):
        tf.cond(tf.constant([True, False]), lambda: x, lambda: x)
    with pytest.raises(ValueError, match="must have the same type: int32, float32"):
        tf.cond(p, lambda: x, lambda: tf.constant(1.0))
    with pytest.raises(ValueError, match="Incompatible return values of true_fn and false_fn"):
        tf.cond(p, lambda: [x, x], lambda: [x])
    with pytest.raises(TypeError, match="Incompatible return types of true_fn and false_fn"):
        tf.cond(p, lambda: [x, x], lambda: (x, x))
    with pytest.raises(ValueError, match="true_fn must have a return value"):
        tf.cond(p, lambda: None, lambda: x)
    # deprecated positional names still work
    assert tf.cond(p, fn1=lambda: x, fn2=lambda: x + 1).dtype == tf.int32


def test_cond_branch_tensor_cannot_be_fetched_directly(g):
    x = tf.placeholder(tf.int32, [])
    inner = []

    def t():
        y = x * 3
        inner.append(y)
        return y

    out = tf.cond(tf.less(x, 5), t, lambda: x)
    with tf.Session() as s:
        assert s.run(out, {x: 2}) == 6
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="created inside the true branch of 'cond'"):
            s.run(inner[0], {x: 2})


def test_cond_using_other_branch_tensor_is_an_error(g):
    x = tf.constant(1)
    leaked = []

    def t():
        y = x + 1
        leaked.append(y)
        return y

    with pytest.raises(ValueError, match="true branch of 'cond'.*cannot be used in the false"):
        tf.cond(tf.constant(True), t, lambda: leaked[0] * 2)


def test_cond_error_in_branch_names_the_inner_op(g):
    x = tf.placeholder(tf.float32, [None])
    out = tf.cond(tf.constant(True), lambda: tf.check_numerics(x, "bad x"), lambda: x)
    with tf.Session() as s:
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad x : Tensor had NaN") as e:
            s.run(out, {x: [np.nan]})
        assert e.value.op.name == "cond/CheckNumerics"


def test_cond_in_make_callable_and_repeated_runs(g):
    x = tf.placeholder(tf.int32, [])
    out = tf.cond(tf.greater(x, 0), lambda: x, lambda: -x)
    with tf.Session() as s:
        f = s.make_callable(out, [x])
        assert [int(f(v)) for v in (-3, 4, 0, -1)] == [3, 4, 0, 1]


# ---- case ----------------------------------------------------------------------------------

def test_case(g):
    x = tf.placeholder(tf.int32, [])
    out = tf.case([(tf.less(x, 0), lambda: tf.constant(-1)),
                   (tf.equal(x, 0), lambda: tf.constant(0))],
                  default=lambda: tf.constant(1))
    no_default = tf.case([(tf.less(x, 0), lambda: tf.constant(-1)),
                          (tf.greater(x, 100), lambda: tf.constant(100))])
    excl = tf.case([(tf.less(x, 10), lambda: tf.constant(1)),
                    (tf.less(x, 5), lambda: tf.constant(2))],
                   default=lambda: tf.constant(3), exclusive=True)
    with tf.Session() as s:
        assert [s.run(out, {x: v}) for v in (-5, 0, 5)] == [-1, 0, 1]
        # without a default the last fn is the fallback
        assert [s.run(no_default, {x: v}) for v in (-5, 5, 500)] == [-1, 100, 100]
        assert s.run(excl, {x: 7}) == 1
        assert s.run(excl, {x: 70}) == 3
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"exclusive=True: more than 1 conditions .* evaluated as "
                                 r"True:\] \[1 1\]"):
            s.run(excl, {x: 1})
    with pytest.raises(TypeError, match="2-tuple"):
        tf.case([tf.less(x, 0)])
    with pytest.raises(TypeError, match="must be callable"):
        tf.case([(tf.less(x, 0), 3)])


# ---- while_loop ----------------------------------------------------------------------------

def test_while_sum_1_to_n(g):
    n = tf.placeholder(tf.int32, [])
    i, total = tf.while_loop(lambda i, s: tf.less_equal(i, n), lambda i, s: (i + 1, s + i),
                             [tf.constant(1), tf.constant(0)])
    assert i.dtype == tf.int32 and total.shape.as_list() == []
    assert i.op.type == "While" and i.name == "while:0"
    with tf.Session() as s:
        assert s.run(total, {n: 100}) == 5050
        assert s.run([i, total], {n: 0}) == [1, 0]  # body never runs


def test_while_fibonacci(g):
    n = tf.constant(20)

    def body(k, a, b):
        return k + 1, b, a + b

    _, fib, _ = tf.while_loop(lambda k, a, b: k < n, body,
                              (tf.constant(0), tf.constant(0, tf.int64), tf.constant(1, tf.int64)))
    with tf.Session() as s:
        assert s.run(fib) == 6765


def test_while_single_var_and_return_same_structure(g):
    x = tf.constant(1.0)
    r = tf.while_loop(lambda v: v < 100.0, lambda v: v * 3.0, [x])
    assert isinstance(r, tf.Tensor)
    r2 = tf.while_loop(lambda v: v < 100.0, lambda v: [v * 3.0], [x], return_same_structure=True)
    assert isinstance(r2, list) and len(r2) == 1
    r3 = tf.while_loop(lambda v: v < 100.0, lambda v: v * 3.0, x)
    assert isinstance(r3, tf.Tensor)
    with tf.Session() as s:
        assert s.run(r) == 243.0
        assert s.run(r2) == [243.0]
        assert s.run(r3) == 243.0


def test_while_nested_structure_loop_vars(g):
    P = collections.namedtuple("P", "a b")
    lv = (tf.constant(0), P(tf.constant([1.0, 1.0]), {"k": tf.constant(2)}))

    def body(i, p):
        return i + 1, P(p.a * 2.0, {"k": p.b["k"] + i})

    i, p = tf.while_loop(lambda i, p: i < 3, body, lv)
    assert isinstance(p, P) and isinstance(p.b, dict)
    with tf.Session() as s:
        iv, pv = s.run((i, p))
    assert iv == 3
    np.testing.assert_array_equal(pv.a, [8.0, 8.0])
    assert pv.b["k"] == 2 + 0 + 1 + 2


def test_while_captures_outer_tensors(g, capfd):
    step = tf.placeholder(tf.float32, [])
    scale = tf.Print(step * 1.0, [step], "scale:")  # evaluated once, outside the loop
    r = tf.while_loop(lambda i, v: i < 4, lambda i, v: (i + 1, v + scale),
                      [tf.constant(0), tf.constant(0.0)])
    with tf.Session() as s:
        assert s.run(r, {step: 0.5})[1] == 2.0
    assert _printed(capfd) == "scale:[0.5]\n"


def test_while_body_side_effects_run_each_iteration(g, capfd):
    def body(i):
        with tf.control_dependencies([tf.print("iter", i)]):
            return i + 1

    r = tf.while_loop(lambda i: i < 3, body, [tf.constant(0)])
    with tf.Session() as s:
        assert s.run(r) == 3
    assert _printed(capfd) == "iter 0\niter 1\niter 2\n"


def test_while_maximum_iterations(g):
    m = tf.placeholder(tf.int32, [])
    r = tf.while_loop(lambda i: i < 100, lambda i: i + 1, [tf.constant(0)], maximum_iterations=7)
    r2 = tf.while_loop(lambda i: i < 5, lambda i: i + 1, [tf.constant(0)], maximum_iterations=m)
    with tf.Session() as s:
        assert s.run(r) == 7
        assert s.run(r2, {m: 3}) == 3
        assert s.run(r2, {m: 50}) == 5
        assert s.run(r2, {m: 0}) == 0
    with pytest.raises(ValueError, match="maximum_iterations must be a scalar"):
        tf.while_loop(lambda i: i < 5, lambda i: i + 1, [tf.constant(0)],
                      maximum_iterations=tf.constant([1, 2]))


def test_while_shape_invariant_error(g):
    x = tf.constant([1.0])
    with pytest.raises(ValueError, match=r"enters the loop with shape \(1,\), but has shape "
                                         r"\(2,\) after one iteration.*shape_invariants"):
        tf.while_loop(lambda v: tf.constant(True), lambda v: v + tf.constant([1.0, 1.0]), [x])


def test_while_shape_invariant_relaxes_shape(g):
    if not hasattr(tf, "concat"):
        pytest.skip("needs tf.concat")
    x = tf.constant([1.0])
    i0 = tf.constant(0)
    i, r = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, tf.concat([v, v], 0)),
                         [i0, x], shape_invariants=[i0.shape, tf.TensorShape([None])])
    assert r.shape.as_list() == [None]
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(r), np.ones(8))


def test_while_shape_invariant_seen_inside_body(g):
    x = tf.placeholder(tf.float32, [3])
    seen = []

    def body(v):
        seen.append(v.shape.as_list())
        return v * 2.0

    r = tf.while_loop(lambda v: tf.constant(False), body, [x],
                      shape_invariants=[tf.TensorShape([None])])
    assert seen == [[None]] and r.shape.as_list() == [None]
    with pytest.raises(ValueError, match="shape invariant specified for .* is not compatible"):
        tf.while_loop(lambda v: tf.constant(False), body, [x],
                      shape_invariants=[tf.TensorShape([4])])


def test_while_errors(g):
    i = tf.constant(0)
    with pytest.raises(TypeError, match="cond must be callable"):
        tf.while_loop(1, lambda i: i, [i])
    with pytest.raises(TypeError, match="body must be callable"):
        tf.while_loop(lambda i: i < 1, 1, [i])
    with pytest.raises(ValueError, match="No loop variables"):
        tf.while_loop(lambda: True, lambda: (), [])
    with pytest.raises(TypeError, match="enters the loop with type int32, but has type float32"):
        tf.while_loop(lambda i: i < 1, lambda i: tf.constant(1.0), [i])
    with pytest.raises(ValueError, match="same nested structure"):
        tf.while_loop(lambda i, j: i < 1, lambda i, j: (i,), [i, i])
    with pytest.raises(TypeError, match="scalar bool"):
        tf.while_loop(lambda i: i, lambda i: i, [i])


def test_nested_while_and_cond_in_while(g):
    n = tf.placeholder(tf.int32, [])

    def outer_body(i, acc):
        inner = tf.while_loop(lambda j, a: j < i, lambda j, a: (j + 1, a + 1),
                              [tf.constant(0), acc])[1]
        bonus = tf.cond(tf.equal(i, 2), lambda: tf.constant(100), lambda: tf.constant(0))
        return i + 1, inner + bonus

    _, total = tf.while_loop(lambda i, a: i < n, outer_body, [tf.constant(0), tf.constant(0)])
    with tf.Session() as s:
        # sum_{i<5} i + 100 for i == 2
        assert s.run(total, {n: 5}) == 10 + 100
        assert s.run(total, {n: 2}) == 1


def test_while_loop_var_cannot_be_fetched(g):
    seen = []

    def body(i):
        seen.append(i)
        return i + 1

    r = tf.while_loop(lambda i: i < 3, body, [tf.constant(0)])
    with tf.Session() as s:
        assert s.run(r) == 3
        with pytest.raises(tf.errors.InvalidArgumentError, match="while loop of 'while'"):
            s.run(seen[0])


def test_cond_inside_while_reads_loop_vars_and_while_inside_cond(g):
    def body(i, acc):
        acc = tf.cond(tf.equal(i, 2), lambda: acc * 10, lambda: acc + i)
        return i + 1, acc

    _, r = tf.while_loop(lambda i, a: i < 4, body, [tf.constant(0), tf.constant(1)])
    p = tf.placeholder(tf.bool, [])
    w = tf.cond(p, lambda: tf.while_loop(lambda k: k < 10, lambda k: k + 3, [tf.constant(0)]),
                lambda: tf.constant(-1))
    with tf.Session() as s:
        assert s.run(r) == ((1 + 0 + 1) * 10) + 3
        assert s.run(w, {p: True}) == 12
        assert s.run(w, {p: False}) == -1


def test_while_body_assign_runs_each_iteration(g):
    v = tf.Variable(0, name="counter")

    def body(i):
        with tf.control_dependencies([tf.assign_add(v, 100)]):
            return i + 1

    r = tf.while_loop(lambda i: i < 5, body, [tf.constant(0)])
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        assert s.run(r) == 5
        assert s.run(v) == 500


def test_feeding_a_captured_tensor_reaches_the_branch(g):
    a = tf.constant(2)
    b = a * 5
    out = tf.cond(tf.constant(True), lambda: b + 1, lambda: b)
    with tf.Session() as s:
        assert s.run(out) == 11
        assert s.run(out, {b: 100}) == 101


def test_if_op_records_branches_for_gradients(g):
    x = tf.placeholder(tf.float32, [])
    y = tf.placeholder(tf.float32, [])
    out = tf.cond(tf.less(x, y), lambda: x * 2.0, lambda: y + 1.0)
    op = out.op
    assert op.inputs[0].dtype == tf.bool and set(op.inputs[1:]) == {x, y}
    assert [t.op.type for t in op.get_attr("then_outputs")] == ["Mul"]
    assert [t.op.type for t in op.get_attr("else_outputs")] == ["AddV2"]
    assert {o.type for o in op.get_attr("then_ops")} == {"Mul", "Const"}
    assert op.get_attr("captures") == list(op.inputs[1:])
    assert all(o._cond_context is op.get_attr("then_context") for o in op.get_attr("then_ops"))


def test_outside_control_flow_lifts_ops_out_of_a_branch(g):
    from headwater.ops.control_flow_ops import outside_control_flow

    lifted = []

    def t():
        with outside_control_flow():
            c = tf.constant(5)  # e.g. a variable initializer: runs on its own
            lifted.append(c)
        return c * 2

    out = tf.cond(tf.constant(True), t, lambda: tf.constant(0))
    assert lifted[0].op._cond_context is None
    assert lifted[0] in out.op.inputs  # read by the branch as a capture
    with tf.Session() as s:
        assert s.run(lifted[0]) == 5
        assert s.run(out) == 10
