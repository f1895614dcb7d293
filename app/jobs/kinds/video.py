"""A video job: decoded frames streamed in order, the GIF and the video built live while they are restored; a long
one in segments that several workers share (scene cuts found once, on the frames decoded to plan them)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from app.core.config import Settings
from app.core.errors import DecodeStopped, InvalidOption
from app.domain import JobKind, Picture
from app.jobs.kinds.base import Guard, JobKindSpec, SourceFrame
from app.jobs.models import JobFacts, JobRecord
from app.jobs.options import JobOptions
from app.jobs.outputs import LiveOutputs
from app.jobs.segments import split
from app.jobs.storage import JobStorage
from app.media.scenes import SceneDetector
from app.media.video import iter_frames, keyframe_indices


class VideoJob(JobKindSpec):
    kind = JobKind.VIDEO

    def accept(self, settings: Settings, options: JobOptions, facts: JobFacts) -> JobOptions:
        if facts.declared_frames and facts.fps and options.start is not None:
            duration = facts.declared_frames / facts.fps
            if options.start >= duration:
                raise InvalidOption(f"start={options.start:g} s is past the end: the clip lasts {duration:.2f} s")
        if options.model is None:  # stored with the job, so a later change of the default does not change it
            return options.model_copy(update={"model": settings.video_model})
        return options

    def units(
        self, settings: Settings, storage: JobStorage, job: JobRecord, wanted: list[int] | None
    ) -> Iterator[SourceFrame]:
        for frame in iter_frames(
            storage.input_path(job.id), settings.max_video_frames, hw_decode=settings.hw_decode == "auto"
        ):
            picture = Picture(frame.rgb.astype(np.float32) / 255.0, None, 8)
            yield SourceFrame(frame.index, frame.pts, frame.time_base, frame.seconds, picture, frame.rgb)

    def segment_units(
        self, settings: Settings, storage: JobStorage, job: JobRecord, first: int
    ) -> Iterator[SourceFrame]:
        for frame in iter_frames(
            storage.input_path(job.id), settings.max_video_frames, first, settings.hw_decode == "auto"
        ):
            picture = Picture(frame.rgb.astype(np.float32) / 255.0, None, 8)
            yield SourceFrame(frame.index, frame.pts, frame.time_base, frame.seconds, picture, frame.rgb)

    def plan_segments(
        self, settings: Settings, storage: JobStorage, job: JobRecord, options: JobOptions, guard: Guard
    ) -> list[list[int]] | None:
        """Segments when the job restores more than `segment_frames` frames: one decode pass finds the frames the
        options select and the scene cuts, so boundaries fall on cuts. None (one run) for a shorter job, or a
        video that stops decoding part-way (the one-run path keeps what decoded)."""
        size = settings.segment_frames
        estimate = self.estimate_total(options, job)
        if not size or (estimate is not None and estimate <= size):
            return None
        chosen: list[int] = []
        cuts: list[int] = []
        scenes = SceneDetector()
        path = storage.input_path(job.id)
        try:
            for frame in iter_frames(path, settings.max_video_frames):
                if scenes.feed(frame.rgb):
                    cuts.append(frame.index)
                if options.selects(frame.index, frame.seconds, len(chosen)):
                    chosen.append(frame.index)
                if options.finished(frame.index, frame.seconds, len(chosen)):
                    break
                guard()
        except DecodeStopped:
            return None
        if len(chosen) <= size:
            return None
        return split(chosen, size, cuts, keyframe_indices(path))

    def estimate_total(self, options: JobOptions, job: JobRecord) -> int | None:
        declared, fps = job.facts.declared_frames, job.facts.fps
        if options.frames is not None or not declared:  # a list of frames counts the same for every kind
            return super().estimate_total(options, job)
        first = int((options.start or 0) * fps) if fps else 0
        last = min(declared, int(options.end * fps)) if (fps and options.end) else declared
        total = len([i for i in range(first, last) if options.every_n is None or i % options.every_n == 0])
        return min(total, options.max_frames) if options.max_frames else total

    def live_outputs(
        self, settings: Settings, storage: JobStorage, job: JobRecord, options: JobOptions
    ) -> LiveOutputs | None:
        return LiveOutputs(settings, storage, job, options)
