"""Annotated dependencies: the route handlers' only way to reach the service's long-lived objects."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.config import Settings
from app.inference.executor import DeviceExecutor
from app.models.registry import ModelRegistry


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_registry(request: Request) -> ModelRegistry:
    return request.app.state.registry


def get_executor(request: Request) -> DeviceExecutor:
    return request.app.state.executor


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
ExecutorDep = Annotated[DeviceExecutor, Depends(get_executor)]
