"""Housekeeping that every deployment needs, run by the API process whatever the queue (embedded or Celery):
the lease reaper (a job whose worker died or hung goes back to the queue and is announced again) and retention
(finished jobs and their files expire)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.core.config import Settings
from app.jobs.backlog import queued_since
from app.jobs.leftovers import free_job_files
from app.jobs.models import JobStatus
from app.jobs.queue import JobQueue
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore, jobs, utcnow

log = logging.getLogger(__name__)

RETENTION_SWEEP_SECONDS = 600.0
LEASE_SLACK_SECONDS = 0.05  # a pass this long after a lease ends finds it ended (the store compares strictly)
MIN_WAIT_SECONDS = 0.1  # never closer together, whatever the leases say


class Maintenance:
    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        storage: JobStorage,
        queue: JobQueue,
        backlog: Callable[[], int] | None = None,
    ) -> None:
        """`backlog`: messages waiting in the broker (Celery); with it, jobs whose message was lost are re-announced."""
        self.settings, self.store, self.storage, self.queue = settings, store, storage, queue
        self.backlog = backlog
        # A queued job this long unclaimed while the broker holds no message is re-announced, at most this often.
        self.reannounce_after = max(5.0, 2 * settings.job_lease_seconds)
        self._announced: dict[str, float] = {}
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

    def next_wait(self) -> float:
        """Seconds to the next pass: the regular interval, or just after the earliest lease among the running jobs
        ends, if sooner. A hung or dead worker's job is requeued as soon as its lease allows, not up to an interval
        (a third of the lease) later."""
        ends = lease_ends_first(self.store)
        if ends is None:
            return self.interval
        until = (ends - self.store.clock()).total_seconds() + LEASE_SLACK_SECONDS
        return min(self.interval, max(MIN_WAIT_SECONDS, until))

    def reannounce(self) -> list[str]:
        """Announce again the jobs queued for longer than `reannounce_after` while the broker's queue is empty: their
        message was lost (a broker restart without persistence) or is held by a worker that cannot run it. A
        duplicate is harmless: the first claim wins and the others leave the job to its holder."""
        if self.backlog is None:
            return []
        now, due = time.monotonic(), self.store.clock() - timedelta(seconds=self.reannounce_after)
        waiting = [job_id for job_id, since in queued_since(self.store) if since < due]
        self._announced = {k: v for k, v in self._announced.items() if k in waiting}
        waiting = [j for j in waiting if now - self._announced.get(j, -1e9) >= self.reannounce_after]
        if not waiting or self.backlog() > 0:
            return []
        for job_id in waiting:
            self.queue.enqueue(job_id)
            self._announced[job_id] = now
        log.warning("re-announced %d job(s) queued with no message in the broker: %s", len(waiting), waiting)
        return waiting

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
                self.reannounce()
                if time.monotonic() - self._last_sweep >= RETENTION_SWEEP_SECONDS:
                    self._last_sweep = time.monotonic()
                    self.sweep_expired()
            except Exception:  # a database hiccup must not end housekeeping for good
                log.exception("maintenance pass failed; retrying")
            try:
                wait = self.next_wait()
            except Exception:  # the database is away: the regular interval
                wait = self.interval
            self._stop.wait(wait)


def lease_ends_first(store: JobStore) -> datetime | None:
    """When the earliest lease among the running jobs ends; None with none running."""
    query = select(func.min(jobs.c.lease_expires_at)).where(jobs.c.status == JobStatus.RUNNING.value)
    with store.engine.connect() as conn:
        ends = conn.execute(query).scalar()
    return None if ends is None else ends.replace(tzinfo=UTC) if ends.tzinfo is None else ends  # SQLite: naive UTC
