"""Low light (#28): real photos darkened with a camera-like model (linear light at 1/16 exposure, shot and read
noise) come back closer to the original with `light=on` (LIME, FFDNet in the dark parts) than as they were, and
with less noise than LIME alone; `auto` leaves a well-exposed photo alone; the image route and a job record it."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage.metrics import structural_similarity

from app.domain import LightMode, Picture
from app.inference.device import Device
from app.inference.light import brighten
from tests.support.images import FAST_MODEL, png_bytes, psnr, skimage_rgb
from tests.support.jobs import succeeded_report

PHOTOS = ["astronaut", "coffee", "rocket"]


def darkened(photo: np.ndarray, exposure: float = 1 / 16, seed: int = 0) -> np.ndarray:
    """Linear light times `exposure`, Poisson shot noise at a 1000-electron full well, 2 electrons of read noise."""
    rng = np.random.default_rng(seed)
    electrons = (photo.astype(np.float64) / 255) ** 2.2 * exposure * 1000
    electrons = rng.poisson(electrons) + rng.normal(0, 2, electrons.shape)
    return np.asarray((np.clip(electrons / 1000, 0, 1) ** (1 / 2.2) * 255).round(), np.uint8)


def _picture(image: np.ndarray) -> Picture:
    return Picture(image.astype(np.float32) / 255, None, 8)


def _uint8(picture: Picture) -> np.ndarray:
    return np.asarray((picture.pixels * 255).round().clip(0, 255), np.uint8)


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(structural_similarity(a, b, channel_axis=2, data_range=255))


@pytest.mark.parametrize("name", PHOTOS)
def test_a_dark_photo_comes_back_closer_and_cleaner(device: Device, name: str) -> None:
    photo = skimage_rgb(name, 192)
    dark = darkened(photo)
    lit, decision = brighten(_picture(dark), LightMode.AUTO, device, "ffdnet-color")
    plain, _ = brighten(_picture(dark), LightMode.ON, device, None)
    assert decision.applied and decision.denoise_sigma is not None and decision.brightest is not None
    assert decision.brightest < 0.45  # why auto acted
    out = _uint8(lit)
    assert psnr(out, photo, 255) > psnr(dark, photo, 255) + 1.5, (psnr(out, photo, 255), psnr(dark, photo, 255))
    assert _ssim(out, photo) > _ssim(dark, photo) + 0.1
    assert _ssim(out, photo) > _ssim(_uint8(plain), photo)  # the denoise is what makes brightening pay


def test_auto_leaves_a_well_exposed_photo_alone(device: Device) -> None:
    picture = _picture(skimage_rgb("coffee", 192))
    same, decision = brighten(picture, LightMode.AUTO, device, "ffdnet-color")
    assert same is picture and not decision.applied and decision.mean_luminance is not None


def test_light_alone_through_the_image_route_and_in_a_job(client: TestClient) -> None:
    photo = skimage_rgb("astronaut", 128)
    dark = darkened(photo)
    response = client.post(
        "/v1/images/enhance", params={"model": "none", "light": "on"}, files={"file": ("d.png", png_bytes(dark))}
    )
    assert response.status_code == 200, response.text
    out = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    assert psnr(out, photo, 255) > psnr(dark, photo, 255) + 2
    report = succeeded_report(client, png_bytes(dark[:64, :64]), "d.png", model=FAST_MODEL, light="auto")
    [frame] = report["frames"]
    assert frame["light"]["applied"] is True and frame["light"]["mode"] == "auto"  # its own key (#28)
    assert frame["deblur"]["light"] == frame["light"]  # still where the first release put it, for its readers
    bad = client.post("/v1/images/enhance", params={"light": "dim"}, files={"file": ("d.png", png_bytes(dark))})
    assert bad.status_code == 422 and "light" in bad.text
    assert not math.isnan(frame["light"]["mean_luminance"])
