"""Request and response models (XCreate / XPublic / XsPublic)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ModelPublic(BaseModel):
    id: str
    task: str
    architecture: str
    scale: float
    description: str
    license: str
    file: str
    sha256: str = Field(description="pinned checksum of the weight file; empty when upstream publishes none")
    weights: str = Field(description="present, missing, checksum-failed or unpinned")
    loaded: bool
    device: str | None = None
    dtype: str | None = None
    channels_last: bool | None = None
    default: bool = False


class ModelsPublic(BaseModel):
    data: list[ModelPublic]
    count: int


class HealthPublic(BaseModel):
    status: str
    detail: dict[str, str] = Field(default_factory=dict)


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


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


class JobPublic(BaseModel):
    id: str
    status: str
    kind: str
    input_name: str
    options: dict[str, object]
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
    links: dict[str, str]


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int
    next_cursor: str | None


class ScorePublic(BaseModel):
    filename: str
    width: int
    height: int
    verdict: str = Field(description="keep or reject")
    reasons: list[str]
    quality: float = Field(description="overall quality, 0..1")
    scores: dict[str, object]


class ScoresPublic(BaseModel):
    data: list[ScorePublic]
    count: int
    thresholds: dict[str, float]
