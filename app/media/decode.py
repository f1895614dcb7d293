"""Image probing and decoding: header checks before any pixel is allocated, then RGB/gray + alpha, 8 or 16 bit,
EXIF-rotated, with the ICC profile kept.

`probe_image` and `decode_image` raise `UnsupportedMedia` (a format we recognise but do not allow: SVG, PSD, EPS,
PDF...), `PayloadTooLarge` (over the pixel or side caps) and `CorruptMedia` (empty, truncated or random bytes).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app.core.errors import CorruptMedia, PayloadTooLarge, UnsupportedMedia
from app.domain import Picture

ALLOWED_FORMATS = {"PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF"}
ORIENTATION_TAG = 0x0112
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    bands: int = 3  # channels once decoded (a palette counts as RGB, or RGBA with transparency): sizes admission


# Formats Pillow cannot even identify but that we recognise, and refuse as such (415) rather than as garbage (422).
# PSD and EPS need no entry: Pillow identifies them and the allowlist refuses them.
TEXT_FORMAT_MARKERS = (b"<svg", b"<?xml", b"<!doctype html", b"<html")
BINARY_FORMAT_MAGIC = (b"%PDF-",)


def _known_other_format(data: bytes) -> bool:
    head = data[:256]
    return head.startswith(BINARY_FORMAT_MAGIC) or any(m in head.lower() for m in TEXT_FORMAT_MARKERS)


def _open(data: bytes) -> Image.Image:
    if not data:
        raise CorruptMedia("the upload is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PayloadTooLarge(f"image dimensions are too large: {exc}") from exc
    except UnidentifiedImageError as exc:
        if looks_like_video(data[:64]):
            raise UnsupportedMedia(
                "this is a video, not an image: send it to POST /v1/jobs, which decodes, enhances and re-encodes "
                "videos as a job (with progress, a comparison GIF and the enhanced MP4)"
            ) from exc
        if _known_other_format(data):
            raise UnsupportedMedia(
                f"this format is not allowed (allowed: {', '.join(sorted(ALLOWED_FORMATS))})"
            ) from exc
        raise CorruptMedia("the file is not a recognizable image (random or damaged bytes?)") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise CorruptMedia(f"the image header is broken: {exc}") from exc


def _check(img: Image.Image, max_pixels: int, max_side: int) -> ImageInfo:
    fmt = (img.format or "").upper()
    if fmt not in ALLOWED_FORMATS:
        raise UnsupportedMedia(f"image format {fmt or 'unknown'} is not allowed")
    width, height = img.size
    if width <= 0 or height <= 0:
        raise CorruptMedia("the image has no pixels")
    if width > max_side or height > max_side:
        raise PayloadTooLarge(f"image is {width}x{height}; each side must be at most {max_side}")
    if width * height > max_pixels:
        raise PayloadTooLarge(f"image has {width * height:,} pixels; the limit is {max_pixels:,}")
    bands = (4 if "transparency" in img.info else 3) if img.mode == "P" else len(img.getbands())
    return ImageInfo(fmt, width, height, bands)


IMAGE_MAGIC = (PNG_SIGNATURE, b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


def looks_like_video(head: bytes) -> bool:
    """MP4/MOV (an ftyp box), Matroska/WebM (EBML) or AVI (RIFF....AVI ): containers a job takes."""
    return (
        head[4:8] == b"ftyp" or head.startswith(b"\x1a\x45\xdf\xa3") or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")
    )


def looks_like_image(head: bytes) -> bool:
    """The first bytes carry an allowed image format's signature (WebP: RIFF....WEBP)."""
    return head.startswith(IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def probe_image(data: bytes, max_pixels: int, max_side: int) -> ImageInfo:
    """Read only the header: format sniffed from the bytes (never the file name) and size checked."""
    return _check(_open(data), max_pixels, max_side)


def _png_bit_depth(data: bytes) -> int:
    return data[24] if data.startswith(PNG_SIGNATURE) and len(data) > 24 else 8


def _orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1..8) to an H x W [x C] array, as ImageOps.exif_transpose does."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }
    op = ops.get(orientation)
    return np.ascontiguousarray(op(array)) if op else array


def _decode_16bit(data: bytes, orientation: int) -> tuple[np.ndarray, np.ndarray | None]:
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise CorruptMedia("the 16-bit image data is broken or truncated")
    array = _orient(array, orientation).astype(np.float32) / 65535.0
    if array.ndim == 2:
        return array[..., None], None
    if array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2RGB), array[..., 3]
    return cv2.cvtColor(array, cv2.COLOR_BGR2RGB), None


def _split_pil(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None, int]:
    mode = img.mode
    if mode in {"I;16", "I;16B", "I;16L", "I;16N", "I"}:
        gray = np.asarray(img, dtype=np.float32)
        return np.clip(gray / 65535.0, 0, 1)[..., None], None, 16
    if mode == "F":
        return np.clip(np.asarray(img, dtype=np.float32), 0, 1)[..., None], None, 16
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in {"1", "L"}:
        img = img.convert("L")
    elif mode in {"LA", "La", "PA"}:
        img = img.convert("LA")
    elif mode not in {"RGB", "RGBA"}:
        img = img.convert("RGBA" if "A" in mode else "RGB")
    array = np.asarray(img, dtype=np.float32) / 255.0
    if array.ndim == 2:
        return array[..., None], None, 8
    if img.mode in {"LA", "RGBA"}:
        return array[..., :-1], array[..., -1], 8
    return array, None, 8


def decode_image(data: bytes, max_pixels: int, max_side: int) -> Picture:
    img = _open(data)
    info = _check(img, max_pixels, max_side)
    icc = img.info.get("icc_profile") or None
    try:
        orientation = int(img.getexif().get(ORIENTATION_TAG, 1))
    except Exception:  # a broken EXIF block must not sink an otherwise good image
        orientation = 1
    try:
        if info.format == "PNG" and _png_bit_depth(data) == 16:
            pixels, alpha = _decode_16bit(data, orientation)
            depth = 16
        else:
            img.load()
            img = ImageOps.exif_transpose(img) or img
            pixels, alpha, depth = _split_pil(img)
    except (OSError, ValueError, SyntaxError) as exc:
        raise CorruptMedia(f"the image data is broken or truncated: {exc}") from exc
    return Picture(np.ascontiguousarray(pixels), alpha, depth, icc, info.format)
