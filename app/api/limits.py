"""Request-body cap and deadline, enforced while the body streams in, before any parser buffers or spools it.

A declared Content-Length over the cap is refused before a byte is read; a chunked upload (no Content-Length) is
cut off as soon as the running count passes the cap. Both give 413 problem+json.

A body that trickles in is cut with 408: after a grace period it must average `body_min_rate` bytes/s, counting only
the time the server spent waiting for it (Kestrel's rule), so a slow handler never counts against its client.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.connections import describe_client
from app.api.problems import PROBLEM_JSON, TYPE_BASE

log = logging.getLogger(__name__)

LimitFor = Callable[[str], int]


@dataclass(frozen=True)
class BodyRate:
    min_bytes_per_second: int  # 0: no minimum
    grace_seconds: float

    def allowance(self, received: int, waited: float) -> float | None:
        """Seconds the server may still wait for the next chunk; None when there is no minimum."""
        if not self.min_bytes_per_second:
            return None
        return self.grace_seconds + received / self.min_bytes_per_second - waited


def _problem_body(path: str, limit: int) -> bytes:
    return json.dumps(
        {
            "type": TYPE_BASE + "payload-too-large",
            "title": "Upload too large",
            "status": 413,
            "detail": f"the request body exceeds the limit of {limit:,} bytes",
            "instance": path,
        }
    ).encode()


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit_for: LimitFor, rate: BodyRate) -> None:
        self.app = app
        self.limit_for = limit_for
        self.rate = rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        received, waited, complete = 0, 0.0, False
        loop = asyncio.get_running_loop()

        async def counting_receive() -> Message:
            nonlocal received, waited, complete
            if complete:  # after the body, receive() only waits for a disconnect: no deadline on that
                return await receive()
            allowance = self.rate.allowance(received, waited)
            started = loop.time()
            try:
                message = await asyncio.wait_for(receive(), allowance)
            except TimeoutError:
                took = waited + loop.time() - started
                log.warning(
                    "cut %s %s from %s: %d bytes of body in %.1f s (minimum %d B/s after %.0f s)",
                    scope["method"],
                    scope["path"],
                    describe_client(scope.get("client")),
                    received,
                    took,
                    self.rate.min_bytes_per_second,
                    self.rate.grace_seconds,
                )
                raise HTTPException(
                    408,
                    f"the request body arrived too slowly: {received:,} bytes in {took:.0f} s "
                    f"(at least {self.rate.min_bytes_per_second:,} bytes/s after {self.rate.grace_seconds:.0f} s)",
                    headers={"Connection": "close"},
                ) from None
            waited += loop.time() - started
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > limit:
                    # FastAPI re-raises HTTPExceptions from body parsing as they are; the problem handler maps 413.
                    raise HTTPException(413, f"the request body exceeds the limit of {limit:,} bytes")
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        body = _problem_body(scope["path"], limit)
        headers: list[Any] = [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
