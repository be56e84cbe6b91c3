"""`tf.train`: optimizers, the global step and learning-rate schedules (TF1 names).

    opt = tf.train.AdamOptimizer(1e-3)
    train_op = opt.minimize(loss, global_step=tf.train.get_or_create_global_step())
"""

from headwater.train import training_ops  # noqa: F401 - registers the Apply* op types
from headwater.train.adadelta import AdadeltaOptimizer
from headwater.train.adagrad import AdagradOptimizer
from headwater.train.adam import AdamOptimizer
from headwater.train.ftrl import FtrlOptimizer
from headwater.train.gradient_descent import GradientDescentOptimizer
from headwater.train.learning_rate_decay import (
                                                 cosine_decay,
                                                 cosine_decay_restarts,
                                                 exponential_decay,
                                                 inverse_time_decay,
                                                 linear_cosine_decay,
                                                 natural_exp_decay,
                                                 piecewise_constant,
                                                 piecewise_constant_decay,
                                                 polynomial_decay,
)
from headwater.train.momentum import MomentumOptimizer
from headwater.train.optimizer import Optimizer
from headwater.train.rmsprop import RMSPropOptimizer
from headwater.train.training_util import (
                                                 assert_global_step,
                                                 create_global_step,
                                                 get_global_step,
                                                 get_or_create_global_step,
                                                 global_step,
)

__all__ = [
    "AdadeltaOptimizer",
    "AdagradOptimizer",
    "AdamOptimizer",
    "FtrlOptimizer",
    "GradientDescentOptimizer",
    "MomentumOptimizer",
    "Optimizer",
    "RMSPropOptimizer",
    "assert_global_step",
    "cosine_decay",
    "cosine_decay_restarts",
    "create_global_step",
    "exponential_decay",
    "get_global_step",
    "get_or_create_global_step",
    "global_step",
    "inverse_time_decay",
    "linear_cosine_decay",
    "natural_exp_decay",
    "piecewise_constant",
    "piecewise_constant_decay",
    "polynomial_decay",
]
from headwater.train.saver import *  # noqa: F401,F403,E402 - Saver and checkpoint API

from headwater.train.session_run_hook import (SessionRunArgs, SessionRunContext,  # noqa: E402
                                              SessionRunHook, SessionRunValues)
from headwater.train.basic_session_run_hooks import (  # noqa: E402
    CheckpointSaverHook, CheckpointSaverListener, FeedFnHook, FinalOpsHook,
    GlobalStepWaiterHook, LoggingTensorHook, NanLossDuringTrainingError, NanTensorHook,
    SecondOrStepTimer, StepCounterHook, StopAtStepHook, SummarySaverHook)
from headwater.train.monitored_session import (  # noqa: E402
    ChiefSessionCreator, MonitoredSession, MonitoredTrainingSession, Scaffold, SessionCreator,
    SessionManager, SingularMonitoredSession, WorkerSessionCreator)
if "Coordinator" not in globals():
    from headwater.train.monitored_session import Coordinator  # noqa: E402,F401
__all__ += ["SessionRunArgs", "SessionRunContext", "SessionRunHook", "SessionRunValues",
            "CheckpointSaverHook", "CheckpointSaverListener", "FeedFnHook", "FinalOpsHook",
            "GlobalStepWaiterHook", "LoggingTensorHook", "NanLossDuringTrainingError",
            "NanTensorHook", "SecondOrStepTimer", "StepCounterHook", "StopAtStepHook",
            "SummarySaverHook", "ChiefSessionCreator", "MonitoredSession",
            "MonitoredTrainingSession", "Scaffold", "SessionCreator", "SessionManager",
            "SingularMonitoredSession", "WorkerSessionCreator"]
