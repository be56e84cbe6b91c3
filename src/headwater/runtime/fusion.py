"""Plan-time fusion of dense layers: MatMul -> bias add [-> Relu] becomes one GEMM call.

The C++ GEMM applies the bias and the ReLU in its last pass over C, so a dense layer costs one
kernel call and no intermediate arrays instead of three. A bias add -> Relu after anything else
(a convolution) becomes one native pass. The rewrite happens only inside a
compiled plan: the user's graph, its op names, gradients and traced runs (which time every op
of the graph) are untouched.

Each element is rounded exactly as in the unfused ops (the GEMM result, then + bias, then
max(., 0), each in the tensor's dtype), so fused and unfused plans return identical bits.
"""

from headwater.framework import dtypes as _dt

# Tests switch this off to compare fused plans against the graph as written.
ENABLED = True

# Ops that read only the static/dynamic shape of their input: they may read the fused output,
# which has the same shape as the MatMul and bias-add results it replaces.
_SHAPE_ONLY = frozenset(["Shape", "Size", "Rank"])
_ADD_TYPES = frozenset(["AddV2", "Add", "BiasAdd"])
_FLOAT = (_dt.float32, _dt.float64)


# Control flow ops run sub-plans that may assign variables without a ref input of their own.
_MAY_WRITE = frozenset(["If", "While"])


def _may_write_variables(op):
    """Ops that can change a variable's value (reading one, as VariableV2 does, is harmless)."""
    return bool(op._op_def.ref_inputs) or op._type in _MAY_WRITE


class _FusedDef:
    __slots__ = ("kernel",)
    ref_inputs = ()
    aliases = False
    stateful = False

    def __init__(self, kernel):
        self.kernel = kernel


class _FusedStep:
    """A plan step standing in for several ops: it carries the attributes a plan reads from an
    Operation. `report_op` is the op a failure is reported against, with the user's line."""

    __slots__ = ("_inputs", "_outputs", "_op_def", "_type", "report_op", "ops")

    def __init__(self, type_, inputs, ops, report_op, kernel):
        self._inputs = inputs
        self._outputs = [ops[-1]._outputs[0]]
        self._type = type_
        self.report_op = report_op
        self.ops = ops
        self._op_def = _FusedDef(kernel)

    @property
    def name(self):
        return self.report_op.name

    @property
    def type(self):
        return self.report_op.type

    @property
    def _location(self):
        return self.report_op._location


class FusedDense(_FusedStep):
    """MatMul -> bias add [-> Relu] as one GEMM call; failures are reported against the
    MatMul."""

    __slots__ = ()

    def __init__(self, mm, bias, ops, relu):
        ta, tb = bool(mm._attrs["transpose_a"]), bool(mm._attrs["transpose_b"])

        def kernel(op, ctx):
            from headwater._native import _C
            cmm = _C.matmul

            def dense_(a, b, bias_value):
                return cmm(a, b, ta, tb, bias=bias_value, relu=relu)
            return dense_
        super().__init__("_FusedDense", [mm._inputs[0], mm._inputs[1], bias], ops, mm, kernel)


class FusedBiasRelu(_FusedStep):
    """Bias add -> Relu after any other op (a convolution, say): one pass over the data instead
    of two, and no intermediate array; failures are reported against the add."""

    __slots__ = ()

    def __init__(self, x, bias, add, relu):
        def kernel(op, ctx):
            from headwater._native import _C
            return _C.bias_relu
        super().__init__("_FusedBiasRelu", [x, bias], [add, relu], add, kernel)


def _static_dims(t):
    d = t._shape._dims
    return d if d is not None and None not in d else None


def _prod(dims):
    n = 1
    for d in dims:
        n *= d
    return n


class _Order:
    """What the fusion rules ask of a plan's op order."""

    def __init__(self, order, keep):
        self.order = order
        self.keep = keep
        self.pos = {op: i for i, op in enumerate(order)}
        self.consumers = {}
        self.controlled = set()  # ops something else has a control dependency on
        for op in order:
            for t in op._inputs:
                self.consumers.setdefault(t, []).append(op)
            self.controlled.update(op._control_inputs)

    def value_readers(self, t):
        return [c for c in self.consumers.get(t, ()) if c._type not in _SHAPE_ONLY]

    def can_alias(self, t, main, at):
        """True if `t` may be replaced by the output of a step placed at `at`: it is not fed
        or fetched, and besides `main` only shape readers after that step read it."""
        if t in self.keep:
            return False
        pos = self.pos
        return all(c is main or (c._type in _SHAPE_ONLY and pos[c] > at)
                   for c in self.consumers.get(t, ()))

    def writes_between(self, first, last):
        """An op strictly between the two could change a variable read at `first` that the
        fused step would read at `last`'s place: such plans are kept as written."""
        order = self.order
        return any(_may_write_variables(order[i])
                   for i in range(self.pos[first] + 1, self.pos[last]))

    def relu_after(self, t):
        """The Relu that is `t`'s only value reader, if `t` can be fused into it."""
        readers = self.value_readers(t)
        if len(readers) == 1 and readers[0]._type == "Relu":
            r = readers[0]
            if self.can_alias(t, r, self.pos[r]):
                return r
        return None


def _split_bias_add(add, x=None):
    """(value, bias) of a bias add (BiasAdd in NHWC, or Add/AddV2 with a static rank-1
    operand), with `value` forced to `x` when given; None if `add` is not one."""
    if add._type not in _ADD_TYPES:
        return None
    a, b = add._inputs
    if add._type == "BiasAdd":
        if add._attrs.get("data_format") not in (None, "NHWC", b"NHWC"):
            return None
    elif x is None:
        bd = _static_dims(b)
        if bd is None or len(bd) != 1:
            a, b = b, a
    elif b is x:
        a, b = b, a
    if (x is not None and a is not x) or b is a:
        return None
    bd = _static_dims(b)
    if (bd is None or len(bd) != 1 or b._dtype.base_dtype is not a._dtype.base_dtype
            or a._dtype.base_dtype not in _FLOAT):
        return None
    xd = a._shape._dims
    if xd is None or len(xd) < 2 or xd[-1] != bd[0]:
        return None
    td = add._outputs[0]._shape._dims
    if td is None or tuple(td) != tuple(xd):
        return None
    return a, b


def fuse_dense(order, keep):
    """Returns (new order, tensor aliases) with dense layers (and other bias add -> Relu
    pairs) fused, or (order, None).

    `keep` holds the fed and fetched tensors: a fused-away intermediate must be neither.
    """
    from headwater._native import _C
    if _C is None or not hasattr(_C, "matmul"):
        return order, None
    if not any(op._type == "Relu" or op._type == "MatMul" for op in order):
        return order, None
    from headwater.ops.math_ops import _C_MIN_MATMUL_FLOPS

    g = _Order(order, keep)
    replace = {}   # last op of a pattern -> the step that replaces the pattern
    dropped = set()
    alias = {}
    for mm in order:
        if mm._type != "MatMul" or mm in g.controlled:
            continue
        t_mm = mm._outputs[0]
        da, db = mm._inputs[0]._shape._dims, mm._inputs[1]._shape._dims
        if da is None or db is None or len(da) != 2 or len(db) != 2:
            continue
        if None not in da and None not in db:
            tb = mm._attrs["transpose_b"]
            if da[0] * da[1] * (db[0] if tb else db[1]) < _C_MIN_MATMUL_FLOPS:
                continue  # small products run on numpy's matmul unfused
        readers = g.value_readers(t_mm)
        if len(readers) != 1 or readers[0] in g.controlled:
            continue
        add = readers[0]
        split = _split_bias_add(add, t_mm)
        if split is None:
            continue
        relu = g.relu_after(add._outputs[0])
        ops = [mm, add] if relu is None else [mm, add, relu]
        last = ops[-1]
        if not g.can_alias(t_mm, add, g.pos[last]) or g.writes_between(mm, last):
            continue
        replace[last] = FusedDense(mm, split[1], ops, relu is not None)
        dropped.update(ops[:-1])
        for op in ops[:-1]:
            alias[op._outputs[0]] = last._outputs[0]

    if hasattr(_C, "bias_relu"):
        for add in order:
            if add in dropped or add in replace or add in g.controlled:
                continue
            split = _split_bias_add(add)
            if split is None:
                continue
            xd = _static_dims(split[0])
            if xd is not None and _prod(xd) < _BIAS_RELU_MIN:
                continue
            relu = g.relu_after(add._outputs[0])
            if relu is None or relu in replace or g.writes_between(add, relu):
                continue
            replace[relu] = FusedBiasRelu(split[0], split[1], add, relu)
            dropped.add(add)
            alias[add._outputs[0]] = relu._outputs[0]

    if not replace:
        return order, None
    new_order = [replace.get(op, op) for op in order if op not in dropped]
    return new_order, alias


# Below this many elements the numpy add and relu cost less than the native call.
_BIAS_RELU_MIN = 4096
