"""The event-loop watch: a blocked loop is counted as a stall and logged with where the loop thread was."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import pytest

from app.api.loop_watch import LoopWatch


def _hold_the_loop(released: threading.Event) -> None:
    released.wait(10)  # blocks the loop thread, as a synchronous call in a handler would


def test_a_blocked_loop_is_reported_with_its_stack(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> LoopWatch:
        watch = LoopWatch(asyncio.get_running_loop(), interval=0.01, report_after=0.05)
        watch.start()
        released = threading.Event()

        def release_once_reported() -> None:
            # The stall ends once the watch has reported it: the test waits on behaviour, not on time.
            _wait_for(lambda: watch.stalls > 0)
            released.set()

        threading.Thread(target=release_once_reported, daemon=True).start()
        _hold_the_loop(released)
        await asyncio.sleep(0.05)
        watch.stop()
        return watch

    with caplog.at_level(logging.WARNING, logger="app.api.loop_watch"):
        watch = asyncio.run(scenario())
    assert watch.stalls == 1
    assert watch.worst >= 0.05
    assert "_hold_the_loop" in caplog.text  # where the loop thread was when it stalled


def test_a_free_loop_has_no_stall() -> None:
    async def scenario() -> LoopWatch:
        watch = LoopWatch(asyncio.get_running_loop(), interval=0.01, report_after=5.0)
        watch.start()
        for _ in range(20):
            await asyncio.sleep(0.01)
        watch.stop()
        return watch

    watch = asyncio.run(scenario())
    assert watch.stalls == 0


def _wait_for(condition: Callable[[], bool]) -> None:
    while not condition():
        threading.Event().wait(0.01)
