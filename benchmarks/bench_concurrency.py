"""Concurrent image requests against the real server: batched (max_batch=8), unbatched (max_batch=1, requests
still pipelined: one's decode and encode overlap another's inference), and the same requests sent one by one.
The service's default (`ENHANCE_MAX_BATCH=0`) is batched on a GPU and unbatched on the CPU. Each configuration
is its own `enhance serve` child process, started here.
Prints a table, writes JSON and a PNG chart.

    .venv/bin/python benchmarks/bench_concurrency.py --model realesrgan-x4plus --size 128 --clients 8

Throughput ratio = (requests / wall time with `clients` in flight) / (requests / wall time one by one).
Latency ratio = the slowest concurrent request / the median solo request.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import httpx
import numpy as np
import torch
from chart import bar_chart  # benchmarks/ is on sys.path when a script here runs
from PIL import Image
from skimage import data

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "cat", "immunohistochemistry", "hubble_deep_field", "retina")


def _inputs(count: int, size: int) -> list[bytes]:
    out = []
    for i in range(count):
        image = getattr(data, PHOTOS[i % len(PHOTOS)])()[..., :3]
        buf = io.BytesIO()
        Image.fromarray(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)).save(buf, "PNG")
        out.append(buf.getvalue())
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`enhance serve` in a child process with its own data dir, the model preloaded."""

    def __init__(self, model: str, max_batch: int, device: str) -> None:
        self.port = _free_port()
        self._data = tempfile.TemporaryDirectory()
        env = {
            **os.environ,
            "ENHANCE_PORT": str(self.port),
            "ENHANCE_DATA_DIR": self._data.name,
            "ENHANCE_WEIGHTS_DIR": str(ROOT / "weights"),
            "ENHANCE_PRELOAD": json.dumps([model]),
            "ENHANCE_DEVICE": device,
            "ENHANCE_MAX_BATCH": str(max_batch),
        }
        self._proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("enhance")), "serve"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self._proc.poll() is not None:
                raise RuntimeError("the server exited during start-up")
            time.sleep(0.5)
        raise TimeoutError("the server did not become ready")

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        self._proc.wait(30)
        self._data.cleanup()

    def tiles_per_call(self) -> float:
        text = httpx.get(f"{self.url}/metrics").text
        total = float(re.search(r"^enhance_batch_tiles_sum (\S+)", text, re.M).group(1))  # type: ignore[union-attr]
        count = float(re.search(r"^enhance_batch_tiles_count (\S+)", text, re.M).group(1))  # type: ignore[union-attr]
        return total / count if count else 0.0


def _post(url: str, model: str, body: bytes) -> float:
    started = time.perf_counter()
    response = httpx.post(
        f"{url}/v1/images/enhance", params={"model": model}, files={"file": ("in.png", body)}, timeout=600
    )
    response.raise_for_status()
    return time.perf_counter() - started


def _measure(server: Server, model: str, inputs: list[bytes], concurrent: bool, rounds: int) -> dict[str, float]:
    """`rounds` rounds of all `inputs`, in flight together or one by one; walls and latencies pooled."""
    _post(server.url, model, inputs[0])  # warm-up: first call's kernel selection
    wall, latencies = 0.0, []
    for _ in range(rounds):
        started = time.perf_counter()
        if concurrent:
            with ThreadPoolExecutor(max_workers=len(inputs)) as pool:
                latencies += pool.map(lambda body: _post(server.url, model, body), inputs)
        else:
            latencies += [_post(server.url, model, body) for body in inputs]
        wall += time.perf_counter() - started
    return {
        "wall_s": wall / rounds,
        "throughput_rps": len(latencies) / wall,
        "median_latency_s": statistics.median(latencies),
        "max_latency_s": max(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="realesrgan-x4plus")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    inputs = _inputs(args.clients, args.size)

    rows: dict[str, dict[str, float]] = {}
    batched = f"{args.clients} concurrent, max_batch={args.max_batch}"
    unbatched = f"{args.clients} concurrent, max_batch=1"
    with Server(args.model, args.max_batch, args.device) as server:
        rows["one by one"] = _measure(server, args.model, inputs, False, args.rounds)
        rows[batched] = _measure(server, args.model, inputs, True, args.rounds)
        rows[batched]["tiles_per_call"] = server.tiles_per_call()
    with Server(args.model, 1, args.device) as server:
        rows[unbatched] = _measure(server, args.model, inputs, True, args.rounds)
    default = unbatched if args.device == "cpu" else batched

    solo = rows["one by one"]
    print(f"{args.model}, {args.size}x{args.size}, {args.clients} requests, device {args.device}")
    print(f"{args.rounds} rounds; latencies are relative to the median one-by-one request")
    print(f"{'mode':<32} {'wall s':>8} {'req/s':>7} {'vs 1-by-1':>9} {'median lat':>11} {'max lat':>8}")
    for name, row in rows.items():
        row["throughput_ratio"] = row["throughput_rps"] / solo["throughput_rps"]
        row["median_latency_over_solo"] = row["median_latency_s"] / solo["median_latency_s"]
        row["max_latency_over_solo"] = row["max_latency_s"] / solo["median_latency_s"]
        label = name + (" *" if name == default else "")
        print(
            f"{label:<32} {row['wall_s']:>8.2f} {row['throughput_rps']:>7.2f} {row['throughput_ratio']:>8.2f}x "
            f"{row['median_latency_over_solo']:>10.2f}x {row['max_latency_over_solo']:>7.2f}x"
        )
    RESULTS.mkdir(exist_ok=True)
    stem = f"concurrency_{args.model}_{args.size}_{args.device}"
    out = RESULTS / f"{stem}.json"
    payload = {
        "model": args.model,
        "size": args.size,
        "clients": args.clients,
        "device": args.device,
        "default": default,
        "rows": rows,
    }
    out.write_text(json.dumps(payload, indent=2))
    chart = bar_chart(
        RESULTS / f"{stem}.png",
        f"{args.model}, {args.clients} x {args.size}px requests on {args.device}: throughput",
        list(rows),
        [r["throughput_rps"] for r in rows.values()],
        "requests/s",
        highlight=list(rows).index(default),
        reference=1.3 * solo["throughput_rps"],
        reference_label="1.3x one by one (target)",
    )
    print(f"* the service's default on {args.device}")
    print(f"wrote {out} and {chart}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
