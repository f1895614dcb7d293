"""The service's small vocabulary: the picture every stage passes along, and the option values a request, a job
and the CLI share, as enums.

The enums are `StrEnum`s so they compare equal to their strings (stored job options, form values) and show up in
the OpenAPI document as named enums that generated clients turn into types.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

# ITU-R BT.601 luma weights: gray from RGB wherever a stage needs one (blur, scores, gray models).
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass
class Picture:
    """Decoded pixels: `pixels` is H x W x C float32 in 0..1 with C = 1 (gray) or 3 (RGB)."""

    pixels: np.ndarray
    alpha: np.ndarray | None
    bit_depth: int
    icc_profile: bytes | None = None
    format: str = "PNG"

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def is_gray(self) -> bool:
        return bool(self.pixels.shape[2] == 1)


class DeblurMode(StrEnum):
    OFF = "off"
    AUTO = "auto"  # only frames whose blur estimate says so
    ON = "on"
    BURST = "burst"  # video jobs: each frame fused with its aligned neighbours (app.inference.burst_deblur)


class DenoiseMode(StrEnum):
    OFF = "off"
    AUTO = "auto"  # only pictures whose noise estimate says so
    ON = "on"


class LightMode(StrEnum):
    OFF = "off"
    AUTO = "auto"  # only pictures whose exposure says they are dark
    ON = "on"


class ImageFormat(StrEnum):
    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"

    @property
    def media_type(self) -> str:
        return f"image/{self.value}"


class GifLayout(StrEnum):
    SIDE_BY_SIDE = "side_by_side"  # the region that gains most, at 1:1 output pixels, bicubic beside it
    WIPE = "wipe"  # the same region, a divider sweeping across
    FLICKER = "flicker"  # the same region, bicubic and enhanced alternating
    FULL = "full"  # the whole frame side by side, both halves scaled down to fit


class Output(StrEnum):
    FRAMES = "frames"
    GIF = "gif"
    VIDEO = "video"


class JobKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    ALBUM = "album"  # several photos (or a zip of them): scored, de-duplicated, the chosen ones enhanced


class Verdict(StrEnum):
    KEEP = "keep"
    REJECT = "reject"
