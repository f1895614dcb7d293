"""Burst deblur on real frames: carphone's neighbours lend a blurred frame their sharpness; no damage; cuts dropped."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.core.config import Settings
from app.domain import DeblurMode, Picture
from app.inference.burst_deblur import burst_deblur, burst_deblur_report
from app.inference.classical_deblur import classical_deblur
from app.inference.deblur import BURST, CLASSICAL, deblur_frame
from app.inference.device import Device, InlineExecutor
from app.models.registry import ModelRegistry
from tests.support.blur import line_psf
from tests.support.images import psnr
from tests.support.interpolation import bikes_frames, carphone_frames

TARGET = 10
NEIGHBOURS = [8, 9, 11, 12]


@pytest.fixture(scope="module")
def clip() -> dict[int, np.ndarray]:
    frames = carphone_frames([TARGET, *NEIGHBOURS])
    return {i: f.astype(np.float32) / 255 for i, f in frames.items()}


def shaken(image: np.ndarray, length: int, angle: float) -> np.ndarray:
    """A hand-shake blur (true convolution with a line kernel built outside the service) plus sigma=1 noise."""
    kernel = line_psf(length, angle)
    blurred = cv2.filter2D(image, -1, kernel[::-1, ::-1].copy(), borderType=cv2.BORDER_REFLECT)
    noise = np.random.default_rng(length).normal(0, 1 / 255, image.shape).astype(np.float32)
    return np.clip(blurred + noise, 0, 1)


@pytest.mark.parametrize(("length", "angle"), [(11, 30.0), (15, 135.0)])
def test_burst_beats_single_frame_deblur(clip: dict[int, np.ndarray], length: int, angle: float) -> None:
    truth = clip[TARGET]
    blurred = shaken(truth, length, angle)
    single, _ = classical_deblur(blurred)
    fused, report = burst_deblur_report(blurred, [clip[i] for i in NEIGHBOURS])
    assert report.used == len(NEIGHBOURS)
    assert fused.shape == truth.shape and fused.dtype == np.float32
    assert psnr(fused, truth) > psnr(single, truth) + 1.0
    assert psnr(fused, truth) > psnr(blurred, truth) + 3.0


def test_identical_neighbours_change_nothing(clip: dict[int, np.ndarray]) -> None:
    frame = clip[TARGET]
    fused = burst_deblur(frame, [frame.copy(), frame.copy(), frame.copy()])
    assert float(np.abs(fused - frame).max()) < 1e-3


def test_a_neighbour_from_another_scene_is_dropped(clip: dict[int, np.ndarray]) -> None:
    other_scene = bikes_frames(1, (176, 144))[0].astype(np.float32) / 255
    blurred = shaken(clip[TARGET], 11, 30.0)
    _, report = burst_deblur_report(blurred, [other_scene, clip[9]])
    assert (report.used, report.dropped) == (1, 1)
    assert report.errors[0] > 5 * report.errors[1]
    alone = burst_deblur(blurred, [other_scene])  # nothing to fuse: the frame comes back as it was
    assert float(np.abs(alone - blurred).max()) < 1e-6


def test_a_sharp_frame_keeps_its_own_pixels_among_blurred_neighbours(clip: dict[int, np.ndarray]) -> None:
    frame = clip[TARGET]
    fused, report = burst_deblur_report(frame, [shaken(clip[i], 9 + 2 * k, 40.0 * k) for k, i in enumerate(NEIGHBOURS)])
    assert report.used == len(NEIGHBOURS) and not report.fused
    assert float(np.abs(fused - frame).max()) == 0.0


def test_auto_picks_the_burst_for_a_blurred_frame_with_sharper_neighbours(clip: dict[int, np.ndarray]) -> None:
    device = Device(ModelRegistry(Settings(device="cpu", _env_file=None)), InlineExecutor())  # type: ignore[call-arg]
    truth = clip[TARGET]
    blurred = Picture(shaken(truth, 13, 60.0), None, 8)
    sharp = [Picture(clip[i], None, 8) for i in NEIGHBOURS]
    out, decision = deblur_frame(blurred, sharp, DeblurMode.AUTO, CLASSICAL, device)
    assert (decision.applied, decision.model) == (True, BURST)
    alone, single = deblur_frame(blurred, [], DeblurMode.AUTO, CLASSICAL, device)
    assert (single.applied, single.model) == (True, CLASSICAL)
    assert psnr(out.pixels, truth) > psnr(alone.pixels, truth) + 1.0
    kept, untouched = deblur_frame(Picture(truth, None, 8), sharp, DeblurMode.AUTO, CLASSICAL, device)
    assert not untouched.applied and kept.pixels is truth
