"""What could bring x4plus closer to the CPU's bf16 matmul peak (issue #30): the raw model on one image, each
variant timed in the same process, with a bf16 matmul peak sample right before each (a shared machine's load moves
both alike). Variants: the precision the registry probed (bf16 weights, channels_last), bf16 weights contiguous,
fp32 weights under bf16 autocast (channels_last), torch.jit.trace + freeze (oneDNN fusion), and torch.compile with
inductor's CPU backend (its compile time recorded); `--threads`/`--interop` set PyTorch's thread pools
first. Writes benchmarks/results/cpu_variants_<size>[_<tag>].json.

    .venv/bin/python benchmarks/bench_cpu_variants.py --size 128 --variants probed contiguous autocast compile
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import torch
from bench_image import bf16_peak_gflops, cpu_name, model_flops  # benchmarks/ is on sys.path
from skimage import data

from app.core.config import Settings
from app.models.registry import ModelRegistry

RESULTS = Path(__file__).parent / "results"
VARIANTS = ["probed", "contiguous", "autocast", "freeze", "compile"]


def _bf16_copy(model: torch.nn.Module) -> torch.nn.Module:
    """A bf16 channels_last copy of every parameter and buffer: dynamo refused the probed copy with "Input type
    (BFloat16) and bias type (float) should be the same" (2026-11-30), where the same model runs in eager."""
    return copy.deepcopy(model).to(torch.bfloat16).to(memory_format=torch.channels_last)


def _best(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(first call's seconds, best of `repeats` after it)."""
    started = time.perf_counter()
    fn()
    first = time.perf_counter() - started
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return first, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="realesrgan-x4plus")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS)
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: the service's choice)")
    parser.add_argument("--interop", type=int, default=0, help="inter-op threads (0: PyTorch's default)")
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    if args.interop:
        torch.set_num_interop_threads(args.interop)  # only before any inter-op work

    registry = ModelRegistry(Settings(device="cpu"))
    loaded = registry.get(args.model)
    if args.threads:
        torch.set_num_threads(args.threads)
    probed = loaded.descriptor.model
    image = cv2.resize(data.astronaut(), (args.size, args.size), interpolation=cv2.INTER_AREA)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    flops = model_flops(probed, args.size)
    fp32 = copy.deepcopy(probed).float().to(memory_format=torch.channels_last)
    rows = []
    for variant in args.variants:
        net: Callable[[torch.Tensor], torch.Tensor]
        batch = x.bfloat16().contiguous(memory_format=torch.channels_last)
        compile_s = None
        if variant == "probed":
            net = probed
            batch = loaded.precision.prepare(x)
        elif variant == "contiguous":
            net = copy.deepcopy(probed).to(memory_format=torch.contiguous_format)
            batch = x.bfloat16()
        elif variant == "autocast":
            model = fp32

            def net(t: torch.Tensor, model: torch.nn.Module = model) -> torch.Tensor:
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    return model(t)

            batch = x.contiguous(memory_format=torch.channels_last)
        elif variant == "freeze":
            started = time.perf_counter()
            with torch.inference_mode(False), torch.no_grad():
                net = torch.jit.freeze(torch.jit.trace(_bf16_copy(probed).eval(), batch))
            compile_s = time.perf_counter() - started
        else:
            started = time.perf_counter()
            net = torch.compile(_bf16_copy(probed), backend="inductor")
            with torch.no_grad():
                net(batch)
            compile_s = time.perf_counter() - started
        peak = bf16_peak_gflops((3072, 4096), 2)["gflops"]

        def call(net: Callable[[torch.Tensor], torch.Tensor] = net, batch: torch.Tensor = batch) -> object:
            with torch.no_grad():
                return net(batch)

        first, best = _best(call, args.repeats)
        peak = max(peak, bf16_peak_gflops((3072, 4096), 2)["gflops"])
        row = {
            "variant": variant,
            "first_s": first,
            "best_s": best,
            "gflops": flops / best / 1e9,
            "peak_gflops": peak,
            "share": flops / best / 1e9 / peak,
            "compile_s": compile_s,
            "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
        }
        rows.append(row)
        print(
            f"{variant:<11} best {best:6.3f} s  {row['gflops']:5.0f} GFLOP/s  peak {peak:4.0f}  "
            f"share {row['share']:4.0%}  first {first:6.2f} s"
            + (f"  compile {compile_s:.1f} s" if compile_s is not None else ""),
            flush=True,
        )
    out = {
        "model": args.model,
        "size": args.size,
        "cpu": cpu_name(),
        "torch": torch.__version__,
        "load_average": os.getloadavg(),
        "flops": flops,
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"cpu_variants_{args.size}{'_' + args.tag if args.tag else ''}.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"wrote {path}; load {os.getloadavg()}")


if __name__ == "__main__":
    main()
