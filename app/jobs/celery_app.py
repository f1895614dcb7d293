"""Scale-out worker: the same `run_job` as the embedded mode, on Celery with Redis as broker and the shared
SQLAlchemy store (PostgreSQL).

    ENHANCE_QUEUE=celery ENHANCE_BROKER_URL=redis://... ENHANCE_DATABASE_URL=postgresql+psycopg://... \\
        celery -A app.jobs.celery_app worker --concurrency 1        (or: enhance worker)

Nothing is built at import time: `celery -A app.jobs.celery_app` reads `app`, which is made from `Settings()` on
first access (`make_celery` for the API and the CLI, with their own settings).

Delivery: late acknowledgement, rejected (so requeued) when the worker process dies, one message prefetched at a
time, and a broker visibility timeout longer than the longest allowed job. A redelivered job is taken over once
its old holder is gone (`takeover.acquire`) and resumes after its recorded frames, so execution is at-least-once
and frames/artifacts are produced exactly once.

A pool process builds its services (`build_services`, the one composition root) and loads ENHANCE_PRELOAD's models
in a background thread started by `worker_process_init` (or on its first task, whichever comes first), never in
the handler itself: a replacement process answers Celery's start-up handshake at once however long a model takes
to load, and an idle process is warm when a job is handed over to it. `WorkerHealth` publishes the worker's
liveness and stops a worker whose processes cannot start, with a non-zero exit, so its supervisor restarts it
instead of it reserving messages it cannot run.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import Celery, bootsteps
from celery.signals import worker_process_init

from app.core.config import Settings
from app.inference.device import Priority
from app.jobs.models import JobStatus
from app.jobs.pipeline import JobContext, run_job, run_segments
from app.jobs.takeover import acquire, holder_is_dead
from app.jobs.worker_health import BEAT_SECONDS, StartWatch, WorkerBeat

log = logging.getLogger(__name__)
TASK_NAME = "enhance.run_job"
SEGMENT_TASK = "enhance.run_segments"  # a share of a segmented video job held by another worker
QUEUE = "enhance"
PRIORITY_SEP, PRIORITY_STEPS = "\x06\x16", (0, 3, 6, 9)  # kombu's Redis transport: one list per priority step


class WorkerRuntime:
    """One pool process's job context, built in the background as the process starts (`warm`, which Celery's
    start-up handshake does not wait for), or on its first task, whichever comes first: process start-up costs
    nothing, and a job handed over to a process that has been idle does not pay the model load before its first
    frame."""

    def __init__(self, settings: Settings, build: Callable[[Settings], JobContext] | None = None) -> None:
        self.settings = settings
        self._build = build or build_context
        self._context: JobContext | None = None
        self._lock = threading.Lock()
        self.registry: WorkerRegistry | None = None  # made when first needed (not in a process that sends tasks)

    def context(self) -> JobContext:
        with self._lock:
            if self._context is None:
                self._context = self._build(self.settings)
                log.info("worker %s ready on %s", self._context.worker_id, self._context.device.torch_device)
            return self._context

    def holder_is_dead(self, holder: str) -> bool:
        """The holder's process is gone: on this host by its pid, on another by its worker's word (the main process
        records a pool process that died with a job, before Celery redelivers the job: `WorkerHealth`)."""
        if holder_is_dead(holder):
            return True
        try:
            return self._registry().is_dead(holder)
        except Exception:  # the broker is away: the holder's lease decides
            log.warning("could not read the dead processes' table", exc_info=True)
            return False

    def _registry(self) -> WorkerRegistry:
        if self.registry is None:
            self.registry = WorkerRegistry(self.settings.broker_url)
        return self.registry

    def warm(self) -> threading.Thread:
        """Build the context and load ENHANCE_PRELOAD's models in a background thread, returning at once (called in
        `worker_process_init`, which must not outlast the handshake). A task that arrives meanwhile waits for the
        same build (the lock) and the same model loads (the registry's per-model locks) instead of repeating them."""
        thread = threading.Thread(target=self._warm, name="warm-up", daemon=True)
        thread.start()
        return thread

    def _warm(self) -> None:
        try:  # a new process may reuse a dead one's pid: it is alive again
            self._registry().forget_dead(socket.gethostname(), os.getpid())
        except Exception:
            log.warning("could not clear this process from the dead processes' table", exc_info=True)
        try:
            self.context().device.preload(self.settings.preload)
        except Exception:  # the first task builds (and reports) it again
            log.exception("warming up this worker process failed; its first task will try again")


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
    # The worker's composition root is `build_services`, like the API's and the CLI's (a deliberate, declared
    # exception to the layers: Celery finds this module by path).
    from app.services import build_services

    worker_settings = _process_device(base)
    services = build_services(worker_settings, "inline")  # one job at a time per process: calls run inline
    return JobContext(
        worker_settings,
        services.store,
        services.storage,
        services.device,
        f"celery:{socket.gethostname()}:{os.getpid()}",
    )


RESUMES = 3  # a job handed back mid-run (its database connection dropped) is taken again this many times here


def run_task(runtime: WorkerRuntime, job_id: str) -> str:
    ctx = runtime.context()
    lease = ctx.settings.job_lease_seconds
    status: JobStatus | None = JobStatus.QUEUED
    for _ in range(RESUMES):
        held = acquire(
            ctx.store, job_id, ctx.worker_id, lease, ctx.settings.max_attempts, is_dead=runtime.holder_is_dead
        )
        if held is None:
            return "skipped"  # finished, cancelled or deleted meanwhile, or a live worker holds it
        job = ctx.store.get(job_id)
        # The session charges the owner's device time (shared with the API through ENHANCE_RATE_LIMIT_STORAGE).
        with ctx.device.session(Priority.JOB, (job.owner if job is not None else None) or ""):
            status = run_job(ctx, job_id)
        if status is not JobStatus.QUEUED:
            break
    return status.value if status else "deleted"


def run_segment_task(runtime: WorkerRuntime, job_id: str) -> str:
    """Restore the segments of `job_id` nobody holds (its holder announced them); the holder publishes."""
    ctx = runtime.context()
    job = ctx.store.get(job_id)
    if job is None or job.status is not JobStatus.RUNNING:
        return "skipped"
    with ctx.device.session(Priority.JOB, job.owner or ""):
        finished = run_segments(ctx, job_id)
    return f"{finished} segments"


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
        broker_connection_max_retries=None,  # a broker restart is waited out, not fatal
        task_default_queue=QUEUE,
        worker_hijack_root_logger=False,
    )
    runtime = WorkerRuntime(settings)

    @app.task(name=TASK_NAME)  # type: ignore[untyped-decorator]  # Celery ships no type information
    def run_job_task(job_id: str) -> str:
        runtime.context().announce_segments = announce_segments
        return run_task(runtime, job_id)

    @app.task(name=SEGMENT_TASK)  # type: ignore[untyped-decorator]
    def run_segments_task(job_id: str) -> str:
        return run_segment_task(runtime, job_id)

    def announce_segments(job_id: str, count: int) -> None:
        """One task per segment the job's holder leaves to others: each idle worker takes one and restores
        segments until none is free."""
        for _ in range(count):
            app.send_task(SEGMENT_TASK, args=[job_id], queue=QUEUE)

    class Health(bootsteps.StartStopStep):  # type: ignore[misc]
        requires = ("celery.worker.components:Pool",)

        def __init__(self, worker: Any, **_: Any) -> None:
            self.health: WorkerHealth | None = None
            # Made before the pool forks, in worker processes only (not where the app just sends tasks): each pool
            # process warms up once it has started. A strong reference: Celery's signals hold weak ones by default.
            worker_process_init.connect(lambda **_: runtime.warm(), weak=False)

        def start(self, worker: Any) -> None:
            self.health = WorkerHealth(worker, WorkerRegistry(settings.broker_url), settings.worker_start_seconds)
            self.health.start()

        def stop(self, worker: Any) -> None:
            if self.health is not None:
                self.health.stop()

    app.steps["worker"].add(Health)
    return app


class WorkerRegistry:
    """The workers' heartbeats, in one Redis hash on the broker (`/metrics` reads it through `CeleryQueue`)."""

    KEY = "enhance:workers"
    DEAD_KEY = "enhance:dead-processes"  # "<host>:<pid>" -> when its worker saw it die holding a task
    FORGET_AFTER_SECONDS = 3600.0  # a worker gone this long leaves the table (and the metrics)

    def __init__(self, broker_url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=2)

    def publish(self, beat: WorkerBeat) -> None:
        self.client.hset(self.KEY, beat.name, beat.to_json())

    def mark_dead(self, host: str, pid: int) -> None:
        self.client.hset(self.DEAD_KEY, f"{host}:{pid}", time.time())

    def forget_dead(self, host: str, pid: int) -> None:
        self.client.hdel(self.DEAD_KEY, f"{host}:{pid}")

    def is_dead(self, worker_id: str) -> bool:
        """True when `worker_id` (`celery:<host>:<pid>`) names a pool process its worker saw die."""
        kind, _, place = worker_id.partition(":")
        return kind == "celery" and bool(self.client.hexists(self.DEAD_KEY, place))

    def read(self) -> list[WorkerBeat]:
        now = time.time()
        beats = [WorkerBeat.from_json(v) for v in self.client.hgetall(self.KEY).values()]
        for gone in [b for b in beats if now - b.seen > self.FORGET_AFTER_SECONDS]:
            self.client.hdel(self.KEY, gone.name)
        for place, when in self.client.hgetall(self.DEAD_KEY).items():
            if now - float(when) > self.FORGET_AFTER_SECONDS:
                self.client.hdel(self.DEAD_KEY, place)
        return [b for b in beats if now - b.seen <= self.FORGET_AFTER_SECONDS]


class WorkerHealth:
    """In the worker's main process: a beat every `BEAT_SECONDS`, and a warm shutdown with exit code 1 once no pool
    process has been ready for `start_seconds` (consuming stops; unacknowledged messages go back to the broker)."""

    def __init__(self, worker: Any, registry: WorkerRegistry, start_seconds: float) -> None:
        self.worker, self.registry = worker, registry
        self.watch = StartWatch(start_seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="worker-health", daemon=True)

    def start(self) -> None:
        self.record_lost_processes()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def record_lost_processes(self) -> None:
        """Have the pool record a process that died running a task as dead before it hands the task back to the
        broker: the redelivered task, on any host, then takes its job over at once instead of waiting out the dead
        holder's lease (the pid alone proves it only on this host)."""
        pool: Any = getattr(getattr(self.worker, "pool", None), "_pool", None)
        lost = getattr(pool, "on_job_process_lost", None)
        if lost is None:
            return  # solo or threads: the worker's own process runs the tasks
        host = socket.gethostname()

        def on_job_process_lost(job: Any, pid: int, exitcode: int) -> None:
            try:
                self.registry.mark_dead(host, pid)
            except Exception:  # the broker is away: the holder's lease decides
                log.warning("could not record pool process %s as dead", pid, exc_info=True)
            lost(job, pid, exitcode)

        pool.on_job_process_lost = on_job_process_lost

    def pool_ready(self) -> tuple[int, int]:
        """(processes it should have, processes started and answering)."""
        wanted = int(self.worker.concurrency or 1)
        pool = getattr(getattr(self.worker, "pool", None), "_pool", None)
        if pool is None or not hasattr(pool, "_waiting_to_start"):
            return wanted, wanted  # solo or threads: the worker's own process runs the tasks
        waiting = pool._waiting_to_start
        return wanted, sum(1 for p in list(pool._pool) if p.is_alive() and p not in waiting)

    def _loop(self) -> None:
        from celery.worker import state

        host = socket.gethostname()
        while not self._stop.wait(BEAT_SECONDS):
            wanted, ready = self.pool_ready()
            beat = WorkerBeat(
                self.worker.hostname, host, os.getpid(), wanted, ready, len(state.active_requests), time.time()
            )
            try:
                self.registry.publish(beat)
            except Exception:  # the broker is briefly away: the next beat tries again
                log.warning("could not publish this worker's heartbeat", exc_info=True)
            if self.watch.give_up(ready):
                log.error(
                    "no pool process has started for %.0f s: stopping this worker (exit code 1)", self.watch.deadline
                )
                state.should_stop = 1
                return


class CeleryQueue:
    """The API's side: jobs are stored first, then announced to the workers."""

    def __init__(self, app: Celery) -> None:
        self.app = app
        self.workers = WorkerRegistry(str(app.conf.broker_url))

    def enqueue(self, job_id: str) -> None:
        self.app.send_task(TASK_NAME, args=[job_id], queue=QUEUE)

    def backlog(self) -> int:
        """Messages waiting in the broker for a worker (not counting the ones workers hold): the lengths of the
        Redis lists behind the queue, one per priority step (a broker restart leaves none, and kombu's passive
        declare would then raise instead of saying 0)."""
        names = [QUEUE] + [f"{QUEUE}{PRIORITY_SEP}{step}" for step in PRIORITY_STEPS[1:]]
        return sum(int(self.workers.client.llen(name)) for name in names)


_app: Celery | None = None


def __getattr__(name: str) -> Any:
    """`app` / `celery_app`, made on first access (`celery -A app.jobs.celery_app` asks for `app`), not at import."""
    global _app
    if name not in {"app", "celery_app"}:
        raise AttributeError(name)
    if _app is None:
        _app = make_celery(Settings())
    return _app
