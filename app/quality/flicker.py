"""Flicker: how much an enhanced video changes from frame to frame beyond what the motion explains, against the
same for its source, so models can be compared on temporal stability.

The measure is the warping error of video temporal-consistency work (Lai et al., "Learning Blind Video Temporal
Consistency", ECCV 2018): the previous frame is warped onto the next one along the optical flow, and the mean
absolute difference is what changed that motion does not explain. It is taken over the pixels the flow can follow
(occlusions masked by a forward-backward check) where the source is flat (see `FLAT_SHARE`). The flow is computed
once per pair, on the source frames (OpenCV's DIS, on frames at most `FLOW_WIDTH` wide for speed), and the same flow
warps the source and the enhanced frames, both seen at one analysis size (the enhanced frame's, at most
`ANALYSIS_WIDTH` wide): a ratio near 1 is as stable as the source, above 1 is flicker the model added (texture that
shimmers, details that come and go, the source's noise amplified). A job measures a sample of the pairs (the
first, then one in `SPARSE_EVERY`), within 0.02 of every pair's ratio on real outputs at a quarter of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

FLOW_WIDTH = 320  # DIS on a 320-px-wide frame: a few milliseconds
ANALYSIS_WIDTH = 640  # where the warped frames are compared: fine enough to see an upscaler's shimmering texture
# Which pairs a job measures: the first, then one in SPARSE_EVERY (`FlickerMeter.measures`). Measuring every pair
# cost a job 21-28 ms of CPU a 704x576 frame, a tenth of animevideov3's own; one in four costs 6-7 ms, and its ratio
# stayed within 0.02 of every pair's on animevideov3 and span-x4 outputs of carphone, bikes (with a cut) and a
# two-scene clip, 12 to 60 frames (0.000-0.018; docs/performance.md). A smaller analysis size was no substitute:
# the ratio falls with it (carphone, animevideov3: 0.881 at 704 px, 0.794 at 640, 0.759 at 480, 0.732 at 360), since
# an upscaler's shimmer lives in the finest detail.
DENSE_PAIRS = 1
SPARSE_EVERY = 4
EVERY_PAIR = 1 << 62  # `dense_pairs` that measures every pair: the reference (`flicker`)
# Forward-backward consistency (Sundaram et al., ECCV 2010, as Lai et al. and Ruder et al. use it): a pixel whose
# flow does not come back to itself is occluded or unreliable, and is left out.
CONSISTENCY_RATIO = 0.01
CONSISTENCY_PIXELS = 0.5
# Measured where the source is flat: the half of the followed pixels farthest from an edge. On an edge, a flow error
# of a tenth of a pixel costs more the sharper the frame, so a sharper but steady upscale would read as flicker
# (carphone, bicubic x4 then an unsharp mask: 1.35 x the source's on every pixel, 1.29 on the flat half), while the
# shimmer of invented texture and noise shows most on flat parts (fresh noise sigma 5: 1.66 on every pixel, 2.7 on the
# flat half).
FLAT_SHARE = 0.5
EDGE_SIGMA = 2.0  # analysis pixels: the reach of an upscaler's edge halo


def _fit(width: int, height: int, cap: int) -> tuple[int, int]:
    if width <= cap:
        return width, height
    return cap, max(8, round(height * cap / width))


def _resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    height, width = rgb.shape[:2]
    if (width, height) == size:
        return np.ascontiguousarray(rgb[..., :3])
    interpolation = cv2.INTER_CUBIC if size[0] > width else cv2.INTER_AREA
    return cv2.resize(np.ascontiguousarray(rgb[..., :3]), size, interpolation=interpolation)


def _follow(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The remap coordinates that pull each pixel from where `flow` says it came from."""
    height, width = flow.shape[:2]
    map_x = flow[..., 0] + np.arange(width, dtype=np.float32)[None, :]
    map_y = flow[..., 1] + np.arange(height, dtype=np.float32)[:, None]
    return np.ascontiguousarray(map_x), np.ascontiguousarray(map_y)


def _inside(map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    height, width = map_x.shape
    inside: np.ndarray = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
    return inside


def _flat(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """1 where `rgb` (the source at the analysis size) is among the `FLAT_SHARE` flattest pixels of `mask`."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gradient = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    edges = cv2.dilate(cv2.GaussianBlur(gradient, (0, 0), EDGE_SIGMA), np.ones((5, 5), np.uint8))
    limit = float(np.quantile(edges[mask > 0], FLAT_SHARE)) if mask.any() else 0.0
    flat: np.ndarray = (edges <= limit).astype(np.uint8)
    return flat


@dataclass
class PairError:
    source: float  # mean absolute warping error, 0..255
    enhanced: float
    visible: float  # the share of pixels the flow could follow (not occluded, inside the frame)


@dataclass
class FlickerMeter:
    """Fed the frames of a video in order (source and enhanced, uint8 RGB), says how much each flickers. A pair
    across a scene cut (`new_scene`) is not measured: no flow explains a cut."""

    dense_pairs: int = DENSE_PAIRS
    sampling: str | None = None  # which pairs, for the report, when the caller picks them (`start` between runs)
    pairs: list[PairError] = field(default_factory=list)
    cuts: int = 0
    _dis: Any = None
    _previous: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # flow gray, source, enhanced (analysis)
    _sizes: tuple[tuple[int, int], tuple[int, int]] | None = None  # (flow size, analysis size)
    _fed: int = 0

    def start(self, position: int = 0) -> None:
        """Forget the previous frame: the next one starts a new run of consecutive frames, fed at `position` of the
        whole video (a segment's part, or the pair across two parts, samples the pairs one run would)."""
        self._previous, self._fed = None, position

    def measures(self, position: int) -> bool:
        """Whether the pair that ends at the frame fed at `position` is measured: every one of the first
        `dense_pairs`, then one in `SPARSE_EVERY`, so a long video's cost per frame stays a fraction of a pair's."""
        dense = self.dense_pairs
        return 0 < position <= dense or (position > dense and position % SPARSE_EVERY == 0)

    def add(self, source: np.ndarray, enhanced: np.ndarray, new_scene: bool = False) -> None:
        position, self._fed = self._fed, self._fed + 1
        if new_scene and position > 0:
            self.cuts += 1
        ends, starts = self.measures(position) and not new_scene, self.measures(position + 1)
        current = self._prepare(source, enhanced) if ends or starts else None
        if ends and self._previous is not None and current is not None:
            self.pairs.append(self._measure(self._previous, current))
        self._previous = current if starts else None

    def _prepare(self, source: np.ndarray, enhanced: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The frame as the flow and the comparison see it (sizes fixed by the first frame)."""
        if self._sizes is None:
            height, width = source.shape[:2]
            enhanced_height, enhanced_width = enhanced.shape[:2]
            # The enhanced frame's aspect (an odd source side may have been cropped even) for both.
            self._sizes = (_fit(width, height, FLOW_WIDTH), _fit(enhanced_width, enhanced_height, ANALYSIS_WIDTH))
            self._dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        flow_size, analysis = self._sizes
        gray = cv2.cvtColor(_resize(source, flow_size), cv2.COLOR_RGB2GRAY)
        return gray, _resize(source, analysis), _resize(enhanced, analysis)

    def _measure(
        self, previous: tuple[np.ndarray, np.ndarray, np.ndarray], current: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> PairError:
        """Warp the previous frames onto the current ones along the flow from current to previous; the occlusion
        check runs at the flow's size, the comparison at the analysis size."""
        backward = self._dis.calc(current[0], previous[0], None)  # for each current pixel: where it was before
        forward = self._dis.calc(previous[0], current[0], None)
        map_x, map_y = _follow(backward)
        back_again = cv2.remap(forward, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        round_trip = np.square(backward + back_again).sum(axis=-1)
        lengths = np.square(backward).sum(axis=-1) + np.square(back_again).sum(axis=-1)
        visible = _inside(map_x, map_y) & (round_trip <= CONSISTENCY_RATIO * lengths + CONSISTENCY_PIXELS)
        height, width = current[1].shape[:2]
        flow_height, flow_width = current[0].shape
        scale = np.array([width / flow_width, height / flow_height], dtype=np.float32)
        map_x, map_y = _follow(cv2.resize(backward, (width, height), interpolation=cv2.INTER_LINEAR) * scale)
        mask = cv2.resize(visible.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
        mask &= _inside(map_x, map_y).astype(np.uint8)
        if not mask.any():
            mask = _inside(map_x, map_y).astype(np.uint8)
        mask &= _flat(current[1], mask)
        errors = []
        for before, now in zip(previous[1:], current[1:], strict=True):
            warped = cv2.remap(before, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            errors.append(float(np.mean(cv2.mean(cv2.absdiff(now, warped), mask=mask)[:3])))
        return PairError(errors[0], errors[1], float(visible.mean()))

    def _sampling(self) -> str:
        if self.sampling is not None:
            return self.sampling
        if self.dense_pairs >= EVERY_PAIR:
            return "every pair"
        first = "the first pair" if self.dense_pairs == 1 else f"the first {self.dense_pairs} pairs"
        return f"{first}, then one in {SPARSE_EVERY}"

    def result(self) -> dict[str, Any] | None:
        """For report.json: the mean warping error of the enhanced frames and of the source (0..255), their ratio,
        and what was measured; None with fewer than two frames in one scene."""
        if not self.pairs:
            return None
        source = float(np.mean([p.source for p in self.pairs]))
        enhanced = float(np.mean([p.enhanced for p in self.pairs]))
        assert self._sizes is not None
        return {
            "enhanced": round(enhanced, 3),
            "source": round(source, 3),
            "ratio": round(enhanced / source, 3) if source > 0 else None,
            "pairs": len(self.pairs),
            "cuts_skipped": self.cuts,
            "visible": round(float(np.mean([p.visible for p in self.pairs])), 3),
            "analysis_size": list(self._sizes[1]),
            "measured_at": {
                "analysis_size": list(self._sizes[1]),
                "flow_size": list(self._sizes[0]),
                "pairs": self._sampling(),
            },
            "method": "mean absolute warping error (0-255) between consecutive frames after DIS optical-flow "
            "alignment (flow from the source frames, occlusions and edges masked); ratio > 1: the enhanced video "
            "flickers more than its source",
        }


def flicker(sources: list[np.ndarray], enhanced: list[np.ndarray], cuts: set[int] | None = None) -> dict[str, Any]:
    """The measure on whole lists of frames (`cuts`: positions that start a new scene), every pair of them: the
    reference a job's sampled measure is checked against. For tests and benchmarks."""
    meter = FlickerMeter(dense_pairs=EVERY_PAIR)
    for position, (source, made) in enumerate(zip(sources, enhanced, strict=True)):
        meter.add(source, made, position in (cuts or set()))
    result = meter.result()
    if result is None:
        raise ValueError("flicker needs at least two frames of one scene")
    return result
