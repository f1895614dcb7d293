"""Memory admission for the work that decodes a picture without restoring it: scoring (`POST /v1/images/score`, an
album's photos) and a job frame's thumbnail when none was stored. As for an image request (`app.inference.memory`),
the peak is estimated from the header alone and held from the device's `MemoryBudget` while the picture is decoded:
`NeverFits` (413) for what could never fit, `MemoryBusy` (503 + Retry-After) when an impatient caller waits too long.

Per-pixel terms, peak RSS measured on 3000x2000 PNGs (decode_image + score_image; PIL open + convert + thumbnail):
scoring takes 24 (gray), 35 (RGB, 8 or 16 bit) and 44 (RGBA) bytes a pixel, a thumbnail 8 (RGB) to 15.5 (16-bit
RGBA). A 49 MP flat PNG of 155 KB grew the server by 1.3 GB to score before it was counted here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.config import Settings
from app.inference.memory import MemoryBudget
from app.media.decode import decode_image, probe_image
from app.quality.compression import jpeg_quality
from app.quality.scores import Scores, Thresholds, score_image

BASE_BYTES = 16 << 20  # the scorer's working copy (at most 520 k pixels) and small arrays
SCORE_PER_BAND_PIXEL = 12  # decode's float32 picture twice (converted, then scaled) and the raw decode, per channel
THUMBNAIL_PER_PIXEL = 16  # PIL's decode, its RGB copy and the reducing pass, 16-bit RGBA at worst


def estimate_score_bytes(width: int, height: int, bands: int) -> int:
    """Peak extra host memory of decoding and scoring one picture; gray is scored as RGB (three channels)."""
    return BASE_BYTES + SCORE_PER_BAND_PIXEL * max(bands, 3) * width * height


def estimate_thumbnail_bytes(width: int, height: int) -> int:
    """Peak extra host memory of decoding one stored frame to make its thumbnail."""
    return BASE_BYTES + THUMBNAIL_PER_PIXEL * width * height


@dataclass(frozen=True)
class Scored:
    width: int  # as decoded (EXIF-rotated)
    height: int
    scores: Scores


def score_bytes(
    data: bytes,
    settings: Settings,
    memory: MemoryBudget,
    thresholds: Thresholds | None = None,
    what: str = "an image",
    patient: bool = False,
) -> Scored:
    """Probe, reserve, decode and score one image. Raises the media errors of `decode_image`, `NeverFits` and (an
    impatient caller: a request) `MemoryBusy`; a patient caller (a job) waits its turn."""
    info = probe_image(data, settings.max_pixels, settings.max_side)  # the header only: no pixel decoded yet
    need = estimate_score_bytes(info.width, info.height, info.bands)
    with memory.reserve(need, f"scoring {what} ({info.width}x{info.height})", patient):
        picture = decode_image(data, settings.max_pixels, settings.max_side)
        scores = score_image(np.asarray(picture.pixels), thresholds, jpeg_quality(data))
        return Scored(picture.width, picture.height, scores)
