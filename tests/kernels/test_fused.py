"""headwater._C.fused_elementwise: random programs (hypothesis) against numpy evaluating the
same program op by op, broadcasting of scalars/rows/columns, folding of scalar-only work,
out= (in place too), errors, every ISA, 1 and 2 threads."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater import _C

BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
          "maximum": np.maximum, "minimum": np.minimum}


def _sigmoid(x):
    return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(x.dtype)


UNARY = {"neg": np.negative, "abs": np.abs, "relu": lambda x: np.maximum(x, x.dtype.type(0)),
         "square": np.square, "sqrt": np.sqrt, "exp": np.exp, "log": np.log, "tanh": np.tanh,
         "sigmoid": _sigmoid}
# Random programs use the ops whose results stay bounded or exact (no cancellation blow-ups
# from last-ulp differences of the transcendental approximations).
SAFE_BINARY = ["add", "sub", "mul", "maximum", "minimum"]
SAFE_UNARY = ["neg", "abs", "relu", "square", "tanh", "sigmoid"]


def numpy_eval(program, inputs, dtype):
    regs = {i: np.asarray(v, dtype) for i, v in enumerate(inputs)}
    with np.errstate(all="ignore"):
        for ins in program:
            op = ins[0]
            if op == "const":
                regs[ins[1]] = np.asarray(ins[2], dtype)
            elif op in BINARY:
                regs[ins[1]] = np.asarray(BINARY[op](regs[ins[2]], regs[ins[3]]), dtype)
            else:
                regs[ins[1]] = np.asarray(UNARY[op](regs[ins[2]]), dtype)
    shape = np.broadcast_shapes(*[np.shape(v) for v in inputs]) if inputs else ()
    return np.broadcast_to(regs[program[-1][1]], shape)


@st.composite
def cases(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    out_shape = draw(st.sampled_from([(), (1,), (7,), (3, 5), (33, 17), (2, 3, 4), (300, 261)]))
    nin = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 31)))
    inputs = []
    for _ in range(nin):
        kinds = ["full", "scalar", "pyfloat"]
        if len(out_shape) >= 1:
            kinds.append("row")
        if len(out_shape) >= 2:
            kinds += ["col", "lead1", "strided"]
        kind = draw(st.sampled_from(kinds))
        if kind == "full":
            v = rng.standard_normal(out_shape)
        elif kind == "scalar":
            v = rng.standard_normal(())
        elif kind == "pyfloat":
            v = float(rng.standard_normal())
        elif kind == "row":
            v = rng.standard_normal(out_shape[-1:])
        elif kind == "col":
            v = rng.standard_normal(out_shape[:-1] + (1,))
        elif kind == "lead1":
            v = rng.standard_normal((1,) + out_shape[1:])
        else:
            v = rng.standard_normal(out_shape[:-1] + (2 * out_shape[-1],))[..., ::2]
        inputs.append(v.astype(dtype) if isinstance(v, np.ndarray) else v)
    if all(isinstance(v, float) for v in inputs):
        inputs[0] = np.asarray(inputs[0], dtype)
    defined = list(range(nin))
    program = []
    for _ in range(draw(st.integers(1, 8))):
        dst = draw(st.integers(0, 11))
        kind = draw(st.sampled_from(["bin", "bin", "un", "const"]))
        if kind == "const":
            program.append(("const", dst, draw(st.floats(-3, 3))))
        elif kind == "un":
            program.append((draw(st.sampled_from(SAFE_UNARY)), dst,
                            draw(st.sampled_from(defined))))
        else:
            program.append((draw(st.sampled_from(SAFE_BINARY)), dst,
                            draw(st.sampled_from(defined)), draw(st.sampled_from(defined))))
        if dst not in defined:
            defined.append(dst)
    return dtype, out_shape, inputs, program


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_random_programs(isa, case):
    dtype, _, inputs, program = case
    got = _C.fused_elementwise(program, inputs)
    want = numpy_eval(program, inputs, dtype)
    assert got.dtype == dtype and got.shape == want.shape
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_op(isa, dtype, rng):
    x = rng.uniform(0.1, 3, (37, 29)).astype(dtype)
    y = rng.uniform(-3, 3, (29,)).astype(dtype)
    x[0, :3] = [np.nan, np.inf, 0]
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for op in BINARY:
        got = _C.fused_elementwise([(op, 2, 0, 1)], [x, y])
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(got, BINARY[op](x, y), rtol=tol, equal_nan=True)
        got = _C.fused_elementwise([(op, 2, 1, 0)], [x, y])
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(got, BINARY[op](y, x), rtol=tol, equal_nan=True)
    for op in UNARY:
        got = _C.fused_elementwise([(op, 1, 0)], [x])
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(got, UNARY[op](x), rtol=tol * 5, equal_nan=True)
    # maximum/minimum propagate NaN from either side, like numpy.
    a = np.array([np.nan, 1, 2, np.nan], dtype)
    b = np.array([1, np.nan, 3, np.nan], dtype)
    for op in ("maximum", "minimum"):
        np.testing.assert_array_equal(_C.fused_elementwise([(op, 2, 0, 1)], [a, b]),
                                      BINARY[op](a, b))


def test_relu_affine_example(isa, rng):
    x = rng.standard_normal((1000, 1024)).astype(np.float32)
    w = rng.standard_normal(1024).astype(np.float32)
    b = rng.standard_normal(1024).astype(np.float32)
    prog = [("mul", 3, 0, 1), ("add", 3, 3, 2), ("relu", 3, 3), ("const", 4, 0.5),
            ("mul", 3, 3, 4)]
    want = np.maximum(x * w + b, 0) * np.float32(0.5)
    np.testing.assert_array_equal(_C.fused_elementwise(prog, [x, w, b]), want)
    out = np.empty_like(x)
    assert _C.fused_elementwise(prog, [x, w, b], out) is out
    np.testing.assert_array_equal(out, want)
    y = x.copy()  # in place: out is an input
    _C.fused_elementwise(prog, [y, w, b], y)
    np.testing.assert_array_equal(y, want)


def test_scalar_folding_and_shapes():
    # Scalar-only work is folded; the result still has the broadcast shape.
    got = _C.fused_elementwise([("const", 1, 2.0), ("exp", 2, 1), ("mul", 3, 2, 0)],
                               [np.ones((2, 3), np.float64)])
    np.testing.assert_allclose(got, np.full((2, 3), np.exp(2.0)))
    got = _C.fused_elementwise([("const", 1, 4.0), ("sqrt", 2, 1)], [np.zeros((5,), np.float32)])
    np.testing.assert_array_equal(got, np.full(5, 2, np.float32))
    assert _C.fused_elementwise([("neg", 1, 0)], [np.float32(3)]).shape == ()
    assert _C.fused_elementwise([("neg", 1, 0)], [np.zeros((0, 4), np.float32)]).shape == (0, 4)
    # A register overwritten after being folded reads right in every block.
    x = np.arange(3000, dtype=np.float64)
    prog = [("const", 5, 2.0), ("mul", 6, 0, 5), ("add", 5, 6, 0), ("mul", 7, 5, 6)]
    np.testing.assert_array_equal(_C.fused_elementwise(prog, [x]), (2 * x + x) * (2 * x))


def test_threads_identical(restore_threads, rng):
    x = rng.standard_normal((700, 300)).astype(np.float32)
    prog = [("tanh", 1, 0), ("mul", 2, 1, 0), ("sigmoid", 3, 2), ("sub", 4, 3, 1)]
    outs = []
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        outs.append(_C.fused_elementwise(prog, [x]))
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


def test_errors():
    x = np.ones(4, np.float32)
    with pytest.raises(ValueError, match="program is empty"):
        _C.fused_elementwise([], [x])
    with pytest.raises(ValueError, match="unknown op 'pow'"):
        _C.fused_elementwise([("pow", 1, 0, 0)], [x])
    with pytest.raises(ValueError, match="register 3 is read before it is set"):
        _C.fused_elementwise([("add", 1, 0, 3)], [x])
    with pytest.raises(ValueError, match="out of range"):
        _C.fused_elementwise([("neg", 40, 0)], [x])
    with pytest.raises(ValueError, match="'add' takes 3 arguments"):
        _C.fused_elementwise([("add", 1, 0)], [x])
    with pytest.raises(TypeError, match="input 1 is float64 but input 0 is float32"):
        _C.fused_elementwise([("add", 2, 0, 1)], [x, np.ones(4)])
    with pytest.raises(TypeError, match="unsupported dtype int32"):
        _C.fused_elementwise([("neg", 1, 0)], [np.ones(4, np.int32)])
    with pytest.raises(ValueError, match="does not broadcast"):
        _C.fused_elementwise([("add", 2, 0, 1)], [x, np.ones(3, np.float32)])
    with pytest.raises(ValueError, match="out must be a writable C-contiguous"):
        _C.fused_elementwise([("neg", 1, 0)], [x], np.empty(5, np.float32))


def test_threaded_chunks_cover_everything(restore_threads, rng):
    """Chunks of blocks claimed by the threads cover every block once: the threaded result
    equals the program run on pieces small enough to stay on the calling thread."""
    n = 3 * 65536 + 517
    x = rng.standard_normal(n).astype(np.float32)
    prog = [("exp", 1, 0), ("mul", 2, 1, 0), ("relu", 3, 2)]
    pieces = np.concatenate([_C.fused_elementwise(prog, [x[i:i + 5000]])
                             for i in range(0, n, 5000)])
    for t in (1, 2, 3):
        _C.set_num_threads(t)
        out = np.full_like(x, np.nan)
        _C.fused_elementwise(prog, [x], out)
        np.testing.assert_array_equal(out, pieces)
