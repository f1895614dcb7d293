"""Prometheus instruments and collectors of the service (the HTTP ones live with the API middleware)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.jobs.models import JobStatus  # a leaf module: the job states, nothing else

if TYPE_CHECKING:
    from app.jobs.store import JobStore


FRAMES = Counter("enhance_frames_processed_total", "Frames restored by jobs", ["model"])
STAGE_SECONDS = Histogram(
    "enhance_stage_seconds",
    "Seconds spent per pipeline stage",
    ["stage"],
    buckets=(0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
MODEL_LOAD_SECONDS = Histogram(
    "enhance_model_load_seconds",
    "Model load time (checksum, weights, precision probe)",
    ["model"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120),
)
BATCH_TILES = Histogram(
    "enhance_batch_tiles",
    "Tiles per model call made by the device batcher (above 1: concurrent requests shared a call)",
    buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32),
)


class ServiceCollector(Collector):
    """Scrape-time gauges: jobs by status, queue depth and, on CUDA, device memory. One per process, registered
    once; each running app attaches its job store while it is up."""

    def __init__(self) -> None:
        self.stores: list[JobStore] = []

    def collect(self) -> Iterator[Metric]:
        counts: dict[str, int] = {}
        for store in list(self.stores):
            for status, count in store.count_by_status().items():
                counts[status] = counts.get(status, 0) + count
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


SERVICE = ServiceCollector()
REGISTRY.register(SERVICE)
