"""Cost before work (#26): a job carries its estimate (frames x one frame's time on this device: the upscaler's,
from its own calls or the catalogue's CPU prior before it has run, the interpolation's once it has run, and a fixed
cost per frame), an album too (each photo at its size), and a server limit refuses jobs over it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.api.docs_text import PROBLEMS
from app.core.config import Settings
from app.domain import Picture
from app.inference.device import Device, call_pixels
from app.inference.enhance import EnhanceOptions, Plan, plan
from app.inference.restore import upscale_picture
from app.jobs.estimate import EstimateOverLimit, check_estimate, estimate_album, estimate_job, overhead_seconds
from app.jobs.models import JobEstimate
from app.models.registry import ModelRegistry
from tests.support.images import FAST_MODEL, area_resize, png_bytes, skimage_rgb
from tests.support.jobs import JOBS, submit, wait
from tests.support.media import carphone_path
from tests.support.models import INLINE


def _job_ids(client: TestClient) -> list[str]:
    return [job["id"] for job in client.get(JOBS, params={"limit": 200}).json()["data"]]


def _steps(device: Device, settings: Settings, model: str = FAST_MODEL) -> Plan:
    return plan(EnhanceOptions(model=model), device, settings)


def _album(client: TestClient, **form: Any) -> Any:
    """Three real photos of three sizes: astronaut 96x96, coffee 160x107, camera 64x64."""
    photos = [
        ("astronaut.png", png_bytes(skimage_rgb("astronaut", 96))),
        ("coffee.png", png_bytes(area_resize(skimage_rgb("coffee"), 160, 107))),
        ("camera.png", png_bytes(skimage_rgb("camera", 64))),
    ]
    files = [("file", photo) for photo in photos]
    return client.post(JOBS, files=files, data={"model": FAST_MODEL, "keep": "all", "duplicates": "keep", **form})


def test_a_video_job_says_what_it_will_cost(client: TestClient) -> None:
    response = submit(client, carphone_path().read_bytes(), "carphone.mp4", frames="0,30,60", outputs="frames")
    assert response.status_code == 202, response.text
    estimate: dict[str, Any] = response.json()["estimate"]
    assert (estimate["frames"], estimate["width"], estimate["height"]) == (3, 176, 144)  # carphone is QCIF
    assert estimate["model"] == FAST_MODEL and estimate["source"] in {"measured", "catalogue"}
    assert estimate["seconds_per_frame"] > 0
    assert estimate["seconds"] == pytest.approx(3 * estimate["seconds_per_frame"])
    assert estimate["counted"] == ["upscale", "frame"]
    assert client.get(f"{JOBS}/{response.json()['id']}").json()["estimate"] == estimate  # kept with the job


def test_every_n_and_select_best_count_the_frames_that_will_run(client: TestClient) -> None:
    every = submit(client, carphone_path().read_bytes(), "c.mp4", every_n=10, outputs="frames").json()
    declared = every["estimate"]["frames"]
    assert declared == 120 // 10  # carphone declares 120 frames: 0, 10, ..., 110
    best = submit(client, carphone_path().read_bytes(), "c.mp4", select_best=2, outputs="frames").json()
    assert best["estimate"]["frames"] == 2
    photo = submit(client, png_bytes(skimage_rgb("astronaut", 96)), "a.png").json()
    assert (photo["estimate"]["frames"], photo["estimate"]["width"]) == (1, 96)


def test_the_documented_refusal_is_the_one_the_service_gives() -> None:
    """The 422 example in the OpenAPI document is what `check_estimate` says for the same numbers, word for word."""
    documented = next(detail for kind, _, detail in PROBLEMS[422] if kind == "estimate-over-limit")
    estimate = JobEstimate(1800, 640, 360, "realesr-animevideov3-x4", 0.37, "measured", ("upscale", "frame"))
    with pytest.raises(EstimateOverLimit) as refused:
        check_estimate(estimate, 600)
    assert str(refused.value) == documented


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
    steps = _steps(device, settings)
    overhead = overhead_seconds(640, 360, steps.scale)
    assert overhead > 0  # every frame costs something besides the model: small frames are mostly that
    before = estimate_job(device, steps, 10, 640, 360)
    assert before.source == "catalogue" and before.counted == ("upscale", "frame")
    assert before.seconds == pytest.approx(10 * (prior * 640 * 360 / 1e6 + overhead))

    model = device.model(FAST_MODEL)
    photo = Picture(skimage_rgb("astronaut", 160).astype(np.float32) / 255.0, None, 8)
    upscale_picture(photo, model)  # real calls teach the model's rate
    fitted = model.loaded.rate.fit()
    assert fitted is not None
    after = estimate_job(device, steps, 10, 640, 360)
    assert after.source == "measured"
    fixed, per_pixel = fitted
    per_call = call_pixels(model.loaded, device.pacing.seconds()) or 640 * 360
    expected = math.ceil(640 * 360 / per_call) * fixed + per_pixel * 640 * 360 + overhead
    assert after.seconds_per_frame == pytest.approx(expected)
    assert after.seconds == pytest.approx(10 * expected)


def test_no_prior_and_no_calls_is_unknown_and_never_refused(settings: Settings) -> None:
    device = Device(ModelRegistry(settings), INLINE)
    unmeasured = next(e.id for e in device.catalog.by_task("upscale") if e.cpu_seconds_per_mp is None)
    estimate = estimate_job(device, _steps(device, settings, unmeasured), 100, 640, 360)
    assert (estimate.source, estimate.seconds) == ("unknown", None)


def test_interpolation_is_counted_once_its_model_has_run(settings: Settings) -> None:
    """The frames made between two cost the interpolation model's time at the enhanced size, known from its calls."""
    device = Device(ModelRegistry(settings), INLINE)
    steps = plan(EnhanceOptions(model=FAST_MODEL), device, settings)
    alone = estimate_job(device, steps, 10, 176, 144, interpolate=2)
    assert alone.counted == ("upscale", "frame")  # RIFE has not run here: no speed to count
    rife = device.model("rife").loaded
    rife.rate.record(100_000, 0.5)  # two calls of different sizes: 0.1 s a call plus 4 us a pixel
    rife.rate.record(200_000, 0.9)
    out = 176 * 4 * 144 * 4
    double = estimate_job(device, steps, 10, 176, 144, interpolate=2)
    quadruple = estimate_job(device, steps, 10, 176, 144, interpolate=4)
    assert double.counted == ("upscale", "interpolate", "frame")
    per_call = call_pixels(rife, device.pacing.seconds()) or out
    made = math.ceil(out / per_call) * 0.1 + 4e-6 * out
    assert double.seconds_per_frame == pytest.approx(alone.seconds_per_frame + made, rel=1e-6)  # type: ignore[operator]
    assert quadruple.seconds_per_frame == pytest.approx(alone.seconds_per_frame + 3 * made, rel=1e-6)  # type: ignore[operator]


def test_an_album_counts_each_photo_at_its_size(settings: Settings) -> None:
    device = Device(ModelRegistry(settings), INLINE)
    steps = _steps(device, settings)
    sizes = [(96, 96), (160, 107), (64, 64)]
    album = estimate_album(device, steps, sizes)
    each = [estimate_job(device, steps, 1, w, h).seconds for w, h in sizes]
    assert (album.frames, album.width, album.height) == (3, 160, 107)  # the largest photo's size
    assert album.seconds == pytest.approx(sum(each))  # type: ignore[arg-type]
    best = estimate_album(device, steps, sizes, best=2)  # keep=best, select_best=2: the two largest, at most
    assert best.frames == 2 and best.seconds == pytest.approx(each[0] + each[1])  # type: ignore[operator]


def test_an_album_job_says_what_it_will_cost(client: TestClient) -> None:
    response = _album(client)
    assert response.status_code == 202, response.text
    estimate: dict[str, Any] = response.json()["estimate"]
    assert (estimate["frames"], estimate["width"], estimate["height"]) == (3, 160, 107)
    assert estimate["model"] == FAST_MODEL and estimate["source"] in {"measured", "catalogue"}
    assert estimate["counted"] == ["upscale", "frame"]
    assert estimate["seconds"] == pytest.approx(3 * estimate["seconds_per_frame"])
    job = wait(client, response.json()["id"])
    assert job["estimate"] == estimate  # kept with the job to its end
    best = _album(client, keep="best", select_best=1).json()["estimate"]
    assert (best["frames"], best["width"]) == (1, 160)


def test_an_album_over_the_limit_is_refused_and_nothing_is_queued(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _job_ids(client)
    monkeypatch.setattr(settings, "max_job_estimate_seconds", 0.001)
    response = _album(client)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/estimate-over-limit")
    assert problem["detail"].startswith("estimate: 3 photos x ") and "up to 160x107" in problem["detail"]
    assert "ENHANCE_MAX_JOB_ESTIMATE_SECONDS" in problem["detail"] and "fewer or smaller photos" in problem["detail"]
    assert _job_ids(client) == before
