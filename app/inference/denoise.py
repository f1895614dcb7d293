"""The photo denoise stage: decide per picture (`off` / `auto` / `on`) and run FFDNet at the noise level given or
estimated (the scorer's per-channel estimate, at full resolution).

FFDNet takes the level as an input: a constant plane of sigma / 255 beside the colour planes, so the picture goes
through the device like any other model's, tiled and in fair calls. It runs before deblur and super-resolution:
deconvolution and upscaling both sharpen noise into detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from app.core.config import Settings
from app.core.errors import InvalidOption
from app.domain import LUMA, DenoiseMode, Picture
from app.inference.device import Device
from app.inference.restore import TileOptions
from app.inference.tiling import Progress, run_model
from app.models.catalog import WeightState, cached_weight_state
from app.quality.scores import channel_noise_sigma

# `auto` denoises above this estimate (0..255): clean skimage photos read 0.4-4.8 (fine texture), sigma 5 noise
# added to them 5.4-7. The scorer's "noisy" verdict is at 8.
AUTO_SIGMA = 5.0
MAX_SIGMA = 75.0  # FFDNet was trained on sigma 0-75


@dataclass(frozen=True)
class DenoiseDecision:
    mode: DenoiseMode
    model: str | None
    applied: bool
    estimated_sigma: float | None = None  # 0..255, when estimated
    sigma: float | None = None  # the level FFDNet ran at

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "model": self.model,
            "applied": self.applied,
            "estimated_sigma": self.estimated_sigma,
            "sigma": self.sigma,
        }


def installed_denoise_model(device: Device, settings: Settings) -> str | None:
    """The first catalogue denoise model whose weights are installed, if any."""
    for entry in device.catalog.by_task("denoise"):
        if cached_weight_state(entry, settings.weights_path) in {WeightState.PRESENT, WeightState.UNPINNED}:
            return entry.id
    return None


def resolve_denoise_model(device: Device, settings: Settings) -> str:
    """The first catalogue denoise model whose weights are installed. Raises `InvalidOption` when there is none."""
    installed = installed_denoise_model(device, settings)
    if installed is not None:
        return installed
    entries = device.catalog.by_task("denoise")
    names = ", ".join(e.id for e in entries) or "none in the catalogue"
    raise InvalidOption(f"denoise_photo needs a denoise model's weights ({names}): run `enhance weights import-torch`")


def denoise_pixels(
    pixels: np.ndarray, sigma: float, device: Device, model_id: str, tiles: TileOptions, progress: Progress | None
) -> np.ndarray:
    """H x W x C (C = 1 or 3) float pixels in 0..1 through FFDNet at `sigma` (0..255)."""
    model = device.model(model_id)
    colour = np.repeat(pixels, 3, axis=2) if pixels.shape[2] == 1 else pixels
    image = torch.from_numpy(np.ascontiguousarray(colour.transpose(2, 0, 1), np.float32))
    level = torch.full((1, *image.shape[1:]), min(sigma, MAX_SIGMA) / 255.0)
    result = run_model(
        torch.cat((image, level)),
        model,
        tile=tiles.tile,
        tile_pad=tiles.tile_pad,
        min_tile=tiles.min_tile,
        batch_size=tiles.batch_size,
        progress=progress,
    )
    out = np.clip(result.numpy().transpose(1, 2, 0), 0.0, 1.0)
    return np.asarray((out @ LUMA)[..., None] if pixels.shape[2] == 1 else out, np.float32)


def denoise_picture(
    picture: Picture,
    mode: DenoiseMode,
    model_id: str,
    sigma: float | None,
    device: Device,
    tiles: TileOptions | None = None,
    progress: Progress | None = None,
) -> tuple[Picture, DenoiseDecision]:
    """`sigma`: the level to run at (0..255); None estimates it. `auto` runs only when the estimate (or the level
    given) is above `AUTO_SIGMA`."""
    if mode == DenoiseMode.OFF:
        return picture, DenoiseDecision(DenoiseMode.OFF, None, False)
    estimated = None if sigma is not None else round(channel_noise_sigma(picture.pixels), 2)
    level = sigma if sigma is not None else estimated
    assert level is not None
    if mode == DenoiseMode.AUTO and level <= AUTO_SIGMA:
        return picture, DenoiseDecision(mode, model_id, False, estimated, None)
    pixels = denoise_pixels(picture.pixels, level, device, model_id, tiles or TileOptions(), progress)
    restored = Picture(pixels, picture.alpha, picture.bit_depth, picture.icc_profile)
    return restored, DenoiseDecision(mode, model_id, True, estimated, round(min(level, MAX_SIGMA), 2))


def check_denoise_options(mode: DenoiseMode, sigma: float | None) -> None:
    """Raises `InvalidOption` for a level given while denoise is off."""
    if sigma is not None and mode == DenoiseMode.OFF:
        raise InvalidOption("denoise_sigma needs denoise_photo=on or auto")
