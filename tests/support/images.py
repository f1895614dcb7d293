"""Images for tests: real photographs from skimage.data, encodings, and the PSNR the assertions use."""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
from PIL import Image

from app.core.config import PACKAGED_CATALOG

CATALOG = PACKAGED_CATALOG
FAST_MODEL = "realesr-animevideov3-x4"


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(peak * peak / mse)


def laplacian_variance(image: np.ndarray) -> float:
    """Sharpness: the variance of the Laplacian of the grey image (an RGB array, uint8 or float)."""
    gray = cv2.cvtColor(image.astype(np.float32), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


def area_resize(array: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(array, (width, height), interpolation=cv2.INTER_AREA)


def skimage_rgb(name: str, size: int | None = None) -> np.ndarray:
    from skimage import data

    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=2)
    image = image[..., :3]
    if size:
        image = area_resize(image, size, size)
    return np.ascontiguousarray(image)


def png_bytes(array: np.ndarray, **save: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, "PNG", **save)
    return out.getvalue()


def jpeg_bytes(array: np.ndarray, quality: int = 92) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, "JPEG", quality=quality)
    return out.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def frame_count(image: Image.Image) -> int:
    """Frames in an animation (Pillow's `n_frames` exists only on multi-frame formats)."""
    return int(getattr(image, "n_frames", 1))
