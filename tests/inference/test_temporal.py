"""Temporal models on sequences (#27): windows with overlap stream frames in bounded memory and give what one window
over the whole sequence gives, within a tolerance; models that are not temporal are refused."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from app.core.errors import InvalidOption
from app.inference.device import Device
from app.inference.temporal import plan_windows, restore_frames, run_window
from tests.support.images import FAST_MODEL, psnr
from tests.support.interpolation import carphone_frames

MODEL = "basicvsr-vimeo-bi"


def clip(count: int, first: int = 30) -> list[np.ndarray]:
    """`count` real frames of the carphone clip (the man talks and turns; the car window behind him moves), 48 x 48
    crops, float 0..1."""
    frames = carphone_frames(list(range(first, first + count)))
    return [frames[i][40:88, 60:108].astype(np.float32) / 255 for i in range(first, first + count)]


def test_windows_give_what_the_whole_sequence_gives_and_hold_few_frames(device: Device) -> None:
    model = device.model(MODEL)
    frames = clip(10)
    whole = run_window(model, frames)
    pulled = 0

    def source() -> Iterator[np.ndarray]:
        nonlocal pulled
        for frame in frames:
            pulled += 1
            yield frame

    ahead = []  # frames read past each output when it came out
    windowed = []
    for index, frame in enumerate(restore_frames(model, source(), core=4, context=2)):
        ahead.append(pulled - index)
        windowed.append(frame)
    assert len(windowed) == len(frames) and windowed[0].shape == (192, 192, 3)
    assert max(ahead) == 4 + 2  # a core and its right context, never the whole clip
    errors = [float(np.abs(w - o).mean()) * 255 for w, o in zip(windowed, whole, strict=True)]
    assert max(errors) < 1.5, errors  # measured 0.27-1.01/255 (context 2); neighbouring frames differ by 2.4-14
    assert min(psnr(w, o) for w, o in zip(windowed, whole, strict=True)) > 40


def test_the_plan_covers_every_frame_once_with_context_on_both_sides() -> None:
    windows = plan_windows(10, core=4, context=2)
    assert [(w.start, w.stop, w.keep_start, w.keep_stop) for w in windows] == [
        (0, 6, 0, 4),
        (2, 10, 4, 8),
        (6, 10, 8, 10),
    ]


def test_a_model_that_is_not_temporal_or_frames_of_two_sizes_are_refused(device: Device) -> None:
    frames = clip(3)
    with pytest.raises(InvalidOption, match="not a temporal model"):
        list(restore_frames(device.model(FAST_MODEL), frames))
    with pytest.raises(InvalidOption, match="one size"):
        list(restore_frames(device.model(MODEL), [frames[0], frames[1][:40]], core=4, context=2))
    with pytest.raises(InvalidOption, match="core of at least 1"):
        list(restore_frames(device.model(MODEL), frames, core=0))
