"""Low light (#28): real photos darkened with a camera-like model (linear light, exposure cut to 1/8 or 1/16,
Poisson shot noise at a 1000-electron full well plus Gaussian read noise, back to sRGB, 8 bits), then brought back
by `light=on` (LIME with FFDNet in the dark parts), by LIME without the denoise, by gamma correction (the exponent
that brings the mean luminance back to 0.45) and by CLAHE on L* (OpenCV, clip 2, 8x8 tiles): PSNR and SSIM against
the original, and seconds per megapixel. Prints a table and writes JSON.

    .venv/bin/python benchmarks/bench_low_light.py
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from skimage import data
from skimage.metrics import structural_similarity

from app.core.config import Settings
from app.domain import LUMA, LightMode, Picture
from app.inference.device import Device
from app.inference.light import brighten
from app.services import build_device

RESULTS = Path(__file__).parent / "results"
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "coins"]
EXPOSURES = [1 / 8, 1 / 16]
FULL_WELL = 1000.0  # electrons at white
READ_NOISE = 2.0  # electrons


def darken(photo: np.ndarray, exposure: float, rng: np.random.Generator) -> np.ndarray:
    linear = (photo.astype(np.float64) / 255) ** 2.2 * exposure * FULL_WELL
    electrons = rng.poisson(linear) + rng.normal(0, READ_NOISE, linear.shape)
    out = np.clip(electrons / FULL_WELL, 0, 1) ** (1 / 2.2)
    return np.asarray((out * 255).round(), np.uint8)


def gamma(dark: np.ndarray) -> np.ndarray:
    mean = float((dark.astype(np.float64) / 255 @ LUMA).mean())
    exponent = math.log(0.45) / math.log(max(mean, 1e-3))
    return np.asarray(((dark / 255) ** exponent * 255).round(), np.uint8)


def clahe(dark: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(dark, cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def lime(device: Device, denoise: str | None) -> Callable[[np.ndarray], np.ndarray]:
    def run(dark: np.ndarray) -> np.ndarray:
        picture = Picture(dark.astype(np.float32) / 255, None, 8)
        out, _ = brighten(picture, LightMode.ON, device, denoise)
        return np.asarray((out.pixels * 255).round().clip(0, 255), np.uint8)

    return run


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * math.log10(255.0**2 / float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=320, help="central crop side, pixels")
    parser.add_argument("--out", type=Path, default=RESULTS / "low_light_cpu.json")
    args = parser.parse_args()
    device = build_device(Settings(device="cpu"), "inline")
    methods: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "dark input": lambda d: d,
        "gamma": gamma,
        "CLAHE": clahe,
        "LIME, no denoise": lime(device, None),
        "light=on (LIME + FFDNet)": lime(device, "ffdnet-color"),
    }
    rng = np.random.default_rng(0)
    scores: dict[str, dict[str, dict[str, list[float]]]] = {}
    seconds: dict[str, list[float]] = {m: [] for m in methods}
    for name in PHOTOS:
        photo = getattr(data, name)()
        photo = np.stack([photo] * 3, axis=2) if photo.ndim == 2 else photo[..., :3]
        h, w = photo.shape[:2]
        top, left = max(0, (h - args.size) // 2), max(0, (w - args.size) // 2)
        clean = np.ascontiguousarray(photo[top : top + args.size, left : left + args.size])
        for exposure in EXPOSURES:
            dark = darken(clean, exposure, rng)
            for method, run in methods.items():
                started = time.perf_counter()
                out = run(dark)
                seconds[method].append((time.perf_counter() - started) / (clean.shape[0] * clean.shape[1] / 1e6))
                row = scores.setdefault(f"1/{round(1 / exposure)}", {}).setdefault(method, {"psnr": [], "ssim": []})
                row["psnr"].append(_psnr(out, clean))
                row["ssim"].append(float(structural_similarity(out, clean, channel_axis=2, data_range=255)))
    table = {
        exposure: {m: {k: round(float(np.mean(v)), 3) for k, v in r.items()} for m, r in rows.items()}
        for exposure, rows in scores.items()
    }
    speed = {m: round(float(np.median(v)), 3) for m, v in seconds.items()}
    print(f"{len(PHOTOS)} skimage photos, {args.size}px crops; PSNR dB / SSIM against the original; s per MP")
    print(f"{'method':<26}" + "".join(f"{'exposure ' + e:>22}" for e in table) + f"{'s/MP':>8}")
    for method in methods:
        cells = "".join(f"{table[e][method]['psnr']:>13.2f} / {table[e][method]['ssim']:.3f}" for e in table)
        print(f"{method:<26}{cells}{speed[method]:>8}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {"photos": PHOTOS, "crop": args.size, "cpu": platform.processor() or platform.machine(),
              "results": table, "seconds_per_megapixel": speed}  # fmt: skip
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
