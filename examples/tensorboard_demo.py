"""Train the MNIST softmax model with summaries, then look at it in TensorBoard.

Run:  python examples/tensorboard_demo.py [--logdir /tmp/headwater_demo] [--steps 500]
Then: tensorboard --logdir /tmp/headwater_demo --host 127.0.0.1

Writes two runs, "train" and "test": the loss and accuracy curves (scalars), histograms of the
weights, biases and logits, a few input digits (images), the graph (scopes drawn as boxes,
shapes on the edges) and one traced step's per-op compute time and memory.
"""

import argparse
import os
import shutil

import headwater as tf
import headwater.summary  # noqa: F401 - makes tf.summary available
from headwater.datasets.mnist import read_data_sets
from headwater.summary.tracing import traced_run

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "mnist"))


def variable_summaries(var):
    """Mean, stddev, min and max scalars and a histogram of `var`, as in TF1's tutorial."""
    with tf.name_scope("summaries"):
        mean = tf.reduce_mean(var)
        tf.summary.scalar("mean", mean)
        with tf.name_scope("stddev"):
            stddev = tf.sqrt(tf.reduce_mean(tf.square(var - mean)))
        tf.summary.scalar("stddev", stddev)
        tf.summary.scalar("max", tf.reduce_max(var))
        tf.summary.scalar("min", tf.reduce_min(var))
        tf.summary.histogram("histogram", var)


def build_model(learning_rate):
    with tf.name_scope("input"):
        x = tf.placeholder(tf.float32, [None, 784], name="x-input")
        y_ = tf.placeholder(tf.float32, [None, 10], name="y-input")
    with tf.name_scope("input_reshape"):
        tf.summary.image("input", tf.reshape(x, [-1, 28, 28, 1]), 10)
    with tf.name_scope("softmax_layer"):
        with tf.name_scope("weights"):
            W = tf.Variable(tf.zeros([784, 10]))
            variable_summaries(W)
        with tf.name_scope("biases"):
            b = tf.Variable(tf.zeros([10]))
            variable_summaries(b)
        with tf.name_scope("Wx_plus_b"):
            y = tf.matmul(x, W) + b
            tf.summary.histogram("logits", y)
    with tf.name_scope("cross_entropy"):
        cross_entropy = tf.reduce_mean(
            tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=y))
    tf.summary.scalar("cross_entropy", cross_entropy)
    with tf.name_scope("train"):
        train_step = tf.train.GradientDescentOptimizer(learning_rate).minimize(cross_entropy)
    with tf.name_scope("accuracy"):
        correct = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
        accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    tf.summary.scalar("accuracy", accuracy)
    return x, y_, train_step, accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="/tmp/headwater_demo")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--data-dir", default=SHARED if os.path.isdir(SHARED) else None)
    parser.add_argument("--learning-rate", type=float, default=0.5)
    parser.add_argument("--keep", action="store_true", help="keep earlier runs in --logdir")
    args = parser.parse_args()

    if not args.keep and os.path.isdir(args.logdir):
        shutil.rmtree(args.logdir)
    mnist = read_data_sets(args.data_dir, one_hot=True, seed=0)
    tf.set_random_seed(0)
    x, y_, train_step, accuracy = build_model(args.learning_rate)
    merged = tf.summary.merge_all()

    sess = tf.Session()
    train_writer = tf.summary.FileWriter(os.path.join(args.logdir, "train"), sess.graph)
    test_writer = tf.summary.FileWriter(os.path.join(args.logdir, "test"))
    sess.run(tf.global_variables_initializer())
    test_feed = {x: mnist.test.images, y_: mnist.test.labels}

    for i in range(args.steps):
        if i % 10 == 0:
            summary, acc = sess.run([merged, accuracy], feed_dict=test_feed)
            test_writer.add_summary(summary, i)
            if i % 100 == 0:
                print("Accuracy at step %d: %s" % (i, acc))
        xs, ys = mnist.train.next_batch(100)
        if i == 99:
            # One traced step: per-op compute time and memory on TensorBoard's graph page.
            run_options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
            run_metadata = tf.RunMetadata()
            summary, _ = sess.run([merged, train_step], feed_dict={x: xs, y_: ys},
                                  options=run_options, run_metadata=run_metadata)
            if run_metadata.step_stats is None:  # Session.run not yet routing traced runs
                summary, _ = traced_run(sess, [merged, train_step], {x: xs, y_: ys},
                                        run_options, run_metadata)
            train_writer.add_run_metadata(run_metadata, "step%03d" % i)
        else:
            summary, _ = sess.run([merged, train_step], feed_dict={x: xs, y_: ys})
        train_writer.add_summary(summary, i)

    print("Final test accuracy: %s" % sess.run(accuracy, feed_dict=test_feed))
    train_writer.close()
    test_writer.close()
    sess.close()
    print("\nEvent files are in %s. Look at them with:\n\n    tensorboard --logdir %s "
          "--host 127.0.0.1\n\nand open http://127.0.0.1:6006/" % (args.logdir, args.logdir))


if __name__ == "__main__":
    main()
