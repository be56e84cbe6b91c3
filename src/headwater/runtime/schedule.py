"""Where summary ops go in a plan's run order.

TensorFlow's executor runs an op as soon as its inputs are ready. For most ops the order among
independent ops cannot be observed, but a summary of a variable can: run early, it shows the
value before the step's optimizer update (what TF1 writes for `tf.summary.histogram("w", w)`
run together with the train op); run in graph-creation order, after `minimize`, it would show
the updated value. Plans therefore run summary ops, and whatever only they and other early ops
need (tags, `W/read`, an accuracy computed for a scalar), as soon as their inputs exist. Ops
that write state (assignments, optimizer updates) keep their place: whatever depends on them
still waits for them.
"""

import heapq

from headwater.runtime.fusion import _may_write_variables

SUMMARY_TYPES = frozenset(("ScalarSummary", "HistogramSummary", "ImageSummary",
                           "AudioSummaryV2", "TensorSummaryV2", "MergeSummary"))


def _deps(op, feed_set, in_plan):
    deps = {t._op for t in op._inputs if t not in feed_set}
    deps.update(op._control_inputs)
    deps &= in_plan
    return deps


def early_summaries(order, feed_set):
    """`order` (a topological order) with summary ops and their ancestors that do not write
    state run as early as their inputs allow; the remaining ops keep their relative order."""
    if not any(op._type in SUMMARY_TYPES for op in order):
        return order
    in_plan = set(order)
    index = {op: i for i, op in enumerate(order)}
    deps = {}
    movable = set()
    # Merges only concatenate bytes: they keep their place (usually last).
    stack = [op for op in order if op._type in SUMMARY_TYPES and op._type != "MergeSummary"]
    while stack:
        op = stack.pop()
        if op in movable:
            continue
        if _may_write_variables(op) or (op._op_def.stateful and op._inputs and
                                        op._type not in SUMMARY_TYPES):
            continue  # writes (or may write) state: stays in place
        movable.add(op)
        deps[op] = ds = _deps(op, feed_set, in_plan)
        stack.extend(ds)
    missing = {}  # movable op -> number of its producers not emitted yet
    waiters = {}  # producer -> movable ops waiting for it
    for op in movable:
        ds = deps[op]
        missing[op] = len(ds)
        for p in ds:
            waiters.setdefault(p, []).append(op)
    out = []
    ready = [(index[op], op) for op, n in missing.items() if n == 0]
    heapq.heapify(ready)

    def emit(op):
        out.append(op)
        for w in waiters.get(op, ()):
            missing[w] -= 1
            if missing[w] == 0:
                heapq.heappush(ready, (index[w], w))

    def drain():
        # Among ops ready at the same point, creation order (the heap key).
        while ready:
            emit(heapq.heappop(ready)[1])

    drain()
    for op in order:
        if op in movable:
            continue
        emit(op)
        drain()
    assert len(out) == len(order)
    return out
