"""create_app(): the FastAPI application: its services (from `build_services`), request executor, job queue,
routers and error handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from app import __version__
from app.api.access_log import AccessLogMiddleware
from app.api.auth import current_owner
from app.api.deps import ApiState
from app.api.limits import BodyLimitMiddleware, BodyRate
from app.api.loop_watch import LoopWatch
from app.api.metrics import RequestMetricsMiddleware, metrics_response
from app.api.openapi import install_openapi
from app.api.problems import install_problem_handlers
from app.api.quota import RateLimitHeaders
from app.api.routes import frames, health, images, jobs, models, scores, web
from app.api.shedding import SheddingMiddleware, route_classes
from app.core.config import Settings, get_settings
from app.inference.executor import RequestExecutor
from app.jobs.metrics import jobs_registry
from app.models.catalog import weight_states
from app.models.registry import ModelRegistry
from app.services import build_job_runtime, build_services

log = logging.getLogger(__name__)


def _report_preload(future: asyncio.Future[None]) -> None:
    # A model that fails to preload leaves /readyz at 503; say why in the log instead of losing the error.
    if not future.cancelled() and (exc := future.exception()) is not None:
        log.error("preloading models failed: %s", exc)


def valid_request_id(value: str) -> bool:
    """A client's X-Request-ID is kept when it is a plain token (a UUID, a trace id...); anything else is replaced."""
    return 0 < len(value) <= 128 and all(c.isalnum() or c in "-_.:" for c in value)


MULTIPART_SLACK = 1 << 20  # boundaries and part headers around the file


def body_limit(settings: Settings, path: str) -> int:
    if path.startswith("/v1/jobs"):
        return settings.max_job_upload_bytes + MULTIPART_SLACK
    if path.startswith("/v1/images/score"):
        return settings.max_upload_bytes * 4 + MULTIPART_SLACK
    if path.startswith("/v1/images"):
        return settings.max_upload_bytes + MULTIPART_SLACK
    return MULTIPART_SLACK


def create_app(settings: Settings | None = None, registry: ModelRegistry | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        services = await asyncio.to_thread(build_services, settings, "api", registry)
        executor = RequestExecutor(services.device, settings.image_concurrency)
        base = settings.public_url.rstrip("/")
        runtime = build_job_runtime(
            services,
            lambda job: [a.model_dump() for a in jobs.to_public(job, services.storage, settings, base).artifacts],
        )
        runtime.start()
        watch = LoopWatch(asyncio.get_running_loop())
        watch.start()
        app.state.api = ApiState(services, executor, runtime.queue)
        app.state.jobs_metrics = jobs_registry(services.store, runtime.heartbeats)
        # Hash the weight files once, off the loop: /v1/models, /readyz and deblur choices then read the cache.
        hashing = asyncio.ensure_future(
            asyncio.to_thread(weight_states, services.registry.catalog, settings.weights_path)
        )
        preload = asyncio.ensure_future(asyncio.to_thread(services.device.preload, settings.preload))
        preload.add_done_callback(_report_preload)
        try:
            yield
        finally:
            preload.cancel()
            hashing.cancel()
            watch.stop()
            await asyncio.to_thread(runtime.stop)
            executor.shutdown()
            services.close()

    # fastapi-offline serves Swagger UI's and ReDoc's JS and CSS from its own package (no CDN, no Google Fonts), so
    # /docs and /redoc work on air-gapped machines; it is FastAPI's own docs pages with local asset URLs.
    app = FastAPIOffline(
        title="Enhance",
        version=__version__,
        summary="Frame selection, deblurring and ESRGAN super-resolution for images and videos",
        lifespan=lifespan,
    )
    app.add_middleware(RequestMetricsMiddleware)
    app.add_middleware(RateLimitHeaders)
    # Inside the request id (a 503 carries it), before any body is read: see app.api.shedding.
    app.add_middleware(
        SheddingMiddleware,
        class_for=route_classes(settings.image_concurrency, settings.image_queue, settings.submit_concurrency),
    )
    app.add_middleware(
        BodyLimitMiddleware,
        limit_for=partial(body_limit, settings),
        rate=BodyRate(settings.body_min_rate, settings.body_grace_seconds),
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=[
                "Authorization",
                "X-API-Key",
                "Idempotency-Key",
                "Content-Type",
                "X-Request-ID",
                "Last-Event-ID",
            ],
            expose_headers=[
                "Location",
                "X-Request-ID",
                "X-Enhance-Model",
                "X-Enhance-Deblurred",
                "X-Processing-Time-Ms",
            ],
        )
    # The access line, then the request id outermost (added last), so that every answer, the body limiter's and
    # CORS's own included, has its line and carries the id, as does every log line of the request.
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID", validator=valid_request_id)
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    protected = [Depends(current_owner)]
    app.include_router(models.router, dependencies=protected)
    app.include_router(images.router, dependencies=protected)
    app.include_router(scores.router, dependencies=protected)
    app.include_router(jobs.router)  # its routes take the caller's owner id to scope jobs
    app.include_router(frames.router)
    install_openapi(app)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:  # plain def: collecting reads the job store
        jobs_metrics = getattr(app.state, "jobs_metrics", None)
        return metrics_response(*([jobs_metrics] if jobs_metrics is not None else []))

    return app
