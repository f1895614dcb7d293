"""One image, end to end: decode → upscale → encode. Shared by the HTTP endpoint and the CLI."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from app.core.config import Settings
from app.core.errors import InvalidOption
from app.inference.restore import TileOptions, upscale_picture
from app.inference.tiling import Progress
from app.media.decode import decode_image
from app.media.encode import OutputFormat, encode_image
from app.models.registry import LoadedModel, ModelRegistry


@dataclass(frozen=True)
class EnhanceOptions:
    model: str | None = None
    scale: float | None = None
    tile: int | None = None
    format: OutputFormat = "png"
    quality: int = 95


@dataclass
class EnhanceResult:
    data: bytes
    model: LoadedModel
    width: int
    height: int
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage


def enhance_bytes(
    data: bytes,
    options: EnhanceOptions,
    registry: ModelRegistry,
    settings: Settings,
    progress: Progress | None = None,
) -> EnhanceResult:
    """Raises the media errors of `decode_image`, the registry's errors, `InvalidOption` and `OutOfMemory`."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    model_id = options.model or settings.default_model
    entry = registry.catalog.get(model_id)
    if entry.task != "upscale":
        raise InvalidOption(f"{model_id} is a {entry.task} model, not an upscaler")
    picture = decode_image(data, settings.max_pixels, settings.max_side)
    scale = options.scale if options.scale is not None else entry.scale
    if not 0 < scale <= settings.max_scale:
        raise InvalidOption(f"scale must be in (0, {settings.max_scale}], got {scale}")
    if picture.width * picture.height * scale * scale > settings.max_output_pixels:
        raise InvalidOption(f"the output would exceed {settings.max_output_pixels:,} pixels; ask for a smaller scale")
    timings["decode"] = time.perf_counter() - started

    mark = time.perf_counter()
    model = registry.get(model_id)
    timings["load"] = time.perf_counter() - mark

    mark = time.perf_counter()
    tiles = TileOptions(
        tile=settings.tile if options.tile is None else options.tile,
        tile_pad=settings.tile_pad,
        min_tile=settings.min_tile,
    )
    restored = upscale_picture(picture, model, scale, tiles, progress)
    timings["model"] = time.perf_counter() - mark

    mark = time.perf_counter()
    encoded = encode_image(restored, options.format, options.quality)
    timings["encode"] = time.perf_counter() - mark
    return EnhanceResult(encoded, model, restored.width, restored.height, timings)
