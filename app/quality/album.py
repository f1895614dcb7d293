"""Choosing an album's photos: the good ones, the best K, with near-duplicates (bursts) kept to their best shot.

Photos are grouped as near-duplicates when their difference hashes are close (the same rule as best-frame
selection), or a little less close but taken within `BURST_SECONDS` of each other by the camera's clock (EXIF
DateTimeOriginal): a burst re-frames slightly, which moves the hash more than a re-encode does. Each group keeps
its least degraded copy, judged relatively (`app.quality.copies`): every pair of copies is compared side by side
(resolution, JPEG quality, exposure, then the fine detail of the same crop: lost detail is blur, extra detail
unrelated to the picture is noise), and the copy that wins the most comparisons is kept; on a tie, kept verdicts
before rejected ones, then the overall quality, then the earlier photo. Every photo ends with `chosen` and a `why`
a person can read; a group's kept photo names the copies it was kept over and what each is ("kept: q92 original
over q80 copy (more compressed: q80 against q92)")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from app.quality.copies import Copy, Verdict, Views, compare
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
    lost_to: Verdict | None = None  # the comparison with the group's kept copy, on the others
    duplicate_of: int | None = None
    distance: int | None = None
    chosen: bool = False
    why: str = ""
    # the decoded photo's `Views`, loaded only when it is compared with another copy (a photo in no group never is)
    load_views: Callable[[], Views | None] | None = field(default=None, repr=False)
    _copy: Copy | None = field(default=None, repr=False)

    def as_copy(self) -> Copy:
        assert self.scores is not None
        if self._copy is None:
            self._copy = Copy(self.scores, self.size, self.load_views() if self.load_views is not None else None)
        return self._copy

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
        best = _least_degraded(members)
        best.copies = [p for p in members if p is not best]
        for photo in members:
            photo.group = best.index
            if photo is not best:
                photo.duplicate_of = best.index
                photo.distance = closest.get(photo.index)
                photo.lost_to = compare(best.as_copy(), photo.as_copy())
        for photo in members:
            photo._copy = None  # the views are only needed within the group


def _least_degraded(members: list[AlbumPhoto]) -> AlbumPhoto:
    """The copy that wins the most side-by-side comparisons; ties by verdict, quality, then upload order."""
    if len(members) == 1:
        return members[0]
    wins = {p.index: 0 for p in members}
    for n, a in enumerate(members):
        for b in members[n + 1 :]:
            better = compare(a.as_copy(), b.as_copy()).better
            if better:
                wins[(a if better > 0 else b).index] += 1
    return max(members, key=lambda p: (wins[p.index], *p.rank()))


def _kept_over(best: AlbumPhoto) -> str:
    """\"kept: q92 original over q80 copy (more compressed: q80 against q92), q92 copy (noisier: ...)\""""
    group = [best, *best.copies]
    sizes_differ = len({p.size for p in group}) > 1
    copies = []
    for copy in best.copies:
        assert copy.scores is not None
        why = []
        if copy.lost_to is not None and copy.lost_to.better > 0:
            why.append(copy.lost_to.why)
        elif copy.scores.quality < (best.scores.quality if best.scores else 0):
            why.append(f"lower quality {copy.scores.quality:.2f}")
        if copy.scores.verdict == "reject":
            why.extend(copy.scores.reasons)
        copies.append(f"{copy.label(sizes_differ)} copy" + (f" ({'; '.join(why)})" if why else ""))
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
            if photo.lost_to is not None and photo.lost_to.better > 0:
                photo.why += f": this copy is {photo.lost_to.why}"
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
