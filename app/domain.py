"""The service's small vocabulary: the option values a request, a job and the CLI share, as enums.

They are `StrEnum`s so they compare equal to their strings (stored job options, form values) and show up in the
OpenAPI document as named enums that generated clients turn into types.
"""

from __future__ import annotations

from enum import StrEnum


class DeblurMode(StrEnum):
    OFF = "off"
    AUTO = "auto"  # only frames whose blur estimate says so
    ON = "on"


class ImageFormat(StrEnum):
    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"


class GifLayout(StrEnum):
    SIDE_BY_SIDE = "side_by_side"
    WIPE = "wipe"
    FLICKER = "flicker"


class Output(StrEnum):
    FRAMES = "frames"
    GIF = "gif"
    VIDEO = "video"


class JobKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class Verdict(StrEnum):
    KEEP = "keep"
    REJECT = "reject"
