"""What a job that did not succeed leaves on disk. A cancelled or failed job's folder (input, frames, partial
outputs) is deleted when it ends, unless `ENHANCE_KEEP_FAILED_JOB_FILES` keeps it for a post-mortem; before, it
stayed until the retention sweep, invisible to the API (#24: 33 MB a cancelled video job). A job that failed
part-way (a video that stopped decoding) keeps the artifacts it published: they are its result.

Nothing is recorded about it: `job_files` reads the answer from the status, the setting and the disk."""

from __future__ import annotations

import logging
from typing import Literal

from app.core.config import Settings
from app.core.errors import JobFilesDeleted
from app.jobs.models import JobRecord, JobStatus
from app.jobs.storage import JobStorage

log = logging.getLogger(__name__)

UNDONE = frozenset({JobStatus.CANCELLED, JobStatus.FAILED})
JobFiles = Literal["kept", "artifacts_only", "deleted"]
KEEP_HINT = "a server with ENHANCE_KEEP_FAILED_JOB_FILES=true keeps them"


def free_job_files(settings: Settings, storage: JobStorage, job_id: str, status: JobStatus) -> None:
    """Once the store has recorded that the job ended `status`: delete what it no longer needs."""
    if status not in UNDONE or settings.keep_failed_job_files:
        return
    if status is JobStatus.FAILED and storage.published(job_id):
        storage.remove_all_but_artifacts(job_id)
        log.info("job %s failed part-way: deleted its input and frames, kept its artifacts", job_id)
    else:
        storage.remove(job_id)
        log.info("job %s %s: deleted its files", job_id, status.value)


def job_files(settings: Settings, storage: JobStorage, job: JobRecord) -> JobFiles:
    if job.status not in UNDONE:
        return "kept"
    if not storage.job_dir(job.id).is_dir():
        return "deleted"
    if settings.keep_failed_job_files:
        return "kept"
    # Being deleted: the worker records the ending first, then deletes (a moment later).
    return "artifacts_only" if job.status is JobStatus.FAILED and storage.published(job.id) else "deleted"


def files_gone(job: JobRecord, files: JobFiles) -> JobFilesDeleted:
    """The problem for a link into a job whose files were deleted: says when, why, and what keeps them."""
    if files == "artifacts_only":
        return JobFilesDeleted(
            f"job {job.id} failed part-way: only the artifacts it published were kept, its input and frames were "
            f"deleted when it ended ({KEEP_HINT})"
        )
    return JobFilesDeleted(
        f"job {job.id} was {job.status.value} and its files were deleted when it ended ({KEEP_HINT})"
    )
