"""Housekeeping that every deployment needs, run by the API process whatever the queue (embedded or Celery):
the lease reaper (a job whose worker died or hung goes back to the queue and is announced again) and retention
(finished jobs and their files expire)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from app.core.config import Settings
from app.jobs.leftovers import free_job_files
from app.jobs.models import JobStatus
from app.jobs.queue import JobQueue
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore, utcnow

log = logging.getLogger(__name__)

RETENTION_SWEEP_SECONDS = 600.0


class Maintenance:
    def __init__(self, settings: Settings, store: JobStore, storage: JobStorage, queue: JobQueue) -> None:
        self.settings, self.store, self.storage, self.queue = settings, store, storage, queue
        self.interval = max(0.5, min(30.0, settings.job_lease_seconds / 3))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="maintenance", daemon=True)
        self._last_sweep = -RETENTION_SWEEP_SECONDS

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def reap(self) -> list[str]:
        """Requeue the jobs whose lease expired and announce them to the workers again; fail those that have used
        their `max_attempts`. Returns the requeued ids."""
        reaped, failed = self.store.reap_expired(self.settings.max_attempts)
        for job_id in reaped:
            self.queue.enqueue(job_id)
        if reaped:
            log.warning("requeued %d job(s) whose worker stopped renewing its lease: %s", len(reaped), reaped)
        if failed:
            log.error("failed %d job(s) whose worker died on every attempt: %s", len(failed), failed)
        for job_id in failed:
            free_job_files(self.settings, self.storage, job_id, JobStatus.FAILED)
        return reaped

    def sweep_expired(self) -> list[str]:
        """Delete finished jobs older than the retention, with their files."""
        before = utcnow() - timedelta(hours=self.settings.job_retention_hours)
        expired = self.store.expired(before)
        for job_id in expired:
            self.storage.remove(job_id)
            self.store.delete(job_id)
        if expired:
            log.info("expired %d job(s) older than %s", len(expired), before.isoformat())
        return expired

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.reap()
                if time.monotonic() - self._last_sweep >= RETENTION_SWEEP_SECONDS:
                    self._last_sweep = time.monotonic()
                    self.sweep_expired()
            except Exception:  # a database hiccup must not end housekeeping for good
                log.exception("maintenance pass failed; retrying")
            self._stop.wait(self.interval)
