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


class _FusedDenseDef:
    __slots__ = ("kernel",)
    ref_inputs = ()
    aliases = False
    stateful = False

    def __init__(self, kernel):
        self.kernel = kernel


class FusedDense:
    """Plan step standing in for MatMul -> bias add [-> Relu].

    Carries the attributes a plan reads from an Operation. `report_op` is the MatMul: a failure
    (e.g. mismatched shapes at run time) is reported against it, with the user's line.
    """

    __slots__ = ("_inputs", "_outputs", "_op_def", "_type", "report_op", "ops")

    def __init__(self, mm, bias, ops, relu):
        self._inputs = [mm._inputs[0], mm._inputs[1], bias]
        self._outputs = [ops[-1]._outputs[0]]
        self._type = "_FusedDense"
        self.report_op = mm
        self.ops = ops
        ta, tb = bool(mm._attrs["transpose_a"]), bool(mm._attrs["transpose_b"])

        def kernel(op, ctx):
            from headwater._native import _C
            cmm = _C.matmul

            def dense_(a, b, bias_value):
                return cmm(a, b, ta, tb, bias=bias_value, relu=relu)
            return dense_
        self._op_def = _FusedDenseDef(kernel)

    # Error messages about the step name the user's op and the line that created it.
    @property
    def name(self):
        return self.report_op.name

    @property
    def type(self):
        return self.report_op.type

    @property
    def _location(self):
        return self.report_op._location


def _static_dims(t):
    d = t._shape._dims
    return d if d is not None and None not in d else None


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

    pos = {op: i for i, op in enumerate(order)}
    consumers = {}
    controlled = set()
    for op in order:
        for t in op._inputs:
            consumers.setdefault(t, []).append(op)
        controlled.update(op._control_inputs)

    def only_shape_readers_after(t, main, at):
        for c in consumers.get(t, ()):
            if c is main:
                continue
            if c._type not in _SHAPE_ONLY or pos[c] <= at:
                return False
        return True

    replace = {}   # op -> FusedDense (placed at the last op of its pattern)
    dropped = set()
    alias = {}
    for mm in order:
        if mm._type != "MatMul" or mm in dropped or mm in controlled:
            continue
        t_mm = mm._outputs[0]
        if t_mm in keep or t_mm._dtype.base_dtype not in _FLOAT:
            continue
        da, db = mm._inputs[0]._shape._dims, mm._inputs[1]._shape._dims
        if da is None or db is None or len(da) != 2 or len(db) != 2:
            continue
        if None not in da and None not in db:
            tb = mm._attrs["transpose_b"]
            if da[0] * da[1] * (db[0] if tb else db[1]) < _C_MIN_MATMUL_FLOPS:
                continue  # small products run on numpy's matmul unfused
        n = t_mm._shape._dims[1] if t_mm._shape._dims is not None else None
        if n is None:
            continue
        readers = [c for c in consumers.get(t_mm, ()) if c._type not in _SHAPE_ONLY]
        if len(readers) != 1:
            continue
        add = readers[0]
        if add._type not in _ADD_TYPES or add in controlled or add in replace:
            continue
        if add._type == "BiasAdd":
            fmt = add._attrs.get("data_format")
            if fmt not in (None, "NHWC", b"NHWC") or add._inputs[0] is not t_mm:
                continue
            bias = add._inputs[1]
        else:
            x, y = add._inputs
            bias = y if x is t_mm else x
            if bias is t_mm:
                continue
        if bias._dtype.base_dtype is not t_mm._dtype.base_dtype or _static_dims(bias) != (n,):
            continue
        t_add = add._outputs[0]
        if t_add._shape._dims is None or tuple(t_add._shape._dims)[1:] != (n,):
            continue
        ops = [mm, add]
        relu = False
        add_readers = [c for c in consumers.get(t_add, ()) if c._type not in _SHAPE_ONLY]
        if (len(add_readers) == 1 and add_readers[0]._type == "Relu" and t_add not in keep
                and add_readers[0] not in replace):
            r = add_readers[0]
            if only_shape_readers_after(t_add, r, pos[r]):
                ops.append(r)
                relu = True
        last = ops[-1]
        at = pos[last]
        if not only_shape_readers_after(t_mm, add, at):
            continue
        # An op between the MatMul and the fused step could change a variable that the
        # MatMul would have read earlier: keep such plans exactly as written.
        if any(_may_write_variables(order[i]) for i in range(pos[mm] + 1, at)):
            continue
        fused = FusedDense(mm, bias, ops, relu)
        replace[last] = fused
        dropped.update(ops[:-1])
        alias[t_mm] = last._outputs[0]
        if relu:
            alias[t_add] = last._outputs[0]
    _fuse_bias_relu(order, keep, consumers, controlled, pos, replace, dropped, alias)
    if not replace:
        return order, None
    new_order = [replace.get(op, op) for op in order if op not in dropped]
    return new_order, alias


class FusedBiasRelu:
    """Plan step standing in for bias add -> Relu after any other op (a convolution, say):
    one pass over the data instead of two, and no intermediate array."""

    __slots__ = ("_inputs", "_outputs", "_op_def", "_type", "report_op", "ops")

    def __init__(self, x, bias, add, relu):
        self._inputs = [x, bias]
        self._outputs = [relu._outputs[0]]
        self._type = "_FusedBiasRelu"
        self.report_op = add
        self.ops = [add, relu]

        def kernel(op, ctx):
            from headwater._native import _C
            return _C.bias_relu
        self._op_def = _FusedDenseDef(kernel)

    # Error messages about the step name the user's op and the line that created it.
    @property
    def name(self):
        return self.report_op.name

    @property
    def type(self):
        return self.report_op.type

    @property
    def _location(self):
        return self.report_op._location


# Below this many elements the two numpy calls cost less than the native call.
_BIAS_RELU_MIN = 4096


def _fuse_bias_relu(order, keep, consumers, controlled, pos, replace, dropped, alias):
    """Adds FusedBiasRelu steps for bias add -> Relu pairs not already part of a dense layer."""
    from headwater._native import _C
    if not hasattr(_C, "bias_relu"):
        return
    for add in order:
        if add._type not in _ADD_TYPES or add in dropped or add in replace or add in controlled:
            continue
        if add._type == "BiasAdd":
            fmt = add._attrs.get("data_format")
            if fmt not in (None, "NHWC", b"NHWC"):
                continue
            x, bias = add._inputs
        else:
            a, b = add._inputs
            if _static_dims(b) is not None and len(_static_dims(b)) == 1:
                x, bias = a, b
            else:
                x, bias = b, a
        dt = x._dtype.base_dtype
        if dt not in _FLOAT or bias._dtype.base_dtype is not dt:
            continue
        xd, bd = _static_dims(x), _static_dims(bias)
        if bd is None or len(bd) != 1 or x._shape._dims is None or len(x._shape._dims) < 2:
            continue
        if x._shape._dims[-1] != bd[0]:
            continue
        if xd is not None and _prod(xd) < _BIAS_RELU_MIN:
            continue
        t_add = add._outputs[0]
        if t_add in keep or tuple(t_add._shape._dims or ()) != tuple(x._shape._dims):
            continue
        readers = [c for c in consumers.get(t_add, ()) if c._type not in _SHAPE_ONLY]
        if len(readers) != 1 or readers[0]._type != "Relu" or readers[0] in replace:
            continue
        relu = readers[0]
        at = pos[relu]
        if any(c is not relu and (c._type not in _SHAPE_ONLY or pos[c] <= at)
               for c in consumers.get(t_add, ())):
            continue
        # The bias is read at the Relu's step instead of the add's: nothing stateful between.
        if any(_may_write_variables(order[i]) for i in range(pos[add] + 1, at)):
            continue
        replace[relu] = FusedBiasRelu(x, bias, add, relu)
        dropped.add(add)
        alias[t_add] = relu._outputs[0]


def _prod(dims):
    n = 1
    for d in dims:
        n *= d
    return n
