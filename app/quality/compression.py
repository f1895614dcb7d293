"""How compressed a photo is: the JPEG quality its quantisation tables were made with (read from the header, no
pixel decoded), and a blockiness measure on pixels for any input (a PNG re-saved from a JPEG, a video frame).

Compression smooths texture, which other measures read as less noise: without this a q45 copy of a photo looked
better than its q92 original.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

# The IJG (libjpeg) luminance table at quality 50 (ITU T.81 Annex K), natural order; every encoder using libjpeg's
# quality setting scales it.
IJG_LUMA = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 87],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    np.float64,
).ravel()
BLOCK = 8
BLOCKINESS_CROP = 512
STEP_FLOOR = 1.0  # grey levels (0..255)


def ijg_table(quality: int) -> np.ndarray:
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    return np.clip(np.floor((IJG_LUMA * scale + 50) / 100), 1, 255)


_TABLES = np.stack([ijg_table(q) for q in range(1, 101)])


def jpeg_quality(data: bytes) -> int | None:
    """The IJG quality (1..100) whose luminance table is nearest the file's; None when the bytes are not a JPEG.
    A camera's own tables get the nearest equivalent."""
    if not data.startswith(b"\xff\xd8"):
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            tables = getattr(image, "quantization", None) or {}
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    luma = tables.get(0)
    if luma is None or len(luma) != 64:
        return None
    error = np.abs(np.log(_TABLES) - np.log(np.maximum(np.asarray(luma, np.float64), 1))).mean(axis=1)
    return int(np.argmin(error)) + 1


def blockiness(gray255: np.ndarray) -> float:
    """How much stronger the steps across the 8x8 grid are than the steps inside the blocks (0 for none, 0.1 mild,
    0.5+ blocky), both directions, on a full-resolution central crop: a resize would move the grid."""
    h, w = gray255.shape
    size_h, size_w = min(h, BLOCKINESS_CROP) // BLOCK * BLOCK, min(w, BLOCKINESS_CROP) // BLOCK * BLOCK
    if size_h < 2 * BLOCK or size_w < 2 * BLOCK:
        return 0.0
    top, left = (h - size_h) // 2 // BLOCK * BLOCK, (w - size_w) // 2 // BLOCK * BLOCK
    crop = np.asarray(gray255[top : top + size_h, left : left + size_w], np.float32)
    ratios = []
    for steps in (np.abs(np.diff(crop, axis=1)), np.abs(np.diff(crop, axis=0)).T):
        across = float(steps[:, BLOCK - 1 :: BLOCK].mean())
        inside = float(np.delete(steps, np.s_[BLOCK - 1 :: BLOCK], axis=1).mean())
        # one grey level added to both: in a flat sky a 0.3-level step over 0.1-level ones is not blocking
        ratios.append((across + STEP_FLOOR) / (inside + STEP_FLOOR))
    return max(0.0, float(np.mean(ratios)) - 1.0)
