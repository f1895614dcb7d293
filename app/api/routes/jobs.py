"""Jobs: submit, inspect, follow (SSE), cancel, delete, download artifacts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile, status
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import ValidationError

from app.api.auth import OwnerDep
from app.api.deps import QueueDep, RegistryDep, SettingsDep, StorageDep, StoreDep
from app.core.errors import EnhanceError, InvalidOption, StorageFull
from app.jobs.models import JobRecord, JobStatus
from app.jobs.options import JobOptions
from app.jobs.storage import JobStorage, valid_job_id
from app.jobs.store import JobStore, utcnow
from app.jobs.submit import spool_upload, submit_job
from app.schemas import ArtifactPublic, JobPublic, JobsPublic, ProgressPublic

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


class JobNotFound(EnhanceError):
    status, type, title = 404, "job-not-found", "Unknown job"


class JobConflict(EnhanceError):
    status, type, title = 409, "job-conflict", "Job is in the wrong state"


def _progress(job: JobRecord) -> ProgressPublic:
    total = job.frames_total
    percent = round(100.0 * job.frames_done / total, 1) if total else None
    eta = None
    if job.status == JobStatus.RUNNING and job.started_at and total and 0 < job.frames_done < total:
        elapsed = (utcnow() - job.started_at).total_seconds()
        eta = round(elapsed / job.frames_done * (total - job.frames_done), 1)
    return ProgressPublic(done=job.frames_done, total=total, percent=percent, eta_seconds=eta)


def to_public(job: JobRecord, storage: JobStorage, base: str = "") -> JobPublic:
    path = f"{base}/v1/jobs/{job.id}"
    artifacts = [
        ArtifactPublic(
            name=a.name, size=a.size, sha256=a.sha256, media_type=a.media_type, url=f"{path}/artifacts/{a.name}"
        )
        for a in (storage.artifacts(job.id) if job.status == JobStatus.SUCCEEDED else [])
    ]
    return JobPublic(
        id=job.id,
        status=job.status.value,
        kind=job.kind,
        input_name=job.input_name,
        options={k: v for k, v in job.options.items() if not k.startswith("_")},
        created_at=job.created_at,
        updated_at=job.updated_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        progress=_progress(job),
        error=job.error,
        cancel_requested=job.cancel_requested,
        attempts=job.attempts,
        worker_id=job.worker_id,
        artifacts=artifacts,
        links={"self": path, "events": f"{path}/events", "artifacts": f"{path}/artifacts", "cancel": f"{path}/cancel"},
    )


def _load(store: JobStore, job_id: str, owner: str | None) -> JobRecord:
    """A job the caller may see; another key's job is as absent as a job that never existed."""
    job = store.get(job_id) if valid_job_id(job_id) else None
    if job is None or (owner is not None and job.owner != owner):
        raise JobNotFound(f"no job {job_id!r}")
    return job


def _int_list(text: str | None) -> list[int] | None:
    if text is None or not text.strip():
        return None
    try:
        return [int(part) for part in text.replace(" ", "").strip("[]").split(",") if part]
    except ValueError as exc:
        raise InvalidOption(f"frames must be comma-separated integers, got {text!r}") from exc


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
async def create_job(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    storage: StorageDep,
    registry: RegistryDep,
    queue: QueueDep,
    owner: OwnerDep,
    file: Annotated[UploadFile, File(description="a video (mp4, mov, mkv, webm, avi) or an image")],
    frames: Annotated[str | None, Form(description="frame indices, e.g. 0,30,60")] = None,
    every_n: Annotated[int | None, Form(ge=1)] = None,
    start: Annotated[float | None, Form(ge=0, description="seconds")] = None,
    end: Annotated[float | None, Form(gt=0, description="seconds")] = None,
    max_frames: Annotated[int | None, Form(ge=1)] = None,
    select_best: Annotated[
        int | None, Form(ge=1, le=1000, description="keep the K best frames, spread in time")
    ] = None,
    model: Annotated[str | None, Form()] = None,
    scale: Annotated[float | None, Form(gt=0, le=16)] = None,
    tile: Annotated[int | None, Form(ge=0, le=4096)] = None,
    deblur: Annotated[Literal["off", "auto", "on"], Form()] = "off",
    deblur_model: Annotated[str | None, Form(description="deblur catalogue id or 'classical'")] = None,
    outputs: Annotated[str, Form(description="comma-separated: frames, gif, video")] = "frames,gif",
    gif_layout: Annotated[Literal["side_by_side", "wipe", "flicker"], Form()] = "side_by_side",
    gif_fps: Annotated[float, Form(gt=0, le=50)] = 2.0,
    gif_max_width: Annotated[int, Form(ge=64, le=4096)] = 640,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    try:
        options = JobOptions(
            frames=_int_list(frames),
            every_n=every_n,
            start=start,
            end=end,
            max_frames=max_frames,
            select_best=select_best,
            model=model,
            scale=scale,
            tile=tile,
            deblur=deblur,
            deblur_model=deblur_model,
            outputs=[o.strip() for o in outputs.split(",") if o.strip()],  # type: ignore[misc]
            gif_layout=gif_layout,
            gif_fps=gif_fps,
            gif_max_width=gif_max_width,
        )
    except ValidationError as exc:
        raise InvalidOption("; ".join(str(e["msg"]) for e in exc.errors())) from exc
    if await asyncio.to_thread(storage.usage_bytes) > settings.max_data_bytes:
        raise StorageFull(f"job data uses more than {settings.max_data_bytes:,} bytes; try again after cleanup")
    spooled = await spool_upload(file, storage.root / ".uploads", settings.max_job_upload_bytes)
    job, created = await asyncio.to_thread(
        submit_job,
        settings,
        store,
        storage,
        registry,
        spooled,
        file.filename or "upload",
        options,
        idempotency_key,
        owner,
    )
    if created:
        queue.enqueue(job.id)
    body = to_public(job, storage)
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        headers={"Location": body.links["self"]},
    )


@router.get("", response_model=JobsPublic)
async def list_jobs(
    store: StoreDep,
    storage: StorageDep,
    owner: OwnerDep,
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> JobsPublic:
    records, next_cursor = store.list_jobs(status_filter, limit, cursor, owner)
    data = [to_public(j, storage) for j in records]
    return JobsPublic(data=data, count=len(data), next_cursor=next_cursor)


@router.get("/{job_id}", response_model=JobPublic)
async def get_job(job_id: str, store: StoreDep, storage: StorageDep, owner: OwnerDep) -> JobPublic:
    return to_public(_load(store, job_id, owner), storage)


@router.get("/{job_id}/events", response_class=StreamingResponse)
async def job_events(
    job_id: str, store: StoreDep, storage: StorageDep, request: Request, owner: OwnerDep
) -> StreamingResponse:
    """Server-sent events: a `progress` event whenever the job changes, then one `end` event."""
    _load(store, job_id, owner)

    async def stream() -> AsyncIterator[str]:
        last: datetime | None = None
        while not await request.is_disconnected():
            job = await asyncio.to_thread(store.get, job_id)
            if job is None:
                yield 'event: end\ndata: {"status": "deleted"}\n\n'
                return
            if job.updated_at != last:
                last = job.updated_at
                payload = to_public(job, storage).model_dump(mode="json")
                yield f"event: progress\nid: {job.frames_done}\ndata: {json.dumps(payload)}\n\n"
            if job.status.terminal:
                yield f"event: end\ndata: {json.dumps({'status': job.status.value})}\n\n"
                return
            await asyncio.sleep(0.25)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.post("/{job_id}/cancel", response_model=JobPublic)
async def cancel_job(job_id: str, store: StoreDep, storage: StorageDep, owner: OwnerDep) -> JobPublic:
    job = _load(store, job_id, owner)
    if not job.status.terminal:
        job = store.request_cancel(job_id) or job
    return to_public(job, storage)


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_job(job_id: str, store: StoreDep, storage: StorageDep, owner: OwnerDep) -> Response:
    job = _load(store, job_id, owner)
    if job.status == JobStatus.RUNNING:
        raise JobConflict("the job is running; cancel it first (POST .../cancel), then delete it")
    store.delete(job_id)
    storage.remove(job_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{job_id}/artifacts", response_model=list[ArtifactPublic])
async def list_artifacts(job_id: str, store: StoreDep, storage: StorageDep, owner: OwnerDep) -> list[ArtifactPublic]:
    return to_public(_load(store, job_id, owner), storage).artifacts


@router.get("/{job_id}/artifacts/{name}", response_class=FileResponse)
async def get_artifact(job_id: str, name: str, store: StoreDep, storage: StorageDep, owner: OwnerDep) -> FileResponse:
    job = _load(store, job_id, owner)
    path = storage.artifact_path(job.id, name) if job.status == JobStatus.SUCCEEDED else None
    if path is None:
        raise JobNotFound(f"job {job_id} has no artifact {name!r}")
    media = next(a.media_type for a in storage.artifacts(job.id) if a.name == name)
    return FileResponse(path, media_type=media, filename=name)
