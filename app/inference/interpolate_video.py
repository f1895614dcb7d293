"""A whole clip at `factor` times its frame rate: the frames between each two consecutive frames made by an
interpolation model (RIFE), never across a scene cut.

Every source frame keeps its timestamp and the new ones sit between (the source's time base), so the audio, copied
packet for packet, stays in sync and the clip lasts as long. Where a scene cuts, nothing is made: the last frame of
the scene is held until the next scene starts, as in the source (a blend of two scenes would be a ghost). A frame
that repeats the one before (a duplicated source frame, even re-encoded) needs no model call: the frames between
are copies. A job's enhanced video is built the same way (`InterpolatingWriter`), from its recorded frames.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from app.core.config import Settings
from app.core.errors import InvalidOption
from app.inference.device import Device, ModelHandle
from app.inference.interpolate import instants, interpolate, require_interpolator
from app.inference.memory import MemoryBudget
from app.media.encoders import EncoderChoice
from app.media.scenes import SceneDetector
from app.media.video import DecodedFrame, VideoWriter, iter_frames
from app.models.catalog import WeightState, cached_weight_state

Progress = Callable[[int], None]  # source frames done so far
BeforeCall = Callable[[], None]  # raises to stop (a job's guard: cancel, shutdown, lost lease, time limit)
DUPLICATE_BLOCK = 8
DUPLICATE_LEVELS = 1  # of 255: a re-encoded repeat differs by less, the smallest real motion by more


@dataclass
class InterpolationReport:
    source_frames: int = 0
    made: int = 0  # frames the model made between two source frames
    cuts: list[int] = field(default_factory=list)  # source frames that start a new scene: nothing made before them
    duplicates: int = 0  # pairs of repeated frames: the frames between are copies, no model call
    no_room: int = 0  # pairs whose timestamps are too close to fit a frame between (the time base is too coarse)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def interpolation_model(device: Device, settings: Settings) -> str:
    """The first catalogue interpolation model whose weights are installed (a video job's `interpolate`). Raises
    `InvalidOption`, naming the option, when there is none."""
    entries = device.catalog.by_task("interpolate")
    for entry in entries:
        if cached_weight_state(entry, settings.weights_path) in {WeightState.PRESENT, WeightState.UNPINNED}:
            return entry.id
    names = ", ".join(e.id for e in entries) or "none in the catalogue"
    raise InvalidOption(
        f"interpolate needs a frame interpolation model's weights ({names}): run `enhance weights import-torch`"
    )


def _to8(pixels: np.ndarray) -> np.ndarray:
    return np.asarray((np.clip(pixels, 0.0, 1.0) * 255.0).round(), dtype=np.uint8)


def _between(previous: DecodedFrame, current: DecodedFrame, factor: int) -> list[int] | None:
    """The timestamps of the frames between two, or None when the time base has no room for them."""
    if previous.pts is None or current.pts is None:
        return None
    stamps = [previous.pts + round(t * (current.pts - previous.pts)) for t in instants(factor)]
    ordered = [previous.pts, *stamps, current.pts]
    return stamps if all(a < b for a, b in itertools.pairwise(ordered)) else None


class InterpolatingWriter:
    """Feeds a `VideoWriter` frames in order and writes `factor - 1` frames made by `model` between each two of one
    scene, evenly spaced in time. Where a scene cuts, or the time base has no room, nothing is made (the writer
    holds the frame before); where two frames are the same, the frames between are copies. Cuts and duplicates are
    judged on `look` (the source frame of an enhanced one: small, and what the scene really does). `before_call`
    runs before each model call and `memory` holds each call's memory while it runs (a job's guard and budget)."""

    def __init__(
        self,
        writer: VideoWriter,
        model: ModelHandle,
        factor: int,
        report: InterpolationReport | None = None,
        *,
        before_call: BeforeCall | None = None,
        memory: MemoryBudget | None = None,
    ) -> None:
        require_interpolator(model)
        self.writer, self.model, self.factor = writer, model, factor
        self.before_call, self.memory = before_call, memory
        self.report = report or InterpolationReport()
        self._scenes = SceneDetector(min_frames=1)  # every cut, even one right after another: never blend scenes
        self._previous: tuple[DecodedFrame, np.ndarray] | None = None
        self._step = 0  # the last gap between two frames' timestamps

    def write(self, frame: DecodedFrame, look: np.ndarray | None = None) -> None:
        look = frame.rgb if look is None else look
        cut = self._scenes.feed(look)
        if self._previous is not None:
            if cut:
                self.report.cuts.append(frame.index)
            else:
                _write_between(self, self._previous, (frame, look))
        self.writer.write(frame.rgb, frame.pts)
        self.report.source_frames += 1
        if self._previous is not None and self._previous[0].pts is not None and frame.pts is not None:
            self._step = frame.pts - self._previous[0].pts
        self._previous = (frame, look)

    def hold_last(self) -> None:
        """The last frame shown for as long as the gap before it, at the made frames' rate: the video keeps the
        duration of frames evenly spaced (call once, after the last `write`)."""
        if self._previous is not None:
            _hold_last(self.writer, self._previous[0], self._step, self.factor)


def interpolate_video(
    model: ModelHandle,
    source: Path,
    target: Path,
    factor: int = 2,
    max_frames: int = 1_000_000,
    encoder: EncoderChoice | None = None,
    progress: Progress | None = None,
) -> InterpolationReport:
    """Write `source` at `factor` times its frame rate to `target`. Raises the model's errors (`InvalidOption`
    for a model that does not interpolate) and the reader's (`CorruptMedia`, `PayloadTooLarge`)."""
    require_interpolator(model)
    report = InterpolationReport()
    writer: VideoWriter | None = None
    interpolating: InterpolatingWriter | None = None
    try:
        for frame in iter_frames(source, max_frames):
            if writer is None:
                height, width = frame.rgb.shape[:2]
                writer = VideoWriter(target, source, width, height, encoder=encoder)
                interpolating = InterpolatingWriter(writer, model, factor, report)
            assert interpolating is not None
            interpolating.write(frame)
            if progress is not None:
                progress(report.source_frames)
        if interpolating is not None:
            interpolating.hold_last()
    finally:
        if writer is not None:
            writer.close()
    return report


def _hold_last(writer: VideoWriter, last: DecodedFrame, step: int, factor: int) -> None:
    """The last frame shown for a whole source frame, as the source shows it: the clip keeps its duration."""
    if last.pts is None or step <= 0:
        return
    stamps = [last.pts + round(t * step) for t in instants(factor)]
    if all(a < b for a, b in itertools.pairwise([last.pts, *stamps])):
        for pts in stamps:
            writer.write(last.rgb, pts)


def is_duplicate(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two frames show the same picture: equal, or equal but for the codec's noise (no 8x8 block's mean
    differs by more than `DUPLICATE_LEVELS`), as a repeated frame of an animation or a frame-rate conversion is."""
    if a.shape != b.shape:
        return False
    if np.array_equal(a, b):
        return True
    height, width = a.shape[:2]
    size = (max(1, width // DUPLICATE_BLOCK), max(1, height // DUPLICATE_BLOCK))
    blocks = [cv2.resize(np.ascontiguousarray(f), size, interpolation=cv2.INTER_AREA).astype(np.int16) for f in (a, b)]
    return int(np.abs(blocks[0] - blocks[1]).max()) <= DUPLICATE_LEVELS


def _write_between(
    into: InterpolatingWriter, previous: tuple[DecodedFrame, np.ndarray], current: tuple[DecodedFrame, np.ndarray]
) -> None:
    (before, before_look), (after, after_look) = previous, current
    writer, factor, report = into.writer, into.factor, into.report
    stamps = _between(before, after, factor)
    if stamps is None:
        report.no_room += 1
        return
    if is_duplicate(before_look, after_look):
        report.duplicates += 1
        frames = [before.rgb] * len(stamps)
    else:
        pair = [f.rgb.astype(np.float32) / 255.0 for f in (before, after)]
        made = interpolate(
            into.model, pair[0], pair[1], instants(factor), before_call=into.before_call, memory=into.memory
        )
        frames = [_to8(frame) for frame in made]
        report.made += len(frames)
    for rgb, pts in zip(frames, stamps, strict=True):
        writer.write(rgb, pts)
