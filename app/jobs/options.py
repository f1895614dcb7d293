"""What a job is asked to do: frame selection, processing and outputs (validated once, stored with the job)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from app.core.config import Settings
from app.domain import GifLayout, Output
from app.inference.device import Device
from app.inference.enhance import EnhanceOptions, ProcessingOptions
from app.inference.interpolate_video import interpolation_model
from app.media import encoders
from app.media.encoders import Codec, Container, EncoderChoice, PixFmt


def comma_separated(value: Any) -> Any:
    """Form fields and CLI options arrive as "0,30,60" (or repeated fields): split them into list items."""
    if isinstance(value, str):
        return [part for part in value.replace(" ", "").strip("[]").split(",") if part]
    if isinstance(value, list):
        return [item for entry in value for item in (comma_separated(entry) if isinstance(entry, str) else [entry])]
    return value


CommaList = BeforeValidator(comma_separated)


def whole_number(value: Any) -> Any:
    """A form field arrives as text: "2" is the number 2 (a Literal of ints takes no text)."""
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


class InterpolatedFrames(EnhanceOptions):
    """The per-frame part of a job whose video is interpolated: the interpolation model is checked with the rest,
    and `model=none` with no other stage is an interpolation-only job (its frames are the source's)."""

    def check_after(self, device: Device, settings: Settings) -> bool:
        interpolation_model(device, settings)
        return True


MAX_SECONDS = 7 * 24 * 3600.0


class JobOptions(ProcessingOptions):
    """What a job is asked to do. Declared once: the job route takes it as its form (`Annotated[JobOptions,
    Form()]`), the CLI validates into it, the store keeps it and `JobPublic.options` returns it."""

    # Frame selection. `frames` are decode-order indices; the rules combine (range, then every_n, then cap).
    frames: Annotated[list[int] | None, CommaList] = Field(
        default=None, description="decode-order frame indices, e.g. 0,30,60", examples=[[0, 30, 60]]
    )
    every_n: int | None = Field(default=None, ge=1, description="keep every n-th frame")
    # Bounded (a week) so that seconds x fps stays a frame index: 1e308 was accepted and overflowed in the worker.
    start: float | None = Field(
        default=None, ge=0, le=MAX_SECONDS, allow_inf_nan=False, description="first second to consider"
    )
    end: float | None = Field(
        default=None, gt=0, le=MAX_SECONDS, allow_inf_nan=False, description="last second to consider (exclusive)"
    )
    max_frames: int | None = Field(default=None, ge=1, description="stop after this many frames")
    select_best: int | None = Field(
        default=None, ge=1, le=1000, description="score the selected frames and keep only the K best, spread in time"
    )
    # Albums (several photos, or a zip of them, in one job).
    keep: Literal["all", "good", "best"] = Field(
        default="good",
        description="albums: every photo, the photos whose verdict is keep, or the best `select_best` (default 1)",
    )
    duplicates: Literal["drop", "keep"] = Field(
        default="drop", description="albums: near-duplicates (bursts) keep only their best shot, or all of them"
    )
    # The enhanced video's frame rate.
    interpolate: Annotated[Literal[2, 4] | None, BeforeValidator(whole_number)] = Field(
        default=None,
        description="video jobs: the enhanced video with 2 or 4 times as many frames (RIFE makes those between each "
        "two enhanced frames; never across a scene cut, where the frame is held; repeated frames are copied); with "
        "every_n=2 (or 4), interpolate=2 (or 4) plays at the source's frame rate; with model=none, interpolation only",
    )
    # Outputs.
    outputs: Annotated[list[Output], CommaList] = Field(
        default_factory=lambda: [Output.FRAMES, Output.GIF],
        description="any of frames (PNGs + frames.zip), gif, video (enhanced.mp4, or as codec/container say)",
    )
    gif_layout: GifLayout = Field(default=GifLayout.SIDE_BY_SIDE, description="how the comparison GIF shows it")
    gif_fps: float = Field(default=2.0, gt=0, le=50, allow_inf_nan=False, description="the comparison GIF's frame rate")
    gif_max_width: int = Field(default=640, ge=64, le=4096, description="the comparison GIF's widest, in pixels")
    # The enhanced video's encoding, checked at submit against what the codec, its encoder in this build and the
    # container can carry (declared in this order: each check sees the codec).
    codec: Codec = Field(
        default="h264",
        description="video codec of the enhanced video (those this server encodes); h264_nvenc, hevc_nvenc, av1_nvenc: "
        "on the GPU's NVENC, accepted only where this host has one (crf is their cq, presets p1..p7)",
    )
    container: Container | None = Field(
        default=None, description="mp4, mkv, webm or mov; default: h264/hevc/av1 mp4, vp9 webm, prores mov, ffv1 mkv"
    )
    pix_fmt: PixFmt | None = Field(
        default=None, description="8- or 10-bit (yuv420p10le ...); default: yuv420p (prores: yuv422p10le)"
    )
    crf: int | None = Field(
        default=None, ge=0, le=63, description="quality, lower is better: h264/hevc 0-51, av1 1-63, vp9 0-63"
    )
    preset: str | None = Field(
        default=None,
        max_length=16,
        description="h264/hevc ultrafast..veryslow, av1 0-13, vp9 realtime/good/best, prores proxy..4444xq",
    )

    @field_validator("frames")
    @classmethod
    def _sorted_unique(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        if any(i < 0 for i in value):
            raise ValueError("frame indices must be >= 0")
        if not value:
            raise ValueError("frames must name at least one index")
        return sorted(set(value))

    @field_validator("outputs")
    @classmethod
    def _some_output(cls, value: list[Output]) -> list[Output]:
        if not value:
            raise ValueError("ask for at least one output: frames, gif or video")
        return list(dict.fromkeys(value))

    @field_validator("codec")
    @classmethod
    def _encodable(cls, value: str, info: ValidationInfo) -> str:
        # Whether this host has NVENC was asked when the job was accepted; a worker re-reading the stored options
        # may be another host, without one: its writer then falls back to the CPU codec and the report says so.
        encoders.check_codec(value, this_host=not (info.context or {}).get("stored"))
        return value

    @classmethod
    def stored(cls, options: dict[str, Any]) -> JobOptions:
        """A job's options as the store keeps them (accepted once, by whichever host took the job)."""
        return cls.model_validate(options, context={"stored": True})

    @field_validator("container", "pix_fmt", "crf", "preset")
    @classmethod
    def _codec_carries(cls, value: Any, info: ValidationInfo) -> Any:
        codec = info.data.get("codec")
        if value is None or codec is None:  # codec itself was refused: its error says why
            return value
        checks: dict[str, Callable[[str, Any], None]] = {
            "container": encoders.check_container,
            "pix_fmt": encoders.check_pix_fmt,
            "crf": encoders.check_crf,
            "preset": encoders.check_preset,
        }
        checks[str(info.field_name)](codec, value)
        return value

    @model_validator(mode="after")
    def _range(self) -> JobOptions:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        if self.interpolate is not None and Output.VIDEO not in self.outputs:
            raise ValueError("interpolate makes the enhanced video's frames: ask for the video output (outputs=video)")
        if self.interpolate is not None and self.select_best is not None:
            raise ValueError(
                "interpolate makes frames between consecutive frames; select_best keeps frames spread "
                "over the clip: ask for one or the other"
            )
        return self

    def enhance_options(self) -> EnhanceOptions:
        """The per-frame processing part, as the image path takes it (with the interpolation check when asked)."""
        kind = EnhanceOptions if self.interpolate is None else InterpolatedFrames
        return kind(**ProcessingOptions.model_validate(self, from_attributes=True).model_dump())

    def encoder(self, x264_crf: int, x264_preset: str) -> EncoderChoice:
        """The video encoding, defaults filled in (H.264's from the server's settings)."""
        return EncoderChoice.resolve(
            self.codec, self.container, self.pix_fmt, self.crf, self.preset, x264_crf, x264_preset
        )

    def wants(self, output: Output) -> bool:
        return output in self.outputs

    def selects(self, index: int, seconds: float | None, taken: int) -> bool:
        """Whether the frame with decode index `index` (at `seconds`) is processed, given `taken` already are."""
        if self.max_frames is not None and taken >= self.max_frames:
            return False
        if self.frames is not None and index not in self.frames:
            return False
        if seconds is not None:
            if self.start is not None and seconds < self.start:
                return False
            if self.end is not None and seconds >= self.end:
                return False
        return self.every_n is None or index % self.every_n == 0

    def finished(self, index: int, seconds: float | None, taken: int) -> bool:
        """True once no later frame can be selected: decoding can stop early."""
        if self.max_frames is not None and taken >= self.max_frames:
            return True
        if self.frames is not None and index >= self.frames[-1]:
            return True
        return seconds is not None and self.end is not None and seconds >= self.end
