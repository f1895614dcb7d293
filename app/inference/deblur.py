"""The deblur stage: decide per picture (`off` / `auto` / `on`), then run a deblur model or the classical method.

`classical` is the weightless default; any catalogue entry with task `deblur` (DeblurGAN v1/v2, NAFNet, ...) is
run through the registry like the upscalers, on the whole picture (their per-image statistics make tiles differ).
`burst` (video frames only) fuses a frame with its aligned neighbours (app.inference.burst_deblur).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from spandrel import ModelTiling

from app.core.config import Settings
from app.core.errors import InvalidOption
from app.domain import DeblurMode, Picture
from app.inference.burst_deblur import burst_deblur_report
from app.inference.classical_deblur import classical_deblur
from app.inference.device import Device
from app.inference.restore import TileOptions, apply_model
from app.inference.tiling import Progress
from app.models.catalog import WeightState, cached_weight_state
from app.quality.blur import MotionBlur, estimate_motion_blur, is_motion_blurred

CLASSICAL = "classical"
BURST = "burst"  # the multi-frame method: needs the neighbouring frames, so videos only


@dataclass(frozen=True)
class DeblurDecision:
    mode: DeblurMode
    model: str | None
    applied: bool
    blur: MotionBlur | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "model": self.model,
            "applied": self.applied,
            "blur": asdict(self.blur) if self.blur else None,
        }


def resolve_deblur_model(device: Device, settings: Settings, requested: str | None) -> str:
    """The deblur model to use: the requested one, else the configured default, else the first installed
    catalogue deblur model, else `classical`. Raises `ModelNotFound` / `InvalidOption` for a bad request."""
    choice = requested or settings.default_deblur_model
    if choice:
        if choice != CLASSICAL and device.catalog.get(choice).task != "deblur":
            raise InvalidOption(f"{choice} is not a deblur model")
        return choice
    for entry in device.catalog.by_task("deblur"):
        if cached_weight_state(entry, settings.weights_path) in {WeightState.PRESENT, WeightState.UNPINNED}:
            return entry.id
    return CLASSICAL


def deblur_picture(
    picture: Picture,
    mode: DeblurMode,
    model_id: str,
    device: Device,
    tiles: TileOptions | None = None,
    progress: Progress | None = None,
    blur: MotionBlur | None = None,
) -> tuple[Picture, DeblurDecision]:
    """`blur`: the picture's motion-blur estimate, when the caller has made it already."""
    if mode == "off":
        return picture, DeblurDecision(DeblurMode.OFF, None, False)
    blur = estimate_motion_blur(picture.pixels) if blur is None else blur
    if mode == "auto" and not is_motion_blurred(blur):
        return picture, DeblurDecision(mode, model_id, False, blur)
    if model_id == CLASSICAL:
        pixels, _ = classical_deblur(picture.pixels, blur)
    else:
        model = device.model(model_id)
        tiles = tiles or TileOptions()
        if model.descriptor.tiling != ModelTiling.SUPPORTED:  # per-image statistics: one tile, the whole picture
            tiles = replace(tiles, tile=max(picture.width, picture.height))
        pixels = apply_model(picture.pixels, model, tiles, picture.is_gray, progress)
    restored = Picture(np.ascontiguousarray(pixels, np.float32), picture.alpha, picture.bit_depth, picture.icc_profile)
    return restored, DeblurDecision(mode, model_id, True, blur)


def uses_neighbours(mode: DeblurMode, model_id: str | None) -> bool:
    """Whether this deblur fuses a frame with its neighbours: `burst`, or `auto` with the classical method (which
    tries the burst first on a blurred frame)."""
    return mode != DeblurMode.OFF and (model_id == BURST or (mode == DeblurMode.AUTO and model_id == CLASSICAL))


def deblur_frame(
    picture: Picture,
    neighbours: Sequence[Picture],
    mode: DeblurMode,
    model_id: str,
    device: Device,
    tiles: TileOptions | None = None,
    progress: Progress | None = None,
) -> tuple[Picture, DeblurDecision]:
    """A video frame's deblur with its neighbouring frames at hand.

    `model_id == BURST` fuses every frame with its neighbours (a frame at least as sharp as all of them is kept).
    `auto` with the classical method tries the burst first on a frame its blur estimate calls blurred and falls
    back to the single-frame method when no aligned neighbour is sharper (bench_burst_deblur.py: the burst beats
    it on blurred frames). Anything else is `deblur_picture`'s single-frame decision.
    """
    if not uses_neighbours(mode, model_id) or (model_id != BURST and not neighbours):
        return deblur_picture(picture, mode, model_id, device, tiles, progress)
    blur = estimate_motion_blur(picture.pixels)
    if mode == DeblurMode.AUTO and not is_motion_blurred(blur):
        return picture, DeblurDecision(mode, model_id, False, blur)
    pixels, report = burst_deblur_report(picture.pixels, [n.pixels for n in neighbours])
    if report.fused:
        restored = Picture(np.ascontiguousarray(pixels, np.float32), picture.alpha, picture.bit_depth,
                           picture.icc_profile)  # fmt: skip
        return restored, DeblurDecision(mode, BURST, True, blur)
    if model_id == BURST:
        return picture, DeblurDecision(mode, BURST, False, blur)
    return deblur_picture(picture, mode, model_id, device, tiles, progress, blur)  # no aligned neighbour was sharper
