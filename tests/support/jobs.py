"""Jobs through the API for tests: submit, wait for the end, fetch artifacts."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi.testclient import TestClient

from tests.support.images import FAST_MODEL

JOBS = "/v1/jobs"


def submit(client: TestClient, data: bytes, name: str, headers: dict[str, str] | None = None, **form: Any) -> Any:
    form.setdefault("model", FAST_MODEL)
    return client.post(
        JOBS, files={"file": (name, data)}, data={k: str(v) for k, v in form.items()}, headers=headers or {}
    )


def wait(client: TestClient, job_id: str, timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"{JOBS}/{job_id}").json()
        if job["status"] in {"succeeded", "failed", "cancelled"}:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout}s")


def artifact(client: TestClient, job: dict[str, Any], name: str) -> bytes:
    response = client.get(f"{JOBS}/{job['id']}/artifacts/{name}")
    assert response.status_code == 200, response.text
    return response.content


def succeeded_report(client: TestClient, data: bytes, name: str, **form: Any) -> dict[str, Any]:
    """Submit a job, wait for it to succeed, and return its report.json."""
    response = submit(client, data, name, **form)
    assert response.status_code == 202, response.text
    job = wait(client, response.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    report: dict[str, Any] = json.loads(artifact(client, job, "report.json"))
    return report
