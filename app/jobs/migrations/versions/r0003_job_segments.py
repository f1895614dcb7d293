"""A video job's segments: one row per (job, segment) with the decode-order frames it covers, its state (pending,
running, done), the worker holding it and that worker's lease, and how many times it was claimed. Any worker
claims a pending segment (or one whose lease expired), so a long video spreads over the workers and a worker that
dies costs only its segment.

Revision ID: r0003
Revises: r0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_segments",
        sa.Column("job_id", sa.String(36), primary_key=True),
        sa.Column("segment", sa.Integer, primary_key=True),
        sa.Column("first_frame", sa.Integer, nullable=False),
        sa.Column("last_frame", sa.Integer, nullable=False),
        sa.Column("frames", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("worker_id", sa.String(128)),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False),
    )
    op.create_index("ix_job_segments_status", "job_segments", ["status"])


def downgrade() -> None:
    op.drop_index("ix_job_segments_status", "job_segments")
    op.drop_table("job_segments")
