"""Quotas at the door: the `QuotaKey` dependency counts a request against its key (`app.core.quotas`) and the
`RateLimitHeaders` middleware puts the key's RateLimit headers on the answer, whatever the route returns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.auth import OwnerDep
from app.api.deps import api_state

STATE_KEY = "rate_limit_headers"


def quota_key(request: Request, owner: str | None) -> str:
    """The API key's owner id; without keys, the client's address (behind a proxy: see FORWARDED_ALLOW_IPS)."""
    if owner is not None:
        return owner
    return f"addr:{request.client.host if request.client else 'unknown'}"


def charge_request(request: Request, owner: OwnerDep) -> str:
    """Plain def (a thread): with Redis storage the count is a network round trip. Raises `QuotaExceeded`."""
    key = quota_key(request, owner)
    headers = api_state(request).services.quotas.hit_request(key)
    if headers:
        setattr(request.state, STATE_KEY, headers)
    return key


QuotaKey = Annotated[str, Depends(charge_request)]


class RateLimitHeaders:
    """Adds the headers `charge_request` left in the request's state to the response's start."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get(STATE_KEY)
                if extra:
                    present = {name.lower() for name, _ in message.get("headers", [])}
                    added = [
                        (k.lower().encode(), v.encode()) for k, v in extra.items() if k.lower().encode() not in present
                    ]
                    message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, sending)
