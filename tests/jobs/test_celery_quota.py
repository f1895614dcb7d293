"""A job run by a Celery worker is charged its device-seconds to its owner, as the embedded worker's are (#24)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.config import Settings
from app.jobs.models import JobStatus
from app.jobs.options import JobOptions
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore
from app.jobs.submit import submit_job
from tests.support.images import FAST_MODEL, png_bytes, skimage_rgb

pytest.importorskip("celery", reason="celery is not installed (pip install -e '.[scale]')")


def test_a_celery_task_charges_its_job_s_device_time_to_the_owner(settings: Settings, tmp_path: Path) -> None:
    from app.jobs.celery_app import WorkerRuntime, run_task
    from app.services import build_device

    configured = settings.model_copy(update={"data_dir": tmp_path, "device_seconds_per_day": 3600})
    store, storage = JobStore(configured.database), JobStorage(configured.jobs_dir)
    spooled = tmp_path / "upload.png"
    spooled.write_bytes(png_bytes(skimage_rgb("astronaut", 64)))
    options = JobOptions(model=FAST_MODEL, outputs=["frames"])  # type: ignore[list-item]
    device = build_device(configured, "inline")
    job, _ = submit_job(configured, store, storage, device, spooled, "a.png", options, owner="alice")

    runtime = WorkerRuntime(configured)
    assert run_task(runtime, job.id) == JobStatus.SUCCEEDED.value
    quotas = runtime.context().device.spend.__self__  # type: ignore[union-attr]  # the worker's own Quotas
    remaining = quotas.headers("alice")["RateLimit"]  # '"device";r=<left>;t=<reset>'
    assert remaining.startswith('"device";r=') and int(remaining.split("r=")[1].split(";")[0]) < 3600
    assert quotas.headers("bob")["RateLimit"].startswith('"device";r=3600;')
