"""The TensorFlow 1.x "MNIST for ML beginners" tutorial: softmax regression on MNIST.

Run: python examples/mnist_softmax.py [--data-dir DIR] [--steps 1000]

With the shared test-set-only data (the default when ../shared/data/mnist exists) it trains on
the first 8,000 test images and evaluates on the last 2,000 (TF1 reaches 0.92 on that split).
Without a data directory, MNIST is downloaded (checksum-verified) into the headwater cache.
"""

import argparse
import os
import sys

import headwater as tf
from headwater.datasets.mnist import read_data_sets

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "mnist"))

FLAGS = None


def main(_):
    if FLAGS.seed is not None:
        tf.set_random_seed(FLAGS.seed)
    mnist = read_data_sets(FLAGS.data_dir, one_hot=True, seed=FLAGS.seed)

    # Create the model
    x = tf.placeholder(tf.float32, [None, 784])
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    y = tf.matmul(x, W) + b

    # Define loss and optimizer
    y_ = tf.placeholder(tf.float32, [None, 10])
    cross_entropy = tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=y))
    train_step = tf.train.GradientDescentOptimizer(0.5).minimize(cross_entropy)

    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    sess = tf.InteractiveSession()
    tf.global_variables_initializer().run()
    # Train
    for i in range(1, FLAGS.steps + 1):
        batch_xs, batch_ys = mnist.train.next_batch(FLAGS.batch_size)
        if i % FLAGS.log_every == 0:
            _, acc = sess.run([train_step, accuracy], feed_dict={x: batch_xs, y_: batch_ys})
            print("step %d, training accuracy %g" % (i, acc), flush=True)
        else:
            sess.run(train_step, feed_dict={x: batch_xs, y_: batch_ys})

    # Test trained model
    print("test accuracy %g" % sess.run(accuracy, feed_dict={x: mnist.test.images,
                                                              y_: mnist.test.labels}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", "--data_dir", dest="data_dir", type=str,
                        default=SHARED if os.path.isdir(SHARED) else None,
                        help="Directory of the MNIST idx files (default: the shared test set "
                        "if present, else the download cache)")
    parser.add_argument("--steps", type=int, default=1000, help="training steps")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None, help="graph and shuffling seed")
    FLAGS, unparsed = parser.parse_known_args()
    main([sys.argv[0]] + unparsed)
