"""The jobs waiting for a worker and since when: read by the maintenance loop (re-announcing a job whose broker
message was lost) and by `/metrics` (the age of the oldest). A queued job's `updated_at` is when it was queued or
requeued: nothing else writes to a job while it waits."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.jobs.models import JobStatus
from app.jobs.store import JobStore, jobs


def queued_since(store: JobStore, limit: int = 100) -> list[tuple[str, datetime]]:
    """(job id, queued at), longest waiting first."""
    query = (
        select(jobs.c.id, jobs.c.updated_at)
        .where(jobs.c.status == JobStatus.QUEUED.value)
        .order_by(jobs.c.updated_at)
        .limit(limit)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [(job_id, _aware(at)) for job_id, at in rows]


def oldest_queued_seconds(store: JobStore) -> float:
    """How long the longest-waiting queued job has waited; 0 with none queued."""
    waiting = queued_since(store, limit=1)
    return max(0.0, (store.clock() - waiting[0][1]).total_seconds()) if waiting else 0.0


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value  # SQLite hands back naive UTC
