"""Best-frame selection: the K best frames of a clip, one per scene first, spread across time, with near-duplicates
dropped.

When the clip has several scenes (`Candidate.scene`, from the scene cuts), each scene contributes its best frame
first (kept frames before rejected ones, then by overall quality), the scenes whose best frames rank highest first
when there are more scenes than K: K picks are then K different shots. Picks still missing come from K consecutive
time segments of (nearly) equal length, each segment without a pick contributing its best frame, then from the
best remaining frames anywhere. No pick is a near-duplicate, by perceptual hash, of a frame already chosen. Every
candidate gets a reason, so the report can say why it was or was not chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.quality.scores import Scores, hamming

NEAR_DUPLICATE_BITS = 8  # of 64: exact copies are 0, re-encodes and blurred copies a few, new content 15+


@dataclass
class Candidate:
    index: int
    time: float | None
    scores: Scores
    scene: int = 0  # which shot of the clip, from 0 (one scene when cuts were not looked for)
    chosen: bool = False
    reason: str = ""

    def rank(self) -> tuple[bool, float]:
        return (self.scores.verdict == "keep", self.scores.quality)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "time": self.time,
            "scene": self.scene,
            "chosen": self.chosen,
            "reason": self.reason,
            "scores": self.scores.as_dict(),
        }


def _duplicate_of(candidate: Candidate, chosen: list[Candidate]) -> tuple[Candidate, int] | None:
    for other in chosen:
        distance = hamming(candidate.scores.phash, other.scores.phash)
        if distance <= NEAR_DUPLICATE_BITS:
            return other, distance
    return None


def select_best(candidates: list[Candidate], k: int) -> list[Candidate]:
    """Mark `chosen` and `reason` on every candidate; returns the chosen ones in time order."""
    chosen: list[Candidate] = []
    n = len(candidates)
    segments = [candidates[i * n // k : (i + 1) * n // k] for i in range(min(k, n))]

    def try_pick(pool: list[Candidate], why: str) -> bool:
        for candidate in sorted(pool, key=Candidate.rank, reverse=True):
            if candidate.chosen:
                continue
            duplicate = _duplicate_of(candidate, chosen)
            if duplicate is not None:
                other, distance = duplicate
                candidate.reason = f"near-duplicate of frame {other.index} (hash distance {distance})"
                continue
            candidate.chosen = True
            candidate.reason = why.format(quality=candidate.scores.quality)
            chosen.append(candidate)
            return True
        return False

    scenes: dict[int, list[Candidate]] = {}
    for candidate in candidates:
        scenes.setdefault(candidate.scene, []).append(candidate)
    if len(scenes) > 1:
        by_best = sorted(scenes.items(), key=lambda item: max(c.rank() for c in item[1]), reverse=True)
        for scene, members in by_best:
            if len(chosen) >= k:
                break
            try_pick(members, f"best of scene {scene + 1}/{len(scenes)} (quality {{quality:.2f}})")
    for number, segment in enumerate(segments, 1):
        if len(chosen) < k and not any(c.chosen for c in segment):
            try_pick(segment, f"best of time segment {number}/{len(segments)} (quality {{quality:.2f}})")
    while len(chosen) < k:
        if not try_pick(candidates, "best remaining frame (quality {quality:.2f})"):
            break
    for candidate in candidates:
        if candidate.chosen or candidate.reason:
            continue
        duplicate = _duplicate_of(candidate, chosen)
        if duplicate is not None:
            candidate.reason = f"near-duplicate of frame {duplicate[0].index} (hash distance {duplicate[1]})"
        elif candidate.scores.verdict == "reject":
            candidate.reason = "rejected: " + "; ".join(candidate.scores.reasons)
        elif len(scenes) > 1:
            candidate.reason = f"a better frame was chosen (quality {candidate.scores.quality:.2f})"
        else:
            candidate.reason = f"a better frame was chosen in its time segment (quality {candidate.scores.quality:.2f})"
    return sorted(chosen, key=lambda c: c.index)
