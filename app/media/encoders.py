"""Which encoders, containers, pixel formats, CRFs and presets a job may ask for (#26), and what each choice
becomes in PyAV.

Only what this build's FFmpeg (the one bundled with PyAV) can encode is offered: `available_codecs()` probes
`av.codecs_available` once. The container table is what FFmpeg's muxers accept and what reads back (checked per
pair by tests/media/test_encoders.py): webm carries only VP9/AV1, ProRes needs mov or mkv, FFV1 mkv.

The NVENC encoders (`h264_nvenc`, `hevc_nvenc`, `av1_nvenc`: the GPU's video encoder) are in every build of PyAV's
FFmpeg but open only where an NVIDIA GPU with NVENC and its driver are present (not on an H100 or H200, which have
none): `hardware_encoder_opens` opens a small one once per process to know. A hardware choice that fails to open
later anyway falls back to its CPU codec (`EncoderChoice.cpu_fallback`, done by `VideoWriter`).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, get_args

import av

log = logging.getLogger(__name__)

Codec = Literal["h264", "hevc", "av1", "vp9", "prores", "ffv1", "h264_nvenc", "hevc_nvenc", "av1_nvenc"]
Container = Literal["mp4", "mkv", "webm", "mov"]
PixFmt = Literal["yuv420p", "yuv420p10le", "yuv422p", "yuv422p10le", "yuv444p", "yuv444p10le"]

NVENC_PRESETS = tuple(f"p{n}" for n in range(1, 8))  # p1 fastest .. p7 best; FFmpeg's default is p4
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
    fallback: str | None = None  # a hardware encoder's CPU codec (what runs when it cannot be opened)
    quality_option: str = "crf"  # the encoder's option that takes the `crf` value

    @property
    def hardware(self) -> bool:
        return self.fallback is not None


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
    # NVENC: constant quality is rc=vbr with a cq target and no bitrate cap (b=0); cq is on the CPU codec's scale.
    "h264_nvenc": EncoderSpec(
        "h264_nvenc", ("mp4", "mkv", "mov"), "yuv420p", (0, 51), 23, NVENC_PRESETS, "p4",
        fallback="h264", quality_option="cq",
    ),
    "hevc_nvenc": EncoderSpec(
        "hevc_nvenc", ("mp4", "mkv", "mov"), "yuv420p", (0, 51), 28, NVENC_PRESETS, "p4",
        tag="hvc1", fallback="hevc", quality_option="cq",
    ),
    "av1_nvenc": EncoderSpec(
        "av1_nvenc", ("mp4", "mkv", "webm"), "yuv420p", (1, 63), 32, NVENC_PRESETS, "p4",
        fallback="av1", quality_option="cq",
    ),
}  # fmt: skip
HARDWARE: dict[str, str] = {spec.fallback: name for name, spec in SPECS.items() if spec.fallback}
SUFFIXES: dict[str, str] = {"mp4": ".mp4", "mkv": ".mkv", "webm": ".webm", "mov": ".mov"}


@functools.cache
def hardware_encoder_opens(encoder: str) -> bool:
    """Whether this host can open the hardware encoder (NVENC needs an NVIDIA GPU that has one, and its driver):
    opens a small one once per process and remembers."""
    if encoder not in av.codecs_available:
        return False
    context = av.CodecContext.create(encoder, "w")
    assert isinstance(context, av.VideoCodecContext)
    context.width, context.height, context.pix_fmt = 256, 256, "yuv420p"  # above NVENC's smallest frame
    context.time_base = Fraction(1, 25)
    try:
        context.open()
    except Exception as exc:  # whatever FFmpeg says (no driver, no NVENC, sessions used up), the answer is no
        log.info("%s does not open on this host: %s", encoder, exc)
        return False
    return True


@functools.cache
def available_codecs() -> tuple[str, ...]:
    """The codecs of `SPECS` whose encoder this build of FFmpeg has (and, for hardware encoders, that open here)."""
    return tuple(
        name
        for name, spec in SPECS.items()
        if spec.encoder in av.codecs_available and (not spec.hardware or hardware_encoder_opens(spec.encoder))
    )


@functools.cache
def encoder_pix_fmts(codec: str) -> tuple[str, ...]:
    """The pixel formats (of `PixFmt`) the codec's encoder takes in this build (libvpx here has no 10-bit)."""
    formats = {f.name for f in (av.Codec(SPECS[codec].encoder, "w").video_formats or [])}
    return tuple(f for f in get_args(PixFmt) if f in formats)


def check_codec(codec: str, this_host: bool = True) -> None:
    """Refuses a codec this build cannot encode, and (`this_host`) a hardware one this host cannot open."""
    spec = SPECS[codec]
    if this_host and spec.hardware and spec.encoder in av.codecs_available and not hardware_encoder_opens(spec.encoder):
        raise ValueError(
            f"{codec} needs NVENC, the video encoder of an NVIDIA GPU, and this host has no NVENC (no such GPU, "
            f"or one without it, as the H100 and H200): use {spec.fallback}, encoded on the CPU"
        )
    if spec.encoder not in av.codecs_available:
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

    def on_hardware(self) -> EncoderChoice | None:
        """The same encoding on this host's NVENC (the quality value kept, NVENC's default preset: x26x's presets
        have no NVENC equal), or None when there is no NVENC here for it, or it cannot take the pixel format."""
        name = HARDWARE.get(self.codec)
        if (
            name is None
            or not hardware_encoder_opens(SPECS[name].encoder)
            or self.pix_fmt not in encoder_pix_fmts(name)
        ):
            return None
        low, high = SPECS[name].crf or (0, 0)
        crf = None if self.crf is None else min(max(self.crf, low), high)
        return EncoderChoice.resolve(name, self.container, self.pix_fmt, crf, None)

    def cpu_fallback(self) -> EncoderChoice:
        """A hardware choice's CPU codec, with the same container, pixel format and quality (its default preset)."""
        name = self.spec.fallback or self.codec
        fallback = SPECS[name]
        low, high = fallback.crf or (0, 0)
        crf = None if self.crf is None or fallback.crf is None else min(max(self.crf, low), high)
        pix_fmt = self.pix_fmt if self.pix_fmt in encoder_pix_fmts(name) else None
        return EncoderChoice.resolve(name, self.container, pix_fmt, crf, None)

    def options(self) -> dict[str, str]:
        """The encoder's AVOptions."""
        options: dict[str, str] = {}
        if self.crf is not None:
            options[self.spec.quality_option] = str(self.crf)
        if self.codec == "vp9" or self.spec.hardware:
            options["b"] = "0"  # constant quality: the CRF (NVENC: cq) alone decides
        if self.spec.hardware:
            options["rc"] = "vbr"
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
            "hardware": self.spec.hardware,
        }
