"""A job's frames, one by one: what the web page's frame picker compares (the source frame against the enhanced
one) and small thumbnails for its strip, served at a bounded size instead of the full PNGs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from app.api import docs_text as docs
from app.api.deps import DeviceDep, SettingsDep, StorageDep, StoreDep
from app.api.openapi import binary_content, problems
from app.api.routes.jobs import JobDep
from app.core.config import Settings
from app.core.errors import JobNotFound
from app.jobs.leftovers import files_gone, job_files
from app.jobs.models import JobRecord
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore
from app.jobs.thumbnails import THUMBNAIL_SIDE, thumbnail_jpeg

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

Which = Literal["source", "enhanced"]
WhichPath = Annotated[
    Which,
    PathParam(description="`source`: the frame decoded from the input; `enhanced`: the result", examples=["enhanced"]),
]


class FramePublic(BaseModel):
    index: int = Field(description="the frame's index in the video (0 for an image)")
    time: float | None = Field(description="seconds from the start")
    size: list[int] | None = Field(description="enhanced width and height")
    source_url: str = Field(description="the decoded source frame (PNG)")
    enhanced_url: str = Field(description="the enhanced frame (PNG)")
    thumbnail_url: str = Field(description="a small JPEG of the enhanced frame")


@router.get(
    "/{job_id}/frames",
    operation_id="listFrames",
    summary="List a job's finished frames",
    description=docs.LIST_FRAMES,
    response_model=list[FramePublic],
    responses={200: docs.ok([docs.FRAME], "the finished frames, in frame order"), **problems(401, 404)},
)
def list_frames(job: JobDep, store: StoreDep) -> list[FramePublic]:
    """Every frame finished so far (while the job runs too), in frame order."""
    base = f"/v1/jobs/{job.id}/frames"
    return [
        FramePublic(
            index=f.index,
            time=f.detail.get("time"),
            size=f.detail.get("size"),
            source_url=f"{base}/{f.index}/source",
            enhanced_url=f"{base}/{f.index}/enhanced",
            thumbnail_url=f"{base}/{f.index}/thumbnail",
        )
        for f in store.frames(job.id)
    ]


def _frame_file(
    settings: Settings, storage: JobStorage, store: JobStore, job: JobRecord, index: int, which: Which
) -> str:
    if index not in {f.index for f in store.frames(job.id)}:
        raise JobNotFound(f"job {job.id} has no finished frame {index}")
    path = storage.source_frame(job.id, index) if which == "source" else storage.enhanced_frame(job.id, index)
    if not path.is_file():
        if (files := job_files(settings, storage, job)) != "kept":
            raise files_gone(job, files)
        raise JobNotFound(f"job {job.id} has no {which} file for frame {index}")
    return str(path)


@router.get(
    "/{job_id}/frames/{index}/thumbnail",
    operation_id="getFrameThumbnail",
    summary="A small JPEG of a finished frame",
    description=docs.THUMBNAIL,
    response_class=Response,
    responses={
        200: {"content": binary_content("image/jpeg"), "description": "the thumbnail"},
        **problems(401, 404, 410, 413, 503),
    },
)
def get_thumbnail(
    job: JobDep,
    index: docs.FrameIndex,
    settings: SettingsDep,
    device: DeviceDep,
    storage: StorageDep,
    store: StoreDep,
    size: Annotated[int, Query(ge=32, le=THUMBNAIL_SIDE, description="longest side, in pixels", examples=[240])] = 160,
    which: Annotated[
        Which, Query(description="the enhanced frame or the decoded source", examples=["source"])
    ] = "enhanced",
) -> Response:
    """Made from the small JPEG kept when the frame was recorded; a frame recorded before those were kept is
    decoded once, under memory admission (413, or 503 + Retry-After), and its thumbnail kept."""
    frame = Path(_frame_file(settings, storage, store, job, index, which))
    data = thumbnail_jpeg(frame, storage.frame_thumbnail(job.id, index, which), device.memory, size)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.get(
    "/{job_id}/frames/{index}/{which}",
    operation_id="getFrame",
    summary="A finished frame, source or enhanced (PNG)",
    description=docs.GET_FRAME,
    response_class=FileResponse,
    responses={200: {"content": binary_content("image/png"), "description": "the frame"}, **problems(401, 404, 410)},
)
def get_frame(
    job: JobDep,
    index: docs.FrameIndex,
    which: WhichPath,
    settings: SettingsDep,
    storage: StorageDep,
    store: StoreDep,
) -> FileResponse:
    return FileResponse(_frame_file(settings, storage, store, job, index, which), media_type="image/png")
