"""The schema as it was before migrations: `jobs` (with the webhook delivery in six `webhook_*` columns) and
`job_frames`, exactly as `metadata.create_all` made them.

A store made before Alembic (no `alembic_version` table) is adopted, not recreated: its tables stay, and whatever
an older release lacked (columns added since, all nullable, and their indexes) is added, as the store's old
`ALTER TABLE ADD COLUMN` start-up step did.

Revision ID: r0001
Revises:
Create Date: 2026-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)


def _jobs_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("input_name", sa.String(255), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
        sa.Column("started_at", STAMP),
        sa.Column("finished_at", STAMP),
        sa.Column("frames_done", sa.Integer, nullable=False),
        sa.Column("frames_total", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("idempotency_key", sa.String(255), unique=True),
        sa.Column("owner", sa.String(64)),
        sa.Column("worker_id", sa.String(128)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_expires_at", STAMP),
        sa.Column("declared_frames", sa.Integer),
        sa.Column("fps", sa.Float),
        sa.Column("has_audio", sa.Boolean),
        sa.Column("request_fingerprint", sa.String(64)),
        sa.Column("selection", sa.JSON),
        sa.Column("callback_url", sa.String(2048)),
        sa.Column("webhook_status", sa.String(16)),
        sa.Column("webhook_event_id", sa.String(64)),
        sa.Column("webhook_attempts", sa.Integer),
        sa.Column("webhook_last_status_code", sa.Integer),
        sa.Column("webhook_last_error", sa.Text),
        sa.Column("webhook_next_at", STAMP),
    ]


JOBS_INDEXED = ["created_at", "lease_expires_at", "owner", "status", "webhook_next_at", "webhook_status"]


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "jobs" in present:
        _adopt_jobs()
    else:
        op.create_table("jobs", *_jobs_columns())
        for name in JOBS_INDEXED:
            op.create_index(f"ix_jobs_{name}", "jobs", [name])
    if "job_frames" not in present:
        op.create_table(
            "job_frames",
            sa.Column("job_id", sa.String(36), nullable=False),
            sa.Column("frame_index", sa.Integer, nullable=False),
            sa.Column("pts", sa.Integer),
            sa.Column("time_base", sa.String(32)),
            sa.Column("seconds", sa.Float, nullable=False),
            sa.Column("finished_at", STAMP, nullable=False),
            sa.Column("worker_id", sa.String(128)),
            sa.Column("detail", sa.JSON),
            sa.UniqueConstraint("job_id", "frame_index", name="uq_job_frame"),
        )
        op.create_index("ix_job_frames_job_id", "job_frames", ["job_id"])


def _adopt_jobs() -> None:
    """An existing `jobs` table gains the columns and indexes its release did not have yet."""
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"] for c in inspector.get_columns("jobs")}
    indexes = {i["name"] for i in inspector.get_indexes("jobs")}
    for column in _jobs_columns():
        if column.name not in columns:
            op.add_column("jobs", column)  # every column added since the first release is nullable
    for name in JOBS_INDEXED:
        if f"ix_jobs_{name}" not in indexes:
            op.create_index(f"ix_jobs_{name}", "jobs", [name])


def downgrade() -> None:
    op.drop_table("job_frames")
    op.drop_table("jobs")
