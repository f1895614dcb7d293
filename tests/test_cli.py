"""The `enhance` command line, run in-process with Typer's runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from app.cli import app
from app.core.config import Settings
from tests.conftest import CATALOG, FAST_MODEL, png_bytes, skimage_rgb

runner = CliRunner()


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("ENHANCE_WEIGHTS_DIR", str(settings.weights_path))
    monkeypatch.setenv("ENHANCE_CATALOG_PATH", str(CATALOG))
    monkeypatch.setenv("ENHANCE_DEVICE", "cpu")
    monkeypatch.setenv("COLUMNS", "200")


def test_enhance_image_writes_the_upscaled_file(env: None, tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(png_bytes(skimage_rgb("chelsea", 40)))
    target = tmp_path / "out.webp"
    result = runner.invoke(app, ["image", str(source), str(target), "--model", FAST_MODEL, "--tile", "16"])
    assert result.exit_code == 0, result.output
    assert Image.open(target).size == (160, 160)
    assert "tiles" in result.output


def test_enhance_image_reports_bad_input(env: None, tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(b"definitely not a picture")
    result = runner.invoke(app, ["image", str(source), str(tmp_path / "out.png")])
    assert result.exit_code == 2
    assert "not a recognizable image" in result.output


def test_weights_list_and_verify(env: None) -> None:
    listing = runner.invoke(app, ["weights", "list"])
    assert listing.exit_code == 0, listing.output
    assert "realesrgan-x4plus" in listing.output and "present" in listing.output and "missing" in listing.output
    verify = runner.invoke(app, ["weights", "verify"])
    assert verify.exit_code == 0, verify.output


def test_weights_verify_fails_on_a_corrupted_file(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "realesr-animevideov3-x4.safetensors"
    bad.write_bytes(b"corrupt")
    monkeypatch.setenv("ENHANCE_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("ENHANCE_CATALOG_PATH", str(CATALOG))
    result = runner.invoke(app, ["weights", "verify"])
    assert result.exit_code == 1
    assert "checksum-failed" in result.output


def test_enhance_video_runs_the_pipeline_without_a_server(env: None, tmp_path: Path) -> None:
    from tests.media import carphone_path

    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["video", str(carphone_path()), str(out), "--frames", "0,60", "--model", FAST_MODEL, "--outputs", "frames,gif"],
    )
    assert result.exit_code == 0, result.output
    assert Image.open(out / "frame_000060.png").size == (704, 576)
    assert (out / "comparison.gif").is_file() and (out / "report.json").is_file()
