"""Plan compiler: turn (fetches, feeds, targets) into one straight-line Python function.

The first run of a signature prunes the graph to what the fetches need (cutting at fed
tensors), orders it topologically, binds every op to its kernel once, and emits the plan as the
source of a single function: one local variable per live value, one call per op, and a `del`
right after each value's last use so large intermediates are freed as soon as they die.
Compiling to Python source (rather than interpreting a step list) makes per-op dispatch a plain
function call with fast-local loads: well under a microsecond. Plans above CODEGEN_MAX_OPS run
in a slot interpreter instead, because CPython's compiler would dominate their first run.
"""

from __future__ import annotations

import gc
import heapq

import numpy as np

from headwater.framework import errors
from headwater.runtime import fusion as _fusion
from headwater.runtime import schedule as _schedule

_ndarray = np.ndarray


def _fetch_copy(v):
    # Values of aliasing ops share memory with constants/variables; users get their own copy
    # and, like TF1, a numpy scalar for a 0-d result.
    if type(v) is _ndarray:
        return v[()] if v.ndim == 0 else v.copy()
    return v


def _fetch_plain(v):
    # A view (reshape/transpose/slice of a constant or variable) still shares memory with
    # state the session keeps; only freshly computed arrays are handed out as they are.
    if type(v) is _ndarray:
        if v.ndim == 0:
            return v[()]
        if v.base is not None or not v.flags.writeable:
            return v.copy()
    return v


class Plan:
    """A compiled, reusable execution plan for one (fetches, feeds, targets) signature."""

    __slots__ = ("fn", "ops", "run_ops", "line_to_op", "code", "feed_tensors", "fetch_tensors",
                 "num_ops")

    def __init__(self, fn, ops, line_to_op, code, feed_tensors, fetch_tensors, run_ops=None):
        self.fn = fn
        self.ops = ops  # the graph's ops, in execution order
        self.run_ops = ops if run_ops is None else run_ops  # the steps run (ops or fused steps)
        self.line_to_op = line_to_op
        self.code = code
        self.feed_tensors = feed_tensors
        self.fetch_tensors = fetch_tensors
        self.num_ops = len(ops)

    def op_for_traceback(self, tb):
        """The op whose kernel raised, found from the generated function's line number."""
        code = getattr(self.fn, "inner", self.fn).__code__
        while tb is not None:
            if tb.tb_frame.f_code is code:
                return self.line_to_op.get(tb.tb_lineno)
            tb = tb.tb_next
        return None


def prune(fetch_tensors, target_ops, feed_set):
    """Ops needed to compute `fetch_tensors` and run `target_ops`, cutting at fed tensors."""
    needed = set()
    stack = [t._op for t in fetch_tensors if t not in feed_set]
    stack.extend(target_ops)
    add = needed.add
    push = stack.append
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        add(op)
        ref = op._op_def.ref_inputs
        if ref or feed_set:
            for i, t in enumerate(op._inputs):
                if t in feed_set or (ref and i in ref):
                    continue
                if t._op not in needed:
                    push(t._op)
        else:
            for t in op._inputs:
                if t._op not in needed:
                    push(t._op)
        for c in op._control_inputs:
            if c not in needed and not (feed_set and _all_outputs_fed(c, feed_set)):
                push(c)
    return needed


def _all_outputs_fed(op, feed_set):
    # A control edge on an op whose every output is fed counts as satisfied: the feed stands
    # in for the op's execution (so `control_dependencies([placeholder])` works when fed).
    outs = op._outputs
    return bool(outs) and all(t in feed_set for t in outs)


def _op_id(op):
    return op._id


def toposort(needed, feed_set, graph=None):
    """A deterministic topological order of `needed`.

    Inputs and control inputs must exist before an op is created, so creation order is already
    topological; only control inputs added to an existing op afterwards can break that, and
    then Kahn's algorithm (ties broken by creation order) takes over.
    """
    if graph is not None and graph._version_ctrl == 0:
        return sorted(needed, key=_op_id)
    indeg = {}
    users = {}
    for op in needed:
        deps = set()
        ref = op._op_def.ref_inputs
        for i, t in enumerate(op._inputs):
            if t in feed_set or (ref and i in ref):
                continue
            deps.add(t._op)
        deps.update(op._control_inputs)
        deps &= needed
        indeg[op] = len(deps)
        for d in deps:
            users.setdefault(d, []).append(op)
    heap = [(op._id, op) for op, n in indeg.items() if n == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, op = heapq.heappop(heap)
        order.append(op)
        for u in users.get(op, ()):
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(heap, (u._id, u))
    if len(order) != len(needed):
        stuck = sorted((op for op in needed if indeg[op] > 0), key=lambda o: o._id)
        raise errors.InvalidArgumentError(
            None, stuck[0], "Graph has a cycle through op '%s'; cannot run it." % stuck[0].name)
    return order


# Plans up to this many ops are compiled to Python source (fastest dispatch); bigger ones run in
# a slot interpreter because CPython's compiler costs ~15 us per generated line, which would
# blow the first-run budget of large graphs.
CODEGEN_MAX_OPS = 400


def _bind(op, ctx):
    try:
        return op._op_def.kernel(op, ctx)
    except errors.OpError:
        raise
    except Exception as e:  # a kernel that cannot bind means bad attrs: name the op
        raise errors.InvalidArgumentError(
            None, op, "Cannot bind a kernel for op '%s' (type %s)%s: %s"
            % (op.name, op.type, _where(op), e)) from e


def compile_plan(fetch_tensors, target_ops, feed_tensors, ctx, graph=None):
    """Build a `Plan` whose `fn(feed_values)` returns the list of fetched values."""
    # Planning allocates many small objects in one burst; with a large graph alive the cyclic
    # GC would repeatedly traverse all of it for nothing (it roughly doubles planning time).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _compile_plan(fetch_tensors, target_ops, feed_tensors, ctx, graph)
    finally:
        if gc_was_enabled:
            gc.enable()


def _compile_plan(fetch_tensors, target_ops, feed_tensors, ctx, graph):
    feed_set = set(feed_tensors)
    needed = prune(fetch_tensors, target_ops, feed_set)
    order = _schedule.early_summaries(toposort(needed, feed_set, graph), feed_set)
    fetch_set = set(fetch_tensors)
    keep = fetch_set | feed_set  # never freed inside the plan
    # The steps that run: `order` with dense layers fused (the Plan keeps `order` itself for
    # traced runs, which time every op of the user's graph).
    run_order, alias = _fusion.fuse_dense(order, keep) if _fusion.ENABLED else (order, None)
    n = len(run_order)

    # Liveness in one backward sweep: the first time a value is seen going backwards is its
    # last use, so it dies right after that step.
    step_inputs = [None] * n
    dying = [()] * n
    seen = set(keep)
    for step in range(n - 1, -1, -1):
        op = run_order[step]
        ref = op._op_def.ref_inputs
        ins = op._inputs if not ref else [t for i, t in enumerate(op._inputs) if i not in ref]
        if alias is not None:
            ins = [alias.get(t, t) for t in ins]
        step_inputs[step] = ins
        d = None
        for t in ins:
            if t not in seen:
                seen.add(t)
                if d is None:
                    d = [t]
                else:
                    d.append(t)
        if d is not None:
            dying[step] = d
    # One slot per live value, feeds first. A step is (op, input slots, out, slots to free) with
    # out = -1 (nothing read), a slot, or a tuple of slots/None for multi-output ops.
    slot = {t: i for i, t in enumerate(feed_tensors)}
    nslot = len(slot)
    steps = []
    push = steps.append
    for step in range(n):
        op = run_order[step]
        outs = op._outputs
        if len(outs) == 1:
            t = outs[0]
            if t in seen and t not in slot:
                slot[t] = out = nslot
                nslot += 1
            else:
                out = -1
        elif not outs:
            out = -1
        else:
            out = []
            for t in outs:
                if t in seen and t not in slot:
                    slot[t] = nslot
                    out.append(nslot)
                    nslot += 1
                else:
                    out.append(None)
            out = -1 if all(o is None for o in out) else tuple(out)
        ins = step_inputs[step]
        dead = dying[step]
        push((getattr(op, "report_op", op), tuple(map(slot.__getitem__, ins)), out,
              tuple(dict.fromkeys(map(slot.__getitem__, dead))) if dead else ()))
    ret_slots = [slot[t] for t in fetch_tensors]
    ret_copy = [bool(t._op._op_def.aliases or t in feed_set) for t in fetch_tensors]
    kernels = [_bind(op, ctx) for op in run_order]
    if n <= CODEGEN_MAX_OPS:
        fn, line_to_op, src = _codegen(steps, kernels, len(feed_tensors), ret_slots, ret_copy)
    else:
        fn, line_to_op, src = _interpreter(steps, kernels, len(feed_tensors), nslot,
                                           ret_slots, ret_copy), {}, None
    if any(op._type not in NO_FP_OPS for op in run_order):
        fn = _quiet(fn)
    return Plan(fn, order, line_to_op, src, list(feed_tensors), list(fetch_tensors), run_order)


# numpy kernels emit RuntimeWarnings for log(0), x/0, overflow...; TensorFlow never warns there
# (inf/nan are just values), so plans run under errstate(ignore). Plans made only of these
# data-movement ops cannot warn and skip its ~1 us cost.
NO_FP_OPS = frozenset(["Const", "Placeholder", "PlaceholderWithDefault", "Identity", "NoOp",
                       "VariableV2", "Assign", "StopGradient", "Reshape", "Shape"])


def _quiet(fn):
    errstate = np.errstate

    def quiet_plan(feeds):
        with errstate(all="ignore"):
            return fn(feeds)
    quiet_plan.inner = fn
    return quiet_plan


def _codegen(steps, kernels, nfeeds, ret_slots, ret_copy):
    env = {"_cp": _fetch_copy, "_pl": _fetch_plain}
    lines = ["def _plan(_feeds):"]
    line_to_op = {}
    if nfeeds:
        lines.append("    " + ", ".join("v%d" % i for i in range(nfeeds))
                     + ("," if nfeeds == 1 else "") + " = _feeds")
    for step, (op, ins, out, dead) in enumerate(steps):
        kname = "k%d" % step
        env[kname] = kernels[step]
        call = "%s(%s)" % (kname, ", ".join("v%d" % i for i in ins))
        if type(out) is int:
            stmt = call if out < 0 else "v%d = %s" % (out, call)
        else:
            stmt = "%s = %s" % (", ".join("_" if o is None else "v%d" % o for o in out), call)
        lines.append("    " + stmt)
        line_to_op[len(lines)] = op
        if dead:
            lines.append("    del " + ", ".join("v%d" % d for d in dead))
            line_to_op[len(lines)] = op
    rets = ["%s(v%d)" % ("_cp" if c else "_pl", s) for s, c in zip(ret_slots, ret_copy)]
    lines.append("    return [%s]" % ", ".join(rets))
    src = "\n".join(lines) + "\n"
    exec(compile(src, "<headwater plan>", "exec"), env)
    return env["_plan"], line_to_op, src


def _interpreter(steps, kernels, nfeeds, nslots, ret_slots, ret_copy):
    # Each step: (kernel, input slots, output slot (-1: none) | tuple of slots, slots to free,
    # op). Steps are plain tuples unpacked by the for statement: the cheapest dispatch CPython
    # offers without generating code.
    prog = [(k, ins, out, dead, op) for (op, ins, out, dead), k in zip(steps, kernels)]
    rets = list(zip(ret_slots, [_fetch_copy if c else _fetch_plain for c in ret_copy]))
    _int = int

    def _plan(feeds):
        v = [None] * nslots
        v[:nfeeds] = feeds
        get = v.__getitem__
        op = None
        try:
            for k, ins, out, dead, op in prog:
                r = k(*map(get, ins))
                if type(out) is _int:
                    if out >= 0:
                        v[out] = r
                else:
                    for o, x in zip(out, r):
                        if o is not None:
                            v[o] = x
                for d in dead:
                    v[d] = None
        except Exception as e:
            if op is not None:
                e._hw_failed_op = op
            raise
        return [f(v[s]) for s, f in rets]
    return _plan


def _where(op):
    loc = op._location
    return " (defined at %s:%d)" % loc if loc else ""


def wrap_run_error(plan, exc):
    """Turn an exception raised while running `plan` into a TF-style `OpError` naming the op
    that failed and the user's line that created it."""
    op = getattr(exc, "_hw_failed_op", None) or plan.op_for_traceback(exc.__traceback__)
    if isinstance(exc, errors.OpError):
        if op is not None and exc.op is None:
            exc._op = op
            exc._message = "%s\n\t [[node %s%s ]]" % (exc.message, op.name, _where(op))
        return exc
    if op is None:
        return exc
    if isinstance(exc, (ValueError, TypeError, IndexError, ArithmeticError)):
        cls = errors.InvalidArgumentError
    elif isinstance(exc, MemoryError):
        cls = errors.ResourceExhaustedError
    else:
        cls = errors.UnknownError
    msg = "%s: %s\n\t [[node %s (op %s)%s ]]" % (type(exc).__name__, exc, op.name, op.type,
                                                 _where(op))
    new = cls(None, op, msg)
    new.__cause__ = exc
    return new
