"""`tf.feature_column`: feature columns, `input_layer` and `linear_model` (TF1 names)."""

from headwater.feature_column.feature_column import (
                                                     bucketized_column,
                                                     categorical_column_with_hash_bucket,
                                                     categorical_column_with_identity,
                                                     categorical_column_with_vocabulary_list,
                                                     crossed_column,
                                                     embedding_column,
                                                     indicator_column,
                                                     input_layer,
                                                     linear_model,
                                                     make_parse_example_spec,
                                                     numeric_column,
)

__all__ = ["bucketized_column", "categorical_column_with_hash_bucket",
           "categorical_column_with_identity", "categorical_column_with_vocabulary_list",
           "crossed_column", "embedding_column", "indicator_column", "input_layer",
           "linear_model", "make_parse_example_spec", "numeric_column"]
