"""Peak memory of one image request against its size, for x4plus and animevideov3: what the admission control's
estimate (`app/inference/memory.py`) says next to what the process really used (peak RSS, VmHWM), each measured in
a fresh process so that one size's peak does not hide the next. Prints a table, writes JSON and a chart.

    .venv/bin/python benchmarks/bench_memory.py
    .venv/bin/python benchmarks/bench_memory.py --model realesr-animevideov3-x4 --sizes 512x384,1024x768
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

RESULTS = Path(__file__).parent / "results"
DEFAULT_SIZES = {
    # x4plus runs ~3 min per input megapixel on two CPU cores: its sizes stay small; the per-pixel terms are the
    # same for every model (canvas, resize, encode), only the activations differ.
    "realesrgan-x4plus": ["128x128", "256x192", "384x288"],
    "realesr-animevideov3-x4": ["256x192", "512x384", "1024x768", "1600x1200", "2000x1500"],
}


def _peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _probe(model: str, width: int, height: int, fmt: str) -> dict[str, object]:
    """In this (fresh) process: load the model, run a small warm-up, then one request of width x height."""
    import io

    import numpy as np
    from PIL import Image
    from skimage import data

    from app.core.config import Settings
    from app.domain import ImageFormat
    from app.inference.device import Device, InlineExecutor
    from app.inference.enhance import EnhanceOptions, enhance_bytes
    from app.inference.memory import estimate_image_bytes
    from app.models.registry import ModelRegistry

    settings = Settings()
    registry = ModelRegistry(settings)
    device = Device(registry, InlineExecutor())

    def png(w: int, h: int) -> bytes:
        photo = np.asarray(Image.fromarray(data.astronaut()).resize((w, h), Image.Resampling.BICUBIC))
        buffer = io.BytesIO()
        Image.fromarray(photo).save(buffer, format="PNG")
        return buffer.getvalue()

    options = EnhanceOptions(model=model, format=ImageFormat(fmt))
    enhance_bytes(png(64, 48), options, device, settings)  # load the model, allocate the first activations
    before = _peak_kib()
    payload = png(width, height)
    result = enhance_bytes(payload, options, device, settings)
    peak = _peak_kib()
    handle = device.model(model)
    estimate = estimate_image_bytes(width, height, handle.net_scale, float(handle.entry.scale), ImageFormat(fmt))
    return {
        "model": model,
        "size": f"{width}x{height}",
        "input_mp": width * height / 1e6,
        "output": f"{result.width}x{result.height}",
        "baseline_mib": before / 1024,
        "peak_mib": peak / 1024,
        "growth_mib": (peak - before) / 1024,
        "estimate_mib": estimate / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="model id (repeatable); default: x4plus and animevideov3")
    parser.add_argument("--sizes", help="comma-separated WxH, for every model; default: per model")
    parser.add_argument("--format", default="png")
    parser.add_argument("--probe", help=argparse.SUPPRESS)  # internal: MODEL,WxH in a child process
    args = parser.parse_args()
    if args.probe:
        model, size = args.probe.split(",")
        width, height = (int(v) for v in size.split("x"))
        print(json.dumps(_probe(model, width, height, args.format)))
        return

    rows = []
    for model in args.model or list(DEFAULT_SIZES):
        for size in args.sizes.split(",") if args.sizes else DEFAULT_SIZES[model]:
            out = subprocess.run(
                [sys.executable, __file__, "--probe", f"{model},{size}", "--format", args.format],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            row = json.loads(out.strip().splitlines()[-1])
            rows.append(row)
            print(
                f"{row['model']:<26} {row['size']:>10} -> {row['output']:>10}  growth {row['growth_mib']:8.0f} MiB"
                f"  estimate {row['estimate_mib']:8.0f} MiB  (peak RSS {row['peak_mib']:.0f} MiB)",
                flush=True,
            )

    RESULTS.mkdir(exist_ok=True)
    payload = {"machine": platform.processor() or platform.machine(), "format": args.format, "rows": rows}
    (RESULTS / "memory.json").write_text(json.dumps(payload, indent=2))
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        ax.plot([r["input_mp"] for r in mine], [r["growth_mib"] for r in mine], "o-", label=f"{model} measured")
        ax.plot([r["input_mp"] for r in mine], [r["estimate_mib"] for r in mine], "x--", label=f"{model} estimate")
    ax.set_xlabel("input megapixels (x4 output)")
    ax.set_ylabel("memory growth of one request, MiB")
    ax.set_title("Peak RSS growth of one image request against its size (CPU)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(RESULTS / "memory.png")
    print(f"wrote {RESULTS / 'memory.json'} and {RESULTS / 'memory.png'}")


if __name__ == "__main__":
    main()
