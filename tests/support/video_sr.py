"""Frames for the video super-resolution tests: a run of the carphone clip's real frames, cropped."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.support.interpolation import carphone_frames

GOLDEN_FIRST = 40  # frames 40-44: the man's head turns, the window behind him moves
GOLDEN_COUNT = 5
GOLDEN_CROP = (slice(30, 94), slice(60, 124))  # 64 x 64 of 144 x 176: face and the car window's edge
# The windows (start, stop) of the golden frames the reference ran; it gives each window's middle frame.
GOLDEN_WINDOWS = ((0, 5), (1, 4))


def golden_frames() -> np.ndarray:
    """(5, 64, 64, 3) uint8: what tests/fixtures/basicvsr/generate.py runs through the reference."""
    indices = list(range(GOLDEN_FIRST, GOLDEN_FIRST + GOLDEN_COUNT))
    frames = carphone_frames(indices)
    return np.stack([frames[i][GOLDEN_CROP] for i in indices])


def golden_inputs(path: str | Path) -> None:
    np.savez_compressed(path, frames=golden_frames(), windows=np.array(GOLDEN_WINDOWS))
