"""The device batcher: concurrent requests for one model and tile shape share a model call, each gets its own
output back, a lone request never waits, and failures reach only their callers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import torch

from app.core.config import Settings
from app.domain import Picture
from app.inference.batcher import GPU_MAX_BATCH, DynamicBatcher, auto_max_batch
from app.inference.device import Device, ModelHandle, forward
from app.inference.restore import TileOptions, upscale_picture
from app.models.registry import LoadedModel, ModelRegistry
from tests.support.images import FAST_MODEL, psnr, skimage_rgb
from tests.support.models import inline, recording, with_module

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")


def _batch(name: str, size: int = 48) -> torch.Tensor:
    return torch.from_numpy(skimage_rgb(name, size)).permute(2, 0, 1)[None].float() / 255


def _concurrently(calls: list[Callable[[], torch.Tensor]]) -> list[torch.Tensor]:
    """Start every call on its own thread at once; their results in order (exceptions re-raised)."""
    results: list[torch.Tensor | BaseException | None] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def call_one(i: int) -> None:
        start.wait()
        try:
            results[i] = calls[i]()
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=call_one, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if isinstance(r, torch.Tensor)]


def _as_client(batcher: DynamicBatcher, model: LoadedModel, batch: torch.Tensor) -> Callable[[], torch.Tensor]:
    def call() -> torch.Tensor:
        with batcher.client():
            return batcher.infer(model, batch)

    return call


def _fixed(pixels: int) -> Callable[[LoadedModel], int]:
    return lambda model: pixels


@pytest.fixture
def batcher() -> Iterator[DynamicBatcher]:
    batcher = DynamicBatcher(max_batch=8, max_wait=0.5)
    yield batcher
    batcher.close()


def test_concurrent_requests_share_a_call_and_each_gets_its_own_output(
    registry: ModelRegistry, batcher: DynamicBatcher
) -> None:
    model = registry.get(FAST_MODEL)
    inputs = [_batch(name) for name in PHOTOS]
    outputs = _concurrently([_as_client(batcher, model, x) for x in inputs])
    assert batcher.requests == len(inputs)
    assert batcher.calls < len(inputs)  # at least two requests went through one call
    for i, (x, out) in enumerate(zip(inputs, outputs, strict=True)):
        solo = forward(model, x)
        assert out.shape == solo.shape == (1, 3, 192, 192)
        assert psnr(out.numpy(), solo.numpy()) > 40  # its own image (batched kernels may round differently) ...
        other = forward(model, inputs[(i + 1) % len(inputs)])
        assert psnr(out.numpy(), other.numpy()) < 20  # ... and not a neighbour's


def test_different_tile_shapes_are_not_merged(registry: ModelRegistry, batcher: DynamicBatcher) -> None:
    model = registry.get(FAST_MODEL)
    outputs = _concurrently([_as_client(batcher, model, _batch("astronaut", s)) for s in (32, 40)])
    assert [o.shape[-1] for o in outputs] == [128, 160]
    assert batcher.calls == 2


def test_a_lone_request_does_not_wait_for_the_batch_window(registry: ModelRegistry) -> None:
    batcher = DynamicBatcher(max_batch=8, max_wait=60.0)  # a wait would stall this test for a minute
    try:
        model = registry.get(FAST_MODEL)
        started = time.monotonic()
        with batcher.client():
            for _ in range(3):
                batcher.infer(model, _batch("coffee", 32))
        assert time.monotonic() - started < 30
    finally:
        batcher.close()


def test_batches_respect_max_batch_and_the_memory_budget(registry: ModelRegistry) -> None:
    model, sizes = recording(registry.get(FAST_MODEL))
    for max_batch, budget, most in ((3, 1 << 30, 3), (8, 2 * 32 * 32, 2)):
        sizes.clear()
        batcher = DynamicBatcher(max_batch=max_batch, max_wait=0.5, budget_pixels=_fixed(budget))
        try:
            _concurrently([_as_client(batcher, model, _batch(p, 32)) for p in PHOTOS * 2])
        finally:
            batcher.close()
        assert sum(sizes) == 8 and max(sizes) <= most and len(sizes) < 8


def test_out_of_memory_in_a_batch_falls_back_to_one_request_at_a_time(
    registry: ModelRegistry, batcher: DynamicBatcher
) -> None:
    base = registry.get(FAST_MODEL)
    sizes: list[int] = []

    class OomAboveOne(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            sizes.append(x.shape[0])
            if x.shape[0] > 1:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 4.00 GiB")
            return base.descriptor.model(x)

    model = with_module(base, OomAboveOne())
    outputs = _concurrently([_as_client(batcher, model, _batch(p)) for p in PHOTOS])
    assert max(sizes) > 1 and sizes.count(1) == len(PHOTOS)
    for x, out in zip((_batch(p) for p in PHOTOS), outputs, strict=True):
        assert psnr(out.numpy(), forward(base, x).numpy()) > 40


def test_a_failing_call_fails_its_callers_and_the_batcher_keeps_serving(
    registry: ModelRegistry, batcher: DynamicBatcher
) -> None:
    base = registry.get(FAST_MODEL)

    class Broken(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("kernel exploded")

    with pytest.raises(RuntimeError, match="kernel exploded"):
        batcher.infer(with_module(base, Broken()), _batch("coffee"))
    assert batcher.infer(base, _batch("coffee")).shape == (1, 3, 192, 192)
    batcher.close()
    with pytest.raises(RuntimeError, match="shut down"):
        batcher.infer(base, _batch("coffee"))


def test_tiles_of_concurrent_pictures_are_batched_and_match_direct_runs(
    registry: ModelRegistry, batcher: DynamicBatcher
) -> None:
    model = registry.get(FAST_MODEL)
    pictures = [Picture(skimage_rgb(p, 96).astype(np.float32) / 255, None, 8) for p in PHOTOS]
    tiles = TileOptions(tile=32, tile_pad=8, batch_size=1)

    def upscale(picture: Picture) -> Callable[[], torch.Tensor]:
        def call() -> torch.Tensor:
            with batcher.client():
                return torch.from_numpy(upscale_picture(picture, ModelHandle(model, batcher), tiles=tiles).pixels)

        return call

    outputs = _concurrently([upscale(p) for p in pictures])
    assert batcher.calls < batcher.requests  # 4 pictures x 9 tiles, fewer calls
    for picture, out in zip(pictures, outputs, strict=True):
        direct = upscale_picture(picture, inline(model), tiles=TileOptions(tile=32, tile_pad=8, batch_size=1))
        assert psnr(out.numpy(), direct.pixels) > 40


def test_batching_is_on_for_accelerators_and_off_on_the_cpu(settings: Settings) -> None:
    assert auto_max_batch(settings, torch.device("cpu")) == 1
    assert auto_max_batch(settings, torch.device("cuda")) == GPU_MAX_BATCH
    assert auto_max_batch(settings.model_copy(update={"max_batch": 3}), torch.device("cpu")) == 3


def test_every_load_probe_and_call_runs_on_the_device_thread(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The device owns the models: whichever thread asks, the first load, its precision probe and every model call
    run on the batcher's device thread, and the calls go through spandrel's descriptor."""
    import app.models.registry as registry_module  # where the registry looks choose_precision up

    threads: dict[str, set[str]] = {"load": set(), "probe": set(), "call": set()}
    real_get, real_choose = ModelRegistry.get, registry_module.choose_precision  # type: ignore[attr-defined]

    def get(self: ModelRegistry, model_id: str) -> LoadedModel:
        threads["load"].add(threading.current_thread().name)
        return real_get(self, model_id)

    def choose(*args: object) -> object:
        threads["probe"].add(threading.current_thread().name)
        return real_choose(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ModelRegistry, "get", get)
    monkeypatch.setattr(registry_module, "choose_precision", choose)
    fresh = ModelRegistry(settings.model_copy(update={"dtype": "auto"}))  # nothing loaded yet
    batcher = DynamicBatcher(max_batch=1, max_wait=0.0)
    device = Device(fresh, batcher)

    class Spy(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            threads["call"].add(threading.current_thread().name)
            return self.inner(x)

    try:
        handles = _concurrently_handles(device, 3)
        spied = ModelHandle(with_module(handles[0].loaded, Spy(handles[0].descriptor.model)), batcher)
        outputs = _concurrently([lambda: spied(_batch("coffee", 32)) for _ in range(3)])
    finally:
        batcher.close()
    assert all(h.loaded is handles[0].loaded for h in handles)  # loaded once
    assert threads == {"load": {"device"}, "probe": {"device"}, "call": {"device"}}
    assert [o.shape for o in outputs] == [(1, 3, 128, 128)] * 3


def _concurrently_handles(device: Device, count: int) -> list[ModelHandle]:
    handles: list[ModelHandle] = []
    callers = [threading.Thread(target=lambda: handles.append(device.model(FAST_MODEL))) for _ in range(count)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(120)
    assert len(handles) == count
    return handles
