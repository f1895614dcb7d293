"""The event loop never blocks: while a store read or a disk operation is slow, /healthz still answers at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore
from app.main import create_app
from app.models.registry import ModelRegistry

SLOW = 1.5


@pytest.fixture()
def client(
    settings: Settings, registry: ModelRegistry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    own = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("loop")})
    with TestClient(create_app(own, registry)) as client:
        yield client


def _slowly(original: Callable[..., object]) -> Callable[..., object]:
    def slow(*args: object, **kwargs: object) -> object:
        time.sleep(SLOW)
        return original(*args, **kwargs)

    return slow


def _health_latency_while(client: TestClient, method: str, path: str) -> float:
    """Start `method path` (which hits a slow operation), then time /healthz while it is in flight."""
    started = threading.Event()

    def request() -> None:
        started.set()
        client.request(method, path)

    slow_request = threading.Thread(target=request)
    slow_request.start()
    started.wait()
    time.sleep(0.3)  # the slow request is inside its slow operation by now
    begin = time.perf_counter()
    assert client.get("/healthz").status_code == 200
    latency = time.perf_counter() - begin
    slow_request.join(10)
    return latency


@pytest.mark.parametrize(
    ("method", "path", "patch"),
    [
        ("GET", "/v1/jobs/{id}", (JobStore, "get")),
        ("GET", "/v1/jobs", (JobStore, "list_jobs")),
        ("GET", "/v1/jobs/{id}/artifacts", (JobStorage, "artifacts")),
        ("DELETE", "/v1/jobs/{id}", (JobStorage, "remove")),
        ("GET", "/metrics", (JobStore, "count_by_status")),
    ],
)
def test_healthz_answers_within_100_ms_while_the_store_or_disk_is_slow(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, method: str, path: str, patch: tuple[type, str]
) -> None:
    store = client.app.state.api.services.store  # type: ignore[attr-defined]
    job, _ = store.create("image", "a.png", {"outputs": ["frames"]})
    store.request_cancel(job.id)  # finished, so it can be deleted
    owner, name = patch
    monkeypatch.setattr(owner, name, _slowly(getattr(owner, name)))
    assert _health_latency_while(client, method, path.format(id=job.id)) < 0.1
