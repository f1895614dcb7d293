"""DeblurGAN-v2 generators, FPN-MobileNet and FPN-Inception, with the module names of the official checkpoints
(`fpn.*`, `head1..4`, `smooth`, `smooth2`, `final`; the backbones registered before their `enc*` aliases, so that
loading a checkpoint resolves shared parameters exactly as the official code does).

Inference follows the official predictor: x/255 → (x - 0.5)/0.5, zero-pad bottom/right to (n // 32 + 1) * 32
(even when already a multiple), per-image norm statistics, crop, then (y + 1) / 2.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from app.models.archs.inception_resnet_v2 import InceptionResNetV2
from app.models.archs.mobilenet_v2 import mobilenet_v2_features
from app.models.archs.norms import PerImageInstanceNorm2d


def _up(x: torch.Tensor, factor: int) -> torch.Tensor:
    return x if factor == 1 else F.interpolate(x, scale_factor=factor, mode="nearest")


def _conv_norm_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel_size=3, padding=1), PerImageInstanceNorm2d(cout), nn.ReLU(inplace=True)
    )


def _bottom_up(fpn: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The backbone's five stages, each feeding the next (both FPNs name them enc0..enc4)."""
    maps = []
    for name in ("enc0", "enc1", "enc2", "enc3", "enc4"):
        x = fpn.get_submodule(name)(x)
        maps.append(x)
    return maps


class FPNHead(nn.Module):
    def __init__(self, num_in: int, num_mid: int, num_out: int) -> None:
        super().__init__()
        self.block0 = nn.Conv2d(num_in, num_mid, kernel_size=3, padding=1, bias=False)
        self.block1 = nn.Conv2d(num_mid, num_out, kernel_size=3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.block1(F.relu(self.block0(x))))


class MobileNetFPN(nn.Module):
    def __init__(self, num_filters: int = 128) -> None:
        super().__init__()
        self.features = mobilenet_v2_features()
        self.enc0 = nn.Sequential(*self.features[0:2])
        self.enc1 = nn.Sequential(*self.features[2:4])
        self.enc2 = nn.Sequential(*self.features[4:7])
        self.enc3 = nn.Sequential(*self.features[7:11])
        self.enc4 = nn.Sequential(*self.features[11:16])
        self.td1 = _conv_norm_relu(num_filters, num_filters)
        self.td2 = _conv_norm_relu(num_filters, num_filters)
        self.td3 = _conv_norm_relu(num_filters, num_filters)
        self.lateral4 = nn.Conv2d(160, num_filters, kernel_size=1, bias=False)
        self.lateral3 = nn.Conv2d(64, num_filters, kernel_size=1, bias=False)
        self.lateral2 = nn.Conv2d(32, num_filters, kernel_size=1, bias=False)
        self.lateral1 = nn.Conv2d(24, num_filters, kernel_size=1, bias=False)
        self.lateral0 = nn.Conv2d(16, num_filters // 2, kernel_size=1, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        enc0, enc1, enc2, enc3, enc4 = _bottom_up(self, x)
        map4 = self.lateral4(enc4)
        map3 = self.td1(self.lateral3(enc3) + _up(map4, 2))
        map2 = self.td2(self.lateral2(enc2) + _up(map3, 2))
        map1 = self.td3(self.lateral1(enc1) + _up(map2, 2))
        return self.lateral0(enc0), map1, map2, map3, map4


class InceptionFPN(nn.Module):
    def __init__(self, num_filters: int = 256) -> None:
        super().__init__()
        self.inception = net = InceptionResNetV2()
        self.enc0 = net.conv2d_1a
        self.enc1 = nn.Sequential(net.conv2d_2a, net.conv2d_2b, net.maxpool_3a)
        self.enc2 = nn.Sequential(net.conv2d_3b, net.conv2d_4a, net.maxpool_5a)
        self.enc3 = nn.Sequential(net.mixed_5b, net.repeat, net.mixed_6a)
        self.enc4 = nn.Sequential(net.repeat_1, net.mixed_7a)
        self.td1 = _conv_norm_relu(num_filters, num_filters)
        self.td2 = _conv_norm_relu(num_filters, num_filters)
        self.td3 = _conv_norm_relu(num_filters, num_filters)
        self.pad = nn.ReflectionPad2d(1)
        self.lateral4 = nn.Conv2d(2080, num_filters, kernel_size=1, bias=False)
        self.lateral3 = nn.Conv2d(1088, num_filters, kernel_size=1, bias=False)
        self.lateral2 = nn.Conv2d(192, num_filters, kernel_size=1, bias=False)
        self.lateral1 = nn.Conv2d(64, num_filters, kernel_size=1, bias=False)
        self.lateral0 = nn.Conv2d(32, num_filters // 2, kernel_size=1, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        enc0, enc1, enc2, enc3, enc4 = _bottom_up(self, x)
        # The unpadded Inception stages shrink each map a little; the official code re-pads them by reflection.
        map4 = self.pad(self.lateral4(enc4))
        map3 = self.td1(self.pad(self.lateral3(enc3)) + _up(map4, 2))
        map2 = self.td2(F.pad(self.lateral2(enc2), (1, 2, 1, 2), "reflect") + _up(map3, 2))
        map1 = self.td3(self.pad(self.lateral1(enc1)) + _up(map2, 2))
        return F.pad(self.lateral0(enc0), (0, 1, 0, 1), "reflect"), map1, map2, map3, map4


class DeblurGANv2(nn.Module):
    """The FPN generator plus the official pre/post-processing: 0..1 image in, 0..1 image out."""

    def __init__(self, backbone: str, num_filters: int, num_filters_fpn: int) -> None:
        super().__init__()
        self.fpn: nn.Module = (
            MobileNetFPN(num_filters_fpn) if backbone == "mobilenet" else InceptionFPN(num_filters_fpn)
        )
        self.head1 = FPNHead(num_filters_fpn, num_filters, num_filters)
        self.head2 = FPNHead(num_filters_fpn, num_filters, num_filters)
        self.head3 = FPNHead(num_filters_fpn, num_filters, num_filters)
        self.head4 = FPNHead(num_filters_fpn, num_filters, num_filters)
        self.smooth = _conv_norm_relu(4 * num_filters, num_filters)
        self.smooth2 = _conv_norm_relu(num_filters, num_filters // 2)
        self.final = nn.Conv2d(num_filters // 2, 3, kernel_size=3, padding=1)

    def generator(self, x: torch.Tensor) -> torch.Tensor:
        map0, map1, map2, map3, map4 = self.fpn(x)
        merged = torch.cat(
            [_up(self.head4(map4), 8), _up(self.head3(map3), 4), _up(self.head2(map2), 2), self.head1(map1)], dim=1
        )
        smoothed = _up(self.smooth(merged), 2)
        smoothed = _up(self.smooth2(smoothed + map0), 2)
        return torch.clamp(torch.tanh(self.final(smoothed)) + x, min=-1, max=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, h, w = x.shape
        normalised = F.pad((x - 0.5) / 0.5, (0, (w // 32 + 1) * 32 - w, 0, (h // 32 + 1) * 32 - h))
        y = self.generator(normalised)[:, :, :h, :w]
        return (y + 1) / 2
