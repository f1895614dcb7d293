"""A long video job in segments that any worker claims, leases and redoes alone (#26).

The worker holding the job plans the segments once (`split`): the selected frames in runs of about
`ENHANCE_SEGMENT_FRAMES`, each boundary moved to a scene cut near it, else to a keyframe near it (a segment that
starts on a keyframe decodes nothing it does not keep). Every worker, the job's holder included, then claims one
segment at a time (`JobStore.claim_segment`), holds it under its own lease (`RenewedLease`) and records its frames
under that lease, so a worker killed mid-segment costs only the frames of that segment it had not recorded. The
job's holder waits for the segments others hold, takes over any whose lease expired, and publishes the outputs from
the recorded frames once every segment is done; meanwhile it feeds the GIF the frames recorded so far, in frame
order (`RecordedFeed`), so little of that is left when the last segment ends.

The video is encoded where the frames are made: each segment's worker encodes its own part (`SegmentPart`: video
only, the job's encoder, the source's timestamps, starting on a keyframe, its last frame held until the next
segment's first) as it restores, and the holder joins the parts packet for packet with the source's other streams
(`join_segments`), so the encoding runs on every worker at once. A part counts only when one worker encoded the
whole segment in one go; the holder encodes any other segment's part again from its recorded frames. The flicker
is measured the same way: each part's worker measures its segment's pairs from the frames in hand, the holder only
the pair across each boundary (`merge_flicker`). Fed in frame order by the holder, the second segment's frames
waited for the first one's last, then were read back from their PNGs and measured one after the other: 4 s of a
34 s job after the last frame (carphone, two workers).
"""

from __future__ import annotations

import bisect
import itertools
import json
import logging
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.core.config import Settings
from app.domain import Output
from app.jobs.models import FrameRecord, SegmentRecord
from app.jobs.options import JobOptions
from app.jobs.outputs import LiveOutputs, measure_run, open_video
from app.jobs.storage import JobStorage
from app.media.scenes import SceneDetector
from app.media.video import PartsNotJoinable, VideoTiming, VideoWriter, join_parts, source_timestamps
from app.quality.flicker import FlickerMeter, PairError

log = logging.getLogger(__name__)

SNAP = 0.25  # a boundary moves to a cut or keyframe at most this fraction of a segment away


def split(frames: Sequence[int], size: int, cuts: Sequence[int] = (), keyframes: Sequence[int] = ()) -> list[list[int]]:
    """`frames` (sorted decode-order indices) in about equal runs of at most ~`size`, as few as that allows. Each
    boundary goes to the nearest scene cut (`cuts`: the first frame of a new scene) within `SNAP` of a run, else
    to the nearest keyframe, else stays where equal runs put it."""
    frames = list(frames)
    if size <= 0 or len(frames) <= size:
        return [frames]
    count = math.ceil(len(frames) / size)
    step = len(frames) / count
    reach = max(1, int(step * SNAP))
    boundaries = [0]
    for k in range(1, count):
        ideal = round(k * step)
        low, high = max(boundaries[-1] + 1, ideal - reach), min(len(frames) - 1, ideal + reach)
        boundaries.append(_snap(frames, ideal, low, high, cuts, keyframes))
    boundaries.append(len(frames))
    return [frames[a:b] for a, b in itertools.pairwise(boundaries) if b > a]


def _snap(frames: list[int], ideal: int, low: int, high: int, cuts: Sequence[int], keys: Sequence[int]) -> int:
    """The position in `frames` to start the next run: one whose frame starts a scene (a cut falls between it and
    the frame before), else one that is a keyframe, nearest `ideal` within [low, high]."""
    if low > high:
        return max(low, min(ideal, len(frames) - 1))

    def starts_scene(p: int) -> bool:
        at = bisect.bisect_right(cuts, frames[p - 1])  # the first cut after the previous kept frame
        return at < len(cuts) and cuts[at] <= frames[p]

    key_set = set(keys)
    order = sorted(range(low, high + 1), key=lambda p: (abs(p - ideal), p))
    for test in (starts_scene, lambda p: frames[p] in key_set):
        for position in order:
            if test(position):
                return position
    return min(max(ideal, low), high)


class RenewedLease:
    """Renews a lease (a job's, or a segment's) from its own thread every third of the lease while a worker holds
    it; `lost` is set when the store says another worker holds it now."""

    def __init__(self, renew: Callable[[], bool], seconds: float, name: str) -> None:
        self._renew_once, self._seconds, self._name = renew, seconds, name
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="lease", daemon=True)

    def __enter__(self) -> RenewedLease:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _renew(self) -> None:
        while not self._stop.wait(self._seconds / 3):
            try:
                held = self._renew_once()
            except Exception:  # the database is briefly unreachable: try again at the next beat
                log.warning("lease renewal on %s failed; retrying", self._name, exc_info=True)
                continue
            if not held:
                log.warning("lost the lease on %s; stopping it", self._name)
                self.lost.set()
                return


FEED_POLL_SECONDS = 0.5


class RecordedFeed:
    """Feeds `live` (the GIF, the flicker and the video) the recorded frames in frame order, read back from their
    PNGs, on its own thread while the segments are restored by whichever workers: each frame as soon as every frame
    before it is recorded; a frame `live` would not look at (the GIF full or not asked for, the video and flicker
    made by the parts) is only counted, not read. `finish` feeds the rest; False when feeding failed (the outputs
    are then rebuilt at the end)."""

    def __init__(
        self,
        live: LiveOutputs,
        order: list[int],
        recorded: Callable[[int], list[FrameRecord]],
        paths: Callable[[int], tuple[Path, Path]],
    ) -> None:
        self.live, self._order, self._recorded, self._paths = live, order, recorded, paths
        self._next = 0
        self._failed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="segment-outputs", daemon=True)

    def __enter__(self) -> RecordedFeed:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _feed_ready(self) -> None:
        if self._next >= len(self._order):
            return
        ready = {f.index: f for f in self._recorded(self._order[self._next])}
        while self._next < len(self._order) and (frame := ready.get(self._order[self._next])) is not None:
            if self.live.wants_pixels:
                source, enhanced = self._paths(frame.index)
                self.live.add(_rgb8(source), _rgb8(enhanced), frame.pts)
            else:
                self.live.count += 1
            self._next += 1

    def _run(self) -> None:
        while not self._stop.wait(FEED_POLL_SECONDS):
            if not self.live.wants_pixels:
                return  # nothing to read before the end (no GIF; the parts make the video and flicker): `finish` counts
            try:
                self._feed_ready()
            except Exception:
                log.warning("feeding the outputs while segments run failed; they are rebuilt at the end", exc_info=True)
                self._failed = True
                return

    def finish(self) -> bool:
        """After every segment is done: stop the thread and feed what is left."""
        self.__exit__()
        if self._failed:
            return False
        self._feed_ready()
        return True


def _rgb8(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def parts_wanted(options: JobOptions) -> bool:
    """Whether a segmented job's video is encoded in parts by the segments' workers (an interpolated one is built
    at publish from the recorded frames: the frames between two need both ends)."""
    return options.wants(Output.VIDEO) and options.interpolate is None


def _parts_dir(storage: JobStorage, job_id: str) -> Path:
    return storage.job_dir(job_id) / "work" / "segments"


def _part_path(storage: JobStorage, job_id: str, index: int) -> Path:
    return _parts_dir(storage, job_id) / f"part_{index:04d}.video"  # the muxer is named, not guessed from this


class SegmentPart:
    """One segment's part of the enhanced video, fed its frames in order (as `LiveOutputs.add`), and the flicker of
    its frames' pairs. `finish` closes it under its final name, with a note of the frames it holds, its timing, its
    encoder and its flicker pairs; `discard` drops it."""

    def __init__(
        self,
        settings: Settings,
        storage: JobStorage,
        job_id: str,
        options: JobOptions,
        segments: list[SegmentRecord],
        index: int,
        worker_id: str,
    ) -> None:
        self._settings, self._options, self._input = settings, options, storage.input_path(job_id)
        self._target = _part_path(storage, job_id, index)
        self._partial = self._target.with_name(f".{self._target.name}.{worker_id}")
        later = [s for s in segments if s.index > index]
        # The last frame is held until the next segment's first (its source timestamp), as one writer would.
        self._until = source_timestamps(self._input)[later[0].frames[0]] if later else None
        self._writer: VideoWriter | None = None
        self._count = 0  # frames fed
        # From the frames in hand, on the worker that made them: the holder never reads them back for this.
        self._flicker, self._scenes = FlickerMeter(), SceneDetector(min_frames=1)
        self._flicker.start(sum(len(s.frames) for s in segments if s.index < index))  # where one run would be

    def add(self, source: np.ndarray, enhanced: np.ndarray, pts: int | None) -> None:
        if self._writer is None:
            self._partial.parent.mkdir(parents=True, exist_ok=True)
            self._writer = open_video(self._settings, self._options, self._partial, self._input, enhanced, False)
        self._writer.write(enhanced, pts)
        self._flicker.add(source, enhanced, new_scene=self._scenes.feed(source))
        self._count += 1

    def finish(self, frames: list[int]) -> None:
        """`frames`: the segment's frame indices, which must all have been fed here, in order (else: no part)."""
        if self._writer is None or self._count != len(frames):
            self.discard()
            return
        writer, self._writer = self._writer, None
        writer.close(until=self._until)
        flicker = {"pairs": [asdict(p) for p in self._flicker.pairs], "cuts": self._flicker.cuts}
        note = {"frames": frames, "timing": vars(writer.timing), "encoding": writer.encoding, "flicker": flicker}
        self._target.with_suffix(".json").write_text(json.dumps(note))
        self._partial.replace(self._target)

    def discard(self) -> None:
        """Runs while another error may be propagating: never raises over it."""
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except Exception:
                log.warning("closing a segment's partial video failed", exc_info=True)
        self._partial.unlink(missing_ok=True)


def drop_part(storage: JobStorage, job_id: str, index: int) -> None:
    """A part finished by a worker that no longer held its segment: not to be joined."""
    _part_path(storage, job_id, index).unlink(missing_ok=True)


def join_segments(
    settings: Settings,
    storage: JobStorage,
    job_id: str,
    options: JobOptions,
    segments: list[SegmentRecord],
    frames: list[FrameRecord],
    worker_id: str,
) -> tuple[Path, VideoTiming, dict[str, Any]] | None:
    """The holder, once every segment is done: encode again the parts no one worker encoded whole, then join all
    of them with the source's other streams. None when the parts cannot be joined (the caller rebuilds the video
    from the recorded frames)."""
    recorded = {f.index: f for f in frames}
    parts, reencoded, timings, encodings = [], [], [], []
    for segment in sorted(segments, key=lambda s: s.index):
        mine = [i for i in segment.frames if i in recorded]
        path = _part_path(storage, job_id, segment.index)
        note_path = path.with_suffix(".json")
        note = json.loads(note_path.read_text()) if path.is_file() and note_path.is_file() else None
        if note is None or note["frames"] != mine:
            part = SegmentPart(settings, storage, job_id, options, segments, segment.index, worker_id)
            try:
                for i in mine:
                    source, enhanced = _rgb8(storage.source_frame(job_id, i)), _rgb8(storage.enhanced_frame(job_id, i))
                    part.add(source, enhanced, recorded[i].pts)
                part.finish(mine)
            except BaseException:
                part.discard()
                raise
            note = json.loads(note_path.read_text())
            reencoded.append(segment.index)
        parts.append(path)
        timings.append(note["timing"])
        encodings.append(note["encoding"])
    target = _parts_dir(storage, job_id) / "joined.video"
    format_name = options.encoder(settings.video_crf, settings.video_preset).format_name
    try:
        join_parts(target, storage.input_path(job_id), parts, format_name)
    except PartsNotJoinable as exc:
        log.warning("the segments' video parts of job %s cannot be joined (%s): encoding it whole", job_id, exc)
        target.unlink(missing_ok=True)
        return None
    timing = VideoTiming(
        mode="held" if any(t["mode"] == "held" for t in timings) else "as decoded",
        enhanced_frames=sum(t["enhanced_frames"] for t in timings),
        written_frames=sum(t["written_frames"] for t in timings),
        fps=timings[0]["fps"],
    )
    return target, timing, {**encodings[0], "segments": {"joined": len(parts), "reencoded": reencoded}}


def merge_flicker(
    meter: FlickerMeter, storage: JobStorage, job_id: str, segments: list[SegmentRecord], frames: list[FrameRecord]
) -> None:
    """After `join_segments` (every part has its note): add to `meter` each part's flicker pairs and cuts, and
    measure the pair across each boundary between two segments here (its two frames read back from their PNGs),
    as one meter fed every frame would have (each part's first pairs are all measured: a long video's parts
    measure more pairs than one run's sampling would)."""
    recorded = {f.index for f in frames}
    position = {index: at for at, index in enumerate(sorted(recorded))}  # in the one run's order
    last: int | None = None  # the frame before the next segment's first
    for segment in sorted(segments, key=lambda s: s.index):
        mine = [i for i in segment.frames if i in recorded]
        if not mine:
            continue
        note = json.loads(_part_path(storage, job_id, segment.index).with_suffix(".json").read_text())
        flicker = note.get("flicker")
        if flicker is None:  # a part from before the parts measured flicker: measure its frames here
            measure_run(meter, _read_back(storage, job_id, mine), position[mine[0]])
        else:
            meter.pairs.extend(PairError(**pair) for pair in flicker["pairs"])
            meter.cuts += flicker["cuts"]
        if last is not None:
            measure_run(meter, _read_back(storage, job_id, [last, mine[0]]), position[last])
        last = mine[-1]


def _read_back(storage: JobStorage, job_id: str, indices: list[int]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """These recorded frames, source and enhanced, from their PNGs."""
    for i in indices:
        yield _rgb8(storage.source_frame(job_id, i)), _rgb8(storage.enhanced_frame(job_id, i))
