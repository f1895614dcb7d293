from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.body_create_job import BodyCreateJob
from ...models.job_public import JobPublic
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: BodyCreateJob,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["idempotency-key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/jobs",
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> JobPublic | Problem | None:
    if response.status_code == 200:
        response_200 = JobPublic.from_dict(response.json())

        return response_200

    if response.status_code == 202:
        response_202 = JobPublic.from_dict(response.json())

        return response_202

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if response.status_code == 507:
        response_507 = Problem.from_dict(response.json())

        return response_507

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[JobPublic | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BodyCreateJob,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[JobPublic | Problem]:
    """Submit a job

     Submits a video, an image, several photos or a zip of photos (an album) with what to do to them,
    and answers 202 at once with the job (`Location` is its URL); the work runs in the background.
    Follow it with
    `GET /v1/jobs/{job_id}/events` (or poll `GET /v1/jobs/{job_id}`), then download its `artifacts`: the
    enhanced
    frames (`frames.zip`), the video, a side-by-side `comparison.gif`, the album's photos and a
    `report.json`.

    Choose the frames (`frames`, `start`/`end`, `every_n`, `max_frames`, `select_best`), the model and
    its options
    (as for images), the `outputs` and, for video output, the encoder (`codec`, `crf`, `preset`, ...).
    `estimate`
    in the answer says what the job should cost. With `Idempotency-Key`, sending the same request again
    answers 200
    with the same job instead of making a second one. With `callback_url`, a signed webhook is POSTed
    when the job ends.

    Errors: 413 `payload-too-large`; 415 `unsupported-media-type`; 422 `invalid-option`, `corrupt-
    media`,
    `validation-error`, `estimate-over-limit` or `idempotency-key-reused`; 404 `model-not-found`; 429
    `rate-limited`
    (also when the key has its most active jobs); 503 `overloaded` or `weights-missing`; 507
    `insufficient-storage`.

    Args:
        idempotency_key (None | str | Unset): resubmitting the same request with it returns the
            same job
        body (BodyCreateJob):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobPublic | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: BodyCreateJob,
    idempotency_key: None | str | Unset = UNSET,
) -> JobPublic | Problem | None:
    """Submit a job

     Submits a video, an image, several photos or a zip of photos (an album) with what to do to them,
    and answers 202 at once with the job (`Location` is its URL); the work runs in the background.
    Follow it with
    `GET /v1/jobs/{job_id}/events` (or poll `GET /v1/jobs/{job_id}`), then download its `artifacts`: the
    enhanced
    frames (`frames.zip`), the video, a side-by-side `comparison.gif`, the album's photos and a
    `report.json`.

    Choose the frames (`frames`, `start`/`end`, `every_n`, `max_frames`, `select_best`), the model and
    its options
    (as for images), the `outputs` and, for video output, the encoder (`codec`, `crf`, `preset`, ...).
    `estimate`
    in the answer says what the job should cost. With `Idempotency-Key`, sending the same request again
    answers 200
    with the same job instead of making a second one. With `callback_url`, a signed webhook is POSTed
    when the job ends.

    Errors: 413 `payload-too-large`; 415 `unsupported-media-type`; 422 `invalid-option`, `corrupt-
    media`,
    `validation-error`, `estimate-over-limit` or `idempotency-key-reused`; 404 `model-not-found`; 429
    `rate-limited`
    (also when the key has its most active jobs); 503 `overloaded` or `weights-missing`; 507
    `insufficient-storage`.

    Args:
        idempotency_key (None | str | Unset): resubmitting the same request with it returns the
            same job
        body (BodyCreateJob):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobPublic | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BodyCreateJob,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[JobPublic | Problem]:
    """Submit a job

     Submits a video, an image, several photos or a zip of photos (an album) with what to do to them,
    and answers 202 at once with the job (`Location` is its URL); the work runs in the background.
    Follow it with
    `GET /v1/jobs/{job_id}/events` (or poll `GET /v1/jobs/{job_id}`), then download its `artifacts`: the
    enhanced
    frames (`frames.zip`), the video, a side-by-side `comparison.gif`, the album's photos and a
    `report.json`.

    Choose the frames (`frames`, `start`/`end`, `every_n`, `max_frames`, `select_best`), the model and
    its options
    (as for images), the `outputs` and, for video output, the encoder (`codec`, `crf`, `preset`, ...).
    `estimate`
    in the answer says what the job should cost. With `Idempotency-Key`, sending the same request again
    answers 200
    with the same job instead of making a second one. With `callback_url`, a signed webhook is POSTed
    when the job ends.

    Errors: 413 `payload-too-large`; 415 `unsupported-media-type`; 422 `invalid-option`, `corrupt-
    media`,
    `validation-error`, `estimate-over-limit` or `idempotency-key-reused`; 404 `model-not-found`; 429
    `rate-limited`
    (also when the key has its most active jobs); 503 `overloaded` or `weights-missing`; 507
    `insufficient-storage`.

    Args:
        idempotency_key (None | str | Unset): resubmitting the same request with it returns the
            same job
        body (BodyCreateJob):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobPublic | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BodyCreateJob,
    idempotency_key: None | str | Unset = UNSET,
) -> JobPublic | Problem | None:
    """Submit a job

     Submits a video, an image, several photos or a zip of photos (an album) with what to do to them,
    and answers 202 at once with the job (`Location` is its URL); the work runs in the background.
    Follow it with
    `GET /v1/jobs/{job_id}/events` (or poll `GET /v1/jobs/{job_id}`), then download its `artifacts`: the
    enhanced
    frames (`frames.zip`), the video, a side-by-side `comparison.gif`, the album's photos and a
    `report.json`.

    Choose the frames (`frames`, `start`/`end`, `every_n`, `max_frames`, `select_best`), the model and
    its options
    (as for images), the `outputs` and, for video output, the encoder (`codec`, `crf`, `preset`, ...).
    `estimate`
    in the answer says what the job should cost. With `Idempotency-Key`, sending the same request again
    answers 200
    with the same job instead of making a second one. With `callback_url`, a signed webhook is POSTed
    when the job ends.

    Errors: 413 `payload-too-large`; 415 `unsupported-media-type`; 422 `invalid-option`, `corrupt-
    media`,
    `validation-error`, `estimate-over-limit` or `idempotency-key-reused`; 404 `model-not-found`; 429
    `rate-limited`
    (also when the key has its most active jobs); 503 `overloaded` or `weights-missing`; 507
    `insufficient-storage`.

    Args:
        idempotency_key (None | str | Unset): resubmitting the same request with it returns the
            same job
        body (BodyCreateJob):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobPublic | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
