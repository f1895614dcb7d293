"""Request and response models (XCreate / XPublic / XsPublic)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.domain import JobKind, Verdict
from app.jobs.leftovers import JobFiles
from app.jobs.models import JobStatus
from app.jobs.options import JobOptions
from app.models.catalog import WeightState


class ModelPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "realesrgan-x4plus",
                    "task": "upscale",
                    "architecture": "ESRGAN",
                    "scale": 4,
                    "description": "Real-ESRGAN x4plus (RRDBNet, 23 blocks): general photos",
                    "license": "BSD-3-Clause",
                    "file": "realesrgan-x4plus.safetensors",
                    "sha256": "d79517ffd0df56907f43148f26dc1eb47fc0a8597a6722137bd2792737e611e2",
                    "weights": "present",
                    "loaded": True,
                    "device": "cuda:0",
                    "dtype": "fp16",
                    "channels_last": True,
                    "default": True,
                    "default_for_video": True,
                    "good_for": ["photos"],
                    "speed": "slow",
                    "denoise": None,
                    "denoise_levels": {},
                    "origin": "https://github.com/xinntao/Real-ESRGAN/releases/tag/v0.2.5.0",
                    "temporal": False,
                }
            ]
        }
    )

    id: str
    task: str
    architecture: str
    scale: float
    description: str
    license: str
    file: str
    sha256: str = Field(description="pinned checksum of the weight file; empty when upstream publishes none")
    weights: WeightState = Field(description="whether the weight file is installed and matches its checksum")
    loaded: bool
    device: str | None = None
    dtype: str | None = None
    channels_last: bool | None = None
    default: bool = False
    default_for_video: bool = Field(default=False, description="what video jobs that name no model run")
    good_for: list[str] = Field(default_factory=list, description="photos, anime, video, denoise")
    speed: str | None = Field(
        default=None, description="fast, medium or slow per frame (README: Choosing a model has the seconds)"
    )
    denoise: int | None = Field(default=None, description="the denoise level this entry runs (0: none)")
    denoise_levels: dict[str, str] = Field(
        default_factory=dict,
        description="the `denoise` option's levels for this model, each with the entry it runs; empty: no option",
    )
    origin: str = Field(default="", description="the official release the weights come from")
    temporal: bool = Field(
        default=False,
        description="a video model that restores each frame from its neighbours (BasicVSR): it runs on a video in "
        "overlapping windows of frames, not one frame at a time",
    )


class ModelsPublic(BaseModel):
    data: list[ModelPublic]
    count: int


class HealthPublic(BaseModel):
    status: str
    detail: dict[str, str] = Field(default_factory=dict)


class Problem(BaseModel):
    """RFC 9457 problem details, sent as application/problem+json."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "https://enhance.example/problems/model-not-found",
                    "title": "Unknown model",
                    "status": 404,
                    "detail": "unknown model 'x8'; known models: realesrgan-x4plus, ...",
                    "instance": "/v1/images/enhance",
                    "request_id": "5b0e7c1a9f3d4e2b8c6a1d0f9e8b7a65",
                }
            ]
        }
    )

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = Field(default=None, description="the X-Request-ID of the request, for the logs")


class ProgressPublic(BaseModel):
    done: int
    total: int | None
    percent: float | None
    eta_seconds: float | None


class ArtifactPublic(BaseModel):
    name: str
    size: int
    sha256: str
    media_type: str
    url: str
    signed_url: str | None = Field(
        default=None,
        description="with API keys: the same URL with a short-lived signature (ENHANCE_SIGNED_LINK_SECONDS), which "
        "opens without a key: for a browser tab, a download link or a colleague",
    )


class WebhookPublic(BaseModel):
    status: Literal["pending", "retrying", "delivered", "failed"] | None = Field(
        description="null while the job runs; then pending, retrying, delivered or failed"
    )
    event_id: str | None = Field(description="the `webhook-id` header: the same on every retry")
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None = Field(description="when retrying: the next attempt")


class EstimatePublic(BaseModel):
    """What the job should cost before it runs: frames (or photos) x one frame's time on this device."""

    frames: int | None = Field(
        description="frames (or photos) to restore; null: not known before decoding; an album: its usable photos "
        "(keep=best: the select_best largest), at most what it restores"
    )
    width: int = Field(description="input frame width, in pixels (an album: its largest photo's)")
    height: int = Field(description="input frame height, in pixels (an album: its largest photo's)")
    model: str | None = Field(description="the upscaler counted; null: model=none (no upscaler to count)")
    seconds_per_frame: float | None = Field(
        description="device seconds one frame takes (an album: the mean over its photos, each at its size); "
        "null: unknown"
    )
    seconds: float | None = Field(description="frames x seconds_per_frame; null: unknown")
    source: Literal["measured", "catalogue", "unknown"] = Field(
        description="the upscaler's time: `measured`, the model's own calls in this server process; `catalogue`, "
        "before it has run here, the catalogue's per-megapixel prior measured on the project's CPU (used on a CPU "
        "only); `unknown`: neither"
    )
    counted: list[Literal["upscale", "deblur", "interpolate", "frame"]] = Field(
        description="what seconds_per_frame counts: `upscale`; `deblur` (deblur=on with a deblur model) and "
        "`interpolate` (the frames made between two) once their model has run in this process; `frame`, the cost "
        "of every frame besides its models (decoding, PNGs, thumbnails, bookkeeping). Not counted: deblur=auto, "
        "denoise, low light, an album's scoring",
    )


class JobPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f0c9a52-6f1e-4c55-9a47-2f9b1a7d0c11",
                    "status": "running",
                    "kind": "video",
                    "input_name": "clip.mp4",
                    "options": {
                        "frames": [0, 30, 60],
                        "model": "realesr-animevideov3-x4",
                        "outputs": ["frames", "gif"],
                    },
                    "created_at": "2026-11-26T22:10:00Z",
                    "updated_at": "2026-11-26T22:10:04Z",
                    "started_at": "2026-11-26T22:10:01Z",
                    "finished_at": None,
                    "progress": {"done": 1, "total": 3, "percent": 33.3, "eta_seconds": 6.2},
                    "error": None,
                    "cancel_requested": False,
                    "attempts": 1,
                    "worker_id": "local:host:1234",
                    "artifacts": [],
                    "files": "kept",
                    "estimate": {
                        "frames": 3,
                        "width": 640,
                        "height": 360,
                        "model": "realesr-animevideov3-x4",
                        "seconds_per_frame": 0.37,
                        "seconds": 1.11,
                        "source": "catalogue",
                        "counted": ["upscale", "frame"],
                    },
                    "links": {
                        "self": "/v1/jobs/3f0c9a52-6f1e-4c55-9a47-2f9b1a7d0c11",
                        "events": "/v1/jobs/3f0c9a52-6f1e-4c55-9a47-2f9b1a7d0c11/events",
                        "artifacts": "/v1/jobs/3f0c9a52-6f1e-4c55-9a47-2f9b1a7d0c11/artifacts",
                        "cancel": "/v1/jobs/3f0c9a52-6f1e-4c55-9a47-2f9b1a7d0c11/cancel",
                    },
                }
            ]
        }
    )

    id: str
    status: JobStatus
    kind: JobKind
    input_name: str
    options: JobOptions
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: ProgressPublic
    error: str | None
    cancel_requested: bool
    attempts: int
    worker_id: str | None
    artifacts: list[ArtifactPublic]
    files: JobFiles = Field(
        description="the job's files on the server: `kept`; `deleted` when it ended cancelled or failed (its links "
        "answer 410; ENHANCE_KEEP_FAILED_JOB_FILES=true keeps them); `artifacts_only` when it failed part-way and "
        "kept only the artifacts it published",
    )
    webhook: WebhookPublic | None = Field(default=None, description="the webhook's delivery, when the job has one")
    estimate: EstimatePublic | None = Field(
        default=None,
        description="the cost before work, made at submit (`counted` says which parts; "
        "ENHANCE_MAX_JOB_ESTIMATE_SECONDS refuses jobs over a limit); null for a job from before estimates",
    )
    links: dict[str, str]


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int
    next_cursor: str | None


class ScorePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "filename": "b.jpg",
                    "width": 1024,
                    "height": 768,
                    "verdict": "reject",
                    "reasons": ["motion blur 14 px"],
                    "quality": 0.06,
                    "scores": {"sharpness": 1.41, "motion_blur_px": 14.0, "mean_luminance": 0.44},
                }
            ]
        }
    )

    filename: str
    width: int
    height: int
    verdict: Verdict
    reasons: list[str]
    quality: float = Field(description="overall quality, 0..1")
    scores: dict[str, object]


class ScoresPublic(BaseModel):
    data: list[ScorePublic]
    count: int
    thresholds: dict[str, float]
