"""The generated Python client (clients/python): current with the API, and working against a live server."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from app.core.config import Settings
from tests.support.images import FAST_MODEL, frame_count, png_bytes, skimage_rgb
from tests.support.media import carphone_path
from tests.support.server import Server

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "python"


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not {"__pycache__", ".ruff_cache"} & set(path.parts)
    }


def test_the_committed_client_matches_the_api(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "clients"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(ROOT / "clients"))
    generate(tmp_path / "python")
    fresh, committed = _tree(tmp_path / "python"), _tree(CLIENT)
    stale = sorted(name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name))
    assert not stale, f"clients/python is stale; run `make client` ({', '.join(stale[:8])})"


@pytest.fixture(scope="module")
def live(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = Server(settings, tmp_path_factory.mktemp("client"))
    server.env.update({"ENHANCE_API_KEYS": '["client-key"]', "ENHANCE_DEFAULT_MODEL": FAST_MODEL})
    server.start()
    sys.path.insert(0, str(CLIENT))
    try:
        yield server.url
    finally:
        sys.path.remove(str(CLIENT))
        server.kill()


@pytest.mark.slow
def test_the_client_enhances_an_image_and_runs_a_video_job(live: str) -> None:
    from enhance_client import AuthenticatedClient
    from enhance_client.api.images import enhance_image
    from enhance_client.api.jobs import create_job, get_artifact, get_job
    from enhance_client.api.models import list_models
    from enhance_client.models import (
        BodyCreateJob,
        BodyEnhanceImage,
        ImageFormat,
        JobPublic,
        JobStatus,
        Output,
        Problem,
        WeightState,
    )
    from enhance_client.types import File

    client = AuthenticatedClient(base_url=live, token="client-key", timeout=120)
    models = list_models.sync(client=client)
    assert not isinstance(models, Problem) and models is not None
    assert {m.id: m.weights for m in models.data}[FAST_MODEL] is WeightState.PRESENT

    photo = File(payload=io.BytesIO(png_bytes(skimage_rgb("chelsea", 48))), file_name="chelsea.png")
    result = enhance_image.sync_detailed(
        client=client, body=BodyEnhanceImage(file=photo), model=FAST_MODEL, format_=ImageFormat.WEBP
    )
    assert result.status_code == 200 and result.headers["x-enhance-model"] == FAST_MODEL
    assert Image.open(io.BytesIO(result.content)).size == (192, 192)

    wrong = AuthenticatedClient(base_url=live, token="wrong-key")
    refused = list_models.sync(client=wrong)
    assert isinstance(refused, Problem) and refused.status == 401

    clip = File(payload=carphone_path().open("rb"), file_name="carphone.mp4")
    body = BodyCreateJob(file=[clip], frames=[0, 5], model=FAST_MODEL, outputs=[Output.FRAMES, Output.GIF])
    job = create_job.sync(client=client, body=body, idempotency_key="client-test")
    assert isinstance(job, JobPublic) and job.status is JobStatus.QUEUED
    deadline = time.monotonic() + 240
    while job.status not in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}:
        assert time.monotonic() < deadline, "the job did not finish in time"
        time.sleep(0.5)
        polled = get_job.sync(job.id, client=client)
        assert isinstance(polled, JobPublic)
        job = polled
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.options.frames == [0, 5] and job.progress.done == 2
    gif = get_artifact.sync(job.id, "comparison.gif", client=client)
    assert gif is not None and not isinstance(gif, Problem)
    animation = Image.open(io.BytesIO(gif.payload.read()))
    assert animation.format == "GIF" and frame_count(animation) == 2
