"""Scrape-time gauges of one app's jobs and device: jobs by status, queue depth and, on CUDA, device memory.

Each app has its own registry holding its own collector (`/metrics` serves it after the process-wide one), so no
process-global list of stores is needed and two apps in one process (tests) never count each other's jobs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import torch
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.jobs.backlog import oldest_queued_seconds
from app.jobs.models import JobStatus
from app.jobs.store import JobStore
from app.jobs.worker_health import WorkerBeat

log = logging.getLogger(__name__)


class JobsCollector(Collector):
    def __init__(self, store: JobStore, workers: Callable[[], list[WorkerBeat]] | None = None) -> None:
        """`workers`: the scale-out workers' heartbeats (Celery); None in the embedded mode."""
        self.store, self.workers = store, workers

    def collect(self) -> Iterator[Metric]:
        counts = self.store.count_by_status()
        jobs = GaugeMetricFamily("enhance_jobs", "Jobs by status", labels=["status"])
        for status in JobStatus:
            jobs.add_metric([status.value], counts.get(status.value, 0))
        yield jobs
        yield GaugeMetricFamily("enhance_queue_depth", "Jobs waiting for a worker", value=counts.get("queued", 0))
        yield GaugeMetricFamily(
            "enhance_oldest_queued_job_seconds",
            "How long the longest-waiting queued job has waited (0: none queued)",
            value=oldest_queued_seconds(self.store),
        )
        if self.workers is not None:
            try:
                beats = self.workers()
            except Exception:  # the broker is away: the job gauges still answer
                log.warning("could not read the workers' heartbeats", exc_info=True)
            else:
                yield from _worker_metrics(beats)
        if torch.cuda.is_available():
            memory = GaugeMetricFamily("enhance_gpu_memory_bytes", "CUDA memory", labels=["device", "kind"])
            for index in range(torch.cuda.device_count()):
                memory.add_metric([str(index), "allocated"], torch.cuda.memory_allocated(index))
                memory.add_metric([str(index), "reserved"], torch.cuda.memory_reserved(index))
            yield memory


def _worker_metrics(beats: list[WorkerBeat]) -> Iterator[Metric]:
    now = time.time()
    labels = ["worker", "host"]
    up = GaugeMetricFamily("enhance_worker_up", "1 while the worker's heartbeat is fresh, else 0", labels=labels)
    age = GaugeMetricFamily(
        "enhance_worker_heartbeat_age_seconds", "Seconds since the worker's last beat", labels=labels
    )
    ready = GaugeMetricFamily(
        "enhance_worker_processes_ready", "Pool processes started and answering (of its concurrency)", labels=labels
    )
    busy = GaugeMetricFamily("enhance_worker_busy", "Tasks the worker is running", labels=labels)
    for beat in beats:
        key = [beat.name, beat.host]
        up.add_metric(key, 1 if beat.up(now) else 0)
        age.add_metric(key, max(0.0, now - beat.seen))
        ready.add_metric(key, beat.ready)
        busy.add_metric(key, beat.busy)
    yield from (up, age, ready, busy)
    yield GaugeMetricFamily(
        "enhance_workers_up", "Workers whose heartbeat is fresh", value=sum(b.up(now) for b in beats)
    )
    idle = sum(1 for b in beats if b.up(now) and b.ready > b.busy)
    yield GaugeMetricFamily("enhance_workers_idle", "Live workers with a ready process and nothing to run", value=idle)


def jobs_registry(store: JobStore, workers: Callable[[], list[WorkerBeat]] | None = None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(JobsCollector(store, workers))
    return registry
