"""Idempotency-Key replays: the same key with the same request returns the earlier job; with another, a 409."""

from __future__ import annotations

from app.core.errors import IdempotencyMismatch
from app.jobs.models import JobRecord


def same_request(existing: JobRecord, request: str, key: str) -> JobRecord:
    """The earlier job, when it was made from the same upload, file name and options; `IdempotencyMismatch` else."""
    if existing.facts.request_fingerprint not in (None, request):  # jobs from before fingerprints: trusted
        raise IdempotencyMismatch(
            f"Idempotency-Key {key!r} was used for job {existing.id} with a different upload or options; "
            "use a new key for a new request"
        )
    return existing
