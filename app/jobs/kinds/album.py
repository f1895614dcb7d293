"""An album job: every photo scored, near-duplicates grouped, the chosen ones restored; its own artifacts (the
photos by name, photos.zip, a contact sheet). Intake and outputs live in `app.jobs.album`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.core.config import Settings
from app.domain import JobKind
from app.inference.device import Device, ModelHandle
from app.inference.memory import MemoryBudget
from app.jobs.album import album_pictures, score_album, write_album_outputs
from app.jobs.kinds.base import Guard, JobKindSpec, SourceFrame
from app.jobs.models import FrameRecord, JobRecord
from app.jobs.options import JobOptions
from app.jobs.outputs import LiveOutputs, job_report
from app.jobs.storage import JobStorage


class AlbumJob(JobKindSpec):
    kind = JobKind.ALBUM

    def units(
        self, settings: Settings, storage: JobStorage, job: JobRecord, wanted: list[int] | None
    ) -> Iterator[SourceFrame]:
        """The chosen photos, each a unit indexed by its place in the upload."""
        for index, picture in album_pictures(settings, storage, job, set(wanted or [])):
            yield SourceFrame(index, None, None, None, picture)

    def select(
        self,
        settings: Settings,
        storage: JobStorage,
        job: JobRecord,
        options: JobOptions,
        guard: Guard,
        memory: MemoryBudget,
    ) -> list[dict[str, Any]] | None:
        return score_album(settings, storage, job, options, guard, memory)  # always: choosing is what an album is for

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
        write_album_outputs(storage, job, frames, job_report(job, options, model, frames, {}, False, None))
