"""HTTP metrics: request count and latency by route template and status (the middleware), and the scrape
response. The instruments and collectors of the service itself live in `app.core.metrics`."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("enhance_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "enhance_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)


async def call_with_status(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, done: Callable[[int], None]
) -> None:
    """Run `app`, then call `done` with the status it answered (500 when it raised before answering)."""
    status = 500

    async def capture(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    try:
        await app(scope, receive, capture)
    finally:
        done(status)


class RequestMetricsMiddleware:
    """Pure ASGI (BaseHTTPMiddleware would re-wrap the request stream and hide the body limiter's 413)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        def record(status: int) -> None:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")  # templates, not raw paths: bounded label cardinality
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)

        await call_with_status(self.app, scope, receive, send, record)


def metrics_response(*extra: CollectorRegistry) -> Response:
    """The process-wide metrics, then the app's own registries (its jobs and device gauges)."""
    body = generate_latest() + b"".join(generate_latest(registry) for registry in extra)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
