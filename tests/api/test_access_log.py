"""Structured logs: one access line per request (method, path, status, duration_ms), millisecond timestamps, and the
request id on every line the request causes, a model load on the device thread included."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.logging import configure_logging
from app.main import create_app
from app.models.registry import ModelRegistry
from tests.support.images import FAST_MODEL, png_bytes, skimage_rgb

MILLISECONDS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"


@pytest.fixture()
def logs() -> Iterator[Callable[[bool], io.StringIO]]:
    """Install the service's logging (JSON or text) writing into a buffer; the test's own handlers come back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def install(json_lines: bool) -> io.StringIO:
        buffer = io.StringIO()
        configure_logging(json_lines=json_lines)
        root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
        return buffer

    yield install
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture()
def fresh(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """An app with a registry of its own, so a request is the one that loads the model (fp32: no precision probe)."""
    own = settings.model_copy(update={"data_dir": tmp_path / "data", "dtype": "fp32"})
    with TestClient(create_app(own, ModelRegistry(own))) as client:
        yield client


def _json_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_each_request_has_one_access_line_with_its_fields(
    fresh: TestClient, logs: Callable[[bool], io.StringIO]
) -> None:
    buffer = logs(True)
    assert fresh.get("/healthz", headers={"X-Request-ID": "access-1"}).status_code == 200
    assert fresh.get("/v1/jobs?cursor=nope&limit=1", headers={"X-Request-ID": "access-2"}).status_code == 400
    access = [line for line in _json_lines(buffer) if line["logger"] == "app.access"]
    fields = [{k: line[k] for k in ("method", "path", "status", "request_id")} for line in access]
    assert fields == [
        {"method": "GET", "path": "/healthz", "status": 200, "request_id": "access-1"},
        # the path without its query string: signed artifact links carry their signature there
        {"method": "GET", "path": "/v1/jobs", "status": 400, "request_id": "access-2"},
    ]
    assert all(isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0 for line in access)
    assert all(re.fullmatch(MILLISECONDS, line["time"]) for line in _json_lines(buffer))


def test_text_lines_have_milliseconds_and_key_value_fields(
    fresh: TestClient, logs: Callable[[bool], io.StringIO]
) -> None:
    buffer = logs(False)
    fresh.get("/healthz", headers={"X-Request-ID": "text-1"})
    (line,) = [line for line in buffer.getvalue().splitlines() if " app.access " in line]
    assert re.match(
        MILLISECONDS + r" INFO app\.access \[job - req text-1\] request method=GET path=/healthz "
        r"status=200 duration_ms=\d+\.\d client=",
        line,
    ), line


def test_a_model_load_that_a_request_causes_carries_its_request_id(
    fresh: TestClient, logs: Callable[[bool], io.StringIO]
) -> None:
    """The load runs on the device thread, not the request's (was: request_id "-" on its lines)."""
    buffer = logs(True)
    image = png_bytes(skimage_rgb("chelsea", 16))
    answer = fresh.post(
        f"/v1/images/enhance?model={FAST_MODEL}",
        files={"file": ("in.png", image, "image/png")},
        headers={"X-Request-ID": "load-1"},
    )
    assert answer.status_code == 200, answer.text
    loads = [line for line in _json_lines(buffer) if line["message"].startswith(f"loaded {FAST_MODEL}")]
    assert [(line["request_id"], line["thread"]) for line in loads] == [("load-1", "device")]
