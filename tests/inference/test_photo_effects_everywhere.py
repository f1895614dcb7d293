"""Low light and photo denoise (#28) on every surface: bad values are a 422 problem naming the field on the image
route, a job and an album alike (and denoise levels a model does not have); an album runs both and its report
records them per photo; the CLI brightens alone."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from tests.inference.test_light import darkened
from tests.support.images import FAST_MODEL, png_bytes, psnr, skimage_rgb
from tests.support.jobs import JOBS, artifact, wait

ENHANCE = "/v1/images/enhance"

BAD: list[tuple[dict[str, str], str]] = [
    ({"model": "none", "light": "dim"}, "light"),
    ({"model": "none", "light": "2"}, "light"),
    ({"model": "none", "denoise_photo": "sometimes"}, "denoise_photo"),
    ({"model": "none", "denoise_photo": "on", "denoise_sigma": "100"}, "denoise_sigma"),
    ({"model": "none", "denoise_photo": "on", "denoise_sigma": "0"}, "denoise_sigma"),
    ({"model": "none", "denoise_photo": "on", "denoise_sigma": "nan"}, "denoise_sigma"),
    ({"model": "none", "light": "on", "denoise_sigma": "10"}, "denoise_sigma"),  # a level with the denoise off
    # `denoise` is Real-CUGAN's and waifu2x's own levels: not for a model without them, nor a level they lack
    ({"model": "realesrgan-x4plus", "denoise": "2"}, "denoise"),
    ({"model": "realcugan-x2", "denoise": "7"}, "denoise"),
    ({"model": "realcugan-x4", "denoise": "1"}, "denoise"),  # Real-CUGAN x4 has levels 0 and 3 only
    ({"model": "none", "light": "on", "denoise": "1"}, "denoise"),
]


def _problem(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    named = json.dumps(body.get("errors") or body.get("detail"))
    assert re.search(rf"(?<!\w){field}(?!\w)", named), body  # `denoise` itself, not denoise_photo


@pytest.fixture(scope="module")
def small_png() -> bytes:
    return png_bytes(skimage_rgb("coffee", 48))


@pytest.mark.parametrize(("params", "field"), BAD, ids=[f"{f}={'&'.join(p.values())}" for p, f in BAD])
def test_bad_values_are_422_naming_the_field_on_the_image_route(
    client: TestClient, small_png: bytes, params: dict[str, str], field: str
) -> None:
    _problem(client.post(ENHANCE, params=params, files={"file": ("p.png", small_png)}), field)


@pytest.mark.parametrize(("params", "field"), BAD, ids=[f"{f}={'&'.join(p.values())}" for p, f in BAD])
@pytest.mark.parametrize("photos", [1, 2], ids=["job", "album"])
def test_bad_values_are_422_naming_the_field_for_jobs_and_albums(
    client: TestClient, small_png: bytes, params: dict[str, str], field: str, photos: int
) -> None:
    files = [("file", (f"p{n}.png", small_png)) for n in range(photos)]
    _problem(client.post(JOBS, files=files, data=params), field)


def test_an_album_brightens_and_denoises_its_photos_and_the_report_says_so(client: TestClient) -> None:
    photo = skimage_rgb("astronaut", 96)
    dark = darkened(photo)
    rng = np.random.default_rng(0)
    noisy = np.clip(skimage_rgb("coffee", 96) + rng.normal(0, 25, (96, 96, 3)), 0, 255).astype(np.uint8)
    files = [("file", ("dark.png", png_bytes(dark))), ("file", ("noisy.png", png_bytes(noisy)))]
    response = client.post(
        JOBS, files=files, data={"model": FAST_MODEL, "light": "auto", "denoise_photo": "auto", "keep": "all"}
    )
    assert response.status_code == 202, response.text
    job = wait(client, response.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    report = json.loads(artifact(client, job, "report.json"))
    by_size = {tuple(f["size"]): f for f in report["frames"]}
    assert len(report["frames"]) == 2 and len(by_size) == 1  # both photos, the same size: told apart by decisions
    lit = [f for f in report["frames"] if f["light"]["applied"]]
    denoised = [f for f in report["frames"] if f["denoise"]["applied"]]
    assert len(lit) == 1 and lit[0]["light"]["mode"] == "auto", report["frames"]
    assert any(15 < (f["denoise"]["sigma"] or 0) < 35 for f in denoised), report["frames"]


def test_the_cli_brightens_alone(tmp_path: Path) -> None:
    from app.cli import app

    photo = skimage_rgb("astronaut", 128)
    source, out = tmp_path / "dark.png", tmp_path / "lit.png"
    source.write_bytes(png_bytes(darkened(photo)))
    result = CliRunner().invoke(app, ["image", str(source), str(out), "--model", "none", "--light", "on"])
    assert result.exit_code == 0, result.output
    assert "brightened (low light)" in result.output
    lit = np.asarray(Image.open(io.BytesIO(out.read_bytes())).convert("RGB"))
    assert psnr(lit, photo, 255) > psnr(darkened(photo), photo, 255) + 2
    bad = CliRunner().invoke(app, ["image", str(source), str(out), "--model", "none", "--light", "dim"])
    assert bad.exit_code != 0 and "--light" in bad.output
