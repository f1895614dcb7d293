"""Photo denoise (#28) on real photos with Gaussian noise at sigma 15, 25 and 50: PSNR of the noisy input, of FFDNet
colour at the true level and at the level the service estimates, and of OpenCV's non-local means (h = 0.8 sigma,
the usual rule), with the speed per megapixel on this machine. The published FFDNet colour results on CBSD68 (Zhang
et al. 2018, table V: 33.87, 31.21, 27.96 dB) are the sanity check: natural photos should land in that ballpark.
Prints a table and writes JSON.

    .venv/bin/python benchmarks/bench_denoise.py --size 256
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from app.core.config import Settings
from app.domain import DenoiseMode, Picture
from app.inference.denoise import denoise_picture
from app.services import build_device

RESULTS = Path(__file__).parent / "results"
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "coins"]
SIGMAS = [15, 25, 50]
PUBLISHED_CBSD68 = {15: 33.87, 25: 31.21, 50: 27.96}


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * math.log10(255.0**2 / mse)


def _crop(name: str, size: int) -> np.ndarray:
    photo = getattr(data, name)()
    photo = np.stack([photo] * 3, axis=2) if photo.ndim == 2 else photo[..., :3]
    h, w = photo.shape[:2]
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return np.ascontiguousarray(photo[top : top + size, left : left + size])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=256, help="central crop side, pixels")
    parser.add_argument("--out", type=Path, default=RESULTS / "denoise_cpu.json")
    args = parser.parse_args()
    device = build_device(Settings(device="cpu"), "inline")
    rng = np.random.default_rng(0)
    rows: dict[int, dict[str, list[float]]] = {s: {} for s in SIGMAS}
    seconds: dict[str, list[float]] = {"ffdnet": [], "nlm": []}
    megapixels = 0.0
    for name in PHOTOS:
        clean = _crop(name, args.size)
        for sigma in SIGMAS:
            noisy = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 255).round().astype(np.uint8)
            picture = Picture(noisy.astype(np.float32) / 255, None, 8)
            results = {"noisy": noisy}
            for label, level in (("ffdnet (true sigma)", float(sigma)), ("ffdnet (estimated)", None)):
                started = time.perf_counter()
                out, _ = denoise_picture(picture, DenoiseMode.ON, "ffdnet-color", level, device)
                seconds["ffdnet"].append(time.perf_counter() - started)
                results[label] = (out.pixels * 255).round().clip(0, 255).astype(np.uint8)
            started = time.perf_counter()
            results["opencv nlm"] = cv2.fastNlMeansDenoisingColored(noisy, None, 0.8 * sigma, 0.8 * sigma, 7, 21)
            seconds["nlm"].append(time.perf_counter() - started)
            megapixels = clean.shape[0] * clean.shape[1] / 1e6
            for label, image in results.items():
                rows[sigma].setdefault(label, []).append(_psnr(image, clean))
    table = {s: {label: round(float(np.mean(v)), 2) for label, v in r.items()} for s, r in rows.items()}
    speed = {k: round(float(np.median(v)) / megapixels, 2) for k, v in seconds.items()}
    labels = list(table[SIGMAS[0]])
    print(f"mean PSNR (dB) over {len(PHOTOS)} skimage photos, {args.size}x{args.size} central crops")
    print(f"{'sigma':>5} " + " ".join(f"{label:>20}" for label in labels) + f" {'FFDNet CBSD68':>14}")
    for sigma in SIGMAS:
        cells = " ".join(f"{table[sigma][label]:>20.2f}" for label in labels)
        print(f"{sigma:>5} {cells} {PUBLISHED_CBSD68[sigma]:>14.2f}")
    print(f"seconds per megapixel on the CPU: FFDNet {speed['ffdnet']}, OpenCV NLM {speed['nlm']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "photos": PHOTOS,
        "crop": args.size,
        "cpu": platform.processor() or platform.machine(),
        "psnr_db": table,
        "published_ffdnet_cbsd68_db": PUBLISHED_CBSD68,
        "seconds_per_megapixel": speed,
    }
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
