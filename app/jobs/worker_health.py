"""What a scale-out worker says about itself: a heartbeat every `BEAT_SECONDS` (read by the API's `/metrics`), and
the rule that stops a worker whose pool processes cannot start.

Broker-neutral: the Celery worker (`celery_app`) reads its pool and publishes through its broker."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

BEAT_SECONDS = 2.0
STALE_AFTER_SECONDS = 3 * BEAT_SECONDS  # three missed beats: the worker is down (or stopped)


@dataclass(frozen=True)
class WorkerBeat:
    name: str  # the Celery node name, e.g. gpu0@host
    host: str
    pid: int  # the worker's main process
    processes: int  # pool processes it should have
    ready: int  # pool processes that started and answered
    busy: int  # tasks running now
    seen: float  # Unix time of the beat

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | bytes) -> WorkerBeat:
        return cls(**json.loads(text))

    def up(self, now: float) -> bool:
        return now - self.seen < STALE_AFTER_SECONDS


class StartWatch:
    """A worker must have a pool process ready within `deadline` seconds of losing its last one (or of starting):
    past that, its processes cannot start (the issue: every replacement timed out loading a model) and it should
    stop consuming and exit non-zero, so its supervisor restarts it and its messages go to live workers."""

    def __init__(self, deadline: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.deadline, self.clock = deadline, clock
        self._without_since: float | None = clock()

    def give_up(self, ready: int) -> bool:
        """Called every beat with the pool processes ready now; True once none has been ready for too long."""
        if ready > 0:
            self._without_since = None
            return False
        if self._without_since is None:
            self._without_since = self.clock()
        return self.clock() - self._without_since >= self.deadline
