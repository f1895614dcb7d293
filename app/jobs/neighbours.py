"""The frames around each video frame, for `deblur=burst`: a small look-ahead window over the decoded frames."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from app.jobs.kinds.base import SourceFrame

RADIUS = 2  # neighbours on each side: the benchmark's setting (benchmarks/bench_burst_deblur.py)


def with_neighbours(units: Iterator[SourceFrame], radius: int = RADIUS) -> Iterator[SourceFrame]:
    """`units` in order, each carrying the pictures of up to `radius` decoded frames on either side (fewer at the
    ends). At most 2 * radius + 1 frames are held; each frame comes out once `radius` more are decoded."""
    window: list[SourceFrame] = []
    start = 0  # stream position of window[0]
    ready = 0  # stream position of the next frame to hand out

    def emit(k: int) -> SourceFrame:
        near = range(max(start, k - radius), min(start + len(window), k + radius + 1))
        return replace(window[k - start], neighbours=tuple(window[j - start].picture for j in near if j != k))

    for position, unit in enumerate(units):
        window.append(unit)
        while ready + radius <= position:
            yield emit(ready)
            ready += 1
            while start < ready - radius:
                window.pop(0)
                start += 1
    while ready < start + len(window):
        yield emit(ready)
        ready += 1
