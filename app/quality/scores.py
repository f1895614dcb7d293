"""Photo quality scores: sharpness, motion blur, exposure, noise, colourfulness, compression (JPEG quality,
blockiness), naturalness (NIQE), a perceptual hash, and an overall 0..1 quality with a keep/reject verdict and
human-readable reasons.

Everything is measured on a working copy of at most `ANALYSIS_PIXELS` (area-downscaled), so scores are comparable
across resolutions and a 1-megapixel image scores in a few milliseconds.

Noise matters twice: gradient-based sharpness rises with noise, so sharpness is measured after subtracting the
Laplacian energy that the estimated noise alone would produce, and the noise level itself lowers the overall score.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import cv2
import numpy as np

from app.domain import LUMA
from app.quality.blur import MotionBlur, estimate_motion_blur, is_motion_blurred
from app.quality.compression import blockiness
from app.quality.niqe import niqe

ANALYSIS_PIXELS = 520_000
# Immerkaer (1996): this mask cancels smooth image structure and leaves noise; the factor turns the mean absolute
# response into the noise standard deviation.
NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
REBLUR_SIGMA = 1.5
SHARP_RATIO = 2.2  # re-blur ratio that counts as fully sharp (calibrated on skimage photos: 1.9-3.5 sharp)
# Fine texture reads as noise sigma 1-4 on clean skimage photos, and JPEG smoothing lowers it: below this floor the
# estimate says more about texture than noise, so it costs no quality (a q45 copy won on it before).
NOISE_FLOOR = 2.5
FULL_JPEG_QUALITY = 90  # IJG quality from which compression costs nothing; below, quality falls as q / 90
BLOCKINESS_FREE = 0.15  # q90+ JPEGs and clean PNGs of skimage photos measure 0-0.12; q40 0.39-0.60


@dataclass(frozen=True)
class Thresholds:
    """Verdict thresholds; every field can be overridden per request."""

    min_sharpness: float = 0.35  # sharpness quality (0..1) below this: "too soft"
    max_motion_blur: float = 8.0  # px; a detected linear blur this long or longer: "motion blur N px"
    max_highlights_clipped: float = 0.05  # fraction of pixels blown to white
    max_shadows_clipped: float = 0.35  # fraction of pixels at full black
    min_brightest: float = 0.45  # luminance of the brightest 1 %; below: underexposed
    max_darkest: float = 0.55  # luminance of the darkest 1 %; above: washed out / overexposed
    max_noise: float = 8.0  # noise sigma on the 0..255 scale
    min_quality: float = 0.25  # overall quality below this is rejected even without a single named reason
    min_jpeg_quality: float = 30.0  # JPEG quality (from the file's tables) below this: "heavily compressed"

    @classmethod
    def with_overrides(cls, overrides: dict[str, float] | None) -> Thresholds:
        if not overrides:
            return cls()
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown thresholds: {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
        return cls(**{k: float(v) for k, v in overrides.items()})


@dataclass(frozen=True)
class Scores:
    sharpness: float  # noise-compensated re-blur ratio: ~1 soft, 2-6 sharp
    sharpness_quality: float  # 0..1
    motion_blur_px: float  # 0 when no linear motion blur is detected
    motion_blur_angle: float | None
    motion_blur_score: float
    mean_luminance: float  # 0..1
    shadows_clipped: float  # fraction
    highlights_clipped: float  # fraction
    darkest: float  # 1st percentile luminance
    brightest: float  # 99th percentile luminance
    noise_sigma: float  # 0..255 scale
    colourfulness: float  # Hasler & Suesstrunk (2003), 0..~150
    jpeg_quality: int | None  # the IJG quality of the file's quantisation tables; None when not a JPEG
    blockiness: float  # 8x8 grid steps over in-block steps, minus 1: 0 none, 0.1 mild, 0.5+ blocky
    compression_quality: float  # 0..1, from the JPEG quality and the blockiness
    niqe: float | None  # naturalness (Mittal et al. 2013): lower is better; None under 12 96-px patches
    phash: str  # 64-bit difference hash, hex
    quality: float  # overall, 0..1
    verdict: str  # "keep" or "reject"
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _working_copy(image: np.ndarray) -> np.ndarray:
    """H x W x 3 float32 in 0..1, area-downscaled to at most ANALYSIS_PIXELS."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        array = array.astype(np.float32) / 65535.0
    else:
        array = array.astype(np.float32, copy=False)
    if array.ndim == 2:
        array = array[..., None]
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    array = array[..., :3]
    h, w = array.shape[:2]
    if h * w > ANALYSIS_PIXELS:
        factor = math.sqrt(ANALYSIS_PIXELS / (h * w))
        array = cv2.resize(array, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(array)


def noise_sigma(gray255: np.ndarray) -> float:
    h, w = gray255.shape
    if h < 3 or w < 3:
        return 0.0
    response = cv2.filter2D(gray255, cv2.CV_32F, NOISE_MASK)[1:-1, 1:-1]
    return float(math.sqrt(math.pi / 2) * np.abs(response).mean() / 6.0)


def _percentiles(values: np.ndarray, quantiles: tuple[float, ...], bins: int = 1024) -> list[float]:
    """Histogram percentiles of values in 0..1: 1/1024 resolution at a fraction of np.percentile's cost."""
    hist = np.bincount(np.clip((values * (bins - 1)).astype(np.int32), 0, bins - 1).ravel(), minlength=bins)
    cumulative = np.cumsum(hist) / values.size
    return [float(np.searchsorted(cumulative, q)) / (bins - 1) for q in quantiles]


def channel_noise_sigma(image: np.ndarray, crop: int = 512) -> float:
    """Noise sigma (0..255) per colour channel, median over channels, on a full-resolution central crop:
    downscaling or mixing channels into luminance would average the noise away."""
    array = np.asarray(image)
    # divide by this to reach the 0..255 scale (uint8 already is; it was divided by 255, reading ~0 noise)
    scale = 1.0 if array.dtype == np.uint8 else 65535.0 / 255.0 if array.dtype == np.uint16 else 1.0 / 255.0
    if array.ndim == 2:
        array = array[..., None]
    h, w = array.shape[:2]
    top, left = max(0, (h - crop) // 2), max(0, (w - crop) // 2)
    patch = array[top : top + crop, left : left + crop, :3].astype(np.float32) / scale
    return float(np.median([noise_sigma(np.ascontiguousarray(patch[..., c])) for c in range(patch.shape[2])]))


def _gradient_energy(gray255: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(gray255, cv2.CV_32F, 1, 0, ksize=1, scale=0.5)  # central differences
    gy = cv2.Sobel(gray255, cv2.CV_32F, 0, 1, ksize=1, scale=0.5)
    return gx * gx + gy * gy


def reblur_sharpness(gray255: np.ndarray, sigma: float) -> float:
    """How much detail a further blur destroys (Crete-Roffet's re-blur idea): fine-scale gradient energy over
    the energy left after a Gaussian blur, measured where there are edges. Sharp edges lose a lot (ratio 3-6), soft
    ones little (~1). It does not depend on contrast or on how much of the picture is edges, so a smooth photo
    with crisp edges is still sharp. The energy that noise of the estimated sigma adds is subtracted first."""
    fine = _gradient_energy(gray255)
    coarse = _gradient_energy(cv2.GaussianBlur(gray255, (0, 0), REBLUR_SIGMA))
    sample = coarse[::4, ::4].ravel()
    edges = coarse > max(float(np.partition(sample, int(sample.size * 0.9))[int(sample.size * 0.9)]), 1e-3)
    if not edges.any():
        return 1.0
    noise_energy = sigma * sigma / 2.0  # central differences of white noise: sigma^2 / 4 per axis, two axes
    return max(0.0, float(fine[edges].mean()) - noise_energy) / max(float(coarse[edges].mean()), 1e-6)


def colourfulness(rgb: np.ndarray) -> float:
    r, g, b = cv2.split(rgb * 255.0)
    rg = r - g
    yb = cv2.addWeighted(r, 0.5, g, 0.5, 0.0) - b
    (rg_mean,), (rg_std,) = cv2.meanStdDev(rg)
    (yb_mean,), (yb_std,) = cv2.meanStdDev(yb)
    return float(math.hypot(rg_std[0], yb_std[0]) + 0.3 * math.hypot(rg_mean[0], yb_mean[0]))


def difference_hash(gray: np.ndarray) -> str:
    """dHash: 9x8 area thumbnail, one bit per horizontal neighbour comparison. Robust to scale, compression and
    mild colour changes, which is what near-duplicate video frames differ by. (Seven lines: no dependency needed.)"""
    thumb = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA)
    bits = (thumb[:, 1:] > thumb[:, :-1]).flatten()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def compression_quality(jpeg_q: int | None, blocks: float) -> float:
    """0..1: the file's JPEG quality where its tables say it, else the blocking seen on pixels (a PNG re-saved from a
    JPEG, a video frame). The tables are exact, and blockiness misreads very smooth photos (the moon at q92: 0.6)."""
    if jpeg_q is not None:
        return min(1.0, jpeg_q / FULL_JPEG_QUALITY)
    return 1.0 / (1.0 + (max(0.0, blocks - BLOCKINESS_FREE) / 0.35) ** 2)


def _quality(
    sharp_q: float, blur: MotionBlur, blurred: bool, exposure: dict[str, float], sigma: float, compression_q: float
) -> float:
    blur_q = 1.0 / (1.0 + (blur.length / 6.0) ** 2) if blurred else 1.0
    exposure_q = (
        min(1.0, exposure["brightest"] / 0.6)
        * min(1.0, (1.0 - exposure["darkest"]) / 0.6)
        * max(0.0, 1.0 - 4.0 * max(0.0, exposure["highlights"] - 0.01))
        * max(0.0, 1.0 - 2.0 * max(0.0, exposure["shadows"] - 0.15))
    )
    noise_q = 1.0 / (1.0 + (max(0.0, sigma - NOISE_FLOOR) / 6.0) ** 2)
    return float(np.clip(sharp_q * blur_q * exposure_q * noise_q * compression_q, 0.0, 1.0))


def full_gray255(image: np.ndarray, crop: int = 512) -> np.ndarray:
    """A full-resolution central crop's luminance on the 0..255 scale, for measures a resize would spoil; it starts
    on the 8-px grid, so a JPEG's blocks stay where blockiness looks for them."""
    array = np.asarray(image)
    scale = 1.0 if array.dtype == np.uint8 else 1.0 / 257.0 if array.dtype == np.uint16 else 255.0
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    h, w = array.shape[:2]
    top, left = max(0, (h - crop) // 2) // 8 * 8, max(0, (w - crop) // 2) // 8 * 8
    patch = array[top : top + crop, left : left + crop].astype(np.float32) * np.float32(scale)
    return patch if patch.ndim == 2 else np.asarray(patch[..., :3] @ LUMA, np.float32)


def score_image(image: np.ndarray, thresholds: Thresholds | None = None, jpeg_quality: int | None = None) -> Scores:
    """Score an RGB (or gray) image: uint8, uint16 or float in 0..1. `jpeg_quality`: what the file's tables say
    (`app.quality.compression.jpeg_quality`), when the caller has the file."""
    limits = thresholds or Thresholds()
    rgb = _working_copy(image)
    gray = rgb @ LUMA
    gray255 = gray * 255.0

    sigma = channel_noise_sigma(image)
    sharpness = reblur_sharpness(gray255, noise_sigma(gray255))
    sharp_q = float(np.clip((sharpness - 1.0) / (SHARP_RATIO - 1.0), 0.0, 1.0))

    blur = estimate_motion_blur(gray)
    blurred = is_motion_blurred(blur)

    low, high = _percentiles(gray, (0.01, 0.99))
    exposure = {
        "darkest": low,
        "brightest": high,
        "shadows": float((gray <= 0.02).mean()),
        # blown towards white: luminance at the top, or two channels saturated (a lone saturated channel is just a
        # vivid colour, but an orange that has lost its green detail is clipped too)
        "highlights": float(((gray >= 0.98) | ((rgb >= 0.98).sum(axis=2, dtype=np.uint8) >= 2)).mean()),
    }
    blocks = blockiness(full_gray255(image))
    compression_q = compression_quality(jpeg_quality, blocks)
    quality = _quality(sharp_q, blur, blurred, exposure, sigma, compression_q)

    reasons = []
    if blurred and blur.length >= limits.max_motion_blur:
        reasons.append(f"motion blur {blur.length:.0f} px")
    if sharp_q < limits.min_sharpness:
        reasons.append(f"too soft (sharpness {sharp_q:.2f})")
    if exposure["highlights"] > limits.max_highlights_clipped:
        reasons.append(f"highlights clipped {exposure['highlights']:.0%}")
    if exposure["shadows"] > limits.max_shadows_clipped:
        reasons.append(f"shadows clipped {exposure['shadows']:.0%}")
    if exposure["brightest"] < limits.min_brightest:
        reasons.append(f"underexposed (brightest 1% at {exposure['brightest']:.0%})")
    if exposure["darkest"] > limits.max_darkest:
        reasons.append(f"overexposed (darkest 1% at {exposure['darkest']:.0%})")
    if sigma > limits.max_noise:
        reasons.append(f"noisy (sigma {sigma:.1f})")
    if jpeg_quality is not None and jpeg_quality < limits.min_jpeg_quality:
        reasons.append(f"heavily compressed (JPEG q{jpeg_quality})")
    if not reasons and quality < limits.min_quality:
        reasons.append(f"low overall quality {quality:.2f}")

    return Scores(
        sharpness=round(sharpness, 3),
        sharpness_quality=round(sharp_q, 4),
        motion_blur_px=round(blur.length, 1) if blurred else 0.0,
        motion_blur_angle=round(blur.angle, 1) if blurred else None,
        motion_blur_score=round(blur.score, 2),
        mean_luminance=round(float(gray.mean()), 4),
        shadows_clipped=round(exposure["shadows"], 4),
        highlights_clipped=round(exposure["highlights"], 4),
        darkest=round(exposure["darkest"], 4),
        brightest=round(exposure["brightest"], 4),
        noise_sigma=round(sigma, 2),
        colourfulness=round(colourfulness(rgb), 2),
        jpeg_quality=jpeg_quality,
        blockiness=round(blocks, 3),
        compression_quality=round(compression_q, 4),
        niqe=None if (naturalness := niqe(gray255)) is None else round(naturalness, 2),
        phash=difference_hash(gray),
        quality=round(quality, 4),
        verdict="reject" if reasons else "keep",
        reasons=reasons,
    )
