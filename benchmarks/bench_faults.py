"""Recovery under faults on the real scale-out path: seconds from a fault to the job recording frames again, and
to its end, with every frame checked exactly once, over repeated runs. Needs redis-server and PostgreSQL
(ENHANCE_TEST_PG).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_faults.py [--repeats 20] [--faults kill-task,stop] [--lease 3]

Uses the fault tests' cluster (tests/jobs/test_faults.py): an `enhance serve`, two Celery workers (fresh for each
run, preloading the job's model as an operator would with ENHANCE_PRELOAD), a redis-server of its own. The
results are written after every run (a run cut short keeps what it measured) to benchmarks/results/faults.json,
or `--out`; `--merge` keeps the faults of that file that this run does not measure.

- running again: the fault's start to the first frame recorded after it (the database's frame times), so a
  holder that takes the job over is only counted once it records a frame;
- claimed again: the fault's start to the job's last claim or takeover (none when its holder kept it);
- frames each once: the job succeeded with frames 0..N-1, each recorded once (none twice, none missing);
- lease lapsed before the fault: runs where the holder's renewals starved on the loaded machine and another
  worker had the job before the fault hit (the recovery measured is then that lapse's)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from app.core.config import Settings
from tests.jobs.test_faults import FRAMES, Cluster, RedisServer, _pid
from tests.support.images import CATALOG, FAST_MODEL
from tests.support.server import Server
from tests.support.services import PG_ADMIN, fresh_postgres

RESULTS = Path(__file__).parent / "results" / "faults.json"


def _kill_task(cluster: Cluster, holder: str) -> None:
    os.kill(_pid(holder), signal.SIGKILL)


def _kill_main(cluster: Cluster, holder: str) -> None:
    parent = int(Path(f"/proc/{_pid(holder)}/stat").read_text().rsplit(")", 1)[1].split()[1])
    os.kill(parent, signal.SIGKILL)


def _stop_past_lease(cluster: Cluster, holder: str) -> None:
    group = os.getpgid(_pid(holder))
    os.killpg(group, signal.SIGSTOP)
    lease = float(cluster.env["ENHANCE_JOB_LEASE_SECONDS"])
    time.sleep(lease * 3)
    os.killpg(group, signal.SIGCONT)


def _restart_redis(cluster: Cluster, holder: str) -> None:
    cluster.redis.stop()
    cluster.redis.start()


def _drop_connections(cluster: Cluster, holder: str) -> None:
    with cluster.store.engine.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )


# short name: (the table's name, the fault)
FAULTS: dict[str, tuple[str, Callable[[Cluster, str], None]]] = {
    "kill-task": ("SIGKILL the task's process", _kill_task),
    "kill-main": ("SIGKILL a worker's main process", _kill_main),
    "stop": ("SIGSTOP a worker past its lease, then SIGCONT", _stop_past_lease),
    "redis": ("restart Redis (no persistence)", _restart_redis),
    "pg": ("pg_terminate_backend every connection", _drop_connections),
}


def run_once(cluster: Cluster, short: str) -> dict[str, Any]:
    fault = FAULTS[short][1]
    job_id = cluster.submit()
    holder = cluster.wait_for(job_id, done=5)["worker_id"]
    at_fault = cluster.store.get(job_id)
    faulted, faulted_at = time.monotonic(), datetime.now(UTC)
    fault(cluster, holder)
    # On a loaded machine a short lease can lapse before the fault (the holder's renewals starved): the job had
    # already moved on, so this run did not test the fault. Counted, not hidden.
    run: dict[str, Any] = {"lapsed_before_fault": at_fault is None or at_fault.worker_id != holder}
    try:
        holders = cluster.assert_every_frame_once(job_id)
        run |= {"frames_each_once": True, "holders": len(set(holders))}
    except AssertionError as exc:
        run |= {"frames_each_once": False, "error": str(exc)[:500]}
    run["finished_s"] = time.monotonic() - faulted
    # A frame the dying holder committed as the fault hit is not the job running again: only the new holder's count
    # where the fault takes the holder away.
    moves = short in {"kill-task", "kill-main", "stop"}
    frames = cluster.store.frames(job_id)
    after = [f.finished_at for f in frames if f.finished_at > faulted_at and not (moves and f.worker_id == holder)]
    run["running_again_s"] = (min(after) - faulted_at).total_seconds() if after else None
    job = cluster.store.get(job_id)
    claimed = job.started_at if job is not None else None  # the last claim or takeover
    run["claimed_again_s"] = (claimed - faulted_at).total_seconds() if claimed and claimed > faulted_at else None
    return run


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    again = [r["running_again_s"] for r in runs if r.get("running_again_s") is not None]
    taken = [r["claimed_again_s"] for r in runs if r.get("claimed_again_s") is not None]
    table: dict[str, Any] = {
        "runs": len(runs),
        "frames_each_once": f"{sum(1 for r in runs if r.get('frames_each_once'))}/{len(runs)} x {FRAMES}",
        "lease_lapsed_before_fault": sum(1 for r in runs if r.get("lapsed_before_fault")),
        "running_again_s_max": round(max(again), 1) if again else None,
        "running_again_s_median": round(statistics.median(again), 1) if again else None,
        "finished_s_max": round(max(r["finished_s"] for r in runs), 1),
    }
    if taken:
        table |= {
            "claimed_again_s_max": round(max(taken), 1),
            "claimed_again_s_median": round(statistics.median(taken), 1),
        }
    return table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", "--repeat", type=int, default=1)
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, of: {', '.join(FAULTS)}")
    parser.add_argument("--lease", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--merge", action="store_true", help="keep the other faults already in --out")
    parser.add_argument("--logs", type=Path, help="keep the workers' and the API's logs in this folder")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.faults.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in FAULTS]
    if unknown:
        parser.error(f"--faults: unknown {unknown}; known: {list(FAULTS)}")
    previous = json.loads(args.out.read_text()) if args.merge and args.out.exists() else {}
    settings = Settings(catalog_path=CATALOG, device="cpu", _env_file=None)  # type: ignore[call-arg]
    results: dict[str, list[dict[str, Any]]] = {}

    def write() -> None:
        faults = {k: v for k, v in previous.get("faults", {}).items() if k not in {FAULTS[c][0] for c in chosen}}
        runs = {k: v for k, v in previous.get("runs", {}).items() if k in faults}
        faults |= {name: summary(r) for name, r in results.items()}
        runs |= results
        report = {
            "lease_s": args.lease,
            "frames": FRAMES,
            "model": FAST_MODEL,
            "cpu": _cpu(),
            "postgres": PG_ADMIN,
            "faults": faults,
            "runs": runs,
        }
        args.out.write_text(json.dumps(report, indent=2) + "\n")

    with tempfile.TemporaryDirectory() as folder, fresh_postgres() as database:
        data_dir = Path(args.logs) if args.logs else Path(folder)
        data_dir.mkdir(parents=True, exist_ok=True)
        redis = RedisServer(data_dir)
        redis.start()
        api = Server(settings, data_dir)
        api.log = data_dir / "api.log"
        api.env |= {
            "ENHANCE_QUEUE": "celery",
            "ENHANCE_BROKER_URL": redis.url,
            "ENHANCE_DATABASE_URL": database,
            "ENHANCE_JOB_LEASE_SECONDS": str(args.lease),
        }
        api.start()
        cluster = Cluster(api.env | {"ENHANCE_PRELOAD": json.dumps([FAST_MODEL])}, api, redis, data_dir, database)
        try:
            for repeat in range(args.repeats):
                for short in chosen:
                    name = FAULTS[short][0]
                    try:
                        cluster.start_worker("a")
                        cluster.start_worker("b")
                        run = run_once(cluster, short)
                    except Exception as exc:  # a run that broke the harness is counted, not fatal to the rest
                        run = {"frames_each_once": False, "error": repr(exc)[:500], "finished_s": float("nan")}
                        traceback.print_exc()
                    finally:
                        cluster.stop_workers()
                    results.setdefault(name, []).append(run)
                    write()
                    print(repeat + 1, short, json.dumps(run), flush=True)
        finally:
            cluster.stop_workers()
            api.kill()
            redis.stop()
    print(json.dumps({name: summary(runs) for name, runs in results.items()}, indent=2))


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()} x {os.cpu_count()}"
    return f"{os.cpu_count()} cores"


if __name__ == "__main__":
    main()
