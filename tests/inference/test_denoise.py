"""Photo denoise (#28): FFDNet at the noise level estimated per picture or given, on real photos with known noise,
through the image route, a job and the CLI, alone (`model=none`) or before an upscaler; bad options are 422."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from app.domain import DenoiseMode, Picture
from app.inference.denoise import denoise_picture
from app.inference.device import Device
from tests.support.denoise import noisy
from tests.support.images import FAST_MODEL, png_bytes, psnr, skimage_rgb
from tests.support.jobs import succeeded_report

ENHANCE = "/v1/images/enhance"


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return skimage_rgb("astronaut", 192)


def _decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_model_none_denoises_a_noisy_photo_at_the_estimated_level(client: TestClient, photo: np.ndarray) -> None:
    dirty = noisy(photo, 25)
    response = client.post(
        ENHANCE, params={"model": "none", "denoise_photo": "on"}, files={"file": ("n.png", png_bytes(dirty))}
    )
    assert response.status_code == 200, response.text
    out = _decoded(response.content)
    assert out.shape == photo.shape
    before, after = psnr(dirty, photo, 255), psnr(out, photo, 255)
    print(f"sigma 25: {before:.2f} -> {after:.2f} dB")
    assert after > before + 6  # measured: 20.8 -> 29.8 dB


def test_the_estimate_is_near_the_true_level_and_auto_leaves_a_clean_photo(device: Device, photo: np.ndarray) -> None:
    for sigma in (15, 25, 50):
        picture = Picture(noisy(photo, sigma).astype(np.float32) / 255, None, 8)
        _, decision = denoise_picture(picture, DenoiseMode.AUTO, "ffdnet-color", None, device)
        assert decision.applied and decision.estimated_sigma is not None
        assert abs(decision.estimated_sigma - sigma) < 0.2 * sigma, decision
    clean = Picture(photo.astype(np.float32) / 255, None, 8)
    untouched, decision = denoise_picture(clean, DenoiseMode.AUTO, "ffdnet-color", None, device)
    assert not decision.applied and untouched is clean


def test_a_given_level_is_used(device: Device, photo: np.ndarray) -> None:
    picture = Picture(noisy(photo, 25).astype(np.float32) / 255, None, 8)
    mild, decision = denoise_picture(picture, DenoiseMode.ON, "ffdnet-color", 5.0, device)
    strong, _ = denoise_picture(picture, DenoiseMode.ON, "ffdnet-color", 25.0, device)
    assert decision.sigma == 5.0 and decision.estimated_sigma is None
    assert psnr(strong.pixels, photo / 255) > psnr(mild.pixels, photo / 255) + 3


def test_denoise_runs_before_an_upscaler_in_a_job_and_the_report_says_so(client: TestClient, photo: np.ndarray) -> None:
    small = photo[:96, :96]
    report = succeeded_report(
        client, png_bytes(noisy(small, 25)), "n.png", model=FAST_MODEL, denoise_photo="auto", outputs="frames"
    )
    [frame] = report["frames"]
    decision = frame["denoise"]  # its own key (#28), and still under "deblur" where the first release put it
    assert frame["deblur"]["denoise"] == decision and frame["light"]["applied"] is False
    assert decision["applied"] and decision["model"] == "ffdnet-color" and 20 < decision["sigma"] < 30


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"model": "none", "denoise_photo": "sometimes"}, "denoise_photo"),
        ({"model": "none", "denoise_photo": "on", "denoise_sigma": "100"}, "denoise_sigma"),
        ({"model": "none", "denoise_photo": "on", "denoise_sigma": "-1"}, "denoise_sigma"),
        ({"model": "none", "denoise_sigma": "10"}, "denoise_sigma"),
        ({"model": "none"}, "denoise_photo"),
    ],
)
def test_bad_denoise_options_are_422_naming_the_field(
    client: TestClient, photo: np.ndarray, params: dict[str, str], field: str
) -> None:
    response = client.post(ENHANCE, params=params, files={"file": ("p.png", png_bytes(photo[:32, :32]))})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.text


def test_cli_denoises_alone(tmp_path: Path, photo: np.ndarray) -> None:
    from app.cli import app

    source, out = tmp_path / "noisy.png", tmp_path / "clean.png"
    source.write_bytes(png_bytes(noisy(photo, 25)))
    result = CliRunner().invoke(app, ["image", str(source), str(out), "--model", "none", "--denoise-photo", "on"])
    assert result.exit_code == 0, result.output
    assert "denoised at sigma" in result.output
    assert psnr(_decoded(out.read_bytes()), photo, 255) > psnr(noisy(photo, 25), photo, 255) + 6
