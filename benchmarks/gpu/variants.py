"""What the model-only speed of a network depends on, on the GPU: dtype (fp16, bf16), memory layout (channels_last or
not), cuDNN's autotuner (`cudnn.benchmark`) and the batch (1 or 8 frames of 640x360), each measured in one run, so
the registry's choices rest on numbers (#18, #30). Prints a table and writes JSON into the folder given.

    python3 benchmarks/gpu/variants.py --model realesrgan-x4plus --out /tmp/out       # run.sh's x4plus stage
    .venv/bin/python benchmarks/gpu/variants.py --device cpu --size 64 --out /tmp/out  # the script's proof here
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT)]

import torch  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.models.registry import ModelRegistry  # noqa: E402

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _fps(model: torch.nn.Module, batch: torch.Tensor, repeats: int) -> float:
    with torch.inference_mode():
        for _ in range(2):  # warm-up: the allocator, and cuDNN's search when benchmark is on
            model(batch)
        _sync()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            model(batch)
            _sync()
            times.append(time.perf_counter() - started)
    return batch.shape[0] / statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="realesrgan-x4plus")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    settings = Settings(device=args.device, dtype="fp32")
    loaded = ModelRegistry(settings).get(args.model)
    network = loaded.descriptor.model.eval()
    device = loaded.device
    dtypes = ["fp16", "bf16"] if device.type == "cuda" else ["fp32", "bf16"]
    rows = []
    for name, channels_last, benchmark, frames in itertools.product(dtypes, (True, False), (True, False), (1, 8)):
        if device.type != "cuda" and benchmark:
            continue
        torch.backends.cudnn.benchmark = benchmark
        layout = torch.channels_last if channels_last else torch.contiguous_format
        network.to(device=device, dtype=DTYPES[name]).to(memory_format=layout)
        batch = torch.rand(frames, 3, args.height, args.width, device=device, dtype=DTYPES[name])
        fps = _fps(network, batch.contiguous(memory_format=layout), args.repeats)
        rows.append({"dtype": name, "channels_last": channels_last, "cudnn_benchmark": benchmark, "batch": frames,
                     "fps": fps})  # fmt: skip
        print(f"{args.model} {name} channels_last={channels_last!s:5} cudnn.benchmark={benchmark!s:5} "
              f"batch {frames}: {fps:7.1f} frames/s", flush=True)  # fmt: skip
        del batch
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    result = {"device": name, "model": args.model, "size": f"{args.width}x{args.height}", "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"variants_{args.model}.json").write_text(json.dumps(result, indent=2))
    best = max(rows, key=lambda r: r["fps"])
    print(f"fastest: {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
