"""A worker's way into a job it was handed: claim it if it is queued, or take it over from a holder that is gone.

Celery redelivers a task at once when the process running it dies, while the dead process's lease is still valid.
Dropping that message stranded the job until the API's reaper noticed, and the reaper's new message could land on
a worker that could not run it. Instead the redelivered task waits here: it takes the job as soon as the holder is
proven dead (same host, its pid gone) or its lease expires without renewal, and leaves it to a holder that renews
(alive: a duplicate message, e.g. a re-announce, must not stop a running job).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime

from app.jobs.models import JobRecord, JobStatus
from app.jobs.store import JobStore

log = logging.getLogger(__name__)


def holder_is_dead(worker_id: str, host: str | None = None) -> bool:
    """True only when `worker_id` (`<kind>:<host>:<pid>`) names a process on this host that no longer exists.
    Another host's worker cannot be proven dead from here: its lease decides."""
    parts = worker_id.rsplit(":", 2)
    if len(parts) != 3 or not parts[2].isdigit() or parts[1] != (host or socket.gethostname()):
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    return False


def acquire(
    store: JobStore,
    job_id: str,
    worker_id: str,
    lease_seconds: float,
    max_attempts: int = 0,
    sleep: Callable[[float], None] = time.sleep,
    is_dead: Callable[[str], bool] = holder_is_dead,
) -> JobRecord | None:
    """The job, now held by `worker_id`; None when there is nothing to run here (finished, cancelled, deleted, held
    by a live worker, or out of attempts: the reaper fails it when the lease runs out)."""
    seen: tuple[str, datetime] | None = None  # the holder and the lease expiry read last time
    while True:
        if (claimed := store.claim(job_id, worker_id, lease_seconds)) is not None:
            return claimed
        job = store.get(job_id)
        if job is None or job.status.terminal:
            return None
        if job.status is not JobStatus.RUNNING or job.worker_id is None or job.lease_expires_at is None:
            continue  # it changed between the two reads: look again
        holder, expires = job.worker_id, job.lease_expires_at
        if holder == worker_id:
            return None
        if seen is not None and seen[0] == holder and expires > seen[1]:
            log.info("job %s is held by %s, which renews its lease: leaving it there", job_id, holder)
            return None
        dead, expired = is_dead(holder), expires < store.clock()  # strictly, as the store's guard reads it
        if dead or expired:
            if max_attempts and job.attempts >= max_attempts:
                return None
            taken = store.take_over(job_id, holder, worker_id, lease_seconds, holder_dead=dead)
            if taken is not None:
                log.warning("took over job %s from %s (%s)", job_id, holder, "gone" if dead else "lease expired")
                return taken
            sleep(0.05)  # it moved on meanwhile (renewed, finished, reaped): read it again
            continue
        seen = (holder, expires)
        remaining = (expires - store.clock()).total_seconds()
        sleep(max(0.05, min(lease_seconds / 6, remaining)))
