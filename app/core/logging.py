"""Logging: every record carries the job id of the job being processed (a context variable set by run_job) and the
id of the HTTP request being served (X-Request-ID, set by asgi-correlation-id's middleware), as plain text or as
one JSON object per line (`ENHANCE_LOG_JSON=true`). Uvicorn's own loggers propagate here, so its lines (access log
included) come out in the same format."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar

from asgi_correlation_id import correlation_id

current_job: ContextVar[str | None] = ContextVar("current_job", default=None)


class JobIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = current_job.get() or "-"
        record.request_id = correlation_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "job_id": getattr(record, "job_id", None),
            "request_id": getattr(record, "request_id", None),
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload)


def configure_logging(json_lines: bool = False, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(JobIdFilter())
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [job %(job_id)s req %(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
