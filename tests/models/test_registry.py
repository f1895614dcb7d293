"""Model registry: once per process, thread-safe, checksums enforced, nothing executed from weight files."""

from __future__ import annotations

import pickle
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from app.core.config import Settings
from app.core.errors import ChecksumMismatch, ModelNotFound, UnsupportedWeights, WeightsMissing
from app.core.files import sha256_file
from app.models.catalog import Catalog
from app.models.registry import ModelRegistry, resolve_device
from tests.support.images import CATALOG, FAST_MODEL


def _settings(weights: Path, **overrides: object) -> Settings:
    return Settings(weights_dir=weights, catalog_path=CATALOG, device="cpu", _env_file=None, **overrides)  # type: ignore[call-arg, arg-type]


def _catalog_with(entry_file: str, sha: str) -> Catalog:
    base = Catalog.load(CATALOG)
    entry = replace(base.get(FAST_MODEL), id="custom", file=entry_file, sha256=sha)
    return Catalog((*base.entries, entry))


def test_each_model_loads_once_even_under_concurrency(settings: Settings) -> None:
    registry = ModelRegistry(settings)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(registry.get(FAST_MODEL))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert all(r is results[0] for r in results)
    assert registry.get(FAST_MODEL) is results[0]


def test_loaded_model_reports_device_and_dtype(registry: ModelRegistry) -> None:
    model = registry.get(FAST_MODEL)
    assert model.device.type == "cpu"
    assert model.precision.dtype_name in {"fp32", "bf16"}
    assert model.descriptor.scale == 4
    assert next(model.descriptor.model.parameters()).dtype == model.dtype


def test_unknown_model(registry: ModelRegistry) -> None:
    with pytest.raises(ModelNotFound, match="no-such-model"):
        registry.get("no-such-model")


def test_missing_weights_name_the_fix(tmp_path: Path) -> None:
    registry = ModelRegistry(_settings(tmp_path))
    with pytest.raises(WeightsMissing, match="import-ncnn"):
        registry.get(FAST_MODEL)


def test_checksum_mismatch_refuses_the_model(settings: Settings, tmp_path: Path) -> None:
    source = Catalog.load(CATALOG).get(FAST_MODEL).path(settings.weights_path)
    tampered = tmp_path / "custom.safetensors"
    shutil.copy(source, tampered)
    good_sha = sha256_file(tampered)
    with tampered.open("r+b") as fh:
        fh.seek(-8, 2)
        fh.write(b"\x01\x02\x03\x04\x05\x06\x07\x08")
    registry = ModelRegistry(_settings(tmp_path), _catalog_with("custom.safetensors", good_sha))
    with pytest.raises(ChecksumMismatch, match="sha256"):
        registry.get("custom")


class _WritesMarker:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (str(self.marker), "pwned"))


def test_a_pickle_that_runs_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.pth"
    with evil.open("wb") as fh:
        pickle.dump({"params": _WritesMarker(marker)}, fh)
    registry = ModelRegistry(_settings(tmp_path), _catalog_with("evil.pth", sha256_file(evil)))
    with pytest.raises(UnsupportedWeights):
        registry.get("custom")
    assert not marker.exists()


def test_torchscript_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.pt").write_bytes(b"not even read")
    registry = ModelRegistry(_settings(tmp_path), _catalog_with("model.pt", "0" * 64))
    with pytest.raises(UnsupportedWeights, match="run code"):
        registry.get("custom")


def test_auto_device_is_cpu_here() -> None:
    import torch

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type in {expected, "mps"}


def test_the_precision_rule_takes_the_fastest_accurate_candidate() -> None:
    """The rule the load-time probe applies, on measured-looking numbers: a reduced precision must stay within
    45 dB of fp32, be finite, and beat fp32 by 5 % to be chosen."""
    import torch

    from app.models.precision import MIN_PSNR_DB, Precision, ProbeResult, pick_precision

    cpu = torch.device("cpu")
    fp32, fp32_cl = Precision(cpu, torch.float32), Precision(cpu, torch.float32, True)
    bf16, bf16_cl = Precision(cpu, torch.bfloat16), Precision(cpu, torch.bfloat16, True)
    exact = float("inf")
    assert pick_precision([ProbeResult(fp32, 1.0, exact), ProbeResult(bf16, 0.5, 49.0)], cpu) == bf16
    assert pick_precision([ProbeResult(fp32, 1.0, exact), ProbeResult(bf16, 0.5, MIN_PSNR_DB - 0.1)], cpu) == fp32
    assert pick_precision([ProbeResult(fp32, 1.0, exact), ProbeResult(bf16, 0.5, 60.0, finite=False)], cpu) == fp32
    assert pick_precision([ProbeResult(fp32, 1.0, exact), ProbeResult(bf16, 0.97, 60.0)], cpu) == fp32  # < 5 %
    assert pick_precision([ProbeResult(fp32, 1.0, exact), ProbeResult(fp32_cl, 0.99, exact)], cpu) == fp32_cl
    assert pick_precision([ProbeResult(bf16_cl, 0.2, 50.0), ProbeResult(fp32, 1.0, exact)], cpu) == bf16_cl
    assert pick_precision([], cpu) == fp32  # nothing measured: the safe default


def test_the_probe_tile_fits_the_network(registry: ModelRegistry) -> None:
    """On a 32 px tile a small model's call is mostly overhead, so bf16's real gain does not show (Real-CUGAN x4
    ran fp32 at 5.0 s per 640x360 frame; probed on 128 px it runs bf16 at 1.1 s, same quality). The tile follows
    the network, not a timing: the same model gets the same verdict on every load."""
    import copy

    from app.models.precision import PROBE_MAX_SIZE, PROBE_SIZE, probe_size

    cpu = torch.device("cpu")
    small = copy.deepcopy(registry.get("realesr-animevideov3-x4").descriptor).to(cpu, torch.float32)
    assert probe_size(small, cpu) == PROBE_MAX_SIZE
    large = copy.deepcopy(registry.get("realesrgan-x4plus").descriptor).to(cpu, torch.float32)
    assert probe_size(large, cpu) == PROBE_SIZE

    class NeedsSixtyFour(torch.nn.Module):  # like DeblurGAN-v2's Inception, whose valid convs need a larger input
        def __init__(self) -> None:
            super().__init__()
            self.weights = torch.nn.Parameter(torch.zeros(4_000_000))  # large: starts at 32 px

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.shape[-1] < 64:
                raise RuntimeError("Kernel size can't be greater than actual input size")
            return x

    picky = copy.copy(small)
    picky._model = NeedsSixtyFour()  # spandrel keeps the network here
    assert probe_size(picky, cpu) == 64
