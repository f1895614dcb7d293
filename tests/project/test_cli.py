"""The `enhance` command line, run in-process with Typer's runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from app.cli import app
from app.core.config import Settings
from tests.support.images import CATALOG, FAST_MODEL, jpeg_bytes, png_bytes, skimage_rgb

runner = CliRunner()
ENHANCE = str(Path(sys.executable).with_name("enhance"))


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
    result = runner.invoke(app, ["image", str(source), str(target), "--model", FAST_MODEL, "--tile", "32"])
    assert result.exit_code == 0, result.output
    assert Image.open(target).size == (160, 160)
    assert "tiles" in result.output


def test_enhance_image_batch_keeps_the_tree_skips_non_media_and_reports_bad_files(env: None, tmp_path: Path) -> None:
    album = tmp_path / "album"
    (album / "day2").mkdir(parents=True)
    (album / "a.png").write_bytes(png_bytes(skimage_rgb("chelsea", 24)))
    (album / "day2" / "b.jpg").write_bytes(jpeg_bytes(skimage_rgb("coffee", 20)))
    (album / "day2" / "broken.png").write_bytes(b"not a picture at all")
    (album / "notes.txt").write_text("not media: skipped, and listed")
    (album / ".thumbs").mkdir()
    (album / ".thumbs" / "a.png").write_bytes(png_bytes(skimage_rgb("chelsea", 8)))  # hidden: skipped
    loose = tmp_path / "loose.png"
    loose.write_bytes(png_bytes(skimage_rgb("astronaut", 16)))
    out = tmp_path / "out"
    result = runner.invoke(app, ["image", str(album), str(loose), str(out), "--model", FAST_MODEL, "--format", "webp"])
    assert result.exit_code == 2, result.output  # one input failed
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a.webp", "day2/b.webp", "loose.webp"]
    assert Image.open(out / "day2" / "b.webp").size == (80, 80)
    assert "broken.png" in result.output and "not a recognizable image" in result.output
    assert f"skipped: {album / 'notes.txt'} (not an image)" in result.output  # listed, not silently dropped
    assert "skipped 1 hidden file" in result.output
    closing = result.output.strip().splitlines()[-1]
    assert closing.startswith("3 of 4 done, 1 failed; model load ") and "processing" in closing


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
    from tests.support.media import carphone_path

    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["video", str(carphone_path()), str(out), "--frames", "0,60", "--model", FAST_MODEL, "--outputs", "frames,gif"],
    )
    assert result.exit_code == 0, result.output
    assert Image.open(out / "frame_000060.png").size == (704, 576)
    assert (out / "comparison.gif").is_file() and (out / "report.json").is_file()


def test_enhance_video_takes_the_video_default_and_a_denoise_level(
    env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from tests.support.media import carphone_path

    monkeypatch.setenv("ENHANCE_DEFAULT_VIDEO_MODEL", "span-x2")
    fast = runner.invoke(
        app, ["video", str(carphone_path()), str(tmp_path / "a"), "--frames", "0", "--outputs", "frames"]
    )
    assert fast.exit_code == 0, fast.output
    assert json.loads((tmp_path / "a" / "report.json").read_text())["options"]["model"] == "span-x2"
    assert Image.open(tmp_path / "a" / "frame_000000.png").size == (352, 288)
    cmd = ["video", str(carphone_path()), str(tmp_path / "b"), "--frames", "0", "--outputs", "frames"]
    denoised = runner.invoke(app, [*cmd, "--model", "waifu2x-cunet-x2", "--denoise", "2"])
    assert denoised.exit_code == 0, denoised.output
    assert json.loads((tmp_path / "b" / "report.json").read_text())["options"]["denoise"] == 2


def test_enhance_image_denoise_picks_the_level_and_refuses_a_missing_one(env: None, tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(png_bytes(skimage_rgb("chelsea", 40)))
    done = runner.invoke(
        app, ["image", str(source), str(tmp_path / "o.png"), "--model", "realcugan-x2", "--denoise", "1"]
    )
    assert done.exit_code == 0, done.output
    assert "realcugan-x2-denoise1" in done.output
    assert Image.open(tmp_path / "o.png").size == (80, 80)
    refused = _enhance(
        "image",
        str(source),
        str(tmp_path / "p.png"),
        "--model",
        "realcugan-x4",
        "--denoise",
        "2",
        cwd=tmp_path,
        ENHANCE_WEIGHTS_DIR=os.environ["ENHANCE_WEIGHTS_DIR"],
        ENHANCE_DEVICE="cpu",
    )
    assert refused.returncode == 2
    assert "realcugan-x4 has denoise levels 0, 3; got 2" in refused.stderr


def test_enhance_video_batch_gives_each_video_its_folder(env: None, tmp_path: Path) -> None:
    from tests.support.media import carphone_path

    clips = tmp_path / "clips"
    (clips / "b").mkdir(parents=True)
    (clips / "a.mp4").write_bytes(carphone_path().read_bytes())
    (clips / "b" / "c.mp4").write_bytes(carphone_path().read_bytes())
    (clips / "b" / "truncated.mp4").write_bytes(carphone_path().read_bytes()[:2000])
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["video", str(clips), str(out), "--frames", "0", "--model", FAST_MODEL, "--outputs", "frames"]
    )
    assert result.exit_code == 2, result.output
    assert (out / "a" / "frame_000000.png").is_file() and (out / "b" / "c" / "frame_000000.png").is_file()
    assert not (out / "b" / "truncated").exists() and "truncated.mp4" in result.output
    assert result.output.strip().splitlines()[-1].startswith("2 of 3 done, 1 failed; model load ")


def test_version_and_device_override(env: None, tmp_path: Path) -> None:
    assert runner.invoke(app, ["--version"]).output.strip() == "enhance 0.1.0"
    source = tmp_path / "in.png"
    source.write_bytes(png_bytes(skimage_rgb("chelsea", 16)))
    result = runner.invoke(
        app,
        ["image", str(source), str(tmp_path / "o.png"), "--model", FAST_MODEL, "--device", "cpu", "--dtype", "fp32"],
    )
    assert result.exit_code == 0, result.output
    assert f"with {FAST_MODEL} on cpu" in result.output


def _enhance(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed `enhance` console script, as a user runs it (its `main()` is what turns errors into lines)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ENHANCE_")} | env
    return subprocess.run([ENHANCE, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120)


def test_a_device_this_machine_lacks_stops_serve_with_one_line(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: ENHANCE_DEVICE=cuda is valid here")
    result = _enhance("serve", cwd=tmp_path, ENHANCE_DEVICE="cuda", ENHANCE_DATA_DIR=str(tmp_path / "data"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ENHANCE_DEVICE=cuda but CUDA is not usable: ")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # refused before anything started


def test_user_errors_are_one_line_from_any_directory(tmp_path: Path, settings: Settings) -> None:
    """Run from a folder that is not the repository: the packaged catalogue is found, and bad settings, a missing
    model and an unreadable image are each one line on stderr with exit code 2."""
    listing = _enhance("weights", "list", cwd=tmp_path, ENHANCE_WEIGHTS_DIR=str(settings.weights_path), COLUMNS="200")
    assert listing.returncode == 0 and "realesrgan-x4plus" in listing.stdout and "present" in listing.stdout
    bad_setting = _enhance("weights", "list", cwd=tmp_path, ENHANCE_PORT="eighty")
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"not a picture")
    unknown = _enhance("image", str(garbage), "out.png", "--model", "nope", cwd=tmp_path, ENHANCE_DEVICE="cpu")
    for result, says in ((bad_setting, "port"), (unknown, "nope")):
        assert result.returncode == 2, result.stderr
        (error,) = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert says in error and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("ENHANCE_DEFAULT_MODEL", "deblurgan-v1", "is not an upscaler"),
        ("ENHANCE_DEFAULT_DEBLUR_MODEL", "realesrgan-x4plus", "neither a deblur model"),
        ("ENHANCE_PRELOAD", '["no-such-model"]', "does not list"),
        ("ENHANCE_DEFAULT_VIDEO_MODEL", "nafnet-gopro-width64", "is not an upscaler"),
    ],
)
def test_a_misconfigured_server_stops_at_start_up(tmp_path: Path, setting: str, value: str, says: str) -> None:
    """A setting naming the wrong model is one line at start-up, not a 4xx on every request."""
    result = _enhance("serve", cwd=tmp_path, **{setting: value, "ENHANCE_DATA_DIR": str(tmp_path / "d")})
    assert result.returncode == 2
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert setting in error and says in error


def test_enhance_album_picks_the_good_photos_without_a_server(env: None, tmp_path: Path) -> None:
    photos = tmp_path / "holiday"
    photos.mkdir()
    (photos / "1-coffee.png").write_bytes(png_bytes(skimage_rgb("coffee", 96)))
    (photos / "2-coffee-dark.png").write_bytes(png_bytes((skimage_rgb("coffee", 96) * 0.15).astype("uint8")))
    (photos / "3-rocket.jpg").write_bytes(jpeg_bytes(skimage_rgb("rocket", 96)))
    (photos / "notes.txt").write_text("not a photo: skipped")
    out = tmp_path / "out"
    result = runner.invoke(app, ["album", str(photos), str(out), "--model", FAST_MODEL])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "1-coffee.png", "3-rocket.png", "contact_sheet.jpg", "photos.zip", "report.json"
    ]  # fmt: skip
    assert Image.open(out / "3-rocket.png").size == (384, 384)
    assert "2 of 3 photos chosen" in result.output


def test_an_image_output_path_is_that_file_or_refused(env: None, tmp_path: Path) -> None:
    """A file name as the output writes that file; one the CLI cannot write (or several inputs into one file) is
    refused before any work, and nothing named like it is created (was: a folder `out.gif/`, exit 0)."""
    source = tmp_path / "in.png"
    source.write_bytes(png_bytes(skimage_rgb("chelsea", 16)))
    fp32 = ["--model", FAST_MODEL, "--dtype", "fp32"]
    result = runner.invoke(app, ["image", str(source), str(tmp_path / "OUT.JPEG"), *fp32])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "OUT.JPEG").is_file() and Image.open(tmp_path / "OUT.JPEG").format == "JPEG"
    refused = runner.invoke(app, ["image", str(source), str(tmp_path / "out.gif"), *fp32])
    assert refused.exit_code == 2
    assert "cannot write .gif" in refused.output and "png, jpg, jpeg or webp" in refused.output
    assert not (tmp_path / "out.gif").exists()
    several = runner.invoke(app, ["image", str(source), str(source), str(tmp_path / "both.png"), *fp32])
    assert several.exit_code == 2 and "several inputs need an output folder" in several.output
    assert not (tmp_path / "both.png").exists()


def test_progress_bars_never_show_an_unknown_total(env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bar whose total is not known yet shows its count alone (was: "0/None tiles")."""
    import io

    from rich.console import Console

    screen = io.StringIO()
    monkeypatch.setattr("app.cli.console", Console(file=screen, force_terminal=True, width=200))
    source = tmp_path / "in.png"
    source.write_bytes(png_bytes(skimage_rgb("chelsea", 16)))
    result = runner.invoke(app, ["image", str(source), str(tmp_path / "out"), "--model", FAST_MODEL, "--dtype", "fp32"])
    assert result.exit_code == 0, result.output
    drawn = screen.getvalue()
    assert "0 tiles" in drawn and "1/1 tiles" in drawn  # before the total is known, then with it
    assert "None" not in drawn


def test_the_cuda_fallback_warning_is_printed_once(
    env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A CUDA build of PyTorch on a host without a GPU warns once per run (was twice: the CLI's device check and
    the registry each resolved `auto`)."""
    monkeypatch.setenv("ENHANCE_DEVICE", "auto")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr("app.models.registry.cuda_fallback_reason", lambda: "PyTorch is built for CUDA but no GPU")
    source = tmp_path / "in.png"
    source.write_bytes(png_bytes(skimage_rgb("chelsea", 16)))
    result = runner.invoke(
        app, ["image", str(source), str(tmp_path / "o.png"), "--model", FAST_MODEL, "--dtype", "fp32"]
    )
    assert result.exit_code == 0, result.output
    warnings = [r.getMessage() for r in caplog.records if "running on the CPU" in r.getMessage()]
    assert warnings == ["ENHANCE_DEVICE=auto: PyTorch is built for CUDA but no GPU; running on the CPU"]
