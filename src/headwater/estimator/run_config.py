"""`RunConfig`: where and how often an Estimator saves, logs and summarizes (TF1 defaults)."""

from __future__ import annotations

__all__ = ["RunConfig"]

_DEFAULTS = dict(model_dir=None, tf_random_seed=None, save_summary_steps=100,
                 save_checkpoints_steps=None, save_checkpoints_secs=600, session_config=None,
                 keep_checkpoint_max=5, keep_checkpoint_every_n_hours=10000,
                 log_step_count_steps=100, train_distribute=None, device_fn=None,
                 protocol=None, eval_distribute=None, experimental_distribute=None,
                 experimental_max_worker_delay_secs=None,
                 session_creation_timeout_secs=7200, checkpoint_save_graph_def=True)
_UNSET = object()


class RunConfig:
    """Run configuration of an Estimator.

    Args:
      model_dir: directory of checkpoints and event files.
      tf_random_seed: graph-level random seed.
      save_summary_steps: write summaries every this many steps (None/0: never).
      save_checkpoints_steps / save_checkpoints_secs: checkpoint interval; at most one may be
        set; both None disables periodic checkpoints (default: every 600 seconds).
      session_config: a ConfigProto for the sessions.
      keep_checkpoint_max: how many checkpoints to keep.
      keep_checkpoint_every_n_hours: additionally keep one per this many hours.
      log_step_count_steps: log loss and global_step/sec every this many steps.
    """

    def __init__(self, model_dir=None, tf_random_seed=None, save_summary_steps=100,
                 save_checkpoints_steps=_UNSET, save_checkpoints_secs=_UNSET,
                 session_config=None, keep_checkpoint_max=5,
                 keep_checkpoint_every_n_hours=10000, log_step_count_steps=100,
                 train_distribute=None, device_fn=None, protocol=None, eval_distribute=None,
                 experimental_distribute=None, experimental_max_worker_delay_secs=None,
                 session_creation_timeout_secs=7200, checkpoint_save_graph_def=True):
        if save_checkpoints_steps is _UNSET and save_checkpoints_secs is _UNSET:
            save_checkpoints_steps, save_checkpoints_secs = None, 600
        elif save_checkpoints_steps is _UNSET:
            save_checkpoints_steps = None
        elif save_checkpoints_secs is _UNSET:
            save_checkpoints_secs = None
        if save_checkpoints_steps and save_checkpoints_secs:
            raise ValueError("Can not provide both save_checkpoints_steps and "
                             "save_checkpoints_secs.")
        for name, v in (("save_summary_steps", save_summary_steps),
                        ("save_checkpoints_steps", save_checkpoints_steps),
                        ("save_checkpoints_secs", save_checkpoints_secs),
                        ("keep_checkpoint_max", keep_checkpoint_max),
                        ("log_step_count_steps", log_step_count_steps)):
            if v is not None and v < 0:
                raise ValueError(f"{name} should be >= 0, given: {v}")
        self._model_dir = model_dir
        self._tf_random_seed = tf_random_seed
        self._save_summary_steps = save_summary_steps
        self._save_checkpoints_steps = save_checkpoints_steps
        self._save_checkpoints_secs = save_checkpoints_secs
        self._session_config = session_config
        self._keep_checkpoint_max = keep_checkpoint_max
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._log_step_count_steps = log_step_count_steps
        self._train_distribute = train_distribute
        self._device_fn = device_fn
        self._protocol = protocol
        self._eval_distribute = eval_distribute
        self._experimental_distribute = experimental_distribute
        self._experimental_max_worker_delay_secs = experimental_max_worker_delay_secs
        self._session_creation_timeout_secs = session_creation_timeout_secs
        self._checkpoint_save_graph_def = checkpoint_save_graph_def

    def __getattr__(self, name):
        if name in _DEFAULTS:
            return self.__dict__["_" + name]
        raise AttributeError("'RunConfig' object has no attribute %r" % name)

    # single-process cluster defaults, as TF1's RunConfig reports them
    cluster_spec = None
    task_type = "worker"
    task_id = 0
    global_id_in_cluster = 0
    master = ""
    evaluation_master = ""
    is_chief = True
    num_ps_replicas = 0
    num_worker_replicas = 1
    service = None

    def replace(self, **kwargs):
        """A copy with the given properties changed.

        Raises:
          ValueError: for a property RunConfig does not have.
        """
        for k in kwargs:
            if k not in _DEFAULTS:
                raise ValueError(f"{k} is not a valid property to replace")
        args = {k: self.__dict__["_" + k] for k in _DEFAULTS}
        if "save_checkpoints_steps" in kwargs and "save_checkpoints_secs" not in kwargs:
            args["save_checkpoints_secs"] = None
        if "save_checkpoints_secs" in kwargs and "save_checkpoints_steps" not in kwargs:
            args["save_checkpoints_steps"] = None
        args.update(kwargs)
        return RunConfig(**args)

    def __repr__(self):
        d = {"_" + k: self.__dict__["_" + k] for k in _DEFAULTS}
        return repr(d)

    __str__ = __repr__
