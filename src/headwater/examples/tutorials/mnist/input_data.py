"""`from headwater.examples.tutorials.mnist import input_data`, as TF1's tutorials spell it."""

from headwater.datasets.mnist import read_data_sets  # noqa: F401
