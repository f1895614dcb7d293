"""Load shedding (#24): each route class admits a bounded number of requests; the next gets 503 + Retry-After at
once, with its body unread, instead of waiting in an unbounded queue."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from starlette.types import Receive, Scope, Send

from app.api.shedding import RouteClass, SheddingMiddleware, route_classes
from app.core.config import Settings
from app.main import create_app
from app.models.registry import ModelRegistry
from tests.support.images import png_bytes, skimage_rgb

ENHANCE = "/v1/images/enhance"


def _admitted(route: str) -> float:
    return REGISTRY.get_sample_value("enhance_requests_admitted", {"route": route}) or 0.0


def test_past_capacity_the_next_request_is_refused_before_its_body_is_read() -> None:
    asyncio.run(_past_capacity())


async def _past_capacity() -> None:
    release = threading.Event()
    bodies_read: list[str] = []

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        bodies_read.append(message.get("body", b"").decode())
        while not release.is_set():
            await asyncio.sleep(0.01)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    route = RouteClass("image", running=1, waiting=1)
    app = SheddingMiddleware(slow_app, lambda method, path: route if path == ENHANCE else None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        first = asyncio.create_task(client.post(ENHANCE, content=b"one"))
        second = asyncio.create_task(client.post(ENHANCE, content=b"two"))
        while route.admitted < 2:
            await asyncio.sleep(0.01)
        refused = await client.post(ENHANCE, content=b"three")
        other_path = asyncio.create_task(client.post("/v1/jobs/x/cancel", content=b"not limited"))
        release.set()
        answered = [await first, await second, await other_path]
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/overloaded")
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["connection"] == "close"
    assert "three" not in bodies_read  # refused unread
    assert [r.status_code for r in answered] == [200, 200, 200]
    assert route.admitted == 0  # every admitted request let go of its place


def test_retry_after_grows_with_the_queue_ahead() -> None:
    route = RouteClass("image", running=2, waiting=6, average_seconds=3.0)
    for _ in range(8):
        assert route.try_admit()
    assert not route.try_admit()
    assert route.retry_after() == 12  # 8 admitted, 2 at a time, 3 s each
    route.release(3.0)
    assert route.try_admit()


def test_a_burst_on_a_live_app_gets_answers_not_a_queue(
    settings: Settings, registry: ModelRegistry, tmp_path: Path
) -> None:
    """The device is held, so admitted requests cannot finish: the rest of the burst must still be answered, with
    503, while it is held; then the admitted ones finish with 200."""
    small = settings.model_copy(
        update={"data_dir": tmp_path, "image_concurrency": 1, "image_queue": 1, "default_model": "span-x4"}
    )
    burst = 6
    image = png_bytes(skimage_rgb("astronaut", 48))
    with TestClient(create_app(small, registry)) as client:
        device = client.app.state.api.services.device  # type: ignore[attr-defined]
        client.post(ENHANCE, files={"file": ("a.png", image)}).raise_for_status()  # the model is loaded
        gate, holding = threading.Event(), threading.Event()

        def hold() -> None:
            holding.set()
            gate.wait(120)

        blocker = threading.Thread(target=device.executor.run, args=(hold,))
        blocker.start()
        assert holding.wait(60)
        with ThreadPoolExecutor(burst) as pool:
            futures = [pool.submit(client.post, ENHANCE, files={"file": (f"{i}.png", image)}) for i in range(burst)]
            deadline = time.monotonic() + 120
            refused: list[Future[httpx.Response]] = []
            while len(refused) < burst - 2 and time.monotonic() < deadline:  # answered while the device is held
                refused = [f for f in futures if f.done()]
                time.sleep(0.05)
            assert len(refused) == burst - 2, "the requests over capacity were not answered while the device was held"
            assert all(f.result().status_code == 503 for f in refused)
            assert _admitted("image") == 2
            gate.set()
            statuses = sorted(f.result().status_code for f in futures)
        blocker.join(60)
    assert statuses == [200, 200] + [503] * (burst - 2)


@pytest.mark.parametrize(("method", "path", "route"), [("POST", ENHANCE, "image"), ("POST", "/v1/jobs", "submit")])
def test_route_classes_cover_the_upload_routes(method: str, path: str, route: str) -> None:
    class_for = route_classes(2, 4, 3)
    found = class_for(method, path)
    assert found is not None and found.name == route
    assert class_for("GET", path) is None and class_for("POST", "/healthz") is None


def test_server_timing_says_how_long_the_request_queued_for_the_device(client: TestClient) -> None:
    response = client.post(ENHANCE, files={"file": ("a.png", png_bytes(skimage_rgb("astronaut", 32)))})
    assert response.status_code == 200
    stages = dict(part.strip().split(";dur=") for part in response.headers["Server-Timing"].split(","))
    assert {"decode", "restore", "wait", "encode"} <= set(stages)
    assert 0 <= float(stages["wait"]) <= float(stages["restore"])  # the wait is part of restore
