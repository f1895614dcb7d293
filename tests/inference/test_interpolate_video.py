"""A clip at twice its frame rate (#27): RIFE makes the frame between each two, on real frames, and nothing across a
scene cut."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from app.cli import app
from app.core.config import Settings
from app.core.errors import InvalidOption
from app.inference.device import Device
from app.inference.interpolate import blend, interpolate
from app.inference.interpolate_video import interpolate_video
from tests.support.images import CATALOG, FAST_MODEL, psnr
from tests.support.interpolation import bikes_frames, carphone_frames
from tests.support.media import clip_from_frames, duration_seconds

SIZE = (96, 80)  # small: each pair is one quick model call on the CPU


def _timestamps(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        return [int(f.pts or 0) for f in container.decode(video=0)]


def test_twice_the_frame_rate_and_nothing_made_across_the_cut(device: Device, tmp_path: Path) -> None:
    phone = [cv2.resize(f, SIZE, interpolation=cv2.INTER_AREA) for f in carphone_frames(list(range(0, 10, 2))).values()]
    source = clip_from_frames(
        tmp_path / "cut.mp4", [*phone, *bikes_frames(4, SIZE)], fps=10
    )  # carphone, then a cut to bikes
    target = tmp_path / "x2.mp4"

    report = interpolate_video(device.model("rife"), source, target, factor=2)

    assert (report.source_frames, report.cuts, report.made) == (9, [5], 7)  # 8 pairs, one across the cut
    before, written = _timestamps(source), _timestamps(target)
    assert len(written) == 9 + 7 + 1  # and the last frame held for a whole source frame: the clip keeps its length
    assert duration_seconds(target) == pytest.approx(duration_seconds(source), abs=0.01)
    assert set(before) <= set(written)  # every source frame kept at its own time: the audio stays in sync
    assert written == sorted(set(written))
    last_phone, first_bikes = before[4], before[5]
    assert [t for t in written if last_phone < t < first_bikes] == []  # the last carphone frame is held
    assert len([t for t in written if before[0] < t < before[1]]) == 1


def test_the_made_frame_beats_blending_on_a_real_pan(device: Device) -> None:
    """Bikes' fast pan: the dropped frame comes back far closer than the average of its neighbours."""
    before, truth, after = (f.astype(np.float32) / 255 for f in bikes_frames(22, (160, 68))[19:22])
    [made] = interpolate(device.model("rife"), before, after)
    assert psnr(made, truth) > psnr(blend(before, after), truth) + 6  # measured: 42.6 against 29.4 dB


def test_an_upscaler_is_not_an_interpolation_model(device: Device) -> None:
    frame = carphone_frames([0])[0].astype(np.float32) / 255
    with pytest.raises(InvalidOption, match="not a frame interpolation model"):
        interpolate(device.model(FAST_MODEL), frame, frame)


def test_the_cli_doubles_a_clip_s_frame_rate(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENHANCE_WEIGHTS_DIR", str(settings.weights_path))
    monkeypatch.setenv("ENHANCE_CATALOG_PATH", str(CATALOG))
    monkeypatch.setenv("ENHANCE_DEVICE", "cpu")
    source = clip_from_frames(tmp_path / "pan.mp4", bikes_frames(3, SIZE), fps=10)
    target = tmp_path / "pan-x2.mp4"

    result = CliRunner().invoke(app, ["interpolate", str(source), str(target)])

    assert result.exit_code == 0, result.output
    assert len(_timestamps(target)) == 6
