"""Image requests: each runs whole (decode, tiling, encode) on a bounded pool of threads, as an interactive session
of the device for its owner; their model calls meet on the device thread, where they go before job work and take
turns by owner, and where concurrent ones share a call."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from app.inference.device import Device, Priority

P = ParamSpec("P")
R = TypeVar("R")


class RequestExecutor:
    def __init__(self, device: Device, workers: int) -> None:
        self.device = device
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="image")

    def _in_session(self, owner: str, fn: Callable[[], R]) -> R:
        with self.device.session(Priority.INTERACTIVE, owner):
            return fn()

    async def run(self, owner: str | None, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run `fn` on the pool for `owner` (the request's quota key: its API key's owner id or its address), which
        takes turns on the device with other owners and pays for its device time."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # the request id (and any other context) follows the work to its thread
        work = functools.partial(fn, *args, **kwargs)
        return await loop.run_in_executor(self._pool, context.run, self._in_session, owner or "", work)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
