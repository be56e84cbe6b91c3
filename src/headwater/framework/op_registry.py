"""The op registry: one record per op type.

Each op type is defined once, in its family module under `headwater/ops/`, by `register_op`:

- ``infer(inputs, attrs) -> [(DType, TensorShape), ...]`` computes output dtypes and static
  shapes at graph-construction time and raises ``TypeError``/``ValueError`` for bad input, so
  mistakes surface on the user's line rather than at run time.
- ``kernel(op, ctx) -> fn`` is called once when a Session compiles a plan; it returns a callable
  taking the input *values* (numpy arrays) positionally and returning the output value (one
  output), a tuple of values (several outputs) or None (no outputs). Attributes are read from
  ``op`` at bind time, so the per-run call does no dictionary lookups. ``ctx`` is the session's
  runtime state (variables, random generators) for stateful ops.
- ``ref_inputs`` lists inputs that name a variable rather than read it (TF1's ref edges): they
  are not evaluated and not passed to the kernel.
- ``aliases`` marks ops whose output may share memory with state that outlives the run
  (constants, variables, identities): fetched values are copied so users never hold live state.
- ``gradient`` is filled by `RegisterGradient` (autodiff issue).
"""

from __future__ import annotations


class OpDef:
    __slots__ = ("type", "infer", "kernel", "default_name", "stateful", "ref_inputs",
                 "aliases", "gradient", "reference", "is_source")

    def __init__(self, type, infer, kernel, default_name=None, stateful=False, ref_inputs=(),
                 aliases=False, reference=None):
        self.type = type
        self.infer = infer
        self.kernel = kernel
        self.default_name = default_name or type
        self.stateful = stateful
        self.ref_inputs = tuple(ref_inputs)
        self.aliases = aliases
        self.gradient = None
        self.reference = reference

    def __repr__(self):
        return "<OpDef %s>" % self.type


_OP_DEFS = {}


def register_op(type, infer=None, kernel=None, default_name=None, stateful=False,
                ref_inputs=(), aliases=False, reference=None):
    """Register op `type`. Usable as a plain call or, with `kernel` omitted, as a decorator
    on the kernel factory."""
    if type in _OP_DEFS:
        raise KeyError("Op type %r registered twice" % type)

    def _do(kernel_fn):
        _OP_DEFS[type] = OpDef(type, infer, kernel_fn, default_name, stateful, ref_inputs,
                               aliases, reference)
        return kernel_fn

    if kernel is None:
        return _do
    _do(kernel)
    return _OP_DEFS[type]


def get_op_def(type):
    try:
        return _OP_DEFS[type]
    except KeyError:
        raise KeyError("No op named %s is registered in headwater." % type) from None


def registered_op_types():
    return sorted(_OP_DEFS)
