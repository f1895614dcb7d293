"""/healthz under a flood of idle and half-open connections (#24, item 5), against a real `enhance serve`.

Flooder processes open N connections to the server as fast as they can and hold them; some send nothing (idle),
some send a request line and stop (half-open headers). Meanwhile this process times `GET /healthz` on a fresh
connection every 0.2 s, as a liveness probe would, during the flood and while the connections are held.
Prints a table and writes JSON.

    .venv/bin/python benchmarks/bench_flood.py --connections 20000 --mode partial

The header deadline is set far beyond the run (ENHANCE_HEADER_TIMEOUT_SECONDS=600), so the connection cap, not
the deadline, is what the server relies on.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
PER_FLOODER = 5000  # sockets per flooder process (each process's own open-files limit bounds it)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _flood(port: int, count: int, partial: bool, opened: mp.Value, release: mp.Event) -> None:  # type: ignore[type-arg]
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held = []
    for _ in range(count):
        sock = socket.socket()
        sock.settimeout(30)
        try:
            sock.connect(("127.0.0.1", port))
            if partial:
                sock.sendall(b"GET / HTTP/1.1\r\n")
        except OSError:
            sock.close()
            continue
        held.append(sock)
        with opened.get_lock():
            opened.value += 1
    release.wait()
    for sock in held:
        sock.close()


def _probe(url: str) -> float | None:
    started = time.perf_counter()
    try:
        answer = httpx.get(f"{url}/healthz", timeout=30)
    except httpx.HTTPError:
        return None
    return time.perf_counter() - started if answer.status_code == 200 else None


def _summary(times: list[float | None]) -> dict[str, float | int | None]:
    ok = sorted(t for t in times if t is not None)
    return {
        "probes": len(times),
        "failed": len(times) - len(ok),
        "median_s": round(statistics.median(ok), 3) if ok else None,
        "max_s": round(ok[-1], 3) if ok else None,
    }


def run(connections: int, partial: bool, env: dict[str, str], hold_seconds: float) -> dict[str, object]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        server_env = {
            **os.environ,
            "ENHANCE_DATA_DIR": data,
            "ENHANCE_PORT": str(port),
            "ENHANCE_HEADER_TIMEOUT_SECONDS": "600",
            **env,
        }
        server = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "serve"],
            cwd=ROOT,
            env=server_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                if _probe(url) is not None:
                    break
                time.sleep(0.2)
            idle = [_probe(url) for _ in range(10)]
            opened = mp.Value("i", 0)
            release = mp.Event()
            flooders = [
                mp.Process(target=_flood, args=(port, min(PER_FLOODER, connections - i), partial, opened, release))
                for i in range(0, connections, PER_FLOODER)
            ]
            started = time.monotonic()
            for flooder in flooders:
                flooder.start()
            during: list[float | None] = []
            while opened.value < connections and time.monotonic() - started < 300:
                if all(not f.is_alive() for f in flooders):
                    break
                during.append(_probe(url))
                time.sleep(0.2)
            flood_s = time.monotonic() - started
            held: list[float | None] = []
            until = time.monotonic() + hold_seconds
            while time.monotonic() < until:
                held.append(_probe(url))
                time.sleep(0.2)
            release.set()
            for flooder in flooders:
                flooder.join(60)
            server_fds = len(os.listdir(f"/proc/{server.pid}/fd"))
        finally:
            server.kill()
            server.wait(10)
    return {
        "connections": connections,
        "opened": opened.value,
        "mode": "partial headers" if partial else "idle",
        "flood_seconds": round(flood_s, 1),
        "server_fds_after": server_fds,
        "idle": _summary(idle),
        "during_flood": _summary(during),
        "while_held": _summary(held),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--mode", choices=["idle", "partial", "both"], default="both")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to keep probing while the flood is held")
    parser.add_argument("--label", default="", help="a name for this run in the JSON (e.g. before/after)")
    parser.add_argument("--env", nargs="*", default=[], help="extra KEY=VALUE settings for the server")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    modes = [False, True] if args.mode == "both" else [args.mode == "partial"]
    rows = [run(n, partial, env, args.hold) for n in args.connections for partial in modes]
    cpu = _cpu_model()
    print(f"CPU: {cpu}, {os.cpu_count()} cores; server settings: {env or 'defaults'}")
    print(f"{'connections':>11} {'mode':>16} {'flood s':>8} | {'/healthz during flood':>28} | {'while held':>22}")
    for row in rows:
        d, h = row["during_flood"], row["while_held"]
        print(
            f"{row['connections']:>11} {row['mode']:>16} {row['flood_seconds']:>8} | "
            f"median {d['median_s']} max {d['max_s']} failed {d['failed']}/{d['probes']} | "  # type: ignore[index]
            f"max {h['max_s']} failed {h['failed']}/{h['probes']}"  # type: ignore[index]
        )
    RESULTS.mkdir(exist_ok=True)
    name = f"flood{'_' + args.label if args.label else ''}.json"
    (RESULTS / name).write_text(json.dumps({"cpu": cpu, "label": args.label, "env": env, "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
