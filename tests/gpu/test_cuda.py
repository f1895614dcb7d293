"""GPU checks (`pytest -m cuda`), run on the device tool's machine by `benchmarks/gpu/run.sh`: the precision the
probe picks, a real CUDA out-of-memory, the batcher under concurrency, and a video job end to end. They skip where
there is no CUDA; `ENHANCE_KIT_DEVICE=cpu` runs the same checks on the CPU (the kit's proof without a GPU), except
the out-of-memory one, which needs a CUDA allocator."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from app.core.config import Settings
from app.inference.device import Device, InlineExecutor
from app.inference.enhance import EnhanceOptions, enhance_bytes
from app.inference.tiling import run_model
from app.main import create_app
from app.models.registry import ModelRegistry
from app.services import build_device
from tests.support.images import decode_png, png_bytes, psnr, skimage_rgb

pytestmark = pytest.mark.cuda
DEVICE = os.environ.get("ENHANCE_KIT_DEVICE", "cuda")
MODEL = "realesr-animevideov3-x4"  # in the kit's first part; x4plus travels separately (benchmarks/gpu/bundle.py)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    if DEVICE.startswith("cuda") and not torch.cuda.is_available():
        pytest.skip("no CUDA device: these checks run on a GPU machine (benchmarks/gpu/run.sh)")
    # The kit's fp16 weights and catalogue (ENHANCE_WEIGHTS_DIR, ENHANCE_CATALOG_PATH), else the installed ones.
    installed = Settings(_env_file=None)  # type: ignore[call-arg]
    extra = {"weights_dir": installed.weights_path, "catalog_path": installed.catalog_path}
    return Settings(
        device=DEVICE,
        data_dir=tmp_path_factory.mktemp("kit"),
        default_model=MODEL,
        _env_file=None,  # type: ignore[call-arg]
        **extra,  # type: ignore[arg-type]
    )


def _clip() -> Path:
    media = os.environ.get("ENHANCE_KIT_MEDIA")
    if media:
        return Path(media) / "carphone_pristine.mp4"
    from tests.support.media import carphone_path

    return carphone_path()


def _upscale(settings: Settings, photo: np.ndarray) -> np.ndarray:
    device = Device(ModelRegistry(settings), InlineExecutor())
    result = enhance_bytes(png_bytes(photo), EnhanceOptions(model=MODEL), device, settings)
    return decode_png(result.data)


def test_the_probe_picks_half_precision_within_45_db_of_fp32(kit: Settings) -> None:
    picked = ModelRegistry(kit).get(MODEL)
    if DEVICE.startswith("cuda"):
        assert picked.precision.dtype_name in {"fp16", "bf16"}, picked.precision
    photo = skimage_rgb("astronaut", 256)
    fast = _upscale(kit, photo)
    exact = _upscale(kit.model_copy(update={"dtype": "fp32"}), photo)
    assert psnr(fast, exact.astype(np.float64), peak=255) >= 45, picked.precision.dtype_name


@pytest.mark.skipif(not DEVICE.startswith("cuda"), reason="a real out-of-memory needs the CUDA allocator")
def test_a_real_cuda_out_of_memory_halves_the_tile_and_the_image_is_right(
    kit: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    model = Device(ModelRegistry(kit), InlineExecutor()).model(MODEL)
    photo = skimage_rgb("coffee")  # 400x600, one tile at 1024
    image = torch.from_numpy(photo).permute(2, 0, 1).float() / 255
    reference = run_model(image, model, tile=128, tile_pad=16)
    torch.cuda.empty_cache()
    total = torch.cuda.get_device_properties(0).total_memory
    # 40 MiB beyond what is held: a 160 px tile's activations fit (3 MiB a map in fp16), the whole photo's do not
    # (30 MiB a map). A fixed 160 MiB cap let the whole photo through on an H200 (2026-11-29). One tile per call:
    # the batch size follows the device's free memory, which the per-process cap does not change.
    torch.cuda.set_per_process_memory_fraction((torch.cuda.memory_reserved() + 40 * 2**20) / total)
    try:
        with caplog.at_level(logging.WARNING, logger="app.inference.tiling"):
            result = run_model(image, model, tile=1024, tile_pad=16, batch_size=1)
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()
    assert any("out of memory at tile" in r.message for r in caplog.records), "no out-of-memory happened"
    assert psnr(result.numpy(), reference.numpy(), peak=1.0) >= 45


def test_the_batcher_merges_eight_concurrent_requests_and_none_gets_another_s_output(kit: Settings) -> None:
    device = build_device(kit, "api")
    batcher = device.executor
    names = ["astronaut", "coffee", "chelsea", "rocket", "moon", "camera", "immunohistochemistry", "retina"]
    photos = [skimage_rgb(name, 192) for name in names]
    solo = [_upscale(kit, p) for p in photos]
    outputs: dict[int, np.ndarray] = {}
    start = threading.Barrier(len(photos))

    def request(i: int) -> None:
        with device.executor.client():
            start.wait()
            result = enhance_bytes(png_bytes(photos[i]), EnhanceOptions(model=MODEL, tile=0), device, kit)
        outputs[i] = decode_png(result.data)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(len(photos))]
    calls_before = batcher.calls  # type: ignore[attr-defined]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    batcher.close()  # type: ignore[attr-defined]
    assert sorted(outputs) == list(range(len(photos)))
    for i, output in outputs.items():
        own = psnr(output, solo[i].astype(np.float64), peak=255)
        others = max(psnr(output, solo[j].astype(np.float64), peak=255) for j in outputs if j != i)
        assert own >= 40 and own > others + 10, (names[i], own, others)
    calls = batcher.calls - calls_before  # type: ignore[attr-defined]
    print(f"8 concurrent requests: {calls} model calls (max batch {batcher.max_batch})")  # type: ignore[attr-defined]
    if batcher.max_batch > 1:  # type: ignore[attr-defined]  # 8 on a GPU; 1 on a CPU, where batching does not pay
        assert calls < len(photos)  # requests shared model calls


def test_a_video_job_runs_end_to_end_on_the_device(kit: Settings) -> None:
    with TestClient(create_app(kit)) as client:
        response = client.post(
            "/v1/jobs",
            files={"file": ("carphone.mp4", _clip().read_bytes())},
            data={"model": MODEL, "every_n": "4", "outputs": "frames,gif,video"},
        )
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + 300
        job = response.json()
        while job["status"] not in {"succeeded", "failed", "cancelled"} and time.monotonic() < deadline:
            time.sleep(0.2)
            job = client.get(f"/v1/jobs/{job['id']}").json()
        assert job["status"] == "succeeded", job["error"]
        report = json.loads(client.get(f"/v1/jobs/{job['id']}/artifacts/report.json").content)
        assert report["model"]["device"].startswith(DEVICE.split(":")[0])
        assert len(report["frames"]) == 30
        frame = client.get(f"/v1/jobs/{job['id']}/artifacts/frame_000040.png").content
        assert Image.open(io.BytesIO(frame)).size == (704, 576)


@pytest.fixture(autouse=True)
def _report_device(kit: Settings) -> Iterator[None]:
    yield
    if DEVICE.startswith("cuda"):
        print(f"[{torch.cuda.get_device_name()}] peak {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
