"""GPU throughput for the performance targets: x4plus and realesr-animevideov3-x4 on 640x360 frames, end to end
(`restore` on a frame, as a job does it) and model-only, with the precision the registry's probe picks, plus the
fraction of the GPU's bf16 matrix peak that x4plus reaches. Prints a table and writes JSON.

    .venv/bin/python benchmarks/bench_gpu.py --frames 64 --peak-tflops 989   # H100 SXM dense bf16

On a machine without CUDA it says so and exits 0 (CI never runs it; the device tool's GPU machines do).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from skimage import data

from app.core.config import Settings
from app.domain import Picture
from app.inference.device import Device, InlineExecutor
from app.inference.enhance import EnhanceOptions, plan, restore_picture
from app.models.registry import ModelRegistry

RESULTS = Path(__file__).parent / "results"
MFLOP_PER_PIXEL = {"realesrgan-x4plus": 35.9}  # per input pixel, x4plus (from the performance issue)


def _frames(count: int) -> list[np.ndarray]:
    photos = [data.astronaut(), data.coffee(), data.chelsea()]
    strip = np.concatenate([cv2.resize(p, (512, 360), interpolation=cv2.INTER_AREA) for p in photos], axis=1)
    return [np.ascontiguousarray(cv2.resize(np.roll(strip, 7 * i, axis=1), (640, 360))) for i in range(count)]


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="dense bf16 peak of the GPU")
    parser.add_argument("--device", default="cuda", help="'cpu' only to smoke-test this script")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here: run this on a GPU machine (see the README's performance section)")
        return 0
    torch.backends.cudnn.benchmark = True
    settings = Settings(device=args.device)
    registry = ModelRegistry(settings)
    device = Device(registry, InlineExecutor())
    frames = _frames(args.frames)
    rows = []
    for model_id in ("realesrgan-x4plus", "realesr-animevideov3-x4"):
        steps = plan(EnhanceOptions(model=model_id, tile=0), device, settings)
        model = registry.get(model_id)
        pictures = [Picture(f.astype(np.float32) / 255, None, 8) for f in frames]
        for picture in pictures[:3]:
            restore_picture(picture, steps, device)  # warm-up: cuDNN autotune, allocator
        _sync()
        started = time.perf_counter()
        for picture in pictures:
            restore_picture(picture, steps, device)
        _sync()
        end_to_end_fps = len(pictures) / (time.perf_counter() - started)

        batch = model.precision.prepare(torch.from_numpy(np.stack(frames[:8])).permute(0, 3, 1, 2).float() / 255)
        with torch.inference_mode():
            for _ in range(3):
                model.descriptor.model(batch)
            _sync()
            times = []
            for _ in range(5):
                started = time.perf_counter()
                model.descriptor.model(batch)
                _sync()
                times.append(time.perf_counter() - started)
        model_fps = batch.shape[0] / statistics.median(times)
        row = {
            "model": model_id,
            "dtype": model.precision.dtype_name,
            "channels_last": model.precision.channels_last,
            "end_to_end_fps": end_to_end_fps,
            "model_only_fps_batch8": model_fps,
        }
        if model_id in MFLOP_PER_PIXEL:
            tflops = model_fps * 640 * 360 * MFLOP_PER_PIXEL[model_id] * 1e6 / 1e12
            row["model_tflops"] = tflops
            row["fraction_of_peak"] = tflops / args.peak_tflops
        rows.append(row)
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    print(f"{name}, 640x360 frames, {args.frames} frames end to end")
    print(f"{'model':<26} {'dtype':>6} {'e2e fps':>9} {'model fps':>10} {'% peak':>7}")
    for row in rows:
        peak = f"{100 * row['fraction_of_peak']:.1f}" if "fraction_of_peak" in row else "-"
        print(
            f"{row['model']:<26} {row['dtype']:>6} {row['end_to_end_fps']:>9.1f} "
            f"{row['model_only_fps_batch8']:>10.1f} {peak:>7}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "gpu_640x360.json"
    out.write_text(json.dumps({"device": name, "rows": rows}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
