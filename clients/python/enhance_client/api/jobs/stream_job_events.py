from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    job_id: str,
    *,
    last_event_id: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id, Unset):
        headers["last-event-id"] = last_event_id

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs/{job_id}/events".format(
            job_id=quote(str(job_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | str | None:
    if response.status_code == 200:
        response_200 = response.text
        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient,
    last_event_id: None | str | Unset = UNSET,
) -> Response[Problem | str]:
    """Follow a job's progress (SSE)

     Follows a job as a Server-Sent Events stream: a `progress` event (data: the job, as getJob returns
    it) each time the job changes, then one `end` event whose data is its final status, and the stream
    closes. An
    `: ping` comment every 15 s keeps proxies from closing an idle stream. Each event has an `id`:
    reconnect with
    `Last-Event-ID` to receive only what changed since (EventSource does this by itself, after the
    `retry` delay).

    Errors (before the stream starts): 404 `job-not-found`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        last_event_id (None | str | Unset): resume after this event id

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | str]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        last_event_id=last_event_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    *,
    client: AuthenticatedClient,
    last_event_id: None | str | Unset = UNSET,
) -> Problem | str | None:
    """Follow a job's progress (SSE)

     Follows a job as a Server-Sent Events stream: a `progress` event (data: the job, as getJob returns
    it) each time the job changes, then one `end` event whose data is its final status, and the stream
    closes. An
    `: ping` comment every 15 s keeps proxies from closing an idle stream. Each event has an `id`:
    reconnect with
    `Last-Event-ID` to receive only what changed since (EventSource does this by itself, after the
    `retry` delay).

    Errors (before the stream starts): 404 `job-not-found`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        last_event_id (None | str | Unset): resume after this event id

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | str
    """

    return sync_detailed(
        job_id=job_id,
        client=client,
        last_event_id=last_event_id,
    ).parsed


async def asyncio_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient,
    last_event_id: None | str | Unset = UNSET,
) -> Response[Problem | str]:
    """Follow a job's progress (SSE)

     Follows a job as a Server-Sent Events stream: a `progress` event (data: the job, as getJob returns
    it) each time the job changes, then one `end` event whose data is its final status, and the stream
    closes. An
    `: ping` comment every 15 s keeps proxies from closing an idle stream. Each event has an `id`:
    reconnect with
    `Last-Event-ID` to receive only what changed since (EventSource does this by itself, after the
    `retry` delay).

    Errors (before the stream starts): 404 `job-not-found`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        last_event_id (None | str | Unset): resume after this event id

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | str]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        last_event_id=last_event_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job_id: str,
    *,
    client: AuthenticatedClient,
    last_event_id: None | str | Unset = UNSET,
) -> Problem | str | None:
    """Follow a job's progress (SSE)

     Follows a job as a Server-Sent Events stream: a `progress` event (data: the job, as getJob returns
    it) each time the job changes, then one `end` event whose data is its final status, and the stream
    closes. An
    `: ping` comment every 15 s keeps proxies from closing an idle stream. Each event has an `id`:
    reconnect with
    `Last-Event-ID` to receive only what changed since (EventSource does this by itself, after the
    `retry` delay).

    Errors (before the stream starts): 404 `job-not-found`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        last_event_id (None | str | Unset): resume after this event id

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | str
    """

    return (
        await asyncio_detailed(
            job_id=job_id,
            client=client,
            last_event_id=last_event_id,
        )
    ).parsed
