"""Real-weight quality checks on skimage's astronaut: consistency with the input and real added detail."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.domain import Picture
from app.inference.restore import upscale_picture
from app.models.registry import ModelRegistry
from tests.support.images import area_resize, laplacian_variance, psnr, skimage_rgb
from tests.support.models import inline


def _picture(image: np.ndarray) -> Picture:
    return Picture(image.astype(np.float32) / 255.0, None, 8)


@pytest.fixture(scope="module")
def astronaut_128() -> np.ndarray:
    return skimage_rgb("astronaut", 128)


@pytest.fixture(scope="module")
def x4plus_output(registry: ModelRegistry, astronaut_128: np.ndarray) -> np.ndarray:
    return upscale_picture(_picture(astronaut_128), inline(registry.get("realesrgan-x4plus"))).pixels


@pytest.mark.slow
def test_x4plus_is_consistent_with_its_input(astronaut_128: np.ndarray, x4plus_output: np.ndarray) -> None:
    assert x4plus_output.shape == (512, 512, 3)
    back = area_resize(x4plus_output, 128, 128)
    assert psnr(back, astronaut_128 / 255.0) >= 29


def test_animevideov3_is_consistent_with_its_input(registry: ModelRegistry, astronaut_128: np.ndarray) -> None:
    out = upscale_picture(_picture(astronaut_128), inline(registry.get("realesr-animevideov3-x4"))).pixels
    assert out.shape == (512, 512, 3)
    assert psnr(area_resize(out, 128, 128), astronaut_128 / 255.0) >= 29


@pytest.mark.slow
def test_x4plus_is_far_sharper_than_bicubic(astronaut_128: np.ndarray, x4plus_output: np.ndarray) -> None:
    bicubic = np.clip(cv2.resize(astronaut_128 / 255.0, (512, 512), interpolation=cv2.INTER_CUBIC), 0, 1)
    assert laplacian_variance(x4plus_output) >= 20 * laplacian_variance(bicubic)


def test_outscale_resizes_after_the_model(registry: ModelRegistry, astronaut_128: np.ndarray) -> None:
    model = inline(registry.get("realesr-animevideov3-x2"))
    assert model.net_scale == 4
    default = upscale_picture(_picture(astronaut_128), model).pixels
    assert default.shape == (256, 256, 3)
    odd = upscale_picture(_picture(astronaut_128[:50, :70]), model, scale=2.5).pixels
    assert odd.shape == (125, 175, 3)
    assert psnr(area_resize(default, 128, 128), astronaut_128 / 255.0) >= 29
