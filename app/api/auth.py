"""Optional API keys (`ENHANCE_API_KEYS`): `X-API-Key: <key>` or `Authorization: Bearer <key>`.

The two ways in are FastAPI security schemes, so the OpenAPI document declares them (Swagger UI shows
"Authorize", generated clients get a token parameter) and a 401 carries `WWW-Authenticate`. Keys are compared in
constant time. Each key maps to an owner id (a hash prefix, never the key itself), which scopes job listing and
access: a job created with one key is invisible to the others.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.api.deps import SettingsDep
from app.core.errors import Unauthorized

API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKey")
BEARER = HTTPBearer(auto_error=False, scheme_name="Bearer", description="the API key as a bearer token")


def owner_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def current_owner(
    settings: SettingsDep,
    api_key: Annotated[str | None, Depends(API_KEY_HEADER)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> str | None:
    """None when auth is off; otherwise the caller's owner id. Raises `Unauthorized`."""
    if not settings.api_keys:
        return None
    presented = api_key or (bearer.credentials.strip() if bearer else None)
    if not presented:
        raise Unauthorized("send your key as X-API-Key or Authorization: Bearer")
    matched = None
    for key in settings.api_keys:  # no early exit: the time taken does not depend on which key matched
        if hmac.compare_digest(presented.encode(), key.encode()):
            matched = key
    if matched is None:
        raise Unauthorized("the API key is not valid")
    return owner_of(matched)


OwnerDep = Annotated[str | None, Depends(current_owner)]
