"""Job kinds: one module each (image, video, album), one contract (`base.JobKindSpec`)."""

from __future__ import annotations

from app.domain import JobKind
from app.jobs.kinds.album import AlbumJob
from app.jobs.kinds.base import Guard, JobKindSpec, SourceFrame
from app.jobs.kinds.image import ImageJob
from app.jobs.kinds.video import VideoJob
from app.jobs.models import JobRecord

KINDS: dict[JobKind, JobKindSpec] = {spec.kind: spec for spec in (ImageJob(), VideoJob(), AlbumJob())}


def kind_of(job: JobRecord) -> JobKindSpec:
    return KINDS[JobKind(job.kind)]


__all__ = ["KINDS", "Guard", "JobKindSpec", "SourceFrame", "kind_of"]
