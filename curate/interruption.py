"""A stop asked for by a signal, visible to every layer, and deferred while the pool forks.

The CLI's SIGINT/SIGTERM handler (`curate.cli.stopping`) raises `Interrupted` in the main thread.
Python runs a handler wherever the main thread happens to be, and an exception raised inside an
at-fork hook, a `__del__` or a weakref callback is only printed ("Exception ignored in ...") and
then lost: a Ctrl-C that came while the worker pool was forking vanished that way, and the run
went on as if nothing had been pressed. So the handler also *records* the request here; the
engine's waits call `raise_if_requested()`, which raises it again where it cannot be lost; and the
pool forks inside `deferred()`, where the handler only records, so the stop is raised after the
fork, in curate's own code.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


class Interrupted(BaseException):  # noqa: N818 - what happened, not an error
    """A stop signal. A BaseException (like KeyboardInterrupt) so no `except Exception` in a check
    or the engine swallows it, and not a KeyboardInterrupt, which click turns into "Aborted!" and
    exit code 1."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


class _Request:
    signum: int | None = None
    deferring: int = 0


_REQUEST = _Request()


def request(signum: int) -> None:
    """Record that the run must stop (called by the signal handler before it raises)."""
    _REQUEST.signum = signum


def requested() -> int | None:
    """The signal that asked the run to stop, if any."""
    return _REQUEST.signum


def clear() -> None:
    """Forget a recorded request (a new run in the same process, e.g. in tests)."""
    _REQUEST.signum = None


def raise_if_requested() -> None:
    """Raise `Interrupted` when a stop was asked for, even if the handler's own exception was lost."""
    if _REQUEST.signum is not None:
        raise Interrupted(_REQUEST.signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within the block, a stop signal is only recorded; it is raised when the block ends, in
    curate's own code. For forking a worker pool: Python runs at-fork hooks there, and drops an
    exception raised in them. (A signal mask would not do: the kernel then hands the signal to
    another thread, and Python still runs the handler in the main thread, inside the hooks.)"""
    _REQUEST.deferring += 1
    try:
        yield
    finally:
        _REQUEST.deferring -= 1
    raise_if_requested()


def deferring() -> bool:
    """True inside `deferred()`: the signal handler records the request and returns."""
    return _REQUEST.deferring > 0
