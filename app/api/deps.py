"""Annotated dependencies: the route handlers' only way to reach the service's long-lived objects."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.config import Settings
from app.inference.executor import RequestExecutor
from app.jobs.queue import JobQueue
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore
from app.models.registry import ModelRegistry


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_registry(request: Request) -> ModelRegistry:
    return request.app.state.registry


def get_executor(request: Request) -> RequestExecutor:
    return request.app.state.executor


def get_store(request: Request) -> JobStore:
    return request.app.state.store


def get_storage(request: Request) -> JobStorage:
    return request.app.state.storage


def get_queue(request: Request) -> JobQueue:
    return request.app.state.queue


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
ExecutorDep = Annotated[RequestExecutor, Depends(get_executor)]
StoreDep = Annotated[JobStore, Depends(get_store)]
StorageDep = Annotated[JobStorage, Depends(get_storage)]
QueueDep = Annotated[JobQueue, Depends(get_queue)]
