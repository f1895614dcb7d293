"""A long video job in segments that any worker claims, leases and redoes alone (#26).

The worker holding the job plans the segments once (`split`): the selected frames in runs of about
`ENHANCE_SEGMENT_FRAMES`, each boundary moved to a scene cut near it, else to a keyframe near it (a segment that
starts on a keyframe decodes nothing it does not keep). Every worker, the job's holder included, then claims one
segment at a time (`JobStore.claim_segment`), holds it under its own lease (`SegmentLease`) and records its frames
under that lease, so a worker killed mid-segment costs only the frames of that segment it had not recorded. The
job's holder waits for the segments others hold, takes over any whose lease expired, and publishes the outputs from
the recorded frames once every segment is done; meanwhile it feeds the GIF and the video the frames recorded so
far, in frame order (`RecordedFeed`), so little of that is left when the last segment ends.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from app.jobs.models import FrameRecord
from app.jobs.outputs import LiveOutputs

log = logging.getLogger(__name__)

SNAP = 0.25  # a boundary moves to a cut or keyframe at most this fraction of a segment away


def split(frames: Sequence[int], size: int, cuts: Sequence[int] = (), keyframes: Sequence[int] = ()) -> list[list[int]]:
    """`frames` (sorted decode-order indices) in about equal runs of at most ~`size`, as few as that allows. Each
    boundary goes to the nearest scene cut (`cuts`: the first frame of a new scene) within `SNAP` of a run, else
    to the nearest keyframe, else stays where equal runs put it."""
    frames = list(frames)
    if size <= 0 or len(frames) <= size:
        return [frames]
    count = math.ceil(len(frames) / size)
    step = len(frames) / count
    reach = max(1, int(step * SNAP))
    boundaries = [0]
    for k in range(1, count):
        ideal = round(k * step)
        low, high = max(boundaries[-1] + 1, ideal - reach), min(len(frames) - 1, ideal + reach)
        boundaries.append(_snap(frames, ideal, low, high, cuts, keyframes))
    boundaries.append(len(frames))
    return [frames[a:b] for a, b in itertools.pairwise(boundaries) if b > a]


def _snap(frames: list[int], ideal: int, low: int, high: int, cuts: Sequence[int], keys: Sequence[int]) -> int:
    """The position in `frames` to start the next run: one whose frame starts a scene (a cut falls between it and
    the frame before), else one that is a keyframe, nearest `ideal` within [low, high]."""
    if low > high:
        return max(low, min(ideal, len(frames) - 1))

    def starts_scene(p: int) -> bool:
        at = bisect.bisect_right(cuts, frames[p - 1])  # the first cut after the previous kept frame
        return at < len(cuts) and cuts[at] <= frames[p]

    key_set = set(keys)
    order = sorted(range(low, high + 1), key=lambda p: (abs(p - ideal), p))
    for test in (starts_scene, lambda p: frames[p] in key_set):
        for position in order:
            if test(position):
                return position
    return min(max(ideal, low), high)


class SegmentLease:
    """Renews a segment's lease from its own thread every third of the lease while a worker restores it; `lost`
    is set when the store says another worker holds the segment now."""

    def __init__(self, renew: Callable[[], bool], seconds: float, name: str) -> None:
        self._renew_once, self._seconds, self._name = renew, seconds, name
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="segment-lease", daemon=True)

    def __enter__(self) -> SegmentLease:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _renew(self) -> None:
        while not self._stop.wait(self._seconds / 3):
            try:
                held = self._renew_once()
            except Exception:  # the database is briefly unreachable: try again at the next beat
                log.warning("segment lease renewal failed; retrying", exc_info=True)
                continue
            if not held:
                log.warning("lost the lease on %s; stopping it", self._name)
                self.lost.set()
                return


FEED_POLL_SECONDS = 0.5


class RecordedFeed:
    """Feeds `live` (the GIF and the video) the recorded frames in frame order, read back from their PNGs, on its
    own thread while the segments are restored by whichever workers: each frame as soon as every frame before it is
    recorded. `finish` feeds the rest; False when feeding failed (the outputs are then rebuilt at the end)."""

    def __init__(
        self,
        live: LiveOutputs,
        order: list[int],
        recorded: Callable[[int], list[FrameRecord]],
        paths: Callable[[int], tuple[Path, Path]],
    ) -> None:
        self.live, self._order, self._recorded, self._paths = live, order, recorded, paths
        self._next = 0
        self._failed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="segment-outputs", daemon=True)

    def __enter__(self) -> RecordedFeed:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _feed_ready(self) -> None:
        if self._next >= len(self._order):
            return
        ready = {f.index: f for f in self._recorded(self._order[self._next])}
        while self._next < len(self._order) and (frame := ready.get(self._order[self._next])) is not None:
            source, enhanced = self._paths(frame.index)
            self.live.add(_rgb8(source), _rgb8(enhanced), frame.pts)
            self._next += 1

    def _run(self) -> None:
        while not self._stop.wait(FEED_POLL_SECONDS):
            try:
                self._feed_ready()
            except Exception:
                log.warning("feeding the outputs while segments run failed; they are rebuilt at the end", exc_info=True)
                self._failed = True
                return

    def finish(self) -> bool:
        """After every segment is done: stop the thread and feed what is left."""
        self.__exit__()
        if self._failed:
            return False
        self._feed_ready()
        return True


def _rgb8(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))
