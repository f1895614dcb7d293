"""Frame interpolation: the frames between two frames, from an `interpolate` model (RIFE) through the device, and
frame blending, the baseline it is measured against.

Frames are H x W x 3 float32 in 0..1, as decoded. One model call per instant: RIFE cannot be tiled (its flow needs
the whole frame), so a call is one frame pair, the smallest piece the device can interleave with other work.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from app.core.errors import InvalidOption
from app.inference.device import ModelHandle

PAIR_CHANNELS = 7  # frame 0 (RGB), frame 1 (RGB), the instant t as a plane


def instants(factor: int) -> list[float]:
    """The instants between two frames that multiply the frame rate by `factor`: 2 → [0.5], 4 → [0.25, 0.5, 0.75]."""
    return [step / factor for step in range(1, factor)]


def pair_batch(frame0: np.ndarray, frame1: np.ndarray, instant: float) -> torch.Tensor:
    """(1, 7, H, W): what an interpolation model takes for the frame at `instant` (0: frame0, 1: frame1)."""
    planes = [torch.from_numpy(np.ascontiguousarray(f.transpose(2, 0, 1), dtype=np.float32)) for f in (frame0, frame1)]
    return torch.cat([*planes, torch.full_like(planes[0][:1], instant)])[None]


def require_interpolator(model: ModelHandle) -> None:
    """Raises `InvalidOption` unless `model` makes frames between two (the catalogue's `interpolate` task)."""
    if model.entry.task != "interpolate" or model.descriptor.input_channels != PAIR_CHANNELS:
        raise InvalidOption(f"{model.entry.id} is a {model.entry.task} model, not a frame interpolation model")


def interpolate(
    model: ModelHandle, frame0: np.ndarray, frame1: np.ndarray, at: Sequence[float] = (0.5,)
) -> list[np.ndarray]:
    """The frames at each instant of `at` between two frames of the same size. Raises `InvalidOption` when `model`
    is not an interpolation model or the frames are not two RGB frames of one size."""
    require_interpolator(model)
    if frame0.shape != frame1.shape or frame0.ndim != 3 or frame0.shape[2] != 3:
        raise InvalidOption(f"interpolation needs two RGB frames of one size, got {frame0.shape} and {frame1.shape}")
    out = []
    for instant in at:
        result = model(pair_batch(frame0, frame1, instant))[0]
        out.append(np.ascontiguousarray(result.permute(1, 2, 0).numpy(), dtype=np.float32))
    return out


def blend(frame0: np.ndarray, frame1: np.ndarray, instant: float = 0.5) -> np.ndarray:
    """Frame blending: the two frames mixed by `instant` (what a player's frame-rate conversion does)."""
    mixed: np.ndarray = (1.0 - instant) * frame0.astype(np.float32) + instant * frame1.astype(np.float32)
    return mixed
