"""The webhook outbox gets its own table: one row per (job, event, receiver), with its attempts, next attempt, last
error and delivery time. The webhook state of every existing job (pending, retrying, delivered or failed) moves
into it, keeping its event id (a receiver that saw a retry still drops the repeat), and the six `webhook_*` columns
leave `jobs`. A moved delivery's `delivered_at` is the job's `updated_at`, the nearest time the old columns kept.

Revision ID: r0002
Revises: r0001
Create Date: 2026-02-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)
OLD_COLUMNS: list[tuple[str, sa.types.TypeEngine[Any]]] = [
    ("webhook_status", sa.String(16)),
    ("webhook_event_id", sa.String(64)),
    ("webhook_attempts", sa.Integer()),
    ("webhook_last_status_code", sa.Integer()),
    ("webhook_last_error", sa.Text()),
    ("webhook_next_at", STAMP),
]
OLD_INDEXED = ["webhook_status", "webhook_next_at"]


def upgrade() -> None:
    op.create_table(
        "webhook_outbox",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("receiver", sa.String(2048), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", STAMP),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("delivered_at", STAMP),
        sa.UniqueConstraint("job_id", "event", "receiver", name="uq_webhook_outbox_delivery"),
    )
    op.create_index("ix_webhook_outbox_job_id", "webhook_outbox", ["job_id"])
    op.create_index("ix_webhook_outbox_next_attempt_at", "webhook_outbox", ["next_attempt_at"])
    op.execute(
        "INSERT INTO webhook_outbox (event_id, job_id, event, receiver, status, attempts, next_attempt_at,"
        " last_status_code, last_error, created_at, delivered_at)"
        " SELECT webhook_event_id, id, 'job.' || status, callback_url, webhook_status, COALESCE(webhook_attempts, 0),"
        " CASE WHEN webhook_status IN ('pending', 'retrying') THEN webhook_next_at END,"
        " webhook_last_status_code, webhook_last_error, COALESCE(finished_at, updated_at),"
        " CASE WHEN webhook_status = 'delivered' THEN updated_at END"
        " FROM jobs WHERE webhook_status IS NOT NULL AND webhook_event_id IS NOT NULL AND callback_url IS NOT NULL"
    )
    with op.batch_alter_table("jobs") as batch:  # SQLite: the table is copied without the columns, rows and all
        for name in OLD_INDEXED:
            batch.drop_index(f"ix_jobs_{name}")
        for name, _ in OLD_COLUMNS:
            batch.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        for name, kind in OLD_COLUMNS:
            batch.add_column(sa.Column(name, kind))
        for name in OLD_INDEXED:
            batch.create_index(f"ix_jobs_{name}", [name])
    # One delivery per job is all the old columns can hold: the earliest.
    first = "(SELECT o.{0} FROM webhook_outbox o WHERE o.job_id = jobs.id ORDER BY o.created_at, o.event_id LIMIT 1)"
    pairs = [
        ("webhook_status", "status"),
        ("webhook_event_id", "event_id"),
        ("webhook_attempts", "attempts"),
        ("webhook_last_status_code", "last_status_code"),
        ("webhook_last_error", "last_error"),
        ("webhook_next_at", "next_attempt_at"),
    ]
    assignments = ", ".join(f"{old} = {first.format(new)}" for old, new in pairs)
    op.execute(f"UPDATE jobs SET {assignments}")
    op.drop_table("webhook_outbox")
