"""Video probing, streaming decode and encode (the job's codec and container) with the original audio remuxed (PyAV).

Files are opened with `protocol_whitelist=file` and a container/codec allowlist, so a playlist disguised as a video
(HLS, concat) cannot make FFmpeg read other files or the network.

`probe_video` raises `UnsupportedMedia` (not a video we accept), `CorruptMedia` (unreadable) and `PayloadTooLarge`
(over the duration, frame or resolution limits).
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.codec.hwaccel
import av.error
import numpy as np

from app.core.errors import CorruptMedia, DecodeStopped, PayloadTooLarge, UnsupportedMedia
from app.media.encoders import EncoderChoice

log = logging.getLogger(__name__)

ALLOWED_CONTAINERS = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "avi"}
ALLOWED_CODECS = {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mjpeg"}
# Both lists apply to nested demuxers too (an AVI's GAB2 subtitle stream is opened by a sub-demuxer): no HLS, no
# concat, no network protocol can be reached from an upload.
OPEN_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": ",".join(sorted(ALLOWED_CONTAINERS))}


@dataclass(frozen=True)
class VideoInfo:
    container: str
    codec: str
    width: int
    height: int
    frames: int | None  # as the container declares it; None when unknown
    duration: float | None
    fps: float | None
    has_audio: bool


@dataclass(frozen=True)
class DecodedFrame:
    index: int  # decode order, from 0
    pts: int | None
    time_base: Fraction
    rgb: np.ndarray  # H x W x 3 uint8

    @property
    def seconds(self) -> float | None:
        return float(self.pts * self.time_base) if self.pts is not None else None


# Why hardware decoding (NVDEC through FFmpeg's CUDA hwaccel) was given up in this process; empty while untried.
HW_DECODE_FAILURE: dict[str, str] = {}


def _open_on_nvdec(path: Path) -> av.container.InputContainer | None:
    """The file opened to decode on NVDEC, or None where this process cannot (no NVIDIA driver or GPU here: tried
    once, then not again). Codecs NVDEC lacks decode on the CPU (FFmpeg's software fallback)."""
    if HW_DECODE_FAILURE or "cuda" not in av.codec.hwaccel.hwdevices_available():
        return None
    try:
        hwaccel = av.codec.hwaccel.HWAccel("cuda", allow_software_fallback=True)
        return av.open(str(path), mode="r", options=OPEN_OPTIONS, hwaccel=hwaccel)
    except av.error.FFmpegError as exc:  # the device is created as the file opens: no device, no file
        HW_DECODE_FAILURE["cuda"] = exc.strerror or str(exc)
        log.info("hardware decoding is off in this process: CUDA could not be opened (%s)", exc)
        return None


def open_container(path: Path, hw_decode: bool = False) -> av.container.InputContainer:
    """`hw_decode`: decode on NVDEC where this host has it, else (and whenever it fails to open) on the CPU."""
    if hw_decode and (container := _open_on_nvdec(path)) is not None:
        return container
    try:
        return av.open(str(path), mode="r", options=OPEN_OPTIONS)
    except (av.error.InvalidDataError, av.error.ArgumentError, PermissionError) as exc:
        # Unidentified data, or a demuxer outside the allowlist (a playlist disguised as a video) was refused.
        raise UnsupportedMedia(
            "not a supported video or image (mp4, mov, mkv, webm, avi; images: png, jpeg, ...)"
        ) from exc
    except (av.error.FFmpegError, OSError) as exc:
        raise CorruptMedia(f"the video could not be opened: {exc}") from exc


def quarter_turns(frame: Any) -> int:
    """How many times to turn a decoded frame counter-clockwise by 90° to show it upright: its display matrix
    (a phone held upright writes "rotate 90"), rounded to a quarter turn."""
    return round((getattr(frame, "rotation", 0) or 0) / 90) % 4


def upright(rgb: np.ndarray, turns: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def probe_video(path: Path, max_seconds: float, max_frames: int, max_side: int) -> VideoInfo:
    with open_container(path) as container:
        names = set(container.format.name.split(","))
        if not names & ALLOWED_CONTAINERS:
            raise UnsupportedMedia(f"container {container.format.name!r} is not allowed (mp4, mov, mkv, webm, avi)")
        if not container.streams.video:
            raise UnsupportedMedia("the file has no video stream")
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        if codec not in ALLOWED_CODECS:
            raise UnsupportedMedia(f"video codec {codec!r} is not allowed ({', '.join(sorted(ALLOWED_CODECS))})")
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            raise CorruptMedia("the video stream declares no frame size")
        if max(width, height) > max_side:
            raise PayloadTooLarge(f"video is {width}x{height}; each side must be at most {max_side}")
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        if duration is not None and duration > max_seconds:
            raise PayloadTooLarge(f"video lasts {duration:.0f} s; the limit is {max_seconds:.0f} s")
        frames = stream.frames or None
        if frames is not None and frames > max_frames:
            raise PayloadTooLarge(f"video has {frames} frames; the limit is {max_frames}")
        fps = float(stream.average_rate) if stream.average_rate else None
        try:
            first = next(container.decode(stream), None)
        except av.error.FFmpegError as exc:
            raise CorruptMedia(f"the video stream cannot be decoded: {exc}") from exc
        if first is None:
            raise CorruptMedia("the video stream has no decodable frame")
        if quarter_turns(first) % 2:  # shown upright, the frames are portrait: the size every stage works with
            width, height = height, width
        return VideoInfo(
            container.format.name, codec, width, height, frames, duration, fps, bool(container.streams.audio)
        )


def _seek_near(container: Any, stream: Any, path: Path, first: int) -> dict[int, int] | None:
    """Seek to the keyframe at or before frame `first`; the decode-order index of each timestamp from there on
    (None: the file's timestamps cannot place frames, so decode from the start instead)."""
    timeline = source_timestamps(path)
    if first >= len(timeline) or len(set(timeline)) != len(timeline):
        return None
    container.seek(timeline[first], stream=stream, backward=True, any_frame=False)
    return {pts: index for index, pts in enumerate(timeline)}


def iter_frames(path: Path, max_frames: int, first: int = 0, hw_decode: bool = False) -> Iterator[DecodedFrame]:
    """Decode frames in order, one at a time (memory is bounded by a frame, never by the video's length).
    `first`: start at that frame, decoding from the keyframe before it (a video segment) instead of frame 0.
    `hw_decode`: on NVDEC where the host has it (frames come back to memory, as RGB like the CPU's)."""
    with open_container(path, hw_decode) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        placed = _seek_near(container, stream, path, first) if first > 0 else None
        if placed is not None:
            yield from _frames_after_seek(container, stream, placed, first, max_frames)
            return
        decoded = 0
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index < first:
                    decoded += 1
                    continue
                if index >= max_frames:
                    raise PayloadTooLarge(f"the video has more than {max_frames} frames")
                time_base = frame.time_base or stream.time_base or Fraction(1, 90000)
                rgb = upright(frame.to_ndarray(format="rgb24"), quarter_turns(frame))
                decoded += 1
                yield DecodedFrame(index, frame.pts, time_base, rgb)
        except av.error.FFmpegError as exc:
            if not decoded:
                raise CorruptMedia(f"decoding failed: {exc}") from exc
            raise DecodeStopped(f"decoding failed after frame {decoded - 1}: {exc}", decoded) from exc


def _frames_after_seek(
    container: Any, stream: Any, placed: dict[int, int], first: int, max_frames: int
) -> Iterator[DecodedFrame]:
    """The frames from `first` on after a seek, each placed by its timestamp; the frames before `first` (from the
    keyframe on) are decoded only as references. A frame the timeline cannot place ends the run with DecodeStopped,
    as a damaged stream does, rather than guessing its index."""
    index = first - 1
    try:
        for frame in container.decode(stream):
            at = placed.get(frame.pts) if frame.pts is not None else None
            if at is None:
                raise DecodeStopped(f"frame after {index} has no known timestamp ({frame.pts})", index + 1)
            if at < first:
                continue
            if at >= max_frames:
                raise PayloadTooLarge(f"the video has more than {max_frames} frames")
            index = at
            time_base = frame.time_base or stream.time_base or Fraction(1, 90000)
            rgb = upright(frame.to_ndarray(format="rgb24"), quarter_turns(frame))
            yield DecodedFrame(index, frame.pts, time_base, rgb)
    except av.error.FFmpegError as exc:
        raise DecodeStopped(f"decoding failed after frame {index}: {exc}", index + 1) from exc


# What each output container carries of the source's other streams, remuxed untouched (others would need
# converting): MP4/MOV take mov_text as their only subtitle format, WebM Opus/Vorbis audio and WebVTT.
CARRIED_CODECS: dict[str, dict[str, set[str] | None]] = {
    "mp4": {"audio": None, "subtitle": {"mov_text"}},
    "mov": {"audio": None, "subtitle": {"mov_text"}},
    "matroska": {"audio": None, "subtitle": {"subrip", "ass", "ssa", "webvtt", "hdmv_pgs_subtitle", "dvd_subtitle"}},
    "webm": {"audio": {"opus", "vorbis"}, "subtitle": {"webvtt"}},
}


def _describe(stream: Any) -> dict[str, Any]:
    metadata = dict(stream.metadata or {})
    return {
        "index": stream.index,
        "type": stream.type,
        "codec": stream.codec_context.name if stream.codec_context else None,
        "language": metadata.get("language", "und"),
        "title": metadata.get("title") or metadata.get("name"),
    }


def carried_streams(container: Any, format_name: str = "mp4") -> tuple[list[Any], list[dict[str, Any]]]:
    """The source's audio and subtitle streams the output container (`format_name`) keeps (remuxed untouched),
    and the ones it drops, each with the reason."""
    kept, dropped = [], []
    for stream in [*container.streams.audio, *container.streams.subtitles]:
        codec = stream.codec_context.name if stream.codec_context else None
        allowed = CARRIED_CODECS[format_name][stream.type]
        if allowed is not None and codec not in allowed:
            reason = f"{format_name} carries {'/'.join(sorted(allowed))} {stream.type} streams, not {codec}"
            dropped.append({**_describe(stream), "reason": reason})
        else:
            kept.append(stream)
    return kept, dropped


def stream_report(source: Path, format_name: str = "mp4") -> dict[str, list[dict[str, Any]]]:
    """What the enhanced video keeps of the source's other streams, and what it drops and why (for report.json)."""
    with open_container(source) as container:
        kept, dropped = carried_streams(container, format_name)
        return {"kept": [_describe(s) for s in kept], "dropped": dropped}


def source_timestamps(path: Path) -> list[int]:
    """The presentation timestamps of the first video stream's frames, in order (from the packets: no decoding)."""
    with open_container(path) as container:
        stream = container.streams.video[0]
        return sorted(p.pts for p in container.demux(stream) if p.pts is not None and p.size)


def keyframe_indices(path: Path) -> list[int]:
    """The decode-order indices of the first video stream's keyframes (from the packets: no decoding), where a
    segment can start without decoding frames it does not keep."""
    with open_container(path) as container:
        packets = [(p.pts, p.is_keyframe) for p in container.demux(container.streams.video[0]) if p.pts is not None]
    return [index for index, (_, key) in enumerate(sorted(packets)) if key]


@dataclass
class VideoTiming:
    """What the writer did with the timeline (for report.json)."""

    mode: str = "as decoded"  # or "held": enhanced frames repeated until the next one's timestamp
    enhanced_frames: int = 0
    written_frames: int = 0
    fps: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "enhanced_frames": self.enhanced_frames,
            "written_frames": self.written_frames,
            "fps": None if self.fps is None else round(self.fps, 3),
            "rule": "each enhanced frame is shown until the next one's source timestamp, so the video keeps the "
            "source's frame rate and duration",
        }


class VideoWriter:
    """Writer (H.264/MP4 unless `encoder` says otherwise) that keeps each frame's original timestamp and copies
    every audio track (and the subtitle tracks the container can carry) packet for packet, with their language and
    title."""

    def __init__(
        self,
        target: Path,
        source: Path,
        width: int,
        height: int,
        encoder: EncoderChoice | None = None,
        hold_last: int = 1,
        end_seconds: float | None = None,
        carry: bool = True,
    ) -> None:
        self.target = target
        self.encoder = encoder or EncoderChoice()
        self.fallback: str | None = None  # why a hardware encoder gave way to the CPU one
        self._source = open_container(source)
        in_video = self._source.streams.video[0]
        self.time_base: Fraction = in_video.time_base or Fraction(1, 90000)
        size = (width - width % 2, height - height % 2)  # 4:2:0 needs even sizes
        try:
            self._out, self._video = self._open_output(in_video.average_rate or 25, size)
        except av.error.FFmpegError as exc:
            if not self.encoder.spec.hardware:
                raise
            cpu = self.encoder.cpu_fallback()
            reason = exc.strerror or str(exc)
            self.fallback = (
                f"{self.encoder.spec.encoder} could not be opened ({reason}): {cpu.spec.encoder} ran instead"
            )
            log.warning("video encoder fallback: %s", self.fallback)
            self.encoder = cpu
            self._out, self._video = self._open_output(in_video.average_rate or 25, size)
        # A segment's part (`carry=False`) is video only: the joined video takes the other streams (`join_parts`).
        self._carried = _add_carried(self._out, self._source, self.encoder.format_name) if carry else {}
        self._last_pts: int | None = None
        # Every source frame's timestamp, so an enhanced frame can be held until the next one's (every_n, frames):
        # the video plays at the source's rate and lasts as long, instead of a slide show of the kept frames.
        self._timeline = source_timestamps(source)
        self._hold_last = max(1, hold_last)
        self._end_pts = None if end_seconds is None else int(end_seconds / self.time_base)
        self._held: tuple[Any, int] | None = None
        self.timing = VideoTiming(fps=float(in_video.average_rate) if in_video.average_rate else None)

    def _open_output(self, rate: Any, size: tuple[int, int]) -> tuple[Any, av.VideoStream]:
        """The output container and its video stream for `self.encoder`; a hardware encoder is opened here, so
        that one this host cannot run fails before any frame is given to it."""
        out = av.open(str(self.target), mode="w", format=self.encoder.format_name)
        video = out.add_stream(self.encoder.spec.encoder, rate=rate)
        assert isinstance(video, av.VideoStream)
        video.width, video.height = size
        video.pix_fmt = self.encoder.pix_fmt
        video.time_base = self.time_base
        video.codec_context.time_base = self.time_base
        if self.encoder.spec.tag and self.encoder.container in ("mp4", "mov"):
            video.codec_context.codec_tag = self.encoder.spec.tag
        options: dict[str, object] = dict(self.encoder.options())
        video.options = options
        if self.encoder.spec.hardware:
            try:
                video.codec_context.open()
            except av.error.FFmpegError:
                out.close()  # nothing was written: the file was never opened
                raise
        return out, video

    @property
    def encoding(self) -> dict[str, Any]:
        """The encoder that ran, and why it is not the one asked for when a hardware encoder fell back (report)."""
        return {**self.encoder.as_dict(), "fallback": self.fallback}

    def write(self, rgb: np.ndarray, pts: int | None) -> None:
        frame = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(rgb[: self._video.height, : self._video.width]), "rgb24"
        )
        self.timing.enhanced_frames += 1
        if self._held is not None:
            self._release_held(until=pts)
        if pts is None or (self._last_pts is not None and pts <= self._last_pts):
            pts = 0 if self._last_pts is None else self._last_pts + 1
        self._held = (frame, pts)

    def _release_held(self, until: int | None) -> None:
        """Encode the held frame at its own timestamp, then again at each source timestamp before `until` (None:
        for `hold_last` source frames in all, within `end_seconds` and the source)."""
        frame, pts = self._held or (None, 0)
        self._held = None
        if frame is None:
            return
        first = bisect.bisect_right(self._timeline, pts)
        if until is not None:
            repeats = self._timeline[first : bisect.bisect_left(self._timeline, until)]
        else:
            repeats = self._timeline[first : first + self._hold_last - 1]
            if self._end_pts is not None:
                repeats = [p for p in repeats if p < self._end_pts]
        for at in [pts, *repeats]:
            self._encode(frame, at)
        if repeats:
            self.timing.mode = "held"

    def _encode(self, frame: Any, pts: int) -> None:
        frame.pts, frame.time_base = pts, self.time_base
        self._last_pts = pts
        self.timing.written_frames += 1
        for packet in self._video.encode(frame):
            self._out.mux(packet)

    def close(self, hold_last: int | None = None, until: int | None = None) -> None:
        """`hold_last`: instead of the constructor's (1 where the source stopped decoding: hold nothing unseen).
        `until`: hold the last frame until this source timestamp instead (a segment's part: the next one's first)."""
        if hold_last is not None:
            self._hold_last = max(1, hold_last)
        self._release_held(until=until)
        for packet in self._video.encode(None):
            self._out.mux(packet)
        _mux_carried(self._out, self._source, self._carried)
        self._out.close()
        self._source.close()

    def abort(self) -> None:
        """Stop without finishing the file, for a caller that deletes it (a failed or cancelled job): no encoder
        flush, no remux of the source's audio, which for a long video is most of what `close` costs. Never raises
        (it runs while another error propagates)."""
        for container in (self._out, self._source):
            try:
                container.close()
            except Exception:
                log.debug("closing an aborted video's container failed", exc_info=True)


def _add_carried(out: Any, source: Any, format_name: str) -> dict[int, Any]:
    """Output streams copying the source's audio and subtitle streams `format_name` carries (language, title),
    by source stream index."""
    carried: dict[int, Any] = {}
    for stream in carried_streams(source, format_name)[0]:
        copy = out.add_stream_from_template(stream)
        described = _describe(stream)
        copy.metadata["language"] = described["language"]
        if described["title"]:
            copy.metadata["title"] = described["title"]
        carried[stream.index] = copy
    return carried


def _mux_carried(out: Any, source: Any, carried: dict[int, Any]) -> None:
    """Remux the source's packets of the `carried` streams, untouched."""
    if not carried:
        return
    for packet in source.demux(*[source.streams[i] for i in carried]):
        if packet.size == 0:  # the demuxer's flush packet carries no data (PyAV's own remux example)
            continue
        packet.stream = carried[packet.stream.index]
        out.mux(packet)


class PartsNotJoinable(Exception):
    """Segment parts whose video streams differ (codec, size, pixel format or codec headers): not one stream."""


def _video_params(stream: Any) -> tuple[Any, ...]:
    ctx = stream.codec_context
    return ctx.name, ctx.width, ctx.height, ctx.format.name if ctx.format else None, bytes(ctx.extradata or b"")


def join_parts(target: Path, source: Path, parts: list[Path], format_name: str) -> None:
    """One video from segment parts (each encoded alone, starting on a keyframe, with the source's timestamps),
    packet for packet without re-encoding, plus the source's audio and subtitle streams as `VideoWriter` carries
    them. Raises `PartsNotJoinable` when the parts' streams differ or their timestamps overlap."""
    opened = [av.open(str(part)) for part in parts]  # our own files, in the job's codec (maybe not an upload's)
    try:
        first = opened[0].streams.video[0]
        params = _video_params(first)
        for container, part in zip(opened[1:], parts[1:], strict=True):
            if _video_params(container.streams.video[0]) != params:
                raise PartsNotJoinable(f"{part.name} was not encoded like {parts[0].name}")
        with open_container(source) as src, av.open(str(target), mode="w", format=format_name) as out:
            video = out.add_stream_from_template(first)
            carried = _add_carried(out, src, format_name)
            last_dts: int | None = None
            for container in opened:
                stream = container.streams.video[0]
                scale = Fraction(stream.time_base or 1) / Fraction(first.time_base or 1)
                for packet in container.demux(stream):
                    if packet.size == 0:
                        continue
                    dts = packet.dts if packet.dts is not None else packet.pts
                    if dts is not None:
                        at = int(dts * scale)
                        if last_dts is not None and at <= last_dts:
                            raise PartsNotJoinable("the parts' timestamps overlap")
                        last_dts = at
                    packet.stream = video
                    out.mux(packet)
            _mux_carried(out, src, carried)
    finally:
        for container in opened:
            container.close()
