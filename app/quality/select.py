"""Best-frame selection: the K best frames of a clip, spread across time, with near-duplicates dropped.

The candidates are cut into K consecutive segments of (nearly) equal length; each segment contributes its best
frame (kept frames before rejected ones, then by overall quality) that is not a near-duplicate, by perceptual hash,
of a frame already chosen. Segments left without a pick are filled from the best remaining frames anywhere.
Every candidate gets a reason, so the report can say why it was or was not chosen.
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
    chosen: bool = False
    reason: str = ""

    def rank(self) -> tuple[bool, float]:
        return (self.scores.verdict == "keep", self.scores.quality)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "time": self.time,
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

    unfilled = 0
    for number, segment in enumerate(segments, 1):
        if not try_pick(segment, f"best of time segment {number}/{len(segments)} (quality {{quality:.2f}})"):
            unfilled += 1
    for _ in range(unfilled):
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
        else:
            candidate.reason = f"a better frame was chosen in its time segment (quality {candidate.scores.quality:.2f})"
    return sorted(chosen, key=lambda c: c.index)
