"""Logging: every record carries the job id of the job being processed (a context variable set by run_job) and the
id of the HTTP request being served (X-Request-ID, set by asgi-correlation-id's middleware; work handed to the
device thread carries it too), as plain text or as one JSON object per line (`ENHANCE_LOG_JSON=true`), with
millisecond ISO 8601 timestamps. A record's structured `fields` (the access line's method, path, status,
duration_ms) are JSON keys, or `key=value` pairs after the text message. Uvicorn's own loggers propagate here, so
its lines come out in the same format."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from asgi_correlation_id import correlation_id

current_job: ContextVar[str | None] = ContextVar("current_job", default=None)


class JobIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = current_job.get() or "-"
        record.request_id = correlation_id.get() or "-"
        return True


def iso_milliseconds(record: logging.LogRecord) -> str:
    """`2026-11-30T00:25:39.825+00:00`: local time with its offset, to the millisecond."""
    return datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a call passed as `extra={"fields": {...}}`."""
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else {}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": iso_milliseconds(record),
            "level": record.levelname,
            "logger": record.name,
            "thread": record.threadName,
            "job_id": getattr(record, "job_id", None),
            "request_id": getattr(record, "request_id", None),
            "message": record.getMessage(),
            **fields_of(record),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [job %(job_id)s req %(request_id)s] %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return iso_milliseconds(record)

    def formatMessage(self, record: logging.LogRecord) -> str:
        pairs = "".join(f" {key}={_plain(value)}" for key, value in fields_of(record).items())
        return super().formatMessage(record) + pairs


def _plain(value: object) -> str:
    """A value as one token: quoted (JSON) when it holds a space, a quote or an equals sign."""
    text = str(value)
    return json.dumps(text) if not text or any(c in text for c in ' "=') else text


def configure_logging(json_lines: bool = False, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(JobIdFilter())
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
