"""Graph- and op-level random seeds with TF1's rules."""

from headwater.framework import ops as _ops

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1


def set_random_seed(seed):
    """Set the graph-level seed of the default graph: random ops created afterwards become
    reproducible across sessions and program runs."""
    _ops.get_default_graph().seed = seed


def get_seed(op_seed):
    """The (graph seed, op seed) pair a new random op should use, as TF1 derives it."""
    graph = _ops.get_default_graph()
    global_seed = graph.seed
    if global_seed is not None:
        if op_seed is None:
            # TF1 uses the graph's op count, so each new random op gets its own stream.
            op_seed = len(graph._nodes_in_order)
        seeds = (int(global_seed), int(op_seed))
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, int(op_seed))
    else:
        seeds = (None, None)
    if seeds == (0, 0):
        # (0, 0) would mean "nondeterministic" to the kernel; TF1 avoids it the same way.
        seeds = (0, _MAXINT32)
    return seeds


def get_seed_for_op(op):
    """(seed, seed2) recorded on a random op; (None, None) means fresh entropy each session."""
    s1 = op._attrs.get("seed", 0)
    s2 = op._attrs.get("seed2", 0)
    if not s1 and not s2:
        return None, None
    return s1, s2
