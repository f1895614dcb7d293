"""Linear motion-blur estimation: a blur length and direction, and a score that says how sure we are.

A linear motion blur of length L multiplies the spectrum by a sinc whose zeros repeat every N/L along the motion
direction; in the cepstrum (inverse FFT of the log spectrum) that shows up as a strong negative peak at distance L
along that direction. We sample the cepstrum along rays every degree and keep the deepest dip, measured in robust
standard deviations of the cepstrum around it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from app.domain import LUMA

ANALYSIS_SIDE = 256
MAX_DOWNSCALE = 0.5
MIN_LENGTH = 3
MAX_LENGTH = 40


@dataclass(frozen=True)
class MotionBlur:
    length: float  # pixels, in the image's own resolution
    angle: float  # degrees, 0 = horizontal, counter-clockwise, in [0, 180)
    score: float  # depth of the cepstral dip in robust sigmas; higher = more certainly motion-blurred
    other: float = 0.0  # the deepest dip at least 30 degrees away from `angle`, same units
    harmonic: float | None = None  # dip depth at twice the length (a real blur repeats its dip); None: out of view


def to_gray(image: np.ndarray) -> np.ndarray:
    """H x W [x C] array in 0..1 (or 0..255) → float32 gray in 0..1."""
    array = np.asarray(image, dtype=np.float32)
    if array.max() > 1.5:
        array = array / 255.0
    if array.ndim == 3:
        array = array[..., :3] @ LUMA if array.shape[2] >= 3 else array[..., 0]
    return array


def _cepstrum(gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape
    window = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    centred = (gray - gray.mean()) * window
    spectrum = np.abs(np.fft.fft2(centred))
    cep = np.real(np.fft.ifft2(np.log(spectrum + 1e-3)))
    return np.fft.fftshift(cep).astype(np.float32)


def estimate_motion_blur(image: np.ndarray) -> MotionBlur:
    gray = to_gray(image)
    h, w = gray.shape
    # Downscale at most 2x, then analyse a central crop: camera shake blurs the whole frame alike, and keeping
    # the resolution keeps short blurs (>= 2 * MIN_LENGTH px at full size) measurable in large photos.
    factor = min(1.0, max(ANALYSIS_SIDE / max(h, w), MAX_DOWNSCALE))
    if factor < 1.0:
        gray = cv2.resize(gray, (max(8, round(w * factor)), max(8, round(h * factor))), interpolation=cv2.INTER_AREA)
    h, w = gray.shape
    side = min(h, w, ANALYSIS_SIDE)
    gray = gray[(h - side) // 2 : (h - side) // 2 + side, (w - side) // 2 : (w - side) // 2 + side]
    max_len = min(MAX_LENGTH, side // 3)
    if max_len < MIN_LENGTH:  # too small to see any blur length we measure (a thumbnail, a 1-px image)
        return MotionBlur(length=0.0, angle=0.0, score=0.0, other=0.0, harmonic=None)
    cep = _cepstrum(gray)
    centre = side // 2
    radii = np.arange(MIN_LENGTH, max_len + 1, dtype=np.float32)
    angles = np.deg2rad(np.arange(0, 180, 1.0, dtype=np.float32))
    # rows of the cepstrum grow downwards: a blur at +angle (counter-clockwise) lies at -sin on the row axis
    xs = (centre + np.outer(np.cos(angles), radii)).astype(np.float32)
    ys = (centre - np.outer(np.sin(angles), radii)).astype(np.float32)
    samples = cv2.remap(cep, xs, ys, interpolation=cv2.INTER_LINEAR)
    ring = cep[centre - max_len : centre + max_len + 1, centre - max_len : centre + max_len + 1]
    median = float(np.median(ring))
    spread = float(np.median(np.abs(ring - median))) * 1.4826 + 1e-9
    a, r = np.unravel_index(int(np.argmin(samples)), samples.shape)
    score = (median - float(samples[a, r])) / spread
    # A linear blur has one direction; periodic scene structure (lattices, text) dips in several.
    depth = median - samples.min(axis=1)
    distance = np.abs((np.arange(len(angles)) - a + 90) % 180 - 90)
    other = float(depth[distance >= 30].max()) / spread
    harmonic = None
    double = 2 * float(radii[r])
    if double + 2 < centre:
        around = np.arange(double - 1.5, double + 1.6, 0.5, dtype=np.float32)[None]
        hx = (centre + np.cos(angles[a]) * around).astype(np.float32)
        hy = (centre - np.sin(angles[a]) * around).astype(np.float32)
        harmonic = (median - float(cv2.remap(cep, hx, hy, interpolation=cv2.INTER_LINEAR).min())) / spread
    return MotionBlur(
        length=float(radii[r]) / factor,
        angle=float(math.degrees(angles[a])),
        score=float(score),
        other=other,
        harmonic=harmonic,
    )


# Calibrated on skimage.data photographs at 128-384 px (tests/inference/test_deblur.py): sharp photos score 2.5-8,
# periodic scenes (text, bricks, a launch-tower lattice) up to 21 but with dips in several directions or at 3 px;
# linear blurs of 9-21 px score 7-70 in one direction.
MIN_SCORE = 7.0
MIN_DOMINANCE = 1.8
MIN_BLUR_LENGTH = 5.0
MIN_HARMONIC = 1.4  # blurs measured 1.5-8; a chance dip in a sharp 128-px photo measured 1.2


def is_motion_blurred(blur: MotionBlur) -> bool:
    """The `auto` decision: a deep cepstral dip, in one dominant direction, at a length worth deblurring, echoed
    at twice that length when the analysis window can see it."""
    repeated = blur.harmonic is None or blur.harmonic >= MIN_HARMONIC
    return (
        blur.score >= MIN_SCORE
        and blur.score >= MIN_DOMINANCE * blur.other
        and blur.length >= MIN_BLUR_LENGTH
        and repeated
    )
