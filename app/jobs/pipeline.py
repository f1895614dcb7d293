"""run_job(ctx, job_id): the one job pipeline, the same under the in-process worker and under Celery.

decode (PyAV, streamed) → select → upscale (on the device) → write frame atomically → record it → outputs.
A recorded frame is never redone: a job resumed after a crash, a restart or a redelivery skips straight past it.

A long video runs in segments (`app.jobs.segments`): the job's holder plans them, announces them to the other
workers (`JobContext.announce_segments`), restores segments itself too, waits for the rest, feeding the GIF and
video the recorded frames in order meanwhile, and publishes. `run_segments` is the other workers' way in.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.exc import DBAPIError

from app.core.config import Settings
from app.core.errors import DecodeStopped, EnhanceError, InvalidOption
from app.core.files import write_atomic
from app.core.logging import current_job
from app.core.metrics import FRAMES, STAGE_SECONDS
from app.domain import ImageFormat, JobKind, Picture
from app.inference.deblur import uses_neighbours
from app.inference.device import Device
from app.inference.enhance import Plan, estimate_bytes, plan, restore_picture
from app.jobs.kinds import JobKindSpec, SourceFrame, kind_of
from app.jobs.leftovers import free_job_files
from app.jobs.models import FrameRecord, JobRecord, JobStatus, SegmentRecord, SegmentStatus
from app.jobs.neighbours import with_neighbours
from app.jobs.options import JobOptions
from app.jobs.outputs import LiveOutputs
from app.jobs.prefetch import prefetch
from app.jobs.segments import (
    RecordedFeed,
    RenewedLease,
    SegmentPart,
    drop_part,
    join_segments,
    merge_flicker,
    parts_wanted,
)
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore, LeaseLost, utcnow
from app.jobs.temporal_frames import first_to_read, in_windows
from app.jobs.thumbnails import write_thumbnails
from app.media.encode import encode_image, encode_png8, to_uint8

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    settings: Settings
    store: JobStore
    storage: JobStorage
    device: Device  # every model load and call: the API's device thread, or inline in the CLI and Celery
    worker_id: str
    stop_requested: Callable[[], bool] = lambda: False  # the process is shutting down: stop after this frame
    # Jobs this process was told were cancelled (the embedded worker): the guard reads the store at once instead
    # of at its next poll. Celery workers have no such hint and see the cancel within CANCEL_POLL_SECONDS.
    cancel_hints: set[str] = field(default_factory=set)
    # Tells `count` other workers that the job has segments for them (Celery: one task each); the embedded worker
    # has no one to tell: idle local workers sharing the store find them (`JobStore.job_with_free_segment`).
    announce_segments: Callable[[str, int], None] = lambda job_id, count: None


class JobCancelled(Exception):
    pass


class JobLeaseLost(Exception):
    """This worker no longer holds the job (its lease expired and the reaper requeued it): stop, touch nothing."""


class JobInterrupted(Exception):
    """The worker is shutting down; the job goes back to the queue and resumes after its recorded frames."""


class JobTimedOut(Exception):
    pass


class SegmentLost(Exception):
    """This worker no longer holds the segment it was restoring (its lease expired and another worker took it)."""


# How often the job's holder looks at the segments other workers hold, once it has none left to restore: every
# poll after the last segment ends is serial time (0.5 s cost up to 0.5 s of a job), a poll costs ~2 ms of CPU.
SEGMENT_POLL_SECONDS = 0.1


class JobPartial(Exception):
    """The video stopped decoding part-way: the frames before that point were enhanced and published; the job
    still fails, with this reason, so nobody mistakes the result for the whole video."""


DECODE_AHEAD = 2  # frames decoded before the device asks for them


def frame_writers() -> int:
    """Threads that convert, PNG-encode and record restored frames. One 2560x1440 PNG takes 176 ms of one core
    (Xeon, 2026-11-29), five times an animevideov3 call on an H200, so one writer held a GPU job at 3 fps; OpenCV
    and NumPy release the GIL, so writers scale with cores. Half the cores at most: on a CPU host the model's own
    calls need the rest."""
    return max(1, min(8, (os.cpu_count() or 2) // 2))


def _persist_frame(
    ctx: JobContext,
    job: JobRecord,
    frame: SourceFrame,
    restored: Picture,
    detail: dict[str, Any],
    started: float,
    segment: int | None = None,
) -> np.ndarray | None:
    """Write both PNGs atomically, then record the frame: a crash between the two only costs redoing this frame.
    Returns a video frame's enhanced uint8 pixels, for the live GIF and video."""
    source_path, enhanced_path = (
        ctx.storage.source_frame(job.id, frame.index),
        ctx.storage.enhanced_frame(job.id, frame.index),
    )
    if frame.rgb8 is None:  # an image job's picture: may carry alpha, 16 bits or an ICC profile, all kept
        write_atomic(source_path, encode_image(frame.picture, ImageFormat.PNG))
        write_atomic(enhanced_path, encode_image(restored, ImageFormat.PNG))
        enhanced8 = None
    else:  # a video frame: plain 8-bit RGB, so the fast encoder, and one uint8 conversion shared with `live`
        enhanced8 = to_uint8(restored.pixels)
        write_atomic(source_path, encode_png8(frame.rgb8))
        write_atomic(enhanced_path, encode_png8(enhanced8))
    # The frames page's thumbnails, from the pixels in hand: its route never has to decode a full frame.
    source = frame.picture.pixels if frame.rgb8 is None else frame.rgb8
    write_thumbnails(ctx.storage, job.id, frame.index, source, restored.pixels if enhanced8 is None else enhanced8)
    ctx.store.record_frame(
        FrameRecord(
            job_id=job.id,
            index=frame.index,
            pts=frame.pts,
            time_base=str(frame.time_base) if frame.time_base is not None else None,
            seconds=time.perf_counter() - started,
            finished_at=utcnow(),
            worker_id=ctx.worker_id,
            detail=detail,
        ),
        segment,
    )
    return enhanced8


def _feed_live(live: LiveOutputs | SegmentPart, frame: SourceFrame, written: Future[np.ndarray | None]) -> None:
    """On the one live-outputs thread, in frame order: the GIF and the video take frames in sequence, while the
    writers before it finish in any order."""
    enhanced8 = written.result()
    if frame.rgb8 is not None and enhanced8 is not None:
        live.add(frame.rgb8, enhanced8, frame.pts)


@dataclass
class FrameWriters:
    """Where restored frames go after the device: `writers` (unordered, several threads) and `live` (one thread,
    in order)."""

    writers: ThreadPoolExecutor
    live_thread: ThreadPoolExecutor
    live: LiveOutputs | SegmentPart | None  # a segment's worker feeds its part of the video
    segment: int | None = None  # the segment the frames are recorded under (None: the job's own lease)


def _process_frame(
    ctx: JobContext,
    job: JobRecord,
    steps: Plan,
    frame: SourceFrame,
    out: FrameWriters,
    guard: JobGuard,
) -> Future[Any]:
    """Restore on the device now; hand the writing to `out`, so the next frame's inference overlaps it. The
    frame's memory is reserved from before its restore until its files are written (it waits its turn: a job is
    patient, image requests are not). `guard` runs between the frame's model calls: a cancel, a shutdown or a lost
    lease stops the job within one call, not one frame."""
    memory = ctx.device.memory
    need = estimate_bytes(frame.picture.width, frame.picture.height, steps, ctx.device)
    memory.acquire(need, f"a {frame.picture.width}x{frame.picture.height} frame", patient=True)
    try:
        started = time.perf_counter()
        if frame.restored is not None:  # restored with its neighbours by a temporal model (jobs.temporal_frames)
            restored, decision = frame.restored
        else:
            restored, _, decision = restore_picture(
                frame.picture, steps, ctx.device, lambda done, total: guard(), frame.neighbours
            )
        STAGE_SECONDS.labels("frame_restore").observe(time.perf_counter() - started)
        FRAMES.labels(steps.upscale_model or "none").inc()
        stages = decision.as_dict()  # light and denoise get their own keys; "deblur" keeps them too, for a release
        detail = {"time": frame.seconds, "size": [restored.width, restored.height], "deblur": stages}
        detail.update(light=stages["light"], denoise=stages["denoise"])
        if frame.temporal is not None:  # the temporal model's run and window, for the report (jobs.temporal_report)
            detail["temporal"] = frame.temporal
        written: Future[Any] = out.writers.submit(
            _persist_frame, ctx, job, frame, restored, detail, started, out.segment
        )
        if out.live is not None:
            written = out.live_thread.submit(_feed_live, out.live, frame, written)
    except BaseException:
        memory.release(need)
        raise
    written.add_done_callback(lambda _: memory.release(need))
    return written


CANCEL_POLL_SECONDS = 0.2


class JobGuard:
    """Called between frames: stops the job for a cancel, a shutdown, a lost lease or the per-job time limit. The
    store is read at most every `CANCEL_POLL_SECONDS` (a read costs ~3.5 ms, 4 % of a 93 ms animevideov3 frame on
    the thread that runs inference); a shutdown and a lost lease are seen at once."""

    def __init__(self, ctx: JobContext, job_id: str, lease: RenewedLease | None) -> None:
        self.ctx, self.job_id, self.lease = ctx, job_id, lease  # lease None: a segment helper, not the holder
        self.segment: RenewedLease | None = None  # the segment being restored, while there is one
        self._next_read = 0.0

    def __call__(self, force: bool = False) -> None:
        if self.lease is not None and self.lease.lost.is_set():
            raise JobLeaseLost
        if self.segment is not None and self.segment.lost.is_set():
            raise SegmentLost
        now = time.monotonic()
        if force or now >= self._next_read or self.job_id in self.ctx.cancel_hints:
            self._next_read = now + CANCEL_POLL_SECONDS
            job = self.ctx.store.get(self.job_id)  # one read: cancel requested, and how long this attempt has run
            if job is None or job.cancel_requested:
                raise JobCancelled
            if job.started_at is not None:
                elapsed = (utcnow() - job.started_at).total_seconds()
                limit = self.ctx.settings.job_timeout_seconds
                if elapsed > limit:
                    raise JobTimedOut(f"timed out after {elapsed:.0f} s (limit {limit} s)")
        if self.ctx.stop_requested():
            raise JobInterrupted


class Lease(RenewedLease):
    """The job's lease, renewed while the job runs; `lost` is set when the store says this worker no longer holds
    the job."""

    def __init__(self, ctx: JobContext, job_id: str) -> None:
        seconds = ctx.settings.job_lease_seconds
        super().__init__(lambda: ctx.store.heartbeat(job_id, ctx.worker_id, seconds), seconds, f"job {job_id}")


def _process_job(ctx: JobContext, job: JobRecord, guard: JobGuard) -> None:
    spec = kind_of(job)
    options = JobOptions.stored(job.options)
    steps = plan(options.enhance_options(), ctx.device, ctx.settings)
    model = ctx.device.model(steps.upscale_model) if steps.upscale_model else None
    if job.selection is None:  # scored once: a resumed job reuses the stored choice instead of re-scoring
        job.selection = spec.select(ctx.settings, ctx.storage, job, options, guard, ctx.device.memory)
        if job.selection is not None:
            ctx.store.set_selection(job.id, job.selection)
    options = _selected(options, job)
    segments = ctx.store.segments(job.id)
    if not segments and not ctx.store.frames(job.id):  # planned once, before any frame: a resume keeps its way
        parts = spec.plan_segments(ctx.settings, ctx.storage, job, options, guard)
        segments = ctx.store.create_segments(job.id, parts) if parts and len(parts) > 1 else []
    if segments:
        _process_segmented(ctx, spec, job, options, steps, model, segments, guard)
        return
    estimate = spec.estimate_total(options, job)
    if estimate is not None:
        ctx.store.set_total(job.id, estimate)
    done = {f.index for f in ctx.store.frames(job.id)}
    live = spec.live_outputs(ctx.settings, ctx.storage, job, options) if not done else None
    stopped: DecodeStopped | None = None
    try:
        try:
            taken = _restore_frames(ctx, spec, job, options, steps, done, live, guard)
        except DecodeStopped as exc:
            taken = len(ctx.store.frames(job.id))
            if not taken:
                raise
            stopped = exc  # keep what was made: outputs from the frames before the damage
        if taken == 0:
            raise InvalidOption("no frame matched the selection (check frames, start/end and every_n)")
        ctx.store.set_total(job.id, taken)
        guard(force=True)
        incomplete = stopped.detail if stopped else None
        frames = ctx.store.frames(job.id)
        spec.publish(ctx.settings, ctx.storage, job, frames, options, model, live, incomplete, ctx.device, guard)
    finally:
        if live is not None:
            live.discard()  # after a failure, a cancel or a shutdown: close the encoder, drop the partial video
    if stopped is not None:
        raise JobPartial(f"{stopped.detail}; the {taken} frames before it were enhanced and their artifacts are kept")


def _selected(options: JobOptions, job: JobRecord) -> JobOptions:
    """The options with a scoring pass's choice (select_best) in place of the rules it chose by."""
    if job.selection is None:
        return options
    return _only(options, [c["index"] for c in job.selection if c["chosen"]])


def _only(options: JobOptions, frames: list[int]) -> JobOptions:
    """The options restoring exactly `frames` (the rules that picked them no longer apply)."""
    rules: dict[str, Any] = {"every_n": None, "start": None, "end": None, "max_frames": None}
    return options.model_copy(update={"frames": frames, **rules})


def _process_segmented(
    ctx: JobContext,
    spec: JobKindSpec,
    job: JobRecord,
    options: JobOptions,
    steps: Plan,
    model: Any,
    segments: list[SegmentRecord],
    guard: JobGuard,
) -> None:
    """The job's holder: tell the other workers, restore segments alongside them, take over any whose worker
    died, then publish. The GIF and video are fed the recorded frames in frame order while segments run."""
    ctx.store.set_total(job.id, sum(len(s.frames) for s in segments))
    free = [s for s in segments if s.status is not SegmentStatus.DONE]
    if len(free) > 1:
        ctx.announce_segments(job.id, len(free) - 1)
    live = spec.live_outputs(ctx.settings, ctx.storage, job, options)
    parted = live is not None and parts_wanted(options)  # each segment's worker encodes its part of the video
    try:
        if live is not None:
            if parted:
                live.without_video()
            feed = RecordedFeed(
                live,
                sorted(i for s in segments for i in s.frames),
                lambda since: ctx.store.frames(job.id, since),
                lambda i: (ctx.storage.source_frame(job.id, i), ctx.storage.enhanced_frame(job.id, i)),
            )
            with feed:
                _await_segments(ctx, spec, job, options, steps, guard)
            if not feed.finish():
                live.discard()
                live = None
        else:
            _await_segments(ctx, spec, job, options, steps, guard)
        frames = ctx.store.frames(job.id)
        ctx.store.set_total(job.id, len(frames))
        guard(force=True)
        if parted and live is not None:  # else (not joinable, or the feed failed): encoded whole at publish
            done = ctx.store.segments(job.id)
            joined = join_segments(ctx.settings, ctx.storage, job.id, options, done, frames, ctx.worker_id)
            merge_flicker(live.flicker, ctx.storage, job.id, done, frames)  # each part measured its frames
            if joined is not None:
                live.adopt_video(*joined)
        spec.publish(ctx.settings, ctx.storage, job, frames, options, model, live, None, ctx.device, guard)
    finally:
        if live is not None:
            live.discard()  # after a failure, a cancel or a shutdown: close the encoder, drop the partial video


def _await_segments(
    ctx: JobContext, spec: JobKindSpec, job: JobRecord, options: JobOptions, steps: Plan, guard: JobGuard
) -> None:
    """Restore segments until none is free, then wait for those other workers hold (taking over any whose lease
    runs out) until every one is done."""
    while True:
        _restore_segments(ctx, spec, job, options, steps, guard)
        if all(s.status is SegmentStatus.DONE for s in ctx.store.segments(job.id)):
            return
        guard()  # a cancel, the time limit or a lost job lease, while others hold the last segments
        time.sleep(SEGMENT_POLL_SECONDS)


def _restore_segments(
    ctx: JobContext, spec: JobKindSpec, job: JobRecord, options: JobOptions, steps: Plan, guard: JobGuard
) -> int:
    """Claim segments nobody holds and restore them, one at a time, until none is left to claim; returns how many
    this worker finished. A segment given up (an error, a shutdown, a cancel) goes back for the next claim."""
    finished, lease = 0, ctx.settings.job_lease_seconds
    while (segment := ctx.store.claim_segment(job.id, ctx.worker_id, lease)) is not None:
        name = f"segment {segment.index} of job {job.id}"
        renew = lambda n=segment.index: ctx.store.renew_segment(job.id, n, ctx.worker_id, lease)  # noqa: E731
        log.info("restoring %s (%d frames, attempt %d)", name, len(segment.frames), segment.attempts)
        with RenewedLease(renew, lease, name) as held:
            guard.segment = held
            part = None
            try:
                done = {f.index for f in ctx.store.frames(job.id)}
                if parts_wanted(options) and spec.kind == JobKind.VIDEO and not done.intersection(segment.frames):
                    # Only a worker that restores the whole segment encodes its part (else the holder does).
                    segments = ctx.store.segments(job.id)
                    part = SegmentPart(
                        ctx.settings, ctx.storage, job.id, options, segments, segment.index, ctx.worker_id
                    )
                _restore_frames(ctx, spec, job, _only(options, segment.frames), steps, done, part, guard, segment)
                if part is not None:
                    part.finish(segment.frames)
            except (SegmentLost, LeaseLost):
                log.warning("%s was taken over by another worker; leaving it", name)
                if part is not None:
                    part.discard()
                continue
            except BaseException:
                if part is not None:
                    part.discard()
                ctx.store.release_segment(job.id, segment.index, ctx.worker_id)
                raise
            finally:
                guard.segment = None
        if ctx.store.finish_segment(job.id, segment.index, ctx.worker_id):
            finished += 1
        elif part is not None:
            drop_part(ctx.storage, job.id, segment.index)  # another worker holds the segment now
    return finished


def run_segments(ctx: JobContext, job_id: str) -> int:
    """Another worker's share of a segmented job held elsewhere: restore the segments nobody holds, then return
    (the job's holder publishes). Never raises for the job's own failure; returns the segments finished here."""
    job = ctx.store.get(job_id)
    if job is None or job.status is not JobStatus.RUNNING or not ctx.store.segments(job_id):
        return 0
    token = current_job.set(job_id)
    try:
        spec = kind_of(job)
        options = _selected(JobOptions.stored(job.options), job)
        steps = plan(options.enhance_options(), ctx.device, ctx.settings)
        return _restore_segments(ctx, spec, job, options, steps, JobGuard(ctx, job_id, None))
    except (JobCancelled, JobInterrupted, JobTimedOut, LeaseLost):
        return 0  # the job's holder records the outcome
    except Exception:
        # The segment went back to the queue; its next worker (the holder at the latest) meets the same error and
        # fails the job with it.
        log.exception("a segment of job %s failed here", job_id)
        return 0
    finally:
        current_job.reset(token)
        ctx.cancel_hints.discard(job_id)


def _restore_frames(
    ctx: JobContext,
    spec: JobKindSpec,
    job: JobRecord,
    options: JobOptions,
    steps: Plan,
    done: set[int],
    live: LiveOutputs | SegmentPart | None,
    guard: JobGuard,
    segment: SegmentRecord | None = None,
) -> int:
    """Restore every selected frame not recorded yet; returns how many frames the selection takes. With
    `segment`: only its frames, decoded from the keyframe before its first, recorded under its lease."""
    taken = 0
    pending: deque[Future[Any]] = deque()
    # Decoding runs ahead in one thread and frame writing trails in `frame_writers()` more, then the live GIF and
    # video in one, all bounded, so inference goes from one frame straight to the next.
    writers = frame_writers()
    write_ahead = writers + 1  # restored frames not yet written: bounds memory while the writers overlap inference
    with (
        ThreadPoolExecutor(writers, thread_name_prefix="frame-writer") as pool,
        ThreadPoolExecutor(1, thread_name_prefix="live-outputs") as live_thread,
    ):
        out = FrameWriters(pool, live_thread, live, None if segment is None else segment.index)
        sequence, wanted = options, None  # the frames a temporal model sees in order, and those restored here
        if segment is None:
            units = spec.units(ctx.settings, ctx.storage, job, options.frames)
        else:
            sequence = _only(options, sorted(i for s in ctx.store.segments(job.id) for i in s.frames))
            wanted = set(segment.frames)
            first = first_to_read(ctx.device, steps, sequence.frames or [], segment.frames[0])
            units = spec.segment_units(ctx.settings, ctx.storage, job, first)
        if uses_neighbours(steps.deblur, steps.deblur_model) and spec.kind == JobKind.VIDEO:  # not an album's photos
            units = with_neighbours(units)
        needed = lambda i: i not in done and (wanted is None or i in wanted)  # noqa: E731
        decoded = in_windows(prefetch(units, depth=DECODE_AHEAD), ctx.device, steps, sequence, needed, guard)
        for frame in decoded:
            if options.selects(frame.index, frame.seconds, taken):
                taken += 1
                finished = frame.index in done and ctx.storage.enhanced_frame(job.id, frame.index).is_file()
                if not finished:
                    guard()
                    pending.append(_process_frame(ctx, job, steps, frame, out, guard))
                    while len(pending) > write_ahead:
                        pending.popleft().result()  # bounded, and a failed write fails the job here
            if options.finished(frame.index, frame.seconds, taken):
                break
        while pending:
            pending.popleft().result()
    return taken


def run_job(ctx: JobContext, job_id: str) -> JobStatus | None:
    """Run (or resume) one job this worker has claimed to a terminal state, renewing its lease meanwhile; never
    raises for a job's own failure. Returns the status recorded (when the lease was lost, the job's status now;
    None when the job was deleted)."""
    job = ctx.store.get(job_id)
    if job is None:
        return None  # deleted meanwhile
    if job.status.terminal:
        return job.status
    token = current_job.set(job_id)
    try:
        return _run_holding_lease(ctx, job)
    finally:
        current_job.reset(token)
        ctx.cancel_hints.discard(job_id)


def _run_holding_lease(ctx: JobContext, job: JobRecord) -> JobStatus | None:
    log.info("running %s job (attempt %d) on %s", job.kind, job.attempts, ctx.worker_id)
    with Lease(ctx, job.id) as lease:
        status, error = _outcome(ctx, job, JobGuard(ctx, job.id, lease))
    if status is None:  # the lease was lost: another worker holds the job now
        current = ctx.store.get(job.id)
        return current.status if current else None
    if status is JobStatus.QUEUED:
        ctx.store.requeue(job.id, ctx.worker_id)
        log.info("job %s interrupted by shutdown; requeued", job.id)
        return status
    recorded = ctx.store.finish(job.id, ctx.worker_id, status, error)
    if recorded is None:
        log.warning("job %s was no longer held by %s; its result was not recorded", job.id, ctx.worker_id)
        current = ctx.store.get(job.id)
        return current.status if current else None
    log.info("%s", recorded.value)
    free_job_files(ctx.settings, ctx.storage, job.id, recorded)  # after the record: never a job another worker holds
    return recorded


def _outcome(ctx: JobContext, job: JobRecord, guard: JobGuard) -> tuple[JobStatus | None, str | None]:
    """Run the job; what to record: a status and an error, QUEUED to hand it back, None to leave it alone."""
    try:
        _process_job(ctx, job, guard)
    except (JobLeaseLost, LeaseLost):  # LeaseLost: a frame's record was refused, another worker took the job over
        return None, None
    except JobCancelled:
        return JobStatus.CANCELLED, "cancelled by request"
    except JobInterrupted:
        return JobStatus.QUEUED, None
    except (JobTimedOut, JobPartial) as exc:
        return JobStatus.FAILED, str(exc)
    except EnhanceError as exc:
        return JobStatus.FAILED, exc.detail
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            log.exception("job %s failed", job.id)
            return JobStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}"
        return JobStatus.FAILED, "the data disk is full (no space left)"
    except DBAPIError as exc:
        if exc.connection_invalidated:  # the database dropped our connection (restart, failover): hand it back
            log.warning("job %s lost its database connection; requeued to resume after its recorded frames", job.id)
            return JobStatus.QUEUED, None
        log.exception("job %s failed", job.id)
        return JobStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}"
    except Exception as exc:
        log.exception("job %s failed", job.id)
        return JobStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}"
    return JobStatus.SUCCEEDED, None
