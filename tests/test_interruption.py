"""`curate.interruption`: a stop request survives a dropped exception; forks defer it."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from curate import interruption
from curate.cli import stopping
from curate.interruption import Interrupted


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    interruption.clear()
    stopping._STATE.stopping = None
    yield
    interruption.clear()
    stopping._STATE.stopping = None
    stopping.uninstall()


def test_a_recorded_request_is_raised_again_where_it_cannot_be_lost() -> None:
    interruption.raise_if_requested()  # nothing asked: nothing raised
    interruption.request(signal.SIGTERM)
    with pytest.raises(Interrupted) as caught:
        interruption.raise_if_requested()
    assert caught.value.exit_code == 143 and caught.value.name == "SIGTERM"


def test_a_signal_inside_deferred_is_raised_when_the_block_ends() -> None:
    stopping.install()
    seen: list[str] = []
    with pytest.raises(Interrupted) as caught, interruption.deferred():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # bytecodes: the handler has run by now, and only recorded
            pass
        seen.append("block went on")
    assert seen == ["block went on"]
    assert caught.value.signum == signal.SIGINT


def test_outside_deferred_the_handler_raises_at_once() -> None:
    stopping.install()
    seen: list[str] = []
    with pytest.raises(Interrupted):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):
            pass
        seen.append("went on")
    assert seen == []
