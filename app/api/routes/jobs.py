"""Jobs: submit, inspect, follow (SSE), cancel, delete, download artifacts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile, status
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.api import docs_text as docs
from app.api.auth import API_KEY_HEADER, BEARER, OwnerDep, current_owner
from app.api.deps import DeviceDep, QueueDep, SettingsDep, StorageDep, StoreDep, api_state
from app.api.openapi import binary_content, problems
from app.api.quota import QuotaKey
from app.api.ranges import ArtifactResponse, usable_range
from app.api.signing import signed_query, valid_signature
from app.api.uploads import one_input, spool_upload, spool_url
from app.core.config import Settings
from app.core.errors import JobConflict, JobNotFound, Unauthorized
from app.core.quotas import Quotas
from app.jobs.album import Part
from app.jobs.leftovers import files_gone, free_job_files, job_files
from app.jobs.models import JobRecord, JobStatus
from app.jobs.options import JobOptions
from app.jobs.storage import MEDIA_TYPES, JobStorage, valid_job_id
from app.jobs.store import JobStore, utcnow
from app.jobs.submit import Intake, JobRequest, Upload, check_room, submit
from app.schemas import ArtifactPublic, EstimatePublic, JobPublic, JobsPublic, ProgressPublic, WebhookPublic

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def _progress(job: JobRecord) -> ProgressPublic:
    total = job.frames_total
    percent = round(100.0 * job.frames_done / total, 1) if total else None
    eta = None
    if job.status == JobStatus.RUNNING and job.started_at and total and 0 < job.frames_done < total:
        elapsed = (utcnow() - job.started_at).total_seconds()
        eta = round(elapsed / job.frames_done * (total - job.frames_done), 1)
    return ProgressPublic(done=job.frames_done, total=total, percent=percent, eta_seconds=eta)


# A failed job can have artifacts too: a video that stopped decoding part-way publishes what was made before it.
PUBLISHED = {JobStatus.SUCCEEDED, JobStatus.FAILED}


def to_public(job: JobRecord, storage: JobStorage, settings: Settings, base: str = "") -> JobPublic:
    path = f"{base}/v1/jobs/{job.id}"
    artifacts = [
        ArtifactPublic(
            name=a.name,
            size=a.size,
            sha256=a.sha256,
            media_type=a.media_type,
            url=f"{path}/artifacts/{a.name}",
            signed_url=(
                f"{path}/artifacts/{a.name}{query}"
                if (query := signed_query(settings, job.owner, job.id, a.name))
                else None
            ),
        )
        for a in (storage.artifacts(job.id) if job.status in PUBLISHED else [])
    ]
    return JobPublic(
        id=job.id,
        status=job.status,
        kind=job.kind,  # type: ignore[arg-type]  # "image" or "video", validated into JobKind
        input_name=job.input_name,
        options=JobOptions.stored({k: v for k, v in job.options.items() if not k.startswith("_")}),
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
        files=job_files(settings, storage, job),
        webhook=WebhookPublic(
            status=job.webhook.status,  # type: ignore[arg-type]
            event_id=job.webhook.event_id,
            attempts=job.webhook.attempts,
            last_status_code=job.webhook.last_status_code,
            last_error=job.webhook.last_error,
            next_attempt_at=job.webhook.next_attempt_at if job.webhook.status == "retrying" else None,
        )
        if job.callback_url
        else None,
        estimate=_estimate(job),
        links={"self": path, "events": f"{path}/events", "artifacts": f"{path}/artifacts", "cancel": f"{path}/cancel"},
    )


def _estimate(job: JobRecord) -> EstimatePublic | None:
    estimate = job.estimate
    if estimate is None:
        return None  # a job from before estimates
    return EstimatePublic(**estimate.as_dict(), seconds=estimate.seconds)


def check_active_jobs(quotas: Quotas, store: JobStore, owner: str | None) -> None:
    """`QuotaExceeded` when the key already has its most jobs queued or running (checked at submit only)."""
    if not quotas.max_active_jobs or owner is None:
        return
    active = sum(
        len(store.list_jobs(state, limit=quotas.max_active_jobs, owner=owner)[0])
        for state in (JobStatus.QUEUED, JobStatus.RUNNING)
    )
    quotas.check_active_jobs(active)


def _load(store: JobStore, job_id: str, owner: str | None) -> JobRecord:
    """A job the caller may see; another key's job is as absent as a job that never existed."""
    job = store.get(job_id) if valid_job_id(job_id) else None
    if job is None or (owner is not None and job.owner != owner):
        raise JobNotFound(f"no job {job_id!r}")
    return job


def visible_job(job_id: docs.JobId, store: StoreDep, owner: OwnerDep) -> JobRecord:
    """Dependency form of `_load`: runs before a streaming response starts, so an unknown job is still a 404.
    A plain `def`, like every handler here that reads the store or the disk: FastAPI runs it in its thread pool,
    so a slow database or disk never holds up the event loop (tests/api/test_event_loop.py)."""
    return _load(store, job_id, owner)


JobDep = Annotated[JobRecord, Depends(visible_job)]
LOCATION = {"Location": {"description": "the job's URL", "schema": {"type": "string"}}}


@router.post(
    "",
    operation_id="createJob",
    summary="Submit a job",
    description=docs.CREATE_JOB,
    openapi_extra=docs.request_example(docs.CREATE_JOB_REQUEST),
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    responses={
        202: {"description": "the job was created and queued", "headers": LOCATION},
        200: {
            "model": JobPublic,
            "description": "an earlier job with the same Idempotency-Key and the same request (nothing new created)",
            "headers": LOCATION,
        },
        **problems(401, 404, 413, 415, 422, 429, 503, 507),
    },
)
async def create_job(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    storage: StorageDep,
    device: DeviceDep,
    queue: QueueDep,
    owner: OwnerDep,
    _key: QuotaKey,
    options: Annotated[JobOptions, Form()],
    file: Annotated[
        list[UploadFile],
        File(
            default_factory=list,  # optional when `url` comes instead, and still an array of binaries in the schema
            description="a video (mp4, mov, mkv, webm, avi) or an image; several photos, or a zip of photos, make "
            "an album job (keep, select_best and duplicates choose which are enhanced); or send `url`",
        ),
    ],
    url: Annotated[
        str | None,
        Form(
            max_length=2048,
            description="instead of `file`: an http(s) URL of the video, image or zip, which the server downloads "
            "(public hosts only, unless ENHANCE_URL_INPUT_ALLOW lists them; redirects re-checked; the job upload's "
            "size cap; ENHANCE_URL_INPUT_TIMEOUT_SECONDS)",
        ),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=255,
            description="resubmitting the same request with it returns the same job",
            examples=["holiday-clip-2026-11-26"],
        ),
    ] = None,
    callback_url: Annotated[
        str | None,
        Form(
            max_length=2048,
            description="when the job ends, a signed JSON event is POSTed here (public http(s) hosts only, unless "
            "the server allows others); retried with backoff, visible as the job's `webhook`",
        ),
    ] = None,
) -> JSONResponse:
    """Upload a video or an image (or give its `url`) with what to do to it; the job runs in the background (follow
    its events)."""
    await asyncio.to_thread(check_active_jobs, api_state(request).services.quotas, store, owner)
    await asyncio.to_thread(check_room, settings, storage)
    one_input(bool(file), url)
    uploads: list[Upload] = []
    try:
        if url:
            path, fetched = await asyncio.to_thread(
                spool_url, url, storage.root / ".uploads", settings.max_job_upload_bytes, settings
            )
            uploads.append(Upload(Part(path, fetched.name), fetched.sha256))
        for f in file:
            path, sha = await spool_upload(f, storage.root / ".uploads", settings.max_job_upload_bytes)
            uploads.append(Upload(Part(path, f.filename or "upload"), sha))
    except BaseException:
        for upload in uploads:  # a later part failed: the earlier ones were spooled for nothing
            upload.part.path.unlink(missing_ok=True)
        raise
    asked = JobRequest(options, idempotency_key, owner, callback_url)

    def accept() -> tuple[JobPublic, bool]:
        """Off the event loop, all of it: the probe, the store, the spooled files' removal and, under Celery, the
        broker's round trip."""
        job, created = submit(Intake(settings, store, storage, device), uploads, asked)
        if created:
            queue.enqueue(job.id)
        return to_public(job, storage, settings), created

    body, created = await asyncio.to_thread(accept)
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        headers={"Location": body.links["self"]},
    )


@router.get(
    "",
    operation_id="listJobs",
    summary="List jobs",
    description=docs.LIST_JOBS,
    response_model=JobsPublic,
    responses={200: docs.ok(docs.JOBS_OK, "a page of jobs, newest first"), **problems(400, 401, 422)},
)
def list_jobs(
    settings: SettingsDep,
    store: StoreDep,
    storage: StorageDep,
    owner: OwnerDep,
    status_filter: Annotated[
        JobStatus | None, Query(alias="status", description="only jobs in this state", examples=["running"])
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="jobs per page", examples=[20])] = 50,
    cursor: Annotated[
        str | None,
        Query(max_length=64, description="`next_cursor` of the previous page", examples=[docs.OLDER_JOB_ID]),
    ] = None,
) -> JobsPublic:
    """Newest first."""
    records, next_cursor = store.list_jobs(status_filter, limit, cursor, owner)
    data = [to_public(j, storage, settings) for j in records]
    return JobsPublic(data=data, count=len(data), next_cursor=next_cursor)


@router.get(
    "/{job_id}",
    operation_id="getJob",
    summary="Get a job",
    description=docs.GET_JOB,
    response_model=JobPublic,
    responses={200: docs.ok(docs.JOB_OK, "the job"), **problems(401, 404)},
)
def get_job(job: JobDep, storage: StorageDep, settings: SettingsDep) -> JobPublic:
    return to_public(job, storage, settings)


def _version(job: JobRecord) -> int:
    """The SSE event id: the job's last change in microseconds, which only grows."""
    return int(job.updated_at.timestamp() * 1_000_000)


@router.get(
    "/{job_id}/events",
    operation_id="streamJobEvents",
    summary="Follow a job's progress (SSE)",
    description=docs.EVENTS,
    response_class=EventSourceResponse,
    responses={
        200: {
            "content": {
                "text/event-stream": {
                    "schema": {"type": "string", "description": "an event stream"},
                    "example": docs.EVENTS_EXAMPLE,
                }
            },
            "description": "`progress` events (data: the job, as getJob returns it) whenever the job changes, then "
            "one `end` event (data: its final status). A `: ping` comment every 15 s keeps proxies from cutting "
            "an idle stream. Reconnect with `Last-Event-ID` to receive only what changed since that event.",
        },
        **problems(401, 404),
    },
)
async def stream_job_events(
    job: JobDep,
    settings: SettingsDep,
    store: StoreDep,
    storage: StorageDep,
    request: Request,
    last_event_id: Annotated[
        str | None, Header(description="resume after this event id", examples=["1796338204000000"])
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    seen = int(last_event_id) if last_event_id and last_event_id.isdigit() else -1
    while not await request.is_disconnected():
        current = await asyncio.to_thread(store.get, job.id)
        if current is None:
            yield ServerSentEvent(event="end", data={"status": "deleted"})
            return
        if _version(current) > seen:
            seen = _version(current)
            public = await asyncio.to_thread(to_public, current, storage, settings)  # reads artifacts.json
            yield ServerSentEvent(event="progress", id=str(seen), data=public.model_dump(mode="json"), retry=2000)
        if current.status.terminal:
            yield ServerSentEvent(event="end", id=str(seen), data={"status": current.status.value})
            return
        await asyncio.sleep(0.25)


@router.post(
    "/{job_id}/cancel",
    operation_id="cancelJob",
    summary="Cancel a job",
    description=docs.CANCEL,
    response_model=JobPublic,
    responses={200: docs.ok({**docs.JOB_OK, "cancel_requested": True}, "the job, as it is now"), **problems(401, 404)},
)
def cancel_job(job: JobDep, store: StoreDep, storage: StorageDep, settings: SettingsDep, queue: QueueDep) -> JobPublic:
    """Stops after the current frame; a finished job is returned as it is. A cancelled job's files are deleted
    (unless the server keeps them: ENHANCE_KEEP_FAILED_JOB_FILES)."""
    if not job.status.terminal:
        job = store.request_cancel(job.id) or job
        free_job_files(settings, storage, job.id, job.status)  # a queued job ends here; a running one at its worker
        hint = getattr(queue, "cancel", None)  # the embedded worker: tell the running job now
        if hint is not None and job.status == JobStatus.RUNNING:
            hint(job.id)
    return to_public(job, storage, settings)


@router.delete(
    "/{job_id}",
    operation_id="deleteJob",
    summary="Delete a job and its files",
    description=docs.DELETE_JOB,
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(401, 404, 409),
)
def delete_job(job: JobDep, store: StoreDep, storage: StorageDep) -> Response:
    if job.status == JobStatus.RUNNING:
        raise JobConflict("the job is running; cancel it first (POST .../cancel), then delete it")
    store.delete(job.id)
    storage.remove(job.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{job_id}/artifacts",
    operation_id="listArtifacts",
    summary="List a job's artifacts",
    description=docs.LIST_ARTIFACTS,
    response_model=list[ArtifactPublic],
    responses={200: docs.ok([docs.ARTIFACT], "the published files"), **problems(401, 404)},
)
def list_artifacts(job: JobDep, storage: StorageDep, settings: SettingsDep) -> list[ArtifactPublic]:
    return to_public(job, storage, settings).artifacts


ARTIFACT_CONTENT: dict[str, Any] = {
    **binary_content(*sorted(set(MEDIA_TYPES.values()) - {"application/json"}), "application/octet-stream"),
    "application/json": {"schema": {"type": "object", "description": "report.json"}, "example": docs.REPORT},
}


def artifact_job(
    job_id: docs.JobId,
    name: docs.ArtifactName,
    settings: SettingsDep,
    store: StoreDep,
    api_key: Annotated[str | None, Depends(API_KEY_HEADER)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    expires: Annotated[
        int | None, Query(description="with `signature`: a signed link's expiry (Unix time)", examples=[1796342400])
    ] = None,
    signature: Annotated[
        str | None,
        Query(
            max_length=64,
            description="a signed link's signature (from the artifact's `signed_url`)",
            examples=[docs.SIGNATURE],
        ),
    ] = None,
) -> JobRecord:
    """The job, for a caller with its API key or with a valid signed link to this one artifact."""
    if not settings.api_keys or signature is None or expires is None:  # without keys, every link is open anyway
        return _load(store, job_id, current_owner(settings, api_key, bearer))
    job = _load(store, job_id, None)
    if not valid_signature(settings, job.owner, job.id, name, expires, signature):
        raise Unauthorized("the signed link has expired or is not valid for this artifact; list the job again")
    return job


@router.get(
    "/{job_id}/artifacts/{name}",
    operation_id="getArtifact",
    summary="Download an artifact",
    description=docs.GET_ARTIFACT,
    response_class=FileResponse,
    responses={
        200: {"content": ARTIFACT_CONTENT, "description": "the file; byte ranges are supported"},
        206: {"content": ARTIFACT_CONTENT, "description": "the requested byte range"},
        **problems(401, 404, 410, 416),
    },
)
def get_artifact(
    job: Annotated[JobRecord, Depends(artifact_job)],
    name: docs.ArtifactName,
    storage: StorageDep,
    settings: SettingsDep,
    range_header: Annotated[str | None, Header(alias="Range", include_in_schema=False)] = None,
) -> FileResponse:
    if (files := job_files(settings, storage, job)) == "deleted":
        raise files_gone(job, files)
    if job.status not in PUBLISHED:
        raise JobNotFound(f"job {job.id} is {job.status.value}: a job has artifacts once it succeeds")
    path = storage.artifact_path(job.id, name)
    if path is None:
        raise JobNotFound(f"job {job.id} has no artifact {name!r}")
    media = next(a.media_type for a in storage.artifacts(job.id) if a.name == name)
    honour = usable_range(range_header, path.stat().st_size)
    return ArtifactResponse(path, honour_range=honour, media_type=media, filename=name)
