from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.frame_public import FramePublic
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    job_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs/{job_id}/frames".format(
            job_id=quote(str(job_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[FramePublic] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = FramePublic.from_dict(response_200_item_data)

            response_200.append(response_200_item)

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | list[FramePublic]]:
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
) -> Response[Problem | list[FramePublic]]:
    """List a job's finished frames

     Every frame the job has finished so far (while it runs too), in frame order: its index, time and
    size, and the URLs of its source frame, its enhanced frame (PNG) and a small thumbnail. This is what
    the web
    page's frame picker compares.

    Errors: 404 `job-not-found`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[FramePublic]]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    *,
    client: AuthenticatedClient,
) -> Problem | list[FramePublic] | None:
    """List a job's finished frames

     Every frame the job has finished so far (while it runs too), in frame order: its index, time and
    size, and the URLs of its source frame, its enhanced frame (PNG) and a small thumbnail. This is what
    the web
    page's frame picker compares.

    Errors: 404 `job-not-found`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[FramePublic]
    """

    return sync_detailed(
        job_id=job_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[Problem | list[FramePublic]]:
    """List a job's finished frames

     Every frame the job has finished so far (while it runs too), in frame order: its index, time and
    size, and the URLs of its source frame, its enhanced frame (PNG) and a small thumbnail. This is what
    the web
    page's frame picker compares.

    Errors: 404 `job-not-found`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[FramePublic]]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job_id: str,
    *,
    client: AuthenticatedClient,
) -> Problem | list[FramePublic] | None:
    """List a job's finished frames

     Every frame the job has finished so far (while it runs too), in frame order: its index, time and
    size, and the URLs of its source frame, its enhanced frame (PNG) and a small thumbnail. This is what
    the web
    page's frame picker compares.

    Errors: 404 `job-not-found`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[FramePublic]
    """

    return (
        await asyncio_detailed(
            job_id=job_id,
            client=client,
        )
    ).parsed
