"""Tiled inference: coverage, seamless blending, size requirements and out-of-memory retries."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from app.core.errors import OutOfMemory
from app.inference.memory import memory_available
from app.inference.tiling import run_model, tile_boxes, tile_spans
from app.models.registry import ModelRegistry
from tests.support.images import FAST_MODEL, psnr, skimage_rgb
from tests.support.models import inline, recording, with_module


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1).float() / 255


@pytest.mark.parametrize(("length", "tile", "pad"), [(144, 64, 16), (100, 32, 8), (50, 64, 16), (97, 16, 4)])
def test_spans_cover_every_pixel_once_as_core(length: int, tile: int, pad: int) -> None:
    spans = tile_spans(length, tile, pad)
    owned = np.zeros(length, int)
    for span in spans:
        assert span.start >= 0 and span.start + span.size <= length
        assert span.start <= span.core_start and span.core_end <= span.start + span.size
        owned[span.core_start : span.core_end] += 1
    assert (owned == 1).all()
    assert len({s.size for s in spans}) == 1  # equal sizes: tiles can be batched


def test_no_seams_tile_64_against_untiled(registry: ModelRegistry) -> None:
    model = registry.get("realesrgan-x4plus")
    image = _tensor(skimage_rgb("astronaut", 128))
    untiled = run_model(image, inline(model), tile=512)
    tiled = run_model(image, inline(model), tile=64, batch_size=2)
    assert len(tile_boxes(128 + 16, 128 + 16, 64, 16)) > 1
    assert tiled.shape == untiled.shape == (3, 512, 512)
    assert psnr(tiled.numpy(), untiled.numpy()) >= 40


def test_multiple_of_requirement_is_respected(registry: ModelRegistry) -> None:
    base = registry.get(FAST_MODEL)
    seen: list[tuple[int, int]] = []

    class Needs8(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append((x.shape[2], x.shape[3]))
            assert x.shape[2] % 8 == 0 and x.shape[3] % 8 == 0
            return base.descriptor.model(x)

    descriptor = base.descriptor
    original = descriptor.size_requirements
    try:
        descriptor.size_requirements = replace(original, multiple_of=8, minimum=16)
        model = with_module(base, Needs8())
        out = run_model(_tensor(skimage_rgb("chelsea", 37)), inline(model), tile=20, tile_pad=5)
    finally:
        descriptor.size_requirements = original
    assert out.shape == (3, 148, 148)
    assert seen


def test_out_of_memory_halves_the_tile_and_retries(registry: ModelRegistry) -> None:
    base = registry.get(FAST_MODEL)
    sizes: list[int] = []

    class OomAbove40(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            sizes.append(x.shape[-1])
            if x.shape[-1] > 40:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return base.descriptor.model(x)

    model = with_module(base, OomAbove40())
    image = _tensor(skimage_rgb("coffee", 96))
    out = run_model(image, inline(model), tile=128, tile_pad=4, min_tile=8)
    reference = run_model(image, inline(base), tile=128, tile_pad=4)
    assert sizes[0] > 40 and sizes[-1] <= 40
    assert psnr(out.numpy(), reference.numpy()) > 35


def test_out_of_memory_at_the_smallest_tile_is_a_clear_error(registry: ModelRegistry) -> None:
    base = registry.get(FAST_MODEL)

    class AlwaysOom(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise torch.OutOfMemoryError("CUDA out of memory")

    model = with_module(base, AlwaysOom())
    with pytest.raises(OutOfMemory):
        run_model(_tensor(skimage_rgb("coffee", 64)), inline(model), tile=64, tile_pad=4, min_tile=16)


def test_tiles_per_call_come_from_the_memory_budget(registry: ModelRegistry) -> None:
    base = registry.get(FAST_MODEL)
    model, calls = recording(base)
    image = _tensor(skimage_rgb("astronaut", 96))
    out = run_model(image, inline(model), tile=32, tile_pad=8)  # batch_size=0: as many tiles as the budget allows
    assert sum(calls) == 9 and len(calls) < 9  # 3 x 3 tiles, batched; a 48-px tile is far below a CPU's budget
    reference = run_model(image, inline(base), tile=32, tile_pad=8, batch_size=1)
    assert psnr(out.numpy(), reference.numpy()) > 40


def test_tiles_are_sized_from_the_memory_the_kernel_can_give_not_from_free_pages_alone() -> None:
    # A machine whose page cache has taken the free pages (as after reading videos): 0.4 GiB free, 16 GiB available.
    meminfo = "MemTotal:       24684472 kB\nMemFree:          419430 kB\nMemAvailable:   16777216 kB\nBuffers: 0 kB\n"
    assert memory_available(meminfo) == 16 << 30
    assert memory_available("MemTotal: 1 kB\n") > 0  # an older kernel: free pages, never nothing
