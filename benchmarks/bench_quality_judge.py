"""The compression-aware quality judge (#28) on real photos with known degradations: per degradation (JPEG 80/60/40,
downscale, Gaussian blur, darkening, Gaussian noise) the Spearman correlation between the degradation level and the
score, averaged over the photos: the overall quality alone (higher is better), NIQE (lower is better, so its sign is
flipped) and side by side (each copy's wins against the other copies of its series, as an album group compares
them: `app.quality.copies`); and the album's choice: 20 real photos, each as an original (q92) plus its 15 degraded
copies in one album, `keep=all&duplicates=drop`, counting the groups that kept the original. Prints a table and
writes JSON; `--verbose` prints every group's scores.

    .venv/bin/python benchmarks/bench_quality_judge.py
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

from app.quality.album import AlbumPhoto, choose
from app.quality.compression import jpeg_quality
from app.quality.copies import Copy, Views, compare, views
from app.quality.scores import Scores, score_image

RESULTS = Path(__file__).parent / "results"
# Every real photograph skimage ships offline (its synthetic images left out: colorwheel, logo, checkerboard, horse,
# phantom, blobs); the stereo pair's two views are two photos of one scene. `cat` is chelsea again.
PHOTOS = [
    "astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins", "grass", "gravel",
    "hubble_deep_field", "immunohistochemistry", "microaneurysms", "moon", "page", "retina", "rocket", "text",
    "motorcycle_left", "motorcycle_right",
]  # fmt: skip
Degrade = Callable[[np.ndarray, float, np.random.Generator], np.ndarray]


def load(name: str) -> np.ndarray:
    """An skimage photo as H x W x 3 uint8 (grey ones repeated)."""
    if name.startswith("motorcycle_"):
        left, right, _ = data.stereo_motorcycle()  # type: ignore[no-untyped-call]
        photo = left if name.endswith("left") else right
    else:
        photo = getattr(data, name)()
    photo = np.ascontiguousarray(photo)
    return np.stack([photo] * 3, axis=2) if photo.ndim == 2 else photo[..., :3]


def _jpeg(image: np.ndarray, quality: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, "JPEG", quality=quality)
    return out.getvalue()


def _resize(image: np.ndarray, factor: float) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.resize(image, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_AREA)


# name -> (levels from mild to strong, how to apply one); every result is stored as a q92 JPEG but the JPEG rows
DEGRADATIONS: dict[str, tuple[list[float], Degrade]] = {
    "jpeg": ([92, 80, 60, 40], lambda im, q, rng: im),
    "downscale": ([1.0, 0.75, 0.5, 0.35], lambda im, f, rng: _resize(im, f)),
    "blur": ([0.0, 1.0, 2.0, 3.0], lambda im, s, rng: cv2.GaussianBlur(im, (0, 0), s) if s else im),
    "dark": ([1.0, 0.5, 0.3, 0.15], lambda im, f, rng: (im * f).astype(np.uint8)),
    "noise": (
        [0.0, 5.0, 15.0, 30.0],
        lambda im, s, rng: np.clip(im + rng.normal(0, s, im.shape), 0, 255).astype(np.uint8),
    ),
}


def _score(encoded: bytes) -> tuple[Scores, tuple[int, int], Views]:
    pixels = np.asarray(Image.open(io.BytesIO(encoded)).convert("RGB"))
    scores = score_image(pixels, jpeg_quality=jpeg_quality(encoded))
    return scores, (pixels.shape[1], pixels.shape[0]), views(pixels)


def _relative_ranks(copies: list[Copy]) -> list[float]:
    """Each copy's side-by-side wins against the others of its series (what an album group decides by)."""
    wins = [0.0] * len(copies)
    for i, a in enumerate(copies):
        for j in range(i + 1, len(copies)):
            better = compare(a, copies[j]).better
            wins[i] += better > 0
            wins[j] += better < 0
    return wins


def _encoded(photo: np.ndarray, kind: str, level: float, rng: np.random.Generator) -> bytes:
    _, degrade = DEGRADATIONS[kind]
    if kind == "jpeg":
        return _jpeg(photo, int(level))
    return _jpeg(degrade(photo, level, rng), 92)


def _spearman(a: list[float], b: list[float]) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=RESULTS / "quality_judge.json")
    parser.add_argument("--verbose", action="store_true", help="print every group's scores")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    per_kind: dict[str, dict[str, list[float]]] = {
        k: {"quality": [], "niqe": [], "side_by_side": []} for k in DEGRADATIONS
    }
    photos: list[AlbumPhoto] = []
    originals: set[int] = set()
    seconds: list[float] = []
    for name in PHOTOS:
        photo = load(name)
        for kind, (levels, _) in DEGRADATIONS.items():
            rows, copies = [], []
            for n, level in enumerate(levels):
                started = time.perf_counter()
                scores, size, seen = _score(_encoded(photo, kind, level, rng))
                seconds.append(time.perf_counter() - started)
                rows.append(scores)
                copies.append(Copy(scores, size, seen))
                if n == 0 and kind == "jpeg":
                    originals.add(len(photos))
                if n > 0 or kind == "jpeg":  # the album: the original once, then every degraded copy
                    album_photo = AlbumPhoto(len(photos), f"{name}-{kind}-{level:g}", scores=scores, size=size)
                    album_photo.load_views = lambda seen=seen: seen
                    photos.append(album_photo)
            severity = [float(n) for n in range(len(levels))]
            per_kind[kind]["quality"].append(-_spearman(severity, [s.quality for s in rows]))
            per_kind[kind]["side_by_side"].append(-_spearman(severity, _relative_ranks(copies)))
            if all(s.niqe is not None for s in rows):
                per_kind[kind]["niqe"].append(_spearman(severity, [float(s.niqe or 0) for s in rows]))
    # keep=all: every group keeps its best copy, so the choice is the judge's alone (keep=good also drops an original
    # the verdict rejects, such as the dark-by-nature hubble field)
    choose(photos, "all", None, True)
    groups: dict[int, list[AlbumPhoto]] = {}
    for p in photos:
        groups.setdefault(p.group if p.group is not None else p.index, []).append(p)
    kept_original = [p.name for p in photos if p.index in originals and p.chosen]
    wrong = [p.name for p in photos if p.chosen and p.index not in originals]
    if args.verbose:
        for members in groups.values():
            for p in sorted(members, key=lambda p: not p.chosen):
                s = p.scores
                assert s is not None
                print(
                    f"{'*' if p.chosen else ' '} {p.name:<28} q={s.quality:.3f} sharp={s.sharpness:.2f} "
                    f"noise={s.noise_sigma:.1f} jpeg={s.jpeg_quality} block={s.blockiness:.2f} niqe={s.niqe} "
                    f"bright={s.brightest:.2f} size={p.size} {s.verdict}"
                )
            print()
    table = {
        kind: {measure: round(float(np.mean(v)), 3) if v else None for measure, v in measures.items()}
        for kind, measures in per_kind.items()
    }
    result = {
        "photos": PHOTOS,
        "cpu": platform.processor() or platform.machine(),
        "spearman_with_degradation": table,
        "album_groups": len(groups),
        "album_kept_original": len(kept_original),
        "album_kept_a_copy": wrong,
        "score_seconds_median": round(float(np.median(seconds)), 3),
    }
    print(
        f"{'degradation':<12} {'quality':>8} {'NIQE':>8} {'side by side':>13}   (Spearman with the level, 1 = perfect)"
    )
    for kind, row in table.items():
        print(f"{kind:<12} {row['quality']!s:>8} {row['niqe']!s:>8} {row['side_by_side']!s:>13}")
    print(
        f"album: {len(groups)} groups; kept an original in {len(kept_original)}, a copy in {len(wrong)}: {wrong or ''}"
    )
    print(f"scoring: median {result['score_seconds_median']} s per photo (decode + all scores)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
