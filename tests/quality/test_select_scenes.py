"""Best-frame selection by scene (#26): on bikes (six shots), K=6 returns one frame of each shot."""

from __future__ import annotations

import copy

import pytest

from app.media.scenes import SceneDetector
from app.media.video import iter_frames
from app.quality.scores import score_image
from app.quality.select import Candidate, select_best
from tests.support.media import bikes_path


@pytest.fixture(scope="module")
def scored() -> list[Candidate]:
    return _candidates(every_n=4)


def _candidates(every_n: int) -> list[Candidate]:
    """Every frame goes through the detector (the cuts are found on decoded frames); every n-th is scored."""
    detector, candidates = SceneDetector(), []
    for frame in iter_frames(bikes_path(), 1000):
        detector.feed(frame.rgb)
        if frame.index % every_n == 0:
            small = frame.rgb[::2, ::2]  # scoring at half size keeps the test quick; the ranking is what counts
            candidates.append(Candidate(frame.index, frame.seconds, score_image(small), detector.scene))
    return candidates


def test_k_best_are_k_different_shots(scored: list[Candidate]) -> None:
    candidates = copy.deepcopy(scored)
    assert len({c.scene for c in candidates}) == 6
    chosen = select_best(candidates, 6)
    assert sorted(c.scene for c in chosen) == [0, 1, 2, 3, 4, 5]  # time segments alone chose two of one shot
    assert all(c.reason.startswith("best of scene") for c in chosen)
    assert [c.index for c in chosen] == sorted(c.index for c in chosen)


def test_fewer_picks_than_shots_take_the_shots_whose_best_frames_rank_highest(scored: list[Candidate]) -> None:
    candidates = copy.deepcopy(scored)
    best_by_scene = {s: max(c.rank() for c in candidates if c.scene == s) for s in range(6)}
    top = sorted(best_by_scene, key=lambda s: best_by_scene[s], reverse=True)[:3]
    assert sorted(c.scene for c in select_best(candidates, 3)) == sorted(top)
