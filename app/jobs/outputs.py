"""A finished job's artifacts: frames (+ zip), the comparison GIF, the enhanced video and report.json.

A video job that starts from its first frame builds the GIF and the video live (`LiveOutputs`), frame by frame
on the writer thread, so their cost overlaps inference instead of following it. A resumed job (some frames were
recorded by an earlier attempt) rebuilds them from the frame PNGs at the end instead, and so does a job whose video
is interpolated (`interpolate`: RIFE between each two recorded frames, at publish, with the device's model). Every
video job's report says how much its enhanced frames flicker against the source's (`app.quality.flicker`).
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.compare.gif import GifBuilder, GifOptions
from app.core.config import Settings
from app.core.files import write_atomic
from app.core.metrics import STAGE_SECONDS
from app.domain import Output
from app.inference.device import Device, ModelHandle
from app.inference.interpolate_video import InterpolatingWriter, InterpolationReport, interpolation_model
from app.inference.memory import MemoryBudget
from app.jobs.models import FrameRecord, JobRecord
from app.jobs.options import JobOptions
from app.jobs.storage import JobStorage
from app.jobs.temporal_report import temporal_report
from app.media.scenes import SceneDetector
from app.media.video import DecodedFrame, VideoTiming, VideoWriter, stream_report
from app.quality.flicker import FlickerMeter

VIDEO_PART = ".enhanced.video.part"  # the muxer is named, not guessed from the suffix
FLICKER_SAMPLE_PAIRS = 60  # a job whose video is not rebuilt re-reads this many frame pairs at most for flicker


def _rgb8(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def open_video(
    settings: Settings,
    options: JobOptions,
    target: Path,
    input_path: Path,
    first_frame: np.ndarray,
    carry: bool = True,
) -> VideoWriter:
    """The last enhanced frame is held for the `every_n` source frames it stands for (within `end`). With
    `hw_encode=auto`, on NVENC where this host has it (the writer falls back to the CPU if it fails to open)."""
    height, width = first_frame.shape[:2]
    encoder = options.encoder(settings.video_crf, settings.video_preset)
    if settings.hw_encode == "auto":
        encoder = encoder.on_hardware() or encoder
    return VideoWriter(
        target,
        input_path,
        width,
        height,
        encoder=encoder,
        hold_last=options.every_n or 1,
        end_seconds=options.end,
        carry=carry,
    )


def _gif_options(settings: Settings, options: JobOptions) -> GifOptions:
    return GifOptions(
        options.gif_layout, options.gif_fps, options.gif_max_width, settings.gif_max_frames, settings.gif_max_bytes
    )


class LiveOutputs:
    """The GIF and the video, fed one frame at a time in frame order. Only complete when it saw every frame
    that the job recorded (`complete`); otherwise the end-of-job rebuild takes over."""

    def __init__(self, settings: Settings, storage: JobStorage, job: JobRecord, options: JobOptions) -> None:
        self._settings = settings
        self._options = options
        self._input = storage.input_path(job.id)
        self._video_part = storage.artifacts_dir(job.id) / VIDEO_PART
        self.gif = GifBuilder(_gif_options(settings, options)) if options.wants(Output.GIF) else None
        # Cuts in the source, for the GIF (its region follows each scene) and the flicker measure (no pair across a
        # cut): one detector for both, each frame's histogram taken once.
        self._scenes = SceneDetector(min_frames=1)
        # An interpolated video is built at publish, from the recorded frames (the frames between need both ends).
        self._wants_video = options.wants(Output.VIDEO) and options.interpolate is None
        self.flicker = FlickerMeter()
        self._measure_flicker = True  # else the segments' parts measure it (`without_video`)
        self._video: VideoWriter | None = None
        self.timing: VideoTiming | None = None
        self.encoding: dict[str, Any] | None = None  # the encoder that ran (the writer's, once finished)
        self.count = 0
        # CPU seconds this thread spent on each output (report.json `live_cpu_seconds`): what the live outputs cost
        # beside the model, which on a CPU host shares the same cores (x264's own threads are not counted).
        self.cpu_seconds = {"gif": 0.0, "flicker": 0.0, "video": 0.0}
        self._adopted = False  # the video was joined from segment parts (`adopt_video`), not encoded here

    def without_video(self) -> None:
        """The GIF only: the video comes from the segments' parts (`adopt_video`), and so does the flicker (each
        part measures its frames: `app.jobs.segments.merge_flicker` adds them to `flicker`)."""
        self._wants_video = self._measure_flicker = False

    @property
    def wants_pixels(self) -> bool:
        """Whether `add` looks at the frames at all (else a frame only needs counting: `count`)."""
        return self._wants_video or self._measure_flicker or (self.gif is not None and not self.gif.full)

    def adopt_video(self, built: Path, timing: VideoTiming, encoding: dict[str, Any]) -> None:
        """The video built elsewhere (the segments' parts joined) is this one's: `finish_video` returns it."""
        self._video_part.parent.mkdir(parents=True, exist_ok=True)
        built.replace(self._video_part)
        self.timing, self.encoding, self._adopted = timing, encoding, True

    def add(self, source: np.ndarray, enhanced: np.ndarray, pts: int | None) -> None:
        """`source` and `enhanced` are uint8 RGB frames."""
        new_scene = self._scenes.feed(source)
        mark = time.thread_time()
        if self.gif is not None and not self.gif.full:
            self.gif.add(source, enhanced, new_scene=new_scene)
        mark = self._spent("gif", mark)
        if self._measure_flicker:
            self.flicker.add(source, enhanced, new_scene=new_scene)
        mark = self._spent("flicker", mark)
        if self._wants_video:
            if self._video is None:
                self._video_part.parent.mkdir(parents=True, exist_ok=True)
                self._video = open_video(self._settings, self._options, self._video_part, self._input, enhanced)
            self._video.write(enhanced, pts)
        self._spent("video", mark)
        self.count += 1

    def _spent(self, output: str, since: float) -> float:
        now = time.thread_time()
        self.cpu_seconds[output] += now - since
        return now

    def complete(self, frames: list[FrameRecord]) -> bool:
        return self.count == len(frames) > 0

    def finish_video(self, hold_last: int | None = None) -> Path | None:
        """Flush the encoder and remux the audio; the finished (not yet published) file."""
        if self._video is None:
            return self._video_part if self._adopted else None
        self._video.close(hold_last)
        self.timing, self.encoding, self._video = self._video.timing, self._video.encoding, None
        return self._video_part

    def discard(self) -> None:
        """Drop the partial video. Runs while another error may be propagating: never raises over it."""
        video, self._video = self._video, None
        if video is not None:
            video.abort()
        self._video_part.unlink(missing_ok=True)


def _write_frames(artifacts: Path, frames: list[FrameRecord], enhanced: list[Path]) -> None:
    for frame, path in zip(frames, enhanced, strict=True):
        target = artifacts / f"frame_{frame.index:06d}.png"
        target.unlink(missing_ok=True)
        os.link(path, target)  # same bytes, no copy
    tmp = artifacts / ".frames.zip.part"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:  # PNGs are already compressed
        for frame, path in zip(frames, enhanced, strict=True):
            archive.write(path, f"frame_{frame.index:06d}.png")
    tmp.replace(artifacts / "frames.zip")


def _rebuild_video(
    settings: Settings,
    options: JobOptions,
    target: Path,
    input_path: Path,
    frames: list[FrameRecord],
    enhanced: list[Path],
    hold_last: int | None,
    sources: list[Path],
    meter: FlickerMeter | None,
    interpolator: ModelHandle | None = None,
    guard: Callable[[], None] | None = None,
    memory: MemoryBudget | None = None,
) -> tuple[VideoTiming, InterpolationReport | None, dict[str, Any]]:
    """The video from the recorded frames; with `interpolator`, `options.interpolate` times as many (the made
    frames between each two of one scene), `guard` run before each of its calls and each call's memory held from
    `memory` (the job's). Feeds `meter` (when flicker was not measured live) on the way."""
    writer = open_video(settings, options, target, input_path, _rgb8(enhanced[0]))
    interpolating = (
        InterpolatingWriter(writer, interpolator, options.interpolate or 2, before_call=guard, memory=memory)
        if interpolator
        else None
    )
    scenes = SceneDetector(min_frames=1)
    try:
        for frame, path, source_path in zip(frames, enhanced, sources, strict=True):
            rgb, source = _rgb8(path), _rgb8(source_path)
            if meter is not None:
                meter.add(source, rgb, new_scene=scenes.feed(source))
            if interpolating is None:
                writer.write(rgb, frame.pts)
            else:
                time_base = Fraction(frame.time_base) if frame.time_base else Fraction(1, 1)
                interpolating.write(DecodedFrame(frame.index, frame.pts, time_base, rgb), look=source)
        if interpolating is not None and hold_last is None and (options.every_n or 1) == 1:
            interpolating.hold_last()  # else the writer holds it for the source frames it stands for
    except BaseException:  # a cancel between interpolation calls, an unreadable frame: no video to finish
        writer.abort()
        target.unlink(missing_ok=True)
        raise
    writer.close(hold_last)
    return writer.timing, interpolating.report if interpolating else None, writer.encoding


def _sampled_flicker(frames: list[FrameRecord], enhanced: list[Path], sources: list[Path]) -> FlickerMeter:
    """Flicker from up to `FLICKER_SAMPLE_PAIRS` pairs of consecutive recorded frames, spread over the job (when
    nothing else reads the frames again: a resumed job without a video)."""
    sampling = f"up to {FLICKER_SAMPLE_PAIRS} pairs spread over the job, from its recorded frames"
    meter, last = FlickerMeter(sampling=sampling), len(frames) - 2  # the last pair's first frame
    spread = range(FLICKER_SAMPLE_PAIRS) if last >= 0 else range(0)
    firsts = {round(i * last / (FLICKER_SAMPLE_PAIRS - 1)) for i in spread}
    for first in sorted(firsts):
        measure_run(meter, ((_rgb8(sources[at]), _rgb8(enhanced[at])) for at in (first, first + 1)))
    return meter


def measure_run(meter: FlickerMeter, frames: Iterable[tuple[np.ndarray, np.ndarray]], position: int = 0) -> None:
    """Feed `meter` one run of consecutive (source, enhanced) frames, the first at `position` of the whole video
    (so it samples the pairs one run over every frame would), finding the run's own scene cuts on the way."""
    meter.start(position)
    scenes = SceneDetector(min_frames=1)
    for source, enhanced in frames:
        meter.add(source, enhanced, new_scene=scenes.feed(source))


def job_report(
    job: JobRecord,
    options: JobOptions,
    model: ModelHandle | None,
    frames: list[FrameRecord],
    stages: dict[str, float],
    live: bool,
    streams: dict[str, list[dict[str, Any]]] | None,
) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "input": job.input_name,
        "kind": job.kind,
        "model": None
        if model is None
        else {
            "id": model.entry.id,
            "architecture": model.descriptor.architecture.name,
            "net_scale": model.net_scale,
            "device": str(model.device),
            "dtype": model.precision.dtype_name,
            "channels_last": model.precision.channels_last,
        },
        "options": options.model_dump(),
        "selection": job.selection,
        "frames": [
            {
                "index": f.index,
                "time": f.detail.get("time"),
                "pts": f.pts,
                "time_base": f.time_base,
                "seconds": round(f.seconds, 4),
                "finished_at": f.finished_at.isoformat(),
                "worker_id": f.worker_id,
                "size": f.detail.get("size"),
                "deblur": f.detail.get("deblur"),
                # frames recorded before these had their own keys kept them under "deblur"
                **{k: f.detail.get(k, (f.detail.get("deblur") or {}).get(k)) for k in ("light", "denoise")},
            }
            for f in frames
        ],
        "output_seconds": {k: round(v, 4) for k, v in stages.items()},
        "outputs_built": "live" if live else "at the end",  # a resumed job rebuilds the GIF and video
        "video_streams": streams,  # the source's audio and subtitle tracks kept in the video, and those dropped
    }


def _interpolator(settings: Settings, options: JobOptions, device: Device | None) -> ModelHandle | None:
    """The interpolation model an `interpolate` job's video is built with; None when it asks for none."""
    if options.interpolate is None:
        return None
    if device is None:
        raise RuntimeError("an interpolated video is built on the device: publish was given none")
    return device.model(interpolation_model(device, settings))


def write_outputs(
    settings: Settings,
    storage: JobStorage,
    job: JobRecord,
    frames: list[FrameRecord],
    options: JobOptions,
    model: ModelHandle | None,
    live: LiveOutputs | None,
    incomplete: str | None = None,
    device: Device | None = None,
    guard: Callable[[], None] | None = None,
) -> None:
    """Write every artifact the job asked for, then the report, then publish them together. `incomplete` says why
    the frames stop short of the selection (a video that stopped decoding), for the report. `device`: where an
    interpolated video's model runs (`options.interpolate`), each call reserving its memory from the device's budget;
    `guard` runs before each of those calls (the job's: a cancel, a shutdown or a lost lease stops it there)."""
    artifacts = storage.artifacts_dir(job.id)
    artifacts.mkdir(parents=True, exist_ok=True)
    enhanced = [storage.enhanced_frame(job.id, f.index) for f in frames]
    sources = [storage.source_frame(job.id, f.index) for f in frames]
    if live is not None and not live.complete(frames):
        live.discard()
        live = None
    stages: dict[str, float] = {}

    mark = time.perf_counter()
    if options.wants(Output.FRAMES):
        _write_frames(artifacts, frames, enhanced)
    stages["frames"] = time.perf_counter() - mark

    mark = time.perf_counter()
    gif_report = None
    if options.wants(Output.GIF):
        if live is not None and live.gif is not None:
            builder = live.gif
        else:
            builder, scenes = GifBuilder(_gif_options(settings, options)), SceneDetector(min_frames=1)
            for frame, path in zip(frames, enhanced, strict=True):
                source = _rgb8(storage.source_frame(job.id, frame.index))
                builder.add(source, _rgb8(path), new_scene=scenes.feed(source))
                if builder.full:
                    break
        write_atomic(artifacts / "comparison.gif", builder.finish())
        gif_report = builder.describe()
    stages["gif"] = time.perf_counter() - mark

    mark = time.perf_counter()
    timing: VideoTiming | None = None
    interpolated: InterpolationReport | None = None
    encoding: dict[str, Any] | None = None  # the encoder that ran
    meter = live.flicker if live is not None else None
    encoder = options.encoder(settings.video_crf, settings.video_preset)
    if options.wants(Output.VIDEO):
        hold_last = 1 if incomplete else None  # the frames after the last one could not be decoded: not shown
        part = live.finish_video(hold_last) if live is not None else None
        timing = live.timing if live is not None else None
        encoding = live.encoding if live is not None else None
        if part is None or timing is None:
            part, rebuilt = artifacts / VIDEO_PART, None if meter is not None else FlickerMeter()
            timing, interpolated, encoding = _rebuild_video(
                settings, options, part, storage.input_path(job.id), frames, enhanced, hold_last, sources,
                rebuilt, _interpolator(settings, options, device), guard, device.memory if device else None,
            )  # fmt: skip
            meter = meter or rebuilt
        part.replace(artifacts / f"enhanced{encoder.suffix}")
    stages["video"] = time.perf_counter() - mark
    mark = time.perf_counter()
    if meter is None:  # no video rebuilt, nothing measured live (a resumed job): a sample of the frames
        meter = _sampled_flicker(frames, enhanced, sources)
    stages["flicker"] = time.perf_counter() - mark

    for stage, seconds in stages.items():
        STAGE_SECONDS.labels(f"output_{stage}").observe(seconds)
    wants_video = options.wants(Output.VIDEO)
    streams = stream_report(storage.input_path(job.id), encoder.format_name) if wants_video else None
    report = job_report(job, options, model, frames, stages, live is not None, streams)
    report["incomplete"] = incomplete
    report["gif"] = gif_report
    report["video_timing"] = timing.as_dict() if timing is not None else None
    report["video_encoding"] = encoding
    report["interpolation"] = (
        {"factor": options.interpolate, **interpolated.as_dict()} if interpolated is not None else None
    )
    report["temporal"] = temporal_report(frames)
    report["flicker"] = meter.result() if meter is not None else None
    report["live_cpu_seconds"] = {k: round(v, 4) for k, v in live.cpu_seconds.items()} if live is not None else None
    write_atomic(artifacts / "report.json", json.dumps(report, indent=2).encode())
    storage.publish(job.id)
