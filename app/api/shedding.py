"""Load shedding: a bounded admission queue per route class, checked before a byte of the body is read.

Image requests are served by `ENHANCE_IMAGE_CONCURRENCY` threads. Without a bound, a burst waits in the thread
pool's unbounded queue, every request holding its upload, and nobody gets an answer (40 concurrent 1000x750 x4
requests: no reply at all within 150 s, +2 GB RSS). Here each class admits at most `running + waiting` requests;
the next one gets 503 with `Retry-After` at once, its body unread, so the client can go elsewhere or come back.
The estimate in `Retry-After` is the class's average service time times the queue ahead of a newcomer.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.problems import PROBLEM_JSON, TYPE_BASE

SHED = Counter(
    "enhance_requests_shed_total", "Requests refused with 503 because their class's queue was full", ["route"]
)
IN_FLIGHT = Gauge("enhance_requests_admitted", "Requests admitted (running or waiting), by route class", ["route"])
SMOOTHING = 0.2


@dataclass
class RouteClass:
    """One admission queue: `running` served at once, `waiting` more admitted behind them."""

    name: str
    running: int
    waiting: int
    admitted: int = 0
    average_seconds: float = 1.0  # moving average of admitted requests' service time, for Retry-After
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @property
    def capacity(self) -> int:
        return self.running + self.waiting

    def try_admit(self) -> bool:
        """The event loop is the only caller: no lock needed."""
        if self.admitted >= self.capacity:
            return False
        self.admitted += 1
        IN_FLIGHT.labels(self.name).set(self.admitted)
        return True

    def release(self, seconds: float) -> None:
        self.admitted -= 1
        IN_FLIGHT.labels(self.name).set(self.admitted)
        self.average_seconds += SMOOTHING * (seconds - self.average_seconds)

    def retry_after(self) -> int:
        """Seconds until a newcomer would likely be admitted: the queue ahead, served `running` at a time."""
        rounds = self.admitted / max(1, self.running)
        return max(1, min(120, math.ceil(self.average_seconds * rounds)))


ClassFor = Callable[[str, str], RouteClass | None]  # (method, path) -> its admission queue, or None: not limited


def _refusal(path: str, route: RouteClass) -> tuple[bytes, list[Any]]:
    retry = route.retry_after()
    body = json.dumps(
        {
            "type": TYPE_BASE + "overloaded",
            "title": "The server is at capacity; try again shortly",
            "status": 503,
            "detail": f"{route.admitted} {route.name} requests are already running or waiting (at most "
            f"{route.capacity}); retry in about {retry} s",
            "instance": path,
        }
    ).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry).encode()),
        (b"connection", b"close"),  # the unread body cannot be skipped on a kept-alive connection
    ]
    return body, headers


class SheddingMiddleware:
    def __init__(self, app: ASGIApp, class_for: ClassFor) -> None:
        self.app = app
        self.class_for = class_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.class_for(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        if not route.try_admit():
            SHED.labels(route.name).inc()
            body, headers = _refusal(scope["path"], route)
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        started = route.clock()
        try:
            await self.app(scope, receive, send)
        finally:
            route.release(route.clock() - started)


def route_classes(image_running: int, image_waiting: int, submit_running: int) -> ClassFor:
    """The service's classes: image enhance requests, score requests, and job submissions (which spool uploads to
    disk and probe them)."""
    images = RouteClass("image", image_running, image_waiting)
    scores = RouteClass("score", image_running, image_waiting)
    submits = RouteClass("submit", submit_running, submit_running)

    def class_for(method: str, path: str) -> RouteClass | None:
        if method != "POST":
            return None
        if path == "/v1/images/enhance":
            return images
        if path == "/v1/images/score":
            return scores
        if path == "/v1/jobs":
            return submits
        return None

    return class_for
