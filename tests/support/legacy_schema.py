"""The job store's schema as `metadata.create_all` made it before migrations (commit 925f42e), frozen: the DDL
SQLAlchemy emitted then, for SQLite and PostgreSQL (they differ only in the timestamp type). The migration tests
build a database from it, as a deployment of that release left it, and upgrade it in place."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

_DDL = """
CREATE TABLE jobs (
    id VARCHAR(36) NOT NULL,
    status VARCHAR(16) NOT NULL,
    kind VARCHAR(8) NOT NULL,
    input_name VARCHAR(255) NOT NULL,
    options JSON NOT NULL,
    created_at {stamp} NOT NULL,
    updated_at {stamp} NOT NULL,
    started_at {stamp},
    finished_at {stamp},
    frames_done INTEGER NOT NULL,
    frames_total INTEGER,
    error TEXT,
    cancel_requested BOOLEAN NOT NULL,
    idempotency_key VARCHAR(255),
    owner VARCHAR(64),
    worker_id VARCHAR(128),
    attempts INTEGER NOT NULL,
    lease_expires_at {stamp},
    declared_frames INTEGER,
    fps FLOAT,
    has_audio BOOLEAN,
    request_fingerprint VARCHAR(64),
    selection JSON,
    callback_url VARCHAR(2048),
    webhook_status VARCHAR(16),
    webhook_event_id VARCHAR(64),
    webhook_attempts INTEGER,
    webhook_last_status_code INTEGER,
    webhook_last_error TEXT,
    webhook_next_at {stamp},
    PRIMARY KEY (id),
    UNIQUE (idempotency_key)
);
CREATE INDEX ix_jobs_created_at ON jobs (created_at);
CREATE INDEX ix_jobs_lease_expires_at ON jobs (lease_expires_at);
CREATE INDEX ix_jobs_owner ON jobs (owner);
CREATE INDEX ix_jobs_status ON jobs (status);
CREATE INDEX ix_jobs_webhook_next_at ON jobs (webhook_next_at);
CREATE INDEX ix_jobs_webhook_status ON jobs (webhook_status);
CREATE TABLE job_frames (
    job_id VARCHAR(36) NOT NULL,
    frame_index INTEGER NOT NULL,
    pts INTEGER,
    time_base VARCHAR(32),
    seconds FLOAT NOT NULL,
    finished_at {stamp} NOT NULL,
    worker_id VARCHAR(128),
    detail JSON,
    CONSTRAINT uq_job_frame UNIQUE (job_id, frame_index)
);
CREATE INDEX ix_job_frames_job_id ON job_frames (job_id)
"""


def create_legacy_schema(engine: Engine) -> None:
    stamp = "DATETIME" if engine.dialect.name == "sqlite" else "TIMESTAMP WITH TIME ZONE"
    with engine.begin() as conn:
        for statement in _DDL.format(stamp=stamp).split(";"):
            conn.execute(text(statement))
