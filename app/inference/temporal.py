"""Temporal models (the catalogue's `temporal = true`: BasicVSR) on a sequence of frames, in overlapping windows.

A temporal model restores each frame from the frames around it, so it cannot run one frame at a time, and a whole
video does not fit in memory. The frames go in windows: each window owns a `core` of consecutive frames and reads
`context` frames more on each side, whose outputs are discarded (a window's edge frames lack the neighbours that
their interior counterparts have); the next window's core starts where this one's ended. At the sequence's own ends
there is nothing more to read, so the first and last windows keep their edge frames. Memory is bounded by one window
(`core + 2 x context` frames in, their outputs out); frames stream in and out in order.

Frames are H x W x 3 float32 in 0..1, as decoded. A model call is one window of one spatial tile, its frames' RGB
planes stacked on the channel axis ((1, 3 x T, H, W), see `app.models.archs.basicvsr`), through the device like any
other call. A frame too large for one call's memory budget is cut into tiles that each read `tile_pad` pixels of
context; each tile keeps its core.

A video cut into segments joins as windows do (within what `DEFAULT_CONTEXT` says) when each segment is fed with
`context` frames of its neighbours before and after it, and only its own frames' outputs are kept:
`islice(restore_frames(model, frames_with_context), lead, lead + length)`, `lead` being the frames fed before it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from app.core.errors import InvalidOption
from app.inference.device import Device, ModelHandle
from app.inference.memory import MemoryBudget
from app.inference.tiling import budget_pixels, tile_spans

# Frames a window owns, and frames it reads on each side and discards. Against one window over the whole sequence
# (14 real carphone frames, BasicVSR Vimeo-BI, core 4): context 1, 2, 3 differ by 0.78, 0.57, 0.41/255 mean (43, 44,
# 45 dB at worst): propagation carries a little from far away, less with every frame. Context 3 around a core of
# 12 costs 1.5 x the model time of the frames themselves.
DEFAULT_CORE = 12
DEFAULT_CONTEXT = 3
DEFAULT_TILE_PAD = 16

WindowProgress = Callable[[int], None]  # frames restored so far
BeforeCall = Callable[[], None]  # runs before each model call: raises to stop (a job's cancel, lease or shutdown)


@dataclass(frozen=True)
class Window:
    """The model sees frames [start, stop) and keeps its outputs for [keep_start, keep_stop)."""

    start: int
    stop: int
    keep_start: int
    keep_stop: int


def require_temporal(model: ModelHandle) -> None:
    """Raises `InvalidOption` unless `model` is a temporal model (the catalogue's `temporal`)."""
    if not model.entry.temporal:
        raise InvalidOption(f"{model.entry.id} restores one frame at a time; it is not a temporal model")


def refuse_on_pictures(device: Device, model_id: str | None, what: str) -> None:
    """Raises `InvalidOption` (naming `model`) when `model_id` is a temporal model: `what` (an image, an album's
    photos) has no neighbouring frames for it to read."""
    if model_id is not None and device.catalog.get(model_id).temporal:
        raise InvalidOption(
            f"model={model_id} is a temporal video model (it restores each frame from its neighbours): it needs a "
            f"video input, and {what} has no neighbouring frames; choose a single-frame upscaler"
        )


def window_bytes(frames: int, height: int, width: int, scale: int) -> int:
    """Host memory of one window beyond its frames as decoded: the stacked input, the model's output tensor and
    the frames cut from it (float32)."""
    return 12 * frames * height * width * (1 + 2 * scale * scale)


def plan_windows(count: int, core: int = DEFAULT_CORE, context: int = DEFAULT_CONTEXT) -> list[Window]:
    """The windows that restore `count` frames: cores of `core` frames in order, each read with up to `context`
    frames more on each side (fewer at the sequence's ends)."""
    if core < 1 or context < 0:
        raise InvalidOption(
            f"a temporal window needs a core of at least 1 frame and context >= 0, got {core}, {context}"
        )
    return [
        Window(max(0, first - context), min(count, first + core + context), first, min(count, first + core))
        for first in range(0, count, core)
    ]


def _stack(frames: list[np.ndarray]) -> torch.Tensor:
    """T frames (H x W x 3) → (1, 3T, H, W)."""
    planes = np.concatenate([np.asarray(f, dtype=np.float32).transpose(2, 0, 1) for f in frames])
    return torch.from_numpy(np.ascontiguousarray(planes))[None]


def _tile_side(model: ModelHandle, frames: int, pad: int) -> int:
    """The largest square tile (input pixels, context included) whose window fits one call's memory budget."""
    return max(2 * pad + 32, math.isqrt(budget_pixels(model) // max(1, frames)))


def run_window(
    model: ModelHandle,
    frames: list[np.ndarray],
    tile: int = 0,
    tile_pad: int = DEFAULT_TILE_PAD,
    before_call: BeforeCall | None = None,
) -> list[np.ndarray]:
    """Each of `frames` (one size) restored by the temporal `model` from all of them: H*s x W*s x 3 float32.
    `tile` (input pixels of a tile's core; 0: by memory) cuts large frames into tiles that read `tile_pad` pixels of
    context on each side; `before_call` runs before each model call."""
    check = before_call or (lambda: None)
    scale = model.net_scale
    height, width = frames[0].shape[:2]
    stacked = _stack(frames)
    core = tile or max(1, _tile_side(model, len(frames), tile_pad) - 2 * tile_pad)
    rows, cols = tile_spans(height, core, tile_pad), tile_spans(width, core, tile_pad)
    if len(rows) == 1 and len(cols) == 1:
        check()
        output = model(stacked)[0]
    else:
        output = torch.empty(stacked.shape[1], height * scale, width * scale)
        for r in rows:
            for c in cols:
                check()
                part = model(stacked[:, :, r.start : r.start + r.size, c.start : c.start + c.size])[0]
                top, left = (r.core_start - r.start) * scale, (c.core_start - c.start) * scale
                bottom, right = top + (r.core_end - r.core_start) * scale, left + (c.core_end - c.core_start) * scale
                output[:, r.core_start * scale : r.core_end * scale, c.core_start * scale : c.core_end * scale] = part[
                    :, top:bottom, left:right
                ]
    return [np.ascontiguousarray(output[3 * i : 3 * i + 3].permute(1, 2, 0).numpy()) for i in range(len(frames))]


def restore_frames(
    model: ModelHandle,
    frames: Iterable[np.ndarray],
    *,
    core: int = DEFAULT_CORE,
    context: int = DEFAULT_CONTEXT,
    tile: int = 0,
    tile_pad: int = DEFAULT_TILE_PAD,
    progress: WindowProgress | None = None,
    before_call: BeforeCall | None = None,
    memory: MemoryBudget | None = None,
) -> Iterator[np.ndarray]:
    """The restored frames of `frames`, in order, as windows complete: at most `core + 2 x context` input frames are
    held at once. `before_call` runs before each model call; `memory` (a job's budget) holds each window's memory
    while it runs. Raises `InvalidOption` for a model that is not temporal, bad window sizes, or frames that change
    size."""
    require_temporal(model)
    if core < 1 or context < 0:
        raise InvalidOption(
            f"a temporal window needs a core of at least 1 frame and context >= 0, got {core}, {context}"
        )
    held: list[np.ndarray] = []  # input frames [first_held, first_held + len(held))
    first_held = 0
    next_out = 0  # the first frame not yet restored

    def window(stop: int) -> Iterator[np.ndarray]:
        nonlocal held, first_held, next_out
        start = max(0, next_out - context)
        inputs = held[start - first_held : stop - first_held]
        if memory is None:
            outputs = run_window(model, inputs, tile, tile_pad, before_call)
        else:
            height, width = inputs[0].shape[:2]
            need = window_bytes(len(inputs), height, width, model.net_scale)
            with memory.reserve(need, f"a window of {len(inputs)} {width}x{height} frames", patient=True):
                outputs = run_window(model, inputs, tile, tile_pad, before_call)
        keep_stop = min(stop, next_out + core)
        yield from outputs[next_out - start : keep_stop - start]
        next_out = keep_stop
        drop = max(0, next_out - context - first_held)  # frames no later window reads
        held, first_held = held[drop:], first_held + drop
        if progress is not None:
            progress(next_out)

    for frame in frames:
        if held and frame.shape != held[0].shape:
            raise InvalidOption(
                f"the frames of a temporal window must be one size: {frame.shape} after {held[0].shape}"
            )
        held.append(frame)
        seen = first_held + len(held)
        if seen >= next_out + core + context:  # the next core and its right context are in
            yield from window(next_out + core + context)
    seen = first_held + len(held)
    while next_out < seen:
        yield from window(min(seen, next_out + core + context))
