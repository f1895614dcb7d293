from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    job_id: str,
    name: str,
    *,
    expires: int | None | Unset = UNSET,
    signature: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_expires: int | None | Unset
    if isinstance(expires, Unset):
        json_expires = UNSET
    else:
        json_expires = expires
    params["expires"] = json_expires

    json_signature: None | str | Unset
    if isinstance(signature, Unset):
        json_signature = UNSET
    else:
        json_signature = signature
    params["signature"] = json_signature

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs/{job_id}/artifacts/{name}".format(
            job_id=quote(str(job_id), safe=""),
            name=quote(str(name), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> File | Problem | None:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

        return response_200

    if response.status_code == 206:
        response_206 = File(payload=BytesIO(response.content))

        return response_206

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 410:
        response_410 = Problem.from_dict(response.json())

        return response_410

    if response.status_code == 416:
        response_416 = Problem.from_dict(response.json())

        return response_416

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
    name: str,
    *,
    client: AuthenticatedClient,
    expires: int | None | Unset = UNSET,
    signature: None | str | Unset = UNSET,
) -> Response[File | Problem]:
    """Download an artifact

     Downloads one artifact (`Content-Disposition` names the file). Byte ranges are supported
    (`Range: bytes=0-1023` answers 206) so large videos can be resumed or streamed. A `signed_url` opens
    it without an
    API key until `expires`.

    Errors: 401 `unauthorized` (no key, or a signed link expired or for another file); 404 `job-not-
    found` (an unknown
    job, an unknown name, or a job with no artifacts yet); 410 `job-files-deleted`; 416 `range-not-
    satisfiable`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        name (str): the artifact's file name, as listArtifacts (or the job's `artifacts`) gives it
        expires (int | None | Unset): with `signature`: a signed link's expiry (Unix time)
        signature (None | str | Unset): a signed link's signature (from the artifact's
            `signed_url`)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        name=name,
        expires=expires,
        signature=signature,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    name: str,
    *,
    client: AuthenticatedClient,
    expires: int | None | Unset = UNSET,
    signature: None | str | Unset = UNSET,
) -> File | Problem | None:
    """Download an artifact

     Downloads one artifact (`Content-Disposition` names the file). Byte ranges are supported
    (`Range: bytes=0-1023` answers 206) so large videos can be resumed or streamed. A `signed_url` opens
    it without an
    API key until `expires`.

    Errors: 401 `unauthorized` (no key, or a signed link expired or for another file); 404 `job-not-
    found` (an unknown
    job, an unknown name, or a job with no artifacts yet); 410 `job-files-deleted`; 416 `range-not-
    satisfiable`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        name (str): the artifact's file name, as listArtifacts (or the job's `artifacts`) gives it
        expires (int | None | Unset): with `signature`: a signed link's expiry (Unix time)
        signature (None | str | Unset): a signed link's signature (from the artifact's
            `signed_url`)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return sync_detailed(
        job_id=job_id,
        name=name,
        client=client,
        expires=expires,
        signature=signature,
    ).parsed


async def asyncio_detailed(
    job_id: str,
    name: str,
    *,
    client: AuthenticatedClient,
    expires: int | None | Unset = UNSET,
    signature: None | str | Unset = UNSET,
) -> Response[File | Problem]:
    """Download an artifact

     Downloads one artifact (`Content-Disposition` names the file). Byte ranges are supported
    (`Range: bytes=0-1023` answers 206) so large videos can be resumed or streamed. A `signed_url` opens
    it without an
    API key until `expires`.

    Errors: 401 `unauthorized` (no key, or a signed link expired or for another file); 404 `job-not-
    found` (an unknown
    job, an unknown name, or a job with no artifacts yet); 410 `job-files-deleted`; 416 `range-not-
    satisfiable`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        name (str): the artifact's file name, as listArtifacts (or the job's `artifacts`) gives it
        expires (int | None | Unset): with `signature`: a signed link's expiry (Unix time)
        signature (None | str | Unset): a signed link's signature (from the artifact's
            `signed_url`)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        name=name,
        expires=expires,
        signature=signature,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job_id: str,
    name: str,
    *,
    client: AuthenticatedClient,
    expires: int | None | Unset = UNSET,
    signature: None | str | Unset = UNSET,
) -> File | Problem | None:
    """Download an artifact

     Downloads one artifact (`Content-Disposition` names the file). Byte ranges are supported
    (`Range: bytes=0-1023` answers 206) so large videos can be resumed or streamed. A `signed_url` opens
    it without an
    API key until `expires`.

    Errors: 401 `unauthorized` (no key, or a signed link expired or for another file); 404 `job-not-
    found` (an unknown
    job, an unknown name, or a job with no artifacts yet); 410 `job-files-deleted`; 416 `range-not-
    satisfiable`.

    Args:
        job_id (str): the job's id (a UUID, as `id` in the job and in the `Location` header of the
            submit); a job another API key submitted is answered as unknown (404 job-not-found)
        name (str): the artifact's file name, as listArtifacts (or the job's `artifacts`) gives it
        expires (int | None | Unset): with `signature`: a signed link's expiry (Unix time)
        signature (None | str | Unset): a signed link's signature (from the artifact's
            `signed_url`)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return (
        await asyncio_detailed(
            job_id=job_id,
            name=name,
            client=client,
            expires=expires,
            signature=signature,
        )
    ).parsed
