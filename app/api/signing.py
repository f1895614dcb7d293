"""Short-lived signed links to artifacts, for places that cannot send an API key: a new browser tab, an <a href>,
a link pasted into a chat.

The signature is an HMAC-SHA256 of the job id, the artifact name and the expiry, keyed with the API key that owns
the job: nothing new to configure or rotate, the link only opens that one artifact, and removing a key from
`ENHANCE_API_KEYS` revokes every link made with it. Without API keys the plain URL is already open.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from app.api.auth import owner_of
from app.core.config import Settings


def _key_of(settings: Settings, owner: str | None) -> str | None:
    return next((key for key in settings.api_keys if owner is not None and owner_of(key) == owner), None)


def _mac(key: str, job_id: str, name: str, expires: int) -> str:
    message = f"{job_id}/{name}/{expires}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def signed_query(settings: Settings, owner: str | None, job_id: str, name: str, now: float | None = None) -> str:
    """`?expires=…&signature=…` for one artifact of a job owned by `owner`; empty when keys are off."""
    key = _key_of(settings, owner)
    if key is None:
        return ""
    expires = int((now or time.time()) + settings.signed_link_seconds)
    return f"?expires={expires}&signature={_mac(key, job_id, name, expires)}"


def valid_signature(
    settings: Settings, owner: str | None, job_id: str, name: str, expires: int, signature: str
) -> bool:
    key = _key_of(settings, owner)
    if key is None or expires < time.time() or not signature.isascii():  # compare_digest raises on non-ASCII str
        return False
    return hmac.compare_digest(_mac(key, job_id, name, expires), signature)
