"""Traced `Session.run`: per-op timing and memory into `RunMetadata.step_stats`.

A run with ``options=RunOptions(trace_level=RunOptions.FULL_TRACE)`` cannot go through the
compiled straight-line plan (which has no place to time each kernel), so it runs the same
plan's ops one by one here, binding fresh kernels, and records for every op its start time,
duration and output shapes and sizes: TensorBoard's graph page colours nodes by this
"compute time" and "memory" when the run metadata is written with
`FileWriter.add_run_metadata`.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from headwater.runtime import plan as _plan

__all__ = ["traced_run", "CPU_DEVICE"]

CPU_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


def _nbytes(v):
    if type(v) is np.ndarray:
        if v.dtype == object:
            return int(sum(len(x) if isinstance(x, (bytes, str)) else 8 for x in v.flat))
        return int(v.nbytes)
    if isinstance(v, (bytes, str)):
        return len(v)
    if isinstance(v, np.generic):
        return int(v.nbytes)
    return 0


def _step_stats(records, t0_ns, thread_id):
    from headwater.summary._protos import step_stats_pb2

    ss = step_stats_pb2.StepStats()
    dev = ss.dev_stats.add()
    dev.device = CPU_DEVICE
    for op, start_ns, end_ns, outs in records:
        ns = dev.node_stats.add()
        ns.node_name = op.name
        ns.all_start_micros = start_ns // 1000
        ns.all_start_nanos = start_ns
        dur = end_ns - start_ns
        # TensorBoard ignores a zero duration; sub-microsecond kernels round up to 1 us.
        micros = max(1, -(-dur // 1000))
        ns.op_start_rel_micros = 0
        ns.op_end_rel_micros = micros
        ns.all_end_rel_micros = micros
        ns.op_start_rel_nanos = 0
        ns.op_end_rel_nanos = dur
        ns.all_end_rel_nanos = dur
        ns.scheduled_micros = t0_ns // 1000
        ns.thread_id = thread_id
        ins = ", ".join(t.op.name if t.value_index == 0 else t.name for t in op._inputs)
        ns.timeline_label = "%s = %s(%s)" % (op.name, op.type, ins)
        total = 0
        for slot, (t, v) in enumerate(outs):
            out = ns.output.add()
            out.slot = slot
            td = out.tensor_description
            td.dtype = t.dtype.base_dtype.as_datatype_enum
            size = _nbytes(v)
            total += size
            for d in np.shape(v):
                td.shape.dim.add().size = int(d)
            ad = td.allocation_description
            ad.requested_bytes = size
            ad.allocated_bytes = size
            ad.allocator_name = "cpu"
        if total:
            mem = ns.memory.add()
            mem.allocator_name = "cpu"
            mem.total_bytes = total
            mem.peak_bytes = total
            mem.live_bytes = total
    return ss


def traced_run(session, fetches, feed_dict=None, options=None, run_metadata=None):
    """Run `fetches` like `session.run`, op by op, timing every kernel.

    Args:
      session: a headwater `Session`.
      fetches, feed_dict: as for `Session.run`.
      options: the `RunOptions` (its trace_level is what brought the run here).
      run_metadata: a `RunMetadata` whose `step_stats` is set to a `StepStats` proto with one
        `NodeExecStats` per executed op (start, duration, outputs' shapes and bytes).

    Returns:
      The fetched values, structured as `Session.run` returns them.
    """
    if session._closed:
        raise RuntimeError("Attempted to use a closed Session.")
    if feed_dict:
        entry = session._entry(fetches, tuple(feed_dict))
        feeds = [c(v) for c, v in zip(entry.feed_convs, feed_dict.values())]
    else:
        entry = session._entry(fetches, ())
        feeds = []
    plan = entry.plan
    feed_set = set(plan.feed_tensors)
    values = dict(zip(plan.feed_tensors, feeds))
    order = plan.ops
    # Free each value after its last reader, as the compiled plan does.
    last_use = {}
    for step, op in enumerate(order):
        ref = op._op_def.ref_inputs
        for i, t in enumerate(op._inputs):
            if not (ref and i in ref):
                last_use[t] = step
    keep = feed_set | set(plan.fetch_tensors)
    kernels = [_plan._bind(op, session._state) for op in order]
    records = []
    clock = time.time_ns
    t0 = clock()
    op = None
    try:
        with np.errstate(all="ignore"):
            for step, (op, k) in enumerate(zip(order, kernels)):
                ref = op._op_def.ref_inputs
                ins = [values[t] for i, t in enumerate(op._inputs) if not (ref and i in ref)]
                start = clock()
                r = k(*ins)
                end = clock()
                outs = op._outputs
                if len(outs) == 1:
                    pairs = [(outs[0], r)]
                elif not outs:
                    pairs = []
                else:
                    pairs = list(zip(outs, r))
                for t, v in pairs:
                    if t not in feed_set:
                        values[t] = v
                records.append((op, start, end, pairs))
                for i, t in enumerate(op._inputs):
                    if last_use.get(t) == step and t not in keep:
                        values.pop(t, None)
    except Exception as e:
        if op is not None and not hasattr(e, "_hw_failed_op"):
            try:
                e._hw_failed_op = op
            except AttributeError:
                pass
        raise _plan.wrap_run_error(plan, e) from e.__cause__
    aliasing = [bool(t._op._op_def.aliases or t in feed_set) for t in plan.fetch_tensors]
    vals = [(_plan._fetch_copy if c else _plan._fetch_plain)(values[t])
            for t, c in zip(plan.fetch_tensors, aliasing)]
    if run_metadata is not None:
        run_metadata.step_stats = _step_stats(records, t0, threading.get_ident() & 0x7FFFFFFF)
    s = entry.single
    if s is None:
        return None
    if s >= 0:
        return vals[s]
    return entry.builder(vals)
