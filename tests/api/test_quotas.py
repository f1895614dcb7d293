"""Per-key quotas (#24): requests per window, device-seconds per day and active jobs, each answered with 429 and
the RateLimit headers; counters shared through Redis under scale-out."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.errors import QuotaExceeded
from app.core.quotas import Quotas
from app.main import create_app
from app.models.registry import ModelRegistry
from tests.support.images import FAST_MODEL, png_bytes, skimage_rgb
from tests.support.services import redis_url

KEYS = ["key-one", "key-two"]
IMAGE = png_bytes(skimage_rgb("astronaut", 32))


@contextmanager
def _app(settings: Settings, registry: ModelRegistry, tmp_path: Path, **quota: Any) -> Iterator[TestClient]:
    configured = settings.model_copy(update={"data_dir": tmp_path, "api_keys": KEYS, **quota})
    with TestClient(create_app(configured, registry)) as client:
        yield client


def _score(client: TestClient, key: str) -> Any:
    return client.post("/v1/images/score", files={"files": ("a.png", IMAGE)}, headers={"X-API-Key": key})


def test_requests_past_the_rate_limit_get_429_with_ratelimit_headers(
    settings: Settings, registry: ModelRegistry, tmp_path: Path
) -> None:
    with _app(settings, registry, tmp_path, rate_limit="2/minute") as client:
        first, second, third = (_score(client, KEYS[0]) for _ in range(3))
        other = _score(client, KEYS[1])
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert first.headers["RateLimit-Policy"] == '"requests";q=2;w=60'
    assert first.headers["RateLimit"].startswith('"requests";r=1;t=')
    assert second.headers["RateLimit"].startswith('"requests";r=0;t=')
    assert third.headers["content-type"] == "application/problem+json"
    assert third.json()["type"].endswith("/rate-limited")
    assert 1 <= int(third.headers["Retry-After"]) <= 60
    assert third.headers["RateLimit"].startswith('"requests";r=0;')
    assert other.status_code == 200  # another key has its own window


def test_device_seconds_are_charged_to_the_key_that_used_them(
    settings: Settings, registry: ModelRegistry, tmp_path: Path
) -> None:
    with _app(settings, registry, tmp_path, device_seconds_per_day=1) as client:
        enhance = {"files": {"file": ("a.png", IMAGE)}, "params": {"model": FAST_MODEL}}
        used = client.post("/v1/images/enhance", headers={"X-API-Key": KEYS[0]}, **enhance)
        spent = client.post("/v1/images/enhance", headers={"X-API-Key": KEYS[0]}, **enhance)
        fresh = client.post("/v1/images/enhance", headers={"X-API-Key": KEYS[1]}, **enhance)
    assert used.status_code == 200, used.text
    assert used.headers["RateLimit-Policy"] == '"device";q=1;w=86400'
    # Its model calls took a fraction of a second, charged as one whole device-second: the day's one is gone.
    assert spent.status_code == 429 and "device-seconds" in spent.json()["detail"]
    assert fresh.status_code == 200


def test_a_key_may_have_only_so_many_jobs_queued_or_running(
    settings: Settings, registry: ModelRegistry, tmp_path: Path
) -> None:
    with _app(settings, registry, tmp_path, max_active_jobs=1) as client:
        device = client.app.state.api.services.device  # type: ignore[attr-defined]
        gate, holding = threading.Event(), threading.Event()

        def hold() -> None:
            holding.set()
            gate.wait(120)

        blocker = threading.Thread(target=device.executor.run, args=(hold,))  # the first job cannot finish
        blocker.start()
        assert holding.wait(60)
        try:
            job = {"files": {"file": ("a.png", IMAGE)}, "data": {"model": FAST_MODEL, "outputs": "frames"}}
            first = client.post("/v1/jobs", headers={"X-API-Key": KEYS[0]}, **job)
            second = client.post("/v1/jobs", headers={"X-API-Key": KEYS[0]}, **job)
            other = client.post("/v1/jobs", headers={"X-API-Key": KEYS[1]}, **job)
        finally:
            gate.set()
            blocker.join(60)
    assert first.status_code == 202, first.text
    assert second.status_code == 429 and "queued or running" in second.json()["detail"]
    assert other.status_code == 202


def test_counters_are_shared_through_redis(settings: Settings) -> None:
    url = redis_url(db=12)
    configured = settings.model_copy(update={"rate_limit": "3/minute", "rate_limit_storage": url})
    api_a, api_b = Quotas(configured), Quotas(configured)  # two API processes
    key = f"owner-{uuid.uuid4().hex}"
    api_a.hit_request(key)
    api_b.hit_request(key)
    api_a.hit_request(key)
    try:
        api_b.hit_request(key)
    except QuotaExceeded as exc:
        assert exc.status == 429
    else:
        raise AssertionError("the fourth request in a minute, through the other process, was let through")
