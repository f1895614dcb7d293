"""spandrel Architecture adapters for DeblurGAN v1 and DeblurGAN-v2 (FPN-MobileNet, FPN-Inception).

They detect the official checkpoint layouts after spandrel's canonicalisation (which unwraps v2's `{'model': ...}`
and strips DataParallel's `module.` prefix), so the registry's one loader handles them like any other model.
Per-image normalisation statistics make tiling change the result, hence `ModelTiling.DISCOURAGED`.
"""

from __future__ import annotations

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

from app.models.archs.deblurgan_v1 import DeblurGANv1
from app.models.archs.deblurgan_v2 import DeblurGANv2


class DeblurGANv2Arch(Architecture[DeblurGANv2]):  # type: ignore[misc]  # spandrel ships no type information
    def __init__(self) -> None:
        super().__init__(
            id="DeblurGANv2",
            name="DeblurGAN-v2",
            detect=KeyCondition.has_all(
                "fpn.lateral4.weight",
                "fpn.lateral0.weight",
                "fpn.td1.0.weight",
                "head1.block0.weight",
                "head4.block1.weight",
                "smooth.0.weight",
                "smooth2.0.weight",
                "final.weight",
                KeyCondition.has_any("fpn.features.0.0.weight", "fpn.inception.conv2d_1a.conv.weight"),
            ),
        )

    def load(self, state_dict: StateDict) -> ImageModelDescriptor[DeblurGANv2]:
        backbone = "mobilenet" if "fpn.features.0.0.weight" in state_dict else "inception"
        num_filters = state_dict["head1.block0.weight"].shape[0]
        num_filters_fpn = state_dict["head1.block0.weight"].shape[1]
        model = DeblurGANv2(backbone, num_filters, num_filters_fpn)
        return ImageModelDescriptor(
            model,
            state_dict,
            architecture=self,
            purpose="Restoration",
            tags=[f"fpn-{backbone}"],
            supports_half=False,  # per-image statistics over whole frames overflow fp16 range too easily
            supports_bfloat16=False,
            scale=1,
            input_channels=3,
            output_channels=3,
            tiling=ModelTiling.DISCOURAGED,
        )


class DeblurGANv1Arch(Architecture[DeblurGANv1]):  # type: ignore[misc]  # spandrel ships no type information
    def __init__(self) -> None:
        super().__init__(
            id="DeblurGANv1",
            name="DeblurGAN",
            detect=KeyCondition.has_all(
                "model.1.weight",
                "model.2.running_mean",
                "model.4.weight",
                "model.7.weight",
                "model.10.conv_block.1.weight",
                "model.10.conv_block.2.running_mean",
            ),
        )

    def load(self, state_dict: StateDict) -> ImageModelDescriptor[DeblurGANv1]:
        n_blocks = get_seq_len(state_dict, "model") - 18  # 10 layers before the blocks, 8 after
        model = DeblurGANv1(n_blocks=n_blocks)
        return ImageModelDescriptor(
            model,
            state_dict,
            architecture=self,
            purpose="Restoration",
            tags=[f"resnet_{n_blocks}blocks"],
            supports_half=False,
            supports_bfloat16=False,
            scale=1,
            input_channels=3,
            output_channels=3,
            size_requirements=SizeRequirements(multiple_of=4),
            tiling=ModelTiling.DISCOURAGED,
        )


def add_deblurgan(registry: ArchRegistry) -> None:
    registry.add(
        ArchSupport.from_architecture(DeblurGANv2Arch()),
        ArchSupport.from_architecture(DeblurGANv1Arch()),
    )
