"""Accepting a job: the upload is streamed to disk under a byte cap, probed (image or allowed video) and only then
becomes a queued job. Anything detectable at submit time is refused there with a 4xx."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from app.core.config import Settings
from app.core.errors import (
    CorruptMedia,
    InvalidOption,
    PayloadTooLarge,
    StorageFull,
    UnsupportedMedia,
)
from app.domain import JobKind
from app.inference.device import Device
from app.inference.enhance import check_size, estimate_bytes, plan
from app.inference.interpolate import pair_bytes
from app.inference.temporal import refuse_on_pictures
from app.jobs.album import Part, album_fingerprint, is_zip, submit_album
from app.jobs.estimate import check_estimate, estimate_job
from app.jobs.idempotency import same_request
from app.jobs.kinds import KINDS
from app.jobs.models import JobFacts, JobRecord, JobStatus
from app.jobs.options import JobOptions
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore, utcnow
from app.jobs.webhooks import check_callback
from app.media.decode import looks_like_image, probe_image
from app.media.video import probe_video

IMAGE_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Intake:
    """Where an accepted job goes, and what judges it: the same for the API and the CLI."""

    settings: Settings
    store: JobStore
    storage: JobStorage
    device: Device


@dataclass(frozen=True)
class JobRequest:
    """What the client asked for, besides its files."""

    options: JobOptions
    idempotency_key: str | None = None
    owner: str | None = None  # the API key's owner id, which scopes the job
    callback_url: str | None = None


@dataclass(frozen=True)
class Upload:
    """One spooled upload and the sha256 of its bytes (computed while it streamed in)."""

    part: Part
    sha256: str


def submit(intake: Intake, uploads: list[Upload], request: JobRequest) -> tuple[JobRecord, bool]:
    """The one way in for every kind: one image or video file is a single job (its kind from its bytes); several
    files or a zip are an album. Returns the job and whether it was created (False: an earlier job with the same
    Idempotency-Key and request). The spooled files are consumed either way. Raises what `submit_job` and
    `submit_album` raise."""
    try:
        if len(uploads) == 1 and not is_zip(uploads[0].part):
            only = uploads[0]
            return submit_job(
                intake.settings, intake.store, intake.storage, intake.device, only.part.path, only.part.name,
                request.options, request.idempotency_key, request.owner, only.sha256, request.callback_url,
            )  # fmt: skip
        parts = [u.part for u in uploads]
        fingerprint = album_fingerprint([u.sha256 for u in uploads], [p.name for p in parts], request.options)
        return submit_album(
            intake.settings, intake.store, intake.storage, intake.device, parts, request.options,
            request.idempotency_key, request.owner, fingerprint, request.callback_url,
        )  # fmt: skip
    finally:
        for upload in uploads:
            upload.part.path.unlink(missing_ok=True)


def check_room(settings: Settings, storage: JobStorage) -> None:
    """`StorageFull` (507) when job data is over its quota or the data disk is nearly full: checked before an
    upload is spooled, so a full disk is a clear answer instead of a failure half-way."""
    if storage.usage_bytes() > settings.max_data_bytes:
        raise StorageFull(f"job data uses more than {settings.max_data_bytes:,} bytes; try again after cleanup")
    storage.root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(storage.root).free
    if free < settings.min_free_bytes:
        raise StorageFull(f"the data disk has {free:,} bytes free (ENHANCE_MIN_FREE_BYTES={settings.min_free_bytes:,})")


def _probe(path: Path, settings: Settings) -> tuple[JobKind, str, JobFacts, tuple[int, int]]:
    """(the kind, file suffix, facts to keep with the job, (width, height)). A file with an image
    signature is an image and is judged as the image route judges it (the whole file when its header does not fit
    the first 64 KiB, e.g. behind a large ICC profile or iTXt chunk); everything else must be an allowed video."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(IMAGE_SNIFF_BYTES)
    info = None
    if looks_like_image(head):
        if size > settings.max_upload_bytes:
            raise PayloadTooLarge(f"images are limited to {settings.max_upload_bytes:,} bytes")
        try:
            info = probe_image(head, settings.max_pixels, settings.max_side)
        except (UnsupportedMedia, CorruptMedia):
            if size <= len(head):
                raise  # the whole file was read: the image route would refuse it the same way
            info = probe_image(path.read_bytes(), settings.max_pixels, settings.max_side)
    else:
        try:
            info = probe_image(head, settings.max_pixels, settings.max_side)  # a format without a listed signature
        except (UnsupportedMedia, CorruptMedia):
            info = None
    if info is not None:
        if size > settings.max_upload_bytes:
            raise PayloadTooLarge(f"images are limited to {settings.max_upload_bytes:,} bytes")
        return JobKind.IMAGE, "." + info.format.lower(), JobFacts(), (info.width, info.height)
    video = probe_video(path, settings.max_video_seconds, settings.max_video_frames, settings.max_video_side)
    return JobKind.VIDEO, ".video", JobFacts(video.frames, video.fps, video.has_audio), (video.width, video.height)


def submit_job(
    settings: Settings,
    store: JobStore,
    storage: JobStorage,
    device: Device,
    spooled: Path,
    filename: str,
    options: JobOptions,
    idempotency_key: str | None = None,
    owner: str | None = None,
    upload_sha256: str = "",
    callback_url: str | None = None,
) -> tuple[JobRecord, bool]:
    """Raises `UnsupportedMedia`, `CorruptMedia`, `PayloadTooLarge`, `ModelNotFound`, `InvalidOption`,
    `EstimateOverLimit` (ENHANCE_MAX_JOB_ESTIMATE_SECONDS) or `IdempotencyMismatch` (the key names an earlier job
    made from another upload or other options); the spooled file is consumed either way."""
    request = hashlib.sha256(f"{upload_sha256}\n{filename}\n{options.model_dump_json()}".encode()).hexdigest()
    try:
        if idempotency_key and (existing := store.by_idempotency_key(idempotency_key, owner)):
            return same_request(existing, request, idempotency_key), False
        steps = plan(options.enhance_options(), device, settings)  # the same validation the pipeline applies
        callback_url = check_callback(callback_url, settings)
        kind, suffix, facts, (width, height) = _probe(spooled, settings)
        if kind is not JobKind.VIDEO:
            refuse_on_pictures(device, steps.upscale_model, "an image")
        accepted = KINDS[kind].accept(settings, options, facts)
        if accepted != options:
            options, steps = accepted, plan(accepted.enhance_options(), device, settings)
        check_size(width, height, steps.scale, settings)  # every frame has the probed size: the image route's caps
        device.memory.check(estimate_bytes(width, height, steps, device, load=False), f"a {width}x{height} frame")
        if options.interpolate:  # RIFE's calls at publish, on the enhanced frames: refused now, not after them all
            out_w, out_h = round(width * (steps.scale or 1.0)), round(height * (steps.scale or 1.0))
            device.memory.check(pair_bytes(out_w, out_h), f"interpolating a {out_w}x{out_h} frame pair")
        if options.frames and facts.declared_frames and options.frames[-1] >= facts.declared_frames:
            raise InvalidOption(
                f"frame {options.frames[-1]} is past the end: the clip declares {facts.declared_frames} frames "
                f"(indices 0-{facts.declared_frames - 1})"
            )
        job_id = str(uuid.uuid4())
        name = Path(filename).name[:255] or "upload"
        now = utcnow()
        planned = JobRecord(job_id, JobStatus.QUEUED, kind, name, options.model_dump(), now, now, facts=facts)
        frames = KINDS[kind].estimate_total(options, planned)
        estimate = estimate_job(device, steps, frames, width, height, options.select_best, options.interpolate)
        check_estimate(estimate, settings.max_job_estimate_seconds)  # refused before anything is stored
        folder = storage.job_dir(job_id)
        folder.mkdir(parents=True)
        shutil.move(spooled, folder / f"input{suffix}")
        facts = replace(facts, request_fingerprint=request)
        job, created = store.create(
            kind, name, options.model_dump(), idempotency_key, owner, job_id, facts, callback_url, estimate
        )
        if not created:
            storage.remove(job_id)
            same_request(job, request, idempotency_key or "")
        return job, created
    finally:
        spooled.unlink(missing_ok=True)
