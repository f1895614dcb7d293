"""Schemathesis against the live service's own /openapi.json, on loopback, bounded in examples and time:
no 5xx and no response that contradicts the documented schema."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from app.core.config import Settings
from tests.test_jobs_restart import Server

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install -e '.[dev]')")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

BUDGET_SECONDS = 110.0


@pytest.fixture(scope="module")
def live_url(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = Server(settings, tmp_path_factory.mktemp("fuzz"))
    server.env["ENHANCE_MAX_UPLOAD_BYTES"] = "2000000"
    server.start()
    try:
        yield server.url
    finally:
        server.kill()


@pytest.mark.slow
def test_api_never_errors_and_keeps_its_schema(live_url: str) -> None:
    # Driven through schemathesis's Python API with Hypothesis directly (its pytest plugin predates pytest 9).
    schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    started = time.monotonic()
    tried = 0
    calls: list[str] = []
    for operation in operations:
        if time.monotonic() - started > BUDGET_SECONDS:
            break

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            calls.append(case.operation.label)
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance], timeout=30)

        check()
        tried += 1
    assert tried == len(operations), f"only {tried} of {len(operations)} operations fit in {BUDGET_SECONDS:.0f} s"
    assert len(calls) >= 5 * len(operations), len(calls)  # the fuzzer really sent requests


def test_openapi_documents_problem_responses(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/openapi.json").json()
    enhance = spec["paths"]["/v1/images/enhance"]["post"]["responses"]
    assert "4XX" in enhance and "Problem" in spec["components"]["schemas"]
    assert Path(__file__).name == "test_fuzz.py"
