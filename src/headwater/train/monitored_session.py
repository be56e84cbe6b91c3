"""`tf.train.MonitoredSession` and `MonitoredTrainingSession`: a session that initializes or
restores the model, runs hooks around every `run`, and stops cleanly (TF1 semantics).

    with tf.train.MonitoredTrainingSession(checkpoint_dir=d, hooks=[...]) as sess:
        while not sess.should_stop():
            sess.run(train_op)

Creating the session finalizes the graph (after the hooks' `begin`), initializes variables
or restores them from the latest checkpoint in `checkpoint_dir`, runs the local init op and
checks that every variable is ready. An `OutOfRangeError` (end of input) or `StopIteration`
ending the `with` block is a normal end: hooks' `end` run (so the final checkpoint is saved)
and the exception is swallowed, as TF1.
"""

from __future__ import annotations

import threading

import numpy as np

from headwater.framework import errors
from headwater.framework import ops as _ops
from headwater.platform import tf_logging as logging
from headwater.train import basic_session_run_hooks as _hooks
from headwater.train.session_run_hook import SessionRunArgs, SessionRunContext, SessionRunValues

__all__ = [
    "ChiefSessionCreator",
    "MonitoredSession",
    "MonitoredTrainingSession",
    "Scaffold",
    "SessionCreator",
    "SessionManager",
    "SingularMonitoredSession",
    "WorkerSessionCreator",
]

_GraphKeys = _ops.GraphKeys
USE_DEFAULT = object()


def _get_saver_or_default():
    """The saver of the SAVERS collection, or a new one over all variables added to it."""
    savers = _ops.get_collection(_GraphKeys.SAVERS)
    if savers:
        if len(savers) > 1:
            raise RuntimeError(f"More than one item in collection {_GraphKeys.SAVERS}. Please indicate which "
                               "one to use by passing it to the constructor."
                               )
        return savers[0]
    from headwater.train.saver import Saver

    saver = Saver(sharded=True, allow_empty=True)
    _ops.add_to_collection(_GraphKeys.SAVERS, saver)
    return saver


class Scaffold:
    """The pieces needed to create and initialize a session: init/ready ops, the saver, the
    summary op. Unset pieces get TF1's defaults in `finalize()` (also taken from the graph
    collections INIT_OP, READY_OP, LOCAL_INIT_OP, SUMMARY_OP, SAVERS when present)."""

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
                 ready_for_local_init_op=None, local_init_op=None, summary_op=None,
                 saver=None, copy_from_scaffold=None):
        if copy_from_scaffold is not None:
            if not isinstance(copy_from_scaffold, Scaffold):
                raise TypeError("copy_from_scaffold is not a Scaffold instance.")
            c = copy_from_scaffold
            init_op = init_op if init_op is not None else c.init_op
            init_feed_dict = init_feed_dict or c._init_feed_dict
            init_fn = init_fn or c._user_init_fn
            ready_op = ready_op if ready_op is not None else c.ready_op
            ready_for_local_init_op = ready_for_local_init_op if ready_for_local_init_op \
                is not None else c.ready_for_local_init_op
            local_init_op = local_init_op if local_init_op is not None else c.local_init_op
            summary_op = summary_op if summary_op is not None else c.summary_op
            saver = saver if saver is not None else c.saver
        self._user_init_fn = init_fn
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._init_op = init_op
        self._init_feed_dict = init_feed_dict
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._local_init_op = local_init_op
        self._summary_op = summary_op
        self._saver = saver

    def finalize(self):
        """Fill in the defaults and finalize the graph."""
        from headwater.ops import variables

        if self._init_op is None:
            self._init_op = Scaffold.get_or_default(
                "init_op", _GraphKeys.INIT_OP,
                lambda: variables.global_variables_initializer())
        if self._ready_op is None:
            self._ready_op = Scaffold.get_or_default(
                "ready_op", _GraphKeys.READY_OP,
                lambda: variables.report_uninitialized_variables())
        if self._ready_for_local_init_op is None:
            self._ready_for_local_init_op = Scaffold.get_or_default(
                "ready_for_local_init_op", _GraphKeys.READY_FOR_LOCAL_INIT_OP,
                lambda: variables.report_uninitialized_variables(
                    variables.global_variables()))
        if self._local_init_op is None:
            self._local_init_op = Scaffold.get_or_default(
                "local_init_op", _GraphKeys.LOCAL_INIT_OP, Scaffold.default_local_init_op)
        if self._summary_op is None:
            self._summary_op = Scaffold.get_or_default("summary_op", _GraphKeys.SUMMARY_OP,
                                                       _merge_all_summaries)
        if self._saver is None:
            self._saver = _get_saver_or_default()
        if hasattr(self._saver, "build"):
            self._saver.build()
        _ops.get_default_graph().finalize()
        return self

    @property
    def init_fn(self):
        return self._init_fn

    @property
    def init_op(self):
        return self._init_op

    @property
    def ready_op(self):
        return self._ready_op

    @property
    def ready_for_local_init_op(self):
        return self._ready_for_local_init_op

    @property
    def local_init_op(self):
        return self._local_init_op

    @property
    def summary_op(self):
        return self._summary_op

    @property
    def saver(self):
        return self._saver

    @property
    def init_feed_dict(self):
        return self._init_feed_dict

    @staticmethod
    def get_or_default(arg_name, collection_key, default_constructor):
        """The single element of `collection_key`, else `default_constructor()` (added to
        the collection)."""
        elements = _ops.get_collection(collection_key)
        if elements:
            if len(elements) > 1:
                raise RuntimeError("More than one item in the collection \"%s\". Please "
                                   "indicate which one to use by passing it to the tf.Scaffold "
                                   "constructor as:  tf.Scaffold(%s=item to use)"
                                   % (collection_key, arg_name))
            return elements[0]
        op = default_constructor()
        if op is not None:
            _ops.add_to_collection(collection_key, op)
        return op

    @staticmethod
    def default_local_init_op():
        """Initializes local variables (and lookup tables, when there are any)."""
        from headwater.ops import control_flow_ops, variables

        ops = [variables.local_variables_initializer()]
        ops += list(_ops.get_collection(_GraphKeys.TABLE_INITIALIZERS))
        return control_flow_ops.group(*ops)


def _merge_all_summaries():
    try:
        from headwater import summary
    except ImportError:
        return None
    merge_all = getattr(summary, "merge_all", None)
    if merge_all is None:
        return None
    return merge_all()


def _uninitialized_names(sess, op):
    if op is None:
        return []
    vals = sess.run(op)
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.ravel(vals)]


class SessionManager:
    """Creates sessions and initializes or restores their variables (TF1's
    `tf.train.SessionManager`, single process)."""

    def __init__(self, local_init_op=None, ready_op=None, ready_for_local_init_op=None,
                 graph=None, recovery_wait_secs=30, local_init_feed_dict=None):
        self._local_init_op = local_init_op
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._graph = graph or _ops.get_default_graph()
        self._local_init_feed_dict = local_init_feed_dict

    def _restore_checkpoint(self, sess, saver, checkpoint_dir, checkpoint_filename_with_path):
        if checkpoint_filename_with_path:
            logging.info("Restoring parameters from %s", checkpoint_filename_with_path)
            saver.restore(sess, checkpoint_filename_with_path)
            return True
        if not checkpoint_dir or saver is None:
            return False
        from headwater.train import checkpoint_management as _cm

        path = _cm.latest_checkpoint(checkpoint_dir)
        if not path:
            return False
        logging.info("Restoring parameters from %s", path)
        saver.restore(sess, path)
        # Keep rotating the checkpoints of the previous runs (max_to_keep spans restarts).
        state = _cm.get_checkpoint_state(checkpoint_dir)
        if state is not None and hasattr(saver, "recover_last_checkpoints"):
            saver.recover_last_checkpoints(list(state.all_model_checkpoint_paths))
        return True

    def prepare_session(self, master="", init_op=None, saver=None, checkpoint_dir=None,
                        checkpoint_filename_with_path=None, wait_for_checkpoint=False,
                        max_wait_secs=7200, config=None, init_feed_dict=None, init_fn=None):
        """A Session with every variable initialized: restored from the latest checkpoint if
        there is one, else by `init_op`/`init_fn`; then the local init op runs.

        Raises:
          RuntimeError: if the model is not ready afterwards (names the variables).
        """
        from headwater.client.session import Session

        sess = Session(master, graph=self._graph, config=config)
        restored = self._restore_checkpoint(sess, saver, checkpoint_dir,
                                            checkpoint_filename_with_path)
        if not restored:
            if init_op is None and not init_fn and self._local_init_op is None:
                raise RuntimeError("Model is not initialized and no init_op or init_fn or "
                                   "local_init_op was given")
            if init_op is not None:
                sess.run(init_op, feed_dict=init_feed_dict)
            if init_fn:
                init_fn(sess)
        if self._local_init_op is not None:
            not_ready = _uninitialized_names(sess, self._ready_for_local_init_op)
            if not_ready:
                raise RuntimeError("Init operations did not make model ready for local_init. "
                                   "Init op: %s, init fn: %s, error: Variables not "
                                   "initialized: %s" % (_op_name(init_op), init_fn,
                                                        ", ".join(not_ready)))
            logging.info("Running local_init_op.")
            sess.run(self._local_init_op, feed_dict=self._local_init_feed_dict)
            logging.info("Done running local_init_op.")
        not_ready = _uninitialized_names(sess, self._ready_op)
        if not_ready:
            raise RuntimeError("Init operations did not make model ready. Init op: %s, init "
                               "fn: %s, local_init_op: %s, error: Variables not initialized: %s"
                               % (_op_name(init_op), init_fn, _op_name(self._local_init_op),
                                  ", ".join(not_ready)))
        return sess


def _op_name(op):
    return getattr(op, "name", op)


class SessionCreator:
    """Creates a Session for `MonitoredSession`."""

    def create_session(self):
        raise NotImplementedError("create_session is not implemented for %s." % self)


class ChiefSessionCreator(SessionCreator):
    """Creates a session that initializes or restores the model (see `Scaffold`)."""

    def __init__(self, scaffold=None, master="", config=None, checkpoint_dir=None,
                 checkpoint_filename_with_path=None):
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_filename_with_path = checkpoint_filename_with_path
        self._scaffold = scaffold or Scaffold()
        self._session_manager = None
        self._master = master
        self._config = config

    def _get_session_manager(self):
        if self._session_manager is None:
            self._session_manager = SessionManager(
                local_init_op=self._scaffold.local_init_op,
                ready_op=self._scaffold.ready_op,
                ready_for_local_init_op=self._scaffold.ready_for_local_init_op,
                graph=_ops.get_default_graph())
        return self._session_manager

    def create_session(self):
        self._scaffold.finalize()
        logging.info("Graph was finalized.")
        return self._get_session_manager().prepare_session(
            self._master, saver=self._scaffold.saver, checkpoint_dir=self._checkpoint_dir,
            checkpoint_filename_with_path=self._checkpoint_filename_with_path,
            config=self._config, init_op=self._scaffold.init_op,
            init_feed_dict=self._scaffold.init_feed_dict, init_fn=self._scaffold.init_fn)


WorkerSessionCreator = ChiefSessionCreator


class Coordinator:
    """A minimal `tf.train.Coordinator` handed to hooks (no threads are started here)."""

    def __init__(self, clean_stop_exception_types=None):
        self._stop_event = threading.Event()
        self._exc_info = None

    def request_stop(self, ex=None):
        if ex is not None and self._exc_info is None:
            self._exc_info = ex
        self._stop_event.set()

    def should_stop(self):
        return self._stop_event.is_set()

    def clear_stop(self):
        self._stop_event.clear()

    def wait_for_stop(self, timeout=None):
        return self._stop_event.wait(timeout)

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        if self._exc_info is not None:
            raise self._exc_info

    def raise_requested_exception(self):
        if self._exc_info is not None:
            raise self._exc_info


class _StepContext:
    """What `run_step_fn`'s function receives: the raw session and `request_stop()`."""

    def __init__(self, session, run_with_hooks_fn):
        self._session = session
        self._run_with_hooks_fn = run_with_hooks_fn
        self._stop = False

    @property
    def session(self):
        return self._session

    def run_with_hooks(self, *args, **kwargs):
        return self._run_with_hooks_fn(*args, **kwargs)

    def request_stop(self):
        self._stop = True


class _MonitoredSession:
    def __init__(self, session_creator, hooks, should_recover=False,
                 stop_grace_period_secs=120):
        self._graph_was_finalized = _ops.get_default_graph().finalized
        self._hooks = list(hooks or [])
        for h in self._hooks:
            h.begin()
        self._session_creator = session_creator or ChiefSessionCreator()
        self._should_stop = False
        self._closed = False
        self._coord = Coordinator()
        self._tf_sess = self._session_creator.create_session()
        for h in self._hooks:
            h.after_create_session(self._tf_sess, self._coord)

    @property
    def graph(self):
        return self._tf_sess.graph

    def should_stop(self):
        return self._should_stop or self._closed or self._coord.should_stop()

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Run `fetches` with the hooks' extra fetches and feeds; returns the values of
        `fetches` only."""
        if self._closed:
            raise RuntimeError("Run called even after should_stop requested.")
        hooks = self._hooks
        if not hooks:
            return self._tf_sess.run(fetches, feed_dict=feed_dict, options=options,
                                     run_metadata=run_metadata)
        run_context = SessionRunContext(SessionRunArgs(fetches, feed_dict), self._tf_sess)
        actual_fetches = {"caller": fetches}
        feeds = dict(feed_dict) if feed_dict else {}
        for hook in hooks:
            request = hook.before_run(run_context)
            if request is None:
                continue
            if request.fetches is not None:
                actual_fetches[hook] = request.fetches
            if request.feed_dict:
                for k in request.feed_dict:
                    if k in feeds:
                        raise RuntimeError("Same tensor is fed by two hooks.")
                feeds.update(request.feed_dict)
        outputs = self._tf_sess.run(actual_fetches, feed_dict=feeds or None, options=options,
                                    run_metadata=run_metadata)
        for hook in hooks:
            hook.after_run(run_context, SessionRunValues(results=outputs.get(hook),
                                                         options=options,
                                                         run_metadata=run_metadata))
        if run_context.stop_requested:
            self._should_stop = True
        return outputs["caller"]

    def run_step_fn(self, step_fn):
        """Call `step_fn(step_context)`; `step_context.run_with_hooks` runs with hooks,
        `step_context.session` is the raw session, `request_stop()` ends the loop."""
        ctx = _StepContext(self._tf_sess, self.run)
        try:
            return step_fn(ctx)
        finally:
            if ctx._stop:
                self._should_stop = True

    def close(self):
        self._close_internal()

    def _close_internal(self, exception_type=None):
        if self._closed:
            return
        try:
            if not exception_type:
                for h in self._hooks:
                    h.end(self._tf_sess)
        finally:
            self._closed = True
            self._tf_sess.close()

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception_value, traceback):
        if exception_type is not None and issubclass(
                exception_type, (errors.OutOfRangeError, StopIteration)):
            exception_type = None
        self._close_internal(exception_type)
        return exception_type is None


class MonitoredSession(_MonitoredSession):
    """A session with hooks, created by `session_creator` (default `ChiefSessionCreator`).

    Args:
      session_creator: a `SessionCreator`.
      hooks: `SessionRunHook`s.
      stop_grace_period_secs: accepted for TF1 compatibility.
    """

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs=120):
        super().__init__(session_creator, hooks, should_recover=True,
                         stop_grace_period_secs=stop_grace_period_secs)


class SingularMonitoredSession(_MonitoredSession):
    """A `MonitoredSession` creating its own chief session; `raw_session()` gives the
    underlying Session."""

    def __init__(self, hooks=None, scaffold=None, master="", config=None, checkpoint_dir=None,
                 stop_grace_period_secs=120, checkpoint_filename_with_path=None):
        creator = ChiefSessionCreator(scaffold=scaffold, master=master, config=config,
                                      checkpoint_dir=checkpoint_dir,
                                      checkpoint_filename_with_path=checkpoint_filename_with_path)
        super().__init__(creator, hooks, stop_grace_period_secs=stop_grace_period_secs)

    def raw_session(self):
        return self._tf_sess


def MonitoredTrainingSession(master="", is_chief=True, checkpoint_dir=None,
                             scaffold=None, hooks=None, chief_only_hooks=None,
                             save_checkpoint_secs=USE_DEFAULT, save_summaries_steps=USE_DEFAULT,
                             save_summaries_secs=USE_DEFAULT, config=None,
                             stop_grace_period_secs=120, log_step_count_steps=100,
                             max_wait_secs=7200, save_checkpoint_steps=USE_DEFAULT,
                             summary_dir=None):
    """A `MonitoredSession` set up for training, as TF1.

    With `checkpoint_dir` it restores from the latest checkpoint there and adds a
    `CheckpointSaverHook` (every 600 s by default, or `save_checkpoint_steps`), a
    `SummarySaverHook` (every 100 steps) and a `StepCounterHook` (`log_step_count_steps`).

    Returns:
      A `MonitoredSession`.
    """
    if save_summaries_steps == USE_DEFAULT and save_summaries_secs == USE_DEFAULT:
        save_summaries_steps, save_summaries_secs = 100, None
    elif save_summaries_secs == USE_DEFAULT:
        save_summaries_secs = None
    elif save_summaries_steps == USE_DEFAULT:
        save_summaries_steps = None
    if save_checkpoint_steps == USE_DEFAULT and save_checkpoint_secs == USE_DEFAULT:
        save_checkpoint_steps, save_checkpoint_secs = None, 600
    elif save_checkpoint_secs == USE_DEFAULT:
        save_checkpoint_secs = None
    elif save_checkpoint_steps == USE_DEFAULT:
        save_checkpoint_steps = None

    scaffold = scaffold or Scaffold()
    all_hooks = list(hooks or [])
    if is_chief:
        all_hooks.extend(chief_only_hooks or [])
        summary_dir = summary_dir or checkpoint_dir
        if summary_dir:
            if log_step_count_steps and log_step_count_steps > 0:
                all_hooks.append(_hooks.StepCounterHook(output_dir=summary_dir,
                                                        every_n_steps=log_step_count_steps))
            if (save_summaries_steps and save_summaries_steps > 0) or (
                    save_summaries_secs and save_summaries_secs > 0):
                all_hooks.append(_hooks.SummarySaverHook(
                    scaffold=scaffold, save_steps=save_summaries_steps,
                    save_secs=save_summaries_secs, output_dir=summary_dir))
        if checkpoint_dir:
            if (save_checkpoint_secs and save_checkpoint_secs > 0) or (
                    save_checkpoint_steps and save_checkpoint_steps > 0):
                all_hooks.append(_hooks.CheckpointSaverHook(
                    checkpoint_dir, save_steps=save_checkpoint_steps,
                    save_secs=save_checkpoint_secs, scaffold=scaffold))
    creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_dir=checkpoint_dir,
                                  master=master, config=config)
    return MonitoredSession(session_creator=creator, hooks=all_hooks,
                            stop_grace_period_secs=stop_grace_period_secs)

