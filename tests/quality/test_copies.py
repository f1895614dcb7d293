"""The side-by-side judge of copies of one shot (#28): real photos as a q92 original and copies made worse one way
each. Before it, an album group kept a copy with mild noise added (moon, retina, brick: noise read as texture, the
original's JPEG smoothing as a clean picture) or with its texture blurred away (grass: texture read as noise)."""

from __future__ import annotations

import io
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from PIL import Image

from app.quality.album import AlbumPhoto, choose
from app.quality.compression import jpeg_quality
from app.quality.copies import Copy, compare, views
from app.quality.scores import score_image
from tests.support.images import jpeg_bytes, skimage_rgb

PHOTOS = ["moon", "retina", "brick", "grass", "coffee"]
rng = np.random.default_rng(0)

# name -> (how the copy is made from the original's pixels, the JPEG quality it is saved at, what the judge says)
COPIES: dict[str, tuple[Callable[[np.ndarray], np.ndarray], int, str]] = {
    "q80": (lambda im: im, 80, "more compressed: q80 against q92"),
    "half": (lambda im: cv2.resize(im, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), 92, "smaller"),
    "blur1": (lambda im: cv2.GaussianBlur(im, (0, 0), 1.0), 92, "softer"),
    "dark": (lambda im: (im * 0.5).astype(np.uint8), 92, "darker"),
    "noise5": (lambda im: np.clip(im + rng.normal(0, 5, im.shape), 0, 255).astype(np.uint8), 92, "noisier"),
}  # fmt: skip


def _copy(data: bytes) -> Copy:
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    scores = score_image(pixels, jpeg_quality=jpeg_quality(data))
    return Copy(scores, (pixels.shape[1], pixels.shape[0]), views(pixels))


@pytest.fixture(scope="module")
def copies() -> dict[str, dict[str, Copy]]:
    out = {}
    for name in PHOTOS:
        photo = skimage_rgb(name)
        out[name] = {"original": _copy(jpeg_bytes(photo, 92))}
        for kind, (make, quality, _) in COPIES.items():
            out[name][kind] = _copy(jpeg_bytes(make(photo), quality))
    return out


@pytest.mark.parametrize("name", PHOTOS)
def test_the_original_beats_each_copy_and_the_reason_names_what_was_done(
    copies: dict[str, dict[str, Copy]], name: str
) -> None:
    original = copies[name]["original"]
    for kind, (_, _, why) in COPIES.items():
        verdict = compare(original, copies[name][kind])
        assert verdict.better == 1 and verdict.why.startswith(why), (name, kind, verdict)
        assert compare(copies[name][kind], original).better == -1, (name, kind)  # either order


def test_blown_highlights_lose_to_detail_but_not_to_the_same_picture_darkened() -> None:
    """A brightened copy that blew the highlights loses to the original; an original with blown highlights still
    beats a copy of itself darkened (white turned flat grey holds no more detail: the old rule kept that copy)."""
    photo = skimage_rgb("coffee")
    original = _copy(jpeg_bytes(photo, 92))
    bright = _copy(jpeg_bytes(np.clip(photo * 1.6, 0, 255).astype(np.uint8), 92))
    verdict = compare(original, bright)
    assert verdict.better == 1 and verdict.why.startswith("overexposed"), verdict
    blown = np.clip(skimage_rgb("astronaut") * 1.5, 0, 255).astype(np.uint8)
    clipped = _copy(jpeg_bytes(blown, 92))
    darker = _copy(jpeg_bytes((blown * 0.5).astype(np.uint8), 92))
    assert clipped.scores.highlights_clipped > darker.scores.highlights_clipped + 0.05
    verdict = compare(clipped, darker)
    assert verdict.better == 1 and verdict.why.startswith("darker"), verdict


def test_an_exact_copy_is_a_tie(copies: dict[str, dict[str, Copy]]) -> None:
    original = copies["coffee"]["original"]
    assert compare(original, original).better == 0


def test_an_album_group_keeps_the_original_and_says_over_what(copies: dict[str, dict[str, Copy]]) -> None:
    """Copies first, so upload order cannot pick the original; all the photos in one album."""
    photos: list[AlbumPhoto] = []
    for name in PHOTOS:
        for kind in [*COPIES, "original"]:
            copy = copies[name][kind]
            photo = AlbumPhoto(len(photos), f"{name}-{kind}", scores=copy.scores, size=copy.size)
            photo.load_views = lambda seen=copy.views: seen
            photos.append(photo)
    chosen = choose(photos, "all", None, True)
    assert sorted(p.name for p in chosen) == sorted(f"{n}-original" for n in PHOTOS), [(p.name, p.why) for p in chosen]
    for photo in chosen:
        assert photo.why.startswith("kept; kept: q92 "), photo.why  # sizes differ, so each label says its size too
        assert " original over q80 " in photo.why and " copy (more compressed: q80 against q92" in photo.why
        assert "(noisier: " in photo.why and "(softer: " in photo.why and "(darker: " in photo.why, photo.why
    noisy = next(p for p in photos if p.name == "moon-noise5")
    assert "which is better: this copy is noisier" in noisy.why, noisy.why
