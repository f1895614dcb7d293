"""What the API needs from a job backend: hand it a queued job."""

from __future__ import annotations

from typing import Protocol


class JobQueue(Protocol):
    def enqueue(self, job_id: str) -> None:
        """Make sure a worker will pick up `job_id` (it is already stored as queued)."""
