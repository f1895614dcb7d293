from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.job_status import JobStatus
from ...models.jobs_public import JobsPublic
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    status: JobStatus | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, JobStatus):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

    params["limit"] = limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> JobsPublic | Problem | None:
    if response.status_code == 200:
        response_200 = JobsPublic.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[JobsPublic | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    status: JobStatus | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[JobsPublic | Problem]:
    """List jobs

     The caller's jobs (those of its API key; all jobs on a server without keys), newest first, as
    getJob returns them. Filter by `status`; page with `limit` and the previous answer's `next_cursor`
    (null on the
    last page).

    Errors: 400 `invalid-cursor` (a cursor this server never gave: start again without one); 422
    `validation-error` for an unknown `status` or a `limit` out of 1..200.

    Args:
        status (JobStatus | None | Unset): only jobs in this state
        limit (int | Unset): jobs per page Default: 50.
        cursor (None | str | Unset): `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobsPublic | Problem]
    """

    kwargs = _get_kwargs(
        status=status,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    status: JobStatus | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> JobsPublic | Problem | None:
    """List jobs

     The caller's jobs (those of its API key; all jobs on a server without keys), newest first, as
    getJob returns them. Filter by `status`; page with `limit` and the previous answer's `next_cursor`
    (null on the
    last page).

    Errors: 400 `invalid-cursor` (a cursor this server never gave: start again without one); 422
    `validation-error` for an unknown `status` or a `limit` out of 1..200.

    Args:
        status (JobStatus | None | Unset): only jobs in this state
        limit (int | Unset): jobs per page Default: 50.
        cursor (None | str | Unset): `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobsPublic | Problem
    """

    return sync_detailed(
        client=client,
        status=status,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    status: JobStatus | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[JobsPublic | Problem]:
    """List jobs

     The caller's jobs (those of its API key; all jobs on a server without keys), newest first, as
    getJob returns them. Filter by `status`; page with `limit` and the previous answer's `next_cursor`
    (null on the
    last page).

    Errors: 400 `invalid-cursor` (a cursor this server never gave: start again without one); 422
    `validation-error` for an unknown `status` or a `limit` out of 1..200.

    Args:
        status (JobStatus | None | Unset): only jobs in this state
        limit (int | Unset): jobs per page Default: 50.
        cursor (None | str | Unset): `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobsPublic | Problem]
    """

    kwargs = _get_kwargs(
        status=status,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    status: JobStatus | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> JobsPublic | Problem | None:
    """List jobs

     The caller's jobs (those of its API key; all jobs on a server without keys), newest first, as
    getJob returns them. Filter by `status`; page with `limit` and the previous answer's `next_cursor`
    (null on the
    last page).

    Errors: 400 `invalid-cursor` (a cursor this server never gave: start again without one); 422
    `validation-error` for an unknown `status` or a `limit` out of 1..200.

    Args:
        status (JobStatus | None | Unset): only jobs in this state
        limit (int | Unset): jobs per page Default: 50.
        cursor (None | str | Unset): `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobsPublic | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            status=status,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
