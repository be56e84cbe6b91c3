"""Datasets: `headwater.datasets.mnist` (idx reader, cached download, TF1 `read_data_sets`)."""

from headwater.datasets import mnist  # noqa: F401

__all__ = ["mnist"]
