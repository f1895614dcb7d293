"""Job webhooks (#19) against a real local receiver: signed events, retries after 500s, delivery after a restart,
and the SSRF rules (loopback refused unless allowed, checked again at connect time)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.errors import WebhookRefused
from app.jobs.webhooks import deliver, vet_addresses
from app.main import create_app
from app.models.registry import ModelRegistry
from tests.support.images import png_bytes, skimage_rgb
from tests.support.jobs import submit, wait
from tests.support.webhooks import SECRET, Receiver, verify


def _settings(settings: Settings, data: Path, **extra: Any) -> Settings:
    values = {"data_dir": data, "webhook_secret": SECRET, "webhook_allow": ["127.0.0.1"], "webhook_retry_seconds": 0.2}
    return settings.model_copy(update=values | extra)


def _until(condition: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _job_with_hook(client: TestClient, url: str) -> dict[str, Any]:
    response = submit(client, png_bytes(skimage_rgb("coffee", 32)), "coffee.png", callback_url=url)
    assert response.status_code == 202, response.text
    return wait(client, response.json()["id"])


def test_a_finished_job_posts_a_signed_event(
    settings: Settings, registry: ModelRegistry, tmp_path: Path, receiver: Receiver
) -> None:
    with TestClient(create_app(_settings(settings, tmp_path / "a"), registry)) as client:
        job = _job_with_hook(client, receiver.url)
        _until(lambda: client.get(f"/v1/jobs/{job['id']}").json()["webhook"]["status"] == "delivered")
        hook = client.get(f"/v1/jobs/{job['id']}").json()["webhook"]
    assert hook["attempts"] == 1 and hook["last_status_code"] == 200
    [(headers, body)] = receiver.received
    assert verify(headers, body, SECRET)
    assert not verify(headers, body.replace(b"succeeded", b"failed"), SECRET)  # a tampered body does not verify
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60 and headers["webhook-id"] == hook["event_id"]
    event = json.loads(body)
    assert event["type"] == "job.succeeded" and event["data"]["job_id"] == job["id"]
    assert event["data"]["seconds"] > 0 and event["data"]["frames"] == 1
    names = {a["name"] for a in event["data"]["artifacts"]}
    assert {"report.json", "frame_000000.png"} <= names


def test_deliveries_retry_with_backoff_after_500s(
    settings: Settings, registry: ModelRegistry, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.planned = [500, 500]
    with TestClient(create_app(_settings(settings, tmp_path / "b"), registry)) as client:
        job = _job_with_hook(client, receiver.url)
        _until(lambda: client.get(f"/v1/jobs/{job['id']}").json()["webhook"]["status"] == "delivered")
        hook = client.get(f"/v1/jobs/{job['id']}").json()["webhook"]
    assert hook["attempts"] == 3 and hook["last_status_code"] == 200 and hook["last_error"] is None
    assert len(receiver.received) == 3
    assert len({h["webhook-id"] for h, _ in receiver.received}) == 1  # one event: the receiver can drop repeats


def test_a_delivery_survives_a_restart(
    settings: Settings, registry: ModelRegistry, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.planned = [503] * 1000
    configured = _settings(settings, tmp_path / "c", webhook_retry_seconds=1.0)
    with TestClient(create_app(configured, registry)) as client:
        job = _job_with_hook(client, receiver.url)
        _until(lambda: client.get(f"/v1/jobs/{job['id']}").json()["webhook"]["status"] == "retrying")
    failed_attempts = len(receiver.received)
    receiver.planned = []  # the receiver is back; the API restarts
    with TestClient(create_app(configured, registry)) as client:
        _until(lambda: client.get(f"/v1/jobs/{job['id']}").json()["webhook"]["status"] == "delivered")
        hook = client.get(f"/v1/jobs/{job['id']}").json()["webhook"]
    assert failed_attempts >= 1 and hook["attempts"] == failed_attempts + 1
    assert verify(*receiver.received[-1], SECRET)


def test_loopback_and_private_callbacks_are_refused_unless_allowed(
    settings: Settings, registry: ModelRegistry, tmp_path: Path, receiver: Receiver
) -> None:
    strict = _settings(settings, tmp_path / "d", webhook_allow=[])
    with TestClient(create_app(strict, registry)) as client:
        for url in (receiver.url, "http://169.254.169.254/latest/meta-data", "http://10.1.2.3/x", "ftp://example.com/"):
            response = submit(client, png_bytes(skimage_rgb("coffee", 16)), "c.png", callback_url=url)
            assert response.status_code == 422, (url, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        assert "ENHANCE_WEBHOOK_ALLOW" in response.json()["detail"] or "http" in response.json()["detail"]
    unsigned = _settings(settings, tmp_path / "e", webhook_secret=None)
    with TestClient(create_app(unsigned, registry)) as client:
        response = submit(client, png_bytes(skimage_rgb("coffee", 16)), "c.png", callback_url=receiver.url)
        assert response.status_code == 422 and "ENHANCE_WEBHOOK_SECRET" in response.json()["detail"]
    assert receiver.received == []


def test_the_address_is_checked_again_when_connecting(receiver: Receiver) -> None:
    """A host that was allowed at submit and is not any more (or now resolves elsewhere) gets no request."""
    attempt = deliver(receiver.url, b"{}", {"Content-Type": "application/json"}, allow=[])
    assert not attempt.delivered and "ENHANCE_WEBHOOK_ALLOW" in (attempt.error or "")
    assert receiver.received == []
    assert deliver(receiver.url, b"{}", {}, allow=["127.0.0.0/8"]).delivered
    with pytest.raises(WebhookRefused):
        vet_addresses("http://localhost:9/x", allow=["10.0.0.0/8"])


@pytest.mark.parametrize(
    "url",
    [
        "http://[::127.0.0.1]/x",  # IPv4-compatible IPv6: loopback inside
        "http://[::ffff:127.0.0.1]/x",  # IPv4-mapped
        "http://[64:ff9b::7f00:1]/x",  # NAT64: a gateway would reach 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/x",  # NAT64 to the cloud metadata address
        "http://[2002:7f00:1::]/x",  # 6to4 around 127.0.0.1
        "http://[2002:a00:1::]/x",  # 6to4 around 10.0.0.1
        "http://224.0.0.1/x",  # multicast
        "http://[ff02::1]/x",  # IPv6 multicast
        "http://0.0.0.0/x",  # unspecified
    ],
)
def test_every_form_of_an_internal_address_is_refused(url: str) -> None:
    with pytest.raises(WebhookRefused, match="ENHANCE_WEBHOOK_ALLOW"):
        vet_addresses(url, allow=[])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com:99999/x", "port"),
        ("http://[::1/x", "not a valid URL"),
        ("http://example.com/a\r\nX-Injected: 1", "control character"),
        ("http://example.com/a\tb", "control character"),
    ],
)
def test_a_malformed_callback_url_is_refused_with_its_reason(url: str, reason: str) -> None:
    with pytest.raises(WebhookRefused, match=reason):
        vet_addresses(url, allow=[])


def test_malformed_callback_urls_get_a_422_problem_not_a_500(
    settings: Settings, registry: ModelRegistry, tmp_path: Path
) -> None:
    with TestClient(create_app(_settings(settings, tmp_path / "d", webhook_allow=[]), registry)) as client:
        for url in ("http://host:99999/", "http://[::1/", "http://example.com/\r\nHost: evil"):
            response = submit(client, png_bytes(skimage_rgb("coffee", 16)), "c.png", callback_url=url)
            assert response.status_code == 422, (url, response.status_code, response.text)
            assert response.headers["content-type"] == "application/problem+json"
