"""Choosing the dtype and memory layout a model runs in.

At load time we time fp32 against the reduced precisions the device offers (bf16 on CPU, fp16/bf16 on CUDA), each
with and without channels_last, on one tile: 128 px for small networks, whose calls on a smaller tile are mostly
overhead and hide what they gain on real frames, 32 px for large ones (`probe_size`). The fastest candidate
whose output stays within `MIN_PSNR_DB` of fp32 wins. A reduced precision must beat fp32 by `MIN_GAIN` to be chosen,
so timing noise never trades accuracy for nothing.
"""

from __future__ import annotations

import copy
import functools
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from spandrel import ImageModelDescriptor

from app.core.errors import Misconfigured

log = logging.getLogger(__name__)

MIN_PSNR_DB = 45.0
MIN_GAIN = 1.05
PROBE_SIZE = 32
PROBE_MAX_SIZE = 128
# On CUDA one 512 px tile for every network: on an H200 a 128 px call is mostly kernel launches (x4plus: some 350
# convolutions), fp16 and fp32 (TF32) tied within noise, and the probe picked fp32 on one load and fp16 on the next
# although fp16 runs x4plus 1.9x faster on whole frames (8.8 against 16.7 frames/s at 640x360, 2026-11-29).
CUDA_PROBE_SIZE = 512
SMALL_MODEL_PARAMS = 3_000_000  # Compact 0.6 M, Real-CUGAN and waifu2x 1.3-1.4 M, SPAN 2.2-2.6 M (with its
# training branches); x4plus-anime 4.5 M and x4plus 16.7 M stay on 32 px, where a call already costs 12-37 GFLOP

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


@dataclass(frozen=True)
class Precision:
    device: torch.device
    dtype: torch.dtype
    channels_last: bool = False

    @property
    def dtype_name(self) -> str:
        return next(name for name, dt in DTYPES.items() if dt == self.dtype)

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def apply(self, descriptor: ImageModelDescriptor) -> None:
        descriptor.to(self.device, self.dtype)
        descriptor.model.to(memory_format=self.memory_format)

    def prepare(self, batch: torch.Tensor) -> torch.Tensor:
        """Float image batch (N, C, H, W) in 0..1 → the device, dtype and layout the model expects."""
        return batch.to(self.device, self.dtype, non_blocking=True).contiguous(memory_format=self.memory_format)


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Without AVX512-BF16 or AMX, oneDNN emulates bf16 and is several times slower than fp32 (measured on an
    AVX2-only EPYC: 1.25 s against 0.33 s for a 32x32 x4plus tile, and 57 s for the first contiguous-layout call),
    so the probe does not even try it there."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _supported(descriptor: ImageModelDescriptor, dtype: torch.dtype, device: torch.device) -> bool:
    if dtype == torch.float16:
        return descriptor.supports_half and device.type != "cpu"
    if dtype == torch.bfloat16:
        if not descriptor.supports_bfloat16:
            return False
        if device.type == "cpu":
            return cpu_has_native_bf16()
        return device.type != "cuda" or torch.cuda.is_bf16_supported()
    return True


def explicit_precision(descriptor: ImageModelDescriptor, device: torch.device, name: str) -> Precision:
    """The dtype the settings ask for. Raises `Misconfigured` where the model or device cannot run it."""
    dtype = DTYPES[name]
    if dtype == torch.float16 and not descriptor.supports_half:
        raise Misconfigured(f"ENHANCE_DTYPE=fp16, but {descriptor.architecture.name} does not support fp16")
    if dtype == torch.bfloat16 and not descriptor.supports_bfloat16:
        raise Misconfigured(f"ENHANCE_DTYPE=bf16, but {descriptor.architecture.name} does not support bf16")
    return Precision(device, dtype)


def _probe_input(channels: int, size: int = PROBE_SIZE) -> torch.Tensor:
    # A smooth pattern with edges: closer to real content than noise, and deterministic.
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    planes = [torch.sin(8 * x + 3 * c) * 0.4 + 0.5 + 0.1 * (y > 0.5) for c in range(channels)]
    return torch.stack(planes)[None].clamp(0, 1)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_candidate(
    descriptor: ImageModelDescriptor, precision: Precision, image: torch.Tensor, warm_up: bool = True
) -> tuple[float, torch.Tensor]:
    batch = precision.prepare(image)
    with torch.inference_mode():
        if warm_up:  # allocator, oneDNN/cuDNN kernel selection
            descriptor(batch)
            _sync(precision.device)
        best = math.inf
        for _ in range(2):
            started = time.perf_counter()
            out = descriptor(batch)
            _sync(precision.device)
            best = min(best, time.perf_counter() - started)
    return best, out.float().cpu()


def probe_size(descriptor: ImageModelDescriptor, device: torch.device) -> int:
    """The probe tile: 128 px for small networks (up to `SMALL_MODEL_PARAMS`), whose calls on a 32 px tile are mostly
    overhead, 32 px for the rest (`CUDA_PROBE_SIZE` for every network on CUDA); doubled while the network cannot run
    on it (DeblurGAN-v2's Inception needs over 64 px). Below the maximum, the call that found the size already ran
    the network on it: the fp32 candidate's warm-up. Chosen from the network, not from a timing, so a model gets the
    same tile, and the same fidelity verdict, on every load. Measured on this 2-core CPU: on 32 px Real-CUGAN x4 was
    probed fp32 (5.0 s per 640x360 frame) and SPAN x4's bf16 looked only 1.1x faster; on 128 px Real-CUGAN x4 runs
    bf16 (1.1 s) with the same quality, and SPAN x4's bf16 shows its 2.5x."""
    if device.type == "cuda":
        return CUDA_PROBE_SIZE
    params = sum(p.numel() for p in descriptor.model.parameters())
    size = PROBE_MAX_SIZE if params <= SMALL_MODEL_PARAMS else PROBE_SIZE
    fp32 = Precision(device, torch.float32)
    with torch.inference_mode():
        while size < PROBE_MAX_SIZE:
            try:
                descriptor(fp32.prepare(_probe_input(descriptor.input_channels, size)))
                break
            except (RuntimeError, ValueError):  # too small for this network
                size *= 2
    return size


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(torch.mean((a.float() - b.float()) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


@dataclass(frozen=True)
class ProbeResult:
    precision: Precision
    seconds: float
    fidelity_db: float  # PSNR of its output against fp32's
    finite: bool = True

    @property
    def accurate(self) -> bool:
        return self.precision.dtype == torch.float32 or (self.fidelity_db >= MIN_PSNR_DB and self.finite)


def pick_precision(results: list[ProbeResult], device: torch.device) -> Precision:
    """The selection rule: the fastest accurate candidate, where a reduced precision must beat fp32 by `MIN_GAIN`
    (it pays for its error only when clearly faster); fp32 when nothing was measured."""
    accurate = [r for r in results if r.accurate]
    if not accurate:
        return Precision(device, torch.float32)
    return min(accurate, key=lambda r: r.seconds * (1.0 if r.precision.dtype == torch.float32 else MIN_GAIN)).precision


def choose_precision(descriptor: ImageModelDescriptor, device: torch.device) -> Precision:
    """Probe and return the fastest accurate precision for `descriptor` on `device` (the descriptor must still
    be in fp32). Calls go through the descriptor, as real calls do."""
    results: list[ProbeResult] = []
    image: torch.Tensor | None = None
    reference: torch.Tensor | None = None
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        if not _supported(descriptor, dtype, device):
            continue
        candidate = copy.deepcopy(descriptor)  # a copy: the fp32 weights must survive the probe
        candidate.to(device, dtype)
        warmed = False
        if image is None:  # the first candidate is fp32, contiguous: it sizes the probe
            size = probe_size(candidate, device)
            image = _probe_input(descriptor.input_channels, size)
            warmed = size < PROBE_MAX_SIZE  # probe_size already ran it on this tile
            log.info("precision probe on a %d px tile", size)
        for channels_last in (False, True):
            precision = Precision(device, dtype, channels_last)
            candidate.model.to(memory_format=precision.memory_format)
            warm_up, warmed = not warmed, False  # only the fp32 contiguous candidate ran in probe_size
            try:
                seconds, out = _time_candidate(candidate, precision, image, warm_up)
            except RuntimeError as exc:  # a kernel missing for this dtype on this backend
                log.info("precision probe: %s skipped (%s)", precision, exc)
                continue
            if reference is None:
                reference = out
            result = ProbeResult(precision, seconds, psnr(out, reference), bool(torch.isfinite(out).all()))
            results.append(result)
            log.info(
                "precision probe %s: %.1f ms, %.1f dB vs fp32%s",
                precision,
                seconds * 1e3,
                result.fidelity_db,
                "" if result.accurate else " (rejected)",
            )
        del candidate
    return pick_precision(results, device)
