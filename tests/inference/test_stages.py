"""A cut point inside the network (#24): a long forward runs as several device calls of a few stages each, with the
features kept in memory between them, so tiles stay large while no call holds the device for long. The staged
result is the plain forward's; an image request that arrives during a job's call goes before that job's next
stages; a cancel lands between stages; the features kept between calls are counted in memory admission."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import torch

import app.inference.batcher as batcher_module
from app.core.config import Settings
from app.domain import Picture
from app.inference.batcher import DynamicBatcher
from app.inference.device import (
    Device,
    DeviceClient,
    InlineExecutor,
    ModelHandle,
    Priority,
    forward,
    forward_stages,
)
from app.inference.enhance import EnhanceOptions, estimate_bytes, plan
from app.inference.memory import estimate_image_bytes
from app.inference.restore import TileOptions, upscale_picture
from app.inference.tiling import auto_core, auto_tile, budget_pixels, carry_bytes
from app.models.call_rate import DECAY
from app.models.registry import LoadedModel, ModelRegistry
from app.models.stages import Carry, StagedForward
from tests.support.images import FAST_MODEL, skimage_rgb
from tests.support.models import INLINE, recording

X4PLUS, SPAN_X4 = "realesrgan-x4plus", "span-x4"


class Counting(InlineExecutor):
    """Inline calls, counted by kind; the stop of every staged call."""

    def __init__(self) -> None:
        self.whole = 0
        self.stops: list[int] = []

    def infer(self, model: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
        self.whole += 1
        return super().infer(model, batch)

    def infer_stages(self, model: LoadedModel, staged: StagedForward, work: torch.Tensor | Carry, stop: int) -> Carry:
        self.stops.append(stop)
        return super().infer_stages(model, staged, work, stop)


def _learnt(base: LoadedModel, pixels_a_second: int) -> LoadedModel:
    """`base` (the same network) with a fresh rate, as if it had run `pixels_a_second` input pixels a second."""
    model = LoadedModel(base.entry, base.descriptor, base.precision)
    model.rate.record(pixels=pixels_a_second, seconds=1.0)
    return model


def _crop(top: int, left: int, height: int, width: int) -> torch.Tensor:
    """A real photograph's crop as a (1, 3, H, W) batch in 0..1."""
    pixels = skimage_rgb("astronaut")[top : top + height, left : left + width]
    return torch.from_numpy(pixels.copy()).permute(2, 0, 1)[None].float() / 255


@pytest.fixture(scope="module")
def fp32(settings: Settings) -> ModelRegistry:
    return ModelRegistry(settings.model_copy(update={"dtype": "fp32"}))


@pytest.mark.parametrize("model_id", [X4PLUS, SPAN_X4, FAST_MODEL])
def test_a_staged_forward_gives_the_plain_forward_s_output(fp32: ModelRegistry, model_id: str) -> None:
    base = fp32.get(model_id)
    batch = _crop(100, 180, 52, 41)  # the face and the flag's edge; odd sizes
    executor = Counting()
    handle = ModelHandle(_learnt(base, 500), executor, call_seconds=1.0)  # 2,132 pixels: more than a call's worth
    staged = handle(batch.clone())
    assert executor.whole == 0 and len(executor.stops) > 2, executor.stops  # it went through stages
    assert executor.stops[-1] == len(handle.staged().stages)  # type: ignore[union-attr]
    plain = forward(base, batch.clone())
    assert staged.shape == plain.shape == (1, 3, 52 * 4, 41 * 4)
    assert float((staged - plain).abs().max()) <= 1e-5


def test_networks_we_do_not_cut_are_one_stage_and_keep_tiling_for_time(registry: ModelRegistry) -> None:
    assert ModelHandle(registry.get("realcugan-x2"), INLINE).staged() is None
    watched, sizes = recording(registry.get(FAST_MODEL))  # a network spandrel does not know: one stage
    handle = ModelHandle(_learnt(watched, 1000), INLINE, call_seconds=1.0)
    assert handle.staged() is None
    upscale_picture(Picture(skimage_rgb("chelsea", 200).astype("float32") / 255, None, 8), handle)
    assert len(sizes) > 1  # cut into tiles instead


def test_tiles_are_sized_by_the_largest_stage_not_the_whole_forward(registry: ModelRegistry) -> None:
    base = registry.get(X4PLUS)
    staged_handle = ModelHandle(_learnt(base, 20_000), INLINE, call_seconds=1.0)
    one_stage, _ = recording(base)
    tiled_handle = ModelHandle(_learnt(one_stage, 20_000), INLINE, call_seconds=1.0)
    staged = staged_handle.staged()
    assert staged is not None and staged.max_share < 0.1  # x4plus: 23 blocks and the upsampling layers
    by_stages, by_tiles = auto_core(staged_handle, 1, 16, 32) + 32, auto_core(tiled_handle, 1, 16, 32) + 32
    # A 1 s call is 20,000 pixels: whole, a 141 px tile (raised to the 160 px floor); by stages, ~510 px, or what
    # memory allows.
    assert by_tiles == 160
    assert by_stages >= min(3 * by_tiles, auto_tile(base) - 1)
    stops = staged.calls(by_stages * by_stages, 20_000)
    assert len(stops) > 3
    for start, stop in zip([0, *stops], stops, strict=False):  # each call within the bound, or one stage
        assert stop - start == 1 or staged.share(start, stop) * by_stages * by_stages <= 20_000


@pytest.fixture
def batcher() -> Iterator[DynamicBatcher]:
    batcher = DynamicBatcher(max_batch=1, max_wait=0)
    yield batcher
    batcher.close()


def test_an_image_request_goes_between_the_stages_of_a_job_s_call(
    registry: ModelRegistry, batcher: DynamicBatcher, monkeypatch: Any
) -> None:
    base = registry.get(FAST_MODEL)
    served: list[str] = []
    in_first, release = threading.Event(), threading.Event()

    def job_stages(model: LoadedModel, staged: StagedForward, work: Any, stop: int) -> Carry:
        served.append("job")
        if len(served) == 1:  # the job's first call is running when the image request arrives
            in_first.set()
            assert release.wait(60)
        return forward_stages(model, staged, work, stop)

    def image_call(model: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
        served.append("image")
        return forward(model, batch)

    monkeypatch.setattr(batcher_module, "forward_stages", job_stages)
    monkeypatch.setattr(batcher_module, "forward", image_call)
    frame = _crop(0, 100, 64, 64)
    outputs: dict[str, torch.Tensor] = {}

    def job() -> None:
        with batcher.client(DeviceClient(Priority.JOB, "alice")):
            # 1,000 pixels a call, a 4,096-pixel frame: a few stages a call
            outputs["job"] = ModelHandle(_learnt(base, 1000), batcher, call_seconds=1.0)(frame)

    def image() -> None:
        with batcher.client(DeviceClient(Priority.INTERACTIVE, "bob")):
            outputs["image"] = batcher.infer(base, _crop(200, 200, 16, 16))

    job_thread = threading.Thread(target=job)
    job_thread.start()
    assert in_first.wait(60)
    image_thread = threading.Thread(target=image)
    image_thread.start()
    while not batcher._queue:  # the image request is waiting for the device
        threading.Event().wait(0.01)
    release.set()
    for thread in (job_thread, image_thread):
        thread.join(120)
    assert served[:3] == ["job", "image", "job"] and served.count("job") >= 3, served
    assert float((outputs["job"] - forward(base, frame)).abs().max()) <= 1e-4


def test_a_cancel_lands_between_the_stages_of_one_tile(registry: ModelRegistry) -> None:
    executor = Counting()
    handle = ModelHandle(_learnt(registry.get(X4PLUS), 1000), executor, call_seconds=1.0)
    picture = Picture(skimage_rgb("coffee", 128).astype("float32") / 255, None, 8)
    seen: list[tuple[int, int]] = []

    class Cancelled(Exception):
        pass

    def guard(done: int, total: int) -> None:
        seen.append((done, total))
        raise Cancelled

    with pytest.raises(Cancelled):
        upscale_picture(picture, handle, tiles=TileOptions(tile=0), progress=guard)
    # One tile (128 px is within the stage-sized tile), stopped after its first call: a few stages of 26.
    assert seen == [(0, 1)] and executor.whole == 0
    assert len(executor.stops) == 1 and executor.stops[0] < len(handle.staged().stages)  # type: ignore[union-attr]


def test_the_features_kept_between_calls_count_in_memory_admission(registry: ModelRegistry, settings: Settings) -> None:
    device = Device(registry, INLINE)
    handle = device.model(X4PLUS)
    staged = handle.staged()
    assert staged is not None
    element = torch.finfo(handle.dtype).bits // 8
    assert staged.carry_bytes == 2 * 64 * element  # the block's input and the body's residual, 64 features each
    steps = plan(EnhanceOptions(model=X4PLUS), device, settings)
    carried = carry_bytes(handle, 320, 180, steps.tiles.tile_pad)
    assert carried == int(staged.carry_bytes * min(352 * 212, budget_pixels(handle)))
    assert estimate_bytes(320, 180, steps, device) == estimate_image_bytes(320, 180, 4, 4.0) + carried


def test_a_staged_forward_teaches_the_rate_once_with_all_its_calls(registry: ModelRegistry) -> None:
    """A cheap stage's call recorded alone looks like a large fixed cost per call, which shrank the next tiles."""
    model = _learnt(registry.get(SPAN_X4), 500)
    executor = Counting()
    ModelHandle(model, executor, call_seconds=1.0)(_crop(100, 180, 52, 41))
    assert len(executor.stops) > 2
    assert model.rate._n == pytest.approx(DECAY + 1)  # one record for the whole forward, not one a call
    assert model.rate._p == pytest.approx(500 * DECAY + 52 * 41)
