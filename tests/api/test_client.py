"""The generated Python client (clients/python): current with the API, and working against a live server."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
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


README = ROOT / "clients" / "python-README.md"


def _readme_code() -> str:
    """The README's Python blocks, in order: each builds on the ones before it, as a reader runs them."""
    return "\n".join(re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S))


def test_the_package_carries_the_readme_and_the_hand_written_helpers() -> None:
    """The generator replaces clients/python whole; generate.py copies these two back in (the staleness test above
    regenerates, so a helper that did not survive regeneration fails there)."""
    assert (CLIENT / "README.md").read_bytes() == README.read_bytes()
    helpers = (ROOT / "clients" / "python-helpers.py").read_bytes()
    assert (CLIENT / "enhance_client" / "helpers.py").read_bytes() == helpers
    assert _readme_code().count("\n") > 20


@pytest.mark.slow
def test_the_readme_examples_run_as_written(live: str, tmp_path: Path) -> None:
    """Every Python block of the client's README, unchanged, against a live server: an image, a video job followed
    by wait_for_job to its comparison GIF, and a ProblemError."""
    Image.fromarray(skimage_rgb("chelsea", 64)).save(tmp_path / "photo.jpg", quality=92)
    shutil.copyfile(carphone_path(), tmp_path / "clip.mp4")
    (tmp_path / "readme.py").write_text(_readme_code())
    env = {**os.environ, "ENHANCE_URL": live, "ENHANCE_API_KEY": "client-key", "PYTHONPATH": str(CLIENT)}
    run = subprocess.run(
        [sys.executable, "readme.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert Image.open(tmp_path / "photo_x2.webp").size == (128, 128)
    animation = Image.open(tmp_path / "comparison.gif")
    assert animation.format == "GIF" and frame_count(animation) == 3
    lines = run.stdout.splitlines()
    assert lines[-2].startswith("succeeded 3 ")  # on_progress saw the finished job before wait_for_job returned it
    assert lines[-1].startswith("404 Unknown job ")  # the ProblemError example


class _Transport(httpx.BaseTransport):
    """The real connection to the live server, except for the job's event stream, which it can cut after its first
    event (a dropped connection), answer as a buffering proxy would (502 HTML), or refuse."""

    def __init__(self, events: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.events = events
        self.event_requests: list[httpx.Request] = []
        self.first_event_id: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/events"):
            return self.inner.handle_request(request)
        self.event_requests.append(request)
        if self.events == "refuse":
            raise httpx.ConnectError("connection refused", request=request)
        if self.events == "proxy":
            return httpx.Response(502, headers={"content-type": "text/html"}, content=b"<h1>Bad gateway</h1>")
        response = self.inner.handle_request(request)
        if self.events == "cut" and len(self.event_requests) == 1:
            assert isinstance(response.stream, httpx.SyncByteStream)
            return httpx.Response(
                response.status_code, headers=response.headers, stream=_CutAfterFirstEvent(response.stream, self)
            )
        return response

    def close(self) -> None:
        self.inner.close()


class _CutAfterFirstEvent(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, transport: _Transport) -> None:
        self.stream, self.transport = stream, transport

    def __iter__(self) -> Iterator[bytes]:
        received = b""
        for chunk in self.stream:
            received += chunk
            if b"\n\n" in received:
                first = received[: received.index(b"\n\n") + 2]
                found = re.search(rb"^id: ?(\S+)", first, flags=re.M)
                self.transport.first_event_id = found.group(1).decode() if found else None
                yield first
                raise httpx.ReadError("the connection dropped")
            yield chunk

    def close(self) -> None:
        self.stream.close()


def _submit(client: Any, key: str) -> str:
    from enhance_client.api.jobs import create_job
    from enhance_client.helpers import check
    from enhance_client.models import BodyCreateJob, Output
    from enhance_client.types import File

    clip = File(payload=carphone_path().open("rb"), file_name="carphone.mp4")
    body = BodyCreateJob(file=[clip], frames=[0, 5], model=FAST_MODEL, outputs=[Output.FRAMES])
    job_id: str = check(create_job.sync_detailed(client=client, body=body, idempotency_key=key)).id
    return job_id


@pytest.mark.slow
def test_wait_for_job_reopens_a_dropped_stream_after_its_last_event(live: str) -> None:
    from enhance_client import AuthenticatedClient
    from enhance_client.helpers import wait_for_job
    from enhance_client.models import JobStatus

    transport = _Transport("cut")
    client = AuthenticatedClient(base_url=live, token="client-key", httpx_args={"transport": transport})
    seen: list[JobStatus] = []
    job = wait_for_job(client, _submit(client, "wait-cut"), timeout=600, on_progress=lambda j: seen.append(j.status))
    assert job.status is JobStatus.SUCCEEDED and job.progress.done == 2
    first, again = transport.event_requests[:2]
    assert "last-event-id" not in first.headers
    assert transport.first_event_id and again.headers["last-event-id"] == transport.first_event_id
    assert seen and seen[0] in {JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED}


@pytest.mark.slow
@pytest.mark.parametrize("events", ["proxy", "refuse"])
def test_wait_for_job_polls_with_a_pause_when_the_stream_cannot_be_had(live: str, events: str) -> None:
    """A proxy's 502 page: polling at once; refused connections: two more tries (the default retry pause), then
    polling. Every request after the first waits poll_seconds: no busy loop."""
    from enhance_client import AuthenticatedClient
    from enhance_client.helpers import wait_for_job
    from enhance_client.models import JobStatus

    transport = _Transport(events)
    client = AuthenticatedClient(base_url=live, token="client-key", httpx_args={"transport": transport})
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        time.sleep(0.2)  # the server works meanwhile; the value asked for is what is checked

    job = wait_for_job(client, _submit(client, f"wait-{events}"), reconnects=2, poll_seconds=1.5, sleep=pause)
    assert job.status is JobStatus.SUCCEEDED
    tries = 1 if events == "proxy" else 3
    assert len(transport.event_requests) == tries
    assert pauses and set(pauses) == {1.5}  # no retry hint from a stream that never opened: poll_seconds


@pytest.mark.slow
def test_errors_raise_a_problem_error_with_the_problem_s_fields(live: str) -> None:
    from enhance_client import AuthenticatedClient
    from enhance_client.api.images import enhance_image
    from enhance_client.api.models import list_models
    from enhance_client.helpers import ProblemError, check, wait_for_job
    from enhance_client.models import BodyEnhanceImage
    from enhance_client.types import File

    with pytest.raises(ProblemError) as refused:
        check(list_models.sync_detailed(client=AuthenticatedClient(base_url=live, token="wrong-key")))
    assert refused.value.status == 401 and refused.value.request_id and refused.value.title
    assert refused.value.type and str(refused.value).startswith("401 ")

    client = AuthenticatedClient(base_url=live, token="client-key", timeout=120)
    photo = File(payload=io.BytesIO(png_bytes(skimage_rgb("chelsea", 48))), file_name="chelsea.png")
    with pytest.raises(ProblemError) as invalid:
        check(enhance_image.sync_detailed(client=client, body=BodyEnhanceImage(file=photo), scale=99))
    assert invalid.value.status == 422 and "scale" in str(invalid.value) + str(invalid.value.extra)

    with pytest.raises(ProblemError) as missing:
        wait_for_job(client, "no-such-job", timeout=60)
    assert missing.value.status == 404
