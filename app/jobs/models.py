"""Job records and their states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


@dataclass
class JobRecord:
    id: str
    status: JobStatus
    kind: str  # "image" or "video"
    input_name: str
    options: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    frames_done: int = 0
    frames_total: int | None = None
    error: str | None = None
    cancel_requested: bool = False
    idempotency_key: str | None = None
    owner: str | None = None
    worker_id: str | None = None
    attempts: int = 0


@dataclass(frozen=True)
class FrameRecord:
    """One finished frame: written atomically to disk, then recorded, so a resumed job never redoes it."""

    job_id: str
    index: int
    pts: int | None
    time_base: str | None
    seconds: float
    finished_at: datetime
    worker_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
