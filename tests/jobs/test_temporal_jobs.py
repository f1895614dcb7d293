"""Temporal models in video jobs (#27): a job naming BasicVSR restores its frames in windows over the sequence, as
one `restore_frames` call over the same decoded frames does; segments are fed their neighbours' frames, so they
join as one run; a scene cut restarts the sequence; images and albums are refused. Real frames: carphone (the man
talks, the car window behind him moves) and a shot of bikes, in 48 x 48 crops, encoded losslessly."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.core.config import Settings
from app.inference.device import Device
from app.inference.temporal import restore_frames, run_window, window_bytes
from app.jobs.models import JobStatus
from app.jobs.temporal_frames import fitting_core, scene_cuts
from app.media.encode import to_uint8
from app.media.video import iter_frames
from tests.jobs.test_segments import Jobs, _sized
from tests.support.images import FAST_MODEL, png_bytes, psnr
from tests.support.interpolation import carphone_frames
from tests.support.jobs import submit
from tests.support.media import bikes_path, clip_from_frames

MODEL = "basicvsr-vimeo-bi"


def phone(first: int, count: int) -> list[np.ndarray]:
    """`count` carphone frames from `first`, 48 x 48 around the man's face and the car window."""
    frames = carphone_frames(list(range(first, first + count)))
    return [np.ascontiguousarray(frames[i][40:88, 60:108]) for i in range(first, first + count)]


def street(count: int) -> list[np.ndarray]:
    """`count` frames of bikes' second shot (from frame 30), 48 x 48."""
    shot = itertools.islice(iter_frames(bikes_path(), 1000), 30, 30 + count)
    return [np.ascontiguousarray(f.rgb[100:148, 300:348]) for f in shot]


def decoded(clip: Path) -> list[np.ndarray]:
    return [f.rgb.astype(np.float32) / 255 for f in iter_frames(clip, 1000)]


def at_8_bits(frames: list[np.ndarray]) -> list[np.ndarray]:
    """As a job stores a frame: PNG, 8 bits."""
    return [to_uint8(f).astype(np.float32) / 255 for f in frames]


def run(jobs: Jobs, clip: Path) -> list[np.ndarray]:
    """The enhanced frames, in order, of a job over `clip` with the temporal model."""
    return enhanced(jobs, ran(jobs, clip))


def ran(jobs: Jobs, clip: Path) -> str:
    job_id = jobs.submit(clip, model=MODEL, outputs=["frames"])
    assert jobs.run(job_id, jobs.context("worker-a")) is JobStatus.SUCCEEDED
    return job_id


def report(jobs: Jobs, job_id: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((jobs.storage.artifacts_dir(job_id) / "report.json").read_text())
    return found


def enhanced(jobs: Jobs, job_id: str) -> list[np.ndarray]:
    return [jobs.enhanced(job_id, f.index) for f in jobs.store.frames(job_id)]


def test_a_video_jobs_frames_are_one_run_of_the_temporal_model(
    settings: Settings, device: Device, tmp_path: Path
) -> None:
    clip = clip_from_frames(tmp_path / "phone.mp4", phone(30, 10), crf=0)
    frames = decoded(clip)
    model = device.model(MODEL)
    one_call = at_8_bits(list(restore_frames(model, frames)))
    alone = at_8_bits([run_window(model, [f])[0] for f in frames])
    # The test tells the two apart: each frame restored alone is another picture.
    assert min(psnr(a, b) for a, b in zip(alone, one_call, strict=True)) < 45

    job = run(Jobs(_sized(settings, 0), device, tmp_path / "jobs"), clip)
    assert len(job) == 10 and job[0].shape == (192, 192, 3)
    assert min(psnr(a, b) for a, b in zip(job, one_call, strict=True)) >= 50


def test_a_segmented_temporal_job_joins_as_one_run(settings: Settings, device: Device, tmp_path: Path) -> None:
    clip = clip_from_frames(tmp_path / "phone.mp4", phone(30, 16), crf=0)
    one_call = at_8_bits(list(restore_frames(device.model(MODEL), decoded(clip))))
    whole = run(Jobs(_sized(settings, 0), device, tmp_path / "whole"), clip)
    parts = Jobs(_sized(settings, 6), device, tmp_path / "parts")
    split_job = ran(parts, clip)
    split = enhanced(parts, split_job)
    assert [(s.first_frame, s.last_frame) for s in parts.store.segments(split_job)] == [(0, 4), (5, 10), (11, 15)]
    assert min(psnr(a, b) for a, b in zip(whole, one_call, strict=True)) >= 50
    # Each segment read 3 frames of its neighbours on each side: temporal.py's bound for context 3 is 43 dB at worst
    # (measured here: 45.2 dB at worst, 51.5 dB median; without the neighbours' frames the first and last frames of
    # each segment lack half their context).
    assert min(psnr(a, b) for a, b in zip(split, whole, strict=True)) >= 43


def test_frames_after_a_scene_cut_do_not_depend_on_the_frames_before_it(
    settings: Settings, device: Device, tmp_path: Path
) -> None:
    shot = street(6)
    first = clip_from_frames(tmp_path / "a.mp4", phone(30, 6) + shot, crf=0)
    second = clip_from_frames(tmp_path / "b.mp4", phone(80, 6) + shot, crf=0)
    jobs = Jobs(_sized(settings, 0), device, tmp_path / "jobs")
    a, b = run(jobs, first), run(jobs, second)
    assert all(np.array_equal(x, y) for x, y in zip(a[6:], b[6:], strict=True))  # the shot after the cut: the same
    model = device.model(MODEL)
    frames = decoded(first)
    scenes = at_8_bits(list(restore_frames(model, frames[:6]))) + at_8_bits(list(restore_frames(model, frames[6:])))
    assert min(psnr(x, y) for x, y in zip(a, scenes, strict=True)) >= 50  # each scene a sequence of its own
    assert not np.array_equal(a[0], b[0])


def test_a_temporal_model_on_an_image_or_an_album_is_422_naming_model(client: TestClient) -> None:
    photo = png_bytes(phone(30, 1)[0])
    image = client.post("/v1/images/enhance", params={"model": MODEL}, files={"file": ("p.png", photo)})
    job = submit(client, photo, "p.png", model=MODEL)
    album = client.post(
        "/v1/jobs", files=[("file", ("a.png", photo)), ("file", ("b.png", photo))], data={"model": MODEL}
    )
    for response in (image, job, album):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert f"model={MODEL}" in response.text and "video" in response.text
    assert all(j["options"]["model"] != MODEL for j in client.get("/v1/jobs", params={"limit": 200}).json()["data"])


@pytest.mark.parametrize("model_id", ["basicvsr-vimeo-bi", "animesr-v2"])
def test_a_one_frame_clip_is_one_window(device: Device, model_id: str) -> None:
    (restored,) = list(restore_frames(device.model(model_id), [phone(30, 1)[0].astype(np.float32) / 255]))
    assert restored.shape == (192, 192, 3)


def test_the_guard_runs_before_every_model_call_and_stops_the_windows(device: Device) -> None:
    calls: list[int] = []

    def guard() -> None:  # a job's cancel, lost lease or shutdown, seen at the second model call
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("cancelled")

    frames = [f.astype(np.float32) / 255 for f in phone(30, 8)]
    made = []
    with pytest.raises(RuntimeError, match="cancelled"):
        for frame in restore_frames(device.model(MODEL), frames, core=3, context=1, before_call=guard):
            made.append(frame)
    assert len(made) == 3  # the first window's core came out; the second window's call never ran


def test_large_frames_get_shorter_windows_within_half_the_budget() -> None:
    frame = window_bytes(1, 720, 1280, 4)
    assert fitting_core(12, 3, frame, 64 * frame) == 12
    assert fitting_core(12, 3, frame, 20 * frame) == 4  # 10 frames in half the budget: 4 with 3 on each side
    assert fitting_core(12, 3, frame, 4 * frame) == 1  # never none


def test_the_cli_runs_a_temporal_model_on_a_video_and_refuses_it_on_an_image(
    settings: Settings, device: Device, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from app.cli import app
    from tests.support.images import CATALOG

    for name, value in {
        "ENHANCE_WEIGHTS_DIR": str(settings.weights_path),
        "ENHANCE_CATALOG_PATH": str(CATALOG),
        "ENHANCE_DEVICE": "cpu",
        "COLUMNS": "200",
    }.items():
        monkeypatch.setenv(name, value)
    clip = clip_from_frames(tmp_path / "phone.mp4", phone(30, 4), crf=0)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["video", str(clip), str(out), "--model", MODEL, "--outputs", "frames"])
    assert result.exit_code == 0, result.output
    made = [np.asarray(Image.open(out / f"frame_{i:06d}.png").convert("RGB"), np.float32) / 255 for i in range(4)]
    one_call = at_8_bits(list(restore_frames(device.model(MODEL), decoded(clip))))
    assert min(psnr(a, b) for a, b in zip(made, one_call, strict=True)) >= 50
    photo = tmp_path / "p.png"
    photo.write_bytes(png_bytes(phone(30, 1)[0]))
    refused = CliRunner().invoke(app, ["image", str(photo), str(tmp_path / "p4.png"), "--model", MODEL])
    assert refused.exit_code != 0 and "temporal video model" in refused.output


def test_the_report_says_how_the_temporal_model_ran_and_where_a_cut_restarted_it(
    settings: Settings, device: Device, tmp_path: Path
) -> None:
    """Carphone, then a cut to bikes' street (6 + 6 frames; the 48 x 48 street crop cuts again as the shot moves):
    a run per scene, each restarted at its cut. The same clip in segments: a run per segment and scene, and only
    the cuts restart the model (a segment's start reads its neighbours' frames)."""
    clip = clip_from_frames(tmp_path / "cut.mp4", phone(30, 6) + street(6), crf=0)
    detector = scene_cuts()
    cuts = [i for i, f in enumerate(iter_frames(clip, 1000)) if detector.feed(f.rgb)]
    assert cuts[0] == 6  # the cut between the two clips
    whole = Jobs(_sized(settings, 0), device, tmp_path / "whole")
    parts = Jobs(_sized(settings, 5), device, tmp_path / "parts")

    one, split = report(whole, ran(whole, clip))["temporal"], report(parts, ran(parts, clip))["temporal"]

    runs = len(cuts) + 1  # each scene under 12 frames: one window each
    assert one == {
        "model": MODEL, "core": 12, "context": 3, "frames": 12, "runs": runs, "windows": runs, "restarts_at_cuts": cuts
    }  # fmt: skip
    assert (split["frames"], split["restarts_at_cuts"]) == (12, cuts)
    assert split["runs"] > runs and split["windows"] == split["runs"]


def test_a_job_without_a_temporal_model_reports_none(settings: Settings, device: Device, tmp_path: Path) -> None:
    clip = clip_from_frames(tmp_path / "phone.mp4", phone(30, 3), crf=0)
    jobs = Jobs(_sized(settings, 0), device, tmp_path / "jobs")
    job_id = jobs.submit(clip, model=FAST_MODEL, outputs=["frames"])
    assert jobs.run(job_id, jobs.context("worker-a")) is JobStatus.SUCCEEDED
    assert report(jobs, job_id)["temporal"] is None
