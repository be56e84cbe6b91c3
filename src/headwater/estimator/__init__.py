"""`tf.estimator`: Estimator, EstimatorSpec, RunConfig, input functions and canned models."""

from headwater.estimator import inputs
from headwater.estimator.estimator import Estimator, VocabInfo, WarmStartSettings
from headwater.estimator.model_fn import EstimatorSpec, ModeKeys
from headwater.estimator.run_config import RunConfig

__all__ = ["Estimator", "EstimatorSpec", "ModeKeys", "RunConfig", "VocabInfo",
           "WarmStartSettings", "inputs"]

from headwater.estimator.canned.dnn import DNNClassifier, DNNRegressor
from headwater.estimator.canned.dnn_linear_combined import (
           DNNLinearCombinedClassifier,
           DNNLinearCombinedRegressor,
)
from headwater.estimator.canned.linear import LinearClassifier, LinearRegressor

__all__ += [
           "DNNClassifier",
           "DNNLinearCombinedClassifier",
           "DNNLinearCombinedRegressor",
           "DNNRegressor",
           "LinearClassifier",
           "LinearRegressor",
]
from headwater.estimator import export  # noqa: E402,F401
