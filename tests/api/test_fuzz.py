"""Schemathesis against the live service's own /openapi.json, on loopback, bounded in examples and time:
no 5xx and no response that contradicts the documented schema."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from app.core.config import Settings
from tests.support.server import Server

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
        def check(case) -> None:
            calls.append(case.operation.label)
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance], timeout=30)

        check()
        tried += 1
    assert tried == len(operations), f"only {tried} of {len(operations)} operations fit in {BUDGET_SECONDS:.0f} s"
    assert len(calls) >= 5 * len(operations), len(calls)  # the fuzzer really sent requests


def test_openapi_documents_every_error_as_a_problem(client) -> None:
    spec = client.get("/openapi.json").json()
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    errors = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")) and path != "/readyz":
                    assert response["content"] == problem, (method, path, code)
                    errors += 1
    assert errors >= 40
    enhance = spec["paths"]["/v1/images/enhance"]["post"]["responses"]
    assert {"401", "404", "413", "415", "422", "503", "507"} <= set(enhance)
    assert set(enhance["200"]["content"]) == {"image/png", "image/jpeg", "image/webp"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # FastAPI's 422 body, never sent


def test_openapi_is_complete_enough_to_generate_a_client(client) -> None:
    spec = client.get("/openapi.json").json()
    ids = {op["operationId"] for ops in spec["paths"].values() for op in ops.values()}
    assert ids == {
        "getHealth",
        "getReadiness",
        "listModels",
        "enhanceImage",
        "scoreImages",
        "createJob",
        "listJobs",
        "getJob",
        "streamJobEvents",
        "cancelJob",
        "deleteJob",
        "listArtifacts",
        "getArtifact",
        "listFrames",
        "getFrame",
        "getFrameThumbnail",
    }
    schemas = spec["components"]["schemas"]
    assert schemas["Body_createJob"]["properties"]["file"]["items"]["format"] == "binary"  # several: an album
    assert schemas["Body_scoreImages"]["properties"]["files"]["items"]["format"] == "binary"
    for enum in ("JobStatus", "WeightState", "Verdict", "JobKind", "DeblurMode", "GifLayout", "ImageFormat"):
        assert schemas[enum]["type"] == "string" and schemas[enum]["enum"], enum
    assert schemas["JobPublic"]["properties"]["status"] == {"$ref": "#/components/schemas/JobStatus"}
    assert schemas["JobPublic"]["properties"]["options"] == {"$ref": "#/components/schemas/JobOptions"}
    assert schemas["JobPublic"]["examples"] and schemas["Problem"]["examples"]
    assert set(spec["components"]["securitySchemes"]) == {"ApiKey", "Bearer"}
    create = spec["paths"]["/v1/jobs"]["post"]["responses"]
    assert "Location" in create["202"]["headers"] and "Location" in create["200"]["headers"]
    events = spec["paths"]["/v1/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]
    assert set(events) == {"text/event-stream"}
    artifact = spec["paths"]["/v1/jobs/{job_id}/artifacts/{name}"]["get"]["responses"]["200"]["content"]
    assert artifact["application/octet-stream"]["schema"] == {"type": "string", "format": "binary"}
