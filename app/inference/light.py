"""Low light: LIME (Guo, Li and Ling, "LIME: Low-light image enhancement via illumination map estimation", IEEE TIP
2017), decided per picture (`off` / `auto` / `on`) from the same exposure measures the scorer uses.

The illumination of each pixel starts as its brightest channel; it is smoothed while keeping edges (LIME solves a
weighted TV problem; here a guided filter of the map by itself, He et al. 2013, which keeps the map's large edges
in one pass of box filters), gamma-corrected (0.8, as LIME) and divided out. Brightening multiplies the noise in the
dark parts most, so, as LIME does with BM3D, the brightened picture is denoised (FFDNet, at the level estimated after
brightening, when its weights are installed) and blended back by the illumination: dark areas take the denoised
pixels, bright ones keep their detail. It runs first, before denoise, deblur and super-resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from app.domain import LUMA, LightMode, Picture
from app.inference.denoise import denoise_pixels
from app.inference.device import Device
from app.inference.restore import TileOptions
from app.inference.tiling import Progress
from app.quality.scores import channel_noise_sigma

GAMMA = 0.8  # LIME's illumination gamma
FLOOR = 0.03  # illumination floor: a black pixel is not divided by zero (and not boosted 100x)
GUIDE_RADIUS = 0.02  # of the shorter side: the scale of the illumination's smoothing
GUIDE_EPS = 1e-3
# `auto` brightens when the brightest 1 % of the luminance is below this, or the mean is below AUTO_MEAN: the
# scorer calls a photo underexposed under 0.45 at the top.
AUTO_BRIGHTEST = 0.45
AUTO_MEAN = 0.2


@dataclass(frozen=True)
class LightDecision:
    mode: LightMode
    applied: bool
    mean_luminance: float | None = None
    brightest: float | None = None
    denoise_sigma: float | None = None  # the level the brightened picture was denoised at

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "applied": self.applied,
            "mean_luminance": self.mean_luminance,
            "brightest": self.brightest,
            "denoise_sigma": self.denoise_sigma,
        }


def _guided_self(image: np.ndarray, radius: int, eps: float) -> np.ndarray:
    size = (2 * radius + 1, 2 * radius + 1)
    mean = cv2.boxFilter(image, -1, size)
    var = cv2.boxFilter(image * image, -1, size) - mean * mean
    a = var / (var + eps)
    b = mean - a * mean
    return np.asarray(cv2.boxFilter(a, -1, size) * image + cv2.boxFilter(b, -1, size), np.float32)


def illumination(rgb: np.ndarray) -> np.ndarray:
    """LIME's refined illumination map, H x W in [FLOOR, 1]."""
    initial = np.ascontiguousarray(rgb.max(axis=2), np.float32)
    radius = max(2, round(GUIDE_RADIUS * min(initial.shape)))
    refined = _guided_self(initial, radius, GUIDE_EPS)
    return np.asarray(np.clip(refined, FLOOR, 1.0) ** GAMMA, np.float32)


def exposure(rgb: np.ndarray) -> tuple[float, float]:
    """Mean luminance and its 99th percentile, on a small copy."""
    small = cv2.resize(rgb, (256, max(1, round(256 * rgb.shape[0] / rgb.shape[1]))), interpolation=cv2.INTER_AREA)
    gray = (small.reshape(-1, 3) @ LUMA) if small.ndim == 3 else small.ravel()
    return float(gray.mean()), float(np.percentile(gray, 99))


def brighten(
    picture: Picture,
    mode: LightMode,
    device: Device,
    denoise_model: str | None,
    tiles: TileOptions | None = None,
    progress: Progress | None = None,
) -> tuple[Picture, LightDecision]:
    """`denoise_model`: FFDNet's catalogue id when installed, else None (brightened without denoising)."""
    if mode == LightMode.OFF:
        return picture, LightDecision(LightMode.OFF, False)
    rgb = np.repeat(picture.pixels, 3, axis=2) if picture.is_gray else picture.pixels
    mean, brightest = exposure(rgb)
    if mode == LightMode.AUTO and brightest >= AUTO_BRIGHTEST and mean >= AUTO_MEAN:
        return picture, LightDecision(mode, False, round(mean, 4), round(brightest, 4))
    light = illumination(rgb)[..., None]
    bright = np.clip(rgb / light, 0.0, 1.0).astype(np.float32)
    sigma = None
    if denoise_model is not None:
        sigma = round(channel_noise_sigma(bright), 2)
        clean = denoise_pixels(bright, sigma, device, denoise_model, tiles or TileOptions(), progress)
        bright = np.asarray(bright * light + clean * (1.0 - light), np.float32)
    pixels = (bright @ LUMA)[..., None] if picture.is_gray else bright
    restored = Picture(np.ascontiguousarray(pixels, np.float32), picture.alpha, picture.bit_depth, picture.icc_profile)
    return restored, LightDecision(mode, True, round(mean, 4), round(brightest, 4), sigma)
