"""Job records and their states."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


# Every transition the store makes, and nothing else: queued → running (a worker claims it, with a lease) or
# cancelled; running → succeeded | failed | cancelled (by the worker holding the lease), or back to queued (that
# worker shutting down, or the reaper once the lease expired).
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


@dataclass(frozen=True)
class JobFacts:
    """What submit learns about the input (typed columns, not keys hidden in the options)."""

    declared_frames: int | None = None  # a video's frame count from its header
    fps: float | None = None
    has_audio: bool | None = None
    request_fingerprint: str | None = None  # sha256 of upload + name + options, for Idempotency-Key replays


EstimateSource = Literal["measured", "catalogue", "unknown"]


@dataclass(frozen=True)
class JobEstimate:
    """What submit expects the job to cost (#26), kept in its own column (app.jobs.estimate makes it). An album's
    `width` x `height` is its largest photo's and `seconds_per_frame` the mean over its photos."""

    frames: int | None  # None: not known before decoding (a video that declares no frame count)
    width: int
    height: int
    model: str | None  # the upscaler counted; None: model=none
    seconds_per_frame: float | None
    source: EstimateSource
    counted: tuple[str, ...] = ("upscale",)  # the parts of a frame's time counted: upscale, deblur, interpolate, frame

    @property
    def seconds(self) -> float | None:
        if self.frames is None or self.seconds_per_frame is None:
            return None
        return self.frames * self.seconds_per_frame

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "counted": list(self.counted)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobEstimate:
        """Also reads what releases before `counted` stored (the upscaler alone)."""
        return cls(
            data.get("frames"), data["width"], data["height"], data.get("model"), data.get("seconds_per_frame"),
            data.get("source", "unknown"), tuple(data.get("counted", ("upscale",))),
        )  # fmt: skip


@dataclass(frozen=True)
class WebhookState:
    """A job's webhook delivery: set when a job with a callback URL ends (`pending`), then `retrying`,
    `delivered` or `failed`."""

    status: str | None = None
    event_id: str | None = None
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass
class JobRecord:
    id: str
    status: JobStatus
    kind: str  # "image" or "video"
    input_name: str
    options: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    frames_done: int = 0
    frames_total: int | None = None
    error: str | None = None
    cancel_requested: bool = False
    idempotency_key: str | None = None
    owner: str | None = None
    worker_id: str | None = None
    attempts: int = 0
    lease_expires_at: datetime | None = None  # while running: the holder must renew it, or the reaper requeues
    facts: JobFacts = field(default_factory=JobFacts)
    selection: list[dict[str, Any]] | None = None  # select_best's scored candidates, kept so a resume reuses them
    callback_url: str | None = None  # POSTed a signed event when the job ends (app.jobs.webhooks)
    webhook: WebhookState = field(default_factory=WebhookState)
    estimate: JobEstimate | None = None  # made at submit; None: a job from before estimates


@dataclass(frozen=True)
class FrameRecord:
    """One finished frame: written atomically to disk, then recorded, so a resumed job never redoes it."""

    job_id: str
    index: int
    pts: int | None
    time_base: str | None
    seconds: float
    finished_at: datetime
    worker_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class SegmentStatus(StrEnum):
    PENDING = "pending"  # no worker holds it (not started, or handed back)
    RUNNING = "running"  # a worker holds it under a lease it renews
    DONE = "done"  # every frame of it is recorded


@dataclass(frozen=True)
class SegmentRecord:
    """A part of a video job that any worker can claim, lease and redo alone: the decode-order `frames` it
    restores (the job's selection within `first_frame`..`last_frame`)."""

    job_id: str
    index: int
    first_frame: int
    last_frame: int
    frames: list[int]
    status: SegmentStatus
    worker_id: str | None = None
    lease_expires_at: datetime | None = None
    attempts: int = 0
