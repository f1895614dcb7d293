"""Request and response models (XCreate / XPublic / XsPublic)."""

from __future__ import annotations

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
