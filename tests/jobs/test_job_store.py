"""The SQLAlchemy job store (SQLite here; the same suite runs against PostgreSQL when one is reachable)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.jobs.models import FrameRecord, JobEstimate, JobStatus
from app.jobs.store import JobStore, job_frames, jobs, utcnow
from tests.support.services import fresh_postgres


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'jobs.db'}"
    else:
        with fresh_postgres() as url:
            yield url


class FakeClock:
    """The store's clock, moved by the test: leases expire without sleeping, on a busy machine too."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def store(database: str, clock: FakeClock) -> Iterator[JobStore]:
    store = JobStore(database, clock)
    with store.engine.begin() as conn:  # each test starts from an empty store
        conn.execute(job_frames.delete())
        conn.execute(jobs.delete())
    yield store
    store.engine.dispose()


LEASE = 30.0


def _succeed(store: JobStore, job_id: str) -> None:
    assert store.claim(job_id, "w", LEASE) is not None
    assert store.finish(job_id, "w", JobStatus.SUCCEEDED) is JobStatus.SUCCEEDED


def _frame(job_id: str, index: int) -> FrameRecord:
    return FrameRecord(job_id, index, index * 1000, "1/30000", 0.5, utcnow(), "w1")


def test_lifecycle_and_frames(store: JobStore) -> None:
    job, created = store.create("video", "clip.mp4", {"model": "m"})
    assert created and job.status is JobStatus.QUEUED
    claimed = store.claim(job.id, "w1", LEASE)
    assert claimed is not None and claimed.status is JobStatus.RUNNING and claimed.attempts == 1
    assert claimed.lease_expires_at is not None and claimed.lease_expires_at > utcnow()
    store.record_frame(_frame(job.id, 3))
    store.record_frame(_frame(job.id, 1))
    assert [f.index for f in store.frames(job.id)] == [1, 3]
    assert store.get(job.id).frames_done == 2  # type: ignore[union-attr]
    with pytest.raises(IntegrityError):  # the unique (job, frame) constraint, on SQLite and PostgreSQL alike
        store.record_frame(_frame(job.id, 3))
    assert store.finish(job.id, "w2", JobStatus.SUCCEEDED) is None  # not w2's job
    assert store.finish(job.id, "w1", JobStatus.SUCCEEDED) is JobStatus.SUCCEEDED
    assert store.get(job.id).lease_expires_at is None  # type: ignore[union-attr]
    assert store.claim(job.id, "w2", LEASE) is None  # finished jobs are never claimed again


def test_transitions_are_guarded_on_status_and_holder(store: JobStore) -> None:
    job, _ = store.create("video", "a.mp4", {})
    assert store.finish(job.id, "w1", JobStatus.FAILED) is None  # a queued job cannot jump to failed
    assert not store.requeue(job.id, "w1")
    assert store.claim(job.id, "w1", LEASE) is not None
    assert store.claim(job.id, "w2", LEASE) is None  # held: a second worker cannot take it
    assert not store.requeue(job.id, "w2") and not store.heartbeat(job.id, "w2", LEASE)
    assert store.heartbeat(job.id, "w1", LEASE)
    assert store.requeue(job.id, "w1")  # a graceful shutdown hands it back...
    again = store.get(job.id)
    assert again.status is JobStatus.QUEUED and again.worker_id is None  # type: ignore[union-attr]
    assert store.claim(job.id, "w2", LEASE) is not None  # ...and another worker resumes it
    assert store.finish(job.id, "w2", JobStatus.FAILED, "boom") is JobStatus.FAILED
    assert store.finish(job.id, "w2", JobStatus.SUCCEEDED) is None  # terminal states are final
    assert store.request_cancel(job.id).status is JobStatus.FAILED  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="no transition"):
        store._transition(job.id, JobStatus.FAILED, JobStatus.QUEUED)


def test_an_expired_lease_is_reaped_and_its_old_holder_is_shut_out(store: JobStore, clock: FakeClock) -> None:
    job, _ = store.create("video", "a.mp4", {})
    store.claim(job.id, "w1", 1.0)
    live, _ = store.create("video", "b.mp4", {})
    store.claim(live.id, "w1", LEASE)
    assert store.reap_expired() == ([], [])  # nothing expired yet...
    clock.advance(1.1)
    assert store.reap_expired() == ([job.id], [])  # ...then only the expired one
    assert store.get(live.id).status is JobStatus.RUNNING  # type: ignore[union-attr]
    reaped = store.get(job.id)
    assert reaped.status is JobStatus.QUEUED and reaped.worker_id is None  # type: ignore[union-attr]
    assert not store.heartbeat(job.id, "w1", LEASE)  # the old holder learns it lost the job
    assert store.claim(job.id, "w2", LEASE) is not None
    assert store.finish(job.id, "w1", JobStatus.SUCCEEDED) is None  # and cannot record a result over w2
    assert store.get(job.id).attempts == 2  # type: ignore[union-attr]


def test_a_job_that_kills_its_worker_max_attempts_times_fails_with_that_reason(
    store: JobStore, clock: FakeClock
) -> None:
    poison, _ = store.create("video", "poison.mp4", {}, callback_url="http://receiver.example/hook")
    for attempt in range(1, 4):
        assert store.claim(poison.id, f"w{attempt}", LEASE) is not None  # the worker dies: no heartbeat, no result
        clock.advance(LEASE + 1)
        requeued, failed = store.reap_expired(max_attempts=3)
        assert (requeued, failed) == (([poison.id], []) if attempt < 3 else ([], [poison.id]))
    job = store.get(poison.id)
    assert job is not None and job.status is JobStatus.FAILED and job.attempts == 3
    assert "died or stopped answering on each of 3 attempts" in (job.error or "") and "w3" in (job.error or "")
    assert job.webhook.status == "pending"  # the receiver hears of it, as of any ending
    assert store.claim(poison.id, "w4", LEASE) is None


def test_a_graceful_requeue_does_not_use_up_an_attempt(store: JobStore, clock: FakeClock) -> None:
    job, _ = store.create("video", "a.mp4", {})
    for _ in range(5):  # five shutdowns mid-job (deploys): each hands the job back
        assert store.claim(job.id, "w1", LEASE) is not None
        assert store.requeue(job.id, "w1")
    assert store.claim(job.id, "w1", LEASE) is not None
    clock.advance(LEASE + 1)
    assert store.reap_expired(max_attempts=2) == ([job.id], [])  # one crash so far: requeued, not failed
    assert store.get(job.id).attempts == 1  # type: ignore[union-attr]


def test_a_late_cancel_is_honoured_or_refused_never_both(store: JobStore) -> None:
    honoured, _ = store.create("image", "a.png", {})
    store.claim(honoured.id, "w1", LEASE)
    store.request_cancel(honoured.id)  # arrives after the last frame's check
    assert store.finish(honoured.id, "w1", JobStatus.SUCCEEDED) is JobStatus.CANCELLED
    refused, _ = store.create("image", "b.png", {})
    store.claim(refused.id, "w1", LEASE)
    store.finish(refused.id, "w1", JobStatus.SUCCEEDED)
    after = store.request_cancel(refused.id)
    assert after.status is JobStatus.SUCCEEDED and not after.cancel_requested  # type: ignore[union-attr]


def test_cancel_queued_is_immediate_running_is_requested(store: JobStore) -> None:
    queued, _ = store.create("image", "a.png", {})
    running, _ = store.create("image", "b.png", {})
    store.claim(running.id, "w1", LEASE)
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
        _succeed(store, job.id)
    store.claim(running.id, "w", LEASE)
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
    from app.jobs.maintenance import Maintenance
    from app.jobs.storage import JobStorage

    settings = Settings(data_dir=tmp_path, job_retention_hours=24, _env_file=None)  # type: ignore[call-arg]
    store, storage = JobStore(settings.database), JobStorage(settings.jobs_dir)
    old, _ = store.create("image", "old.png", {})
    fresh, _ = store.create("image", "new.png", {})
    for job in (old, fresh):
        (storage.job_dir(job.id) / "artifacts").mkdir(parents=True)
        (storage.job_dir(job.id) / "artifacts" / "report.json").write_text("{}")
        _succeed(store, job.id)
    with store.engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == old.id).values(updated_at=utcnow() - timedelta(hours=25)))
    maintenance = Maintenance(settings, store, storage, queue=None)  # type: ignore[arg-type]
    assert maintenance.sweep_expired() == [old.id]
    assert store.get(old.id) is None and not storage.job_dir(old.id).exists()
    assert store.get(fresh.id) is not None and storage.job_dir(fresh.id).exists()
    store.engine.dispose()


def test_an_older_store_gains_the_new_columns(tmp_path: Path) -> None:
    """A database made before leases and typed facts existed opens, keeps its jobs, and works."""
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE jobs (id VARCHAR(36) PRIMARY KEY, status VARCHAR(16) NOT NULL, kind VARCHAR(8) NOT NULL,"
                " input_name VARCHAR(255) NOT NULL, options JSON NOT NULL, created_at DATETIME NOT NULL,"
                " updated_at DATETIME NOT NULL, started_at DATETIME, finished_at DATETIME, frames_done INTEGER"
                " NOT NULL, frames_total INTEGER, error TEXT, cancel_requested BOOLEAN NOT NULL, idempotency_key"
                " VARCHAR(255) UNIQUE, owner VARCHAR(64), worker_id VARCHAR(128), attempts INTEGER NOT NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO jobs VALUES ('00000000-0000-4000-8000-000000000001', 'queued', 'image', 'a.png', '{}',"
                " '2026-01-01 00:00:00', '2026-01-01 00:00:00', NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, 0)"
            )
        )
    engine.dispose()
    store = JobStore(url)
    old = store.get("00000000-0000-4000-8000-000000000001")
    assert old is not None and old.facts.declared_frames is None and old.selection is None
    assert store.claim(old.id, "w", LEASE) is not None
    store.engine.dispose()


def test_the_estimate_is_a_typed_field_not_an_option(store: JobStore) -> None:
    """#26: what submit expects a job to cost round-trips through its own column, and leaves the options alone."""
    estimate = JobEstimate(12, 176, 144, "realesr-animevideov3-x4", 0.052, "measured", ("upscale", "frame"))
    job, _ = store.create("video", "clip.mp4", {"model": "m"}, estimate=estimate)
    again = store.get(job.id)
    assert again is not None and again.estimate == estimate and again.options == {"model": "m"}
    assert again.estimate.seconds == pytest.approx(12 * 0.052)
    unknown = JobEstimate(None, 64, 64, None, None, "unknown", ())
    assert store.create("video", "b.mp4", {}, estimate=unknown)[0].estimate == unknown
    assert store.create("image", "old.png", {})[0].estimate is None  # none made: null, not an empty estimate
    with store.engine.connect() as conn:  # SQL NULL, not a JSON null, where there is none
        assert conn.execute(select(jobs.c.id).where(jobs.c.estimate.is_(None))).all() != []
