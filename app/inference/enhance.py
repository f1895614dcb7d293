"""One image, end to end: decode → low light, denoise, deblur (each off/auto/on) → upscale → encode. Shared by the
HTTP endpoint and the CLI; the job pipeline uses `restore_picture` for each frame.

`ProcessingOptions` and `EnhanceOptions` are declared once here and used as they are by the image route (as its
query parameters), the CLI (which validates its options into them) and `JobOptions` (which extends them)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.compare.gif import Region, comparison_png
from app.core.config import Settings
from app.core.errors import InvalidOption, PayloadTooLarge
from app.core.metrics import STAGE_SECONDS
from app.domain import DeblurMode, DenoiseMode, ImageFormat, LightMode, Picture
from app.inference.deblur import BURST, DeblurDecision, deblur_frame, resolve_deblur_model
from app.inference.denoise import (
    DenoiseDecision,
    check_denoise_options,
    denoise_picture,
    installed_denoise_model,
    resolve_denoise_model,
)
from app.inference.device import Device, ModelHandle, current_client
from app.inference.light import LightDecision, brighten
from app.inference.memory import estimate_image_bytes
from app.inference.restore import TileOptions, upscale_picture
from app.inference.temporal import refuse_on_pictures
from app.inference.tiling import Progress, carry_bytes
from app.media.decode import decode_image, probe_image
from app.media.encode import OutputFormat, encode_image, to_uint8

NO_UPSCALE = "none"


class ProcessingOptions(BaseModel):
    """How a picture is restored: the same for an image request, every frame of a job and the CLI."""

    model_config = ConfigDict(frozen=True)

    model: str | None = Field(
        default=None,
        description="upscaler catalogue id (GET /v1/models); `none`: only denoise and/or deblur; "
        "default: the service's",
    )
    scale: float | None = Field(
        default=None, gt=0, le=16, allow_inf_nan=False, description="output scale; default: the model's"
    )
    tile: int | None = Field(default=None, ge=0, le=4096, description="tile core size in input pixels; 0: automatic")
    denoise: int | None = Field(
        default=None,
        ge=0,
        le=3,
        description="Real-CUGAN and waifu2x: denoise strength, 0 (none) to 3, among the levels the model has "
        "(GET /v1/models lists them); refused for other models",
    )
    light: LightMode = Field(
        default=LightMode.OFF,
        description="low-light enhancement (LIME, with FFDNet in the dark parts) first of all; auto: only dark "
        "pictures (brightest 1% under 0.45 or mean luminance under 0.2)",
    )
    denoise_photo: DenoiseMode = Field(
        default=DenoiseMode.OFF,
        description="photo denoise (FFDNet) before deblur and upscaling, with any model or none; auto: only where "
        "the noise estimate is above 5 (0..255)",
    )
    denoise_sigma: float | None = Field(
        default=None,
        gt=0,
        le=75,
        allow_inf_nan=False,
        description="the noise level (sigma, 0..255 scale) to remove; default: estimated per picture",
    )
    deblur: DeblurMode = Field(default=DeblurMode.OFF, description="auto: only where motion blur is detected")
    deblur_model: str | None = Field(default=None, description="deblur catalogue id or `classical`")

    def check_after(self, device: Device, settings: Settings) -> bool:
        """Whether a stage follows the per-picture restore (a video job's `interpolate`), checked here: raises
        `InvalidOption` when it cannot run. With one, `model=none` and nothing else is still work to do."""
        return False


class EnhanceOptions(ProcessingOptions):
    """One image request."""

    format: OutputFormat = Field(default=ImageFormat.PNG, description="output format")
    quality: int = Field(default=95, ge=1, le=100, description="JPEG and WebP quality")


@dataclass(frozen=True)
class Plan:
    """Options resolved against the catalogue and settings, validated before any pixel is decoded."""

    upscale_model: str | None
    deblur_model: str | None
    deblur: DeblurMode
    scale: float | None
    tiles: TileOptions
    denoise_model: str | None = None
    denoise: DenoiseMode = DenoiseMode.OFF
    denoise_sigma: float | None = None  # None: estimated per picture
    light: LightMode = LightMode.OFF
    light_denoise_model: str | None = None  # cleans what brightening amplifies, when installed


@dataclass(frozen=True)
class RestoreDecision(DeblurDecision):
    """What the deblur stage decided, and the low-light and denoise stages' decisions with it: the job pipeline
    records this one object per frame (under "deblur", a name from before the other stages existed)."""

    denoise: DenoiseDecision | None = None
    light: LightDecision | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            **super().as_dict(),
            "denoise": self.denoise.as_dict() if self.denoise else None,
            "light": self.light.as_dict() if self.light else None,
        }


@dataclass
class EnhanceResult:
    data: bytes
    model: ModelHandle | None
    deblur: RestoreDecision
    width: int
    height: int
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    compare_region: Region | None = None  # set when `data` is the before/after comparison, not the image


def plan(options: EnhanceOptions, device: Device, settings: Settings) -> Plan:
    """Raises `ModelNotFound` or `InvalidOption`."""
    model_id = options.model or settings.default_model
    upscale = None if model_id == NO_UPSCALE else model_id
    check_denoise_options(options.denoise_photo, options.denoise_sigma)
    after = options.check_after(device, settings)
    if (
        upscale is None
        and not after
        and {options.deblur.value, options.denoise_photo.value, options.light.value} == {"off"}
    ):
        raise InvalidOption(
            "model=none leaves nothing to do unless light, denoise_photo or deblur is auto or on "
            "(or, on a video job, interpolate is set)"
        )
    scale = options.scale
    if options.denoise is not None:
        if upscale is None:
            raise InvalidOption("denoise needs an upscaler that has denoise levels (Real-CUGAN, waifu2x)")
        upscale = device.catalog.with_denoise(upscale, options.denoise)
    if upscale is not None:
        entry = device.catalog.get(upscale)
        if entry.task != "upscale":
            raise InvalidOption(f"{upscale} is a {entry.task} model, not an upscaler")
        scale = scale if scale is not None else entry.scale
        if not 0 < scale <= settings.max_scale:
            raise InvalidOption(f"scale must be in (0, {settings.max_scale}], got {scale}")
    deblur_model = resolve_deblur_model(device, settings, options.deblur_model) if options.deblur != "off" else None
    if options.deblur == DeblurMode.BURST:  # the multi-frame method; a video's frames bring their neighbours
        deblur_model = BURST
    tiles = TileOptions(
        tile=settings.tile if options.tile is None else options.tile,
        tile_pad=settings.tile_pad,
        min_tile=settings.min_tile,
    )
    if 0 < tiles.tile < settings.min_tile:  # 1-px tiles would be one padded model call per pixel
        raise InvalidOption(f"tile must be 0 (automatic) or at least {settings.min_tile}, got {tiles.tile}")
    denoise_model = resolve_denoise_model(device, settings) if options.denoise_photo != "off" else None
    light_denoise = installed_denoise_model(device, settings) if options.light != "off" else None
    return Plan(
        upscale,
        deblur_model,
        options.deblur,
        scale,
        tiles,
        denoise_model,
        options.denoise_photo,
        options.denoise_sigma,
        options.light,
        light_denoise,
    )


def check_size(width: int, height: int, scale: float | None, settings: Settings) -> None:
    """The same caps for an image request and every frame of a job: `PayloadTooLarge` over the input pixel cap,
    `InvalidOption` when the output would exceed the output cap."""
    if width * height > settings.max_pixels:
        raise PayloadTooLarge(f"{width}x{height} is over the limit of {settings.max_pixels:,} pixels")
    if width * height * (scale or 1.0) ** 2 > settings.max_output_pixels:
        raise InvalidOption(f"the output would exceed {settings.max_output_pixels:,} pixels; ask for a smaller scale")


def estimate_bytes(
    width: int, height: int, steps: Plan, device: Device, output: ImageFormat = ImageFormat.PNG, load: bool = True
) -> int:
    """Peak host memory of restoring one width x height picture as `steps` says (see `app.inference.memory`).
    `load=False` (at job submit) uses the loaded model's network scale if it is loaded, else the catalogue's."""
    net_scale, scale, carried = 1, 1.0, 0
    if steps.upscale_model is not None:
        loaded = device.model(steps.upscale_model).loaded if load else device.registry.loaded(steps.upscale_model)
        entry = device.catalog.get(steps.upscale_model)
        net_scale = loaded.net_scale if loaded is not None else math.ceil(entry.scale)
        scale = steps.scale if steps.scale is not None else entry.scale
        if load:  # the features its staged forward keeps between calls (at submit: not known yet, a small share)
            carried = carry_bytes(device.model(steps.upscale_model), width, height, steps.tiles.tile_pad)
    need = estimate_image_bytes(width, height, net_scale, scale, output) + carried
    if steps.deblur != DeblurMode.OFF:  # the deblurred copy of the input, and the classical method's spectra
        need += 32 * width * height
    if steps.deblur == DeblurMode.BURST:  # five aligned frames and their spectra, float32 (burst_deblur.py)
        need += 160 * width * height
    if steps.denoise != DenoiseMode.OFF or steps.light != LightMode.OFF:  # FFDNet's 4-plane input, its output
        need += 40 * width * height  # and the denoised copy, float32 (low light: the map and the brightened copy)
    return need


def restore_picture(
    picture: Picture,
    steps: Plan,
    device: Device,
    progress: Progress | None = None,
    neighbours: Sequence[Picture] = (),
) -> tuple[Picture, ModelHandle | None, RestoreDecision]:
    """Brighten, denoise and deblur (as decided), then upscale, every model call through `device`. A video
    frame's `neighbours` (as decoded) serve `deblur=burst`, and `auto` with the classical method."""
    picture, lit = brighten(picture, steps.light, device, steps.light_denoise_model, steps.tiles, progress)
    picture, denoised = denoise_picture(
        picture, steps.denoise, steps.denoise_model or "", steps.denoise_sigma, device, steps.tiles, progress
    )
    picture, deblurred = deblur_frame(  # without neighbours (a picture), the single-frame decision
        picture, neighbours, steps.deblur, steps.deblur_model or "", device, steps.tiles, progress
    )
    deblur_fields = {f.name: getattr(deblurred, f.name) for f in fields(deblurred)}
    decision = RestoreDecision(**deblur_fields, denoise=denoised, light=lit)
    if steps.upscale_model is None:
        return picture, None, decision
    model = device.model(steps.upscale_model)
    return upscale_picture(picture, model, steps.scale, steps.tiles, progress), model, decision


def enhance_bytes(
    data: bytes,
    options: EnhanceOptions,
    device: Device,
    settings: Settings,
    progress: Progress | None = None,
    compare_width: int | None = None,
) -> EnhanceResult:
    """Raises the media errors of `decode_image`, the registry's errors, `InvalidOption` and `OutOfMemory`."""
    timings: dict[str, float] = {}
    if options.deblur == DeblurMode.BURST:
        raise InvalidOption("deblur=burst needs a video job: an image has no neighbouring frames")
    steps = plan(options, device, settings)
    refuse_on_pictures(device, steps.upscale_model, "an image")
    info = probe_image(data, settings.max_pixels, settings.max_side)  # the header only: no pixel decoded yet
    check_size(info.width, info.height, steps.scale, settings)
    cold = steps.upscale_model is not None and device.registry.loaded(steps.upscale_model) is None
    mark = time.perf_counter()
    need = estimate_bytes(info.width, info.height, steps, device, ImageFormat(options.format))  # loads the model
    if cold:
        timings["load"] = time.perf_counter() - mark
    waited = time.perf_counter()
    with device.memory.reserve(need, f"a {info.width}x{info.height} image"):
        timings["admit"] = time.perf_counter() - waited
        mark = time.perf_counter()
        picture = decode_image(data, settings.max_pixels, settings.max_side)
        timings["decode"] = time.perf_counter() - mark

        mark = time.perf_counter()
        queued = current_client().waited
        restored, model, decision = restore_picture(picture, steps, device, progress)
        timings["restore"] = time.perf_counter() - mark
        timings["wait"] = current_client().waited - queued  # of restore: queued behind other calls for the device

        mark = time.perf_counter()
        region = None
        if compare_width:  # the deliverable is the comparison: bicubic beside enhanced, 1:1, as a PNG
            encoded, region = comparison_png(to_uint8(picture.pixels), to_uint8(restored.pixels), compare_width)
        else:
            encoded = encode_image(restored, options.format, options.quality)
        size = (restored.width, restored.height)
        del picture, restored  # the encoded bytes are all that leave this block
        timings["encode"] = time.perf_counter() - mark
    for stage, seconds in timings.items():
        STAGE_SECONDS.labels(f"image_{stage}").observe(seconds)
    return EnhanceResult(encoded, model, decision, size[0], size[1], timings, region)
