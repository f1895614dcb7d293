"""The composition root: one `build_services(settings)` builds the long-lived objects for the API, the CLI and the
Celery worker, so the three never wire them differently.

- `api`: the device is the batcher's device thread (image requests and the embedded worker share it).
- `inline`: the CLI and the Celery worker make model calls in the calling thread (one thing at a time per process).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app.core.config import Settings
from app.core.errors import Misconfigured
from app.core.quotas import Quotas
from app.inference.batcher import DynamicBatcher, auto_max_batch
from app.inference.deblur import CLASSICAL
from app.inference.device import Device, InlineExecutor
from app.inference.memory import MemoryBudget, budget_bytes
from app.inference.pacing import Pacing
from app.inference.tiling import call_budget
from app.jobs.local import LocalWorker
from app.jobs.maintenance import Maintenance
from app.jobs.models import JobRecord
from app.jobs.pipeline import JobContext
from app.jobs.queue import JobQueue
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore
from app.jobs.webhooks import WebhookSender
from app.jobs.worker_health import WorkerBeat
from app.models.catalog import Catalog
from app.models.registry import ModelRegistry


@dataclass
class Services:
    settings: Settings
    device: Device
    store: JobStore
    storage: JobStorage
    quotas: Quotas

    @property
    def registry(self) -> ModelRegistry:
        return self.device.registry

    @property
    def batcher(self) -> DynamicBatcher | None:
        """The API's device thread; None where model calls run inline."""
        executor = self.device.executor
        return executor if isinstance(executor, DynamicBatcher) else None

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()
        self.store.engine.dispose()


def check_settings(settings: Settings, catalog: Catalog) -> None:
    """Settings that name models must name the right kind of catalogue entry: a mistake stops the process at
    start-up (`Misconfigured`) instead of reaching every client as a 4xx."""
    problems = []
    known = {entry.id: entry.task for entry in catalog.entries}
    if known.get(settings.default_model) != "upscale":
        problems.append(f"ENHANCE_DEFAULT_MODEL={settings.default_model!r} is not an upscaler in the catalogue")
    video = settings.default_video_model
    if video and known.get(video) != "upscale":
        problems.append(f"ENHANCE_DEFAULT_VIDEO_MODEL={video!r} is not an upscaler in the catalogue")
    deblur = settings.default_deblur_model
    if deblur and deblur != CLASSICAL and known.get(deblur) != "deblur":
        problems.append(f"ENHANCE_DEFAULT_DEBLUR_MODEL={deblur!r} is neither a deblur model nor 'classical'")
    problems += [
        f"ENHANCE_PRELOAD names {m!r}, which the catalogue does not list" for m in settings.preload if m not in known
    ]
    if problems:
        raise Misconfigured("; ".join(problems))


def build_services(
    settings: Settings,
    mode: Literal["api", "inline"],
    registry: ModelRegistry | None = None,
    jobs_root: Path | None = None,
) -> Services:
    """`registry` lets tests share one loaded registry; `jobs_root` puts the store and job folders elsewhere (the
    CLI runs its jobs in a temporary folder)."""
    quotas = Quotas(settings)
    device = build_device(settings, mode, registry, quotas.spend_device)
    if jobs_root is None:
        store, storage = JobStore(settings.database), JobStorage(settings.jobs_dir)
    else:
        store, storage = JobStore(f"sqlite:///{jobs_root / 'jobs.db'}"), JobStorage(jobs_root / "jobs")
    return Services(settings, device, store, storage, quotas)


def build_device(
    settings: Settings,
    mode: Literal["api", "inline"],
    registry: ModelRegistry | None = None,
    spend: Callable[[str, float], None] | None = None,
) -> Device:
    """The device owner alone (what `enhance image` needs): its registry, checked settings and executor."""
    registry = registry or ModelRegistry(settings)
    check_settings(settings, registry.catalog)
    memory = MemoryBudget(
        budget_bytes(settings.memory_budget_bytes, settings.memory_budget_share, registry.device.type),
        settings.memory_max_waiting,
        settings.memory_wait_seconds,
    )
    pacing = Pacing(settings.call_seconds, settings.idle_call_seconds, settings.interactive_window_seconds)
    if mode == "api":
        batcher = DynamicBatcher(
            auto_max_batch(settings, registry.device),
            settings.batch_wait_ms / 1000,
            lambda model: call_budget(model, pacing.seconds()),
        )
        return Device(registry, batcher, memory, pacing, spend)
    return Device(registry, InlineExecutor(), memory, pacing, spend)


@dataclass
class JobRuntime:
    """The API process's side of the jobs wing: the queue it submits to, the embedded worker (none under Celery),
    the maintenance thread (lease reaper, retention, re-announcing queued jobs) and the webhook sender."""

    queue: JobQueue
    worker: LocalWorker | None
    maintenance: Maintenance
    webhooks: WebhookSender
    heartbeats: Callable[[], list[WorkerBeat]] | None  # Celery: the workers' liveness, for /metrics

    def start(self) -> None:
        if self.worker is not None:
            self.worker.start()
        self.maintenance.start()
        self.webhooks.start()

    def stop(self) -> None:
        self.maintenance.stop()
        self.webhooks.stop()
        if self.worker is not None:
            self.worker.stop()


def build_job_runtime(services: Services, artifact_links: Callable[[JobRecord], list[dict[str, Any]]]) -> JobRuntime:
    """What the API runs beside its routes: the embedded worker on this device, or the Celery queue
    (`ENHANCE_QUEUE=celery`). `artifact_links` gives the links a job's webhook event lists."""
    settings = services.settings
    worker: LocalWorker | None = None
    queue: JobQueue
    backlog: Callable[[], int] | None = None  # Celery: messages waiting in the broker
    heartbeats: Callable[[], list[WorkerBeat]] | None = None
    if settings.queue == "celery":
        from app.jobs.celery_app import CeleryQueue, make_celery  # celery is the [scale] extra

        celery_queue = CeleryQueue(make_celery(settings))
        queue, backlog, heartbeats = celery_queue, celery_queue.backlog, celery_queue.workers.read
    else:
        ctx = JobContext(settings, services.store, services.storage, services.device, LocalWorker.default_id())
        queue = worker = LocalWorker(ctx)
    maintenance = Maintenance(settings, services.store, services.storage, queue, backlog)
    webhooks = WebhookSender(settings, services.store, artifact_links)
    return JobRuntime(queue, worker, maintenance, webhooks, heartbeats)
