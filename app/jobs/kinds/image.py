"""An image job: one picture, kept at its full fidelity (16 bits, alpha, ICC profile)."""

from __future__ import annotations

from collections.abc import Iterator

from app.core.config import Settings
from app.core.errors import InvalidOption
from app.domain import DeblurMode, JobKind, Output
from app.jobs.kinds.base import JobKindSpec, SourceFrame
from app.jobs.models import JobFacts, JobRecord
from app.jobs.options import JobOptions
from app.jobs.storage import JobStorage
from app.media.decode import decode_image


class ImageJob(JobKindSpec):
    kind = JobKind.IMAGE

    def accept(self, settings: Settings, options: JobOptions, facts: JobFacts) -> JobOptions:
        if options.interpolate is not None:
            raise InvalidOption("interpolate needs a video input: an image has one frame")
        if options.wants(Output.VIDEO):
            raise InvalidOption("the video output needs a video input")
        if options.deblur == DeblurMode.BURST:
            raise InvalidOption("deblur=burst needs a video input: an image has no neighbouring frames")
        return options

    def units(
        self, settings: Settings, storage: JobStorage, job: JobRecord, wanted: list[int] | None
    ) -> Iterator[SourceFrame]:
        picture = decode_image(storage.input_path(job.id).read_bytes(), settings.max_pixels, settings.max_side)
        yield SourceFrame(0, None, None, 0.0, picture)

    def estimate_total(self, options: JobOptions, job: JobRecord) -> int | None:
        return 1
