"""Hardware encode where present (#26): the NVENC codecs are offered only where the encoder opens on this host (not
on this CPU-only one: a 422 naming `codec`), and a hardware encoder that cannot be opened gives way to its CPU codec,
with the report naming the encoder that ran."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.media import encoders, video
from app.media.encoders import HARDWARE, EncoderChoice, available_codecs, hardware_encoder_opens
from app.media.video import VideoWriter, iter_frames
from tests.support.jobs import JOBS, artifact, submit, wait
from tests.support.media import carphone_path, panning_clip

NVENC = ("h264_nvenc", "hevc_nvenc", "av1_nvenc")
# On a host with an NVIDIA GPU the encoder may really open: these tests are about a host without one.
cpu_only = pytest.mark.skipif(torch.cuda.is_available(), reason="this host has an NVIDIA GPU: NVENC may open")


@pytest.fixture
def nvenc_claimed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe says yes; opening the encoder still fails (no NVIDIA driver here), as on a host whose NVENC
    sessions are used up between the probe and the job."""
    monkeypatch.setattr(encoders, "hardware_encoder_opens", lambda encoder: True)


def _read_back(path: Path) -> tuple[str, str, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.name, stream.codec_context.pix_fmt or "", sum(1 for _ in container.decode(stream))


def test_this_build_lists_the_nvenc_encoders() -> None:
    assert set(NVENC) <= set(av.codecs_available)
    assert {spec.encoder for name, spec in encoders.SPECS.items() if spec.hardware} == set(NVENC)
    assert HARDWARE == {"h264": "h264_nvenc", "hevc": "hevc_nvenc", "av1": "av1_nvenc"}


@cpu_only
@pytest.mark.parametrize("encoder", NVENC)
def test_the_probe_finds_no_nvenc_on_this_host(encoder: str) -> None:
    assert hardware_encoder_opens(encoder) is False
    assert encoder not in available_codecs()
    assert EncoderChoice.resolve(HARDWARE_OF[encoder], None, None, None, None).on_hardware() is None


HARDWARE_OF = {hw: cpu for cpu, hw in HARDWARE.items()}


def _job_ids(client: TestClient) -> list[str]:
    return [job["id"] for job in client.get(JOBS, params={"limit": 200}).json()["data"]]


@cpu_only
@pytest.mark.parametrize("codec", NVENC)
def test_nvenc_codecs_are_refused_here_naming_codec(client: TestClient, codec: str) -> None:
    before = _job_ids(client)
    response = submit(client, carphone_path().read_bytes(), "c.mp4", outputs="video", frames="0", codec=codec)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert detail.startswith("codec:"), detail
    assert "this host has no NVENC" in detail
    assert _job_ids(client) == before  # nothing queued


@pytest.mark.usefixtures("nvenc_claimed")
def test_hardware_choice_maps_quality_and_keeps_the_container() -> None:
    choice = EncoderChoice.resolve("hevc", "mkv", None, 30, "slow").on_hardware()
    assert choice == EncoderChoice("hevc_nvenc", "mkv", "yuv420p", 30, "p4")
    assert choice.options() == {"cq": "30", "b": "0", "rc": "vbr", "preset": "p4"}
    assert choice.cpu_fallback() == EncoderChoice("hevc", "mkv", "yuv420p", 30, "veryfast")
    # NVENC here takes 8-bit 4:2:0/4:4:4 only: a 10-bit job stays on the CPU.
    assert EncoderChoice.resolve("hevc", None, "yuv420p10le", None, None).on_hardware() is None


@cpu_only
def test_a_writer_whose_nvenc_does_not_open_encodes_on_the_cpu(tmp_path: Path) -> None:
    source = carphone_path()
    writer = VideoWriter(
        tmp_path / "out.mkv", source, 176, 144, encoder=EncoderChoice.resolve("hevc_nvenc", "mkv", None, 30, None)
    )
    for frame in iter_frames(source, 1000):
        if frame.index >= 6:
            break
        writer.write(frame.rgb, frame.pts)
    writer.close()
    assert _read_back(tmp_path / "out.mkv") == ("hevc", "yuv420p", 6)
    encoding = writer.encoding
    assert (encoding["codec"], encoding["encoder"], encoding["crf"], encoding["hardware"]) == (
        "hevc",
        "libx265",
        30,
        False,
    )
    assert encoding["fallback"].startswith("hevc_nvenc could not be opened")


def _video_job(client: TestClient, tmp_path: Path, **form: Any) -> tuple[dict[str, Any], Path]:
    clip = panning_clip(tmp_path / "pan.mp4", frames=6, fps=12)
    job = wait(client, submit(client, clip.read_bytes(), "pan.mp4", outputs="video", **form).json()["id"])
    assert job["status"] == "succeeded", job["error"]
    out = tmp_path / "enhanced.mp4"
    out.write_bytes(artifact(client, job, "enhanced.mp4"))
    return json.loads(artifact(client, job, "report.json"))["video_encoding"], out


@cpu_only
@pytest.mark.usefixtures("nvenc_claimed")
def test_a_job_asking_for_nvenc_that_fails_to_open_gets_the_cpu_encoder(client: TestClient, tmp_path: Path) -> None:
    encoding, out = _video_job(client, tmp_path, codec="h264_nvenc", crf=20)
    assert _read_back(out) == ("h264", "yuv420p", 6)
    assert (encoding["codec"], encoding["encoder"], encoding["crf"]) == ("h264", "libx264", 20)
    assert encoding["fallback"].startswith("h264_nvenc could not be opened")


@cpu_only
@pytest.mark.usefixtures("nvenc_claimed")
def test_hw_encode_auto_tries_nvenc_and_the_report_names_the_cpu_encoder_that_ran(
    client: TestClient, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "hw_encode", "auto")
    monkeypatch.setattr(settings, "hw_decode", "auto")  # no CUDA here either: the frames decode on the CPU
    encoding, out = _video_job(client, tmp_path, crf=22)
    assert _read_back(out) == ("h264", "yuv420p", 6)
    assert (encoding["encoder"], encoding["crf"], encoding["hardware"]) == ("libx264", 22, False)
    assert encoding["fallback"].startswith("h264_nvenc could not be opened")


def test_hw_encode_off_uses_the_cpu_encoder_without_trying_nvenc(client: TestClient, tmp_path: Path) -> None:
    encoding, _ = _video_job(client, tmp_path, crf=22)
    assert (encoding["encoder"], encoding["fallback"]) == ("libx264", None)


def test_hw_decode_gives_the_frames_the_cpu_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked for NVDEC: where CUDA cannot be opened (here) the file decodes on the CPU, frame for frame; where it
    can, NVDEC's frames (bit-exact YUV by the codec's spec) come back as nearly the same RGB."""
    monkeypatch.setattr(video, "HW_DECODE_FAILURE", {})  # not yet tried in this process
    software = list(iter_frames(carphone_path(), 1000))
    hardware = list(iter_frames(carphone_path(), 1000, hw_decode=True))
    assert [(f.index, f.pts) for f in hardware] == [(f.index, f.pts) for f in software]
    if torch.cuda.is_available():
        worst = max(float(np.abs(h.rgb.astype(int) - s.rgb).mean()) for h, s in zip(hardware, software, strict=True))
        assert worst < 1.0
    else:
        assert all(np.array_equal(h.rgb, s.rgb) for h, s in zip(hardware, software, strict=True))
        assert "cuda" in video.HW_DECODE_FAILURE  # it was tried, and given up for this process
    # A segment (decoding from a keyframe on) falls back the same way.
    assert [f.pts for f in iter_frames(carphone_path(), 1000, first=30, hw_decode=True)] == [
        f.pts for f in software[30:]
    ]


@cpu_only
def test_a_job_accepted_by_a_host_with_nvenc_runs_on_a_worker_without_it(
    settings: Settings, registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A split deployment: the API host (probe: yes) accepted an h264_nvenc job; the worker that runs it (this
    host: no NVENC) reads the stored options, encodes on the CPU and names the fallback, instead of failing."""
    from app.domain import Output
    from app.inference.device import Device
    from app.jobs.options import JobOptions
    from app.jobs.pipeline import JobContext, run_job
    from app.jobs.storage import JobStorage
    from app.jobs.store import JobStore
    from app.jobs.submit import submit_job
    from tests.support.models import INLINE

    device = Device(registry, INLINE)
    store, storage = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}"), JobStorage(tmp_path / "jobs")
    clip = panning_clip(tmp_path / "pan.mp4", frames=4, fps=12)
    with monkeypatch.context() as api_host:
        api_host.setattr(encoders, "hardware_encoder_opens", lambda encoder: True)
        options = JobOptions(model="none", light="on", outputs=[Output.VIDEO], codec="h264_nvenc")  # type: ignore[arg-type]
        job, _ = submit_job(settings, store, storage, device, clip, "pan.mp4", options)
    with pytest.raises(ValueError, match="no NVENC"):
        JobOptions.model_validate(job.options)  # a new request on this host is refused...
    assert JobOptions.stored(job.options).codec == "h264_nvenc"  # ...the stored job is not
    store.claim(job.id, "worker-without-nvenc", settings.job_lease_seconds)
    status = run_job(JobContext(settings, store, storage, device, "worker-without-nvenc"), job.id)
    assert status is not None and status.value == "succeeded", store.get(job.id)
    report = json.loads((storage.artifacts_dir(job.id) / "report.json").read_text())
    assert report["video_encoding"]["encoder"] == "libx264"
    assert report["video_encoding"]["fallback"].startswith("h264_nvenc could not be opened")
