"""Schemathesis against a live `enhance serve` (a subprocess on a free loopback port, its own data dir), fuzzing every
operation of its own /openapi.json: no 5xx, no response outside the documented schema, and every 4xx a problem
(application/problem+json). Bounded in examples, not time: `pytest -m fuzz` runs it alone in a few minutes.

Half of the generated cases are pointed at real things, so that the handlers behind the 404s get fuzzed too: a
finished job's id, its artifact names and frame indices, and a small real photograph as the upload (the fastest
model, a 32 px image: a fuzzed enhance or job costs a fraction of a second). The DELETE operations run last, so the
job is there for the others."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.config import Settings
from tests.support.images import FAST_MODEL, png_bytes, skimage_rgb
from tests.support.server import Server

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install -e '.[dev]')")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

# Bounded so that the whole run fits in a few minutes on 2 busy cores; FUZZ_EXAMPLES=300 for a deeper search.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "30"))


@dataclass(frozen=True)
class Seed:
    """Real things on the server for the fuzzer to aim at."""

    job_id: str
    artifacts: list[str]
    frames: list[int]
    image: bytes


@pytest.fixture(scope="module")
def live(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(settings, tmp_path_factory.mktemp("fuzz"))
    server.env.update(
        {
            "ENHANCE_DEFAULT_MODEL": FAST_MODEL,
            "ENHANCE_MAX_UPLOAD_BYTES": "2000000",
            "ENHANCE_MAX_JOB_UPLOAD_BYTES": "4000000",
            # Whatever scale or model the fuzzer picks, the work it starts stays small.
            "ENHANCE_MAX_OUTPUT_PIXELS": "1000000",
        }
    )
    server.log = tmp_path_factory.mktemp("fuzz-log") / "server.log"
    server.start()
    try:
        yield server
    finally:
        server.kill()


def _seed(url: str) -> Seed:
    image = png_bytes(skimage_rgb("astronaut", 32))
    files = {"file": ("astronaut.png", image, "image/png")}
    answer = httpx.post(f"{url}/v1/jobs", files=files, data={"model": FAST_MODEL}, timeout=60)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    deadline = time.monotonic() + 300
    while httpx.get(f"{url}/v1/jobs/{job_id}").json()["status"] != "succeeded":
        assert time.monotonic() < deadline, "the seed job did not finish"
        time.sleep(0.2)
    artifacts = [a["name"] for a in httpx.get(f"{url}/v1/jobs/{job_id}/artifacts").json()]
    frames = [f["index"] for f in httpx.get(f"{url}/v1/jobs/{job_id}/frames").json()]
    assert artifacts and frames, (artifacts, frames)
    return Seed(job_id, artifacts, frames, image)


def _aim(case: Any, real: bool, artifact: str, frame: int, seed: Seed) -> Any:
    """The generated case, or (when `real`) the same case pointed at the seed job and carrying a real image."""
    if not real:
        return case
    params = case.path_parameters or {}
    if "job_id" in params:
        params["job_id"] = seed.job_id
    if "name" in params:
        params["name"] = artifact
    if "index" in params:
        params["index"] = frame
    if isinstance(case.body, dict):
        if "file" in case.body:
            case.body["file"] = [seed.image] if isinstance(case.body["file"], list) else seed.image
        if "files" in case.body:
            case.body["files"] = [seed.image, seed.image]
    return case


def _is_problem(response: Any) -> bool:
    return bool(response.headers.get("content-type", [""])[0].startswith("application/problem+json"))


@pytest.mark.slow
@pytest.mark.fuzz
def test_every_operation_fuzzed_answers_without_5xx_and_4xx_is_a_problem(live: Server) -> None:
    # Driven through schemathesis's Python API with Hypothesis directly (its pytest plugin predates pytest 9).
    seed = _seed(live.url)
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    operations = sorted((r.ok() for r in schema.get_all_operations()), key=lambda op: op.method.upper() == "DELETE")
    assert len(operations) >= 16
    calls: dict[str, list[int]] = {}
    not_problems: list[str] = []
    for operation in operations:
        cases = st.builds(
            _aim,
            operation.as_strategy(),
            st.booleans(),
            st.sampled_from(seed.artifacts),
            st.sampled_from(seed.frames),
            st.just(seed),
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        def check(case: Any) -> None:
            # The event stream documents its body as a string (OpenAPI 3.1); schemathesis reads text/event-stream
            # as OpenAPI 3.2 does (a list of events) and would flag every real stream, so only its status is checked.
            sse = case.operation.label == "GET /v1/jobs/{job_id}/events"
            checks = [not_a_server_error] if sse else [not_a_server_error, response_schema_conformance]
            response = case.call_and_validate(checks=checks, timeout=60)
            calls.setdefault(case.operation.label, []).append(response.status_code)
            if 400 <= response.status_code < 500 and not _is_problem(response):
                not_problems.append(f"{case.operation.label} {response.status_code}: {case.as_curl_command()}")

        check()
    assert not not_problems, "\n".join(not_problems)
    assert any(400 <= code < 500 for codes in calls.values() for code in codes)  # the problem check had work
    assert set(calls) == {op.label for op in operations}  # every operation was fuzzed...
    assert all(len(codes) >= 5 for codes in calls.values()), calls  # ...with requests that really went out
    reached = {label for label, codes in calls.items() if any(code < 400 for code in codes)}
    assert {"GET /v1/jobs/{job_id}", "GET /v1/jobs/{job_id}/artifacts/{name}"} <= reached  # aimed at real things


def test_openapi_documents_every_error_as_a_problem(client) -> None:
    spec = client.get("/openapi.json").json()
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    errors = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")) and path != "/readyz":
                    # the schema is the Problem; the examples (app.api.docs_text) show its problem types
                    assert {k: {"schema": v["schema"]} for k, v in response["content"].items()} == problem, (
                        method,
                        path,
                        code,
                    )
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
