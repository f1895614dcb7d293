"""Live job outputs: the GIF and the video built frame by frame, and a clean discard when a job stops."""

from __future__ import annotations

import io
import json
import shutil
import types
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import cv2
import pytest
from PIL import Image, UnidentifiedImageError

from app.core.config import Settings
from app.inference.device import Device
from app.jobs.models import FrameRecord, JobRecord, JobStatus
from app.jobs.options import JobOptions
from app.jobs.outputs import VIDEO_PART, LiveOutputs, write_outputs
from app.jobs.storage import JobStorage
from app.media.encode import encode_png8
from app.media.video import VideoWriter, iter_frames
from tests.support.images import area_resize, frame_count
from tests.support.media import bikes_path, carphone_path


@pytest.fixture
def live(settings: Settings, tmp_path: Path) -> tuple[LiveOutputs, JobStorage, str]:
    storage = JobStorage(tmp_path / "jobs")
    job_id = str(uuid.uuid4())
    storage.job_dir(job_id).mkdir(parents=True)
    shutil.copy(carphone_path(), storage.job_dir(job_id) / "input.mp4")
    job = types.SimpleNamespace(id=job_id)
    options = JobOptions(outputs=["gif", "video"])  # type: ignore[list-item]
    return LiveOutputs(settings, storage, job, options), storage, job_id  # type: ignore[arg-type]


def _feed(outputs: LiveOutputs, count: int) -> None:
    for frame in iter_frames(carphone_path(), 1000):
        if frame.index >= count:
            break
        outputs.add(frame.rgb, area_resize(frame.rgb, 352, 288), frame.pts)


def test_frames_fed_in_order_make_the_gif_and_the_video(live: tuple[LiveOutputs, JobStorage, str]) -> None:
    outputs, storage, job_id = live
    _feed(outputs, 5)
    assert outputs.count == 5
    assert outputs.complete([object()] * 5) and not outputs.complete([object()] * 6)  # type: ignore[list-item]
    part = outputs.finish_video()
    assert part == storage.artifacts_dir(job_id) / VIDEO_PART
    with av.open(str(part)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 5 and frames[0].shape == (288, 352, 3)
    assert outputs.gif is not None
    gif = Image.open(io.BytesIO(outputs.gif.finish()))
    assert frame_count(gif) == 5


def _finishing_recorded(monkeypatch: pytest.MonkeyPatch) -> list[VideoWriter]:
    """The writers whose video gets finished (`close`: the encoder flushed, the audio remuxed) from now on."""
    finished: list[VideoWriter] = []
    close = VideoWriter.close

    def recorded(self: VideoWriter, *args: Any, **kwargs: Any) -> None:
        finished.append(self)
        close(self, *args, **kwargs)

    monkeypatch.setattr(VideoWriter, "close", recorded)
    return finished


def test_discard_removes_the_partial_video_without_finishing_it(
    live: tuple[LiveOutputs, JobStorage, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs, storage, job_id = live
    _feed(outputs, 60)  # enough for x264's lookahead to emit packets, so the file exists
    part = storage.artifacts_dir(job_id) / VIDEO_PART
    assert part.exists()
    finished = _finishing_recorded(monkeypatch)
    outputs.discard()  # must not raise over the error that stopped the job
    assert not part.exists()
    assert finished == []  # thrown away, not finished first


def test_the_live_outputs_measure_flicker_on_the_way(live: tuple[LiveOutputs, JobStorage, str]) -> None:
    outputs, _, _ = live
    _feed(outputs, 6)
    flicker = outputs.flicker.result()
    assert flicker is not None and flicker["pairs"] == 2  # pairs 1 and 4 of 5: the first, then one in four
    assert flicker["measured_at"] == {"analysis_size": [352, 288], "flow_size": [176, 144],
                                      "pairs": "the first pair, then one in 4"}  # fmt: skip
    assert flicker["ratio"] == pytest.approx(1.0, abs=0.25)  # an area upscale: about as stable as its source


def test_a_scene_cut_reaches_both_the_gif_and_the_flicker_measure(live: tuple[LiveOutputs, JobStorage, str]) -> None:
    """One scene detector serves both: the flicker measure skips the pair across the cut and the GIF's region is
    chosen again for the new scene."""
    outputs, _, _ = live
    clips = [iter_frames(carphone_path(), 1000), iter_frames(bikes_path(), 1000)]
    for clip in clips:
        for _, frame in zip(range(3), clip, strict=False):
            rgb = cv2.resize(frame.rgb, (176, 144), interpolation=cv2.INTER_AREA)
            outputs.add(rgb, area_resize(rgb, 352, 288), None)
    flicker = outputs.flicker.result()
    assert flicker is not None and flicker["cuts_skipped"] == 1 and flicker["pairs"] == 2  # 1 and 4 (after the cut)
    assert outputs.gif is not None and [r for _, _, r in outputs.gif.regions][-1:] == ["new scene"]


def test_the_live_outputs_count_the_cpu_each_output_takes(live: tuple[LiveOutputs, JobStorage, str]) -> None:
    """What the GIF, the flicker measure and the video cost beside the model (report.json `live_cpu_seconds`)."""
    outputs, _, _ = live
    assert outputs.cpu_seconds == {"gif": 0.0, "flicker": 0.0, "video": 0.0}
    _feed(outputs, 4)
    assert all(seconds > 0 for seconds in outputs.cpu_seconds.values()), outputs.cpu_seconds


def _recorded(storage: JobStorage, count: int, options: JobOptions) -> tuple[JobRecord, list[FrameRecord]]:
    """A video job whose first `count` carphone frames were recorded (x2 upscales), as an earlier attempt leaves
    them: the outputs are then built from the PNGs, not live."""
    job_id, now = str(uuid.uuid4()), datetime.now(UTC)
    storage.job_dir(job_id).mkdir(parents=True)
    shutil.copy(carphone_path(), storage.job_dir(job_id) / "input.video")
    frames = []
    for frame in iter_frames(carphone_path(), 1000):
        if frame.index >= count:
            break
        for path, rgb in (
            (storage.source_frame(job_id, frame.index), frame.rgb),
            (storage.enhanced_frame(job_id, frame.index), cv2.resize(frame.rgb, (352, 288))),
        ):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(encode_png8(rgb))
        frames.append(
            FrameRecord(job_id, frame.index, frame.pts, str(frame.time_base), 0.1, now, "test", {"time": frame.seconds})
        )
    job = JobRecord(job_id, JobStatus.RUNNING, "video", "carphone.mp4", options.model_dump(), now, now)
    return job, frames


def test_a_resumed_job_reports_flicker_from_its_recorded_frames(settings: Settings, tmp_path: Path) -> None:
    storage, options = JobStorage(tmp_path / "jobs"), JobOptions(outputs=["frames"])  # type: ignore[list-item]
    job, frames = _recorded(storage, 5, options)
    write_outputs(settings, storage, job, frames, options, None, None)
    report = json.loads((storage.artifacts_dir(job.id) / "report.json").read_text())
    assert report["flicker"]["pairs"] == 4 and report["flicker"]["ratio"] == pytest.approx(1.0, abs=0.15)
    assert report["flicker"]["measured_at"]["pairs"] == "up to 60 pairs spread over the job, from its recorded frames"
    assert report["interpolation"] is None


def test_a_resumed_interpolated_job_builds_its_video_from_the_recorded_frames(
    settings: Settings, device: Device, tmp_path: Path
) -> None:
    storage = JobStorage(tmp_path / "jobs")
    options = JobOptions(outputs=["video"], interpolate=2)  # type: ignore[list-item]
    job, frames = _recorded(storage, 4, options)
    write_outputs(settings, storage, job, frames, options, None, None, device=device)
    report = json.loads((storage.artifacts_dir(job.id) / "report.json").read_text())
    assert report["interpolation"] == {
        "factor": 2, "source_frames": 4, "made": 3, "cuts": [], "duplicates": 0, "no_room": 0
    }  # fmt: skip
    with av.open(str(storage.artifacts_dir(job.id) / "enhanced.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 4 + 3 + 1  # and the last frame held a whole frame
    assert report["flicker"]["pairs"] == 1  # the first of 3 (then one in four)


def test_a_video_rebuild_that_fails_leaves_no_partial_video_behind(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frame that cannot be read at publish (or a cancel between interpolation calls) stops the rebuild: the
    error reaches the job, and the half-written video is dropped at once, not finished first."""
    storage, options = JobStorage(tmp_path / "jobs"), JobOptions(outputs=["video"])  # type: ignore[list-item]
    job, frames = _recorded(storage, 8, options)
    storage.enhanced_frame(job.id, 5).write_bytes(b"not a png")
    finished = _finishing_recorded(monkeypatch)
    with pytest.raises(UnidentifiedImageError):
        write_outputs(settings, storage, job, frames, options, None, None)
    assert list(storage.artifacts_dir(job.id).iterdir()) == []
    assert finished == []
