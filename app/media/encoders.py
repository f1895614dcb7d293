"""Which encoders, containers, pixel formats, CRFs and presets a job may ask for (#26), and what each choice
becomes in PyAV.

Only what this build's FFmpeg (the one bundled with PyAV) can encode is offered: `available_codecs()` probes
`av.codecs_available` once. The container table is what FFmpeg's muxers accept and what reads back (checked per
pair by tests/media/test_encoders.py): webm carries only VP9/AV1, ProRes needs mov or mkv, FFV1 mkv.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal, get_args

import av

Codec = Literal["h264", "hevc", "av1", "vp9", "prores", "ffv1"]
Container = Literal["mp4", "mkv", "webm", "mov"]
PixFmt = Literal["yuv420p", "yuv420p10le", "yuv422p", "yuv422p10le", "yuv444p", "yuv444p10le"]

X26X_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
FORMAT_NAMES: dict[str, str] = {"mp4": "mp4", "mkv": "matroska", "webm": "webm", "mov": "mov"}


@dataclass(frozen=True)
class EncoderSpec:
    encoder: str  # FFmpeg's encoder name
    containers: tuple[str, ...]  # the first is the default
    pix_fmt: str  # the default
    crf: tuple[int, int] | None  # the accepted range; None: the codec has no CRF (lossless, or profile-driven)
    crf_default: int | None
    presets: tuple[str, ...]  # the accepted presets; the default is `preset_default`
    preset_default: str | None
    preset_options: dict[str, dict[str, str]] = field(default_factory=dict)  # preset -> encoder options
    tag: str | None = None  # the codec tag MP4/MOV get (hvc1: what Apple's players need for HEVC)


SPECS: dict[str, EncoderSpec] = {
    "h264": EncoderSpec("libx264", ("mp4", "mkv", "mov"), "yuv420p", (0, 51), 18, X26X_PRESETS, "veryfast"),
    "hevc": EncoderSpec("libx265", ("mp4", "mkv", "mov"), "yuv420p", (0, 51), 24, X26X_PRESETS, "veryfast", tag="hvc1"),
    # SVT-AV1: CRF 1-63, presets 0 (slowest) to 13; 10 is about x264 veryfast's cost per frame.
    "av1": EncoderSpec(
        "libsvtav1", ("mp4", "mkv", "webm"), "yuv420p", (1, 63), 32, tuple(str(p) for p in range(14)), "10"
    ),
    # libvpx: constant quality needs b=0; the presets are its deadlines, with the matching cpu-used.
    "vp9": EncoderSpec(
        "libvpx-vp9",
        ("webm", "mkv", "mp4"),
        "yuv420p",
        (0, 63),
        32,
        ("realtime", "good", "best"),
        "realtime",
        {
            "realtime": {"deadline": "realtime", "cpu-used": "8", "row-mt": "1"},
            "good": {"deadline": "good", "cpu-used": "4", "row-mt": "1"},
            "best": {"deadline": "best", "row-mt": "1"},
        },
    ),
    # ProRes is sized by its profile, not a CRF: the presets are the profiles.
    "prores": EncoderSpec(
        "prores_ks",
        ("mov", "mkv"),
        "yuv422p10le",
        None,
        None,
        ("proxy", "lt", "standard", "hq", "4444", "4444xq"),
        "hq",
        {
            name: {"profile": str(number)}
            for number, name in enumerate(("proxy", "lt", "standard", "hq", "4444", "4444xq"))
        },
    ),
    "ffv1": EncoderSpec("ffv1", ("mkv",), "yuv420p", None, None, (), None),  # lossless
}
SUFFIXES: dict[str, str] = {"mp4": ".mp4", "mkv": ".mkv", "webm": ".webm", "mov": ".mov"}


@functools.cache
def available_codecs() -> tuple[str, ...]:
    """The codecs of `SPECS` whose encoder this build of FFmpeg has."""
    return tuple(name for name, spec in SPECS.items() if spec.encoder in av.codecs_available)


@functools.cache
def encoder_pix_fmts(codec: str) -> tuple[str, ...]:
    """The pixel formats (of `PixFmt`) the codec's encoder takes in this build (libvpx here has no 10-bit)."""
    formats = {f.name for f in (av.Codec(SPECS[codec].encoder, "w").video_formats or [])}
    return tuple(f for f in get_args(PixFmt) if f in formats)


def check_codec(codec: str) -> None:
    if codec not in available_codecs():
        raise ValueError(f"{codec} cannot be encoded by this server (available: {', '.join(available_codecs())})")


def check_container(codec: str, container: str) -> None:
    allowed = SPECS[codec].containers
    if container not in allowed:
        raise ValueError(f"{container} cannot carry {codec} video (use {' or '.join(allowed)})")


def check_pix_fmt(codec: str, pix_fmt: str) -> None:
    formats = encoder_pix_fmts(codec)
    if pix_fmt not in formats:
        raise ValueError(f"{codec} here encodes {', '.join(formats)}, not {pix_fmt}")


def check_crf(codec: str, crf: int) -> None:
    bounds = SPECS[codec].crf
    if bounds is None:
        raise ValueError(f"{codec} has no crf (" + ("lossless" if codec == "ffv1" else "choose a preset") + ")")
    if not bounds[0] <= crf <= bounds[1]:
        raise ValueError(f"crf for {codec} is {bounds[0]} to {bounds[1]}, not {crf}")


def check_preset(codec: str, preset: str) -> None:
    presets = SPECS[codec].presets
    if not presets:
        raise ValueError(f"{codec} has no presets")
    if preset not in presets:
        raise ValueError(f"{codec} presets are {', '.join(presets)}, not {preset!r}")


@dataclass(frozen=True)
class EncoderChoice:
    """A job's video encoding, resolved: what `VideoWriter` opens."""

    codec: str = "h264"
    container: str = "mp4"
    pix_fmt: str = "yuv420p"
    crf: int | None = 18
    preset: str | None = "veryfast"

    @classmethod
    def resolve(
        cls,
        codec: str,
        container: str | None,
        pix_fmt: str | None,
        crf: int | None,
        preset: str | None,
        x26x_crf: int = 18,
        x26x_preset: str = "veryfast",
    ) -> EncoderChoice:
        """Fill in the codec's defaults (H.264's CRF and preset: the server's settings `x26x_*`)."""
        spec = SPECS[codec]
        if codec == "h264":
            crf = x26x_crf if crf is None else crf
            preset = x26x_preset if preset is None else preset
        return cls(
            codec,
            container or spec.containers[0],
            pix_fmt or spec.pix_fmt,
            spec.crf_default if crf is None else crf,
            spec.preset_default if preset is None else preset,
        )

    @property
    def spec(self) -> EncoderSpec:
        return SPECS[self.codec]

    @property
    def format_name(self) -> str:
        return FORMAT_NAMES[self.container]

    @property
    def suffix(self) -> str:
        return SUFFIXES[self.container]

    def options(self) -> dict[str, str]:
        """The encoder's AVOptions."""
        options: dict[str, str] = {}
        if self.crf is not None:
            options["crf"] = str(self.crf)
        if self.codec == "vp9":
            options["b"] = "0"  # constant quality: the CRF alone decides
        if self.preset is not None:
            options.update(self.spec.preset_options.get(self.preset, {"preset": self.preset}))
        if self.codec == "hevc":
            options["x265-params"] = "log-level=error"
        return options

    def as_dict(self) -> dict[str, object]:
        return {
            "codec": self.codec,
            "encoder": self.spec.encoder,
            "container": self.container,
            "pix_fmt": self.pix_fmt,
            "crf": self.crf,
            "preset": self.preset,
        }
