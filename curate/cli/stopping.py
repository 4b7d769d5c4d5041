"""Stopping on Ctrl-C and SIGTERM: at once, cleanly, with one line saying what was interrupted.

The first SIGINT or SIGTERM raises `Interrupted` in the main thread wherever it is; the engine's
cleanup (`Engine.run`'s `finally`) then terminates its worker processes without waiting for their
blocks, and writes nothing half-done (every file curate writes goes through `io.atomic`). Later
signals are ignored while that bounded cleanup runs, so pressing Ctrl-C twice cannot interrupt
the cleanup itself and leave workers behind. `main` prints the one line and exits 128 + signal
(130 for SIGINT, 143 for SIGTERM), as shells do.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from curate.interruption import Interrupted, deferring, request

__all__ = ["Interrupted", "doing", "exit_now", "install", "report", "track", "uninstall"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _State:
    stopping: int | None = None  # the signal being handled
    activity: str = ""  # what the command is doing, for the one line
    pid: int = 0  # the main process (forked workers inherit the handler until they reset it)


_STATE = _State()


def _handler(signum: int, frame: FrameType | None) -> None:
    if os.getpid() != _STATE.pid:
        # a worker forked a moment ago, before its initializer reset this inherited handler:
        # it is being stopped (SIGTERM) or must leave Ctrl-C to the main process
        if signum == signal.SIGTERM:
            os._exit(128 + signum)
        return
    if _STATE.stopping is not None:
        return  # already stopping: the cleanup is bounded, let it finish
    _STATE.stopping = signum
    request(signum)  # kept, in case this exception is raised where Python drops it (an at-fork hook)
    if deferring():
        return  # forking: `interruption.deferred` raises it when the fork is done
    raise Interrupted(signum)


def install() -> None:
    """Route SIGINT and SIGTERM to `Interrupted` (main thread of the main process only)."""
    _STATE.pid = os.getpid()
    for signum in _SIGNALS:
        signal.signal(signum, _handler)


def uninstall() -> None:
    """Python's own handlers again (for the review TUI, which handles its terminal itself)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def doing(activity: str) -> None:
    """Say what the command is doing now (shown if it is interrupted)."""
    _STATE.activity = activity


def track(forward: Callable[[Any], None] | None, files: list[str]) -> Callable[[Any], None]:
    """An engine progress callback that keeps `doing` current, then calls `forward` (the display)."""
    from curate.display import shown

    if files:
        more = f" and {len(files) - 1} more file(s)" if len(files) > 1 else ""
        doing(f"checking {shown(files[0])}{more}, before the first results")

    def update(p: Any) -> None:
        name = shown(p.path)
        if p.stage == "checking":
            files = f" (file {p.file_index + 1} of {p.files})" if p.files > 1 else ""
            doing(f"checking {name}{files}, {p.records:,} records read")
        else:
            doing(f"finalizing the dataset checks ({p.records:,} records read)")
        if forward is not None:
            forward(p)

    return update


def report(exc: Interrupted) -> int:
    """Write the one line about the interruption; returns the exit code."""
    what = f" while {_STATE.activity}" if _STATE.activity else ""
    sys.stderr.write(f"curate: interrupted by {exc.name}{what}; workers stopped, no output written\n")
    sys.stderr.flush()
    return exc.exit_code


def exit_now(code: int) -> None:
    """Exit without the interpreter's teardown, once the cleanup is done (workers ended, temporary
    files removed, stdout and stderr flushed): tearing down presidio, spaCy, polars and the pool's
    bookkeeping took 0.8-1.4 s more on a loaded machine, for nothing an interrupted run needs."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
