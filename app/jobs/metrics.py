"""Scrape-time gauges of one app's jobs and device: jobs by status, queue depth and, on CUDA, device memory.

Each app has its own registry holding its own collector (`/metrics` serves it after the process-wide one), so no
process-global list of stores is needed and two apps in one process (tests) never count each other's jobs."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.jobs.models import JobStatus
from app.jobs.store import JobStore


class JobsCollector(Collector):
    def __init__(self, store: JobStore) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        counts = self.store.count_by_status()
        jobs = GaugeMetricFamily("enhance_jobs", "Jobs by status", labels=["status"])
        for status in JobStatus:
            jobs.add_metric([status.value], counts.get(status.value, 0))
        yield jobs
        yield GaugeMetricFamily("enhance_queue_depth", "Jobs waiting for a worker", value=counts.get("queued", 0))
        if torch.cuda.is_available():
            memory = GaugeMetricFamily("enhance_gpu_memory_bytes", "CUDA memory", labels=["device", "kind"])
            for index in range(torch.cuda.device_count()):
                memory.add_metric([str(index), "allocated"], torch.cuda.memory_allocated(index))
                memory.add_metric([str(index), "reserved"], torch.cuda.memory_reserved(index))
            yield memory


def jobs_registry(store: JobStore) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(JobsCollector(store))
    return registry
