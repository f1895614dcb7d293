"""A whole clip at `factor` times its frame rate: the frames between each two consecutive frames made by an
interpolation model (RIFE), never across a scene cut.

Every source frame keeps its timestamp and the new ones sit between (the source's time base), so the audio, copied
packet for packet, stays in sync and the clip lasts as long. Where a scene cuts, nothing is made: the last frame of
the scene is held until the next scene starts, as in the source (a blend of two scenes would be a ghost). A frame
identical to the one before (a duplicated source frame) needs no model call: the frames between are copies.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.inference.device import ModelHandle
from app.inference.interpolate import instants, interpolate, require_interpolator
from app.media.encoders import EncoderChoice
from app.media.scenes import SceneDetector
from app.media.video import DecodedFrame, VideoWriter, iter_frames

Progress = Callable[[int], None]  # source frames done so far


@dataclass
class InterpolationReport:
    source_frames: int = 0
    made: int = 0  # frames made between two source frames
    cuts: list[int] = field(default_factory=list)  # source frames that start a new scene: nothing made before them
    duplicates: int = 0  # pairs of identical frames: copies instead of model calls
    no_room: int = 0  # pairs whose timestamps are too close to fit a frame between (the time base is too coarse)


def _to8(pixels: np.ndarray) -> np.ndarray:
    return np.asarray((np.clip(pixels, 0.0, 1.0) * 255.0).round(), dtype=np.uint8)


def _between(previous: DecodedFrame, current: DecodedFrame, factor: int) -> list[int] | None:
    """The timestamps of the frames between two, or None when the time base has no room for them."""
    if previous.pts is None or current.pts is None:
        return None
    stamps = [previous.pts + round(t * (current.pts - previous.pts)) for t in instants(factor)]
    ordered = [previous.pts, *stamps, current.pts]
    return stamps if all(a < b for a, b in itertools.pairwise(ordered)) else None


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
    scenes = SceneDetector()
    writer: VideoWriter | None = None
    previous: DecodedFrame | None = None
    step = 0  # the last gap between two source timestamps
    try:
        for frame in iter_frames(source, max_frames):
            cut = scenes.feed(frame.rgb)
            if writer is None:
                height, width = frame.rgb.shape[:2]
                writer = VideoWriter(target, source, width, height, encoder=encoder)
            if previous is not None:
                if cut:
                    report.cuts.append(frame.index)
                else:
                    _write_between(model, writer, previous, frame, factor, report)
            writer.write(frame.rgb, frame.pts)
            report.source_frames += 1
            if previous is not None and previous.pts is not None and frame.pts is not None:
                step = frame.pts - previous.pts
            previous = frame
            if progress is not None:
                progress(report.source_frames)
        if writer is not None and previous is not None:
            _hold_last(writer, previous, step, factor)
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


def _write_between(
    model: ModelHandle,
    writer: VideoWriter,
    previous: DecodedFrame,
    current: DecodedFrame,
    factor: int,
    report: InterpolationReport,
) -> None:
    stamps = _between(previous, current, factor)
    if stamps is None:
        report.no_room += 1
        return
    if np.array_equal(previous.rgb, current.rgb):
        report.duplicates += 1
        frames = [previous.rgb] * len(stamps)
    else:
        pair = [f.rgb.astype(np.float32) / 255.0 for f in (previous, current)]
        frames = [_to8(made) for made in interpolate(model, pair[0], pair[1], instants(factor))]
    for rgb, pts in zip(frames, stamps, strict=True):
        writer.write(rgb, pts)
    report.made += len(frames)
