"""The embedded worker: one thread in the API process runs jobs one at a time. Its model calls go through the
API's device thread, so image requests interleave with a job's tiles instead of waiting for the job. Jobs left
running by a crash come back through the lease reaper (`maintenance`), not by guesswork at start-up. With no job
queued, a worker takes a share of a segmented video that another worker sharing the store holds."""

from __future__ import annotations

import logging
import os
import socket
import threading

from app.inference.device import Priority
from app.jobs.pipeline import JobContext, run_job, run_segments

log = logging.getLogger(__name__)


class LocalWorker:
    def __init__(self, ctx: JobContext, poll_seconds: float = 1.0) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        ctx.stop_requested = self._stop.is_set  # a shutdown ends the running job after its current frame
        self._thread = threading.Thread(target=self._loop, name="job-worker", daemon=True)

    @staticmethod
    def default_id() -> str:
        return f"local:{socket.gethostname()}:{os.getpid()}"

    def start(self) -> None:
        self._thread.start()

    def enqueue(self, job_id: str) -> None:
        self._wake.set()  # the job is already queued in the store; just wake the loop

    def cancel(self, job_id: str) -> None:
        """The job's cancel is in the store: have the running job read it at its next frame, not its next poll."""
        self.ctx.cancel_hints.add(job_id)

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the current frame's job step, then exit (the job resumes on the next start)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        store, lease = self.ctx.store, self.ctx.settings.job_lease_seconds
        while not self._stop.is_set():
            job = store.next_queued()
            if job is None:
                if self._help_with_segments():
                    continue
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
                continue
            if store.claim(job.id, self.ctx.worker_id, lease) is None:
                continue  # another worker sharing the store was first
            with self.ctx.device.session(Priority.JOB, job.owner or ""):  # charges the owner's device time
                status = run_job(self.ctx, job.id)
            log.info("job %s finished: %s", job.id, status.value if status else "deleted")

    def _help_with_segments(self) -> bool:
        """Restore segments of a running job held by another worker; True when this worker finished one."""
        store = self.ctx.store
        job_id = store.job_with_free_segment()
        if job_id is None:
            return False
        job = store.get(job_id)
        with self.ctx.device.session(Priority.JOB, (job.owner if job is not None else None) or ""):
            finished = run_segments(self.ctx, job_id)
        log.info("restored %d segments of job %s", finished, job_id)
        return finished > 0
