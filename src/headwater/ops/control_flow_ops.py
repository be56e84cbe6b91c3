"""Control flow: no_op, group, tuple, cond, case and while_loop.

Design (functional control flow, like TF2's If/While, rather than TF1's Switch/Merge):

- ``cond`` builds each branch under a fresh branch context (``graph._cond_context``, stamped on
  every op created meanwhile as ``op._cond_context``) and then creates ONE ``If`` op whose
  inputs are ``[pred] + captures`` (the outer tensors the branches read) and whose attributes
  hold each branch's output tensors and member ops. At plan-compile time the ``If`` kernel
  compiles one sub-plan per branch with `runtime.plan.compile_plan`, feeding the captures, and
  at run time calls only the taken branch's plan. Branch ops are reachable only through the
  ``If`` op's attributes, never through graph edges, so the outer plan never schedules them:
  the untaken branch's side effects cannot happen.
- ``while_loop`` is the same idea with a ``While`` op: the loop variables enter the body as
  ``_LoopVar`` proxy tensors that the cond/body sub-plans are fed with on every iteration.
- Why this design: ordinary graphs pay nothing (no dead-value checks in any kernel; only ops
  inside a branch are touched), and a gradient rule for ``If`` can be written later as another
  ``cond`` over the branch gradients, since the op records both branches' outputs, member ops
  and captures (``then_outputs``/``else_outputs``/``then_ops``/``else_ops``/``captures``).
- Ops created inside a branch or loop body get a guarded kernel binding: binding them anywhere
  except in their own sub-plan raises a clear error, so fetching a tensor created inside a
  branch directly fails at `Session.run` with a message saying to fetch the cond's output.
- Control dependencies on outer ops taken inside a branch are moved to the ``If``/``While`` op
  (they must hold before the construct runs; re-running outer ops inside a sub-plan would be
  wrong).
"""

from __future__ import annotations

import builtins

import numpy as np

from headwater.framework import dtypes as _dtypes
from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.framework import tensor_shape as _ts
from headwater.framework.op_registry import get_op_def, register_op
from headwater.runtime.plan import compile_plan, wrap_run_error

# `tuple` is a public TF name exported by this module; keep the builtin reachable.
_pytuple = builtins.tuple

__all__ = [
    "no_op",
    "group",
    "tuple",
    "cond",
    "case",
    "while_loop",
]


# ---- NoOp / group / tuple ------------------------------------------------------------------

def _no_outputs(inputs, attrs):
    return []


def _noop_kernel(op, ctx):
    def no_op():
        return None
    return no_op


try:  # state_ops may register the same NoOp lazily for its initializer groups
    get_op_def("NoOp")
except KeyError:
    register_op("NoOp", _no_outputs, _noop_kernel)


def no_op(name=None):
    """An op that does nothing; useful as a control-dependency anchor.

    Returns:
      The `Operation` (it has no outputs).
    """
    return _ops.apply_op("NoOp", [], {}, name=name, graph=_ops.get_default_graph())


def _flatten_group_inputs(inputs, out):
    for x in inputs:
        if isinstance(x, (list, _pytuple)):
            _flatten_group_inputs(x, out)
        elif isinstance(x, dict):
            _flatten_group_inputs([x[k] for k in sorted(x)], out)
        else:
            out.append(x)
    return out


def group(*inputs, **kwargs):
    """An op that runs all of `inputs` (Tensors/Operations, possibly nested in lists).

    Args:
      *inputs: tensors or operations to depend on.
      name: optional name (TF1 default "group_deps").

    Returns:
      A NoOp `Operation` with a control dependency on every input.
    """
    name = kwargs.pop("name", None)
    if kwargs:
        raise ValueError("Unknown keyword arguments: " + ", ".join(kwargs.keys()))
    flat = _flatten_group_inputs(inputs, [])
    for x in flat:
        if not (isinstance(x, (_ops.Tensor, _ops.Operation)) or hasattr(x, "_as_graph_element")):
            raise TypeError("Expected tf.group() expected Tensor arguments not '%s' with type "
                            "'%s'" % (x, type(x)))
    with _ops.name_scope(name, "group_deps", flat) as scope:
        if not flat:
            return no_op(name=scope)
        with _ops.control_dependencies(flat):
            return no_op(name=scope)


def with_dependencies(dependencies, output_tensor, name=None):
    """`output_tensor` passed through an Identity that runs only after `dependencies`."""
    from headwater.ops import array_ops

    with _ops.name_scope(name, "control_dependency",
                         list(dependencies) + [output_tensor]) as scope:
        with _ops.control_dependencies(dependencies):
            output_tensor = _ops.convert_to_tensor(output_tensor)
            return array_ops.identity(output_tensor, name=scope)


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001 - TF1 public name
    """Group tensors: each output is available only after all inputs are computed.

    Args:
      tensors: a list of Tensors, Operations or None.
      name: optional name scope (default "tuple").
      control_inputs: extra Operations/Tensors to wait for.

    Returns:
      A list like `tensors` with each Tensor replaced by a gated identity (and each
      Operation by a gated group).
    """
    with _ops.name_scope(name, "tuple", [t for t in tensors if isinstance(t, _ops.Tensor)]):
        conv = []
        for t in tensors:
            if t is None or isinstance(t, (_ops.Tensor, _ops.Operation)):
                conv.append(t)
            else:
                conv.append(_ops.convert_to_tensor(t))
        gating = [t if isinstance(t, _ops.Operation) else t.op for t in conv if t is not None]
        if control_inputs:
            for c in control_inputs:
                if isinstance(c, _ops.Tensor):
                    c = c.op
                elif not isinstance(c, _ops.Operation):
                    raise TypeError("Control input must be Operation or Tensor: %s" % (c,))
                gating.append(c)
        gating = sorted(set(gating), key=lambda o: o._id)
        if not gating:
            raise ValueError("Must have at least one Tensor: %s" % (tensors,))
        gate = group(*gating)
        out = []
        for t in conv:
            if isinstance(t, _ops.Tensor):
                out.append(with_dependencies([gate], t))
            elif isinstance(t, _ops.Operation):
                with _ops.control_dependencies([gate]):
                    out.append(group(t))
            else:
                out.append(None)
        return out


# ---- nested structures (a small subset of tf.nest) -------------------------------------------

def _is_namedtuple(x):
    return isinstance(x, _pytuple) and hasattr(type(x), "_fields")


def _is_seq(x):
    return isinstance(x, (list, _pytuple, dict))


def _flatten(x):
    out = []
    _flatten_into(x, out)
    return out


def _flatten_into(x, out):
    if isinstance(x, dict):
        for k in sorted(x):
            _flatten_into(x[k], out)
    elif isinstance(x, (list, _pytuple)):
        for v in x:
            _flatten_into(v, out)
    else:
        out.append(x)


def _pack_as(structure, flat):
    return _pack_rec(structure, iter(flat))


def _pack_rec(s, it):
    if isinstance(s, dict):
        vals = {k: _pack_rec(s[k], it) for k in sorted(s)}
        d = type(s)() if type(s) is not dict else {}
        for k in s:
            d[k] = vals[k]
        return d
    if _is_namedtuple(s):
        return type(s)(*[_pack_rec(v, it) for v in s])
    if isinstance(s, (list, _pytuple)):
        vals = [_pack_rec(v, it) for v in s]
        return vals if type(s) is list else type(s)(vals)
    return next(it)


def _assert_same_structure(a, b, check_types=True):
    """Raise ValueError/TypeError (as tf.nest) when `a` and `b` are not alike."""
    if _is_seq(a) != _is_seq(b):
        raise ValueError("The two structures don't have the same nested structure.\n\n"
                         "First structure: %s\n\nSecond structure: %s" % (a, b))
    if not _is_seq(a):
        return
    if check_types and type(a) is not type(b):
        raise TypeError("The two structures don't have the same sequence type. First "
                        "structure has type %s, while second structure has type %s."
                        % (type(a), type(b)))
    if isinstance(a, dict):
        if set(a) != set(b):
            raise ValueError("The two dictionaries don't have the same set of keys. First "
                             "structure has keys %s, while second structure has keys %s."
                             % (sorted(a, key=str), sorted(b, key=str)))
        for k in a:
            _assert_same_structure(a[k], b[k], check_types)
        return
    if len(a) != len(b):
        raise ValueError("The two structures don't have the same nested structure.\n\n"
                         "First structure: %s\n\nSecond structure: %s\n\nMore specifically: "
                         "The two structures don't have the same number of elements. First "
                         "structure has %d elements, while second structure has %d."
                         % (a, b, len(a), len(b)))
    for x, y in zip(a, b):
        _assert_same_structure(x, y, check_types)


# ---- branch contexts and guarded kernels -----------------------------------------------------

class ControlFlowContext:
    """Marks the ops built inside one cond branch or while loop (``op._cond_context``)."""

    __slots__ = ("kind", "name", "outer", "ops", "if_op", "branch", "__weakref__")

    def __init__(self, kind, name, outer):
        self.kind = kind  # "true branch" / "false branch" / "while loop"
        self.name = name
        self.outer = outer
        self.ops = []
        # For cond branches: the If op built from this branch and which branch it is (0: then,
        # 1: else); gradients use them to read the branch's intermediate values.
        self.if_op = None
        self.branch = None

    def encloses(self, other):
        """True if ops of context `other` may be read from inside this context."""
        c = self
        while c is not None:
            if c is other:
                return True
            c = c.outer
        return other is None

    def __repr__(self):
        return "<%s of '%s'>" % (self.kind, self.name)


class _SubPlanCtx:
    """The ctx a sub-plan is compiled with: the session state plus the context it runs."""

    __slots__ = ("base", "scope")

    def __init__(self, base, scope):
        self.base = base
        self.scope = scope

    def __getattr__(self, name):
        return getattr(self.base, name)


class _GuardedOpDef:
    """An OpDef stand-in for ops inside a branch/loop: binds only inside its own sub-plan."""

    __slots__ = ("_base", "kernel")

    def __init__(self, base):
        object.__setattr__(self, "_base", base)
        object.__setattr__(self, "kernel", self._guarded_kernel)

    def __getattr__(self, name):
        return getattr(self._base, name)

    def __setattr__(self, name, value):
        setattr(self._base, name, value)

    def __repr__(self):
        return "<OpDef %s (in control flow)>" % self._base.type

    def _guarded_kernel(self, op, ctx):
        scope = op._cond_context
        if type(ctx) is _SubPlanCtx and ctx.scope is scope:
            return self._base.kernel(op, ctx.base)
        raise ValueError(
            "Operation '%s' was created inside the %s of '%s' and only runs as part of it; it "
            "cannot be fetched, or used as an input to ops, outside that construct. Fetch the "
            "outputs of '%s' instead." % (op.name, scope.kind, scope.name, scope.name))


_guarded_defs = {}


def _guard(op):
    base = op._op_def
    if type(base) is _GuardedOpDef:
        return
    g = _guarded_defs.get(base.type)
    if g is None or g._base is not base:
        g = _guarded_defs[base.type] = _GuardedOpDef(base)
    op._op_def = g


class outside_control_flow:  # noqa: N801 - used like a function
    """Build ops outside any cond branch / loop body (and outer control dependencies).

    For code that must create ops which run on their own, like TF1's `init_scope` lifting a
    variable's initializer out of a `cond`: `with outside_control_flow(graph): ...`.
    """

    __slots__ = ("_graph", "_prev", "_deps")

    def __init__(self, graph=None):
        self._graph = graph if graph is not None else _ops.get_default_graph()

    def __enter__(self):
        g = self._graph
        self._prev = g._cond_context
        g._cond_context = None
        self._deps = g.control_dependencies(None)
        self._deps.__enter__()
        return g

    def __exit__(self, *exc):
        self._deps.__exit__(*exc)
        self._graph._cond_context = self._prev
        return False


def _run_sub(plan, feeds):
    try:
        return plan.fn(feeds)
    except Exception as e:
        err = wrap_run_error(plan, e)
        if err is e:
            raise
        raise err from e


class _Builder:
    """Builds ops under a control-flow context and collects what they capture."""

    def __init__(self, graph, ctx):
        self.graph = graph
        self.ctx = ctx
        self.start = len(graph._nodes_in_order)
        self._prev = None
        self._deps = None

    def __enter__(self):
        g = self.graph
        self._prev = g._cond_context
        g._cond_context = self.ctx
        # Outer control dependencies apply to the whole construct (its op), not to each op
        # inside it.
        self._deps = g.control_dependencies(None)
        self._deps.__enter__()
        return self

    def __exit__(self, *exc):
        self._deps.__exit__(*exc)
        self.graph._cond_context = self._prev
        return False

    def finish(self, extra_tensors, captures, capture_set, ext_control):
        """Collect member ops, external inputs (into `captures`) and outer control inputs."""
        ctx = self.ctx
        members = [op for op in self.graph._nodes_in_order[self.start:]
                   if op._cond_context is ctx]
        ctx.ops = members

        def check(t_op, what):
            oc = t_op._cond_context
            if not (oc is ctx or oc is None or (ctx.outer is not None
                                                and ctx.outer.encloses(oc))):
                raise ValueError(
                    "%s '%s' was created inside the %s of '%s' and cannot be used in the %s of "
                    "'%s'." % (what, t_op.name, oc.kind, oc.name, ctx.kind, ctx.name))

        def capture(t):
            if t._op._cond_context is ctx:
                return
            check(t._op, "Tensor")
            if t not in capture_set:
                capture_set.add(t)
                captures.append(t)

        # While a cond gradient is built, its branches read intermediates of the forward
        # branches; those become extra outputs of the forward If ops (see `_expose`).
        exposing = _exposing[0] > 0
        changed = False
        for op in members:
            ref = op._op_def.ref_inputs
            for i, t in enumerate(op._inputs):
                if ref and i in ref:
                    continue
                if exposing and not ctx.encloses(t._op._cond_context):
                    t2 = _expose(t, ctx)
                    if t2 is not t:
                        op._inputs[i] = t = t2
                        changed = True
                capture(t)
            ext = [c for c in op._control_inputs if c._cond_context is not ctx]
            for c in ext:
                check(c, "Operation")
                op._control_inputs.remove(c)
                if c not in ext_control:
                    ext_control.append(c)
        for i, t in enumerate(extra_tensors):
            if exposing and not ctx.encloses(t._op._cond_context):
                t = extra_tensors[i] = _expose(t, ctx)
            capture(t)
        if changed:
            self.graph._version += 1  # edges changed: cached consumer maps are stale
        for op in members:
            _guard(op)
        return members


def _to_output_tensor(x, fn_name, branch_value):
    if isinstance(x, _ops.Tensor):
        return x
    if x is None:
        raise ValueError("%s returned None inside its output structure; every output of a "
                         "cond branch must be a Tensor (or convertible to one)." % fn_name)
    if isinstance(x, _ops.Operation):
        # TF1 uses the branch's pivot as the proxy of an Operation output: a bool that equals
        # the predicate, available once the op has run.
        from headwater.ops import array_ops

        with _ops.control_dependencies([x]):
            return array_ops.constant(branch_value, name="Const")
    return _ops.convert_to_tensor(x)


# ---- If ------------------------------------------------------------------------------------

def _if_infer(inputs, attrs):
    return attrs["output_specs"]


def _if_kernel(op, ctx):
    a = op._attrs
    caps = op._inputs[1:]
    g = op._graph
    tplan = compile_plan(a["then_outputs"], [], caps, _SubPlanCtx(ctx, a["then_context"]), g)
    eplan = compile_plan(a["else_outputs"], [], caps, _SubPlanCtx(ctx, a["else_context"]), g)
    n = len(op._outputs)

    if n == 1:
        def if_(pred, *caps):
            return _run_sub(tplan if pred else eplan, caps)[0]
    elif n == 0:
        def if_(pred, *caps):
            _run_sub(tplan if pred else eplan, caps)
    else:
        def if_(pred, *caps):
            return _run_sub(tplan if pred else eplan, caps)
    return if_


register_op("If", _if_infer, _if_kernel, stateful=True)


def _unpack_if_singleton(res):
    if isinstance(res, (list, _pytuple)) and len(res) == 1:
        return res[0]
    return res


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """Return `true_fn()` if `pred` is true else `false_fn()`; only the taken branch runs.

    Args:
      pred: a scalar bool Tensor (a Python bool is rejected, as in TF1).
      true_fn, false_fn: callables returning the same nested structure of tensors.
      strict: if False (TF1 default), a single-element list/tuple output is unpacked.
      name: optional name scope (default "cond").
      fn1, fn2: deprecated aliases of true_fn/false_fn.

    Returns:
      The structure returned by the branches, with tensors whose static shape is the most
      specific shape compatible with both branches.
    """
    if fn1 is not None:
        if true_fn is not None:
            raise TypeError("cond(): true_fn and fn1 may not be set simultaneously.")
        true_fn = fn1
    if fn2 is not None:
        if false_fn is not None:
            raise TypeError("cond(): false_fn and fn2 may not be set simultaneously.")
        false_fn = fn2
    if not callable(true_fn):
        raise TypeError("true_fn must be callable.")
    if not callable(false_fn):
        raise TypeError("false_fn must be callable.")
    if isinstance(pred, bool):
        raise TypeError("pred must not be a Python bool")
    with _ops.name_scope(name, "cond", [pred]) as scope:
        pred = _ops.convert_to_tensor(pred)
        if pred.dtype != _dtypes.bool:
            raise TypeError("Input 'pred' of 'cond' has type %s that does not match expected "
                            "type of bool." % pred.dtype.name)
        pdims = pred.shape._dims
        if pdims is not None and len(pdims) != 0:
            raise ValueError("Shape must be rank 0 but is rank %d for 'cond' predicate %s "
                             "(shape %s)." % (len(pdims), pred.name, pred.shape))
        graph = pred.graph
        outer = graph._cond_context
        op_name = scope[:-1]
        captures, capture_set, ext_control = [], set(), []
        results = []
        for fn, kind, fn_name, value in ((true_fn, "true branch", "true_fn", True),
                                         (false_fn, "false branch", "false_fn", False)):
            ctx = ControlFlowContext(kind, op_name, outer)
            b = _Builder(graph, ctx)
            with b:
                res = fn()
                if res is None:
                    raise ValueError("%s must have a return value." % fn_name)
                flat = [_to_output_tensor(x, fn_name, value) for x in _flatten(res)]
            b.finish(flat, captures, capture_set, ext_control)
            results.append((ctx, res, flat))
        (tctx, tres, tflat), (fctx, fres, fflat) = results
        try:
            _assert_same_structure(tres, fres)
        except TypeError as e:
            raise TypeError("Incompatible return types of true_fn and false_fn: %s" % e) \
                from None
        except ValueError as e:
            raise ValueError("Incompatible return values of true_fn and false_fn: %s" % e) \
                from None
        specs = []
        for t, f in zip(tflat, fflat):
            if t.dtype.base_dtype != f.dtype.base_dtype:
                raise ValueError("Outputs of true_fn and false_fn must have the same type: "
                                 "%s, %s" % (t.dtype.name, f.dtype.name))
            specs.append((t.dtype, t.shape.most_specific_compatible_shape(f.shape)))
        attrs = {"output_specs": specs, "then_outputs": tflat, "else_outputs": fflat,
                 "then_context": tctx, "else_context": fctx, "then_ops": tctx.ops,
                 "else_ops": fctx.ops, "captures": list(captures),
                 "Tout": [s[0] for s in specs]}
        with _ops.control_dependencies(ext_control):
            op = _ops._create_op(graph, "If", [pred] + captures, attrs, scope, None)
        tctx.if_op = fctx.if_op = op
        tctx.branch, fctx.branch = 0, 1
        outs = op._outputs
        res = _pack_as(tres, outs)
        if not strict:
            res = _unpack_if_singleton(res)
        return res


# ---- case ----------------------------------------------------------------------------------

def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """Run the fn of the first true predicate (nested `cond`s), else `default`.

    Args:
      pred_fn_pairs: list of (bool scalar Tensor, callable) pairs, or a dict.
      default: callable run when no predicate is true; if None the last pair's fn is used.
      exclusive: if True, fail at run time when more than one predicate is true.
      strict, name: as for `cond`.

    Returns:
      The output of the chosen fn.
    """
    if isinstance(pred_fn_pairs, dict):
        pairs = list(pred_fn_pairs.items())
    elif isinstance(pred_fn_pairs, (list, _pytuple)):
        pairs = list(pred_fn_pairs)
    else:
        raise TypeError("fns must be a list, tuple, or dict")
    preds, fns = [], []
    for p in pairs:
        if not isinstance(p, _pytuple) or len(p) != 2:
            raise TypeError("Each entry in pred_fn_pairs must be a 2-tuple")
        pred, fn = p
        if not isinstance(pred, _ops.Tensor) or pred.dtype != _dtypes.bool:
            raise TypeError("pred must be Tensor of type bool: %s" % getattr(pred, "name", pred))
        if not callable(fn):
            raise TypeError("fn for pred %s must be callable." % pred.name)
        preds.append(pred)
        fns.append(fn)
    if default is not None and not callable(default):
        raise TypeError("default must be callable.")
    if not preds:
        if default is None:
            raise ValueError("pred_fn_pairs must not be empty when default is None")
        return default()
    with _ops.name_scope(name, "case", preds):
        all_preds = list(preds)
        if default is None:
            default, preds, fns = fns[-1], preds[:-1], fns[:-1]
        fn = default
        for pred, action in reversed(list(zip(preds, fns))):
            fn = _cond_thunk(pred, action, fn, strict)
        if exclusive and len(all_preds) > 1:
            from headwater.ops import check_ops

            chk = check_ops._at_most_n_true(all_preds, 1, "Input error: exclusive=True")
            with _ops.control_dependencies([chk]):
                return fn()
        return fn()


def _cond_thunk(pred, true_fn, false_fn, strict):
    def thunk():
        return cond(pred, true_fn, false_fn, strict=strict)
    return thunk


# ---- While ---------------------------------------------------------------------------------

def _loopvar_infer(inputs, attrs):
    return [(attrs["dtype"], attrs["shape"])]


def _loopvar_kernel(op, ctx):
    def loop_var():
        raise errors.InvalidArgumentError(None, None, "Loop variable '%s' has no value outside "
                                          "its while loop." % op.name)
    return loop_var


register_op("_LoopVar", _loopvar_infer, _loopvar_kernel, default_name="Identity")


def _while_kernel(op, ctx):
    a = op._attrs
    n = a["num_vars"]
    has_max = a["has_max"]
    feeds = list(a["proxies"]) + list(a["captures"])
    sub = _SubPlanCtx(ctx, a["context"])
    g = op._graph
    cplan = compile_plan([a["cond_output"]], [], feeds, sub, g)
    bplan = compile_plan(a["body_outputs"], [], feeds, sub, g)

    # A gradient reads the loop variables each iteration started from (the body runs again on
    # them in reverse, see _while_grad): then they are collected into an extra last output.
    record = bool(a.get("record_history"))

    def while_(*args):
        if has_max:
            limit = args[-1]
            args = args[:-1]
        vals = list(args[:n])
        caps = list(args[n:])
        history = [] if record else None
        i = 0
        while (not has_max or i < limit) and _run_sub(cplan, vals + caps)[0]:
            if record:
                history.append(vals)
            vals = _run_sub(bplan, vals + caps)
            i += 1
        if record:
            return _pytuple(vals) + (history,)
        return vals[0] if n == 1 else vals

    return while_


def _while_infer(inputs, attrs):
    return attrs["output_specs"]


register_op("While", _while_infer, _while_kernel, stateful=True)


def _shape_leq(a, b):
    """True if shape `a` is at least as specific as invariant `b`."""
    bd = b._dims
    if bd is None:
        return True
    ad = a._dims
    if ad is None or len(ad) != len(bd):
        return False
    for x, y in zip(ad, bd):
        if y is not None and x != y:
            return False
    return True


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, name=None, maximum_iterations=None,
               return_same_structure=False):
    """Repeat `body` while `cond` is true (TF1's `tf.while_loop`).

    Args:
      cond: callable taking the loop variables, returning a scalar bool tensor.
      body: callable taking the loop variables, returning new values of the same structure.
      loop_vars: a Tensor, or a (nested) list/tuple/dict of tensors.
      shape_invariants: shapes (same structure) the variables may take; by default a
        variable's shape may not change across iterations.
      maximum_iterations: optional int (or int scalar Tensor) bounding the iterations.
      return_same_structure: if False, a single loop variable is returned unwrapped.
      parallel_iterations, back_prop, swap_memory: accepted for compatibility.

    Returns:
      The loop variables after the last iteration.
    """
    if not callable(cond):
        raise TypeError("cond must be callable.")
    if not callable(body):
        raise TypeError("body must be callable.")
    if parallel_iterations < 1:
        raise TypeError("parallel_iterations must be a positive integer.")
    if loop_vars is None or (_is_seq(loop_vars) and not _flatten(loop_vars)):
        raise ValueError("No loop variables provided")
    with _ops.name_scope(name, "while", [t for t in _flatten(loop_vars)
                                         if isinstance(t, _ops.Tensor)]) as scope:
        flat_in = [_ops.convert_to_tensor(x) for x in _flatten(loop_vars)]
        graph = flat_in[0].graph
        max_t = None
        if maximum_iterations is not None:
            max_t = _ops.convert_to_tensor(maximum_iterations, name="maximum_iterations")
            if max_t.shape.ndims is not None and max_t.shape.ndims > 0:
                raise ValueError("maximum_iterations must be a scalar, saw shape: %s"
                                 % max_t.shape)
            if not max_t.dtype.is_integer:
                raise TypeError("maximum_iterations must be an integer tensor, got %s"
                                % max_t.dtype.name)
        if shape_invariants is not None:
            inv = [_ts.as_shape(s) for s in _flatten_shapes(shape_invariants)]
            if len(inv) != len(flat_in):
                raise ValueError("shape_invariants must have the same structure as loop_vars: "
                                 "%d loop variables but %d shape invariants."
                                 % (len(flat_in), len(inv)))
            for t, s in zip(flat_in, inv):
                if not _shape_leq(t.shape, s):
                    raise ValueError(
                        "The shape invariant specified for %s is not compatible with the "
                        "initial shape of the loop variable. It enters the loop with shape %s, "
                        "but the specified shape invariant is %s." % (t.name, t.shape, s))
        else:
            inv = [t.shape for t in flat_in]

        op_name = scope[:-1]
        ctx = ControlFlowContext("while loop", op_name, graph._cond_context)
        b = _Builder(graph, ctx)
        with b:
            proxies = [_ops.apply_op("_LoopVar", [], {"dtype": t.dtype, "shape": s},
                                     name="Identity", graph=graph)
                       for t, s in zip(flat_in, inv)]
            packed = _pack_as(loop_vars, proxies) if _is_seq(loop_vars) else proxies[0]
            positional = isinstance(loop_vars, (list, _pytuple))
            args = list(packed) if positional else [packed]
            c = cond(*args)
            if isinstance(c, (bool, np.bool_)):
                from headwater.ops import array_ops

                c = array_ops.constant(bool(c))
            c = _ops.convert_to_tensor(c)
            if c.dtype != _dtypes.bool or (c.shape._dims is not None and
                                           len(c.shape._dims) != 0):
                raise TypeError("cond of while_loop '%s' must return a scalar bool tensor, "
                                "got %s" % (op_name, c))
            res = body(*args)
            if positional:
                if not _is_seq(res):
                    res = [res]
                _assert_same_structure(list(args), list(res))
            else:
                if (not _is_seq(loop_vars) and isinstance(res, (list, _pytuple))
                        and len(res) == 1):
                    res = res[0]
                _assert_same_structure(packed, res)
            flat_out = [_ops.convert_to_tensor(x) for x in _flatten(res)]
        for t_in, p, s, t_out in zip(flat_in, proxies, inv, flat_out):
            if t_out.dtype.base_dtype != t_in.dtype.base_dtype:
                raise TypeError("Loop var %s enters the loop with type %s, but has type %s "
                                "after 1 iteration (%s)." % (t_in.name, t_in.dtype.name,
                                                             t_out.dtype.name, t_out.name))
            if not _shape_leq(t_out.shape, s):
                raise ValueError(
                    "Input tensor '%s' enters the loop with shape %s, but has shape %s after "
                    "one iteration. To allow the shape to vary across iterations, use the "
                    "`shape_invariants` argument of tf.while_loop to specify a less-specific "
                    "shape." % (t_in.name, s, t_out.shape))
        captures, capture_set, ext_control = [], set(proxies), []
        b.finish([c] + flat_out, captures, capture_set, ext_control)
        specs = [(t.dtype, s) for t, s in zip(flat_in, inv)]
        attrs = {"output_specs": specs, "num_vars": len(flat_in), "proxies": proxies,
                 "cond_output": c, "body_outputs": flat_out, "captures": list(captures),
                 "context": ctx, "body_ops": ctx.ops, "has_max": max_t is not None,
                 "T": [s[0] for s in specs]}
        inputs = flat_in + captures + ([max_t] if max_t is not None else [])
        with _ops.control_dependencies(ext_control):
            op = _ops._create_op(graph, "While", inputs, attrs, scope, None)
        outs = op._outputs
        if len(outs) == 1 and not return_same_structure:
            return outs[0]
        return _pack_as(res, outs)


def _flatten_shapes(s):
    """Flatten a structure of shapes, where a list of ints/None is one shape, not a list."""
    if isinstance(s, _ts.TensorShape):
        return [s]
    if isinstance(s, dict):
        out = []
        for k in sorted(s):
            out.extend(_flatten_shapes(s[k]))
        return out
    if isinstance(s, (list, _pytuple)) and not _is_namedtuple(s):
        if all(x is None or isinstance(x, (int, _ts.Dimension)) for x in s) and s:
            return [s]
        out = []
        for x in s:
            out.extend(_flatten_shapes(x))
        return out
    return [s]


# =================================================================================================
# Gradients of If and While.
#
# The gradient of an If op is another cond on the same predicate whose branches differentiate
# the corresponding forward branch, so only the taken branch's gradient runs. The forward
# branch's ops are never rebuilt or re-run (a branch with random ops or assignments must not run
# twice): whenever a gradient branch reads a tensor of a forward branch, `_expose` makes that
# tensor an extra output of the forward If op (the other branch outputs a dummy zero there; the
# gradient only reads it under the same predicate, when it holds the real value). Nested conds
# expose level by level until the tensor is readable where the gradient is built.
# =================================================================================================

from headwater.gradients import IndexedSlices, RegisterGradient  # noqa: E402

# > 0 while the branches of a cond gradient are being built.
_exposing = [0]


def _expose(t, ctx):
    """A tensor readable from context `ctx` that carries the value of `t`, a tensor created
    inside a cond branch that `ctx` is not part of."""
    while not ctx.encloses(t._op._cond_context):
        c = t._op._cond_context
        if c.if_op is None:
            raise LookupError(
                "Gradients through tf.while_loop are not supported yet: the gradient needs "
                "tensor '%s' from inside the %s of '%s'." % (t.name, c.kind, c.name))
        t = _if_output_for(c.if_op, c.branch, t)
    return t


def _if_output_for(op, branch, t):
    """The output of If `op` that returns `t` (a tensor of branch `branch`) when that branch
    runs, adding one if needed."""
    a = op._attrs
    mine = a["then_outputs"] if branch == 0 else a["else_outputs"]
    for i, u in enumerate(mine):
        if u is t:
            return op._outputs[i]
    exposed = a.setdefault("_exposed", {})
    out = exposed.get(t)
    if out is not None:
        return out
    a.setdefault("_num_user_outputs", len(op._outputs))
    other_ctx = a["else_context"] if branch == 0 else a["then_context"]
    other = a["else_outputs"] if branch == 0 else a["then_outputs"]
    g = op._graph
    dt = t._dtype.base_dtype
    prev = g._cond_context
    g._cond_context = other_ctx
    try:
        with g.control_dependencies(None), g.name_scope(op.name + "/"):
            value = np.zeros((), dtype=dt.as_numpy_dtype)
            value.flags.writeable = False
            dummy = _ops.apply_op("Const", [], {"value": value, "dtype": dt},
                                  name="grad_dummy", graph=g)
    finally:
        g._cond_context = prev
    other_ctx.ops.append(dummy.op)
    _guard(dummy.op)
    mine.append(t)
    other.append(dummy)
    a["output_specs"].append((dt, t._shape))
    a["Tout"].append(dt)
    out = _ops.Tensor(op, len(op._outputs), dt, t._shape)
    op._outputs.append(out)
    g._version += 1
    exposed[t] = out
    return out


def _trainable(t):
    dt = t._dtype.base_dtype
    return dt.is_floating or dt.is_complex


def _reached_captures(ys, capture_set):
    """The captures that the branch outputs `ys` depend on."""
    found = set()
    seen = set()
    stack = list(ys)
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        if t in capture_set:
            found.add(t)
            continue
        stack.extend(t._op._inputs)
    return found


@RegisterGradient("If")
def _if_grad(op, *grads):
    from headwater.gradients import gradients
    from headwater.ops import array_ops

    a = op._attrs
    pred = op._inputs[0]
    caps = op._inputs[1:]
    live = [i for i, g in enumerate(grads)
            if g is not None and _trainable(op._outputs[i]) and not array_ops._is_zero_fill(g)]
    if not live:
        return [None] * len(op._inputs)
    then_ys = [a["then_outputs"][i] for i in live]
    else_ys = [a["else_outputs"][i] for i in live]
    grad_ys = [array_ops._dense(grads[i]) for i in live]
    cap_set = set(caps)
    used = _reached_captures(then_ys, cap_set) | _reached_captures(else_ys, cap_set)
    xs = [c for c in caps if c in used and _trainable(c)]
    if not xs:
        return [None] * len(op._inputs)

    def branch_grad(ys):
        def fn():
            gs = gradients(ys, xs, grad_ys=grad_ys, stop_gradients=xs)
            out = []
            for x, g in zip(xs, gs):
                if g is None:
                    g = array_ops.zeros_like(x)
                elif isinstance(g, IndexedSlices):
                    g = array_ops._dense(g)
                out.append(g)
            return out
        return fn

    _exposing[0] += 1
    try:
        res = cond(pred, branch_grad(then_ys), branch_grad(else_ys), strict=True)
    finally:
        _exposing[0] -= 1
    by_cap = dict(zip(xs, res))
    return [None] + [by_cap.get(c) for c in caps]


def _history_output(op):
    """The While op's output holding the loop variables of every iteration, added on first use
    (plans compiled earlier keep their kernels, which do not record)."""
    a = op._attrs
    out = a.get("_history")
    if out is None:
        a["record_history"] = True
        a["output_specs"].append((_dtypes.string, _ts.TensorShape(None)))
        a["T"] = list(a["T"]) + [_dtypes.string]
        out = _ops.Tensor(op, len(op._outputs), _dtypes.string, _ts.TensorShape(None))
        op._outputs.append(out)
        op._graph._version += 1
        a["_history"] = out
    return out


def _while_grad_kernel(op, ctx):
    a = op._attrs
    nv, ncap_all = a["num_var_grads"], a["num_captures"]
    sub = _SubPlanCtx(ctx, a["context"])
    plan = compile_plan(a["grad_outputs"], [], a["feeds"], sub, op._graph)
    zero_caps = a["capture_grad_index"]

    def while_grad_(history, *rest):
        gv = list(rest[:nv])
        caps = list(rest[nv:nv + ncap_all])
        gcap = None
        for vals in reversed(history):
            out = _run_sub(plan, list(vals) + caps + gv)
            gv = list(out[:nv])
            gc = out[nv:]
            gcap = list(gc) if gcap is None else [np.add(x, y) for x, y in zip(gcap, gc)]
        if gcap is None:  # no iteration ran: the captures did not influence the result
            gcap = [np.zeros_like(caps[i]) for i in zero_caps]
        res = gv + gcap
        return res[0] if len(res) == 1 else _pytuple(res)
    return while_grad_


def _while_grad_infer(inputs, attrs):
    return attrs["grad_specs"]


register_op("WhileGrad", _while_grad_infer, _while_grad_kernel)


@RegisterGradient("While")
def _while_grad(op, *grads):
    """Backpropagation through a while loop.

    The forward op records the loop variables each iteration started from. The gradient op
    walks those iterations in reverse; for each it runs a sub-plan that recomputes the body on
    that iteration's variables and applies the body's gradient rules (built once, in the loop's
    own context), carrying the loop variables' gradients backwards and summing the gradients
    of the tensors the body captured from outside. Random ops inside the body are drawn again
    in the recomputation, so their gradient is that of a fresh draw.
    """
    from headwater.gradients import gradients
    from headwater.ops import array_ops

    a = op._attrs
    n = a["num_vars"]
    caps = list(op._inputs[n:n + len(a["captures"])])
    var_idx = [i for i in range(n) if _trainable(op._outputs[i])]
    live = [i for i in var_idx if grads[i] is not None and not array_ops._is_zero_fill(grads[i])]
    if not live:
        return [None] * len(op._inputs)
    cap_idx = [j for j, c in enumerate(caps) if _trainable(c)]
    graph = op._graph
    ctx = a["context"]
    proxies = a["proxies"]
    b = _Builder(graph, ctx)
    with b, graph.name_scope(op.name + "_grad/body/"):
        gprox = [_ops.apply_op("_LoopVar", [], {"dtype": a["output_specs"][i][0],
                                                "shape": a["output_specs"][i][1]},
                               name="grad_in", graph=graph) for i in var_idx]
        ys = [a["body_outputs"][i] for i in var_idx]
        xs = [proxies[i] for i in var_idx] + [caps[j] for j in cap_idx]
        gs = gradients(ys, xs, grad_ys=gprox, stop_gradients=xs)
        gs = [array_ops.zeros_like(x) if g is None else array_ops._dense(g)
              for x, g in zip(xs, gs)]
    ctx.ops.extend(o for o in graph._nodes_in_order[b.start:] if o._cond_context is ctx)
    history = _history_output(op)
    seeds = [array_ops._dense(grads[i]) if grads[i] is not None
             else array_ops.zeros_like(op._outputs[i]) for i in var_idx]
    specs = ([(op._inputs[i]._dtype.base_dtype, op._inputs[i]._shape) for i in var_idx]
             + [(caps[j]._dtype.base_dtype, caps[j]._shape) for j in cap_idx])
    attrs = {"context": ctx, "feeds": list(proxies) + list(a["captures"]) + gprox,
             "grad_outputs": gs, "num_var_grads": len(var_idx), "num_captures": len(caps),
             "capture_grad_index": cap_idx,
             "grad_specs": specs, "T": [s[0] for s in specs]}
    gop = _ops._create_op(graph, "WhileGrad", [history] + seeds + caps, attrs, "WhileGrad",
                          None)
    outs = gop._outputs
    result = [None] * len(op._inputs)
    for k, i in enumerate(var_idx):
        result[i] = outs[k]
    for k, j in enumerate(cap_idx):
        result[n + j] = outs[len(var_idx) + k]
    return result
