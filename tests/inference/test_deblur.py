"""Deblurring: DeblurGAN golden fidelity through the registry, the classical method's gain, `auto` decisions."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from app.core.config import Settings
from app.core.files import sha256_file
from app.domain import DeblurMode
from app.inference.classical_deblur import classical_deblur
from app.inference.device import Device, InlineExecutor
from app.models.catalog import Catalog
from app.models.registry import ModelRegistry
from app.quality.blur import estimate_motion_blur, is_motion_blurred
from tests.support.blur import line_psf
from tests.support.deblurgan_weights import FIXTURES, save_official_checkpoint
from tests.support.images import CATALOG, png_bytes, psnr
from tests.support.jobs import succeeded_report

NETWORKS = [
    ("deblurgan_v2_fpn_mobilenet", "DeblurGAN-v2"),
    ("deblurgan_v2_fpn_inception", "DeblurGAN-v2"),
    ("deblurgan_v1_resnet9", "DeblurGAN"),
]
PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "cat", "camera", "immunohistochemistry", "hubble_deep_field"]


def photo(name: str, size: int = 256) -> np.ndarray:
    from skimage import data

    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=2)
    return cv2.resize(image[..., :3].astype(np.float32) / 255, (size, size), interpolation=cv2.INTER_AREA)


def motion_blur(image: np.ndarray, length: int, angle: float, seed: int) -> np.ndarray:
    kernel = line_psf(length, angle)
    blurred = cv2.filter2D(image, -1, kernel[::-1, ::-1].copy(), borderType=cv2.BORDER_REFLECT)  # a true convolution
    noise = np.random.default_rng(seed).normal(0, 1 / 255, image.shape).astype(np.float32)
    return np.clip(blurred + noise, 0, 1)


# -- DeblurGAN: official checkpoint layouts, official semantics, golden outputs -------------------------------


@pytest.fixture(scope="module")
def golden_registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    folder = tmp_path_factory.mktemp("deblurgan")
    base = Catalog.load(CATALOG)
    template = base.get("deblurgan-v1")
    entries = []
    for network, architecture in NETWORKS:
        path = save_official_checkpoint(network, folder / f"{network}.pth")
        entries.append(
            replace(template, id=network, file=path.name, sha256=sha256_file(path), architecture=architecture)
        )
    settings = Settings(weights_dir=folder, catalog_path=CATALOG, device="cpu", _env_file=None)  # type: ignore[call-arg]
    return ModelRegistry(settings, Catalog((*base.entries, *entries)))


@pytest.mark.parametrize(("network", "architecture"), NETWORKS)
def test_deblurgan_matches_the_official_output(golden_registry: ModelRegistry, network: str, architecture: str) -> None:
    model = golden_registry.get(network)
    assert model.descriptor.architecture.name == architecture
    image = np.load(FIXTURES / "input_rgb_u8.npy")
    if network == "deblurgan_v1_resnet9":
        image = image[:188, :248]
    batch = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    with torch.inference_mode():
        out = model.descriptor.model(model.precision.prepare(batch)).float()[0].permute(1, 2, 0).numpy() * 255
    golden = np.load(FIXTURES / f"{network}_output_f32.npy")
    assert out.shape == golden.shape
    assert float(np.abs(out - golden).max()) <= 1e-2


def test_the_official_v2_checkpoint_layout_is_what_we_load(tmp_path: Path) -> None:
    path = save_official_checkpoint("deblurgan_v2_fpn_mobilenet", tmp_path / "fpn_mobilenet.pth")
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"model"} and all(k.startswith("module.") for k in raw["model"])


# -- classical method -------------------------------------------------------------------------------------------


def test_classical_deblur_gains_at_least_1_5_db() -> None:
    gains = []
    cases = [(9, 0.0), (13, 60.0), (15, 120.0), (21, 30.0)]
    for i, name in enumerate(PHOTOS[:6]):
        sharp = photo(name)
        length, angle = cases[i % len(cases)]
        blurred = motion_blur(sharp, length, angle, seed=i)
        restored, estimate = classical_deblur(blurred)
        assert abs(estimate.length - length) <= 2, (name, estimate)
        gains.append(psnr(restored, sharp) - psnr(blurred, sharp))
    assert float(np.mean(gains)) >= 1.5, gains


def test_richardson_lucy_matches_scikit_image_on_a_real_photo() -> None:
    """The OpenCV Richardson-Lucy against the reference implementation it replaced, on the interior of a blurred photo
    (the two differ only in how they treat the outer border, which `deconvolve` pads away)."""
    from skimage.restoration import richardson_lucy as reference

    from app.inference.classical_deblur import ITERATIONS, motion_psf, richardson_lucy

    psf = motion_psf(13, 60.0)
    plane = np.clip(motion_blur(photo("astronaut"), 13, 60.0, seed=0)[..., 1], 1e-4, 1.0).astype(np.float32)
    ours = richardson_lucy(plane, psf, ITERATIONS)
    theirs = reference(plane, psf, num_iter=ITERATIONS, clip=False)
    inner = (slice(64, -64), slice(64, -64))
    assert ours.dtype == np.float32
    assert psnr(np.clip(ours[inner], 0, 1), np.clip(theirs[inner], 0, 1)) >= 60.0
    # and it really deconvolves: far from the blurred input it started from
    assert psnr(np.clip(ours[inner], 0, 1), plane[inner]) < 35.0


# -- auto: blur estimation and the decision ---------------------------------------------------------------------


def _sharp_set() -> list[np.ndarray]:
    """24 sharp photographs: 8 skimage photos at three framings (whole, and two crops at another scale)."""
    images = []
    for name in PHOTOS:
        whole = photo(name, 384)
        images += [whole, whole[:256, :256].copy(), whole[128:, 128:].copy()]
    return images


def test_auto_leaves_sharp_images_alone() -> None:
    flagged = [is_motion_blurred(estimate_motion_blur(image)) for image in _sharp_set()]
    assert len(flagged) >= 20
    assert sum(flagged) <= len(flagged) / 20


def test_auto_deblurs_images_blurred_by_9_px_or_more() -> None:
    decisions = []
    for i, name in enumerate(PHOTOS):
        for length, angle in [(9, 10.0), (13, 75.0), (17, 140.0), (21, 100.0)]:
            decisions.append(is_motion_blurred(estimate_motion_blur(motion_blur(photo(name), length, angle, i))))
    assert sum(decisions) / len(decisions) >= 0.9


def test_blur_direction_is_estimated() -> None:
    estimate = estimate_motion_blur(motion_blur(photo("coffee"), 15, 45.0, seed=1))
    assert abs(estimate.angle - 45) <= 4 and abs(estimate.length - 15) <= 2


# -- through the API --------------------------------------------------------------------------------------------


def _png(image: np.ndarray) -> bytes:
    return png_bytes((np.clip(image, 0, 1) * 255).round().astype(np.uint8))


def test_api_auto_deblurs_only_blurred_images(client: TestClient) -> None:
    sharp = photo("astronaut", 128)
    blurred = motion_blur(sharp, 11, 30.0, seed=3)
    params = {"model": "none", "deblur": "auto"}
    kept = client.post("/v1/images/enhance", params=params, files={"file": ("s.png", _png(sharp))})
    fixed = client.post("/v1/images/enhance", params=params, files={"file": ("b.png", _png(blurred))})
    assert kept.status_code == fixed.status_code == 200
    assert kept.headers["x-enhance-deblurred"] == "false"
    assert fixed.headers["x-enhance-deblurred"] == "true"
    assert fixed.headers["x-enhance-deblur-model"] == "classical"
    assert "length=" in fixed.headers["x-enhance-blur"]
    out = np.asarray(Image.open(io.BytesIO(fixed.content))).astype(np.float32) / 255
    assert out.shape == (128, 128, 3)
    assert psnr(out, sharp) > psnr(blurred, sharp)


def test_api_deblur_then_upscale(client: TestClient) -> None:
    blurred = motion_blur(photo("chelsea", 48), 9, 0.0, seed=4)
    response = client.post(
        "/v1/images/enhance",
        params={"model": "realesr-animevideov3-x4", "deblur": "on"},
        files={"file": ("b.png", _png(blurred))},
    )
    assert response.status_code == 200 and response.headers["x-enhance-deblurred"] == "true"
    assert Image.open(io.BytesIO(response.content)).size == (192, 192)


def test_api_deblur_options_are_validated(client: TestClient) -> None:
    data = _png(photo("coffee", 32))
    assert (
        client.post("/v1/images/enhance", params={"model": "none"}, files={"file": ("a.png", data)}).status_code == 422
    )
    wrong = client.post(
        "/v1/images/enhance",
        params={"deblur": "on", "deblur_model": "realesrgan-x4plus"},
        files={"file": ("a.png", data)},
    )
    assert wrong.status_code == 422
    assert (
        client.post("/v1/images/enhance", params={"deblur": "sometimes"}, files={"file": ("a.png", data)}).status_code
        == 422
    )


def test_a_nafnet_checkpoint_is_loaded_by_spandrel_and_used(tmp_path: Path) -> None:
    from spandrel.architectures.NAFNet import NAFNet

    net = NAFNet(img_channel=3, width=16, middle_blk_num=1, enc_blk_nums=[1, 1], dec_blk_nums=[1, 1])
    path = tmp_path / "NAFNet-GoPro-width64.pth"
    torch.save({"params": net.state_dict()}, path)
    base = Catalog.load(CATALOG)
    entry = replace(base.get("nafnet-gopro-width64"), sha256=sha256_file(path))
    settings = Settings(weights_dir=tmp_path, catalog_path=CATALOG, device="cpu", _env_file=None)  # type: ignore[call-arg]
    registry = ModelRegistry(settings, Catalog(tuple(entry if e.id == entry.id else e for e in base.entries)))
    from app.domain import Picture
    from app.inference.deblur import deblur_picture, resolve_deblur_model

    device = Device(registry, InlineExecutor())
    assert resolve_deblur_model(device, settings, None) == "nafnet-gopro-width64"
    picture = Picture(photo("coffee", 40), None, 8)
    out, decision = deblur_picture(picture, DeblurMode.ON, "nafnet-gopro-width64", device)
    assert decision.applied and registry.get("nafnet-gopro-width64").descriptor.architecture.name == "NAFNet"
    assert out.pixels.shape == (40, 40, 3)


def test_job_with_auto_deblur_reports_which_frames_were_deblurred(client: TestClient, tmp_path: Path) -> None:
    from tests.support.media import clip_from_frames

    frames, blurred_indices = [], set()
    for i, name in enumerate(["astronaut", "coffee", "chelsea", "camera"]):
        sharp = photo(name, 128)
        frames.append(sharp)
        frames.append(motion_blur(sharp, 13, 20.0 + 40 * i, seed=i))
        blurred_indices.add(2 * i + 1)
    clip = clip_from_frames(tmp_path / "mixed.mp4", [(f * 255).round().astype(np.uint8) for f in frames])
    report = succeeded_report(
        client, clip.read_bytes(), "mixed.mp4", model="realesr-animevideov3-x2", deblur="auto", outputs="frames"
    )
    deblurred = {f["index"] for f in report["frames"] if f["deblur"]["applied"]}
    assert deblurred == blurred_indices
    assert all(f["deblur"]["blur"]["score"] is not None for f in report["frames"])
    frame = client.get(f"/v1/jobs/{report['job_id']}/artifacts/frame_000001.png").content
    assert Image.open(io.BytesIO(frame)).size == (256, 256)
