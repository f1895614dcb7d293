"""Decoding details that the API tests do not reach directly."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image, ImageOps

from app.core.errors import PayloadTooLarge
from app.media.decode import _orient, decode_image, probe_image
from app.media.encode import _png_chunk, encode_png8
from tests.support.images import png_bytes, skimage_rgb


@pytest.mark.parametrize("orientation", range(1, 9))
def test_sixteen_bit_orientation_matches_pillow(orientation: int) -> None:
    """The 16-bit path rotates arrays itself; it must agree with Pillow's exif_transpose for all 8 values."""
    image = skimage_rgb("chelsea", 24)[:, :17]
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG", exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))))
    assert np.array_equal(_orient(image, orientation), expected)


def test_probe_refuses_a_pixel_flood_without_decoding() -> None:
    tiny = png_bytes(np.zeros((1, 1, 3), np.uint8))
    ihdr = bytearray(tiny[16:29])
    ihdr[0:8] = (100_000).to_bytes(4, "big") * 2  # 100000 x 100000 declared; the pixels never exist
    flood = tiny[:8] + _png_chunk(b"IHDR", bytes(ihdr)) + tiny[33:]
    started = time.perf_counter()
    with pytest.raises(PayloadTooLarge, match="pixels"):
        probe_image(flood, max_pixels=50_000_000, max_side=200_000)
    with pytest.raises(PayloadTooLarge):  # Pillow's own bomb guard may speak first; either way a 413
        decode_image(flood, max_pixels=50_000_000, max_side=16_384)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("channels", [1, 3])
def test_fast_png_is_lossless(channels: int) -> None:
    pixels = skimage_rgb("astronaut", 96)[..., :channels]
    decoded = np.asarray(Image.open(io.BytesIO(encode_png8(np.ascontiguousarray(pixels)))))
    assert np.array_equal(decoded.reshape(pixels.shape), pixels)
