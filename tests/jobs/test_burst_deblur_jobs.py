"""`deblur=burst` from the API: a video job fuses each blurred frame with its neighbours; images and albums 422."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from app.domain import Picture
from app.jobs.kinds import SourceFrame
from app.jobs.neighbours import with_neighbours
from tests.inference.test_burst_deblur import shaken
from tests.support.images import png_bytes
from tests.support.interpolation import carphone_frames
from tests.support.jobs import submit, succeeded_report
from tests.support.media import clip_from_frames

BLURRED = 3


def test_a_video_job_burst_deblurs_the_blurred_frame(client: TestClient, tmp_path: Path) -> None:
    frames = [f for _, f in sorted(carphone_frames(list(range(8, 15))).items())]
    frames[BLURRED] = (shaken(frames[BLURRED].astype(np.float32) / 255, 13, 60.0) * 255 + 0.5).astype(np.uint8)
    clip = clip_from_frames(tmp_path / "shaken.mp4", frames)
    report = succeeded_report(client, clip.read_bytes(), "shaken.mp4", model="none", deblur="burst", outputs="frames")
    decisions = {f["index"]: f["deblur"] for f in report["frames"]}
    assert decisions[BLURRED]["applied"] and decisions[BLURRED]["model"] == "burst"
    assert decisions[BLURRED]["mode"] == "burst"
    assert not decisions[0]["applied"]  # a sharp frame among sharp neighbours is kept as it was


def test_burst_on_an_image_or_an_album_is_422_naming_deblur(client: TestClient) -> None:
    photo = png_bytes(carphone_frames([0])[0])
    image = client.post(
        "/v1/images/enhance", params={"model": "none", "deblur": "burst"}, files={"file": ("p.png", photo)}
    )
    job = submit(client, photo, "p.png", model="none", deblur="burst")
    album = client.post(
        "/v1/jobs",
        files=[("file", ("a.png", photo)), ("file", ("b.png", photo))],
        data={"model": "none", "deblur": "burst"},
    )
    for response in (image, job, album):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "deblur" in response.text


def test_each_frame_carries_its_decoded_neighbours() -> None:
    pictures = [Picture(np.full((2, 2, 3), i, np.float32), None, 8) for i in range(6)]
    units = (SourceFrame(i, None, None, None, p) for i, p in enumerate(pictures))
    out = list(with_neighbours(units, radius=2))
    assert [f.index for f in out] == list(range(6))
    near = {f.index: [int(n.pixels[0, 0, 0]) for n in f.neighbours] for f in out}
    assert near == {0: [1, 2], 1: [0, 2, 3], 2: [0, 1, 3, 4], 3: [1, 2, 4, 5], 4: [2, 3, 5], 5: [3, 4]}
