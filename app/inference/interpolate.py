"""Frame interpolation: the frames between two frames, from an `interpolate` model (RIFE) through the device, and
frame blending, the baseline it is measured against.

Frames are H x W x 3 float32 in 0..1, as decoded. One model call per instant: RIFE cannot be tiled (its flow needs
the whole frame), so a call is one frame pair, the smallest piece the device can interleave with other work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from app.core.errors import InvalidOption
from app.inference.device import ModelHandle
from app.inference.memory import MemoryBudget

PAIR_CHANNELS = 7  # frame 0 (RGB), frame 1 (RGB), the instant t as a plane
# Host bytes per pixel of one call, float32: the two frames (24), the 7-plane batch (28), the output tensor and its
# numpy copy (24), the uint8 frame made of it (3), and RIFE's full-size working planes (flows, masks, the warped
# frames: about 30 planes, 120). An estimate, not fitted: RIFE cannot be tiled, so the call holds them all at once.
PAIR_BYTES_PER_PIXEL = 200


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


def pair_bytes(width: int, height: int) -> int:
    """Host memory of one interpolation call on two width x height frames (`PAIR_BYTES_PER_PIXEL`)."""
    return PAIR_BYTES_PER_PIXEL * width * height


def interpolate(
    model: ModelHandle,
    frame0: np.ndarray,
    frame1: np.ndarray,
    at: Sequence[float] = (0.5,),
    *,
    before_call: Callable[[], None] | None = None,
    memory: MemoryBudget | None = None,
) -> list[np.ndarray]:
    """The frames at each instant of `at` between two frames of the same size. `before_call` runs before each model
    call (a job's guard: a cancel stops it between calls); `memory` (a job's budget) holds each call's memory while
    it runs, waiting its turn as a job's frames do. Raises `InvalidOption` when `model` is not an interpolation model
    or the frames are not two RGB frames of one size, `NeverFits` when one call could never fit `memory`."""
    require_interpolator(model)
    if frame0.shape != frame1.shape or frame0.ndim != 3 or frame0.shape[2] != 3:
        raise InvalidOption(f"interpolation needs two RGB frames of one size, got {frame0.shape} and {frame1.shape}")
    height, width = frame0.shape[:2]
    need, what = pair_bytes(width, height), f"interpolating a {width}x{height} frame pair"
    out = []
    for instant in at:
        if before_call is not None:
            before_call()
        if memory is not None:
            memory.acquire(need, what, patient=True)
        try:
            result = model(pair_batch(frame0, frame1, instant))[0]
            out.append(np.ascontiguousarray(result.permute(1, 2, 0).numpy(), dtype=np.float32))
        finally:
            if memory is not None:
                memory.release(need)
    return out


def blend(frame0: np.ndarray, frame1: np.ndarray, instant: float = 0.5) -> np.ndarray:
    """Frame blending: the two frames mixed by `instant` (what a player's frame-rate conversion does)."""
    mixed: np.ndarray = (1.0 - instant) * frame0.astype(np.float32) + instant * frame1.astype(np.float32)
    return mixed
