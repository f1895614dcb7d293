"""Where one frame's `restore_picture` time goes on the GPU, stage by stage, against the model call alone: the
upload, the call, the output's dtype conversion, the copy back, the H x W x C array (#18, #30). Prints a table
and writes JSON into the folder given.

    python3 benchmarks/gpu/restore_stages.py --out /tmp/out                           # on the GPU machine
    .venv/bin/python benchmarks/gpu/restore_stages.py --device cpu --out /tmp/out     # the script's proof here
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT)]

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from skimage import data  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.domain import Picture  # noqa: E402
from app.inference.device import Device, InlineExecutor  # noqa: E402
from app.inference.enhance import EnhanceOptions, plan, restore_picture  # noqa: E402
from app.models.registry import ModelRegistry  # noqa: E402


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _ms(work: Callable[[], object], repeats: int = 10) -> float:
    work()
    _sync()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        _sync()
        times.append(time.perf_counter() - started)
    return 1e3 * statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="realesr-animevideov3-x4")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    settings = Settings(device=args.device)
    device = Device(ModelRegistry(settings), InlineExecutor())
    model = device.model(args.model)
    steps = plan(EnhanceOptions(model=args.model, tile=0), device, settings)
    rgb = cv2.resize(data.astronaut(), (640, 360), interpolation=cv2.INTER_AREA)
    picture = Picture(rgb.astype(np.float32) / 255, None, 8)
    cpu = torch.from_numpy(np.ascontiguousarray(picture.pixels.transpose(2, 0, 1)))[None]
    on_device = model.precision.prepare(cpu)
    with torch.inference_mode():
        output = model.descriptor(on_device)
        as_float = output.float()
        on_host = as_float.cpu()
        pinned = torch.empty(as_float.shape, pin_memory=torch.cuda.is_available())
        stages = {
            "restore_picture (all)": _ms(lambda: restore_picture(picture, steps, device)),
            "upload + layout (prepare)": _ms(lambda: model.precision.prepare(cpu)),
            "model call (descriptor)": _ms(lambda: model.descriptor(on_device)),
            "output to float32 on device": _ms(lambda: output.float()),
            "copy to host (pageable)": _ms(lambda: as_float.cpu()),
            "copy to host (pinned)": _ms(lambda: pinned.copy_(as_float)),
            "H x W x C float32 array": _ms(
                lambda: np.ascontiguousarray(on_host[0].numpy().transpose(1, 2, 0), dtype=np.float32)
            ),
            "uint8 on device + copy": _ms(
                lambda: output.float().mul(255).round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu()
            ),
        }
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    print(f"{name}, {args.model} ({model.precision.dtype_name}, channels_last={model.precision.channels_last}), "
          f"one 640x360 frame:")  # fmt: skip
    for stage, ms in stages.items():
        print(f"  {stage:<30} {ms:8.2f} ms")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"restore_stages_{args.model}.json").write_text(
        json.dumps({"device": name, "model": args.model, "dtype": model.precision.dtype_name, "ms": stages}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
