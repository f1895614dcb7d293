from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.get_frame_which import GetFrameWhich
from ...models.problem import Problem
from ...types import File, Response


def _get_kwargs(
    job_id: str,
    index: int,
    which: GetFrameWhich,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs/{job_id}/frames/{index}/{which}".format(
            job_id=quote(str(job_id), safe=""),
            index=quote(str(index), safe=""),
            which=quote(str(which), safe=""),
        ),
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

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

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
    which: GetFrameWhich,
    *,
    client: AuthenticatedClient,
) -> Response[File | Problem]:
    """A finished frame, source or enhanced (PNG)

     A finished frame as a full-size PNG: `source` is the frame decoded from the input, `enhanced` the
    result. Compare the two to judge a model on your footage.

    Errors: 404 `job-not-found` (also for a frame that is not finished yet); 410 `job-files-deleted`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        index (int): the frame's index in the video (0 for an image), as listFrames gives it
        which (GetFrameWhich): `source`: the frame decoded from the input; `enhanced`: the result

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        index=index,
        which=which,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    index: int,
    which: GetFrameWhich,
    *,
    client: AuthenticatedClient,
) -> File | Problem | None:
    """A finished frame, source or enhanced (PNG)

     A finished frame as a full-size PNG: `source` is the frame decoded from the input, `enhanced` the
    result. Compare the two to judge a model on your footage.

    Errors: 404 `job-not-found` (also for a frame that is not finished yet); 410 `job-files-deleted`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        index (int): the frame's index in the video (0 for an image), as listFrames gives it
        which (GetFrameWhich): `source`: the frame decoded from the input; `enhanced`: the result

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return sync_detailed(
        job_id=job_id,
        index=index,
        which=which,
        client=client,
    ).parsed


async def asyncio_detailed(
    job_id: str,
    index: int,
    which: GetFrameWhich,
    *,
    client: AuthenticatedClient,
) -> Response[File | Problem]:
    """A finished frame, source or enhanced (PNG)

     A finished frame as a full-size PNG: `source` is the frame decoded from the input, `enhanced` the
    result. Compare the two to judge a model on your footage.

    Errors: 404 `job-not-found` (also for a frame that is not finished yet); 410 `job-files-deleted`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        index (int): the frame's index in the video (0 for an image), as listFrames gives it
        which (GetFrameWhich): `source`: the frame decoded from the input; `enhanced`: the result

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        index=index,
        which=which,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job_id: str,
    index: int,
    which: GetFrameWhich,
    *,
    client: AuthenticatedClient,
) -> File | Problem | None:
    """A finished frame, source or enhanced (PNG)

     A finished frame as a full-size PNG: `source` is the frame decoded from the input, `enhanced` the
    result. Compare the two to judge a model on your footage.

    Errors: 404 `job-not-found` (also for a frame that is not finished yet); 410 `job-files-deleted`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        index (int): the frame's index in the video (0 for an image), as listFrames gives it
        which (GetFrameWhich): `source`: the frame decoded from the input; `enhanced`: the result

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
            which=which,
            client=client,
        )
    ).parsed
