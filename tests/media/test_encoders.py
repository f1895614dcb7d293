"""Encoder control per job (#26): every codec this build can encode makes a file of that codec that plays back,
10-bit stays 10-bit, and combinations a container or encoder cannot carry are refused at submit, naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import av
import pytest
from fastapi.testclient import TestClient

from app.media.encoders import SPECS, EncoderChoice, available_codecs, encoder_pix_fmts
from app.media.video import VideoWriter, iter_frames
from tests.support.jobs import JOBS, artifact, submit, wait
from tests.support.media import carphone_path, panning_clip

PAIRS = [(codec, container) for codec in available_codecs() for container in SPECS[codec].containers]


def _encode(target: Path, source: Path, choice: EncoderChoice, count: int = 8) -> Path:
    writer = VideoWriter(target, source, 176, 144, encoder=choice)
    for frame in iter_frames(source, 1000):
        if frame.index >= count:
            break
        writer.write(frame.rgb, frame.pts)
    writer.close()
    return target


def _read_back(path: Path) -> tuple[str, str, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return stream.codec_context.codec.canonical_name, stream.codec_context.pix_fmt or "", frames


def test_every_codec_this_build_has_is_offered() -> None:
    cpu = {"h264", "hevc", "av1", "vp9", "prores", "ffv1"}
    assert cpu | {"h264_nvenc", "hevc_nvenc", "av1_nvenc"} >= set(available_codecs()) >= {"h264"}


@pytest.mark.parametrize(("codec", "container"), PAIRS)
def test_each_codec_makes_a_playable_file_of_that_codec(tmp_path: Path, codec: str, container: str) -> None:
    choice = EncoderChoice.resolve(codec, container, None, None, None)
    out = _encode(tmp_path / f"out{choice.suffix}", carphone_path(), choice)
    assert _read_back(out) == (SPECS[codec].fallback or codec, choice.pix_fmt, 8)  # h264_nvenc makes h264


@pytest.mark.parametrize("codec", [c for c in available_codecs() if "yuv420p10le" in encoder_pix_fmts(c)])
def test_ten_bit_stays_ten_bit(tmp_path: Path, codec: str) -> None:
    choice = EncoderChoice.resolve(codec, None, "yuv420p10le", None, None)
    assert _read_back(_encode(tmp_path / f"ten{choice.suffix}", carphone_path(), choice))[1] == "yuv420p10le"


def test_a_job_asks_for_hevc_10_bit_in_matroska(client: TestClient, tmp_path: Path) -> None:
    if "hevc" not in available_codecs():
        pytest.skip("this FFmpeg build has no HEVC encoder")
    clip = panning_clip(tmp_path / "pan.mp4", frames=6, fps=12)
    form: dict[str, Any] = {
        "codec": "hevc",
        "container": "mkv",
        "pix_fmt": "yuv420p10le",
        "crf": 30,
        "preset": "ultrafast",
    }
    job = wait(client, submit(client, clip.read_bytes(), "pan.mp4", outputs="video", **form).json()["id"])
    assert job["status"] == "succeeded", job["error"]
    assert "enhanced.mkv" in {a["name"] for a in job["artifacts"]}
    out = tmp_path / "enhanced.mkv"
    out.write_bytes(artifact(client, job, "enhanced.mkv"))
    assert _read_back(out) == ("hevc", "yuv420p10le", 6)
    with av.open(str(out)) as container:
        assert container.streams.audio  # the AAC track is carried into Matroska too
    encoding = json.loads(artifact(client, job, "report.json"))["video_encoding"]
    assert encoding == {**form, "encoder": "libx265", "hardware": False, "fallback": None}


def _job_ids(client: TestClient) -> list[str]:
    return [job["id"] for job in client.get(JOBS, params={"limit": 200}).json()["data"]]


BAD = [
    ({"codec": "mpeg2"}, "codec"),
    ({"codec": "h264", "container": "webm"}, "container"),
    ({"codec": "prores", "container": "mp4"}, "container"),
    ({"container": "avi"}, "container"),
    ({"codec": "h264", "pix_fmt": "rgb24"}, "pix_fmt"),
    ({"codec": "prores", "pix_fmt": "yuv420p"}, "pix_fmt"),
    ({"codec": "h264", "crf": 52}, "crf"),
    ({"codec": "ffv1", "crf": 10}, "crf"),
    ({"codec": "h264", "preset": "placebo2"}, "preset"),
    ({"codec": "ffv1", "preset": "fast"}, "preset"),
]


@pytest.mark.parametrize(("form", "field"), BAD)
def test_bad_combinations_are_refused_at_submit_naming_the_field(
    client: TestClient, form: dict[str, Any], field: str
) -> None:
    before = _job_ids(client)
    response = submit(client, carphone_path().read_bytes(), "c.mp4", outputs="video", frames="0", **form)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"].startswith(f"{field}:"), response.json()
    assert _job_ids(client) == before  # nothing queued
