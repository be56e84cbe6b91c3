"""The TensorFlow 1.x "Deep MNIST for experts" tutorial: a convolutional network on MNIST.

conv 5x5x32 -> max-pool -> conv 5x5x64 -> max-pool -> fc 1024 -> dropout -> fc 10,
trained with Adam (1e-4) on batches of 50.

Run: python examples/mnist_deep.py [--data-dir DIR] [--steps 20000]

With the shared test-set-only data (the default when ../shared/data/mnist exists) it trains on
the first 8,000 test images and evaluates on the last 2,000. The test set is evaluated in
chunks of --eval-batch images (the TF1 tutorial feeds it whole; same number, less memory).
"""

import argparse
import os
import sys
import time

import numpy as np

import headwater as tf
from headwater.datasets.mnist import read_data_sets

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "mnist"))

FLAGS = None


def deepnn(x):
    """Build the graph of the deep net: x [None, 784] -> (logits [None, 10], keep_prob)."""
    # Reshape to use within a convolutional neural net: [batch, height, width, channels].
    with tf.name_scope("reshape"):
        x_image = tf.reshape(x, [-1, 28, 28, 1])

    # First convolutional layer - maps one grayscale image to 32 feature maps.
    with tf.name_scope("conv1"):
        W_conv1 = weight_variable([5, 5, 1, 32])
        b_conv1 = bias_variable([32])
        h_conv1 = tf.nn.relu(conv2d(x_image, W_conv1) + b_conv1)

    # Pooling layer - downsamples by 2X.
    with tf.name_scope("pool1"):
        h_pool1 = max_pool_2x2(h_conv1)

    # Second convolutional layer -- maps 32 feature maps to 64.
    with tf.name_scope("conv2"):
        W_conv2 = weight_variable([5, 5, 32, 64])
        b_conv2 = bias_variable([64])
        h_conv2 = tf.nn.relu(conv2d(h_pool1, W_conv2) + b_conv2)

    # Second pooling layer.
    with tf.name_scope("pool2"):
        h_pool2 = max_pool_2x2(h_conv2)

    # Fully connected layer 1 -- after 2 round of downsampling, our 28x28 image is down to
    # 7x7x64 feature maps -- maps this to 1024 features.
    with tf.name_scope("fc1"):
        W_fc1 = weight_variable([7 * 7 * 64, 1024])
        b_fc1 = bias_variable([1024])
        h_pool2_flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])
        h_fc1 = tf.nn.relu(tf.matmul(h_pool2_flat, W_fc1) + b_fc1)

    # Dropout - controls the complexity of the model, prevents co-adaptation of features.
    with tf.name_scope("dropout"):
        keep_prob = tf.placeholder(tf.float32)
        h_fc1_drop = tf.nn.dropout(h_fc1, keep_prob)

    # Map the 1024 features to 10 classes, one for each digit
    with tf.name_scope("fc2"):
        W_fc2 = weight_variable([1024, 10])
        b_fc2 = bias_variable([10])
        y_conv = tf.matmul(h_fc1_drop, W_fc2) + b_fc2
    return y_conv, keep_prob


def conv2d(x, W):
    """conv2d returns a 2d convolution layer with full stride."""
    return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="SAME")


def max_pool_2x2(x):
    """max_pool_2x2 downsamples a feature map by 2X."""
    return tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def weight_variable(shape):
    """weight_variable generates a weight variable of a given shape."""
    initial = tf.truncated_normal(shape, stddev=0.1)
    return tf.Variable(initial)


def bias_variable(shape):
    """bias_variable generates a bias variable of a given shape."""
    initial = tf.constant(0.1, shape=shape)
    return tf.Variable(initial)


def main(_):
    if FLAGS.seed is not None:
        tf.set_random_seed(FLAGS.seed)
    # Import data
    mnist = read_data_sets(FLAGS.data_dir, one_hot=True, seed=FLAGS.seed)

    # Create the model
    x = tf.placeholder(tf.float32, [None, 784])

    # Define loss and optimizer
    y_ = tf.placeholder(tf.float32, [None, 10])

    # Build the graph for the deep net
    y_conv, keep_prob = deepnn(x)

    with tf.name_scope("loss"):
        cross_entropy = tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=y_conv)
    cross_entropy = tf.reduce_mean(cross_entropy)

    with tf.name_scope("adam_optimizer"):
        train_step = tf.train.AdamOptimizer(1e-4).minimize(cross_entropy)

    with tf.name_scope("accuracy"):
        correct_prediction = tf.equal(tf.argmax(y_conv, 1), tf.argmax(y_, 1))
        correct_prediction = tf.cast(correct_prediction, tf.float32)
    accuracy = tf.reduce_mean(correct_prediction)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        t0 = time.perf_counter()
        for i in range(FLAGS.steps):
            batch = mnist.train.next_batch(50)
            if i % FLAGS.log_every == 0:
                train_accuracy = accuracy.eval(feed_dict={x: batch[0], y_: batch[1],
                                                          keep_prob: 1.0})
                print("step %d, training accuracy %g" % (i, train_accuracy), flush=True)
            train_step.run(feed_dict={x: batch[0], y_: batch[1], keep_prob: 0.5})
        train_s = time.perf_counter() - t0

        images, labels = mnist.test.images, mnist.test.labels
        correct = 0.0
        for s in range(0, len(images), FLAGS.eval_batch):
            n = len(images[s:s + FLAGS.eval_batch])
            correct += n * accuracy.eval(feed_dict={x: images[s:s + FLAGS.eval_batch],
                                                    y_: labels[s:s + FLAGS.eval_batch],
                                                    keep_prob: 1.0})
        if FLAGS.steps:
            print("%.1f ms per training step" % (train_s / FLAGS.steps * 1e3), flush=True)
        print("test accuracy %g" % np.float32(correct / len(images)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", "--data_dir", dest="data_dir", type=str,
                        default=SHARED if os.path.isdir(SHARED) else None,
                        help="Directory of the MNIST idx files (default: the shared test set "
                        "if present, else the download cache)")
    parser.add_argument("--steps", type=int, default=20000, help="training steps")
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--eval-batch", type=int, default=500)
    parser.add_argument("--seed", type=int, default=None, help="graph and shuffling seed")
    FLAGS, unparsed = parser.parse_known_args()
    main([sys.argv[0]] + unparsed)
