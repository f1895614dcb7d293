"""The access log: one line per HTTP request, once its answer has been sent, with structured fields (method, path,
status, duration_ms, client) and, like every line of the request, its request id (`app.core.logging`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.metrics import call_with_status

log = logging.getLogger("app.access")


class AccessLogMiddleware:
    """Pure ASGI, just inside the request id middleware and outside everything that answers on its own (the body
    limiter's 413, CORS), so that every request gets its line. The path is logged without its query string: signed
    artifact links carry their signature there."""

    def __init__(self, app: ASGIApp, clock: Callable[[], float] = time.perf_counter) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = self.clock()

        def record(status: int) -> None:
            client = scope.get("client")
            fields = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((self.clock() - started) * 1000, 1),
                "client": f"{client[0]}:{client[1]}" if client else "-",
            }
            log.info("request", extra={"fields": fields})

        await call_with_status(self.app, scope, receive, send, record)
