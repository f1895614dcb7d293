"""The comparison GIF must make the improvement visible (#14): at 1:1 output pixels, in the region that gains most,
the enhanced half of every GIF frame has at least 1.5x the Laplacian variance of the bicubic half, for x4plus and
animevideov3, on carphone and on photos. The old whole-frame view stays available as `gif_layout=full`."""

from __future__ import annotations

import io
import json
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageSequence

from tests.support.images import png_bytes, skimage_rgb
from tests.support.jobs import artifact, submit, wait
from tests.support.media import carphone_path

MODELS = ["realesrgan-x4plus", "realesr-animevideov3-x4"]
RATIO = 1.5


def _gif_frames(data: bytes) -> list[np.ndarray]:
    return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(Image.open(io.BytesIO(data)))]


def _sharpness(half: np.ndarray) -> float:
    below_label = half[half.shape[0] // 6 :]  # the label band is the top ~10 %
    gray = cv2.cvtColor(np.ascontiguousarray(below_label), cv2.COLOR_RGB2GRAY).astype(np.float64)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def ratios(gif: bytes) -> list[float]:
    """Enhanced over bicubic Laplacian variance, per side-by-side GIF frame."""
    out = []
    for frame in _gif_frames(gif):
        half = frame.shape[1] // 2
        out.append(_sharpness(frame[:, half:]) / _sharpness(frame[:, :half]))
    return out


def _job(client: TestClient, data: bytes, name: str, **form: Any) -> tuple[bytes, dict[str, Any]]:
    response = submit(client, data, name, outputs="gif", **form)
    assert response.status_code == 202, response.text
    job = wait(client, response.json()["id"], timeout=600)
    assert job["status"] == "succeeded", job["error"]
    return artifact(client, job, "comparison.gif"), json.loads(artifact(client, job, "report.json"))


@pytest.mark.parametrize("model", MODELS)
def test_carphone_gif_shows_the_gain_in_every_frame(client: TestClient, model: str) -> None:
    gif, report = _job(client, carphone_path().read_bytes(), "carphone.mp4", model=model, frames="0,45,90")
    measured = ratios(gif)
    print(f"carphone {model}: ratios {[round(r, 2) for r in measured]}, {len(gif):,} bytes")
    assert len(measured) == 3 and min(measured) >= RATIO, measured
    image = Image.open(io.BytesIO(gif))
    assert image.width <= 640 and image.height <= 360 and len(gif) <= 25 * 2**20
    region = report["gif"]["region"]  # 704x576 output: a 320x360 window, the same for every frame
    assert report["gif"]["pixels"] == "output pixels 1:1"
    assert (region["width"], region["height"]) == (320, 360) and image.size == (640, 360)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("photo", ["astronaut", "chelsea"])
def test_photo_gif_shows_the_gain(client: TestClient, model: str, photo: str) -> None:
    gif, report = _job(client, png_bytes(skimage_rgb(photo, 200)), f"{photo}.png", model=model)
    measured = ratios(gif)
    print(f"{photo} {model}: ratio {measured[0]:.2f}, region {report['gif']['region']}, {len(gif):,} bytes")
    assert min(measured) >= RATIO, measured


def test_the_full_layout_is_the_old_scaled_down_view(client: TestClient) -> None:
    gif, report = _job(client, png_bytes(skimage_rgb("astronaut", 200)), "a.png", gif_layout="full")
    frame = _gif_frames(gif)[0]
    assert frame.shape[:2] == (320, 640)  # two 800x800 outputs shown at 320 px
    assert report["gif"]["region"] == {"x": 0, "y": 0, "width": 800, "height": 800}
