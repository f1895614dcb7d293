"""The one owner of the device: it loads models, probes their precision and makes every model call, on its executor.

Callers ask `Device.model(id)` for a `ModelHandle` and call the handle; there is no other way to run a model, so no
caller can bypass the device thread by forgetting an argument. Calls go through the spandrel descriptor's own call
(`descriptor(image)`: its size padding, `call_fn` and clamping), never `descriptor.model(...)`, or, where one call of
the whole network would last longer than the call bound, through its staged forward (`app.models.stages`: the same
padding, layers and clamping, cut between blocks): a call then runs a few stages, and the features wait in memory
for the next call while other work takes the device.

Threads, by mode:
- API (`enhance serve`): the event loop (HTTP only; blocking work is handed off), the `image` pool
  (`ENHANCE_IMAGE_CONCURRENCY` threads: decode, tiling, encode of image requests), the `job-worker` thread (the
  embedded worker's job loop: decode-ahead and `frame-writer` helper threads), the `maintenance` thread (lease
  reaper and retention), and the one `device` thread (`DynamicBatcher`), which runs every model load, precision
  probe and model call, merging concurrent calls into batches.
- CLI (`enhance image|video`) and Celery worker processes: an `InlineExecutor`, chosen explicitly; loads and calls
  run in the thread that asks (one job or one file at a time per process, so there is nothing to share).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast

import torch
from spandrel import ImageModelDescriptor

from app.core.threads import apply_threads_here
from app.inference.memory import MemoryBudget
from app.inference.pacing import Pacing
from app.models import stages
from app.models.call_rate import FIRST_CALL_PIXELS
from app.models.catalog import Catalog, CatalogEntry
from app.models.precision import Precision
from app.models.registry import LoadedModel, ModelRegistry
from app.models.stages import Carry, StagedForward

R = TypeVar("R")


def is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


class Priority(enum.IntEnum):
    """Who goes first when several wait for the device: interactive requests before job work."""

    INTERACTIVE = 0
    JOB = 1


@dataclass(eq=False)
class DeviceClient:
    """One unit of work (a request, a job) that makes model calls: who it is for, and what the device cost it."""

    priority: Priority = Priority.JOB
    owner: str = ""  # the API key's owner id, or "" (anonymous): the round-robin is between owners, then clients
    waited: float = 0.0  # seconds its calls spent queued for the device
    busy: float = 0.0  # seconds of device time its calls used (its share of a batched call)
    calls: int = 0
    turn: int = 0  # the device's turn counter when it was last served (the batcher's round-robin)


_current_client: ContextVar[DeviceClient | None] = ContextVar("device_client", default=None)


def current_client() -> DeviceClient:
    """The client of the work running in this thread (a default job-class client outside any session)."""
    return _current_client.get() or DeviceClient()


@contextmanager
def as_client(client: DeviceClient) -> Iterator[DeviceClient]:
    token = _current_client.set(client)
    try:
        yield client
    finally:
        _current_client.reset(token)


def forward(model: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) float 0..1 on the CPU → the model's output, float32 0..1 on the CPU, through the descriptor.
    From a GPU the output comes back channels-last (N, C, H, W in shape, N, H, W, C in memory), so the caller's
    H x W x C array is a view, not a copy. The call's duration teaches the model's `rate` (the copy back to the host
    waits for the GPU, so it is the real duration)."""
    apply_threads_here()
    started = time.perf_counter()
    with torch.inference_mode():
        output: torch.Tensor = model.descriptor(model.precision.prepare(batch))
        output = output.float() if output.device.type != "cuda" else _to_host(output)
    model.rate.record(int(batch.shape[0] * batch.shape[2] * batch.shape[3]), time.perf_counter() - started)
    return output


def forward_stages(model: LoadedModel, staged: StagedForward, work: torch.Tensor | Carry, stop: int) -> Carry:
    """Run the stages of `work` (a batch as `forward` takes it, or a `Carry` from the previous call) up to `stop`;
    past the last stage the carry's `output` is what `forward` returns. A whole forward teaches the model's `rate`
    once, with the device time of all its calls: a call's own share of the work is only estimated (from counted
    multiply-adds), and a cheap stage's call, recorded alone, looked like a large fixed cost per call (bench_fairness:
    span-x4's tiles shrank until a frame took 113 calls)."""
    apply_threads_here()
    started = time.perf_counter()
    with torch.inference_mode():
        carry = staged.begin(model.precision.prepare(work)) if isinstance(work, torch.Tensor) else work
        carry = staged.advance(carry, stop)
        if stop >= len(staged.stages):
            output = carry.output
            carry.tensors = (output.float() if output.device.type != "cuda" else _to_host(output),)
    carry.seconds += time.perf_counter() - started
    if stop >= len(staged.stages):
        model.rate.record(carry.pixels, carry.seconds)
    return carry


def _to_host(output: torch.Tensor) -> torch.Tensor:
    """Converted and laid out channels-last on the GPU, then one copy into page-locked memory (PyTorch's caching
    host allocator reuses the buffers). On an H200 (gVisor), for one 2560x1440 output of animevideov3: 0.8 ms
    against 31.8 ms for `.cpu()` into pageable memory, plus 30.5 ms saved on the host for the H x W x C copy
    (benchmarks/gpu/restore_stages.py, 2026-11-29), so the frame went from 63 ms to about the model's 2.3 ms."""
    on_device = output.float().permute(0, 2, 3, 1).contiguous()
    host = torch.empty(on_device.shape, dtype=torch.float32, pin_memory=True)
    host.copy_(on_device)
    return host.permute(0, 3, 1, 2)


class DeviceExecutor(Protocol):
    """Where device work runs: the batcher's device thread in the API, the calling thread elsewhere."""

    def infer(self, model: LoadedModel, batch: torch.Tensor) -> torch.Tensor: ...

    def infer_stages(self, model: LoadedModel, staged: StagedForward, work: torch.Tensor | Carry, stop: int) -> Carry:
        """One call of a staged forward (`forward_stages`): the stages of `work` up to `stop`."""
        ...

    def run(self, work: Callable[[], R]) -> R:
        """Run other device work (a model load and its precision probe) where the model calls run."""
        ...

    def client(self, client: DeviceClient | None = None) -> AbstractContextManager[DeviceClient]:
        """Held around a unit of work (a request, a job) that will make model calls, in the thread that makes them."""
        ...


class InlineExecutor:
    """Runs device work in the calling thread: the CLI and the Celery worker, which run one thing at a time."""

    def infer(self, model: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
        client = current_client()
        client.calls += 1
        started = time.perf_counter()
        try:
            return forward(model, batch)
        finally:
            client.busy += time.perf_counter() - started

    def infer_stages(self, model: LoadedModel, staged: StagedForward, work: torch.Tensor | Carry, stop: int) -> Carry:
        client = current_client()
        client.calls += 1
        started = time.perf_counter()
        try:
            return forward_stages(model, staged, work, stop)
        finally:
            client.busy += time.perf_counter() - started

    def run(self, work: Callable[[], R]) -> R:
        return work()

    def client(self, client: DeviceClient | None = None) -> AbstractContextManager[DeviceClient]:
        return as_client(client or DeviceClient())


def call_pixels(model: LoadedModel, call_seconds: float) -> int | None:
    """Input pixels one call of `model` may take (all its tiles together) to last about `call_seconds`; None: no
    bound. Before the model's first call its speed is unknown: a small call on the CPU (where one whole frame can
    take a minute), no bound on a GPU (where memory bounds a call to a fraction of a second)."""
    if call_seconds <= 0:
        return None
    known = model.rate.pixels_within(call_seconds)
    if known is None and model.device.type == "cpu":
        return FIRST_CALL_PIXELS
    return known


@dataclass(frozen=True)
class ModelHandle:
    """A loaded model as callers see it: its facts, and a call that goes through the device's executor."""

    loaded: LoadedModel
    executor: DeviceExecutor
    call_seconds: float = 0.0  # the longest one call should last; 0: no bound

    def call_pixels(self) -> int | None:
        return call_pixels(self.loaded, self.call_seconds)

    def staged(self) -> StagedForward | None:
        """The model's forward as stages (`app.models.stages`), or None where it is one stage."""
        return stages.plan(self.loaded.descriptor)

    def __call__(self, batch: torch.Tensor, between: Callable[[], None] | None = None) -> torch.Tensor:
        """The model's output for `batch`: one device call, or, where that call would last longer than
        `call_seconds` and the network has stages, several calls of a few stages each, with `between` run between
        them (where a caller stops for a cancel or a hang-up) while other callers' calls may take the device."""
        budget = self.call_pixels()
        pixels = int(batch.shape[0] * batch.shape[2] * batch.shape[3])
        staged = self.staged() if budget is not None and pixels > budget else None
        stops = staged.calls(pixels, budget) if staged is not None and budget is not None else []
        if staged is None or len(stops) < 2:
            return self.executor.infer(self.loaded, batch)
        work: torch.Tensor | Carry = batch
        for index, stop in enumerate(stops):
            if index and between is not None:
                between()
            work = self.executor.infer_stages(self.loaded, staged, work, stop)
        return cast(Carry, work).output

    @property
    def entry(self) -> CatalogEntry:
        return self.loaded.entry

    @property
    def descriptor(self) -> ImageModelDescriptor:
        return self.loaded.descriptor

    @property
    def precision(self) -> Precision:
        return self.loaded.precision

    @property
    def device(self) -> torch.device:
        return self.loaded.device

    @property
    def dtype(self) -> torch.dtype:
        return self.loaded.dtype

    @property
    def net_scale(self) -> int:
        return self.loaded.net_scale


class Device:
    def __init__(
        self,
        registry: ModelRegistry,
        executor: DeviceExecutor,
        memory: MemoryBudget | None = None,
        pacing: Pacing | None = None,
        spend: Callable[[str, float], None] | None = None,
    ) -> None:
        self.registry = registry
        self.executor = executor
        self.pacing = pacing or Pacing()  # how long one call may last (see `ModelHandle.call_pixels`)
        self.spend = spend  # charged with each owner's device-seconds when its session ends (`Quotas.spend_device`)
        # Host memory admission for the work that uses this device (unbounded where nobody set a budget: tests).
        self.memory = memory or MemoryBudget(1 << 62, max_waiting=1 << 20, wait_seconds=3600)

    @property
    def catalog(self) -> Catalog:
        return self.registry.catalog

    @property
    def torch_device(self) -> torch.device:
        return self.registry.device

    def model(self, model_id: str) -> ModelHandle:
        """The model, loaded (and its precision probed) on the executor the first time. Raises the registry's
        errors: `ModelNotFound`, `WeightsMissing`, `ChecksumMismatch`, `UnsupportedWeights`."""
        loaded = self.registry.loaded(model_id) or self.executor.run(lambda: self.registry.get(model_id))
        return ModelHandle(loaded, self.executor, self.pacing.seconds())

    def preload(self, model_ids: list[str]) -> None:
        for model_id in model_ids:
            self.model(model_id)

    @contextmanager
    def session(self, priority: Priority = Priority.JOB, owner: str = "") -> Iterator[DeviceClient]:
        """Hold around a request or a job, in the thread that makes its model calls: the device serves waiting calls
        by `priority`, then round-robin between owners and between clients; the batcher waits for active sessions'
        next calls to batch them. The `DeviceClient` it yields counts the calls and the time they queued; when the
        session ends, a named owner is charged the device time its calls used."""
        if priority is Priority.INTERACTIVE:
            self.pacing.saw_interactive()  # from now on calls are kept short (`app.inference.pacing`)
        with self.executor.client(DeviceClient(priority, owner)) as client:
            try:
                yield client
            finally:
                if self.spend is not None and owner:
                    self.spend(owner, client.busy)
