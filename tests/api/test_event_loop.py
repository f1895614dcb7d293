"""The event loop never blocks: while a store read or a disk operation is slow, /healthz still answers at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.jobs.models import JobStatus
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore
from app.main import create_app
from app.models.registry import ModelRegistry
from tests.support.images import FAST_MODEL, png_bytes, skimage_rgb


@pytest.fixture()
def client(
    settings: Settings, registry: ModelRegistry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    own = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("loop")})
    with TestClient(create_app(own, registry)) as client:
        yield client


def _health_answers_during(client: TestClient, monkeypatch: pytest.MonkeyPatch, owner: type, name: str,
                           call: Callable[[], object]) -> bool:  # fmt: skip
    """Make `owner.name` wait inside itself until /healthz has answered, run `call` (a request that reaches it),
    and say whether /healthz answered while it waited. On the event loop, the operation would hold /healthz
    back until its wait gave up: an order, not a timing, so a busy machine cannot fail it."""
    original = getattr(owner, name)
    entered, answered, seen = threading.Event(), threading.Event(), []

    def held(*args: object, **kwargs: object) -> object:
        entered.set()
        seen.append(answered.wait(30))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)
    request = threading.Thread(target=call)
    request.start()
    assert entered.wait(60), f"the request never reached {owner.__name__}.{name}"
    assert client.get("/healthz").status_code == 200
    answered.set()
    request.join(60)
    return seen[0]


@pytest.mark.parametrize(
    ("method", "path", "patch"),
    [
        ("GET", "/v1/jobs/{id}", (JobStore, "get")),
        ("GET", "/v1/jobs", (JobStore, "list_jobs")),
        ("GET", "/v1/jobs/{id}/artifacts", (JobStorage, "artifacts")),
        ("GET", "/v1/jobs/{id}/events", (JobStorage, "artifacts")),
        ("DELETE", "/v1/jobs/{id}", (JobStorage, "remove")),
        ("GET", "/metrics", (JobStore, "count_by_status")),
    ],
)
def test_healthz_answers_while_the_store_or_disk_is_slow(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, method: str, path: str, patch: tuple[type, str]
) -> None:
    services = client.app.state.api.services  # type: ignore[attr-defined]
    job, _ = services.store.create("image", "a.png", {"outputs": ["frames"]})
    services.store.claim(job.id, "w", 30.0)
    services.store.finish(job.id, "w", JobStatus.SUCCEEDED)  # finished with artifacts: served, listed, deletable
    services.storage.artifacts_dir(job.id).mkdir(parents=True)
    (services.storage.artifacts_dir(job.id) / "report.json").write_text("{}")
    services.storage.publish(job.id)
    url = path.format(id=job.id)
    assert _health_answers_during(client, monkeypatch, *patch, lambda: client.request(method, url))


def test_healthz_answers_while_a_submit_announces_its_job_to_a_slow_queue(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under Celery, announcing a job is a broker round trip: it must not hold the event loop either."""
    queue = client.app.state.api.queue  # type: ignore[attr-defined]
    photo = png_bytes(skimage_rgb("astronaut", 48))
    answers: list[int] = []

    def submit() -> None:
        answers.append(
            client.post("/v1/jobs", files={"file": ("a.png", photo)}, data={"model": FAST_MODEL}).status_code
        )

    assert _health_answers_during(client, monkeypatch, type(queue), "enqueue", submit)
    assert answers == [202]
