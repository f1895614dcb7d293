"""A redelivered task takes its job over from a holder that is gone, and leaves it to one that is alive; a worker
whose processes cannot start gives up; a frame is recorded only by the job's holder (the lease guard). The store's
clock is a fake one that the injected `sleep` advances: no waiting, no timing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.core.config import Settings
from app.jobs.maintenance import Maintenance
from app.jobs.models import FrameRecord, JobStatus
from app.jobs.pipeline import JobContext
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore, LeaseLost, utcnow
from app.jobs.takeover import acquire, holder_is_dead
from app.jobs.worker_health import StartWatch
from tests.jobs.test_job_store import FakeClock
from tests.support.images import FAST_MODEL
from tests.support.services import redis_url

LEASE = 30.0
ELSEWHERE = "celery:another-host:4242"  # a holder on another machine: only its lease can say it is gone


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def store(tmp_path: Path, clock: FakeClock) -> Iterator[JobStore]:
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}", clock)
    yield store
    store.engine.dispose()


def _held_by(store: JobStore, holder: str) -> str:
    job, _ = store.create("video", "clip.mp4", {})
    assert store.claim(job.id, holder, LEASE) is not None
    return job.id


def _frame(job_id: str, index: int, worker_id: str) -> FrameRecord:
    return FrameRecord(job_id, index, index, "1/30", 0.1, utcnow(), worker_id)


def test_a_redelivered_task_waits_out_a_silent_holders_lease_then_runs_the_job(
    store: JobStore, clock: FakeClock
) -> None:
    job_id = _held_by(store, ELSEWHERE)
    store.record_frame(_frame(job_id, 0, ELSEWHERE))
    waited: list[float] = []

    def sleep(seconds: float) -> None:  # the holder is silent: time passes, the lease is not renewed
        waited.append(seconds)
        clock.advance(seconds)

    job = acquire(store, job_id, "celery:here:1", LEASE, sleep=sleep)
    assert job is not None and job.status is JobStatus.RUNNING and job.worker_id == "celery:here:1"
    assert job.attempts == 2 and sum(waited) >= LEASE  # not before the lease ran out
    assert [f.index for f in store.frames(job_id)] == [0]  # the recorded frame stays: the job resumes after it


def test_a_redelivered_task_leaves_the_job_to_a_holder_that_renews(store: JobStore, clock: FakeClock) -> None:
    job_id = _held_by(store, ELSEWHERE)

    def sleep(seconds: float) -> None:  # the holder is alive: its heartbeat moves the lease on meanwhile
        clock.advance(seconds)
        assert store.heartbeat(job_id, ELSEWHERE, LEASE)

    assert acquire(store, job_id, "celery:here:1", LEASE, sleep=sleep) is None
    assert store.get(job_id).worker_id == ELSEWHERE  # type: ignore[union-attr]


def test_a_holder_proven_dead_is_taken_over_at_once(store: JobStore) -> None:
    job_id = _held_by(store, ELSEWHERE)

    def sleep(seconds: float) -> None:
        raise AssertionError("waited for the lease of a holder known to be dead")

    job = acquire(store, job_id, "celery:here:1", LEASE, sleep=sleep, is_dead=lambda holder: holder == ELSEWHERE)
    assert job is not None and job.worker_id == "celery:here:1"


def test_a_holder_on_this_host_whose_process_is_gone_is_dead() -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    host = socket.gethostname()
    assert holder_is_dead(f"celery:{host}:{int(ended.stdout)}")
    assert not holder_is_dead(f"celery:{host}:{os.getpid()}")  # alive
    assert not holder_is_dead(f"celery:another-host:{int(ended.stdout)}")  # cannot tell from here


def test_a_finished_job_is_not_run_again(store: JobStore) -> None:
    job_id = _held_by(store, ELSEWHERE)
    assert store.finish(job_id, ELSEWHERE, JobStatus.SUCCEEDED)
    assert acquire(store, job_id, "celery:here:1", LEASE, sleep=lambda _: None) is None


def test_a_job_out_of_attempts_is_left_for_the_reaper_to_fail(store: JobStore, clock: FakeClock) -> None:
    job_id = _held_by(store, ELSEWHERE)
    clock.advance(LEASE + 1)
    assert acquire(store, job_id, "celery:here:1", LEASE, max_attempts=1, sleep=lambda _: None) is None
    assert store.reap_expired(max_attempts=1) == ([], [job_id])


def test_the_old_holder_records_nothing_once_the_job_was_taken_over(store: JobStore, clock: FakeClock) -> None:
    job_id = _held_by(store, ELSEWHERE)
    store.record_frame(_frame(job_id, 0, ELSEWHERE))
    clock.advance(LEASE + 1)  # the holder hung past its lease
    assert store.take_over(job_id, ELSEWHERE, "celery:here:1", LEASE) is not None
    with pytest.raises(LeaseLost):  # it wakes and finishes frame 1: refused, nothing written
        store.record_frame(_frame(job_id, 1, ELSEWHERE))
    store.record_frame(_frame(job_id, 1, "celery:here:1"))
    frames = store.frames(job_id)
    assert [(f.index, f.worker_id) for f in frames] == [(0, ELSEWHERE), (1, "celery:here:1")]
    assert store.get(job_id).frames_done == 2  # type: ignore[union-attr]


def test_a_live_holder_is_not_taken_over_before_its_lease_ends(store: JobStore, clock: FakeClock) -> None:
    job_id = _held_by(store, ELSEWHERE)
    assert store.take_over(job_id, ELSEWHERE, "celery:here:1", LEASE) is None
    clock.advance(LEASE + 1)
    assert store.take_over(job_id, "someone-else", "celery:here:1", LEASE) is None  # guarded on the holder too


def test_a_worker_without_a_ready_process_gives_up_after_the_deadline() -> None:
    now = [0.0]
    watch = StartWatch(60.0, clock=lambda: now[0])
    assert not watch.give_up(ready=0)
    now[0] = 59.0
    assert not watch.give_up(ready=0)
    now[0] = 61.0
    assert watch.give_up(ready=0)
    assert not watch.give_up(ready=1)  # a process came up: the count starts again when it is lost
    now[0] = 100.0
    assert not watch.give_up(ready=0)
    now[0] = 161.0
    assert watch.give_up(ready=0)


def test_a_pool_process_loads_its_models_in_the_background_before_any_task(settings: Settings, tmp_path: Path) -> None:
    """Warm-up starts with the process (Celery's `worker_process_init`) and returns at once, so the start-up
    handshake never waits for a model; by the time a job is handed over, the process has loaded ENHANCE_PRELOAD's
    models and its first frame does not pay for them (#31: a takeover's first frame came 4 s after the claim)."""
    pytest.importorskip("celery", reason="celery is not installed (pip install -e '.[scale]')")
    from app.jobs.celery_app import WorkerRuntime, build_context

    configured = settings.model_copy(update={"data_dir": tmp_path, "preload": [FAST_MODEL]})
    go, built = threading.Event(), []

    def build(worker_settings: Settings) -> JobContext:
        assert go.wait(60)
        built.append(worker_settings)
        return build_context(worker_settings)

    runtime = WorkerRuntime(configured, build)
    warming = runtime.warm()
    assert warming.is_alive() and not built  # handed back while the build is still to come
    go.set()
    warming.join(300)
    assert not warming.is_alive() and len(built) == 1
    context = runtime.context()  # a task now: the same context, built once
    assert len(built) == 1
    assert context.device.registry.loaded(FAST_MODEL) is not None  # loaded with no task having asked for it


class Announced(list[str]):
    """The queue the reaper announces requeued jobs to."""

    def enqueue(self, job_id: str) -> None:
        self.append(job_id)


def test_the_reaper_requeues_a_hung_holder_s_job_as_its_lease_ends(
    store: JobStore, clock: FakeClock, settings: Settings, tmp_path: Path
) -> None:
    """Not up to a pass interval later (a third of the lease: 10 s at the default 30 s lease): the next pass is
    scheduled just after the earliest running lease ends, so the job is handed on as soon as it may be."""
    configured = settings.model_copy(update={"data_dir": tmp_path, "job_lease_seconds": LEASE})
    announced = Announced()
    maintenance = Maintenance(configured, store, JobStorage(configured.jobs_dir), announced)
    assert maintenance.next_wait() == maintenance.interval == LEASE / 3  # nothing running
    job_id = _held_by(store, ELSEWHERE)
    clock.advance(LEASE - 2)  # its holder renewed nothing since the claim (hung, stopped)
    wait = maintenance.next_wait()
    assert wait < 2.5  # not the 10 s interval
    assert maintenance.reap() == []  # a pass now is too early: the lease still runs
    clock.advance(wait)
    assert maintenance.reap() == [job_id] and announced == [job_id]  # the pass it scheduled hands it on
    assert maintenance.next_wait() == maintenance.interval  # nothing running any more


def test_a_holder_on_another_host_that_its_worker_saw_die_is_taken_over_at_once(
    store: JobStore, settings: Settings
) -> None:
    """The pid proves a holder dead only on its own host. Its worker's main process records the process it lost
    (before Celery redelivers the task) on the broker, so a worker on any host takes the job over at once instead
    of waiting out the dead holder's lease (30 s by default)."""
    pytest.importorskip("celery", reason="celery is not installed (pip install -e '.[scale]')")
    from app.jobs.celery_app import WorkerHealth, WorkerRegistry, WorkerRuntime

    broker = redis_url(db=13)
    registry = WorkerRegistry(broker)
    lost: list[tuple[int, int]] = []

    class Pool:  # the prefork pool's hook for a process that died running a task (billiard calls it)
        def on_job_process_lost(self, job: object, pid: int, exitcode: int) -> None:
            lost.append((pid, exitcode))

    pool = Pool()
    worker = SimpleNamespace(concurrency=1, pool=SimpleNamespace(_pool=pool), hostname="other@another-host")
    health = WorkerHealth(worker, registry, 60.0)
    with pytest.MonkeyPatch.context() as patch:  # that worker runs on another host
        patch.setattr("app.jobs.celery_app.socket.gethostname", lambda: "another-host")
        health.record_lost_processes()
    dead = int(ELSEWHERE.rsplit(":", 1)[1])
    pool.on_job_process_lost(object(), dead, -9)  # its process 4242 died running the job's task
    assert lost == [(dead, -9)]  # Celery's own handling goes on (the task is rejected, so redelivered)

    job_id = _held_by(store, ELSEWHERE)
    runtime = WorkerRuntime(settings.model_copy(update={"broker_url": broker}))

    def sleep(seconds: float) -> None:
        raise AssertionError("waited for the lease of a holder its worker saw die")

    job = acquire(store, job_id, "celery:here:1", LEASE, sleep=sleep, is_dead=runtime.holder_is_dead)
    assert job is not None and job.worker_id == "celery:here:1"

    registry.forget_dead("another-host", dead)  # a new process took the pid: alive again, its lease decides
    assert not runtime.holder_is_dead(ELSEWHERE)
