"""Hand-written helpers for the generated client: `wait_for_job`, and `ProblemError` for answers that are problems.

This file is `clients/python-helpers.py` in the repository; `clients/generate.py` copies it into the package as
`enhance_client/helpers.py` after every regeneration, so it survives `make client`. It uses only what the generated
package already requires (httpx, attrs), so the package's requirements stay the generator's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

import httpx

from .api.jobs import get_job
from .client import AuthenticatedClient, Client
from .models.job_public import JobPublic
from .models.job_status import JobStatus
from .models.problem import Problem
from .types import UNSET, Response

T = TypeVar("T")
TERMINAL = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


class ProblemError(Exception):
    """An answer that is an RFC 9457 problem (application/problem+json), with its fields as attributes:
    `status`, `type`, `title`, `detail`, `instance`, `request_id` (quote it when reporting a fault), and `extra`, the
    problem's other members (e.g. `errors`, the fields a 422 names)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.status = problem.status
        self.type = problem.type_
        self.title = problem.title
        self.detail = problem.detail
        self.instance = None if problem.instance is UNSET else problem.instance
        self.request_id = None if problem.request_id is UNSET else problem.request_id
        self.extra: dict[str, Any] = dict(problem.additional_properties)
        request = f" (request {self.request_id})" if self.request_id else ""
        super().__init__(f"{self.status} {self.title}: {self.detail}{request}")

    @classmethod
    def from_response(cls, response: httpx.Response | Response[Any]) -> ProblemError:
        """The problem a failed answer carries; one that carries none (a proxy's error page) becomes a problem
        with its status and the start of its body."""
        status = int(response.status_code)
        try:
            body = json.loads(response.content)
            return cls(Problem.from_dict(body))
        except (ValueError, KeyError, TypeError):
            text = response.content[:200].decode(errors="replace")
            return cls(Problem(type_="about:blank", title=f"HTTP {status}", status=status, detail=text))


@overload
def check(result: Response[Problem | T]) -> T: ...


@overload
def check(result: Problem | T | None) -> T: ...


def check(result: Any) -> Any:
    """The parsed answer of a generated call (`sync` or `sync_detailed`); raises `ProblemError` for a problem or a
    failed status, `ValueError` when there is no parsed answer."""
    if isinstance(result, Response):
        if isinstance(result.parsed, Problem):
            raise ProblemError(result.parsed)
        if result.status_code >= 400:
            raise ProblemError.from_response(result)
        result = result.parsed
    if isinstance(result, Problem):
        raise ProblemError(result)
    if result is None:
        raise ValueError("the server's answer could not be parsed (an undocumented status?)")
    return result


@dataclass
class _Event:
    event: str = "message"
    data: list[str] = field(default_factory=list)
    id: str | None = None
    retry: int | None = None


def _events(lines: Iterator[str]) -> Iterator[_Event]:
    """Server-sent events from the stream's lines (the WHATWG parsing rules; comments such as `: ping` dropped).
    Written here rather than taken from a library: the generated package's requirements are the generator's."""
    current = _Event()
    for line in lines:
        if not line:
            if current.data or current.id is not None:
                yield current
            current = _Event()
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            current.event = value
        elif name == "data":
            current.data.append(value)
        elif name == "id":
            current.id = value
        elif name == "retry" and value.isdigit():
            current.retry = int(value)


def wait_for_job(
    client: AuthenticatedClient | Client,
    job_id: str,
    *,
    timeout: float | None = None,
    on_progress: Callable[[JobPublic], None] | None = None,
    reconnects: int = 5,
    poll_seconds: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> JobPublic:
    """Follow the job's event stream (`GET /v1/jobs/{id}/events`) until it ends, and return the finished job.

    Each `progress` event's job goes to `on_progress`. A dropped stream is reopened with `Last-Event-ID`, so only
    what changed since comes again, waiting the server's `retry` (2 s) between tries; after `reconnects` tries in a
    row without an event, or when the stream is not served (a proxy that buffers it, a 5xx), it polls `getJob`
    every `poll_seconds` instead. Raises `ProblemError` when the server refuses (401, 404: a deleted job) and
    `TimeoutError` after `timeout` seconds (default: no limit).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    last_id: str | None = None
    retry_seconds = poll_seconds
    failures = 0
    http = client.get_httpx_client()
    stream_timeout = httpx.Timeout(10.0, read=60.0)  # the server pings every 15 s
    while failures <= reconnects:
        _check_deadline(deadline, job_id)
        headers = {"Accept": "text/event-stream", **({"Last-Event-ID": last_id} if last_id else {})}
        try:
            with http.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers, timeout=stream_timeout) as answer:
                if answer.status_code in (401, 403, 404):
                    answer.read()
                    raise ProblemError.from_response(answer)
                if answer.status_code != 200 or not answer.headers.get("content-type", "").startswith(
                    "text/event-stream"
                ):
                    break  # not served as a stream here: poll
                for event in _events(answer.iter_lines()):
                    failures = 0
                    last_id = event.id or last_id
                    retry_seconds = event.retry / 1000 if event.retry else retry_seconds
                    if event.event == "progress" and on_progress is not None:
                        on_progress(JobPublic.from_dict(json.loads("\n".join(event.data))))
                    elif event.event == "end":
                        return _finished(client, job_id)
                    _check_deadline(deadline, job_id)
        except httpx.TransportError:
            pass  # dropped, refused or timed out: try again
        failures += 1
        sleep(retry_seconds)
    return _poll(client, job_id, deadline, poll_seconds, on_progress, sleep)


def _check_deadline(deadline: float | None, job_id: str) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise TimeoutError(f"job {job_id} did not finish in time")


def _finished(client: AuthenticatedClient | Client, job_id: str) -> JobPublic:
    # The generated signature names AuthenticatedClient; a plain Client works for a server without keys.
    answer: Response[JobPublic | Problem] = get_job.sync_detailed(job_id, client=client)  # type: ignore[arg-type]
    job: JobPublic = check(answer)
    return job


def _poll(
    client: AuthenticatedClient | Client,
    job_id: str,
    deadline: float | None,
    poll_seconds: float,
    on_progress: Callable[[JobPublic], None] | None,
    sleep: Callable[[float], None],
) -> JobPublic:
    while True:
        job = _finished(client, job_id)
        if on_progress is not None:
            on_progress(job)
        if job.status in TERMINAL:
            return job
        _check_deadline(deadline, job_id)
        sleep(poll_seconds)


__all__ = ["ProblemError", "check", "wait_for_job"]
