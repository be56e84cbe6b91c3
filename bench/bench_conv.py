"""Deep-MNIST conv/pool layers: headwater._C kernels against TensorFlow graph mode (measured in
its own venv when available) and the TF1 figures quoted in the kernels issue."""

import numpy as np

from _harness import fmt_ratio, fmt_time, measure, table
from _tfref import TIMER, run_tf

from headwater import _C

# (label, input shape, filter shape, TF1 forward ms, TF1 forward+backward ms) from the issue.
LAYERS = [
    ("conv1 100x28x28x1 * 5x5x1x32 SAME", (100, 28, 28, 1), (5, 5, 1, 32), 1.07, 11.5),
    ("conv2 100x14x14x32 * 5x5x32x64 SAME", (100, 14, 14, 32), (5, 5, 32, 64), 8.1, 24.2),
]
POOLS = [("pool1 2x2/2 on 100x28x28x32", (100, 28, 28, 32), 0.91),
         ("pool2 2x2/2 on 100x14x14x64", (100, 14, 14, 64), None)]

_TF_SCRIPT = TIMER + r'''
import numpy as np
import tensorflow as tf
tf.compat.v1.disable_eager_execution()
req = json.loads(sys.stdin.read())
out = {}
rng = np.random.default_rng(0)
for label, xs, fs in req["convs"]:
    g = tf.Graph()
    with g.as_default():
        xv = rng.standard_normal(xs).astype(np.float32)
        fv = rng.standard_normal(fs).astype(np.float32)
        # Variables, not constants: Grappler would fold a constant graph away.
        x = tf.compat.v1.Variable(xv)
        f = tf.compat.v1.Variable(fv)
        y = tf.nn.conv2d(x, f, strides=[1, 1, 1, 1], padding="SAME")
        dy = tf.compat.v1.Variable(
            rng.standard_normal([xs[0], xs[1], xs[2], fs[3]]).astype(np.float32))
        gx, gf = tf.gradients(y, [x, f], grad_ys=dy)
        sess = tf.compat.v1.Session(graph=g)
        sess.run(tf.compat.v1.global_variables_initializer())
        fwd = sess.make_callable(y.op)
        both = sess.make_callable([y.op, gx.op, gf.op])
        out[label] = [measure(fwd, req["repeat"], req["min_time"]),
                      measure(both, req["repeat"], req["min_time"])]
for label, xs in req["pools"]:
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.Variable(rng.standard_normal(xs).astype(np.float32))
        y = tf.nn.max_pool2d(x, 2, 2, "SAME")
        dy = tf.compat.v1.Variable(
            rng.standard_normal([xs[0], xs[1] // 2, xs[2] // 2, xs[3]]).astype(np.float32))
        gx, = tf.gradients(y, [x], grad_ys=dy)
        sess = tf.compat.v1.Session(graph=g)
        sess.run(tf.compat.v1.global_variables_initializer())
        out[label] = [measure(sess.make_callable(y.op), req["repeat"], req["min_time"]),
                      measure(sess.make_callable([y.op, gx.op]), req["repeat"], req["min_time"])]
print(json.dumps(out))
'''


def run(quick=False):
    rng = np.random.default_rng(0)
    repeat = 3 if quick else 7
    min_time = 0.01 if quick else 0.3
    tf = None
    if not quick:
        tf = run_tf(_TF_SCRIPT, {"convs": [(lbl, xs, fs) for lbl, xs, fs, _, _ in LAYERS],
                                 "pools": [(lbl, xs) for lbl, xs, _ in POOLS],
                                 "repeat": repeat, "min_time": min_time})
    header = ["layer, float32", "headwater fwd", "headwater fwd+bwd", "GFLOP/s fwd+bwd",
              "TF1 (issue) fwd / fwd+bwd", "TF1 / headwater (fwd, fwd+bwd)"]
    if tf:
        header += ["TF 2.15 v1-graph fwd / fwd+bwd", "TF / headwater (fwd, fwd+bwd)"]
    rows = []
    pads = (2, 2, 2, 2)
    for label, xs, fs, ref_f, ref_fb in LAYERS[:1] if quick else LAYERS:
        x = rng.standard_normal(xs).astype(np.float32)
        f = rng.standard_normal(fs).astype(np.float32)
        dy = rng.standard_normal(xs[:3] + (fs[3],)).astype(np.float32)

        def fwd():
            _C.conv2d(x, f, (1, 1), (1, 1), pads)

        def both():
            _C.conv2d(x, f, (1, 1), (1, 1), pads)
            _C.conv2d_backprop_input(xs, f, dy, (1, 1), (1, 1), pads)
            _C.conv2d_backprop_filter(x, fs, dy, (1, 1), (1, 1), pads)

        t_f = measure(fwd, repeat=repeat, min_time=min_time)
        t_fb = measure(both, repeat=repeat, min_time=min_time)
        flops = 3 * 2.0 * xs[0] * xs[1] * xs[2] * fs[0] * fs[1] * fs[2] * fs[3]
        row = [label, fmt_time(t_f), fmt_time(t_fb), f"{flops / t_fb / 1e9:.0f}",
               f"{ref_f} ms / {ref_fb} ms",
               f"{fmt_ratio(ref_f * 1e-3 / t_f)}, {fmt_ratio(ref_fb * 1e-3 / t_fb)}"]
        if tf:
            tt = tf.get(label)
            row += ([f"{fmt_time(tt[0])} / {fmt_time(tt[1])}",
                     f"{fmt_ratio(tt[0] / t_f)}, {fmt_ratio(tt[1] / t_fb)}"] if tt else ["-", "-"])
        rows.append(row)
    for label, xs, ref in POOLS[:1] if quick else POOLS:
        x = rng.standard_normal(xs).astype(np.float32)
        dy = rng.standard_normal((xs[0], xs[1] // 2, xs[2] // 2, xs[3])).astype(np.float32)
        z = (0, 0, 0, 0)
        t_f = measure(lambda: _C.max_pool(x, (2, 2), (2, 2), z), repeat=repeat, min_time=min_time)

        def both():
            # The graph's path when it differentiates the pool: the forward records the argmax
            # and the gradient spreads from it without re-reading x (nn_ops MaxPool/MaxPoolGrad).
            _, arg = _C.max_pool_argmax(x, (2, 2), (2, 2), z)
            _C.max_pool_grad_argmax(xs, arg, dy, (2, 2), (2, 2), z)

        t_fb = measure(both, repeat=repeat, min_time=min_time)
        row = [label, fmt_time(t_f), fmt_time(t_fb), "-",
               f"- / {ref} ms" if ref else "-",
               f"-, {fmt_ratio(ref * 1e-3 / t_fb)}" if ref else "-"]
        if tf:
            tt = tf.get(label)
            row += ([f"{fmt_time(tt[0])} / {fmt_time(tt[1])}",
                     f"{fmt_ratio(tt[0] / t_f)}, {fmt_ratio(tt[1] / t_fb)}"] if tt else ["-", "-"])
        rows.append(row)
    return [("Deep-MNIST conv/pool layers, median (ratio > 1: headwater is faster; TF columns "
             "include Session.run overhead)", table(header, rows))]


if __name__ == "__main__":
    for title, md in run():
        print(f"### {title}\n\n{md}\n")
