"""A real server process, SIGKILLed mid-job and restarted: the job resumes without redoing finished frames."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import pytest
from PIL import Image

from app.core.config import Settings
from app.jobs.store import JobStore
from tests.support.images import FAST_MODEL, frame_count
from tests.support.media import carphone_path
from tests.support.server import Server


@pytest.fixture()
def server(settings: Settings, tmp_path: Path) -> Iterator[Server]:
    srv = Server(settings, tmp_path / "data")
    try:
        yield srv
    finally:
        srv.kill()


@pytest.mark.slow
def test_sigkill_mid_job_resumes_without_redoing_frames(server: Server, tmp_path: Path) -> None:
    server.start()
    response = httpx.post(
        f"{server.url}/v1/jobs",
        files={"file": ("carphone.mp4", carphone_path().read_bytes())},
        data={"model": FAST_MODEL, "outputs": "frames,gif,video", "max_frames": "60"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    deadline = time.monotonic() + 120
    while httpx.get(f"{server.url}/v1/jobs/{job_id}").json()["progress"]["done"] < 8:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    server.kill()

    store = JobStore(f"sqlite:///{tmp_path / 'data' / 'enhance.db'}")
    before = {f.index: f.finished_at for f in store.frames(job_id)}
    assert store.get(job_id).status.value == "running"  # type: ignore[union-attr]
    assert 8 <= len(before) < 60

    server.start()
    deadline = time.monotonic() + 180
    while (job := httpx.get(f"{server.url}/v1/jobs/{job_id}").json())["status"] not in {"succeeded", "failed"}:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job["status"] == "succeeded", job["error"]
    assert job["attempts"] == 2
    after = {f.index: f.finished_at for f in store.frames(job_id)}
    assert sorted(after) == list(range(60))
    assert all(after[i] == stamp for i, stamp in before.items())  # finished frames were not redone
    assert len([a for a in job["artifacts"] if a["name"].startswith("frame_")]) == 60
    # The first attempt's live GIF and video died with it: the resumed job rebuilt both from all 60 frame PNGs.
    artifacts = tmp_path / "data" / "jobs" / job_id / "artifacts"
    report = json.loads((artifacts / "report.json").read_text())
    assert report["outputs_built"] == "at the end"
    assert frame_count(Image.open(artifacts / "comparison.gif")) == 60
    with av.open(str(artifacts / "enhanced.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 60
    assert not list(artifacts.glob(".*"))  # no partial files left behind


def test_json_logs_cover_uvicorn_and_carry_the_request_id(server: Server, tmp_path: Path) -> None:
    """With ENHANCE_LOG_JSON on, every line the server writes is JSON, uvicorn's own included, and the access
    line of a request carries the X-Request-ID the client sent."""
    server.env["ENHANCE_LOG_JSON"] = "true"
    server.log = tmp_path / "server.log"
    server.start()
    response = httpx.get(f"{server.url}/v1/jobs/missing", headers={"X-Request-ID": "client-trace-7"})
    assert response.status_code == 404 and response.json()["request_id"] == "client-trace-7"
    server.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
    server.process.wait(30)  # type: ignore[union-attr]
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.strip()]
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "app.access"} <= loggers and "uvicorn.access" not in loggers, loggers  # one line each
    (access,) = [line for line in lines if line["logger"] == "app.access" and line["path"] == "/v1/jobs/missing"]
    assert access["request_id"] == "client-trace-7" and access["status"] == 404 and access["method"] == "GET"
