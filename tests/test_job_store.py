"""The SQLAlchemy job store (SQLite here; the same suite runs against PostgreSQL when one is reachable)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from app.jobs.models import FrameRecord, JobStatus
from app.jobs.store import JobStore, job_frames, jobs, utcnow
from tests.services import fresh_postgres


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'jobs.db'}"
    else:
        with fresh_postgres() as url:
            yield url


@pytest.fixture()
def store(database: str) -> Iterator[JobStore]:
    store = JobStore(database)
    with store.engine.begin() as conn:  # each test starts from an empty store
        conn.execute(job_frames.delete())
        conn.execute(jobs.delete())
    yield store
    store.engine.dispose()


def _frame(job_id: str, index: int) -> FrameRecord:
    return FrameRecord(job_id, index, index * 1000, "1/30000", 0.5, utcnow(), "w1")


def test_lifecycle_and_frames(store: JobStore) -> None:
    job, created = store.create("video", "clip.mp4", {"model": "m"})
    assert created and job.status is JobStatus.QUEUED
    claimed = store.claim(job.id, "w1")
    assert claimed is not None and claimed.status is JobStatus.RUNNING and claimed.attempts == 1
    store.record_frame(_frame(job.id, 3))
    store.record_frame(_frame(job.id, 1))
    assert [f.index for f in store.frames(job.id)] == [1, 3]
    assert store.get(job.id).frames_done == 2  # type: ignore[union-attr]
    with pytest.raises(Exception):  # noqa: B017 - the unique constraint, whatever the driver calls it
        store.record_frame(_frame(job.id, 3))
    store.finish(job.id, JobStatus.SUCCEEDED)
    assert store.claim(job.id, "w2") is None  # finished jobs are never claimed again


def test_interrupted_jobs_are_requeued(store: JobStore) -> None:
    job, _ = store.create("video", "a.mp4", {})
    store.claim(job.id, "w1")
    assert store.requeue_interrupted() == [job.id]
    assert store.get(job.id).status is JobStatus.QUEUED  # type: ignore[union-attr]
    assert store.next_queued().id == job.id  # type: ignore[union-attr]


def test_cancel_queued_is_immediate_running_is_requested(store: JobStore) -> None:
    queued, _ = store.create("image", "a.png", {})
    running, _ = store.create("image", "b.png", {})
    store.claim(running.id, "w1")
    assert store.request_cancel(queued.id).status is JobStatus.CANCELLED  # type: ignore[union-attr]
    after = store.request_cancel(running.id)
    assert after.status is JobStatus.RUNNING and after.cancel_requested  # type: ignore[union-attr]
    assert store.get(running.id).cancel_requested  # type: ignore[union-attr]


def test_idempotency_is_scoped_by_owner(store: JobStore) -> None:
    a, created_a = store.create("image", "a.png", {}, idempotency_key="k", owner="alice")
    again, created_again = store.create("image", "a.png", {}, idempotency_key="k", owner="alice")
    b, created_b = store.create("image", "a.png", {}, idempotency_key="k", owner="bob")
    assert created_a and not created_again and created_b
    assert again.id == a.id and b.id != a.id


def test_retention_finds_only_old_finished_jobs(store: JobStore) -> None:
    old, _ = store.create("image", "old.png", {})
    fresh, _ = store.create("image", "new.png", {})
    running, _ = store.create("image", "run.png", {})
    for job in (old, fresh):
        store.finish(job.id, JobStatus.SUCCEEDED)
    store.claim(running.id, "w")
    with store.engine.begin() as conn:
        conn.execute(
            update(jobs).where(jobs.c.id.in_([old.id, running.id])).values(updated_at=utcnow() - timedelta(days=30))
        )
    assert store.expired(utcnow() - timedelta(days=7)) == [old.id]


def test_pagination_is_stable(store: JobStore) -> None:
    created = [store.create("image", f"{i}.png", {})[0].id for i in range(5)]
    page, cursor = store.list_jobs(limit=2)
    seen = [j.id for j in page]
    while cursor:
        page, cursor = store.list_jobs(limit=2, cursor=cursor)
        seen += [j.id for j in page]
    assert sorted(seen) == sorted(created) and len(seen) == 5


def test_retention_sweep_removes_old_jobs_and_their_files(tmp_path: Path) -> None:
    from app.core.config import Settings
    from app.jobs.local import LocalWorker
    from app.jobs.pipeline import JobContext
    from app.jobs.storage import JobStorage

    settings = Settings(data_dir=tmp_path, job_retention_hours=24, _env_file=None)  # type: ignore[call-arg]
    store, storage = JobStore(settings.database), JobStorage(settings.jobs_dir)
    old, _ = store.create("image", "old.png", {})
    fresh, _ = store.create("image", "new.png", {})
    for job in (old, fresh):
        (storage.job_dir(job.id) / "artifacts").mkdir(parents=True)
        (storage.job_dir(job.id) / "artifacts" / "report.json").write_text("{}")
        store.finish(job.id, JobStatus.SUCCEEDED)
    with store.engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == old.id).values(updated_at=utcnow() - timedelta(hours=25)))
    worker = LocalWorker(JobContext(settings, store, storage, device=None, worker_id="t"))  # type: ignore[arg-type]
    assert worker.sweep_expired() == [old.id]
    assert store.get(old.id) is None and not storage.job_dir(old.id).exists()
    assert store.get(fresh.id) is not None and storage.job_dir(fresh.id).exists()
    store.engine.dispose()
