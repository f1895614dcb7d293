"""Photo scoring speed on 1-megapixel images, side by side with the common single-measure baselines people script
by hand (OpenCV Laplacian variance; NumPy exposure percentiles). Prints a table and writes JSON.

    .venv/bin/python benchmarks/bench_score.py --repeats 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from app.quality.scores import score_image

RESULTS = Path(__file__).parent / "results"
PHOTOS = ["astronaut", "coffee", "rocket", "hubble_deep_field"]


def _median_ms(fn: Callable[[np.ndarray], object], images: list[np.ndarray], repeats: int) -> float:
    for image in images:
        fn(image)  # warm-up
    times = []
    for _ in range(repeats):
        for image in images:
            started = time.perf_counter()
            fn(image)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    images = [cv2.resize(getattr(data, n)()[..., :3], (1000, 1000), interpolation=cv2.INTER_AREA) for n in PHOTOS]

    rows = {
        "enhance score_image (all scores + verdict)": lambda im: score_image(im),
        "OpenCV Laplacian variance only": lambda im: cv2.Laplacian(
            cv2.cvtColor(im, cv2.COLOR_RGB2GRAY), cv2.CV_64F
        ).var(),
        "NumPy exposure percentiles only (np.percentile)": lambda im: np.percentile(im.mean(axis=2), [1, 99]),
    }
    results = {name: _median_ms(fn, images, args.repeats) for name, fn in rows.items()}
    ours = results["enhance score_image (all scores + verdict)"]
    print(f"1000x1000 RGB, median of {args.repeats * len(images)} runs")
    print(f"{'scorer':<46} {'ms':>8} {'vs ours':>8}")
    for name, ms in results.items():
        print(f"{name:<46} {ms:>8.1f} {ms / ours:>7.2f}x")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "score_1mp.json"
    out.write_text(json.dumps({"image": "1000x1000", "median_ms": results, "target_ms": 50}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
