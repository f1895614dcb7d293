"""Workers sharing one store: no job runs twice at once, and a worker that lost its lease stops and records nothing."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from sqlalchemy import update

from app.core.config import Settings
from app.inference.device import Device
from app.jobs.local import LocalWorker
from app.jobs.models import JobStatus
from app.jobs.options import JobOptions
from app.jobs.pipeline import JobContext, run_job
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore, jobs
from app.jobs.submit import submit_job
from tests.support.images import FAST_MODEL, png_bytes, skimage_rgb
from tests.support.media import carphone_path

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "cat", "camera")


def _submit(settings: Settings, store: JobStore, storage: JobStorage, device: Device, name: str, data: bytes) -> str:
    spooled = storage.root / f".upload-{name}"
    spooled.parent.mkdir(parents=True, exist_ok=True)
    spooled.write_bytes(data)
    options = JobOptions(model=FAST_MODEL, outputs=["frames"])  # type: ignore[list-item]
    job, _ = submit_job(settings, store, storage, device, spooled, name, options)
    return job.id


def test_two_workers_on_one_store_never_run_the_same_job(settings: Settings, device: Device, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    storage = JobStorage(tmp_path / "jobs")
    submitter = JobStore(url)
    ids = [
        _submit(settings, submitter, storage, device, f"{name}.png", png_bytes(skimage_rgb(name, 24)))
        for name in PHOTOS
    ]
    workers = [
        LocalWorker(JobContext(settings, JobStore(url), storage, device, worker_id), poll_seconds=0.05)
        for worker_id in ("worker-a", "worker-b")
    ]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 120
    while not all(submitter.get(i).status.terminal for i in ids):  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the jobs did not finish"
        time.sleep(0.1)
    for worker in workers:
        worker.stop()
    for job_id in ids:
        job = submitter.get(job_id)
        assert job is not None and job.status is JobStatus.SUCCEEDED, job
        assert job.attempts == 1  # claimed once, by one worker
        assert {frame.worker_id for frame in submitter.frames(job_id)} == {job.worker_id}
    assert {submitter.get(i).worker_id for i in ids} <= {"worker-a", "worker-b"}  # type: ignore[union-attr]


def test_a_worker_that_lost_its_lease_stops_and_records_nothing(
    settings: Settings, device: Device, tmp_path: Path
) -> None:
    """Mid-job, the job passes to another worker (as after the reaper requeued it and someone claimed it): the
    first worker's next renewal fails, it stops at the next frame and records neither frames nor a result."""
    quick = settings.model_copy(update={"job_lease_seconds": 0.6})
    store, storage = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}"), JobStorage(tmp_path / "jobs")
    clip = tmp_path / "clip.mp4"
    shutil.copyfile(carphone_path(), clip)
    job_id = _submit(quick, store, storage, device, "clip.mp4", clip.read_bytes())
    assert store.claim(job_id, "worker-a", quick.job_lease_seconds) is not None
    ctx = JobContext(quick, store, storage, device, "worker-a")
    result: list[JobStatus | None] = []
    runner = threading.Thread(target=lambda: result.append(run_job(ctx, job_id)))
    runner.start()
    deadline = time.monotonic() + 60
    while store.get(job_id).frames_done < 2:  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    with store.engine.begin() as conn:  # worker-b now holds it
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(worker_id="worker-b"))
    runner.join(30)
    assert not runner.is_alive() and result == [JobStatus.RUNNING]
    job = store.get(job_id)
    assert job is not None and job.status is JobStatus.RUNNING and job.worker_id == "worker-b"
    frames_then = job.frames_done
    time.sleep(0.5)
    assert store.get(job_id).frames_done == frames_then  # type: ignore[union-attr]  # worker-a wrote no more
    assert frames_then < 60  # it stopped long before the end of the clip
