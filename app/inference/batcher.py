"""The API's device executor: `DynamicBatcher` gives the device to one thread, which runs every model load and
call, and merges concurrent requests' calls into one batched call.

Which call goes next: the waiting call of the highest priority class (interactive requests before job frames),
then the owner (API key) served longest ago, then the client (request, job) served longest ago, then the oldest.
So a stream of job frames never makes an image request wait for more than the call in progress, and one key's
many requests share the device with another key's one request. Calls are short because work is cut to
`ENHANCE_CALL_SECONDS` (see `app.models.call_rate`): a staged forward runs a few of a network's stages per call
(`infer_stages`; its next call queues behind whatever arrived meanwhile), else the tiler makes tiles smaller.

The batcher groups a whole-network call with queued calls of the same class, model and tile shape, up to
`max_batch` tiles and the tile memory budget. It waits up to `max_wait` for more only while some registered client
(an image request or a job between two model calls) has nothing queued; a lone request never waits. A batched call
that runs out of memory is retried one request at a time, so each caller's own OOM handling (smaller tiles) still
applies.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import torch

from app.core.config import Settings
from app.core.metrics import BATCH_TILES, DEVICE_WAIT_SECONDS
from app.inference.device import DeviceClient, as_client, current_client, forward, forward_stages, is_oom
from app.models.registry import LoadedModel
from app.models.stages import Carry, StagedForward

log = logging.getLogger(__name__)
R = TypeVar("R")


GPU_MAX_BATCH = 8
MAX_OWNERS_REMEMBERED = 4096


def auto_max_batch(settings: Settings, device: torch.device) -> int:
    """`settings.max_batch`, or by device. A GPU gets `GPU_MAX_BATCH`. A CPU gets 1: one call already saturates it
    (x4plus at 128 px in bf16: 1.59 s alone, 1.78 s an image in a batch of 8), so batching buys little
    throughput and holds every answer until the whole batch is done (benchmarks/bench_concurrency.py, 8 requests
    of 128 px: x4plus 0.94x one-by-one throughput batched against 0.96x unbatched, median latency 8.4x solo
    against 4.7x; animevideov3 1.33x against 1.23x, median latency 6.2x against 4.4x)."""
    if settings.max_batch:
        return settings.max_batch
    return 1 if device.type == "cpu" else GPU_MAX_BATCH


@dataclass
class _Work:
    """Other device work (a model load and its precision probe), run alone on the device thread."""

    work: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)


@dataclass(frozen=True)
class _Stages:
    """A call of a staged forward: the stages of `work` up to `stop`."""

    staged: StagedForward
    work: torch.Tensor | Carry
    stop: int


@dataclass(eq=False)  # identity: a queue removes this request, never an equal one (tensors do not compare)
class _Request:
    model: LoadedModel
    batch: torch.Tensor | _Stages
    client: DeviceClient
    seq: int
    queued_at: float = field(default_factory=time.perf_counter)
    future: Future[Any] = field(default_factory=Future)

    @property
    def key(self) -> tuple[int, tuple[int, ...]]:
        if isinstance(self.batch, _Stages):  # part of a forward: never merged with another call
            return id(self.model.descriptor), (-1, self.seq)
        return id(self.model.descriptor), tuple(self.batch.shape[1:])

    @property
    def tiles(self) -> int:
        work = self.batch.work if isinstance(self.batch, _Stages) else self.batch
        return work.tiles if isinstance(work, Carry) else int(work.shape[0])

    @property
    def pixels(self) -> int:
        work = self.batch.work if isinstance(self.batch, _Stages) else self.batch
        return work.pixels if isinstance(work, Carry) else int(work.shape[0] * work.shape[2] * work.shape[3])

    def call(self) -> Any:
        if isinstance(self.batch, _Stages):
            return forward_stages(self.model, self.batch.staged, self.batch.work, self.batch.stop)
        return forward(self.model, self.batch)


class DynamicBatcher:
    def __init__(
        self,
        max_batch: int = 8,
        max_wait: float = 0.005,
        budget_pixels: Callable[[LoadedModel], int] | None = None,
    ) -> None:
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._budget = budget_pixels or (lambda model: 1 << 62)
        self._queue: list[_Request] = []
        self._work: deque[_Work] = deque()
        self._seq = itertools.count()
        self._turn = 0  # counts calls made: the round-robin serves the owner and client with the oldest turn
        self._owner_turn: dict[str, int] = {}
        self._cond = threading.Condition()
        self._clients = 0
        self._closed = False
        self.calls = 0  # batched model calls made, and the requests they served (for tests and /metrics)
        self.requests = 0
        self._thread = threading.Thread(target=self._loop, name="device", daemon=True)
        self._thread.start()

    @contextmanager
    def client(self, client: DeviceClient | None = None) -> Iterator[DeviceClient]:
        """Mark a unit of work (a request, a job) that will call `infer` from this thread: the batcher waits for
        active clients, and orders their calls by the client's priority and owner."""
        client = client or DeviceClient()
        with self._cond:
            self._clients += 1
            client.turn = self._owner_turn.get(client.owner, 0)  # a new request does not jump its owner's turn
        try:
            with as_client(client):
                yield client
        finally:
            with self._cond:
                self._clients -= 1
                self._cond.notify_all()

    def infer(self, model: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
        return cast(torch.Tensor, self._submit(model, batch))

    def infer_stages(self, model: LoadedModel, staged: StagedForward, work: torch.Tensor | Carry, stop: int) -> Carry:
        """One call of a staged forward, queued as any call of its client (so an image request that arrived during
        the previous stages goes first)."""
        return cast(Carry, self._submit(model, _Stages(staged, work, stop)))

    def _submit(self, model: LoadedModel, batch: torch.Tensor | _Stages) -> Any:
        request = _Request(model, batch, current_client(), next(self._seq))
        with self._cond:
            if self._closed:
                raise RuntimeError("the device batcher is shut down")
            self._queue.append(request)
            self._cond.notify_all()
        return request.future.result()

    def run(self, work: Callable[[], R]) -> R:
        """Run `work` on the device thread, between batches, and return its result (or raise its error). It runs
        in the caller's context, so the log lines of a model load a request caused carry that request's id.
        (Batched model calls serve several callers at once: they keep the device thread's own context.)"""
        if threading.current_thread() is self._thread:
            return work()  # already there (work that loads another model)
        context = contextvars.copy_context()
        item = _Work(lambda: context.run(work))
        with self._cond:
            if self._closed:
                raise RuntimeError("the device batcher is shut down")
            self._work.append(item)
            self._cond.notify_all()
        return cast(R, item.future.result())

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=60)

    # The device thread.

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._work and not self._closed:
                    self._cond.wait()
                work = self._work.popleft() if self._work else None
                if work is None and not self._queue:
                    return
                group = self._gather() if work is None else []
            if work is not None:
                self._run_work(work)
            else:
                self._run(group)

    @staticmethod
    def _run_work(item: _Work) -> None:
        try:
            item.future.set_result(item.work())
        except BaseException as exc:  # handed to the caller, whatever it was
            item.future.set_exception(exc)

    def _order(self, request: _Request) -> tuple[int, int, int, int]:
        client = request.client
        return client.priority, self._owner_turn.get(client.owner, 0), client.turn, request.seq

    def _next(self) -> _Request:
        """Called with the lock held: the call to serve next, taken off the queue, its owner and client marked
        served (see the module docstring for the order)."""
        first = min(self._queue, key=self._order)
        self._queue.remove(first)
        self._turn += 1
        first.client.turn = self._turn
        self._owner_turn[first.client.owner] = self._turn
        if len(self._owner_turn) > MAX_OWNERS_REMEMBERED:  # forget the owner served longest ago
            del self._owner_turn[min(self._owner_turn, key=self._owner_turn.__getitem__)]
        return first

    def _gather(self) -> list[_Request]:
        """Called with the lock held: the next request plus every compatible one of its class, waiting briefly
        for more while an active client has nothing queued."""
        first = self._next()
        group, tiles, pixels = [first], first.tiles, first.pixels
        budget = self._budget(first.model) if tiles < self.max_batch else 0  # read once a batch, only if needed
        deadline = time.monotonic() + self.max_wait
        while True:
            for request in list(self._queue):
                fits = tiles + request.tiles <= self.max_batch and pixels + request.pixels <= budget
                same_class = request.client.priority == first.client.priority
                if request.key == first.key and same_class and fits:
                    self._queue.remove(request)
                    group.append(request)
                    tiles, pixels = tiles + request.tiles, pixels + request.pixels
            idle_clients = self._clients - len(group) - len(self._queue)
            remaining = deadline - time.monotonic()
            if tiles >= self.max_batch or idle_clients <= 0 or remaining <= 0 or self._closed:
                return group
            self._cond.wait(remaining)

    def _run(self, group: list[_Request]) -> None:
        self.calls += 1
        self.requests += len(group)
        BATCH_TILES.observe(sum(r.tiles for r in group))
        started = time.perf_counter()
        for request in group:
            waited = started - request.queued_at
            request.client.waited += waited
            request.client.calls += 1
            DEVICE_WAIT_SECONDS.labels(request.client.priority.name.lower()).observe(waited)
        if len(group) == 1:
            self._run_one(group[0])
            return
        try:
            output = forward(group[0].model, torch.cat([cast(torch.Tensor, r.batch) for r in group]))
        except Exception as exc:
            if not is_oom(exc):
                _charge(group, started)
                for request in group:
                    request.future.set_exception(exc)
                return
            log.warning("out of memory on a batch of %d requests; running them one by one", len(group))
            if group[0].model.device.type == "cuda":
                torch.cuda.empty_cache()
            for request in group:
                self._run_one(request)
            return
        _charge(group, started)
        offsets = itertools.accumulate((r.tiles for r in group), initial=0)
        for request, start in zip(group, offsets, strict=False):
            request.future.set_result(output[start : start + request.tiles])

    @staticmethod
    def _run_one(request: _Request) -> None:
        started = time.perf_counter()
        try:
            output = request.call()
        except Exception as exc:  # handed to the caller, who may retry with smaller tiles
            _charge([request], started)
            request.future.set_exception(exc)
            return
        _charge([request], started)
        request.future.set_result(output)


def _charge(group: list[_Request], started: float) -> None:
    """Each client pays its share (by pixels) of a call's device time, before it sees the result."""
    took, pixels = time.perf_counter() - started, sum(r.pixels for r in group)
    for request in group:
        request.client.busy += took * request.pixels / max(1, pixels)
