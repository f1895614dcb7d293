"""The enhanced video as a user plays it: timing when only some frames are enhanced (#26)."""

from __future__ import annotations

import json
from pathlib import Path

import av
from fastapi.testclient import TestClient

from app.media.video import VideoWriter, iter_frames
from tests.support.jobs import artifact, submit, wait
from tests.support.media import carphone_path, duration_seconds


def _write_every_nth(target: Path, source: Path, every_n: int) -> VideoWriter:
    writer = VideoWriter(target, source, 176, 144, hold_last=every_n)
    for frame in iter_frames(source, 1000):
        if frame.index % every_n == 0:
            writer.write(frame.rgb, frame.pts)
    writer.close()
    return writer


def test_every_fifth_frame_plays_at_the_source_speed_and_duration(tmp_path: Path) -> None:
    """every_n=5 of carphone (120 frames at 29.97 fps): 24 enhanced frames, each held until the next one's
    timestamp, so the video has the source's 120 frames at 29.97 fps and lasts as long (it was 24 frames at 6 fps,
    a slide show)."""
    source = carphone_path()
    out = _write_every_nth(tmp_path / "held.mp4", source, 5)
    with av.open(str(out.target)) as container:
        stream = container.streams.video[0]
        assert sum(1 for _ in container.decode(stream)) == 120
        rate = stream.average_rate
        assert rate is not None and abs(float(rate) - 30000 / 1001) < 0.01
    assert abs(duration_seconds(out.target) - duration_seconds(source)) <= 1001 / 30000
    assert (out.timing.mode, out.timing.enhanced_frames, out.timing.written_frames) == ("held", 24, 120)


def test_a_job_with_every_n_reports_the_held_frames(client: TestClient, tmp_path: Path) -> None:
    """Through the API: every_n=10 with max_frames=3 (frames 0, 10, 20) gives a 30-frame video whose report says
    each enhanced frame was held."""
    response = submit(client, carphone_path().read_bytes(), "c.mp4", every_n=10, max_frames=3, outputs="video")
    job = wait(client, response.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    timing = json.loads(artifact(client, job, "report.json"))["video_timing"]
    assert (timing["mode"], timing["enhanced_frames"], timing["written_frames"]) == ("held", 3, 30)
    out = tmp_path / "enhanced.mp4"
    out.write_bytes(artifact(client, job, "enhanced.mp4"))
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 30


def test_a_video_job_without_a_model_runs_the_fast_video_model(client: TestClient) -> None:
    """Not x4plus (14.9 s per 640x360 frame on this CPU: an hour for a 250-frame clip): span-x4, 47x faster."""
    response = client.post(
        "/v1/jobs", files={"file": ("c.mp4", carphone_path().read_bytes())}, data={"frames": "0", "outputs": "frames"}
    )
    assert response.status_code == 202, response.text
    assert response.json()["options"]["model"] == "span-x4"
    job = wait(client, response.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    assert json.loads(artifact(client, job, "report.json"))["model"]["id"] == "span-x4"
