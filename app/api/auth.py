"""Optional API keys (`ENHANCE_API_KEYS`): `X-API-Key: <key>` or `Authorization: Bearer <key>`.

Keys are compared in constant time. Each key maps to an owner id (a hash prefix, never the key itself), which
scopes job listing and access: a job created with one key is invisible to the others.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request

from app.api.deps import SettingsDep
from app.core.errors import EnhanceError


class Unauthorized(EnhanceError):
    status, type, title = 401, "unauthorized", "Missing or invalid API key"


def owner_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _presented(request: Request) -> str | None:
    if key := request.headers.get("x-api-key"):
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_owner(request: Request, settings: SettingsDep) -> str | None:
    """None when auth is off; otherwise the caller's owner id. Raises `Unauthorized`."""
    if not settings.api_keys:
        return None
    presented = _presented(request)
    if presented is None:
        raise Unauthorized("send your key as X-API-Key or Authorization: Bearer")
    matched = None
    for key in settings.api_keys:  # no early exit: the time taken does not depend on which key matched
        if hmac.compare_digest(presented.encode(), key.encode()):
            matched = key
    if matched is None:
        raise Unauthorized("the API key is not valid")
    return owner_of(matched)


OwnerDep = Annotated[str | None, Depends(current_owner)]
