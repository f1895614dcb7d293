"""How a model's speed on the CPU depends on the input size (issue #30: why x4plus reaches ~90 % of the bf16 matmul
peak at 128 px and only ~2/3 of it at 512 px): each model's raw call (the precision the registry probed) on square
inputs of growing size, in one process, with a bf16 matmul peak sample before each size. Prints microseconds per
input pixel, GFLOP/s (FLOPs counted by FlopCounterMode) and the share of the peak; writes JSON and a chart.

    .venv/bin/python benchmarks/bench_size_curve.py
    .venv/bin/python benchmarks/bench_size_curve.py --models span-x4:128,512,1024 --repeats 2

Run it on a quiet machine; the load average is printed and written with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch
from bench_image import _time, bf16_peak_gflops, cpu_name, model_flops  # benchmarks/ is on sys.path
from chart import bar_chart

from app.core.config import Settings
from app.core.threads import apply_threads_here
from app.models.registry import ModelRegistry

RESULTS = Path(__file__).parent / "results"
DEFAULT_MODELS = [
    "realesrgan-x4plus:128,256,384,512",
    "realesr-animevideov3-x4:128,256,384,512,768,1024",
    "span-x4:128,256,512,768,1024",
]


def measure(registry: ModelRegistry, model_id: str, sizes: list[int], repeats: int) -> list[dict[str, object]]:
    loaded = registry.get(model_id)
    features = next(m.out_channels for m in loaded.descriptor.model.modules() if isinstance(m, torch.nn.Conv2d))
    rows: list[dict[str, object]] = []
    for size in sizes:
        peak = bf16_peak_gflops()["gflops"]
        batch = torch.rand(1, 3, size, size)

        def call(batch: torch.Tensor = batch) -> object:
            with torch.inference_mode():
                return loaded.descriptor.model(loaded.precision.prepare(batch))

        best = min(_time(call, repeats))
        flops = model_flops(loaded.descriptor.model, size)
        row: dict[str, object] = {
            "model": model_id,
            "size": size,
            "best_s": best,
            "us_per_pixel": 1e6 * best / size**2,
            "gflops": flops / best / 1e9,
            "peak_gflops": peak,
            "share": flops / best / 1e9 / peak,
            # one feature map at the input's resolution (the first convolution's channels, in the model's
            # precision), to hold against the last-level cache: the speed falls off once it no longer fits
            "feature_map_mib": size**2 * features * loaded.precision.dtype.itemsize / 2**20,
        }
        rows.append(row)
        share = flops / best / 1e9 / peak
        print(
            f"{model_id:<26} {size:>5} {best:>8.3f} {row['us_per_pixel']:>8.2f} {row['gflops']:>8.0f} "
            f"{peak:>6.0f} {100 * share:>6.0f}% {row['feature_map_mib']:>8.1f}",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, help="model:size,size,...")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--name", default="size_curve_cpu")
    args = parser.parse_args()
    apply_threads_here()
    registry = ModelRegistry(Settings(device="cpu"))
    print(f"{cpu_name()}, {torch.get_num_threads()} threads, load average {os.getloadavg()}")
    print(
        f"{'model':<26} {'size':>5} {'best s':>8} {'us/px':>8} {'GFLOP/s':>8} {'peak':>6} {'share':>7} {'map MiB':>8}"
    )
    rows = []
    for item in args.models:
        model_id, _, sizes = item.partition(":")
        rows += measure(registry, model_id, [int(s) for s in sizes.split(",")], args.repeats)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    meta = {"cpu": cpu_name(), "threads": torch.get_num_threads(), "load_average": os.getloadavg()}
    out.write_text(json.dumps({**meta, "rows": rows}, indent=2))
    chart = bar_chart(
        RESULTS / f"{args.name}.png",
        f"Raw model call: share of the bf16 matmul peak by input size ({cpu_name()})",
        [f"{r['model']} {r['size']}²" for r in rows],
        [100 * float(r["share"]) for r in rows],  # type: ignore[arg-type]
        "%",
        reference=90,
        reference_label="90 % (#30's target for the service end to end)",
    )
    print(f"wrote {out} and {chart}")


if __name__ == "__main__":
    main()
