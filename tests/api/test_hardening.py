"""Hostile input and operations: streamed upload caps, pixel floods, playlists posing as videos, API keys, CORS,
quotas, timeouts, graceful shutdown, metrics and job-id logs."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.logging import JobIdFilter, JsonFormatter, current_job
from app.jobs.store import JobStore
from app.main import create_app
from app.models.registry import ModelRegistry
from tests.support.images import FAST_MODEL, png_bytes, skimage_rgb
from tests.support.media import carphone_path
from tests.support.server import Server

PASSWD = Path("/etc/passwd").read_bytes()[:40]


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height but carries one tiny IDAT: the classic pixel flood."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture()
def live(settings: Settings, tmp_path: Path) -> Iterator[Server]:
    server = Server(settings, tmp_path / "data")
    server.env.update({"ENHANCE_MAX_UPLOAD_BYTES": "200000", "ENHANCE_MAX_JOB_UPLOAD_BYTES": str(2 * 1024**3)})
    try:
        yield server
    finally:
        server.kill()


def _rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def test_declared_oversize_is_refused_before_the_body_is_read(live: Server) -> None:
    live.start()
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/images/enhance HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 5000000000\r\n\r\n--b\r\n"
        )
        reply = b""
        while chunk := sock.recv(65536):  # headers and body may come in separate segments; the server closes
            reply += chunk
    text = reply.decode()
    assert text.startswith("HTTP/1.1 413")
    assert "application/problem+json" in text and "payload-too-large" in text


@pytest.mark.slow
def test_chunked_upload_is_cut_off_and_a_gigabyte_does_not_grow_memory(live: Server) -> None:
    live.start()
    pid = live.process.pid  # type: ignore[union-attr]

    def chunks(total: int, size: int = 1 << 20) -> Iterator[bytes]:
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n\r\n'
        yield head
        block = os.urandom(size)
        for _ in range(total // size):
            yield block
        yield b"\r\n--b--\r\n"

    headers = {"Content-Type": "multipart/form-data; boundary=b"}  # a generator body goes out chunked
    small = httpx.post(f"{live.url}/v1/images/enhance", content=chunks(4 << 20), headers=headers, timeout=60)
    assert small.status_code == 413 and small.json()["type"].endswith("payload-too-large"), small.text

    baseline = _rss_kib(pid, "VmRSS")
    started = time.monotonic()
    big = httpx.post(f"{live.url}/v1/jobs", content=chunks(1 << 30), headers=headers, timeout=300)
    assert 400 <= big.status_code < 500, big.text  # random bytes: refused after the upload, as not a video
    growth_mb = (_rss_kib(pid, "VmHWM") - baseline) / 1024
    assert growth_mb < 100, f"RSS grew by {growth_mb:.0f} MB for a 1 GiB upload"
    assert httpx.get(f"{live.url}/healthz").status_code == 200
    uploads = Path(live.env["ENHANCE_DATA_DIR"]) / "jobs" / ".uploads"
    assert uploads.is_dir()  # the 1 GiB body was spooled there (so the check below means something)...
    assert list(uploads.iterdir()) == []  # ...and removed once it was refused
    assert time.monotonic() - started < 240


def test_pixel_flood_is_refused_fast(client: TestClient) -> None:
    started = time.perf_counter()
    response = client.post("/v1/images/enhance", files={"file": ("flood.png", _png_header(225_000, 225_000))})
    assert response.status_code in {413, 422}
    assert time.perf_counter() - started < 1.0
    assert client.post("/v1/images/enhance", files={"file": ("wide.png", _png_header(20_000, 10))}).status_code == 413


@pytest.mark.parametrize(
    "playlist",
    [
        b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
        b"ffconcat version 1.0\nfile '/etc/passwd'\n",
    ],
    ids=["hls", "concat"],
)
def test_playlists_posing_as_videos_are_refused(client: TestClient, settings: Settings, playlist: bytes) -> None:
    response = client.post("/v1/jobs", files={"file": ("clip.mp4", playlist)}, data={"outputs": "frames,video"})
    assert 400 <= response.status_code < 500
    assert PASSWD not in response.content
    for path in settings.data_dir.rglob("*"):
        if path.is_file() and path.suffix != ".db" and not path.name.endswith(("-wal", "-shm")):
            assert PASSWD not in path.read_bytes(), path


@pytest.fixture()
def keyed(settings: Settings, registry: ModelRegistry, tmp_path: Path) -> Iterator[TestClient]:
    secured = settings.model_copy(update={"api_keys": ["alpha-key", "beta-key"], "data_dir": tmp_path / "keyed"})
    with TestClient(create_app(secured, registry)) as client:
        yield client


def test_api_keys_authenticate_and_scope_jobs(keyed: TestClient) -> None:
    data = png_bytes(skimage_rgb("coffee", 16))
    files = {"file": ("a.png", data)}
    missing = keyed.get("/v1/models")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert keyed.get("/v1/models", headers={"X-API-Key": "wrong"}).json()["type"].endswith("unauthorized")
    assert keyed.get("/v1/models", headers={"Authorization": "Bearer beta-key"}).status_code == 200
    assert keyed.get("/healthz").status_code == 200  # probes stay open
    alpha, beta = {"X-API-Key": "alpha-key"}, {"X-API-Key": "beta-key"}
    assert keyed.post("/v1/jobs", files=files, data={"model": FAST_MODEL}).status_code == 401
    job_id = keyed.post("/v1/jobs", files=files, data={"model": FAST_MODEL}, headers=alpha).json()["id"]
    assert keyed.get(f"/v1/jobs/{job_id}", headers=alpha).status_code == 200
    assert keyed.get(f"/v1/jobs/{job_id}", headers=beta).status_code == 404
    assert keyed.post(f"/v1/jobs/{job_id}/cancel", headers=beta).status_code == 404
    assert job_id in {j["id"] for j in keyed.get("/v1/jobs", headers=alpha).json()["data"]}
    assert job_id not in {j["id"] for j in keyed.get("/v1/jobs", headers=beta).json()["data"]}
    # another key's job is no paging cursor either
    assert keyed.get("/v1/jobs", params={"cursor": job_id}, headers=beta).status_code == 400


def test_cors_is_closed_by_default_and_configurable(
    client: TestClient, settings: Settings, registry: ModelRegistry
) -> None:
    preflight = {"Origin": "https://photos.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/v1/images/enhance", headers=preflight).headers
    opened = settings.model_copy(update={"cors_origins": ["https://photos.example"]})
    with TestClient(create_app(opened, registry)) as open_client:
        response = open_client.options("/v1/images/enhance", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://photos.example"


def test_disk_quota_gives_507(settings: Settings, registry: ModelRegistry, tmp_path: Path) -> None:
    full = settings.model_copy(update={"max_data_bytes": 0, "data_dir": tmp_path / "full"})
    with TestClient(create_app(full, registry)) as client:
        client.post(
            "/v1/jobs", files={"file": ("a.png", png_bytes(skimage_rgb("coffee", 16)))}, data={"model": FAST_MODEL}
        )  # the first job's files fill the (zero) quota
        response = client.post("/v1/jobs", files={"file": ("b.png", png_bytes(skimage_rgb("coffee", 16)))})
        assert response.status_code == 507
        assert response.headers["content-type"] == "application/problem+json"


def test_per_job_timeout(settings: Settings, registry: ModelRegistry, tmp_path: Path) -> None:
    strict = settings.model_copy(update={"job_timeout_seconds": 1, "data_dir": tmp_path / "strict"})
    with TestClient(create_app(strict, registry)) as client:
        job_id = client.post(
            "/v1/jobs",
            files={"file": ("c.mp4", carphone_path().read_bytes())},
            data={"model": FAST_MODEL, "outputs": "frames"},
        ).json()["id"]
        deadline = time.monotonic() + 60
        while (job := client.get(f"/v1/jobs/{job_id}").json())["status"] in {"queued", "running"}:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert job["status"] == "failed" and "timed out" in job["error"]


@pytest.mark.slow
def test_sigterm_finishes_the_frame_persists_and_exits(live: Server, tmp_path: Path) -> None:
    live.start()
    job_id = httpx.post(
        f"{live.url}/v1/jobs",
        files={"file": ("c.mp4", carphone_path().read_bytes())},
        data={"model": FAST_MODEL, "outputs": "frames"},
        timeout=30,
    ).json()["id"]
    while httpx.get(f"{live.url}/v1/jobs/{job_id}").json()["progress"]["done"] < 3:
        time.sleep(0.05)
    live.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status still says why it stopped
    assert live.process.wait(30) in {0, -signal.SIGTERM}  # type: ignore[union-attr]
    store = JobStore(f"sqlite:///{Path(live.env['ENHANCE_DATA_DIR']) / 'enhance.db'}")
    job = store.get(job_id)
    assert job is not None and job.status.value == "queued"  # handed back, not stuck in running
    frames = store.frames(job_id)
    assert 3 <= len(frames) < 120
    enhanced = Path(live.env["ENHANCE_DATA_DIR"]) / "jobs" / job_id / "work" / "enhanced"
    # Every recorded frame's PNG is there, and only those (each has its small thumbnail beside it).
    assert {p.name for p in enhanced.glob("frame_*.png")} == {f"frame_{f.index:06d}.png" for f in frames}
    store.engine.dispose()


def test_metrics(client: TestClient) -> None:
    client.post(
        "/v1/images/enhance",
        params={"model": FAST_MODEL},
        files={"file": ("a.png", png_bytes(skimage_rgb("coffee", 16)))},
    )
    job = client.post(
        "/v1/jobs", files={"file": ("b.png", png_bytes(skimage_rgb("chelsea", 16)))}, data={"model": FAST_MODEL}
    ).json()
    deadline = time.monotonic() + 60
    while client.get(f"/v1/jobs/{job['id']}").json()["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    from prometheus_client.parser import text_string_to_metric_families

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for s in family.samples
    }

    def value(name: str, **labels: str) -> float:
        """The sample's value; a metric that is only declared (no sample) fails here."""
        return samples[(name, tuple(sorted(labels.items())))]

    enhance = {"method": "POST", "route": "/v1/images/enhance"}
    assert value("enhance_http_requests_total", **enhance, status="200") >= 1
    assert value("enhance_http_request_seconds_count", **enhance) >= 1
    assert value("enhance_stage_seconds_count", stage="image_restore") >= 1
    assert value("enhance_frames_processed_total", model=FAST_MODEL) >= 1
    assert value("enhance_jobs", status="succeeded") >= 1
    assert value("enhance_queue_depth") >= 0
    assert {name for name, _ in samples} >= {"enhance_model_load_seconds_count"}


def test_logs_carry_the_job_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(JobIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.jobs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    token = current_job.set("1f3c5d4e-0000-4000-8000-000000000000")
    try:
        logger.info("frame %d done", 7)
    finally:
        current_job.reset(token)
        logger.removeHandler(handler)
    record = json.loads(stream.getvalue())
    assert record["job_id"] == "1f3c5d4e-0000-4000-8000-000000000000" and record["message"] == "frame 7 done"


def test_weights_never_execute(tmp_path: Path) -> None:
    """Covered in depth by tests/test_registry.py; here the end-to-end promise: a poisoned pickle in weights/ is
    refused through the API and nothing it asked for happens."""
    import pickle
    from dataclasses import replace

    from app.core.files import sha256_file
    from app.models.catalog import Catalog
    from tests.support.images import CATALOG

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"params": Payload()}))
    base = Catalog.load(CATALOG)
    catalog = Catalog(
        (*base.entries, replace(base.get(FAST_MODEL), id="evil", file="evil.pth", sha256=sha256_file(evil)))
    )
    settings = Settings(
        weights_dir=tmp_path, catalog_path=CATALOG, device="cpu", data_dir=tmp_path / "d", _env_file=None
    )  # type: ignore[call-arg]
    with TestClient(create_app(settings, ModelRegistry(settings, catalog))) as client:
        response = client.post(
            "/v1/images/enhance",
            params={"model": "evil"},
            files={"file": ("a.png", png_bytes(np.zeros((8, 8, 3), np.uint8)))},
        )
    assert response.status_code == 422 and response.json()["type"].endswith("unsupported-weights")
    assert not marker.exists()


def test_a_nearly_full_disk_refuses_new_jobs_with_507(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=10 * 1024**2))
    response = client.post(
        "/v1/jobs", files={"file": ("a.png", png_bytes(skimage_rgb("coffee", 16)))}, data={"model": FAST_MODEL}
    )
    assert response.status_code == 507 and response.json()["type"].endswith("insufficient-storage")
    assert "10,485,760 bytes free" in response.json()["detail"]


def test_running_out_of_disk_is_a_typed_problem_not_an_internal_error(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while a job is stored is a 507 problem; while a job runs, a failure that says the disk is full."""
    import errno
    import shutil

    import app.jobs.pipeline as pipeline

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    data = png_bytes(skimage_rgb("coffee", 16))
    with monkeypatch.context() as patch:
        patch.setattr(shutil, "move", full)  # storing the spooled upload in the job's folder
        stored = client.post("/v1/jobs", files={"file": ("a.png", data)}, data={"model": FAST_MODEL})
    assert stored.status_code == 507 and stored.json()["detail"] == "no space left on the disk"
    monkeypatch.setattr(pipeline, "write_atomic", full)
    job = client.post("/v1/jobs", files={"file": ("b.png", data)}, data={"model": FAST_MODEL}).json()
    deadline = time.monotonic() + 60
    while (state := client.get(f"/v1/jobs/{job['id']}").json())["status"] not in {"failed", "succeeded"}:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert state["status"] == "failed" and "disk is full" in state["error"]


@pytest.mark.slow
def test_an_image_request_whose_client_leaves_stops_and_frees_the_device(settings: Settings, tmp_path: Path) -> None:
    """The client gives up after 1.5 s on an image that takes many model calls: the server stops at the next call
    (it went on for the whole image, holding the device) and serves the next request at once."""
    server = Server(settings, tmp_path / "data")
    server.log = tmp_path / "server.log"
    server.start()
    try:
        big = png_bytes(skimage_rgb("astronaut", 1100))  # several 500-px tiles for animevideov3 on this CPU budget
        with pytest.raises(httpx.TimeoutException):
            httpx.post(
                f"{server.url}/v1/images/enhance",
                params={"model": FAST_MODEL},
                files={"file": ("big.png", big)},
                timeout=1.5,
            )
        deadline = time.monotonic() + 20
        while "client closed the connection; stopped after" not in server.log.read_text():
            assert time.monotonic() < deadline, server.log.read_text()[-2000:]
            time.sleep(0.1)
        line = next(x for x in server.log.read_text().splitlines() if "stopped after" in x)
        assert "req -]" not in line  # the image thread's log line carries the request's id
        done, total = (int(n) for n in line.split("stopped after ")[1].split(" model calls")[0].split(" of "))
        assert done < total  # it did not finish the image
        small = httpx.post(
            f"{server.url}/v1/images/enhance",
            params={"model": FAST_MODEL},
            files={"file": ("s.png", png_bytes(skimage_rgb("coffee", 32)))},
            timeout=30,
        )
        assert small.status_code == 200
    finally:
        server.kill()


def test_signed_artifact_links_open_without_a_key_only_as_signed(
    keyed: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = keyed.post(
        "/v1/jobs",
        files={"file": ("a.png", png_bytes(skimage_rgb("coffee", 32)))},
        data={"model": FAST_MODEL},
        headers={"X-API-Key": "alpha-key"},
    ).json()
    job = _wait_keyed(keyed, created["id"], "alpha-key")
    report = next(a for a in job["artifacts"] if a["name"] == "report.json")
    assert report["signed_url"].startswith(report["url"] + "?expires=")
    assert keyed.get(report["url"]).status_code == 401  # the plain URL still needs the key
    opened = keyed.get(report["signed_url"])  # no key: a new tab, a download link
    assert opened.status_code == 200 and json.loads(opened.content)["job_id"] == job["id"]
    other = report["signed_url"].replace("/report.json?", "/comparison.gif?")
    assert keyed.get(other).status_code == 401  # one link opens one artifact
    tampered = report["signed_url"][:-4] + "0000"
    assert keyed.get(tampered).status_code == 401
    crafted = keyed.get(report["signed_url"][:-4] + "%C3%A9%C3%A9")  # non-ASCII: needs no key to send
    assert crafted.status_code == 401 and crafted.headers["content-type"] == "application/problem+json"
    monkeypatch.setattr(time, "time", lambda: 4_000_000_000.0)  # long after the link's expiry
    expired = keyed.get(report["signed_url"])
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def _wait_keyed(client: TestClient, job_id: str, key: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}", headers={"X-API-Key": key}).json()
        if job["status"] in {"succeeded", "failed"}:
            assert job["status"] == "succeeded", job
            return job
        time.sleep(0.2)
    raise AssertionError("job did not finish")
