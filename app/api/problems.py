"""Every error leaves the service as application/problem+json (RFC 9457) with a stable `type`."""

from __future__ import annotations

import errno
import logging

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import EnhanceError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://enhance.example/problems/"


def problem(
    request: Request, status: int, kind: str, title: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "type": TYPE_BASE + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": correlation_id.get(),
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(EnhanceError)
    async def domain_error(request: Request, exc: EnhanceError) -> JSONResponse:
        return problem(request, exc.status, exc.type, exc.title, exc.detail, exc.response_headers())

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return problem(request, 422, "validation-error", "Invalid request", "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not-found", 405: "method-not-allowed", 408: "request-timeout", 413: "payload-too-large"}.get(
            exc.status_code, "http-error"
        )
        return problem(request, exc.status_code, kind, str(exc.detail), str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(OSError)
    async def os_error(request: Request, exc: OSError) -> JSONResponse:
        if exc.errno == errno.ENOSPC:  # the disk filled up under us: say so, as the quota check would
            log.error("disk full on %s %s: %s", request.method, request.url.path, exc)
            return problem(request, 507, "insufficient-storage", "The data disk is full", "no space left on the disk")
        return await unexpected(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(request, 500, "internal-error", "Internal error", "the server failed; see its logs")
