"""Annotated dependencies: the route handlers' only way to reach the service's long-lived objects, which live in
one typed `ApiState` on `app.state.api` (set by the lifespan)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.core.config import Settings
from app.inference.device import Device
from app.inference.executor import RequestExecutor
from app.jobs.queue import JobQueue
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore
from app.models.registry import ModelRegistry
from app.services import Services


@dataclass(frozen=True)
class ApiState:
    services: Services
    executor: RequestExecutor
    queue: JobQueue


def api_state(request: Request) -> ApiState:
    state = request.app.state.api
    assert isinstance(state, ApiState)
    return state


def get_settings(request: Request) -> Settings:
    return api_state(request).services.settings


def get_registry(request: Request) -> ModelRegistry:
    return api_state(request).services.registry


def get_device(request: Request) -> Device:
    return api_state(request).services.device


def get_executor(request: Request) -> RequestExecutor:
    return api_state(request).executor


def get_store(request: Request) -> JobStore:
    return api_state(request).services.store


def get_storage(request: Request) -> JobStorage:
    return api_state(request).services.storage


def get_queue(request: Request) -> JobQueue:
    return api_state(request).queue


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
DeviceDep = Annotated[Device, Depends(get_device)]
ExecutorDep = Annotated[RequestExecutor, Depends(get_executor)]
StoreDep = Annotated[JobStore, Depends(get_store)]
StorageDep = Annotated[JobStorage, Depends(get_storage)]
QueueDep = Annotated[JobQueue, Depends(get_queue)]
