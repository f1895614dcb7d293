"""Live job outputs: the GIF and the video built frame by frame, and a clean discard when a job stops."""

from __future__ import annotations

import io
import shutil
import types
import uuid
from pathlib import Path

import av
import pytest
from PIL import Image

from app.core.config import Settings
from app.jobs.options import JobOptions
from app.jobs.outputs import VIDEO_PART, LiveOutputs
from app.jobs.storage import JobStorage
from app.media.video import VideoWriter, iter_frames
from tests.support.images import area_resize, frame_count
from tests.support.media import carphone_path


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


def test_discard_removes_the_partial_video_even_when_closing_fails(
    live: tuple[LiveOutputs, JobStorage, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs, storage, job_id = live
    _feed(outputs, 60)  # enough for x264's lookahead to emit packets, so the file exists
    part = storage.artifacts_dir(job_id) / VIDEO_PART
    assert part.exists()

    def broken_close(self: VideoWriter) -> None:
        raise av.error.ValueError(22, "encoder state lost")  # type: ignore[attr-defined]

    monkeypatch.setattr(VideoWriter, "close", broken_close)
    outputs.discard()  # must not raise over the error that stopped the job
    assert not part.exists()
