"""`tf.data`: `Dataset` and `Iterator` (a small, Python-driven subset of TF1's tf.data)."""

from headwater.data.dataset_ops import (
                                        AUTOTUNE,
                                        Dataset,
                                        Iterator,
                                        make_initializable_iterator,
                                        make_one_shot_iterator,
)

__all__ = ["AUTOTUNE", "Dataset", "Iterator", "make_initializable_iterator",
           "make_one_shot_iterator"]
