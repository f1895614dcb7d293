"""Choosing an album's photos: the good ones, the best K, with near-duplicates (bursts) kept to their best shot.

Photos are grouped as near-duplicates when their difference hashes are close (the same rule as best-frame
selection), or a little less close but taken within `BURST_SECONDS` of each other by the camera's clock (EXIF
DateTimeOriginal): a burst re-frames slightly, which moves the hash more than a re-encode does. Each group keeps
its least degraded copy: kept verdicts before rejected ones, then quality weighed, within the group, by resolution
(a downscaled copy has less of the shot), sharpness against the sharpest kept copy of the same size (the quality caps
it at "sharp", so a slightly blurred copy would tie) and naturalness (NIQE: the copies show the same scene, so a
higher NIQE is compression, blur or noise, not content); the earlier photo on a tie. Every photo ends with `chosen`
and a `why` a person can read; a group's kept photo names the copies it was kept over ("kept: q92 original over q45
copy").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from app.quality.scores import Scores, hamming
from app.quality.select import NEAR_DUPLICATE_BITS

BURST_BITS = 16  # hash distance still counted as one shot when the camera says they were taken together
BURST_SECONDS = 2.0

Keep = Literal["all", "good", "best"]


@dataclass
class AlbumPhoto:
    index: int  # upload order
    name: str
    scores: Scores | None = None  # None: the photo could not be used (`problem` says why)
    taken_at: datetime | None = None
    problem: str | None = None
    size: tuple[int, int] | None = None  # width, height as decoded
    group: int | None = None  # the index of the group's best shot
    copies: list[AlbumPhoto] = field(default_factory=list)  # the group's other members, on its best shot only
    duplicate_of: int | None = None
    distance: int | None = None
    chosen: bool = False
    why: str = ""

    def rank(self) -> tuple[bool, float, int]:
        assert self.scores is not None
        return (self.scores.verdict == "keep", self.scores.quality, -self.index)

    def label(self, sizes_differ: bool) -> str:
        """How this copy was stored, for a group's verdict: `q80`, `lossless`, the size when sizes differ."""
        assert self.scores is not None
        jpeg = self.scores.jpeg_quality
        parts = [f"q{jpeg}" if jpeg is not None else "lossless"]
        if sizes_differ and self.size:
            parts.append(f"{self.size[0]}x{self.size[1]}")
        return " ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "chosen": self.chosen,
            "why": self.why,
            "verdict": self.scores.verdict if self.scores else None,
            "reasons": list(self.scores.reasons) if self.scores else [],
            "quality": round(self.scores.quality, 4) if self.scores else None,
            "group": self.group,
            "duplicate_of": self.duplicate_of,
            "taken_at": self.taken_at.isoformat() if self.taken_at else None,
            "problem": self.problem,
            "scores": self.scores.as_dict() if self.scores else None,
        }


def _same_shot(a: AlbumPhoto, b: AlbumPhoto) -> int | None:
    assert a.scores is not None and b.scores is not None
    distance = hamming(a.scores.phash, b.scores.phash)
    if distance <= NEAR_DUPLICATE_BITS:
        return distance
    if a.taken_at and b.taken_at and abs((a.taken_at - b.taken_at).total_seconds()) <= BURST_SECONDS:
        return distance if distance <= BURST_BITS else None
    return None


def group_duplicates(photos: list[AlbumPhoto]) -> None:
    """Union-find over every usable pair; each group is named after its best shot."""
    usable = [p for p in photos if p.scores is not None]
    parent = {p.index: p.index for p in usable}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    closest: dict[int, int] = {}
    for n, a in enumerate(usable):
        for b in usable[n + 1 :]:
            distance = _same_shot(a, b)
            if distance is not None:
                parent[root(b.index)] = root(a.index)
                closest[b.index] = min(closest.get(b.index, 64), distance)
                closest[a.index] = min(closest.get(a.index, 64), distance)
    groups: dict[int, list[AlbumPhoto]] = {}
    for photo in usable:
        groups.setdefault(root(photo.index), []).append(photo)
    for members in groups.values():
        best = max(members, key=lambda p: _copy_rank(p, members))
        best.copies = [p for p in members if p is not best]
        for photo in members:
            photo.group = best.index
            if photo is not best:
                photo.duplicate_of = best.index
                photo.distance = closest.get(photo.index)


def _copy_rank(photo: AlbumPhoto, members: list[AlbumPhoto]) -> tuple[bool, float, int]:
    """Rank among copies of one shot: the least degraded first (see the module's docstring)."""
    assert photo.scores is not None
    score = photo.scores.quality
    pixels = [p.size[0] * p.size[1] for p in members if p.size]
    if photo.size and pixels:
        score *= math.sqrt(photo.size[0] * photo.size[1] / max(pixels))
    # The re-blur ratio is capped at "sharp" in the quality; between copies of one size, a loss of it is blur. Only
    # kept copies set the bar: strong noise inflates the ratio.
    same_size = [p.scores for p in members if p.scores and p.size == photo.size and p.scores.verdict == "keep"]
    if same_size:
        score *= min(1.0, photo.scores.sharpness / max(max(s.sharpness for s in same_size), 1e-6))
    niqes = [p.scores.niqe for p in members if p.scores and p.scores.niqe is not None]
    if photo.scores.niqe is not None and len(niqes) == len(members):
        score *= math.sqrt(min(niqes) / max(photo.scores.niqe, 1e-6))  # softened: NIQE varies by a few points alone
    return (photo.scores.verdict == "keep", score, -photo.index)


def _kept_over(best: AlbumPhoto) -> str:
    """\"kept: q92 original over q80 copy, lossless 256x192 copy (too soft ...)\""""
    group = [best, *best.copies]
    sizes_differ = len({p.size for p in group}) > 1
    copies = []
    for copy in best.copies:
        assert copy.scores is not None
        text = f"{copy.label(sizes_differ)} copy"
        if copy.scores.verdict == "reject":
            text += f" ({'; '.join(copy.scores.reasons)})"
        copies.append(text)
    return f"kept: {best.label(sizes_differ)} original over {', '.join(copies)}"


def choose(photos: list[AlbumPhoto], keep: Keep, best_k: int | None, drop_duplicates: bool) -> list[AlbumPhoto]:
    """Mark `chosen` and `why` on every photo; returns the chosen ones in upload order."""
    group_duplicates(photos)
    names = {p.index: p.name for p in photos}
    eligible = []
    for photo in photos:
        if photo.scores is None:
            photo.why = f"skipped: {photo.problem}"
        elif drop_duplicates and photo.duplicate_of is not None:
            photo.why = (
                f"near-duplicate of {names[photo.duplicate_of]} (hash distance {photo.distance}), which is better"
            )
            if photo.scores.verdict == "reject":
                photo.why += "; also " + "; ".join(photo.scores.reasons)
        else:
            eligible.append(photo)
    if keep == "best" or best_k is not None:
        k = best_k or 1
        ranked = sorted(eligible, key=AlbumPhoto.rank, reverse=True)
        for place, photo in enumerate(ranked, 1):
            assert photo.scores is not None
            photo.chosen = place <= k
            if photo.chosen:
                photo.why = f"#{place} of the {k} best (quality {photo.scores.quality:.2f})"
                if drop_duplicates and photo.copies:
                    photo.why += "; " + _kept_over(photo)
            elif photo.scores.verdict == "reject":
                photo.why = "rejected: " + "; ".join(photo.scores.reasons)
            else:
                photo.why = f"not among the {k} best (#{place}, quality {photo.scores.quality:.2f})"
    else:
        for photo in eligible:
            assert photo.scores is not None
            photo.chosen = keep == "all" or photo.scores.verdict == "keep"
            if photo.chosen:
                photo.why = "kept" if keep == "all" else f"good (quality {photo.scores.quality:.2f})"
                if drop_duplicates and photo.copies:
                    photo.why += "; " + _kept_over(photo)
            else:
                photo.why = "rejected: " + "; ".join(photo.scores.reasons)
    return [p for p in photos if p.chosen]
