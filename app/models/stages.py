"""A network's forward cut into ordered stages, so that one long forward can run as several short device calls.

Fairness bounds how long one model call holds the device (`ENHANCE_CALL_SECONDS`). Cutting the picture into small
tiles meets the bound but costs throughput: each tile re-reads its context and small calls run less efficiently
(x4plus on 2 cores: about 2x). Cutting the network instead keeps large tiles: a call runs a few stages of a large
tile, the features between stages stay in memory (a `Carry`), and another request's call can run in between.

For the architectures we serve, the stages follow spandrel's own forward exactly (the result is the same tensor,
to float rounding): ESRGAN/RRDBNet (head conv, each RRDB block, the body's last conv with the residual, the
upsampling layers), SPAN (head, each SPAB block, the concatenation, the upsampler) and Real-ESRGAN Compact (each body
layer, then the pixel shuffle and the nearest-upsampled residual). Any other network is one stage (`plan` returns
None), and the tiler falls back to small tiles.

Each stage's share of the work is counted once per loaded model, on a shapes-only copy of the network (the
multiply-accumulates of its convolutions, plus one per output element for the cheap layers), as is the memory the
carry holds per input pixel.
"""

from __future__ import annotations

import copy
import math
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from spandrel import ImageModelDescriptor
from spandrel.architectures.Compact import Compact
from spandrel.architectures.ESRGAN import ESRGAN
from spandrel.architectures.SPAN import SPAN

Tensors = tuple[torch.Tensor, ...]
Stage = Callable[[Tensors], Tensors]

PROBE_SIDE = 16


@dataclass
class Carry:
    """A batch part-way through a staged forward: the tensors the next stage reads, the stage it is at, and the
    input's size (the padding added at the start is cropped at the end). Once `next` is past the last stage,
    `tensors` is the one output (clamped to 0..1 and cropped, as the descriptor's own call returns it)."""

    tensors: Tensors
    next: int
    height: int
    width: int
    tiles: int  # the batch's tiles and input pixels, for the device's accounting
    pixels: int
    seconds: float = 0.0  # the device time of its calls so far

    @property
    def output(self) -> torch.Tensor:
        return self.tensors[0]


@dataclass(frozen=True, eq=False)
class StagedForward:
    """One loaded model's forward as stages, with each stage's measured share of the work (summing to 1) and the
    largest carry between two stages, in bytes per input pixel."""

    descriptor: ImageModelDescriptor
    stages: tuple[Stage, ...]
    shares: tuple[float, ...]
    carry_bytes: float

    @property
    def max_share(self) -> float:
        """The largest stage's share: a call runs at least one stage, so this bounds how large a tile may be."""
        return max(self.shares)

    def share(self, start: int, stop: int) -> float:
        return sum(self.shares[start:stop])

    def calls(self, pixels: int, budget: int) -> list[int]:
        """Where each call of a `pixels`-pixel batch stops (exclusive stage indices, the last one the end), so that
        a call's share of the work is within `budget` pixels' worth; every call runs at least one stage."""
        stops, work = [], 0.0
        for index, share in enumerate(self.shares):
            cost = share * pixels
            if work > 0 and work + cost > budget:
                stops.append(index)
                work = 0.0
            work += cost
        stops.append(len(self.shares))
        return stops

    def begin(self, image: torch.Tensor) -> Carry:
        """Pad `image` (N, C, H, W, on the model's device and dtype) as the descriptor's call does."""
        _, _, height, width = image.shape
        pad_w, pad_h = self.descriptor.size_requirements.get_padding(width, height)
        if pad_w or pad_h:  # as spandrel: reflect as far as it can, then replicate
            reflect_w, reflect_h = min(pad_w, width - 1), min(pad_h, height - 1)
            image = F.pad(image, (0, reflect_w, 0, reflect_h), "reflect")
            image = F.pad(image, (0, pad_w - reflect_w, 0, pad_h - reflect_h), "replicate")
        tiles = int(image.shape[0])
        return Carry((image,), 0, height, width, tiles, tiles * height * width)

    def advance(self, carry: Carry, stop: int) -> Carry:
        """Run stages [carry.next, stop); past the last, the output as the descriptor's call gives it."""
        if self.descriptor.model.training:
            self.descriptor.model.eval()
        tensors = carry.tensors
        for stage in self.stages[carry.next : stop]:
            tensors = stage(tensors)
        if stop >= len(self.stages):
            scale = self.descriptor.scale
            output = tensors[0].clamp_(0, 1)[..., : carry.height * scale, : carry.width * scale]
            tensors = (output,)
        return Carry(tensors, stop, carry.height, carry.width, carry.tiles, carry.pixels, carry.seconds)


def _esrgan(net: ESRGAN) -> list[Stage] | None:
    """RRDBNet.forward: (pixel-unshuffle), then model = [head conv, ShortcutBlock(RRDBs..., conv), upsampling...].
    The upsampling layers are one stage (x4plus: 8 % of the work): a cut among them would keep features at 2x or 4x
    the input's resolution between calls (4 KiB an input pixel in fp32, against 512 bytes in the body)."""
    parts = list(net.model.children())
    if len(parts) < 3 or not hasattr(parts[1], "sub") or not isinstance(parts[1].sub, torch.nn.Sequential):
        return None
    head, body, tail = parts[0], list(parts[1].sub.children()), parts[2:]
    factor = net.shuffle_factor

    def first(t: Tensors) -> Tensors:
        (x,) = t
        if factor:
            x = F.pad(x, (0, -x.shape[3] % factor, 0, -x.shape[2] % factor), mode="reflect")
            x = torch.pixel_unshuffle(x, downscale_factor=factor)
        features = head(x)
        return features, features

    def block(module: torch.nn.Module) -> Stage:
        return lambda t: (t[0], module(t[1]))

    def last_block(module: torch.nn.Module) -> Stage:
        return lambda t: (t[0] + module(t[1]),)  # the ShortcutBlock's residual

    def upsample(t: Tensors) -> Tensors:
        x = t[0]
        for module in tail:
            x = module(x)
        return (x,)

    # RRDBNet.forward then crops what its own reflect padding added: nothing, as the descriptor's size requirement
    # (a multiple of 4 for unshuffled networks) was met by `StagedForward.begin`.
    return [first, *(block(m) for m in body[:-1]), last_block(body[-1]), upsample]


def _span(net: SPAN) -> list[Stage]:
    """SPAN.forward: (normalise), conv_1, block_1..6, conv_2 and conv_cat over four feature maps, upsampler."""

    def first(t: Tensors) -> Tensors:
        (x,) = t
        if net.is_norm:
            net.mean = net.mean.type_as(x)
            x = (x - net.mean) * net.img_range
        features = net.conv_1(x)
        return (features,)

    def block_1(t: Tensors) -> Tensors:
        out, _, _ = net.block_1(t[0])
        return t[0], out, out

    def middle(module: torch.nn.Module) -> Stage:
        return lambda t: (t[0], t[1], module(t[2])[0])

    def block_6(t: Tensors) -> Tensors:
        out_b6, out_b5_2, _ = net.block_6(t[2])
        return t[0], t[1], out_b6, out_b5_2

    def join(t: Tensors) -> Tensors:
        features, out_b1, out_b6, out_b5_2 = t
        return (net.conv_cat(torch.cat([features, net.conv_2(out_b6), out_b1, out_b5_2], 1)),)

    def upsample(t: Tensors) -> Tensors:
        return (net.upsampler(t[0]),)

    blocks = [middle(m) for m in (net.block_2, net.block_3, net.block_4, net.block_5)]
    return [first, block_1, *blocks, block_6, join, upsample]


def _compact(net: Compact) -> list[Stage]:
    """SRVGGNetCompact.forward: every body layer, then the pixel shuffle plus the nearest-upsampled input."""

    def first(t: Tensors) -> Tensors:
        return t[0], net.body[0](t[0])

    def layer(module: torch.nn.Module) -> Stage:
        return lambda t: (t[0], module(t[1]))

    def last(t: Tensors) -> Tensors:
        x, out = t
        out = net.upsampler(out)
        out += F.interpolate(x, scale_factor=net.upscale, mode="nearest")
        return (out,)

    return [first, *(layer(m) for m in list(net.body)[1:]), last]


def _split(descriptor: ImageModelDescriptor, net: torch.nn.Module) -> list[Stage] | None:
    if descriptor.architecture.id == "ESRGAN" and type(net) is ESRGAN:
        return _esrgan(net)
    if descriptor.architecture.id == "SPAN" and type(net) is SPAN:
        return _span(net)
    if descriptor.architecture.id == "Compact" and type(net) is Compact:
        return _compact(net)
    return None


def split(descriptor: ImageModelDescriptor) -> list[Stage] | None:
    """The forward of `descriptor`'s network as stages, or None where it is one (an architecture we do not cut,
    or a network that is not spandrel's own class, as in tests that swap it)."""
    return _split(descriptor, descriptor.model)


def _on_meta(net: torch.nn.Module) -> torch.nn.Module:
    """A copy of `net` whose weights are shapes only (no memory, no computation), in their dtype."""
    memo: dict[int, Any] = {id(p): torch.nn.Parameter(p.to("meta"), requires_grad=False) for p in net.parameters()}
    memo.update({id(b): b.to("meta") for b in net.buffers()})
    return copy.deepcopy(net, memo)


def measure(descriptor: ImageModelDescriptor, stages: list[Stage]) -> StagedForward:
    """Each stage's share of the work and the largest carry, from one pass over a copy of the network on the meta
    device (shapes only: nothing is computed, so this is no device work)."""
    net = _on_meta(descriptor.model)
    on_meta = _split(descriptor, net)
    assert on_meta is not None and len(on_meta) == len(stages)
    work = [0.0] * len(stages)
    current = [0]

    def count(module: torch.nn.Conv2d, _: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
            work[current[0]] += output.numel() * per_output

    req = descriptor.size_requirements
    side = max(req.minimum, math.ceil(PROBE_SIDE / req.multiple_of) * req.multiple_of)
    dtype = next(descriptor.model.parameters()).dtype
    probe = StagedForward(descriptor, tuple(on_meta), (1.0,) * len(stages), 0.0)
    hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    try:
        with torch.no_grad():  # not inference mode: SPAN assigns weights computed in its forward to its parameters
            carry = probe.begin(torch.empty(1, descriptor.input_channels, side, side, dtype=dtype, device="meta"))
            largest = 0
            for index in range(len(stages)):
                current[0] = index
                carry = probe.advance(carry, index + 1)
                work[index] += sum(t.numel() for t in carry.tensors)  # the elementwise layers, roughly
                if index + 1 < len(stages):
                    largest = max(largest, sum(t.numel() * t.element_size() for t in carry.tensors))
    finally:
        for hook in hooks:
            hook.remove()
    total = sum(work)
    return StagedForward(descriptor, tuple(stages), tuple(w / total for w in work), largest / carry.pixels)


_plans: weakref.WeakKeyDictionary[torch.nn.Module, StagedForward | None] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def plan(descriptor: ImageModelDescriptor) -> StagedForward | None:
    """The staged forward of a loaded model (made once per network, in its dtype: call it after the model is
    moved to its precision), or None where it is one stage."""
    with _lock:
        if descriptor.model in _plans:
            return _plans[descriptor.model]
    stages = split(descriptor)
    result = measure(descriptor, stages) if stages is not None and len(stages) > 1 else None
    with _lock:
        return _plans.setdefault(descriptor.model, result)
