"""`tf.train.SessionRunHook` and the records passed to hooks around each `run` call (TF1)."""

from __future__ import annotations

import collections

__all__ = ["SessionRunArgs", "SessionRunContext", "SessionRunHook", "SessionRunValues"]


class SessionRunHook:
    """Hook into a `MonitoredSession`: every method is optional.

    Call order: `begin()` (graph still editable) -> `after_create_session(session, coord)`
    -> per run: `before_run(run_context)` -> `after_run(run_context, run_values)` -> `end()`.
    """

    def begin(self):
        """Called once before the session is used; the graph may still be changed."""

    def after_create_session(self, session, coord):
        """Called when the session is created (and initialized or restored)."""

    def before_run(self, run_context):
        """Called before each `run`. May return `SessionRunArgs` to add fetches/feeds."""
        return

    def after_run(self, run_context, run_values):
        """Called after each `run` with the results of the fetches requested in
        `before_run` (`run_values.results`)."""

    def end(self, session):
        """Called at the end of the session (not when it ends with an error)."""


class SessionRunArgs(collections.namedtuple("SessionRunArgs",
                                            ["fetches", "feed_dict", "options"])):
    """What a hook adds to a `run`: `fetches` (any fetch structure), `feed_dict`, `options`."""

    def __new__(cls, fetches, feed_dict=None, options=None):
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunContext:
    """The `run` being made (`original_args`) and the `session`; hooks call
    `request_stop()` to end the training loop."""

    __slots__ = ("_original_args", "_session", "_stop_requested")

    def __init__(self, original_args, session):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    @property
    def original_args(self):
        return self._original_args

    @property
    def session(self):
        return self._session

    @property
    def stop_requested(self):
        return self._stop_requested

    def request_stop(self):
        """Ask the monitored session to stop: `should_stop()` becomes True after this run."""
        self._stop_requested = True


class SessionRunValues(collections.namedtuple("SessionRunValues",
                                              ["results", "options", "run_metadata"])):
    """Results of a hook's fetches (`results`, same structure as requested), with the run's
    `options` and `run_metadata`."""
