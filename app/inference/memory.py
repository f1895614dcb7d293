"""Memory admission: estimate each piece of work's peak host memory before it starts, and run it only while the sum
of what is admitted fits a budget.

One 4000x3000 image at x4 peaks near 9 GB (a 192 MP float canvas, its uint8 copy and the encoder's buffers), and
eight image requests may run at once; without admission a few large uploads take the machine down. Work that does
not fit yet waits (bounded, then 503 + Retry-After); work that could never fit is refused with 413 before decoding.

The model's activations are not per request: every model call runs on the one device thread, so one call's worth
is reserved once, off the top (`activation_reserve`). The per-request terms were fitted to peak RSS measured with
`benchmarks/bench_memory.py` (README, "Memory"); they over-estimate a little, by design.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.core.errors import MemoryBusy, NeverFits
from app.domain import ImageFormat

log = logging.getLogger(__name__)

# Bytes per pixel, fitted to bench_memory.py's measurements (see the module docstring).
PER_INPUT_PIXEL = 24  # the decoded uint8 image, its float32 copy and the padded tensor the tiles read from
PER_NET_OUTPUT_PIXEL = 28  # the float32 output canvas, the blend weights, the cropped copy and its numpy view
PER_OUTPUT_PIXEL = {  # the final picture: a resize (when scale differs from the network's), uint8, encoder buffers
    ImageFormat.PNG: 12,
    ImageFormat.JPEG: 8,
    ImageFormat.WEBP: 12,
}
BASE_BYTES = 32 << 20  # the request's own bookkeeping: the upload, threads' stacks, small arrays


def estimate_image_bytes(
    width: int, height: int, net_scale: int, scale: float, output: ImageFormat = ImageFormat.PNG
) -> int:
    """Peak extra host memory of restoring and encoding one width x height picture (activations excluded)."""
    pixels = width * height
    final = math.ceil(width * scale) * math.ceil(height * scale)
    resized = final if scale != net_scale else 0
    return int(
        BASE_BYTES
        + PER_INPUT_PIXEL * pixels
        + PER_NET_OUTPUT_PIXEL * pixels * net_scale**2
        + 12 * resized
        + PER_OUTPUT_PIXEL.get(output, 12) * final
    )


def estimate_carry_bytes(width: int, height: int, per_input_pixel: float, batch_pixels: int, pad: int) -> int:
    """The features a staged forward keeps in memory between two of its calls (`app.models.stages`), while other
    requests' calls run: one batch of tiles at a time, so at most `batch_pixels` input pixels (the largest call by
    memory), each tile with `pad` pixels of context a side, times the largest carry per input pixel (in fp32: 512 bytes
    for x4plus, 768 for span-x4, 268 for animevideov3)."""
    return int(per_input_pixel * min((width + 2 * pad) * (height + 2 * pad), batch_pixels))


def available_memory() -> int:
    """The memory this process may use: physical RAM, or the container's cgroup limit when lower."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    for limit_file in (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")):
        try:
            text = limit_file.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return int(total)


CPU_MEMORY_BUDGET = 4 << 30


def memory_available(meminfo: str | None = None) -> int:
    """Memory that can be had now without swapping: the kernel's MemAvailable (free pages plus the page cache and
    the slab it can reclaim). Free pages alone (`SC_AVPHYS_PAGES`) fall to a few hundred MiB once files have filled
    the cache, and tiles sized from them shrank to ~130 px (bench_fairness: span-x4 640x360 in 28 calls, not 2)."""
    try:
        text = meminfo if meminfo is not None else Path("/proc/meminfo").read_text()
        found = re.search(r"^MemAvailable:\s+(\d+) kB", text, re.M)
        if found:
            return int(found.group(1)) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError):
        return 2 * CPU_MEMORY_BUDGET


def cpu_activation_budget() -> int:
    """Host memory one model call's activations may take on the CPU: half the available memory, at most 4 GiB."""
    return int(min(memory_available() // 2, CPU_MEMORY_BUDGET))


def activation_reserve(device_type: str) -> int:
    """Host memory kept for one model call's activations on the CPU (the tiler sizes calls to fit this share);
    on CUDA the activations live on the GPU, where tiling and the out-of-memory retry bound them."""
    if device_type == "cuda":
        return 0
    return cpu_activation_budget()


def budget_bytes(configured: int, share: float, device_type: str) -> int:
    """The admission budget: the setting, or `share` of the memory available less one call's activations."""
    if configured:
        return configured
    return max(256 << 20, int(available_memory() * share) - activation_reserve(device_type))


class MemoryBudget:
    """A counting semaphore over bytes, shared by image requests and job frames (threads; waiting blocks the
    caller's thread, never the event loop). Admission is first come, first served among waiters that fit."""

    def __init__(self, capacity: int, max_waiting: int, wait_seconds: float) -> None:
        self.capacity = capacity
        self.max_waiting = max_waiting
        self.wait_seconds = wait_seconds
        self.in_use = 0
        self.peak = 0  # the most ever admitted at once (reported by /metrics and the tests)
        self._waiting: list[int] = []  # tickets, oldest first
        self._ticket = 0
        self._changed = threading.Condition()

    def check(self, need: int, what: str) -> None:
        """Refuse (413) work that could never fit, before anything is decoded."""
        if need > self.capacity:
            raise NeverFits(
                f"{what} needs about {need / 2**30:.1f} GiB of memory; this server admits at most "
                f"{self.capacity / 2**30:.1f} GiB at once (ENHANCE_MEMORY_BUDGET_BYTES); send a smaller image or scale"
            )

    @contextmanager
    def reserve(self, need: int, what: str, patient: bool = False) -> Iterator[None]:
        """Hold `need` bytes for the block. An impatient caller (an image request) waits at most `wait_seconds`,
        behind at most `max_waiting` others, else `MemoryBusy`; a patient one (a job frame) waits its turn."""
        self.acquire(need, what, patient)
        try:
            yield
        finally:
            self.release(need)

    def acquire(self, need: int, what: str, patient: bool = False) -> None:
        self.check(need, what)
        with self._changed:
            if self._fits(need) and not self._waiting:
                self._take(need)
                return
            if not patient and len(self._waiting) >= self.max_waiting:
                raise MemoryBusy(f"{len(self._waiting)} requests are already waiting for memory", self._retry_after())
            self._ticket += 1
            ticket = self._ticket
            self._waiting.append(ticket)
            deadline = None if patient else time.monotonic() + self.wait_seconds
            try:
                # The oldest waiter goes first, so a large request is not starved by a stream of small ones.
                while not (self._waiting[0] == ticket and self._fits(need)):
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise MemoryBusy(
                            f"{what} waited {self.wait_seconds:.0f} s for {need / 2**20:.0f} MiB of memory",
                            self._retry_after(),
                        )
                    self._changed.wait(left)
                self._take(need)
            finally:
                self._waiting.remove(ticket)
                self._changed.notify_all()

    def release(self, need: int) -> None:
        with self._changed:
            self.in_use -= need
            self._changed.notify_all()

    def _fits(self, need: int) -> bool:
        return self.in_use + need <= self.capacity

    def _take(self, need: int) -> None:
        self.in_use += need
        self.peak = max(self.peak, self.in_use)
        log.debug("admitted %d MiB (%d of %d MiB in use)", need >> 20, self.in_use >> 20, self.capacity >> 20)

    def _retry_after(self) -> int:
        return max(1, min(60, int(self.wait_seconds)))
