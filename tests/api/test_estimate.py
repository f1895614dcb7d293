"""Cost before work (#26): a job carries its estimate (frames x the upscaler's time per frame on this device, from
its own calls or the catalogue's CPU prior before it has run), and a server limit refuses jobs over it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.domain import Picture
from app.inference.device import Device, call_pixels
from app.inference.restore import upscale_picture
from app.jobs.estimate import estimate_job
from app.models.registry import ModelRegistry
from tests.support.images import FAST_MODEL, png_bytes, skimage_rgb
from tests.support.jobs import JOBS, submit
from tests.support.media import carphone_path
from tests.support.models import INLINE


def _job_ids(client: TestClient) -> list[str]:
    return [job["id"] for job in client.get(JOBS, params={"limit": 200}).json()["data"]]


def test_a_video_job_says_what_it_will_cost(client: TestClient) -> None:
    response = submit(client, carphone_path().read_bytes(), "carphone.mp4", frames="0,30,60", outputs="frames")
    assert response.status_code == 202, response.text
    estimate: dict[str, Any] = response.json()["estimate"]
    assert (estimate["frames"], estimate["width"], estimate["height"]) == (3, 176, 144)  # carphone is QCIF
    assert estimate["model"] == FAST_MODEL and estimate["source"] in {"measured", "catalogue"}
    assert estimate["seconds_per_frame"] > 0
    assert estimate["seconds"] == pytest.approx(3 * estimate["seconds_per_frame"])
    assert client.get(f"{JOBS}/{response.json()['id']}").json()["estimate"] == estimate  # kept with the job


def test_every_n_and_select_best_count_the_frames_that_will_run(client: TestClient) -> None:
    every = submit(client, carphone_path().read_bytes(), "c.mp4", every_n=10, outputs="frames").json()
    declared = every["estimate"]["frames"]
    assert declared == 120 // 10  # carphone declares 120 frames: 0, 10, ..., 110
    best = submit(client, carphone_path().read_bytes(), "c.mp4", select_best=2, outputs="frames").json()
    assert best["estimate"]["frames"] == 2
    photo = submit(client, png_bytes(skimage_rgb("astronaut", 96)), "a.png").json()
    assert (photo["estimate"]["frames"], photo["estimate"]["width"]) == (1, 96)


def test_a_job_over_the_limit_is_refused_and_nothing_is_queued(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _job_ids(client)
    monkeypatch.setattr(settings, "max_job_estimate_seconds", 0.001)
    response = submit(client, carphone_path().read_bytes(), "c.mp4", frames="0,30,60", outputs="frames")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/estimate-over-limit") and problem["detail"].startswith("estimate:")
    assert "ENHANCE_MAX_JOB_ESTIMATE_SECONDS" in problem["detail"]
    assert _job_ids(client) == before
    monkeypatch.setattr(settings, "max_job_estimate_seconds", 1e6)  # well under it: accepted
    assert submit(client, carphone_path().read_bytes(), "c.mp4", frames="0", outputs="frames").status_code == 202


def test_the_catalogue_prior_until_the_model_has_run_then_its_own_calls(settings: Settings) -> None:
    device = Device(ModelRegistry(settings), INLINE)  # a fresh process: nothing has run yet
    prior = device.catalog.get(FAST_MODEL).cpu_seconds_per_mp
    assert prior is not None
    before = estimate_job(device, FAST_MODEL, 10, 640, 360)
    assert before.source == "catalogue"
    assert before.seconds == pytest.approx(10 * prior * 640 * 360 / 1e6)

    model = device.model(FAST_MODEL)
    photo = Picture(skimage_rgb("astronaut", 160).astype(np.float32) / 255.0, None, 8)
    upscale_picture(photo, model)  # real calls teach the model's rate
    fitted = model.loaded.rate.fit()
    assert fitted is not None
    after = estimate_job(device, FAST_MODEL, 10, 640, 360)
    assert after.source == "measured"
    fixed, per_pixel = fitted
    per_call = call_pixels(model.loaded, device.pacing.seconds()) or 640 * 360
    expected = math.ceil(640 * 360 / per_call) * fixed + per_pixel * 640 * 360
    assert after.seconds_per_frame == pytest.approx(expected)
    assert after.seconds == pytest.approx(10 * expected)


def test_no_prior_and_no_calls_is_unknown_and_never_refused(settings: Settings) -> None:
    device = Device(ModelRegistry(settings), INLINE)
    unmeasured = next(e.id for e in device.catalog.by_task("upscale") if e.cpu_seconds_per_mp is None)
    estimate = estimate_job(device, unmeasured, 100, 640, 360)
    assert (estimate.source, estimate.seconds) == ("unknown", None)
