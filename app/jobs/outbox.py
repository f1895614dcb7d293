"""The webhook outbox: one row per (job, event, receiver), written in the transaction that ends the job, then
claimed, attempted and recorded by `app.jobs.webhooks.WebhookSender`.

A delivery is due while its `next_attempt_at` is set and past: `pending` (never tried), then `retrying` after a
failed attempt; it ends `delivered` (with `delivered_at`) or `failed`, and then has no next attempt.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, Row

from app.jobs.models import WebhookState

metadata = MetaData()

webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    Column("event_id", String(64), primary_key=True),  # the `webhook-id` header: the same on every retry
    Column("job_id", String(36), nullable=False, index=True),
    Column("event", String(32), nullable=False),  # "job.succeeded", "job.failed", "job.cancelled"
    Column("receiver", String(2048), nullable=False),  # the URL POSTed to
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), index=True),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    UniqueConstraint("job_id", "event", "receiver", name="uq_webhook_outbox_delivery"),
)

DUE = ("pending", "retrying")


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes even for timezone=True columns; everything here is UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class Delivery:
    event_id: str
    job_id: str
    event: str
    receiver: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @property
    def state(self) -> WebhookState:
        return WebhookState(
            self.status, self.event_id, self.attempts, self.last_status_code, self.last_error, self.next_attempt_at
        )


def _delivery(row: Row[Any]) -> Delivery:
    m = row._mapping
    return Delivery(
        event_id=m["event_id"],
        job_id=m["job_id"],
        event=m["event"],
        receiver=m["receiver"],
        status=m["status"],
        attempts=m["attempts"],
        next_attempt_at=_aware(m["next_attempt_at"]),
        last_status_code=m["last_status_code"],
        last_error=m["last_error"],
        created_at=_aware(m["created_at"]),  # type: ignore[arg-type]
        delivered_at=_aware(m["delivered_at"]),
    )


def enqueue(conn: Connection, job_id: str, event: str, receiver: str, now: datetime) -> None:
    """Make a delivery due now, on the caller's connection: inside the transaction that ends the job, so an ending
    is never recorded without its webhook, nor a webhook without its ending."""
    conn.execute(
        insert(webhook_outbox).values(
            event_id=new_event_id(),
            job_id=job_id,
            event=event,
            receiver=receiver,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def forget(conn: Connection, job_ids: Iterable[str]) -> None:
    """Drop the deliveries of deleted jobs (on the caller's connection, with the jobs themselves)."""
    conn.execute(delete(webhook_outbox).where(webhook_outbox.c.job_id.in_(list(job_ids))))


class WebhookOutbox:
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine, self.clock = engine, clock

    def due(self, limit: int = 32, skip_receivers: Iterable[str] = ()) -> list[Delivery]:
        """Deliveries due now, oldest first, leaving out receivers the caller is already busy with (so a slow
        receiver's backlog cannot fill the page and hide a healthy receiver's events)."""
        query = select(webhook_outbox).where(
            webhook_outbox.c.status.in_(DUE), webhook_outbox.c.next_attempt_at <= self.clock()
        )
        if skipped := list(skip_receivers):
            query = query.where(webhook_outbox.c.receiver.not_in(skipped))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(webhook_outbox.c.next_attempt_at).limit(limit)).all()
        return [_delivery(r) for r in rows]

    def claim(self, event_id: str, in_flight_seconds: float) -> bool:
        """Take a due delivery for this process: its next attempt moves past the send, so no other process (an API
        replica) sends it meanwhile; if this one dies, the delivery is due again after `in_flight_seconds`."""
        now = self.clock()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(webhook_outbox)
                .where(
                    webhook_outbox.c.event_id == event_id,
                    webhook_outbox.c.status.in_(DUE),
                    webhook_outbox.c.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + timedelta(seconds=in_flight_seconds))
            )
        return result.rowcount == 1

    def record(
        self, event_id: str, status: str, status_code: int | None, error: str | None, next_at: datetime | None
    ) -> None:
        """One attempt's outcome: `delivered`, `retrying` at `next_at`, or `failed` for good."""
        with self.engine.begin() as conn:
            conn.execute(
                update(webhook_outbox)
                .where(webhook_outbox.c.event_id == event_id)
                .values(
                    status=status,
                    attempts=webhook_outbox.c.attempts + 1,
                    last_status_code=status_code,
                    last_error=error,
                    next_attempt_at=next_at,
                    delivered_at=self.clock() if status == "delivered" else None,
                )
            )

    def get(self, event_id: str) -> Delivery | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(webhook_outbox).where(webhook_outbox.c.event_id == event_id)).first()
        return _delivery(row) if row else None

    def for_jobs(self, job_ids: Iterable[str]) -> dict[str, Delivery]:
        """Each job's delivery (a job has one receiver, its callback URL, and one ending)."""
        wanted = list(job_ids)
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(webhook_outbox)
                .where(webhook_outbox.c.job_id.in_(wanted))
                .order_by(webhook_outbox.c.created_at, webhook_outbox.c.event_id)
            ).all()
        found: dict[str, Delivery] = {}
        for row in rows:
            found.setdefault(row.job_id, _delivery(row))
        return found
