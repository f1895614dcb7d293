"""A fair, preemptible device (#24): waiting calls are served by priority class, then round-robin between owners
and between clients; calls are cut to a time bound learnt from the model's own calls; the time a call queued is
counted for its client; and a job's cancel is seen between the model calls of one frame."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import torch

import app.inference.batcher as batcher_module
from app.domain import Picture
from app.inference.batcher import DynamicBatcher
from app.inference.device import Device, DeviceClient, ModelHandle, Priority, call_pixels, forward
from app.inference.pacing import Pacing
from app.inference.restore import TileOptions, upscale_picture
from app.models.call_rate import FIRST_CALL_PIXELS, CallRate
from app.models.registry import LoadedModel, ModelRegistry
from tests.support.images import FAST_MODEL, skimage_rgb
from tests.support.models import INLINE, recording, with_module


def _tagged(tag: int) -> torch.Tensor:
    """A small input whose every pixel says which caller sent it."""
    return torch.full((1, 3, 16, 16), tag / 100)


@pytest.fixture
def batcher() -> Iterator[DynamicBatcher]:
    batcher = DynamicBatcher(max_batch=1, max_wait=0)
    yield batcher
    batcher.close()


def _served_order(
    batcher: DynamicBatcher, model: LoadedModel, callers: list[tuple[str, DeviceClient]], monkeypatch: Any
) -> list[str]:
    """Hold the device thread, queue one call per caller (in list order), release it; the order calls ran in."""
    served: list[str] = []
    names = {i: name for i, (name, _) in enumerate(callers)}

    def recording_forward(loaded: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
        served.append(names[round(float(batch[0, 0, 0, 0]) * 100)])
        return forward(loaded, batch)

    monkeypatch.setattr(batcher_module, "forward", recording_forward)
    gate, holding = threading.Event(), threading.Event()

    def hold() -> None:
        holding.set()
        gate.wait(60)

    blocker = threading.Thread(target=batcher.run, args=(hold,))
    blocker.start()
    assert holding.wait(60)

    def call(i: int, client: DeviceClient) -> None:
        with batcher.client(client):
            batcher.infer(model, _tagged(i))

    threads = []
    for i, (_, client) in enumerate(callers):
        thread = threading.Thread(target=call, args=(i, client))
        thread.start()
        threads.append(thread)
        while len(batcher._queue) < i + 1:  # queued in this order (the arrival order the test is about)
            threading.Event().wait(0.01)
    gate.set()
    for thread in [blocker, *threads]:
        thread.join(60)
    return served


def test_interactive_calls_go_before_job_calls_and_owners_take_turns(
    registry: ModelRegistry, batcher: DynamicBatcher, monkeypatch: Any
) -> None:
    model = registry.get(FAST_MODEL)
    callers = [
        ("job", DeviceClient(Priority.JOB, "alice")),
        ("alice-1", DeviceClient(Priority.INTERACTIVE, "alice")),
        ("alice-2", DeviceClient(Priority.INTERACTIVE, "alice")),
        ("alice-3", DeviceClient(Priority.INTERACTIVE, "alice")),
        ("bob", DeviceClient(Priority.INTERACTIVE, "bob")),
    ]
    served = _served_order(batcher, model, callers, monkeypatch)
    # Arrival order was job, alice x3, bob. Bob's one request does not wait for Alice's three; the job goes last.
    assert served == ["alice-1", "bob", "alice-2", "alice-3", "job"]


def test_the_time_a_call_queued_is_counted_for_its_client(
    registry: ModelRegistry, batcher: DynamicBatcher, monkeypatch: Any
) -> None:
    model = registry.get(FAST_MODEL)
    first, second = DeviceClient(Priority.INTERACTIVE, "a"), DeviceClient(Priority.INTERACTIVE, "b")
    _served_order(batcher, model, [("first", first), ("second", second)], monkeypatch)
    assert first.calls == second.calls == 1
    assert first.waited > 0 and second.waited > 0  # both queued while the device was held


def test_calls_are_cut_to_the_time_bound_learnt_from_the_model(registry: ModelRegistry) -> None:
    base, sizes = recording(registry.get(FAST_MODEL))
    picture = Picture(skimage_rgb("astronaut", 256).astype("float32") / 255, None, 8)
    unbounded = ModelHandle(base, INLINE, call_seconds=0)
    upscale_picture(picture, unbounded, tiles=TileOptions(tile=0))
    assert sizes == [1]  # by memory alone, a 256 px picture is one call

    def watched(rate: CallRate, call_seconds: float) -> tuple[ModelHandle, list[int]]:
        pixels_seen: list[int] = []

        class Watching(torch.nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                pixels_seen.append(x.shape[0] * x.shape[2] * x.shape[3])
                return base.descriptor.model(x)

        model = with_module(base, Watching())
        object.__setattr__(model, "rate", rate)
        return ModelHandle(model, INLINE, call_seconds=call_seconds), pixels_seen

    fast = CallRate()
    fast.record(pixels=100_000, seconds=1.0)  # as if the model ran 100,000 input pixels a second
    handle, pixels_seen = watched(fast, call_seconds=0.5)
    assert upscale_picture(picture, handle, tiles=TileOptions(tile=0)).width == 1024
    assert len(pixels_seen) > 1
    assert all(p <= 50_000 for p in pixels_seen), pixels_seen  # what half a second buys at that rate

    slow = CallRate()
    slow.record(pixels=1_000, seconds=1.0)  # so slow that half a second buys a 22 px tile
    handle, pixels_seen = watched(slow, call_seconds=0.5)
    upscale_picture(picture, handle, tiles=TileOptions(tile=0))
    # The floor: a core of 8 x the 16 px context (160 px tiles), not tiles made mostly of their context.
    assert set(pixels_seen) == {160 * 160}, pixels_seen


def test_the_rate_learns_a_call_s_fixed_cost_so_small_calls_do_not_shrink_the_next() -> None:
    rate = CallRate()
    rate.record(pixels=1_000, seconds=0.1 + 1_000 * 1e-4)
    rate.record(pixels=4_000, seconds=0.1 + 4_000 * 1e-4)
    fixed, per_pixel = rate.fit()  # type: ignore[misc]
    assert abs(fixed - 0.1) < 1e-6 and abs(per_pixel - 1e-4) < 1e-9
    assert rate.pixels_within(1.0) == 9_000  # a per-pixel rate alone (0.5 s / 4,000 px) would allow 8,000


def test_calls_are_short_only_while_interactive_requests_come() -> None:
    now = [0.0]
    pacing = Pacing(call_seconds=1.0, idle_call_seconds=10.0, window=60.0, clock=lambda: now[0])
    assert pacing.seconds() == 10.0  # only job work so far: larger calls, less wasted on tile borders
    pacing.saw_interactive()
    now[0] = 59.0
    assert pacing.seconds() == 1.0
    now[0] = 61.0
    assert pacing.seconds() == 10.0
    assert Pacing(call_seconds=1.0).seconds() == 1.0  # no idle bound set: always the short one


def test_an_interactive_session_shortens_the_calls_of_the_device(registry: ModelRegistry) -> None:
    now = [0.0]
    device = Device(registry, INLINE, pacing=Pacing(1.0, 10.0, 60.0, clock=lambda: now[0]))
    assert device.model(FAST_MODEL).call_seconds == 10.0
    with device.session(Priority.INTERACTIVE, "alice"):
        assert device.model(FAST_MODEL).call_seconds == 1.0


def test_a_model_s_first_call_on_the_cpu_is_small_then_it_follows_the_measured_rate(registry: ModelRegistry) -> None:
    model = with_module(registry.get(FAST_MODEL), registry.get(FAST_MODEL).descriptor.model)  # a fresh CallRate
    assert call_pixels(model, 1.0) == FIRST_CALL_PIXELS
    assert call_pixels(model, 0) is None  # no bound asked for
    model.rate.record(pixels=1000, seconds=0.5)
    assert call_pixels(model, 1.0) == 2000
    model.rate.record(pixels=1000, seconds=0.25)  # faster now: the bound follows, smoothed
    assert 2000 < call_pixels(model, 1.0) < 4000  # type: ignore[operator]


def test_a_fixed_cost_fitted_over_the_bound_still_leaves_a_call_pixels() -> None:
    rate = CallRate()  # as seen on a loaded machine: most of each call's time looks fixed
    rate.record(pixels=14_400, seconds=3.0)
    rate.record(pixels=21_000, seconds=3.2)
    fixed, per_pixel = rate.fit()  # type: ignore[misc]
    assert fixed > 1.0
    assert rate.pixels_within(1.0) == int(0.5 / per_pixel)  # half the call for pixels (was 1 pixel)
