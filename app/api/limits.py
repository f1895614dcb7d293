"""Request-body cap enforced while the body streams in, before any parser buffers or spools it.

A declared Content-Length over the cap is refused before a byte is read; a chunked upload (no Content-Length) is
cut off as soon as the running count passes the cap. Both give 413 problem+json.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import PROBLEM_JSON, TYPE_BASE

LimitFor = Callable[[str], int]


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
    def __init__(self, app: ASGIApp, limit_for: LimitFor) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
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
