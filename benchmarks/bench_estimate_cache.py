"""Two API numbers, through a real app on this machine: the image route's result cache (the same photo and options
three times, then If-None-Match with the answer's ETag), and a job's estimate against its run (the catalogue's CPU
prior at the first submit, the model's own calls at the next).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_estimate_cache.py
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from app.models.registry import ModelRegistry
from tests.support.images import png_bytes, skimage_rgb
from tests.support.jobs import wait
from tests.support.media import carphone_path

IMAGE_MODEL = "realesrgan-x4plus"
JOB_MODELS = ["span-x4", "realesr-animevideov3-x4"]


def main() -> None:
    installed = Settings(_env_file=None).weights_path  # type: ignore[call-arg]
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), weights_dir=installed, device="cpu", _env_file=None)  # type: ignore[call-arg]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with TestClient(create_app(settings, ModelRegistry(settings))) as client:
        photo = png_bytes(skimage_rgb("astronaut", 160))
        print(f"\n{'image request (160x160, ' + IMAGE_MODEL + ')':<44} {'seconds':>8}  cache")
        tag = ""
        for attempt in range(3):
            started = time.perf_counter()
            answer = client.post("/v1/images/enhance", params={"model": IMAGE_MODEL}, files={"file": ("a.png", photo)})
            tag = answer.headers["etag"]
            seconds, cache = time.perf_counter() - started, answer.headers["x-enhance-cache"]
            print(f"{'#' + str(attempt + 1):<44} {seconds:>8.3f}  {cache}")
        started = time.perf_counter()
        answer = client.post(
            "/v1/images/enhance",
            params={"model": IMAGE_MODEL},
            files={"file": ("a.png", photo)},
            headers={"If-None-Match": tag},
        )
        print(f"{'If-None-Match':<44} {time.perf_counter() - started:>8.3f}  {answer.status_code}")

        print(f"\n{'job (carphone every_n=4, frames)':<34} {'prior s':>8} {'ran s':>8} {'measured s':>11}")
        form = {"every_n": "4", "outputs": "frames"}
        clip = carphone_path().read_bytes()
        for model in JOB_MODELS:
            first = client.post("/v1/jobs", files={"file": ("c.mp4", clip)}, data={"model": model, **form}).json()
            job = wait(client, first["id"], timeout=1800)
            ran = datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])
            again = client.post("/v1/jobs", files={"file": ("c.mp4", clip)}, data={"model": model, **form}).json()
            client.post(f"/v1/jobs/{again['id']}/cancel")
            prior, measured = first["estimate"], again["estimate"]
            assert (prior["source"], measured["source"]) == ("catalogue", "measured")
            print(f"{model:<34} {prior['seconds']:>8.2f} {ran.total_seconds():>8.2f} {measured['seconds']:>11.2f}")


if __name__ == "__main__":
    main()
