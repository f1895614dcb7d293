"""Scale-out under faults, on the real path: an `enhance serve` process, Celery workers, PostgreSQL and a
`redis-server` of the test's own (so it can be restarted). Each fault happens mid-job; the job must succeed with
every frame exactly once. Skipped, with the reason, where PostgreSQL or redis-server is not available.

The workers preload a model that takes longer to load than Celery's start-up handshake allows (4 s): a pool
process that loaded models in `worker_process_init` could never be replaced (issue #31)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.jobs.store import JobStore
from tests.support.images import CATALOG, FAST_MODEL
from tests.support.media import carphone_path
from tests.support.server import Server
from tests.support.services import fresh_postgres

pytestmark = pytest.mark.slow

FRAMES = 30
SLOW_LOADING = ["realesrgan-x4plus", "realesrgan-x4plus-anime", "span-x4", FAST_MODEL]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A throw-away redis-server without persistence: a restart loses every message, as a crashed broker would."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (the fault tests restart their own broker)")
        self.binary, self.folder, self.port = binary, folder, _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, cwd=self.folder, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class Cluster:
    def __init__(self, env: dict[str, str], api: Server, redis: RedisServer, data_dir: Path, database: str) -> None:
        self.env, self.api, self.redis, self.data_dir = env, api, redis, data_dir
        self.store = JobStore(database)
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.data_dir / f"{name}.log").open("ab")
        command = [sys.executable, "-m", "celery", "-A", "app.jobs.celery_app", "worker", "--concurrency=1"]
        command += ["--pool=prefork", "-Q", "enhance", "-n", f"{name}@%h", "--without-gossip", "--without-mingle"]
        command += ["--loglevel=INFO"]
        process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.workers[name] = process
        deadline = time.monotonic() + 180
        while " ready." not in self.log(name):
            assert time.monotonic() < deadline, f"worker {name} did not become ready"
            assert process.poll() is None, f"worker {name} exited during start-up: {self.log(name)[-2000:]}"
            time.sleep(0.3)
        return process

    def log(self, name: str) -> str:
        return (self.data_dir / f"{name}.log").read_text(errors="replace")

    def stop_workers(self) -> None:
        for process in self.workers.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        self.workers.clear()

    def submit(self, frames: int = FRAMES) -> str:
        response = httpx.post(
            f"{self.api.url}/v1/jobs",
            files={"file": ("carphone.mp4", carphone_path().read_bytes())},
            data={"model": FAST_MODEL, "max_frames": str(frames), "outputs": "frames"},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(httpx.get(f"{self.api.url}/v1/jobs/{job_id}", timeout=10).json())

    def wait_for(self, job_id: str, done: int, timeout: float = 120) -> dict[str, Any]:
        """The job once it is running with at least `done` frames recorded."""
        deadline = time.monotonic() + timeout
        while (job := self.job(job_id))["progress"]["done"] < done or job["status"] != "running":
            assert time.monotonic() < deadline and job["status"] in {"queued", "running"}, job
            time.sleep(0.05)
        return job

    def wait(self, job_id: str, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (job := self.job(job_id))["status"] not in {"succeeded", "failed", "cancelled"}:
            assert time.monotonic() < deadline, f"job {job_id} stuck: {job}"
            time.sleep(0.2)
        return job

    def assert_every_frame_once(self, job_id: str) -> list[str]:
        """The job succeeded with frames 0..FRAMES-1, each recorded once; returns the holders that recorded them."""
        job = self.wait(job_id)
        assert job["status"] == "succeeded", job["error"]
        frames = self.store.frames(job_id)
        assert [f.index for f in frames] == list(range(FRAMES))  # unique per (job, frame): none twice, none lost
        assert job["progress"]["done"] == FRAMES  # counted once per recorded frame
        assert len([a for a in job["artifacts"] if a["name"].startswith("frame_")]) == FRAMES
        return [str(f.worker_id) for f in frames]


def _pid(worker_id: str) -> int:
    return int(worker_id.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def cluster(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("fault-data")
    redis = RedisServer(data_dir)
    with fresh_postgres() as database:
        redis.start()
        api = Server(settings, data_dir)
        api.env |= {
            "ENHANCE_QUEUE": "celery",
            "ENHANCE_BROKER_URL": redis.url,
            "ENHANCE_DATABASE_URL": database,
            "ENHANCE_CATALOG_PATH": str(CATALOG),
            "ENHANCE_JOB_LEASE_SECONDS": "3",
        }
        api.start()  # the API preloads nothing: only the workers see the slow preload list
        env = api.env | {"ENHANCE_PRELOAD": str(SLOW_LOADING).replace("'", '"')}
        cluster = Cluster(env, api, redis, data_dir, database)
        try:
            yield cluster
        finally:
            cluster.stop_workers()
            api.kill()
            cluster.store.engine.dispose()
            redis.stop()


@pytest.fixture
def workers(cluster: Cluster) -> Iterator[Cluster]:
    try:
        yield cluster
    finally:
        cluster.stop_workers()


def test_a_killed_task_process_is_replaced_and_resumes_its_job(workers: Cluster) -> None:
    """The issue's reproduction: kill -9 the process running the task (as the OOM killer would). Its worker starts
    a replacement process, which takes the redelivered job over from the dead holder instead of dropping it."""
    from app.jobs.celery_app import WorkerRegistry

    workers.start_worker("solo")
    job_id = workers.submit()
    victim = workers.wait_for(job_id, done=5)["worker_id"]
    os.kill(_pid(victim), signal.SIGKILL)
    holders = workers.assert_every_frame_once(job_id)
    assert holders[0] == victim and holders[-1] != victim  # resumed by the replacement, after the dead one's frames
    # Its worker recorded the process it lost on the broker, where a worker on another host can read it.
    assert WorkerRegistry(workers.redis.url).is_dead(victim)


def test_a_killed_worker_main_process_loses_no_frame(workers: Cluster) -> None:
    workers.start_worker("a")
    workers.start_worker("b")
    job_id = workers.submit()
    victim = _pid(workers.wait_for(job_id, done=5)["worker_id"])
    parent = int(Path(f"/proc/{victim}/stat").read_text().rsplit(")", 1)[1].split()[1])
    os.kill(parent, signal.SIGKILL)
    workers.assert_every_frame_once(job_id)


def test_a_worker_stopped_past_its_lease_writes_nothing_after_the_takeover(workers: Cluster) -> None:
    workers.start_worker("a")
    workers.start_worker("b")
    job_id = workers.submit()
    stopped = workers.wait_for(job_id, done=5)["worker_id"]
    group = os.getpgid(_pid(stopped))
    os.killpg(group, signal.SIGSTOP)  # the whole worker hangs: main process and pool process
    try:
        deadline = time.monotonic() + 120
        # reaped at the lease's end (queued, no holder), then claimed by the other worker
        while (job := workers.job(job_id))["worker_id"] in {stopped, None}:
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        taken_over = workers.store.get(job_id).started_at  # type: ignore[union-attr]
        assert taken_over is not None
    finally:
        os.killpg(group, signal.SIGCONT)
    holders = workers.assert_every_frame_once(job_id)
    assert stopped in holders and holders[-1] != stopped
    late = [f for f in workers.store.frames(job_id) if f.worker_id == stopped and f.finished_at >= taken_over]
    assert late == []  # the lease guard: the woken holder recorded nothing once the other held the job


def test_a_broker_restart_strands_no_job(workers: Cluster) -> None:
    """Redis restarts without persistence mid-job: the running job finishes, and the queued one, whose message the
    restart lost, is announced again and runs."""
    workers.start_worker("solo")
    running = workers.submit()
    workers.wait_for(running, done=3)
    waiting = workers.submit()  # queued behind it: its only copy is in the broker
    workers.redis.stop()
    workers.redis.start()
    assert workers.assert_every_frame_once(running)
    assert workers.assert_every_frame_once(waiting)


def test_dropped_database_connections_mid_job(workers: Cluster) -> None:
    workers.start_worker("solo")
    job_id = workers.submit()
    workers.wait_for(job_id, done=5)
    with workers.store.engine.connect() as conn:
        dropped = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert dropped > 0  # the worker's and the API's connections
    workers.assert_every_frame_once(job_id)
