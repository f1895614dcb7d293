"""Prometheus metrics: request count and latency by route template and status."""

from __future__ import annotations

import time
from collections.abc import Iterator

import torch
from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.jobs.models import JobStatus
from app.jobs.store import JobStore

REQUESTS = Counter("enhance_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "enhance_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)


class RequestMetricsMiddleware:
    """Pure ASGI (BaseHTTPMiddleware would re-wrap the request stream and hide the body limiter's 413)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")  # templates, not raw paths: bounded label cardinality
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


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
