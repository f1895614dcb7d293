"""A job's estimate (#26) gets its own column: what submit expects the job to cost (frames, size, model, seconds
per frame, where that came from) is typed data on the job, not a key hidden in its options. Jobs submitted before
kept it in their options under `_estimate`: it moves into the column and leaves the options; a downgrade moves it
back.

Revision ID: r0004
Revises: r0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None

OLD_KEY = "_estimate"
# The columns this revision reads and writes, typed so that JSON goes in and out as the store's own code does it.
jobs = sa.table("jobs", sa.column("id", sa.String), sa.column("options", sa.JSON), sa.column("estimate", sa.JSON))


def _rows(condition: Any) -> list[Any]:
    return list(op.get_bind().execute(sa.select(jobs.c.id, jobs.c.options, jobs.c.estimate).where(condition)))


def upgrade() -> None:
    op.add_column("jobs", sa.Column("estimate", sa.JSON))
    # Only rows whose options mention the key are read (a text match, the same on SQLite and PostgreSQL).
    mentioned = sa.cast(jobs.c.options, sa.Text).contains(OLD_KEY, autoescape=True)
    for job_id, options, _ in _rows(mentioned):
        if not isinstance(options, dict) or OLD_KEY not in options:
            continue
        kept = {k: v for k, v in options.items() if k != OLD_KEY}
        op.get_bind().execute(jobs.update().where(jobs.c.id == job_id).values(options=kept, estimate=options[OLD_KEY]))


def downgrade() -> None:
    for job_id, options, estimate in _rows(jobs.c.estimate.is_not(None)):
        if estimate is None:
            continue  # a JSON null
        op.get_bind().execute(
            jobs.update().where(jobs.c.id == job_id).values(options={**(options or {}), OLD_KEY: estimate})
        )
    with op.batch_alter_table("jobs") as batch:  # SQLite: the table is copied without the column, rows and all
        batch.drop_column("estimate")
