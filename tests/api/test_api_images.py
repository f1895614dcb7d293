"""POST /v1/images/enhance and the catalogue/health endpoints, through the real app and real weights."""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor

import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageCms

from app.core.config import Settings
from app.main import create_app
from app.models.registry import ModelRegistry
from tests.support.images import FAST_MODEL, area_resize, decode_png, png_bytes, psnr, skimage_rgb
from tests.support.media import carphone_path

ENHANCE = "/v1/images/enhance"


def _enhance(client: TestClient, data: bytes, name: str = "in.png", **params: object) -> httpx.Response:
    params.setdefault("model", FAST_MODEL)
    return client.post(ENHANCE, params=params, files={"file": (name, data)})


def _assert_problem(response: httpx.Response, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"].endswith(kind) and body["detail"]


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "detail": {}}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["detail"]["realesrgan-x4plus"] == "present"
    assert ready.json()["detail"]["device"] == "cpu"


def test_readiness_says_when_a_cuda_build_runs_on_the_cpu(client: TestClient) -> None:
    """A GPU image on a host without a usable GPU: `auto` falls back to the CPU, and /readyz says so."""
    import torch

    from app.models.registry import cuda_fallback_reason

    detail = client.get("/readyz").json()["detail"]
    if torch.version.cuda is None or torch.cuda.is_available():
        assert cuda_fallback_reason() is None and "device_warning" not in detail
    else:  # this project's CI: PyPI's CUDA torch on a machine without a GPU
        assert detail["device_warning"].startswith(f"PyTorch is built for CUDA {torch.version.cuda}")
        assert detail["device_warning"].endswith("running on the CPU")


def test_models_lists_the_catalogue_with_state(client: TestClient) -> None:
    _enhance(client, png_bytes(skimage_rgb("astronaut", 16)))
    body = client.get("/v1/models").json()
    by_id = {m["id"]: m for m in body["data"]}
    assert {"realesrgan-x4plus", "realesr-animevideov3-x4", "esrgan-x4", "realesrgan-x4plus-pth"} <= set(by_id)
    default = by_id["realesrgan-x4plus"]
    assert default["default"] and default["weights"] == "present" and len(default["sha256"]) == 64
    assert by_id["realesrgan-x4plus-pth"]["weights"] == "missing"
    fast = by_id[FAST_MODEL]
    assert fast["loaded"] and fast["device"] == "cpu" and fast["dtype"] in {"fp32", "bf16"}
    assert fast["architecture"] == "RealESRGAN Compact"


def test_enhance_returns_the_upscaled_png_with_headers(client: TestClient) -> None:
    source = skimage_rgb("chelsea", 48)
    response = _enhance(client, png_bytes(source))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-enhance-model"] == FAST_MODEL
    assert response.headers["x-enhance-device"] == "cpu"
    assert response.headers["x-enhance-dtype"] in {"fp32", "bf16"}
    assert float(response.headers["x-processing-time-ms"]) > 0
    assert "restore;dur=" in response.headers["server-timing"]
    out = decode_png(response.content)
    assert out.shape == (192, 192, 3)
    assert psnr(area_resize(out, 48, 48), source, peak=255) >= 28


@pytest.mark.slow
def test_default_model_is_realesrgan_x4plus(client: TestClient) -> None:
    response = client.post(
        ENHANCE, params={"scale": 4}, files={"file": ("a.png", png_bytes(skimage_rgb("coffee", 40)))}
    )
    assert response.status_code == 200
    assert response.headers["x-enhance-model"] == "realesrgan-x4plus"
    assert decode_png(response.content).shape == (160, 160, 3)


@pytest.mark.parametrize(
    ("fmt", "media", "magic"), [("jpeg", "image/jpeg", b"\xff\xd8"), ("webp", "image/webp", b"RIFF")]
)
def test_jpeg_and_webp_output(client: TestClient, fmt: str, media: str, magic: bytes) -> None:
    response = _enhance(client, png_bytes(skimage_rgb("astronaut", 32)), format=fmt, quality=80)
    assert response.status_code == 200
    assert response.headers["content-type"] == media
    assert response.content.startswith(magic)
    assert Image.open(io.BytesIO(response.content)).size == (128, 128)


def test_outscale(client: TestClient) -> None:
    response = _enhance(client, png_bytes(skimage_rgb("astronaut", 40)), scale=1.5)
    assert Image.open(io.BytesIO(response.content)).size == (60, 60)


def test_rgba_stays_rgba_with_alpha_upscaled(client: TestClient) -> None:
    from skimage import data

    logo = data.logo().copy()  # RGBA, but fully opaque: cut the white background out to get a real mask
    logo[..., 3] = np.where(logo[..., :3].min(axis=2) > 240, 0, 255)
    logo = cv2.resize(logo, (50, 50), interpolation=cv2.INTER_AREA)
    assert logo.shape[2] == 4 and logo[..., 3].min() == 0 and logo[..., 3].max() == 255
    response = _enhance(client, png_bytes(logo))
    out = Image.open(io.BytesIO(response.content))
    assert out.mode == "RGBA" and out.size == (200, 200)
    alpha = np.asarray(out)[..., 3]
    assert psnr(area_resize(alpha, 50, 50), logo[..., 3], peak=255) >= 30


def test_sixteen_bit_png_stays_sixteen_bit(client: TestClient) -> None:
    source8 = skimage_rgb("astronaut", 32)
    source = source8.astype(np.uint16) * 257
    ok, buf = cv2.imencode(".png", cv2.cvtColor(source, cv2.COLOR_RGB2BGR))
    assert ok
    response = _enhance(client, buf.tobytes())
    assert response.status_code == 200
    out = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert out is not None and out.dtype == np.uint16 and out.shape == (128, 128, 3)
    out_rgb = cv2.cvtColor(out, cv2.COLOR_BGR2RGB).astype(np.float32) / 65535
    out8 = decode_png(_enhance(client, png_bytes(source8)).content).astype(np.float32) / 255
    assert psnr(out_rgb, out8) >= 45  # the same restoration as the 8-bit path, carried at 16 bits
    assert len(np.unique(out % 257)) > 10  # real 16-bit precision, not 8-bit values scaled up


def test_gray_stays_gray(client: TestClient) -> None:
    from skimage import data

    camera = cv2.resize(data.camera(), (40, 40), interpolation=cv2.INTER_AREA)
    out = Image.open(io.BytesIO(_enhance(client, png_bytes(camera)).content))
    assert out.mode == "L" and out.size == (160, 160)
    assert psnr(area_resize(np.asarray(out), 40, 40), camera, peak=255) >= 28


def test_sixteen_bit_gray(client: TestClient) -> None:
    from skimage import data

    camera = cv2.resize(data.camera(), (24, 24), interpolation=cv2.INTER_AREA).astype(np.uint16) * 257
    ok, buf = cv2.imencode(".png", camera)
    out = cv2.imdecode(np.frombuffer(_enhance(client, buf.tobytes()).content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert out is not None
    assert ok and out.dtype == np.uint16 and out.shape == (96, 96)


def test_exif_orientation_is_honoured(client: TestClient) -> None:
    upright = skimage_rgb("astronaut", 64)[:, :48]  # 64 tall, 48 wide
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # what a camera held sideways writes: 48 tall, 64 wide
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buf = io.BytesIO()
    Image.fromarray(stored).save(buf, "JPEG", quality=95, exif=exif.tobytes())
    out = decode_png(_enhance(client, buf.getvalue(), "photo.jpg").content)
    assert out.shape == (256, 192, 3)
    assert psnr(area_resize(out, 48, 64), upright, peak=255) >= 25


def test_icc_profile_is_kept(client: TestClient) -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    response = _enhance(client, png_bytes(skimage_rgb("chelsea", 24), icc_profile=icc))
    assert Image.open(io.BytesIO(response.content)).info.get("icc_profile") == icc
    source16 = skimage_rgb("chelsea", 24).astype(np.uint16) * 257
    ok, buf = cv2.imencode(".png", source16)
    with_icc = Image.open(io.BytesIO(buf.tobytes()))
    assert ok and with_icc.format == "PNG"


def test_sixteen_bit_png_keeps_icc(client: TestClient) -> None:
    from app.media.encode import _insert_iccp

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source16 = skimage_rgb("chelsea", 24).astype(np.uint16) * 257
    ok, buf = cv2.imencode(".png", source16)
    response = _enhance(client, _insert_iccp(buf.tobytes(), icc))
    out = Image.open(io.BytesIO(response.content))
    assert ok and out.info.get("icc_profile") == icc
    decoded = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded is not None and decoded.dtype == np.uint16


def test_bad_inputs_get_problem_json_and_the_server_keeps_serving(client: TestClient) -> None:
    good = png_bytes(skimage_rgb("astronaut", 24))
    _assert_problem(_enhance(client, b""), 422, "corrupt-media")
    _assert_problem(_enhance(client, os.urandom(4096)), 422, "corrupt-media")
    _assert_problem(_enhance(client, good[: len(good) // 2]), 422, "corrupt-media")
    _assert_problem(_enhance(client, good, model="no-such-model"), 404, "model-not-found")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    _assert_problem(_enhance(client, svg, "x.svg"), 415, "unsupported-media-type")
    psd_like = b"8BPS" + b"\x00\x01" + b"\x00" * 6 + b"\x00\x03" + (16).to_bytes(4, "big") * 2 + b"\x00\x08\x00\x03"
    assert _enhance(client, psd_like, "x.png").status_code in {415, 422}
    _assert_problem(_enhance(client, good, scale=100), 422, "validation-error")
    _assert_problem(_enhance(client, good, format="gif"), 422, "validation-error")
    _assert_problem(client.post(ENHANCE), 422, "validation-error")
    assert _enhance(client, good).status_code == 200


def test_a_catalogued_model_without_weights_says_how_to_install_them(client: TestClient) -> None:
    response = _enhance(client, png_bytes(skimage_rgb("astronaut", 16)), model="realesrgan-x4plus-pth")
    _assert_problem(response, 503, "weights-missing")
    assert "enhance weights download realesrgan-x4plus-pth" in response.json()["detail"]


def test_upload_and_pixel_limits(settings: Settings, registry: ModelRegistry) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 2000, "max_pixels": 40 * 40})
    with TestClient(create_app(small, registry)) as limited:
        big_file = png_bytes(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
        _assert_problem(_enhance(limited, big_file), 413, "payload-too-large")
        _assert_problem(_enhance(limited, png_bytes(np.zeros((41, 41, 3), np.uint8))), 413, "payload-too-large")
        assert _enhance(limited, png_bytes(np.zeros((40, 40, 3), np.uint8))).status_code == 200


@pytest.mark.slow
def test_concurrent_requests_each_get_their_own_output(client: TestClient) -> None:
    """Real-ESRGAN #658: a shared upsampler mixed outputs across requests. Eight different images at once must
    each come back exactly as they do alone."""
    names = ["astronaut", "chelsea", "coffee", "rocket", "cat", "camera", "moon", "coins"]
    inputs = [png_bytes(skimage_rgb(name, 32 + 2 * i)) for i, name in enumerate(names)]

    def call(data: bytes) -> bytes:
        response = _enhance(client, data, model="realesrgan-x4plus")
        assert response.status_code == 200
        return response.content

    alone = [call(data) for data in inputs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(call, inputs))
    assert len(set(alone)) == 8
    assert together == alone


def test_concurrent_requests_of_one_size_share_model_calls(settings: Settings, registry: ModelRegistry) -> None:
    """The dynamic batcher (on by default on a GPU; asked for here on the CPU): same-size requests arriving
    together go through the model in shared calls, and each response is still its own image."""
    names = ["astronaut", "chelsea", "coffee", "rocket", "cat", "camera"]
    inputs = [png_bytes(skimage_rgb(name, 48)) for name in names]
    with TestClient(create_app(settings.model_copy(update={"max_batch": 8}), registry)) as client:

        def call(data: bytes) -> np.ndarray:
            response = _enhance(client, data)
            assert response.status_code == 200
            return decode_png(response.content)

        alone = [call(data) for data in inputs]
        batcher = client.app.state.api.services.batcher  # type: ignore[attr-defined]
        calls, requests = batcher.calls, batcher.requests
        with ThreadPoolExecutor(max_workers=len(inputs)) as pool:
            together = list(pool.map(call, inputs))
        assert batcher.requests - requests == len(inputs)
        assert batcher.calls - calls < len(inputs)
        assert "enhance_batch_tiles_bucket" in client.get("/metrics").text
    for i, (solo, batched) in enumerate(zip(alone, together, strict=True)):
        assert psnr(batched, solo, peak=255) > 40
        assert psnr(batched, alone[(i + 1) % len(alone)], peak=255) < 20


@pytest.mark.parametrize("deblur", ["on", "auto"])
def test_deblur_on_images_too_small_to_measure_a_blur(client: TestClient, deblur: str) -> None:
    """Found by the schema fuzzer: a 1x1 PNG with deblur=on was a 500 (the blur estimate had no lengths to try)."""
    for size in (1, 12):
        tiny = png_bytes(np.zeros((size, size, 3), np.uint8))
        response = client.post(
            "/v1/images/enhance", params={"deblur": deblur, "model": FAST_MODEL}, files={"file": ("t.png", tiny)}
        )
        assert response.status_code == 200, response.text
        assert Image.open(io.BytesIO(response.content)).size == (4 * size, 4 * size)


def test_compare_returns_the_before_after_png_at_one_to_one(client: TestClient) -> None:
    """An image gets the same deliverable as a video: bicubic beside enhanced, 1:1, where the gain is largest."""
    photo = png_bytes(skimage_rgb("astronaut", 200))
    response = client.post(
        "/v1/images/enhance", params={"model": FAST_MODEL, "compare": "true"}, files={"file": ("a.png", photo)}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-enhance-size"] == "800x800"
    region = dict(item.split("=") for item in response.headers["x-enhance-compare-region"].split("; "))
    assert (region["width"], region["height"]) == ("640", "720")  # a 640x720 window of the 800x800 output
    pair = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    assert pair.shape == (720, 1280, 3)
    before, after = pair[120:, :640], pair[120:, 640:]  # below the labels

    def sharpness(half: np.ndarray) -> float:
        gray = cv2.cvtColor(np.ascontiguousarray(half), cv2.COLOR_RGB2GRAY).astype(np.float64)
        return float(cv2.Laplacian(gray, cv2.CV_64F).var())

    assert sharpness(after) >= 1.5 * sharpness(before)


def test_a_video_sent_to_the_image_route_is_told_to_use_a_job(client: TestClient) -> None:
    response = client.post("/v1/images/enhance", files={"file": ("clip.mp4", carphone_path().read_bytes())})
    assert response.status_code == 415
    assert "POST /v1/jobs" in response.json()["detail"] and "video" in response.json()["detail"]
