"""The embedded worker: one thread in the API process runs jobs one at a time. Its model calls go through the
API's device batcher, so image requests interleave with a job's tiles instead of waiting for the job."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta

from app.jobs.pipeline import JobContext, run_job
from app.jobs.store import utcnow

log = logging.getLogger(__name__)

RETENTION_SWEEP_SECONDS = 600.0


class LocalWorker:
    def __init__(self, ctx: JobContext, poll_seconds: float = 1.0) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        ctx.stop_requested = self._stop.is_set  # a shutdown ends the running job after its current frame
        self._thread = threading.Thread(target=self._loop, name="job-worker", daemon=True)
        self._last_sweep = 0.0
        self.current: str | None = None

    @staticmethod
    def default_id() -> str:
        return f"local:{socket.gethostname()}:{os.getpid()}"

    def start(self) -> None:
        resumed = self.ctx.store.requeue_interrupted()
        if resumed:
            log.info("resuming %d interrupted job(s): %s", len(resumed), ", ".join(resumed))
        self._thread.start()

    def enqueue(self, job_id: str) -> None:
        self._wake.set()  # the job is already queued in the store; just wake the loop

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the current frame's job step, then exit (the job resumes on the next start)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def sweep_expired(self) -> list[str]:
        before = utcnow() - timedelta(hours=self.ctx.settings.job_retention_hours)
        expired = self.ctx.store.expired(before)
        for job_id in expired:
            self.ctx.storage.remove(job_id)
            self.ctx.store.delete(job_id)
        if expired:
            log.info("expired %d job(s) older than %s", len(expired), before.isoformat())
        return expired

    def _loop(self) -> None:
        while not self._stop.is_set():
            if time.monotonic() - self._last_sweep > RETENTION_SWEEP_SECONDS:
                self._last_sweep = time.monotonic()
                self.sweep_expired()
            job = self.ctx.store.next_queued()
            if job is None:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
                continue
            if self.ctx.store.claim(job.id, self.ctx.worker_id) is None:
                continue
            self.current = job.id
            try:
                with self.ctx.device.session():
                    status = run_job(self.ctx, job.id)
                log.info("job %s finished: %s", job.id, status.value)
            finally:
                self.current = None
