"""A job's estimate against its run (#26), through a real app on this machine: what the answer to the submit said
(the upscaler's measured time plus each frame's own cost, `app.jobs.estimate.overhead_seconds`), what the
upscaler alone said (the estimate before the frame's cost was counted), and how long the job ran (started_at to
finished_at), for a small clip (carphone, 176x144) and albums of skimage photos.

    PYTHONPATH=. nice -n -15 .venv/bin/python benchmarks/bench_estimate.py [--model realesr-animevideov3-x4]

The model is warmed by one image request first, so every estimate is `measured` and no job pays the model's load.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.jobs.estimate import frame_seconds
from app.main import create_app
from app.models.registry import ModelRegistry
from tests.support.images import area_resize, png_bytes, skimage_rgb
from tests.support.jobs import wait
from tests.support.media import carphone_path

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "camera", "immunohistochemistry", "cat"]
RESULTS = Path(__file__).parent / "results"


def _photos(side: int | None, names: list[str]) -> tuple[list[Any], list[tuple[int, int]]]:
    """skimage photos, each scaled to `side` pixels on its longer edge (None: as shipped), and their sizes."""
    files, sizes = [], []
    for name in names:
        rgb = skimage_rgb(name)
        if side is not None:
            h, w = rgb.shape[:2]
            rgb = area_resize(rgb, round(w * side / max(h, w)), round(h * side / max(h, w)))
        files.append(("file", (f"{name}.png", png_bytes(rgb))))
        sizes.append((rgb.shape[1], rgb.shape[0]))
    return files, sizes


def _run(client: TestClient, name: str, files: list[Any], form: dict[str, str], sizes: list[tuple[int, int]]) -> Any:
    device = client.app.state.api.services.device  # type: ignore[attr-defined]
    model = form["model"]
    # What the estimate was before #26's fixes: the upscaler alone, at each frame's or photo's size.
    upscaler = sum(frame_seconds(device, model, w, h)[0] or 0.0 for w, h in sizes)
    answer = client.post("/v1/jobs", files=files, data=form)
    answer.raise_for_status()
    submitted = answer.json()
    job = wait(client, submitted["id"], timeout=1800)
    assert job["status"] == "succeeded", job["error"]
    ran = (datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])).total_seconds()
    estimate = submitted["estimate"]
    row = {
        "job": name,
        "frames": estimate["frames"],
        "size": f"{estimate['width']}x{estimate['height']}",
        "upscaler_only_s": upscaler,
        "estimate_s": estimate["seconds"],
        "ran_s": ran,
        "counted": estimate["counted"],
        "source": estimate["source"],
    }
    print(
        f"{name:<34} {row['frames']:>4} {row['size']:>9} {upscaler:>9.2f} "
        f"{row['estimate_s']:>9.2f} {ran:>7.2f} {ran / row['estimate_s']:>6.2f}",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="realesr-animevideov3-x4")
    args = parser.parse_args()
    installed = Settings(_env_file=None).weights_path  # type: ignore[call-arg]
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), weights_dir=installed, device="cpu", _env_file=None)  # type: ignore[call-arg]
    print(f"load average {os.getloadavg()} on {os.cpu_count()} CPUs, model {args.model}")
    clip = carphone_path().read_bytes()
    base = {"model": args.model, "outputs": "frames"}
    album = {"model": args.model, "keep": "all", "duplicates": "keep"}
    with TestClient(create_app(settings, ModelRegistry(settings))) as client:
        warm = png_bytes(skimage_rgb("astronaut", 96))
        for side in (96, 160):  # calls of two sizes: the rate's fit has both its terms
            client.post("/v1/images/enhance", params={"model": args.model}, files={"file": ("w.png", warm)})
            warm = png_bytes(skimage_rgb("coffee", side))
        print(f"\n{'job':<34} {'n':>4} {'size':>9} {'upscaler':>9} {'estimate':>9} {'ran':>7} {'ran/est':>6}")
        video = [("file", ("c.mp4", clip))]
        small, small_sizes = _photos(128, PHOTOS)
        large, large_sizes = _photos(None, PHOTOS[:4])
        rows = [
            _run(client, "carphone every_n=4", video, {**base, "every_n": "4"}, [(176, 144)] * 30),
            _run(client, "carphone all frames", video, base, [(176, 144)] * 120),
            _run(client, "album: 7 skimage photos, 128 px", small, album, small_sizes),
            _run(client, "album: 4 skimage photos as shipped", large, album, large_sizes),
        ]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "estimate_cpu.json"
    out.write_text(json.dumps({"model": args.model, "load_average": os.getloadavg(), "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
