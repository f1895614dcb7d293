from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.get_frame_thumbnail_which import GetFrameThumbnailWhich
from ...models.problem import Problem
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    job_id: str,
    index: int,
    *,
    size: int | Unset = 160,
    which: GetFrameThumbnailWhich | Unset = GetFrameThumbnailWhich.ENHANCED,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["size"] = size

    json_which: str | Unset = UNSET
    if not isinstance(which, Unset):
        json_which = which.value

    params["which"] = json_which

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs/{job_id}/frames/{index}/thumbnail".format(
            job_id=quote(str(job_id), safe=""),
            index=quote(str(index), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> File | Problem | None:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 410:
        response_410 = Problem.from_dict(response.json())

        return response_410

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[File | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    job_id: str,
    index: int,
    *,
    client: AuthenticatedClient,
    size: int | Unset = 160,
    which: GetFrameThumbnailWhich | Unset = GetFrameThumbnailWhich.ENHANCED,
) -> Response[File | Problem]:
    """A small JPEG of a finished frame

     A small JPEG of a finished frame (enhanced, or the decoded source with `which=source`), its longest
    side `size` pixels; cached by the browser for an hour.

    Errors: 404 `job-not-found` (also for a frame that is not finished); 410 `job-files-deleted`; 413
    `too-large-for-memory` and 503 `memory-busy` (with `Retry-After`) when an old frame must be decoded
    again.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        index (int): the frame's index in the video (0 for an image), as listFrames gives it
        size (int | Unset): longest side, in pixels Default: 160.
        which (GetFrameThumbnailWhich | Unset): the enhanced frame or the decoded source Default:
            GetFrameThumbnailWhich.ENHANCED.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        index=index,
        size=size,
        which=which,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    index: int,
    *,
    client: AuthenticatedClient,
    size: int | Unset = 160,
    which: GetFrameThumbnailWhich | Unset = GetFrameThumbnailWhich.ENHANCED,
) -> File | Problem | None:
    """A small JPEG of a finished frame

     A small JPEG of a finished frame (enhanced, or the decoded source with `which=source`), its longest
    side `size` pixels; cached by the browser for an hour.

    Errors: 404 `job-not-found` (also for a frame that is not finished); 410 `job-files-deleted`; 413
    `too-large-for-memory` and 503 `memory-busy` (with `Retry-After`) when an old frame must be decoded
    again.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        index (int): the frame's index in the video (0 for an image), as listFrames gives it
        size (int | Unset): longest side, in pixels Default: 160.
        which (GetFrameThumbnailWhich | Unset): the enhanced frame or the decoded source Default:
            GetFrameThumbnailWhich.ENHANCED.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return sync_detailed(
        job_id=job_id,
        index=index,
        client=client,
        size=size,
        which=which,
    ).parsed


async def asyncio_detailed(
    job_id: str,
    index: int,
    *,
    client: AuthenticatedClient,
    size: int | Unset = 160,
    which: GetFrameThumbnailWhich | Unset = GetFrameThumbnailWhich.ENHANCED,
) -> Response[File | Problem]:
    """A small JPEG of a finished frame

     A small JPEG of a finished frame (enhanced, or the decoded source with `which=source`), its longest
    side `size` pixels; cached by the browser for an hour.

    Errors: 404 `job-not-found` (also for a frame that is not finished); 410 `job-files-deleted`; 413
    `too-large-for-memory` and 503 `memory-busy` (with `Retry-After`) when an old frame must be decoded
    again.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        index (int): the frame's index in the video (0 for an image), as listFrames gives it
        size (int | Unset): longest side, in pixels Default: 160.
        which (GetFrameThumbnailWhich | Unset): the enhanced frame or the decoded source Default:
            GetFrameThumbnailWhich.ENHANCED.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        index=index,
        size=size,
        which=which,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job_id: str,
    index: int,
    *,
    client: AuthenticatedClient,
    size: int | Unset = 160,
    which: GetFrameThumbnailWhich | Unset = GetFrameThumbnailWhich.ENHANCED,
) -> File | Problem | None:
    """A small JPEG of a finished frame

     A small JPEG of a finished frame (enhanced, or the decoded source with `which=source`), its longest
    side `size` pixels; cached by the browser for an hour.

    Errors: 404 `job-not-found` (also for a frame that is not finished); 410 `job-files-deleted`; 413
    `too-large-for-memory` and 503 `memory-busy` (with `Retry-After`) when an old frame must be decoded
    again.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        index (int): the frame's index in the video (0 for an image), as listFrames gives it
        size (int | Unset): longest side, in pixels Default: 160.
        which (GetFrameThumbnailWhich | Unset): the enhanced frame or the decoded source Default:
            GetFrameThumbnailWhich.ENHANCED.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return (
        await asyncio_detailed(
            job_id=job_id,
            index=index,
            client=client,
            size=size,
            which=which,
        )
    ).parsed
