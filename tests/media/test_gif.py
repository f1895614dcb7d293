"""Comparison GIFs, built frame by frame: layouts, bounds, and colour fidelity of the per-frame palettes."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageSequence

from app.compare.gif import (
    GifBuilder,
    GifOptions,
    Region,
    bicubic,
    build_gif,
    compare_frames,
    gain_region,
    quantize,
)
from app.domain import GifLayout
from tests.support.images import area_resize, psnr, skimage_rgb


def _pair(name: str) -> tuple[np.ndarray, np.ndarray]:
    enhanced = skimage_rgb(name, 256)
    return area_resize(enhanced, 64, 64), enhanced


def _frames(data: bytes) -> list[np.ndarray]:
    return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(Image.open(io.BytesIO(data)))]


@pytest.mark.parametrize(
    ("layout", "per_pair", "width"), [("side_by_side", 1, 320), ("flicker", 2, 256), ("wipe", 8, 256)]
)
def test_layouts_and_bounds(layout: str, per_pair: int, width: int) -> None:
    options = GifOptions(layout=layout, max_width=320, max_frames=300)  # type: ignore[arg-type]
    frames = _frames(build_gif([_pair("astronaut"), _pair("coffee")], options).finish())
    assert len(frames) == 2 * per_pair
    assert frames[0].shape[1] == width  # side by side: two 160-px halves; others: the 256-px frame as is


def test_max_frames_stops_the_builder() -> None:
    builder = GifBuilder(GifOptions(layout=GifLayout.WIPE, max_frames=5))
    builder.add(*_pair("chelsea"))
    assert builder.full
    builder.add(*_pair("coffee"))
    assert len(_frames(builder.finish())) == 5


def test_the_enhanced_half_keeps_its_colours() -> None:
    """Per-frame octree palettes: the GIF's enhanced half stays close to the area-downscaled RGB frame."""
    for name in ("astronaut", "coffee", "chelsea"):
        source, enhanced = _pair(name)
        frame = _frames(build_gif([(source, enhanced)], GifOptions(max_width=512)).finish())[0]
        half = frame[:, 256:]
        assert psnr(half[40:], enhanced[40:].astype(np.float64), peak=255) > 30  # below the label


def test_gray_and_rgba_frames_are_accepted() -> None:
    gray = skimage_rgb("camera", 64)[..., :1]
    rgba = np.dstack([skimage_rgb("coffee", 128), np.full((128, 128), 255, np.uint8)])
    frames = _frames(build_gif([(gray, rgba)], GifOptions()).finish())
    assert frames[0].shape == (128, 256, 3)


def test_no_frames_is_an_error() -> None:
    with pytest.raises(ValueError):
        GifBuilder(GifOptions()).finish()


def test_bicubic_inside_a_region_matches_the_whole_upscale() -> None:
    source = skimage_rgb("astronaut", 128)
    whole = cv2.resize(source, (512, 512), interpolation=cv2.INTER_CUBIC)
    region = Region(100, 37, 200, 150)
    part = bicubic(source, 512, 512, region)
    expected = whole[37:187, 100:300]
    assert np.abs(part.astype(int) - expected.astype(int)).max() <= 1


def test_the_region_shown_is_where_the_detail_was_gained() -> None:
    """A real photo as the 'enhanced' frame, blurred everywhere except one window: that window is chosen."""
    sharp = skimage_rgb("astronaut", 512)
    enhanced = cv2.GaussianBlur(sharp, (0, 0), 3)
    enhanced[300:460, 40:200] = sharp[300:460, 40:200]
    source = area_resize(sharp, 128, 128)
    region = gain_region(source, enhanced, 160, 160)
    assert abs(region.x - 40) <= 16 and abs(region.y - 300) <= 16, region


def test_one_region_for_every_frame_when_not_following_and_the_byte_bound() -> None:
    options = GifOptions(max_width=320, max_bytes=1 << 20, follow=False)  # following: tests/quality/test_gif_follow
    builder = GifBuilder(options)
    frames = 0
    for name in ("astronaut", "coffee", "chelsea") * 20:
        before = builder.region
        builder.add(*_pair(name))
        assert before is None or builder.region == before
        frames += 1
        if builder.full:
            break
    data = builder.finish()
    assert len(data) <= 1 << 20 and 1 < len(_frames(data)) < frames + 1
    assert builder.region is not None and builder.describe()["region"] == builder.region.as_dict()


def test_a_following_gif_shows_each_pair_at_the_region_chosen_for_it() -> None:
    """The frames `_follow` builds to compare regions are reused as the GIF's own: each GIF frame must still be the
    side-by-side view of the region in effect for its pair."""
    pairs = [
        (np.roll(source, shift, axis=1), np.roll(enhanced, 4 * shift, axis=1))  # every GIF frame differs
        for shift, (source, enhanced) in enumerate(
            [_pair("astronaut"), _pair("astronaut"), _pair("coffee"), _pair("chelsea"), _pair("chelsea")]
        )
    ]
    options = GifOptions(layout=GifLayout.SIDE_BY_SIDE, max_width=128)
    builder = GifBuilder(options)
    for number, (source, enhanced) in enumerate(pairs):
        builder.add(source, enhanced, new_scene=number in (2, 3))
    assert len(builder.regions) >= 2  # the region moved at least once: reused frames were compared
    shown = _frames(builder.finish())
    for number, (source, enhanced) in enumerate(pairs):
        region = [r for start, r, _ in builder.regions if start <= number][-1]
        expected = quantize(compare_frames(source, enhanced, GifLayout.SIDE_BY_SIDE, 128, region)[0][0])
        np.testing.assert_array_equal(shown[number], np.asarray(expected.convert("RGB")))
