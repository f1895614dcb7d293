"""The contract every job kind implements, so the pipeline never asks which kind it holds (#25).

A kind says what it accepts at submit (`accept`), the units of work it yields (`units`: a frame of a video, the
image of an image job, a chosen photo of an album), how many it expects (`estimate_total`), whether it needs a
scoring pass before them (`select`), what it builds while they run (`live_outputs`) and what it publishes
(`publish`). A long video also says how its units split into segments that several workers share
(`plan_segments`, `segment_units`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from app.core.config import Settings
from app.core.errors import InvalidOption
from app.domain import JobKind, Picture
from app.inference.device import Device, ModelHandle
from app.inference.enhance import RestoreDecision
from app.inference.memory import MemoryBudget
from app.jobs.models import FrameRecord, JobFacts, JobRecord
from app.jobs.options import JobOptions
from app.jobs.outputs import LiveOutputs, write_outputs
from app.jobs.storage import JobStorage
from app.media.scenes import SceneDetector
from app.quality.scores import score_image
from app.quality.select import Candidate, select_best

Guard = Callable[[], None]  # raises to stop the job (cancel, shutdown, lost lease, time limit)


@dataclass(frozen=True)
class SourceFrame:
    """One unit of work: a picture to restore, with where it sits in its source."""

    index: int
    pts: int | None
    time_base: Fraction | None
    seconds: float | None
    picture: Picture
    rgb8: np.ndarray | None = None  # a video frame as decoded (uint8), kept to skip converting it back
    neighbours: tuple[Picture, ...] = ()  # the frames around it, as decoded, for deblur=burst (jobs.neighbours)
    restored: tuple[Picture, RestoreDecision] | None = None  # already restored, with its neighbours (temporal models)
    temporal: dict[str, Any] | None = None  # how the temporal model restored it, for the report (jobs.temporal_report)


class JobKindSpec:
    """Defaults shared by the kinds; each kind overrides what differs."""

    kind: ClassVar[JobKind]

    def accept(self, settings: Settings, options: JobOptions, facts: JobFacts) -> JobOptions:
        """At submit, after the probe (`facts`): the options this kind stores (defaults filled in), or
        `InvalidOption`."""
        return options

    def units(
        self, settings: Settings, storage: JobStorage, job: JobRecord, wanted: list[int] | None
    ) -> Iterator[SourceFrame]:
        """The units of work in source order (`wanted`: the indices a selection pass chose, when it ran)."""
        raise NotImplementedError

    def plan_segments(
        self, settings: Settings, storage: JobStorage, job: JobRecord, options: JobOptions, guard: Guard
    ) -> list[list[int]] | None:
        """The job's units in segments that workers claim alone (`app.jobs.segments`); None: one run, as today."""
        return None

    def segment_units(
        self, settings: Settings, storage: JobStorage, job: JobRecord, first: int
    ) -> Iterator[SourceFrame]:
        """The units from index `first` on, without producing the ones before it (a segment's start)."""
        raise NotImplementedError

    def estimate_total(self, options: JobOptions, job: JobRecord) -> int | None:
        """How many units the options will take, when that is known before decoding."""
        if options.frames is None:
            return None
        return min(len(options.frames), options.max_frames) if options.max_frames else len(options.frames)

    def select(
        self,
        settings: Settings,
        storage: JobStorage,
        job: JobRecord,
        options: JobOptions,
        guard: Guard,
        memory: MemoryBudget,
    ) -> list[dict[str, Any]] | None:
        """A scoring pass before any unit is restored (None: this job has none). `select_best=K`: score every
        unit the rules admit, then keep the K best, one per scene first, spread in time. `memory`: what a pass that
        decodes pictures itself reserves each decode from (an album's photos; a video's frames come decoded)."""
        if not options.select_best:
            return None
        candidates: list[Candidate] = []
        scenes = SceneDetector()  # cuts found once, on every decoded frame, so the K picks are different shots
        for frame in self.units(settings, storage, job, None):
            if frame.rgb8 is not None:
                scenes.feed(frame.rgb8)
            if options.selects(frame.index, frame.seconds, len(candidates)):
                scores = score_image(frame.picture.pixels)
                candidates.append(Candidate(frame.index, frame.seconds, scores, scenes.scene))
            if options.finished(frame.index, frame.seconds, len(candidates)):
                break
            guard()
        if not candidates:
            raise InvalidOption("no frame matched the selection (check frames, start/end and every_n)")
        select_best(candidates, options.select_best)
        return [c.as_dict() for c in candidates]

    def live_outputs(
        self, settings: Settings, storage: JobStorage, job: JobRecord, options: JobOptions
    ) -> LiveOutputs | None:
        """Outputs built while the units run (a video's GIF and encoder); none by default."""
        return None

    def publish(
        self,
        settings: Settings,
        storage: JobStorage,
        job: JobRecord,
        frames: list[FrameRecord],
        options: JobOptions,
        model: ModelHandle | None,
        live: LiveOutputs | None,
        incomplete: str | None,
        device: Device | None = None,
        guard: Guard | None = None,
    ) -> None:
        """Write every artifact the job asked for and publish them together (`device`: where a step of the
        publishing runs a model, e.g. an interpolated video's RIFE; `guard` runs before each of its calls)."""
        write_outputs(settings, storage, job, frames, options, model, live, incomplete, device, guard)
