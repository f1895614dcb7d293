"""Peak memory a live server grows by for the two cases of #24 item 4: `POST /v1/images/score` with a flat
7000x7000 PNG (one request, then two at once) and sixteen parallel 32-px thumbnails of one 8000x6000 job frame.
Each case runs in a fresh server (peak RSS, VmHWM, only grows); the growth is VmHWM less the RSS after a small
warm-up request. Prints a table and writes JSON.

    .venv/bin/python benchmarks/bench_route_memory.py
    .venv/bin/python benchmarks/bench_route_memory.py --budget 2147483648   # ENHANCE_MEMORY_BUDGET_BYTES

The thumbnail case plants a finished job in the server's data folder: `old` without a stored thumbnail (a job
recorded before thumbnails were made at record time), `stored` with one, as the pipeline now writes it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from skimage import data

from app.core.config import Settings
from app.jobs.models import FrameRecord, JobStatus
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore, utcnow

RESULTS = Path(__file__).parent / "results"
MiB = 1 << 20


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(data_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """`enhance serve` on a free loopback port, on the CPU, with the installed weights."""
    port = _free_port()
    env = {
        **os.environ,
        "ENHANCE_DATA_DIR": str(data_dir),
        "ENHANCE_WEIGHTS_DIR": str(Settings().weights_path),
        "ENHANCE_DEVICE": "cpu",
        "ENHANCE_PORT": str(port),
        **env,
    }
    cmd = [sys.executable, "-c", "from app.cli import main; main()", "serve"]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def flat_png(width: int, height: int) -> bytes:
    """A flat PNG: a large header in a few hundred KB (the astronaut's mean colour)."""
    colour = tuple(int(c) for c in data.astronaut().reshape(-1, 3).mean(axis=0))  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def plant_job(settings: Settings, frame: bytes, stored_thumbnail: bool) -> str:
    """A succeeded image job with one recorded frame, as the pipeline leaves it."""
    store, storage = JobStore(settings.database), JobStorage(settings.jobs_dir)
    job, _ = store.create("image", "big.png", {}, job_id=str(uuid.uuid4()))
    for path in (storage.source_frame(job.id, 0), storage.enhanced_frame(job.id, 0)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(frame)
    if stored_thumbnail:
        from app.jobs.thumbnails import write_thumbnails  # only in versions that store them

        pixels = np.asarray(Image.open(io.BytesIO(frame)).convert("RGB"))
        write_thumbnails(storage, job.id, 0, pixels, pixels)
    store.claim(job.id, "bench", 60)
    store.record_frame(FrameRecord(job.id, 0, None, None, 1.0, utcnow(), "bench", {"size": [8000, 6000]}))
    store.finish(job.id, "bench", JobStatus.SUCCEEDED)
    store.engine.dispose()
    return job.id


def measure(
    env: dict[str, str], setup: Callable[[Settings], str], load: Callable[[str, str], list[int]]
) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), _env_file=None)  # type: ignore[call-arg]
        target = setup(settings)
        process, url = serve(Path(folder), env)
        try:
            httpx.post(f"{url}/v1/images/score", files={"files": ("w.png", flat_png(64, 64))}, timeout=60)
            idle = _kib(process.pid, "VmRSS")
            statuses = load(url, target)
            growth = (_kib(process.pid, "VmHWM") - idle) * 1024
        finally:
            process.kill()
            process.wait(10)
    return {"statuses": statuses, "growth_mib": round(growth / MiB)}


def score_load(count: int) -> Callable[[str, str], list[int]]:
    photo = flat_png(7000, 7000)

    def run(url: str, _: str) -> list[int]:
        def one(_: int) -> int:
            files = {"files": ("flat.png", photo)}
            return httpx.post(f"{url}/v1/images/score", files=files, timeout=600).status_code

        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(one, range(count)))

    return run


def thumbnail_load(url: str, job_id: str) -> list[int]:
    def one(_: int) -> int:
        return httpx.get(f"{url}/v1/jobs/{job_id}/frames/0/thumbnail", params={"size": 32}, timeout=600).status_code

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(one, range(16)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=0, help="ENHANCE_MEMORY_BUDGET_BYTES (0: the default share)")
    parser.add_argument("--cases", default="score1,score2,thumbs-old,thumbs-stored")
    parser.add_argument("--label", default="", help="a name for this run in the JSON (e.g. the commit)")
    args = parser.parse_args()
    env = {"ENHANCE_MEMORY_BUDGET_BYTES": str(args.budget)} if args.budget else {}
    frame = flat_png(8000, 6000)
    cases: dict[str, Callable[[], dict[str, object]]] = {
        "score1": lambda: measure(env, lambda _: "", score_load(1)),
        "score2": lambda: measure(env, lambda _: "", score_load(2)),
        "thumbs-old": lambda: measure(env, lambda s: plant_job(s, frame, False), thumbnail_load),
        "thumbs-stored": lambda: measure(env, lambda s: plant_job(s, frame, True), thumbnail_load),
    }
    results = {}
    print(f"{'case':<16} {'growth MiB':>10}  statuses")
    for name in args.cases.split(","):
        results[name] = cases[name]()
        print(f"{name:<16} {results[name]['growth_mib']:>10}  {results[name]['statuses']}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"route_memory{'_' + args.label if args.label else ''}.json"
    out.write_text(json.dumps({"cpu": platform.processor(), "budget": args.budget, "cases": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
