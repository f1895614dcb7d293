"""Video jobs with `interpolate` (#27): the enhanced video with RIFE's frames between the enhanced frames, never
across a scene cut, repeated frames copied, audio kept; `model=none` interpolates only; `every_n` plays at the
source's frame rate; bad requests are 422 problems naming the field. Real frames: carphone, bikes' pan."""

from __future__ import annotations

import json
import math
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import app
from app.core.config import Settings
from app.core.errors import InvalidOption, NeverFits
from app.inference import interpolate as interpolation
from app.inference.device import Device
from app.inference.enhance import plan
from app.inference.interpolate import pair_bytes
from app.inference.memory import MemoryBudget
from app.jobs.options import JobOptions
from app.main import create_app
from app.models.registry import ModelRegistry
from tests.support.images import CATALOG, FAST_MODEL, png_bytes, psnr, skimage_rgb
from tests.support.interpolation import bikes_frames, carphone_frames
from tests.support.jobs import JOBS, artifact, submit, wait
from tests.support.media import audio_packets, clip_from_frames, duration_seconds
from tests.support.models import INLINE

SIZE = (96, 80)  # small: each pair is one quick RIFE call on the CPU
FPS = 10


def _with_tone(path: Path, frames: list[np.ndarray], fps: int = FPS) -> Path:
    """The frames as an H.264 clip (crf 4) with a 440 Hz AAC tone as long as the video."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "4"}
        sound = out.add_stream("aac", rate=44100)
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), "rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        samples = 44100 * len(frames) // fps
        tone = (0.3 * np.sin(2 * math.pi * 440 * np.arange(samples) / 44100)).astype(np.float32)
        for start in range(0, samples, 1024):
            chunk = av.AudioFrame.from_ndarray(tone[start : start + 1024][None], format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = 44100, start
            for packet in sound.encode(chunk):
                out.mux(packet)
        for packet in sound.encode(None):
            out.mux(packet)
    return path


def _decoded(path: Path) -> list[tuple[int, np.ndarray]]:
    with av.open(str(path)) as container:
        return [(int(f.pts or 0), f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


def _run(client: TestClient, clip: Path, tmp_path: Path, **form: Any) -> tuple[dict[str, Any], Path]:
    """Run a job to success; its report and its enhanced video."""
    response = submit(client, clip.read_bytes(), clip.name, **form)
    assert response.status_code == 202, response.text
    job = wait(client, response.json()["id"], timeout=600)
    assert job["status"] == "succeeded", job["error"]
    video = tmp_path / f"{job['id']}.mp4"
    video.write_bytes(artifact(client, job, "enhanced.mp4"))
    return json.loads(artifact(client, job, "report.json")), video


def test_twice_the_frames_none_across_the_cut_with_the_audio_and_duration_kept(
    client: TestClient, tmp_path: Path
) -> None:
    phone = [cv2.resize(f, SIZE, interpolation=cv2.INTER_AREA) for f in carphone_frames(list(range(0, 10, 2))).values()]
    clip = _with_tone(tmp_path / "join.mp4", [*phone, *bikes_frames(5, SIZE)])  # carphone, then a cut to bikes

    report, video = _run(client, clip, tmp_path, model=FAST_MODEL, scale=2, interpolate=2, outputs="video")

    made = report["interpolation"]
    assert (made["factor"], made["source_frames"], made["made"], made["cuts"]) == (2, 10, 8, [5])  # 9 pairs, 1 cut
    before, written = [pts for pts, _ in _decoded(clip)], _decoded(video)
    stamps = [pts for pts, _ in written]
    assert len(written) == 10 + 8 + 1 and written[0][1].shape == (160, 192, 3)  # upscaled x2, then interpolated
    assert set(before) <= set(stamps) and stamps == sorted(set(stamps))  # each enhanced frame at its own time
    assert [t for t in stamps if before[4] < t < before[5]] == []  # the last carphone frame is held over the cut
    assert len([t for t in stamps if before[0] < t < before[1]]) == 1
    assert abs(duration_seconds(video) - duration_seconds(clip)) <= 0.01  # the last frame held a whole frame
    assert audio_packets(video) == audio_packets(clip)
    assert report["flicker"]["pairs"] == 3 and report["flicker"]["cuts_skipped"] == 1  # pairs 1, 4 and 8 of 9


def test_model_none_with_every_n_plays_at_the_source_s_rate_with_made_frames_not_held_ones(
    client: TestClient, tmp_path: Path
) -> None:
    """Bikes' fast pan, every other frame kept, interpolate=2: the frames RIFE makes at the dropped frames' times are
    far closer to the dropped frames than holding the kept ones (what every_n alone does)."""
    frames = bikes_frames(9, (160, 68))
    clip = clip_from_frames(tmp_path / "pan.mp4", frames, fps=FPS)

    report, video = _run(client, clip, tmp_path, model="none", every_n=2, interpolate=2, outputs="video")

    assert report["model"] is None and report["interpolation"]["made"] == 4  # between 0-2, 2-4, 4-6, 6-8
    written = [rgb for _, rgb in _decoded(video)]
    assert len(written) == 9  # the source's frame count: it plays at the source's rate
    for odd in (1, 3, 5, 7):
        made, held = psnr(written[odd], frames[odd], peak=255), psnr(frames[odd - 1], frames[odd], peak=255)
        assert made > held + 6, (odd, made, held)  # measured 34-36 dB against 25-26
    assert report["flicker"]["ratio"] == 1.0  # model=none: the frames are the source's


def test_repeated_frames_are_copied_without_a_model_call(client: TestClient, tmp_path: Path) -> None:
    """An animation on twos: every drawing shown for two frames (re-encoded, so not bit-identical)."""
    drawings = [cv2.resize(f, SIZE, interpolation=cv2.INTER_AREA) for f in carphone_frames([0, 3, 6]).values()]
    clip = clip_from_frames(tmp_path / "twos.mp4", [d for d in drawings for _ in range(2)], fps=FPS)

    report, video = _run(client, clip, tmp_path, model="none", interpolate=2, outputs="video")

    assert (report["interpolation"]["duplicates"], report["interpolation"]["made"]) == (3, 2)
    assert len(_decoded(video)) == 6 + 5 + 1


def test_interpolate_is_refused_where_it_cannot_apply(client: TestClient, tmp_path: Path) -> None:
    clip = clip_from_frames(tmp_path / "c.mp4", bikes_frames(3, SIZE), fps=FPS).read_bytes()
    photo = png_bytes(skimage_rgb("coffee", 32))
    cases = {
        "interpolate": submit(client, clip, "c.mp4", interpolate=3, outputs="video"),
        "video output": submit(client, clip, "c.mp4", interpolate=2),  # frames and gif only: no video to make
        "select_best": submit(client, clip, "c.mp4", interpolate=2, outputs="video", select_best=2),
        "an image has one frame": submit(client, photo, "p.png", interpolate=2, outputs="video"),
        "rife is a": submit(client, clip, "c.mp4", model="rife", outputs="video"),
    }
    album = client.post(
        JOBS,
        files=[("file", ("a.png", photo)), ("file", ("b.png", photo))],
        data={"model": FAST_MODEL, "interpolate": "2", "outputs": "video"},
    )
    for expected, response in [*cases.items(), ("an album is photos", album)]:
        assert response.status_code == 422, (expected, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert expected in json.dumps(body), body
        assert "interpolate" in json.dumps(body) or expected == "rife is a", body


def test_the_cli_interpolates_a_video_job(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`enhance video --model none --interpolate 2`: the video output comes with it; --interpolate 3 is refused."""
    for name, value in {"WEIGHTS_DIR": settings.weights_path, "CATALOG_PATH": CATALOG, "DEVICE": "cpu"}.items():
        monkeypatch.setenv(f"ENHANCE_{name}", str(value))
    monkeypatch.setenv("COLUMNS", "200")
    clip = clip_from_frames(tmp_path / "pan.mp4", bikes_frames(4, SIZE), fps=FPS)
    out = tmp_path / "out"

    result = CliRunner().invoke(app, ["video", str(clip), str(out), "--model", "none", "--interpolate", "2"])

    assert result.exit_code == 0, result.output
    assert len(_decoded(out / "enhanced.mp4")) == 4 + 3 + 1  # the last frame held at the made frames' rate
    assert json.loads((out / "report.json").read_text())["interpolation"]["made"] == 3
    refused = CliRunner().invoke(app, ["video", str(clip), str(tmp_path / "no"), "--interpolate", "3"])
    assert refused.exit_code == 2 and "interpolate" in refused.output


def test_a_server_without_the_interpolation_weights_refuses_interpolate(settings: Settings, tmp_path: Path) -> None:
    bare = settings.model_copy(update={"weights_dir": tmp_path / "no-weights"})
    device = Device(ModelRegistry(bare), INLINE)
    with pytest.raises(InvalidOption, match=r"^interpolate needs a frame interpolation model's weights \(rife\)"):
        plan(JobOptions(model="none", interpolate=2, outputs=["video"]).enhance_options(), device, bare)  # type: ignore[list-item]
    with pytest.raises(InvalidOption, match="model=none leaves nothing to do"):
        plan(JobOptions(model="none", outputs=["video"]).enhance_options(), device, bare)  # type: ignore[list-item]


def _storage_of(client: TestClient) -> Any:
    return client.app.state.api.services.storage  # type: ignore[attr-defined]


def test_a_cancel_while_interpolating_at_publish_stops_between_rife_calls_and_frees_the_files(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bikes' pan, 10 frames: 9 RIFE calls at publish. The cancel comes while the 2nd call runs (held until the
    cancel is in): the job stops before the 3rd, ends cancelled, and its folder goes as any cancelled job's does."""
    calls, reached, cancelled = [0], threading.Event(), threading.Event()
    batch = interpolation.pair_batch

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 2:
            reached.set()
            assert cancelled.wait(120), "the test never cancelled"
        return batch(*args, **kwargs)

    monkeypatch.setattr(interpolation, "pair_batch", counted)
    clip = clip_from_frames(tmp_path / "pan.mp4", bikes_frames(10, SIZE), fps=FPS)
    response = submit(client, clip.read_bytes(), clip.name, model="none", interpolate=2, outputs="video")
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    try:
        assert reached.wait(600), "no second RIFE call"
        assert client.post(f"{JOBS}/{job_id}/cancel").status_code in {200, 202}
    finally:
        cancelled.set()

    job = wait(client, job_id, timeout=600)

    assert job["status"] == "cancelled", job
    assert calls[0] == 2  # the call running when the cancel came, none after (9 without the guard)
    storage = _storage_of(client)
    deadline = time.monotonic() + 60  # the worker records the status, then removes the folder
    while storage.job_dir(job_id).exists():
        assert time.monotonic() < deadline, "the cancelled job's folder was not removed"
        time.sleep(0.05)


def test_each_rife_call_at_publish_holds_its_memory_from_the_job_budget(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every made frame's call is admitted by the budget frames are (and released: nothing held after the job)."""
    taken: list[tuple[int, str]] = []
    acquire = MemoryBudget.acquire

    def recorded(budget: MemoryBudget, need: int, what: str, patient: bool = False) -> None:
        taken.append((need, what))
        acquire(budget, need, what, patient)

    monkeypatch.setattr(MemoryBudget, "acquire", recorded)
    clip = clip_from_frames(tmp_path / "pan.mp4", bikes_frames(4, SIZE), fps=FPS)

    report, _ = _run(client, clip, tmp_path, model="none", interpolate=2, outputs="video")

    rife = [need for need, what in taken if what == f"interpolating a {SIZE[0]}x{SIZE[1]} frame pair"]
    assert len(rife) == report["interpolation"]["made"] == 3
    assert rife == [pair_bytes(*SIZE)] * 3
    assert client.app.state.api.services.device.memory.in_use == 0  # type: ignore[attr-defined]


def test_a_budget_too_small_for_one_rife_call_is_refused_with_its_size(client: TestClient) -> None:
    """As a frame that could never fit: 413 NeverFits naming the pair, before the model runs."""
    device: Device = client.app.state.api.services.device  # type: ignore[attr-defined]
    rife = device.model("rife")
    frames = [f.astype(np.float32) / 255 for f in bikes_frames(2, SIZE)]
    small = MemoryBudget(pair_bytes(*SIZE) - 1, max_waiting=1, wait_seconds=1)

    with pytest.raises(NeverFits, match=rf"interpolating a {SIZE[0]}x{SIZE[1]} frame pair needs about"):
        interpolation.interpolate(rife, frames[0], frames[1], memory=small)
    assert small.in_use == 0


def test_a_job_whose_rife_calls_could_never_fit_the_budget_is_refused_at_submit(
    settings: Settings, registry: ModelRegistry, tmp_path: Path
) -> None:
    """Bikes at 640x480, x4: each frame fits a 600 MB budget, a 2560x1920 pair for RIFE (about 980 MB) never does:
    413 when the job is sent, not a failure after every frame was upscaled. Without interpolate, accepted."""
    budget = 600 << 20
    assert pair_bytes(2560, 1920) > budget
    clip = clip_from_frames(tmp_path / "big.mp4", bikes_frames(2, (640, 480)), fps=FPS).read_bytes()
    with TestClient(create_app(settings.model_copy(update={"memory_budget_bytes": budget}), registry)) as client:
        refused = submit(client, clip, "big.mp4", model=FAST_MODEL, interpolate=2, outputs="video")
        accepted = submit(client, clip, "big.mp4", model=FAST_MODEL, outputs="video")
        client.post(f"{JOBS}/{accepted.json()['id']}/cancel")

    assert refused.status_code == 413, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "interpolating a 2560x1920 frame pair" in refused.json()["detail"]
    assert accepted.status_code == 202, accepted.text
