"""The GPU numbers (#18), on 640x360 frames: model-only throughput (batch 8), `restore` per frame, a video job end
to end (decode, restore, H.264 encode, through the real pipeline) and 8 concurrent image requests over HTTP against
the same 8 sent one by one. Prints one table, writes JSON and a chart into the folder given.

    python3 benchmarks/gpu/bench_kit.py --out /tmp/out                 # on the GPU machine (run.sh does this)
    .venv/bin/python benchmarks/gpu/bench_kit.py --device cpu --frames 4 --http-size 96 --out /tmp/out

Models whose weights are not installed are skipped (the kit carries x4plus in a second call). Targets (H100):
x4plus job >= 40 fps; animevideov3 job >= 300 fps; HTTP throughput >= 3x serial with p99 <= 2.5x solo latency.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import av  # noqa: E402
import cv2  # noqa: E402
import httpx  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from chart import bar_chart  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.domain import Picture  # noqa: E402
from app.inference.device import Device, InlineExecutor  # noqa: E402
from app.inference.enhance import EnhanceOptions, plan, restore_picture  # noqa: E402
from app.jobs.options import JobOptions  # noqa: E402
from app.jobs.pipeline import JobContext, run_job  # noqa: E402
from app.jobs.storage import JobStorage  # noqa: E402
from app.jobs.store import JobStore  # noqa: E402
from app.jobs.submit import submit_job  # noqa: E402
from app.models.catalog import Catalog, WeightState, weight_state  # noqa: E402
from app.models.registry import ModelRegistry  # noqa: E402

MODELS = ["realesrgan-x4plus", "realesr-animevideov3-x4"]
TARGET_JOB_FPS = {"realesrgan-x4plus": 40.0, "realesr-animevideov3-x4": 300.0}
MFLOP_PER_PIXEL = {"realesrgan-x4plus": 35.9}  # per input pixel (x4plus), for the share of the bf16 peak


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _frames(count: int) -> list[np.ndarray]:
    """Real photos in a 640x360 strip that pans a few pixels per frame: every frame differs, like video."""
    photos = [data.astronaut(), data.coffee(), data.chelsea()]
    strip = np.concatenate([cv2.resize(p, (512, 360), interpolation=cv2.INTER_AREA) for p in photos], axis=1)
    return [np.ascontiguousarray(strip[:, 7 * i % 896 : 7 * i % 896 + 640]) for i in range(count)]


def _clip(path: Path, frames: list[np.ndarray]) -> Path:
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _model_rows(settings: Settings, model_id: str, frames: list[np.ndarray], peak: float, work: Path) -> dict:
    registry = ModelRegistry(settings)
    device = Device(registry, InlineExecutor())
    model = registry.get(model_id)
    steps = plan(EnhanceOptions(model=model_id, tile=0), device, settings)
    pictures = [Picture(f.astype(np.float32) / 255, None, 8) for f in frames]
    for picture in pictures[:2]:
        restore_picture(picture, steps, device)  # warm-up: cuDNN autotune, allocator
    _sync()
    started = time.perf_counter()
    for picture in pictures:
        restore_picture(picture, steps, device)
    _sync()
    restore_fps = len(pictures) / (time.perf_counter() - started)

    batch = torch.from_numpy(np.stack(frames[:8])).permute(0, 3, 1, 2).float() / 255
    batch = model.precision.prepare(batch.to(model.device))
    with torch.inference_mode():
        for _ in range(2):
            model.descriptor.model(batch)
        _sync()
        times = []
        for _ in range(5):
            started = time.perf_counter()
            model.descriptor.model(batch)
            _sync()
            times.append(time.perf_counter() - started)
    model_fps = batch.shape[0] / statistics.median(times)

    # The job: decode -> restore -> H.264, through submit_job and run_job as the worker runs them.
    store, storage = JobStore(f"sqlite:///{work / f'{model_id}.db'}"), JobStorage(work / f"jobs-{model_id}")
    spooled = work / f"{model_id}.mp4"
    spooled.write_bytes((work / "clip.mp4").read_bytes())
    options = JobOptions(model=model_id, outputs=["video"])  # type: ignore[list-item]
    job, _ = submit_job(settings, store, storage, device, spooled, "clip.mp4", options)
    store.claim(job.id, "bench", settings.job_lease_seconds)
    started = time.perf_counter()
    status = run_job(JobContext(settings, store, storage, device, "bench"), job.id)
    job_fps = len(frames) / (time.perf_counter() - started)
    assert status is not None and status.value == "succeeded", store.get(job.id)
    row = {
        "model": model_id,
        "dtype": model.precision.dtype_name,
        "channels_last": model.precision.channels_last,
        "model_only_fps_batch8": model_fps,
        "restore_fps": restore_fps,
        "job_fps": job_fps,
        "job_target_fps": TARGET_JOB_FPS.get(model_id),
    }
    if model_id in MFLOP_PER_PIXEL:
        row["model_tflops"] = model_fps * 640 * 360 * MFLOP_PER_PIXEL[model_id] * 1e6 / 1e12
        row["share_of_bf16_peak"] = row["model_tflops"] / peak
    return row


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http(settings: Settings, model_id: str, size: int, clients: int, work: Path) -> dict:
    """`enhance serve` in a child process; `clients` requests one by one, then all at once (twice each)."""
    port = _free_port()
    env = {**os.environ, "ENHANCE_PORT": str(port), "ENHANCE_DATA_DIR": str(work / "http"),
           "ENHANCE_DEVICE": settings.device, "ENHANCE_PRELOAD": json.dumps([model_id]),
           "ENHANCE_WEIGHTS_DIR": str(settings.weights_path), "ENHANCE_CATALOG_PATH": str(settings.catalog_path),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1/images/enhance"
    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    bodies = []
    for i in range(clients):
        buffer = io.BytesIO()
        Image.fromarray(cv2.resize(photos[i % 4], (size, size), interpolation=cv2.INTER_AREA)).save(buffer, "PNG")
        bodies.append(buffer.getvalue())

    def post(body: bytes) -> float:
        started = time.perf_counter()
        answer = httpx.post(url, params={"model": model_id, "format": "jpeg"}, files={"file": ("x.png", body)},
                            timeout=600)  # fmt: skip
        answer.raise_for_status()
        return time.perf_counter() - started

    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not become ready")
            time.sleep(0.5)
        post(bodies[0])
        started = time.perf_counter()
        solo = [post(b) for _ in range(2) for b in bodies]
        serial_rps = len(solo) / (time.perf_counter() - started)
        started = time.perf_counter()
        latencies: list[float] = []
        with ThreadPoolExecutor(clients) as pool:
            for _ in range(2):
                latencies += pool.map(post, bodies)
        concurrent_rps = len(latencies) / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(30)
    p99 = float(np.percentile(latencies, 99))
    return {
        "model": model_id,
        "size": size,
        "clients": clients,
        "serial_rps": serial_rps,
        "concurrent_rps": concurrent_rps,
        "throughput_ratio": concurrent_rps / serial_rps,
        "solo_latency_s": statistics.median(solo),
        "p99_latency_s": p99,
        "p99_over_solo": p99 / statistics.median(solo),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--frames", type=int, default=120, help="frames in the 640x360 clip")
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="dense bf16 peak (H100 SXM: 989)")
    parser.add_argument("--http-model", default="realesrgan-x4plus")
    parser.add_argument("--http-size", type=int, default=512)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated (x4plus is slow on a CPU)")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: run this on a GPU machine (benchmarks/gpu/run.sh), or pass --device cpu")
        return 1
    torch.backends.cudnn.benchmark = True  # fixed tile shapes: let cuDNN pick its fastest algorithms once
    settings = Settings(device=args.device)
    catalog = Catalog.load(settings.catalog_path)
    wanted = args.models.split(",")
    present = [m for m in wanted if weight_state(catalog.get(m), settings.weights_path) is WeightState.PRESENT]
    name = (
        torch.cuda.get_device_name() if args.device.startswith("cuda") else f"cpu ({platform.processor() or 'x86_64'})"
    )
    frames = _frames(args.frames)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, http = [], None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _clip(work / "clip.mp4", frames)
        for model_id in present:
            rows.append(_model_rows(settings, model_id, frames, args.peak_tflops, work))
            print(f"measured {model_id}", flush=True)
        if args.http_model in present:
            http = _http(settings, args.http_model, args.http_size, args.clients, work)
    skipped = [m for m in wanted if m not in present]
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    result = {"device": name, "frames": args.frames, "size": "640x360", "rows": rows, "http": http, "skipped": skipped}
    (args.out / f"gpu_{slug}.json").write_text(json.dumps(result, indent=2))
    if rows:
        bar_chart(
            args.out / f"gpu_{slug}.png",
            f"{name}: 640x360 video job, frames per second",
            [r["model"] for r in rows],
            [r["job_fps"] for r in rows],
            "fps",
        )
    print(f"\n{name}, 640x360 frames, {args.frames}-frame clip; skipped (no weights here): {skipped or 'none'}")
    print(
        f"{'model':<26} {'dtype':>5} {'model fps':>10} {'restore fps':>12} {'job fps':>8} {'target':>7} {'% peak':>7}"
    )
    for r in rows:
        peak = f"{100 * r['share_of_bf16_peak']:.1f}" if "share_of_bf16_peak" in r else "-"
        print(f"{r['model']:<26} {r['dtype']:>5} {r['model_only_fps_batch8']:>10.1f} {r['restore_fps']:>12.1f} "
              f"{r['job_fps']:>8.1f} {r['job_target_fps'] or 0:>7.0f} {peak:>7}")  # fmt: skip
    if http:
        print(f"HTTP {http['clients']} x {http['size']}px {http['model']}: {http['concurrent_rps']:.2f} req/s "
              f"concurrent vs {http['serial_rps']:.2f} serial ({http['throughput_ratio']:.2f}x, target >= 3); "
              f"p99 {http['p99_latency_s']:.2f} s = {http['p99_over_solo']:.2f}x solo (target <= 2.5)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
