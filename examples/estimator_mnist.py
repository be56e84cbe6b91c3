"""MNIST with a canned `DNNClassifier` (TF1 estimator style), unchanged but for the import.

Run: python examples/estimator_mnist.py [--steps N] [--data_dir DIR]
"""

import argparse
import os

import numpy as np

import headwater as tf
from headwater.datasets import mnist as mnist_data

HERE = os.path.dirname(os.path.abspath(__file__))
# The shared MNIST test set beside the repository, when present; else the download cache.
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "mnist"))


def main(steps=2000, data_dir=None, model_dir=None):
    tf.logging.set_verbosity(tf.logging.INFO)
    mnist = mnist_data.read_data_sets(data_dir)
    train_x, train_y = mnist.train.images, mnist.train.labels.astype(np.int32)
    test_x, test_y = mnist.test.images, mnist.test.labels.astype(np.int32)

    feature_columns = [tf.feature_column.numeric_column("x", shape=[28 * 28])]
    classifier = tf.estimator.DNNClassifier(
        feature_columns=feature_columns, hidden_units=[256, 32],
        optimizer=tf.train.AdamOptimizer(1e-4), n_classes=10, dropout=0.1,
        model_dir=model_dir)

    train_input_fn = tf.estimator.inputs.numpy_input_fn(
        x={"x": train_x}, y=train_y, num_epochs=None, batch_size=50, shuffle=True)
    classifier.train(input_fn=train_input_fn, steps=steps)

    test_input_fn = tf.estimator.inputs.numpy_input_fn(
        x={"x": test_x}, y=test_y, num_epochs=1, shuffle=False)
    accuracy_score = classifier.evaluate(input_fn=test_input_fn)["accuracy"]
    print(f"\nTest Accuracy: {accuracy_score * 100:f}%\n")
    return accuracy_score


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--data_dir", "--data-dir", default=SHARED if os.path.isdir(SHARED) else None)
    p.add_argument("--model_dir", default=None)
    a = p.parse_args()
    main(a.steps, a.data_dir, a.model_dir)
