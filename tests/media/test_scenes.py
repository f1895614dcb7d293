"""Scene cuts on real clips (#26): bikes' five cuts, none inside carphone's single shot, and the join of two clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.media.scenes import SceneDetector
from app.media.video import iter_frames
from tests.support.media import bikes_path, carphone_path


def _starts(path: Path, every_n: int = 1, min_frames: int = 3) -> list[int]:
    detector = SceneDetector(min_frames=min_frames)
    indices = []
    for frame in iter_frames(path, 1000):
        if frame.index % every_n == 0:
            detector.feed(frame.rgb)
            indices.append(frame.index)
    return [indices[i] for i in detector.starts]


def test_bikes_cuts_are_found_and_nothing_else() -> None:
    """bikes.mp4 (250 frames) is five cuts between six shots (checked by eye: frames 30, 76, 137, 187, 242)."""
    assert _starts(bikes_path()) == [0, 30, 76, 137, 187, 242]


def test_every_tenth_frame_still_finds_the_cuts_without_false_ones() -> None:
    """Frames further apart differ more inside a shot (bikes pans): still no false cut, each cut at the first
    frame seen after it."""
    assert _starts(bikes_path(), every_n=10, min_frames=1) == [0, 30, 80, 140, 190]  # 242: no frame seen after


def test_one_shot_is_one_scene() -> None:
    assert _starts(carphone_path()) == [0]


def _first(path: Path, count: int) -> list[np.ndarray]:
    return [f.rgb for f, _ in zip(iter_frames(path, 1000), range(count), strict=False)]


def test_two_clips_joined_are_two_scenes() -> None:
    detector = SceneDetector()
    bikes = [np.ascontiguousarray(rgb[64:208, 232:408]) for rgb in _first(bikes_path(), 12)]  # 176x144, as carphone
    cuts = [detector.feed(rgb) for rgb in _first(carphone_path(), 12) + bikes]
    assert cuts.index(True) == 12 and sum(cuts) == 1 and detector.starts == [0, 12]
