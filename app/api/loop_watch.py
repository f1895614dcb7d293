"""How late the event loop runs: a histogram of its lag, and the loop thread's stack logged when it stalls.

Everything the API answers, `/healthz` included, waits for the one event-loop thread. When a liveness probe is slow
the question is what held the loop; a thread beside it asks the loop to run a no-op every `interval` seconds and
times the answer. A stall longer than `report_after` logs where the loop thread was at that moment, once per stall.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable

from prometheus_client import Histogram

log = logging.getLogger(__name__)

LAG = Histogram(
    "enhance_event_loop_lag_seconds",
    "How late the event loop ran a callback scheduled from another thread",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class LoopWatch:
    """Samples `loop`'s lag from a daemon thread until `stop()`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        interval: float = 0.1,
        report_after: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.loop = loop
        self.interval = interval
        self.report_after = report_after
        self.clock = clock
        self.loop_thread = threading.get_ident()  # built on the loop's own thread
        self.stalls = 0
        self.worst = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loop-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            ran = threading.Event()
            sent = self.clock()
            try:
                self.loop.call_soon_threadsafe(ran.set)
            except RuntimeError:  # the loop closed under us: the server is stopping
                return
            if not ran.wait(self.report_after):
                self.stalls += 1
                log.warning("event loop stalled for over %.1f s; it is at:\n%s", self.report_after, self._loop_stack())
                while not ran.wait(1.0):
                    if self._stop.is_set():
                        return
            lag = self.clock() - sent
            self.worst = max(self.worst, lag)
            LAG.observe(lag)

    def _loop_stack(self) -> str:
        frame = sys._current_frames().get(self.loop_thread)
        return "".join(traceback.format_stack(frame)) if frame is not None else "(the loop thread has no frame)"
