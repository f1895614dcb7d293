"""Scale-out on real services: the API process enqueues on Celery (Redis broker), two worker processes share the
PostgreSQL store and the data directory. Skipped, with the reason, where Redis or PostgreSQL is not reachable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from app.jobs.store import JobStore
from tests.support.images import CATALOG, FAST_MODEL, png_bytes, skimage_rgb
from tests.support.media import carphone_path
from tests.support.server import Server
from tests.support.services import fresh_postgres, redis_url
from tests.support.webhooks import SECRET, Receiver, verify

pytestmark = pytest.mark.slow


class Cluster:
    def __init__(self, env: dict[str, str], api: Server, data_dir: Path, database: str) -> None:
        self.env, self.api, self.data_dir = env, api, data_dir
        self.store = JobStore(database)
        self.workers: list[subprocess.Popen[bytes]] = []

    def start_worker(self, name: str) -> None:
        log = (self.data_dir / f"{name}.log").open("wb")
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "app.jobs.celery_app",
            "worker",
            "--concurrency=1",
            "--pool=prefork",
            "-Q",
            "enhance",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ]
        self.workers.append(subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT))

    def wait_ready(self, names: list[str], timeout: float = 180) -> None:
        """Both workers must be consuming before jobs arrive, or the first one up could take them all."""
        deadline = time.monotonic() + timeout
        while not all(
            f"{name}@" in log and " ready." in log
            for name in names
            for log in [(self.data_dir / f"{name}.log").read_text(errors="replace")]
        ):
            assert time.monotonic() < deadline, "Celery workers did not become ready"
            assert all(p.poll() is None for p in self.workers), "a Celery worker exited during start-up"
            time.sleep(0.5)

    def submit(self, data: bytes, name: str, **form: Any) -> str:
        form.setdefault("model", FAST_MODEL)
        response = httpx.post(
            f"{self.api.url}/v1/jobs",
            files={"file": (name, data)},
            data={k: str(v) for k, v in form.items()},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def submit_album(self, files: list[tuple[str, bytes]], **form: Any) -> str:
        form.setdefault("model", FAST_MODEL)
        response = httpx.post(
            f"{self.api.url}/v1/jobs",
            files=[("file", item) for item in files],
            data={k: str(v) for k, v in form.items()},
            timeout=60,
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(httpx.get(f"{self.api.url}/v1/jobs/{job_id}", timeout=10).json())

    def wait(self, job_id: str, timeout: float = 240) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (job := self.job(job_id))["status"] not in {"succeeded", "failed", "cancelled"}:
            assert time.monotonic() < deadline, f"job {job_id} stuck: {job}"
            time.sleep(0.3)
        return job

    def stop(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.kill()
        for process in self.workers:
            process.wait(10)
        self.api.kill()
        self.store.engine.dispose()


@pytest.fixture(scope="module")
def cluster(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    broker = redis_url(db=11)
    with fresh_postgres() as database:
        data_dir = tmp_path_factory.mktemp("shared-data")
        api = Server(settings, data_dir)
        env = {
            **api.env,
            "ENHANCE_QUEUE": "celery",
            "ENHANCE_BROKER_URL": broker,
            "ENHANCE_DATABASE_URL": database,
            "ENHANCE_PRELOAD": f'["{FAST_MODEL}"]',
            "ENHANCE_CATALOG_PATH": str(CATALOG),
            "ENHANCE_WEBHOOK_SECRET": SECRET,
            "ENHANCE_WEBHOOK_ALLOW": '["127.0.0.1"]',
            "ENHANCE_WEBHOOK_RETRY_SECONDS": "0.5",
        }
        api.env = env
        api.start()
        cluster = Cluster(env, api, data_dir, database)
        cluster.start_worker("w1")
        cluster.start_worker("w2")
        cluster.wait_ready(["w1", "w2"])
        try:
            yield cluster
        finally:
            cluster.stop()


def test_jobs_are_spread_over_both_workers(cluster: Cluster) -> None:
    ids = [
        cluster.submit(png_bytes(skimage_rgb(name, 96)), f"{name}.png")
        for name in ["astronaut", "chelsea", "coffee", "rocket", "camera", "immunohistochemistry"]
    ]
    ids.append(
        cluster.submit(
            carphone_path().read_bytes(), "carphone.mp4", frames="0,10,20,30,40,50", outputs="frames,gif,video"
        )
    )
    jobs = [cluster.wait(job_id) for job_id in ids]
    assert all(j["status"] == "succeeded" for j in jobs), [j["error"] for j in jobs]
    hosts = {j["worker_id"].rsplit(":", 1)[1] for j in jobs}  # celery:<host>:<pid>
    assert len(hosts) == 2, hosts
    video = jobs[-1]
    assert {"enhanced.mp4", "comparison.gif", "frame_000050.png"} <= {a["name"] for a in video["artifacts"]}


def test_a_killed_worker_loses_no_frames(cluster: Cluster) -> None:
    job_id = cluster.submit(carphone_path().read_bytes(), "carphone.mp4", max_frames=60, outputs="frames")
    deadline = time.monotonic() + 120
    while (job := cluster.job(job_id))["progress"]["done"] < 6:
        assert time.monotonic() < deadline and job["status"] in {"queued", "running"}, job
        time.sleep(0.05)
    victim = int(job["worker_id"].rsplit(":", 1)[1])
    os.kill(victim, signal.SIGKILL)  # the pool process running the task: the broker message is requeued
    job = cluster.wait(job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["attempts"] >= 2
    frames = cluster.store.frames(job_id)
    assert [f.index for f in frames] == list(range(60))  # none missing, none twice (unique per job and index)
    assert len({f.worker_id for f in frames}) == 2  # finished by a different process than it started on
    assert len([a for a in job["artifacts"] if a["name"].startswith("frame_")]) == 60


def test_cancel_reaches_the_worker(cluster: Cluster) -> None:
    job_id = cluster.submit(carphone_path().read_bytes(), "carphone.mp4", outputs="frames")
    deadline = time.monotonic() + 120
    while cluster.job(job_id)["progress"]["done"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    httpx.post(f"{cluster.api.url}/v1/jobs/{job_id}/cancel", timeout=10)
    job = cluster.wait(job_id)
    assert job["status"] == "cancelled"
    assert job["progress"]["done"] < 120


def test_an_album_with_a_webhook_runs_on_the_workers(cluster: Cluster, receiver: Receiver) -> None:
    coffee = skimage_rgb("coffee", 160)
    files = [
        ("astronaut.png", png_bytes(skimage_rgb("astronaut", 160))),
        ("coffee.png", png_bytes(coffee)),
        ("coffee-dark.png", png_bytes((coffee * 0.15).astype(np.uint8))),
        ("coffee-copy.png", png_bytes(coffee)),
    ]
    job_id = cluster.submit_album(files, callback_url=receiver.url)
    job = cluster.wait(job_id)
    assert job["status"] == "succeeded" and job["worker_id"].startswith("celery:"), job["error"]
    assert {"astronaut.png", "coffee.png", "photos.zip", "contact_sheet.jpg"} <= {a["name"] for a in job["artifacts"]}
    report = httpx.get(f"{cluster.api.url}/v1/jobs/{job_id}/artifacts/report.json", timeout=10).json()
    assert [r["name"] for r in report["photos"] if r["chosen"]] == ["astronaut.png", "coffee.png"]
    deadline = time.monotonic() + 30
    while cluster.job(job_id)["webhook"]["status"] != "delivered":  # sent by the API process, not the worker
        assert time.monotonic() < deadline, cluster.job(job_id)["webhook"]
        time.sleep(0.2)
    headers, body = receiver.received[-1]
    assert verify(headers, body, SECRET) and json.loads(body)["data"]["job_id"] == job_id


def test_a_killed_worker_resumes_an_album_after_its_done_photos(cluster: Cluster) -> None:
    names = ["astronaut", "coffee", "chelsea", "rocket", "camera", "immunohistochemistry", "retina", "moon"]
    files = [(f"{name}.png", png_bytes(skimage_rgb(name, 384))) for name in names]
    job_id = cluster.submit_album(files, keep="all", duplicates="keep")
    deadline = time.monotonic() + 120
    while (job := cluster.job(job_id))["progress"]["done"] < 2:
        assert time.monotonic() < deadline and job["status"] in {"queued", "running"}, job
        time.sleep(0.02)
    os.kill(int(job["worker_id"].rsplit(":", 1)[1]), signal.SIGKILL)
    job = cluster.wait(job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["attempts"] >= 2
    frames = cluster.store.frames(job_id)
    assert [f.index for f in frames] == list(range(len(names)))  # every photo once: none redone, none lost
    assert len({f.worker_id for f in frames}) == 2
