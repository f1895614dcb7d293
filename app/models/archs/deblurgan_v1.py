"""DeblurGAN (v1) `resnet_9blocks` generator, laid out exactly as its `latest_net_G.pth` (instance norm, dropout
built in, `learn_residual` off).

Faithful detail: the official ResnetBlock builds its layers with `a + [Dropout] if use_dropout else [] + b`, which
Python parses as `(a + [Dropout]) if use_dropout else b`, so each block has one convolution, not two. The checkpoint
keys (`conv_block.1`, `conv_block.2` only) confirm it.
"""

from __future__ import annotations

import torch
from torch import nn

from app.models.archs.norms import PerImageInstanceNorm2d


class ResnetBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, bias=True),
            PerImageInstanceNorm2d(dim),
            nn.ReLU(True),
            nn.Dropout(0.5),  # inactive at inference (eval mode)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.conv_block(x)
        return out


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc: int = 3, output_nc: int = 3, ngf: int = 64, n_blocks: int = 9) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=True),
            PerImageInstanceNorm2d(ngf),
            nn.ReLU(True),
        ]
        for i in range(2):
            mult = 2**i
            layers += [
                nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=True),
                PerImageInstanceNorm2d(ngf * mult * 2),
                nn.ReLU(True),
            ]
        layers += [ResnetBlock(ngf * 4) for _ in range(n_blocks)]
        for i in range(2):
            mult = 2 ** (2 - i)
            layers += [
                nn.ConvTranspose2d(
                    ngf * mult, ngf * mult // 2, kernel_size=3, stride=2, padding=1, output_padding=1, bias=True
                ),
                PerImageInstanceNorm2d(ngf * mult // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(x)
        return out


class DeblurGANv1(ResnetGenerator):
    """0..1 image in, 0..1 image out, with the official normalisation around the generator (state-dict keys
    unchanged: `model.*`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward((x - 0.5) / 0.5)
        return (y + 1) / 2
