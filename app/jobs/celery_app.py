"""Scale-out worker: the same `run_job` as the embedded mode, on Celery with Redis as broker and the shared
SQLAlchemy store (PostgreSQL).

    ENHANCE_QUEUE=celery ENHANCE_BROKER_URL=redis://... ENHANCE_DATABASE_URL=postgresql+psycopg://... \\
        celery -A app.jobs.celery_app worker --concurrency 1        (or: enhance worker)

Delivery: late acknowledgement, rejected (so requeued) when the worker process dies, one message prefetched at a
time, and a broker visibility timeout longer than the longest allowed job. A redelivered job is claimed again and
resumes after its recorded frames, so execution is at-least-once and frames/artifacts are produced exactly once.
Models are loaded once per worker process (`worker_process_init`); each process takes one GPU.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from app.core.config import Settings
from app.jobs.pipeline import JobContext, run_job
from app.services import build_services

log = logging.getLogger(__name__)
TASK_NAME = "enhance.run_job"


def make_celery(settings: Settings) -> Celery:
    app = Celery("enhance", broker=settings.broker_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.job_timeout_seconds,
        broker_transport_options={"visibility_timeout": settings.job_timeout_seconds + 3600},
        broker_connection_retry_on_startup=True,
        task_default_queue="enhance",
        worker_hijack_root_logger=False,
    )
    return app


settings = Settings()
celery_app = make_celery(settings)
app = celery_app  # `celery -A app.jobs.celery_app` finds `app`
_context: JobContext | None = None


def _process_device(base: Settings) -> Settings:
    """One GPU per worker process: with several GPUs and `auto`, process N takes GPU N modulo the count."""
    if base.device != "auto":
        return base
    import torch

    count = torch.cuda.device_count()
    if count <= 1:
        return base
    from billiard.process import current_process

    index = getattr(current_process(), "index", 0) or 0
    return base.model_copy(update={"device": f"cuda:{index % count}"})


def build_context(base: Settings) -> JobContext:
    worker_settings = _process_device(base)
    services = build_services(worker_settings, "inline")  # one job at a time per process: calls run inline
    services.device.preload(worker_settings.preload or [worker_settings.default_model])
    return JobContext(
        worker_settings,
        services.store,
        services.storage,
        services.device,
        f"celery:{socket.gethostname()}:{os.getpid()}",
    )


@worker_process_init.connect  # type: ignore[untyped-decorator]  # Celery ships no type information
def _load_models(**_: Any) -> None:
    global _context
    _context = build_context(settings)
    log.info("worker %s ready on %s", _context.worker_id, _context.device.torch_device)


def context() -> JobContext:
    global _context
    if _context is None:  # --pool=solo or threads: no worker_process_init
        _context = build_context(settings)
    return _context


@celery_app.task(name=TASK_NAME)  # type: ignore[untyped-decorator]
def run_job_task(job_id: str) -> str:
    ctx = context()
    if ctx.store.claim(job_id, ctx.worker_id, ctx.settings.job_lease_seconds) is None:
        return "skipped"  # finished, cancelled or deleted meanwhile
    status = run_job(ctx, job_id)
    return status.value if status else "deleted"


class CeleryQueue:
    """The API's side: jobs are stored first, then announced to the workers."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def enqueue(self, job_id: str) -> None:
        self.app.send_task(TASK_NAME, args=[job_id])
