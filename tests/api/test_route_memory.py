"""Memory admission on the routes that decode without restoring (#24 item 4): scoring, a job frame's thumbnail and
an album's photos estimate their peak from the header and reserve it before decoding (413 when it could never fit,
503 + Retry-After when busy), and a job frame's thumbnail is made once, small, when the frame is recorded."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageFile

from app.api.deps import ApiState
from app.core.config import Settings
from app.inference.admission import estimate_score_bytes
from app.inference.memory import MemoryBudget
from app.main import create_app
from app.models.registry import ModelRegistry
from tests.support.images import FAST_MODEL, png_bytes, psnr, skimage_rgb
from tests.support.jobs import JOBS, submit, wait

MiB = 1 << 20


def _flat_png(width: int, height: int) -> bytes:
    """A large header in a few KB: the astronaut's mean colour, flat."""
    colour = tuple(int(c) for c in skimage_rgb("astronaut").reshape(-1, 3).mean(axis=0))
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def _state(client: TestClient) -> ApiState:
    state = client.app.state.api  # type: ignore[attr-defined]
    assert isinstance(state, ApiState)
    return state


def _memory(client: TestClient) -> MemoryBudget:
    return _state(client).services.device.memory


@pytest.fixture()
def budget(settings: Settings, registry: ModelRegistry, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """A server with its own memory budget (and data folder); no request waits for memory."""
    clients: list[TestClient] = []

    def make(capacity: int) -> TestClient:
        tuned = settings.model_copy(
            update={
                "memory_budget_bytes": capacity,
                "memory_max_waiting": 0,
                "data_dir": tmp_path / f"data{len(clients)}",
            }
        )
        client = TestClient(create_app(tuned, registry))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _score(client: TestClient, *photos: bytes) -> Any:
    return client.post("/v1/images/score", files=[("files", (f"{n}.png", p)) for n, p in enumerate(photos)])


def test_scoring_a_huge_flat_png_that_could_never_fit_is_refused_with_413(
    budget: Callable[..., TestClient],
) -> None:
    """7000x7000 (49 MP) in a PNG of a few hundred KB: 1.3 GB once decoded and scored, over a 200 MiB budget."""
    client = budget(200 * MiB)
    photo = _flat_png(7000, 7000)
    assert len(photo) < 1 * MiB
    refused = _score(client, photo)
    assert refused.status_code == 413, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/too-large-for-memory")
    assert _memory(client).peak == 0  # refused before anything was reserved or decoded
    small = _score(client, png_bytes(skimage_rgb("coffee", 128)))
    assert small.status_code == 200 and small.json()["data"][0]["width"] == 128


def test_scoring_is_admitted_and_counted_against_the_budget(budget: Callable[..., TestClient]) -> None:
    client = budget(4096 * MiB)
    memory = _memory(client)
    photo = _flat_png(2000, 1500)
    answer = _score(client, photo, png_bytes(skimage_rgb("coffee", 128)))
    assert answer.status_code == 200, answer.text
    assert [(d["width"], d["height"]) for d in answer.json()["data"]] == [(2000, 1500), (128, 128)]
    assert memory.peak == estimate_score_bytes(2000, 1500, 3)  # one at a time: the larger one's reservation
    assert memory.in_use == 0


def test_scoring_while_the_memory_is_taken_is_503_with_retry_after(budget: Callable[..., TestClient]) -> None:
    client = budget(512 * MiB)
    memory = _memory(client)
    with memory.reserve(500 * MiB, "another request"):
        busy = _score(client, _flat_png(2000, 1500))
    assert busy.status_code == 503, busy.text
    assert busy.headers["retry-after"].isdigit()
    assert busy.json()["type"].endswith("/memory-busy")
    assert _score(client, _flat_png(2000, 1500)).status_code == 200  # released: admitted now


class FullDecodes:
    """Counts pixel decodes (ImageFile.load) of one file: a thumbnail served from a stored small file decodes
    that file instead."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
        self.path, self.count = str(path), 0
        original = ImageFile.ImageFile.load

        def load(image: ImageFile.ImageFile) -> Any:
            if image.tile and getattr(image, "filename", None) == self.path:  # tiles left: pixels to decode
                self.count += 1
            return original(image)

        monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def _old_job(client: TestClient, frame: bytes) -> str:
    """A finished image job as one recorded before thumbnails were stored: a real job, its frame files replaced by
    `frame` and every other work file (a stored thumbnail) removed."""
    accepted = submit(client, png_bytes(skimage_rgb("coffee", 32)), "c.png")
    assert accepted.status_code == 202, accepted.text
    job = wait(client, accepted.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    storage = _state(client).services.storage
    frames = (storage.source_frame(job["id"], 0), storage.enhanced_frame(job["id"], 0))
    for path in (storage.job_dir(job["id"]) / "work").rglob("*"):
        if path.is_file() and path not in frames:
            path.unlink()
    for path in frames:
        path.write_bytes(frame)
    return str(job["id"])


def _thumbnail(client: TestClient, job_id: str, size: int, which: str = "enhanced") -> Any:
    return client.get(f"{JOBS}/{job_id}/frames/0/thumbnail", params={"size": size, "which": which})


def test_a_recorded_frame_keeps_a_small_thumbnail_that_the_route_serves(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = skimage_rgb("astronaut", 160)
    accepted = submit(client, png_bytes(photo), "a.png")
    assert accepted.status_code == 202, accepted.text
    job = wait(client, accepted.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    storage = _state(client).services.storage
    enhanced_path = storage.enhanced_frame(job["id"], 0)
    enhanced = np.asarray(Image.open(enhanced_path).convert("RGB"))
    decodes = FullDecodes(monkeypatch, enhanced_path)
    for size in (96, 512):
        answer = _thumbnail(client, job["id"], size)
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
        thumb = Image.open(io.BytesIO(answer.content))
        assert thumb.size == (size, size)  # 640x640 enhanced, square
        expected = Image.fromarray(enhanced).resize(thumb.size, Image.Resampling.LANCZOS)
        assert psnr(np.asarray(thumb.convert("RGB")) / 255, np.asarray(expected) / 255) > 28
    source = Image.open(io.BytesIO(_thumbnail(client, job["id"], 512, "source").content))
    assert source.size == (160, 160)  # never upscaled
    assert decodes.count == 0  # the full enhanced frame was never decoded for a thumbnail


def test_concurrent_thumbnails_of_an_old_large_frame_decode_it_once(
    budget: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job recorded before thumbnails were stored: sixteen parallel requests decode the frame once (under
    admission), keep its thumbnail, and serve every later request from it."""
    client = budget(2048 * MiB)
    job_id = _old_job(client, _flat_png(3000, 2000))
    decodes = FullDecodes(monkeypatch, _state(client).services.storage.enhanced_frame(job_id, 0))
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: _thumbnail(client, job_id, 32), range(16)))
    assert [a.status_code for a in answers] == [200] * 16, answers[0].text
    assert {Image.open(io.BytesIO(a.content)).size for a in answers} == {(32, 21)}
    assert decodes.count == 1
    assert _memory(client).peak > 0 and _memory(client).in_use == 0  # the one decode was admitted
    assert _thumbnail(client, job_id, 512).status_code == 200 and decodes.count == 1


def test_an_old_frame_too_large_for_the_budget_gets_413(budget: Callable[..., TestClient]) -> None:
    client = budget(64 * MiB)
    job_id = _old_job(client, _flat_png(3000, 2000))
    refused = _thumbnail(client, job_id, 32)
    assert refused.status_code == 413, refused.text
    assert refused.json()["type"].endswith("/too-large-for-memory")


def test_album_scoring_reserves_memory_per_photo(
    budget: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = budget(4096 * MiB)
    memory = _memory(client)
    reserved: list[tuple[int, str]] = []
    acquire = memory.acquire

    def spy(need: int, what: str, patient: bool = False) -> None:
        reserved.append((need, what))
        acquire(need, what, patient)

    monkeypatch.setattr(memory, "acquire", spy)
    photos = {"coffee.png": skimage_rgb("coffee", 96), "rocket.png": skimage_rgb("rocket", 128)}
    response = client.post(
        JOBS,
        files=[("file", (name, png_bytes(pixels))) for name, pixels in photos.items()],
        data={"model": FAST_MODEL, "keep": "all"},
    )
    assert response.status_code == 202, response.text
    assert wait(client, response.json()["id"])["status"] == "succeeded"
    scoring = [(need, what) for need, what in reserved if what.startswith("scoring")]
    assert [need for need, _ in scoring] == [estimate_score_bytes(96, 96, 3), estimate_score_bytes(128, 128, 3)]
    assert [what.split()[1] for _, what in scoring] == ["coffee.png", "rocket.png"]
    assert memory.in_use == 0
