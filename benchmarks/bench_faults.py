"""Recovery under faults on the real scale-out path: seconds from a fault to the job recording frames again, and
to its end, with every frame checked exactly once. Needs redis-server and PostgreSQL (ENHANCE_TEST_PG).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_faults.py [--repeat 20] [--lease 3]

Uses the fault tests' cluster (tests/jobs/test_faults.py): an `enhance serve`, Celery workers, a redis-server of
its own. Writes benchmarks/results/faults.json."""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from app.core.config import Settings
from tests.jobs.test_faults import FRAMES, Cluster, RedisServer, _pid
from tests.support.images import CATALOG
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


FAULTS: dict[str, Callable[[Cluster, str], None]] = {
    "SIGKILL the task's process": _kill_task,
    "SIGKILL a worker's main process": _kill_main,
    "SIGSTOP a worker past its lease, then SIGCONT": _stop_past_lease,
    "restart Redis (no persistence)": _restart_redis,
    "pg_terminate_backend every connection": _drop_connections,
}


def run_once(cluster: Cluster, fault: Callable[[Cluster, str], None]) -> dict[str, float]:
    job_id = cluster.submit()
    holder = cluster.wait_for(job_id, done=5)["worker_id"]
    faulted = time.monotonic()
    fault(cluster, holder)
    done_at_fault = cluster.job(job_id)["progress"]["done"]
    while (job := cluster.job(job_id))["progress"]["done"] <= done_at_fault and job["status"] != "succeeded":
        time.sleep(0.1)
    running_again = time.monotonic() - faulted
    holders = cluster.assert_every_frame_once(job_id)
    return {"running_again_s": running_again, "finished_s": time.monotonic() - faulted, "holders": len(set(holders))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--lease", type=float, default=3.0)
    args = parser.parse_args()
    settings = Settings(catalog_path=CATALOG, device="cpu", _env_file=None)  # type: ignore[call-arg]
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as folder, fresh_postgres() as database:
        data_dir = Path(folder)
        redis = RedisServer(data_dir)
        redis.start()
        api = Server(settings, data_dir)
        api.env |= {
            "ENHANCE_QUEUE": "celery",
            "ENHANCE_BROKER_URL": redis.url,
            "ENHANCE_DATABASE_URL": database,
            "ENHANCE_JOB_LEASE_SECONDS": str(args.lease),
        }
        api.start()
        cluster = Cluster(api.env, api, redis, data_dir, database)
        try:
            for name, fault in FAULTS.items():
                for _ in range(args.repeat):
                    cluster.start_worker("a")
                    cluster.start_worker("b")
                    results.setdefault(name, []).append(run_once(cluster, fault))
                    cluster.stop_workers()
                    print(name, results[name][-1], flush=True)
        finally:
            cluster.stop_workers()
            api.kill()
            redis.stop()
    table = {
        name: {
            "runs": len(runs),
            "frames_each_once": f"{len(runs)}/{len(runs)} x {FRAMES}",
            "running_again_s_max": round(max(r["running_again_s"] for r in runs), 1),
            "finished_s_max": round(max(r["finished_s"] for r in runs), 1),
        }
        for name, runs in results.items()
    }
    RESULTS.write_text(json.dumps({"lease_s": args.lease, "postgres": PG_ADMIN, "faults": table}, indent=2) + "\n")
    print(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
