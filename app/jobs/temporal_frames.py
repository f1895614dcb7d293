"""A video job's frames through a temporal model (the catalogue's `temporal`: BasicVSR, AnimeSR), in windows.

A temporal model restores a frame from the frames around it, so a job cannot hand it one frame at a time. This
wraps the decoded frames between the decoder and the pipeline's frame loop: frames come out in order, each one the
pipeline will restore already carrying its restored picture (`SourceFrame.restored`); the others pass as they are.

The model sees the job's sequence: the frames its options select (`sequence`), in order. A scene cut restarts it:
no frame after a cut is restored from frames before it. Frames the pipeline restores (`needed`: not recorded yet,
of this segment) run in `runs`: each read with up to `context` frames of the sequence before it and after it (in its
scene), whose outputs are dropped, as `app.inference.temporal` says segments join: a segment, or a job resumed
part-way, is restored as the one run over the whole scene would restore it, within what `DEFAULT_CONTEXT` allows.
Low light, denoise and deblur run on each frame first (`prepare`), as for any model; memory is bounded by one
window, reserved from the job's memory budget while it runs (large frames get shorter windows, `fitting_core`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace

import numpy as np

from app.domain import Picture
from app.inference.device import Device, ModelHandle
from app.inference.enhance import Plan, RestoreDecision, restore_picture
from app.inference.restore import output_size, resize
from app.inference.temporal import DEFAULT_CONTEXT, DEFAULT_CORE, restore_frames, window_bytes
from app.jobs.kinds.base import Guard, SourceFrame
from app.jobs.options import JobOptions
from app.media.scenes import SceneDetector

log = logging.getLogger(__name__)

# (frame, whether a scene starts at it, whether the sequence takes it)
_Read = tuple[SourceFrame, bool, bool]


def temporal_model(device: Device, steps: Plan) -> ModelHandle | None:
    """The plan's upscaler when it is a temporal model, else None (frames are restored one at a time)."""
    if steps.upscale_model is None or not device.catalog.get(steps.upscale_model).temporal:
        return None
    return device.model(steps.upscale_model)


def first_to_read(device: Device, steps: Plan, sequence: list[int], first: int, context: int = DEFAULT_CONTEXT) -> int:
    """Where a segment starting at frame `first` decodes from: `context` frames of the sequence before it with a
    temporal model (their outputs are dropped), else `first` itself."""
    if temporal_model(device, steps) is None or first not in sequence:
        return first
    return sequence[max(0, sequence.index(first) - context)]


def fitting_core(core: int, context: int, frame_bytes: int, capacity: int) -> int:
    """`core`, or fewer frames when a window of them (with its context) would take over half the memory budget:
    large frames run in shorter windows instead of failing for memory."""
    fits = capacity // 2 // max(1, frame_bytes) - 2 * context
    return max(1, min(core, fits))


def scene_cuts() -> SceneDetector:
    """Cuts judged on two consecutive decoded frames alone (no minimum scene length), so that a segment's worker,
    decoding from just before its segment, finds the cuts a worker decoding from frame 0 finds."""
    return SceneDetector(min_frames=1)


def in_windows(
    frames: Iterator[SourceFrame],
    device: Device,
    steps: Plan,
    sequence: JobOptions,
    needed: Callable[[int], bool],
    guard: Guard,
    *,
    core: int = DEFAULT_CORE,
    context: int = DEFAULT_CONTEXT,
) -> Iterator[SourceFrame]:
    """`frames` (decoded, in order) as they are when the plan's upscaler is not temporal. Otherwise, in order, each
    frame that `sequence` selects and `needed` wants restored carrying its restored picture and decision, the rest
    unchanged. `guard` runs before every model call."""
    model = temporal_model(device, steps)
    if model is None:
        yield from frames
        return
    per_frame = replace(steps, upscale_model=None)  # the stages before the upscaler, one frame at a time
    scale = float(steps.scale if steps.scale is not None else model.entry.scale)
    scenes = scene_cuts()
    taken = 0
    ended = False  # the sequence has taken its last frame: read no further
    lead: deque[SourceFrame] = deque(maxlen=context)  # the sequence's last frames read, in the current scene
    fresh = False  # a scene cut since the sequence last took a frame: the next run starts the scene (report)

    def read() -> _Read | None:
        nonlocal taken, ended
        frame = None if ended else next(frames, None)
        if frame is None:
            return None
        cut = scenes.feed(frame.rgb8) if frame.rgb8 is not None else False
        member = sequence.selects(frame.index, frame.seconds, taken)
        taken += member
        ended = sequence.finished(frame.index, frame.seconds, taken)
        return frame, cut, member

    def prepare(frame: SourceFrame) -> tuple[np.ndarray, RestoreDecision]:
        guard()
        picture, _, decision = restore_picture(
            frame.picture, per_frame, device, lambda done, total: guard(), frame.neighbours
        )
        return picture.pixels, decision

    def fit(pixels: np.ndarray, source: Picture) -> Picture:
        """The model's output at the job's scale (the model's own unless `scale` asks otherwise)."""
        width, height = output_size(source, scale)
        if pixels.shape[:2] != (height, width):
            pixels = resize(pixels, width, height)
        return Picture(np.ascontiguousarray(pixels, dtype=np.float32), None, source.bit_depth)

    def run(first: SourceFrame) -> Generator[SourceFrame, None, _Read | None]:
        """One run from `first` (a needed frame) to `context` frames past the last needed one, or the scene's or
        sequence's end; returns the frame read past it (a cut, or a frame the run did not take), if any."""
        nonlocal fresh
        leading = list(lead)
        waiting: deque[tuple[SourceFrame, RestoreDecision | None]] = deque()  # read, not yet handed on
        after: list[_Read | None] = [None]
        restarted, fresh = fresh, False  # the run restarts the model at a cut (else the job's or a segment's start)

        def inputs() -> Iterator[np.ndarray]:
            nonlocal fresh
            for frame in leading:
                yield prepare(frame)[0]
            trailing = 0  # frames taken since the last needed one
            item: _Read | None = (first, False, True)
            while item is not None:
                frame, cut, member = item
                if member:
                    if cut:
                        after[0] = item  # a new scene: the next run starts from nothing
                        return
                    if needed(frame.index):
                        trailing = 0
                    elif trailing == context:
                        after[0] = item
                        return
                    else:
                        trailing += 1
                    lead.append(frame)
                    pixels, decision = prepare(frame)
                    waiting.append((frame, decision))
                    yield pixels
                else:
                    if cut:  # a cut on a frame the sequence skips: the scene still changes before the next one
                        after[0] = (frame, False, False)
                        lead.clear()
                        fresh = True
                        return
                    waiting.append((frame, None))
                item = read()

        height, width = first.picture.pixels.shape[:2]
        run_core = fitting_core(core, context, window_bytes(1, height, width, model.net_scale), device.memory.capacity)
        outputs = restore_frames(
            model,
            inputs(),
            core=run_core,
            context=context,
            before_call=guard,
            memory=device.memory,
        )
        for position, pixels in enumerate(outputs):
            if position < len(leading):
                continue  # a leading frame: read for the frames after it, restored in its own run
            while waiting[0][1] is None:
                yield waiting.popleft()[0]
            frame, decision = waiting.popleft()
            assert decision is not None
            how = {
                "model": model.entry.id,
                "core": run_core,
                "context": context,
                "run": first.index,  # the run's first restored frame: its windows are counted from there
                "window": position // run_core,  # windows cut the run's inputs, leading frames included
                "restarted_at_cut": restarted,
            }
            yield replace(frame, restored=(fit(pixels, frame.picture), decision), temporal=how)
        while waiting:
            yield waiting.popleft()[0]
        return after[0]

    item = read()
    while item is not None:
        frame, cut, member = item
        if cut:
            lead.clear()
            fresh = True
        if member and needed(frame.index):
            follow = yield from run(frame)
            item = follow if follow is not None else read()
            continue
        if member:
            lead.append(frame)
            fresh = False
        yield frame
        item = read()
