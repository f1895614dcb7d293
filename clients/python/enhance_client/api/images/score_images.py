from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.body_score_images import BodyScoreImages
from ...models.problem import Problem
from ...models.scores_public import ScoresPublic
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: BodyScoreImages,
    thresholds: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    json_thresholds: None | str | Unset
    if isinstance(thresholds, Unset):
        json_thresholds = UNSET
    else:
        json_thresholds = thresholds
    params["thresholds"] = json_thresholds

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/images/score",
        "params": params,
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | ScoresPublic | None:
    if response.status_code == 200:
        response_200 = ScoresPublic.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

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

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | ScoresPublic]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BodyScoreImages,
    thresholds: None | str | Unset = UNSET,
) -> Response[Problem | ScoresPublic]:
    """Score images: keep or reject

     Scores one or more images (up to 32 per request) without enhancing them: sharpness, motion blur,
    noise, exposure and an overall `quality` from 0 to 1, and a `verdict` (`keep` or `reject`) with the
    `reasons`.
    `thresholds` overrides the verdict's limits for this request; the answer repeats the thresholds
    used. Useful to
    sort a folder of photos before paying for enhancement.

    Errors: 413 `payload-too-large`; 415 `unsupported-media-type`; 422 `corrupt-media`, or `invalid-
    option` for more
    than 32 files or bad `thresholds` JSON; 429 `rate-limited`; 503 `memory-busy` with `Retry-After`.

    Args:
        thresholds (None | str | Unset): JSON object overriding verdict thresholds (the answer's
            `thresholds` lists them all), e.g. {"max_noise": 12, "min_sharpness": 0.2}
        body (BodyScoreImages):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ScoresPublic]
    """

    kwargs = _get_kwargs(
        body=body,
        thresholds=thresholds,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: BodyScoreImages,
    thresholds: None | str | Unset = UNSET,
) -> Problem | ScoresPublic | None:
    """Score images: keep or reject

     Scores one or more images (up to 32 per request) without enhancing them: sharpness, motion blur,
    noise, exposure and an overall `quality` from 0 to 1, and a `verdict` (`keep` or `reject`) with the
    `reasons`.
    `thresholds` overrides the verdict's limits for this request; the answer repeats the thresholds
    used. Useful to
    sort a folder of photos before paying for enhancement.

    Errors: 413 `payload-too-large`; 415 `unsupported-media-type`; 422 `corrupt-media`, or `invalid-
    option` for more
    than 32 files or bad `thresholds` JSON; 429 `rate-limited`; 503 `memory-busy` with `Retry-After`.

    Args:
        thresholds (None | str | Unset): JSON object overriding verdict thresholds (the answer's
            `thresholds` lists them all), e.g. {"max_noise": 12, "min_sharpness": 0.2}
        body (BodyScoreImages):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ScoresPublic
    """

    return sync_detailed(
        client=client,
        body=body,
        thresholds=thresholds,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BodyScoreImages,
    thresholds: None | str | Unset = UNSET,
) -> Response[Problem | ScoresPublic]:
    """Score images: keep or reject

     Scores one or more images (up to 32 per request) without enhancing them: sharpness, motion blur,
    noise, exposure and an overall `quality` from 0 to 1, and a `verdict` (`keep` or `reject`) with the
    `reasons`.
    `thresholds` overrides the verdict's limits for this request; the answer repeats the thresholds
    used. Useful to
    sort a folder of photos before paying for enhancement.

    Errors: 413 `payload-too-large`; 415 `unsupported-media-type`; 422 `corrupt-media`, or `invalid-
    option` for more
    than 32 files or bad `thresholds` JSON; 429 `rate-limited`; 503 `memory-busy` with `Retry-After`.

    Args:
        thresholds (None | str | Unset): JSON object overriding verdict thresholds (the answer's
            `thresholds` lists them all), e.g. {"max_noise": 12, "min_sharpness": 0.2}
        body (BodyScoreImages):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ScoresPublic]
    """

    kwargs = _get_kwargs(
        body=body,
        thresholds=thresholds,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BodyScoreImages,
    thresholds: None | str | Unset = UNSET,
) -> Problem | ScoresPublic | None:
    """Score images: keep or reject

     Scores one or more images (up to 32 per request) without enhancing them: sharpness, motion blur,
    noise, exposure and an overall `quality` from 0 to 1, and a `verdict` (`keep` or `reject`) with the
    `reasons`.
    `thresholds` overrides the verdict's limits for this request; the answer repeats the thresholds
    used. Useful to
    sort a folder of photos before paying for enhancement.

    Errors: 413 `payload-too-large`; 415 `unsupported-media-type`; 422 `corrupt-media`, or `invalid-
    option` for more
    than 32 files or bad `thresholds` JSON; 429 `rate-limited`; 503 `memory-busy` with `Retry-After`.

    Args:
        thresholds (None | str | Unset): JSON object overriding verdict thresholds (the answer's
            `thresholds` lists them all), e.g. {"max_noise": 12, "min_sharpness": 0.2}
        body (BodyScoreImages):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ScoresPublic
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            thresholds=thresholds,
        )
    ).parsed
