"""Which of two copies of one shot is the degraded one, judged relatively: the copies show the same scene, so a
difference between them is what was done to one of them, not content. Absolute scores cannot tell a q92 original
from a copy with mild noise added (the noise reads as texture, the q92 smoothing as a clean sky); side by side it is
plain which one has something the other lacks.

The measures are tried from the most exact to the least, and the first that tells them apart decides:

1. resolution: a copy with fewer pixels is downscaled;
2. compression: a lower JPEG quality (from the file's tables; blockiness on pixels for a lossless copy);
3. exposure: a copy with more highlights blown to white is overexposed when the other still has detail there (not
   when the other is it darkened, its white turned flat grey); else a darker copy is darkened;
4. detail, on the same full-resolution crop of both: the copy with more fine detail (a high-pass's energy) either
   has detail the other lost (blur, smoothing) or has noise added. The difference of the two crops tells which:
   lost detail is the picture's structure (neighbouring pixels of the difference correlate), added noise is white
   (they do not). Without crops, the noise-compensated sharpness, then the noise estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from app.domain import LUMA
from app.quality.scores import Scores, full_gray255

CROP = 320  # px a side of the full-resolution central luminance crop compared between copies
OVERVIEW = 256  # px on the longer side of the whole picture's luminance, for brightness and blown highlights
BLOWN = 250.0  # grey level (0..255) of the overview counted as blown to white
HIGHLIGHT_DETAIL = 2.0  # grey levels of spread the other copy has where one is blown: it kept those highlights
SIZE_RATIO = 0.9  # fewer pixels than this fraction of the other copy's: downscaled
JPEG_STEP = 3  # IJG quality points that count as a different compression
COMPRESSION_STEP = 0.05  # on the 0..1 compression quality, when a copy is not a JPEG
HIGHLIGHTS_STEP = 0.01  # more of the picture blown to white than the other copy
DARKER = 0.85  # mean luminance below this fraction of the other copy's: darkened
HIGHPASS_SIGMA = 1.0
ENERGY_STEP = 1.1  # one copy's high-pass energy over the other's below this: the same detail
# What tells blur from noise is the difference between the copies: noise added to one is white (its neighbouring
# pixels are uncorrelated; a q92 JPEG's dropped high frequencies lift that to ~0.1 on skimage photos), while detail
# one copy lost is the picture's own structure, band-limited, so neighbours correlate (a Gaussian blur of sigma 1:
# 0.2-0.6): the line is drawn between.
DETAIL_CORRELATION = 0.15
SOFTER = 0.85  # without crops: noise-compensated sharpness below this fraction of the other's
NOISIER = 1.5  # without crops: noise sigma (0..255) added in quadrature


@dataclass(frozen=True)
class Views:
    """What `compare` looks at besides the scores, luminance on 0..255: `crop`, full resolution, centred, on the
    JPEG block grid (fine detail); `overview`, the whole picture area-downscaled (brightness, blown highlights:
    averaging also keeps noise out of both)."""

    crop: np.ndarray
    overview: np.ndarray


def views(image: np.ndarray) -> Views:
    """The `Views` of a decoded picture (uint8, uint16 or float in 0..1, gray or RGB)."""
    array = np.asarray(image)
    scale = 255.0 if array.dtype.kind == "f" else 255.0 / float(np.iinfo(array.dtype).max)
    h, w = array.shape[:2]
    factor = min(1.0, OVERVIEW / max(h, w))
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    small = cv2.resize(array.astype(np.float32), size, interpolation=cv2.INTER_AREA) * np.float32(scale)
    if small.ndim == 3:
        small = small[..., 0] if small.shape[2] == 1 else small[..., :3] @ LUMA
    return Views(np.ascontiguousarray(full_gray255(image, CROP)), np.ascontiguousarray(small, np.float32))


@dataclass(frozen=True)
class Copy:
    scores: Scores
    size: tuple[int, int] | None  # width, height
    views: Views | None = None  # of the decoded picture; without them only the scores are compared


@dataclass(frozen=True)
class Verdict:
    better: int  # 1: the first copy is the better one, -1: the second, 0: no measure tells them apart
    why: str = ""  # what the worse copy is, against the better one: "more compressed: q80 against q92"


def _pick(first_better: bool, why: str) -> Verdict:
    return Verdict(1 if first_better else -1, why)


def _detail(a: np.ndarray, b: np.ndarray) -> Verdict:
    high_a = a - cv2.GaussianBlur(a, (0, 0), HIGHPASS_SIGMA)
    high_b = b - cv2.GaussianBlur(b, (0, 0), HIGHPASS_SIGMA)
    energy_a, energy_b = float(np.mean(high_a * high_a)), float(np.mean(high_b * high_b))
    ratio = max(energy_a, energy_b) / max(min(energy_a, energy_b), 1e-3)
    if ratio < ENERGY_STEP:
        return Verdict(0)
    difference = a - b
    difference -= difference.mean()
    power = float(np.mean(difference * difference))
    if power < 1e-6:
        return Verdict(0)
    neighbours = float(np.mean(difference[:, 1:] * difference[:, :-1]) + np.mean(difference[1:] * difference[:-1]))
    correlation = neighbours / (2 * power)
    if correlation >= DETAIL_CORRELATION:  # the difference is picture structure: the poorer copy lost detail
        return _pick(energy_a > energy_b, f"softer: fine detail {1 / ratio:.0%} of the other's")
    # the difference is white: the richer copy has noise added
    return _pick(energy_a < energy_b, f"noisier: fine-detail energy x{ratio:.1f}, as white noise")


def _gain(a: np.ndarray, b: np.ndarray) -> float:
    """b's brightness as a multiple of a's, fitted on the overviews."""
    return float(a.ravel() @ b.ravel()) / max(float(a.ravel() @ a.ravel()), 1e-6)


def _kept_highlights(other: np.ndarray, blown: np.ndarray) -> bool:
    """Whether `other` still has detail where `blown` is white: then `blown` lost it (overexposed); a flat patch
    there instead means `other` is `blown` darkened, white turned grey, and the brightness decides."""
    where = blown >= BLOWN
    return bool(where.sum() < 4 or float(other[where].std()) > HIGHLIGHT_DETAIL)


def compare(a: Copy, b: Copy) -> Verdict:
    """Which of two copies of one shot is the less degraded, and what the other one is (see the module's doc)."""
    sa, sb = a.scores, b.scores
    if a.size and b.size:
        pixels_a, pixels_b = a.size[0] * a.size[1], b.size[0] * b.size[1]
        if min(pixels_a, pixels_b) < SIZE_RATIO * max(pixels_a, pixels_b):
            small, large = (b, a) if pixels_a > pixels_b else (a, b)
            assert small.size and large.size
            return _pick(
                pixels_a > pixels_b,
                f"smaller: {small.size[0]}x{small.size[1]} against {large.size[0]}x{large.size[1]}",
            )
    if sa.jpeg_quality is not None and sb.jpeg_quality is not None:
        if abs(sa.jpeg_quality - sb.jpeg_quality) >= JPEG_STEP:
            worse, better = sorted((sa.jpeg_quality, sb.jpeg_quality))
            return _pick(sa.jpeg_quality > sb.jpeg_quality, f"more compressed: q{worse} against q{better}")
    elif abs(sa.compression_quality - sb.compression_quality) >= COMPRESSION_STEP:
        blocks = max(sa.blockiness, sb.blockiness)
        return _pick(sa.compression_quality > sb.compression_quality, f"more compressed: blockiness {blocks:.2f}")
    same = a.views is not None and b.views is not None and a.size == b.size
    va, vb = (a.views, b.views) if same else (None, None)
    if abs(sa.highlights_clipped - sb.highlights_clipped) > HIGHLIGHTS_STEP:
        a_blown = sa.highlights_clipped > sb.highlights_clipped
        blown, other = (va, vb) if a_blown else (vb, va)
        if blown is None or other is None or _kept_highlights(other.overview, blown.overview):
            clipped = max(sa.highlights_clipped, sb.highlights_clipped)
            return _pick(not a_blown, f"overexposed: {clipped:.0%} clipped")
    # b's brightness relative to a's: on the overviews when there are any, else the whole picture's mean
    if va is not None and vb is not None:
        gain = _gain(va.overview, vb.overview)
    else:
        gain = sb.mean_luminance / max(sa.mean_luminance, 1e-6)
    if min(gain, 1 / max(gain, 1e-6)) < DARKER:
        return _pick(gain < 1, f"darker: {min(gain, 1 / max(gain, 1e-6)):.0%} of the other's brightness")
    if va is not None and vb is not None and va.crop.shape == vb.crop.shape:
        detail = _detail(va.crop, vb.crop)
        if detail.better:
            return detail
    if min(sa.sharpness, sb.sharpness) < SOFTER * max(sa.sharpness, sb.sharpness):
        low, high = sorted((sa.sharpness, sb.sharpness))
        return _pick(sa.sharpness > sb.sharpness, f"softer: sharpness {low:.2f} against {high:.2f}")
    if abs(sa.noise_sigma**2 - sb.noise_sigma**2) >= NOISIER**2:
        low, high = sorted((sa.noise_sigma, sb.noise_sigma))
        return _pick(sa.noise_sigma < sb.noise_sigma, f"noisier: noise {high:.1f} against {low:.1f}")
    return Verdict(0)
