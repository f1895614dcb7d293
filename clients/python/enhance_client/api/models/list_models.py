from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.models_public import ModelsPublic
from ...models.problem import Problem
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/models",
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ModelsPublic | Problem | None:
    if response.status_code == 200:
        response_200 = ModelsPublic.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ModelsPublic | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[ModelsPublic | Problem]:
    """List the models

     The model catalogue: every upscaler, denoiser, deblur and interpolation model this server knows,
    with
    whether its weight file is installed (`weights`), whether it is loaded and where (`device`,
    `dtype`), what it is
    good for and how fast it is. `default` marks what `POST /v1/images/enhance` runs when no `model` is
    named,
    `default_for_video` what video jobs run. Use an `id` as the `model` option.

    Errors: 401 `unauthorized` when the server has API keys and none (or a wrong one) is sent.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ModelsPublic | Problem]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
) -> ModelsPublic | Problem | None:
    """List the models

     The model catalogue: every upscaler, denoiser, deblur and interpolation model this server knows,
    with
    whether its weight file is installed (`weights`), whether it is loaded and where (`device`,
    `dtype`), what it is
    good for and how fast it is. `default` marks what `POST /v1/images/enhance` runs when no `model` is
    named,
    `default_for_video` what video jobs run. Use an `id` as the `model` option.

    Errors: 401 `unauthorized` when the server has API keys and none (or a wrong one) is sent.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ModelsPublic | Problem
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[ModelsPublic | Problem]:
    """List the models

     The model catalogue: every upscaler, denoiser, deblur and interpolation model this server knows,
    with
    whether its weight file is installed (`weights`), whether it is loaded and where (`device`,
    `dtype`), what it is
    good for and how fast it is. `default` marks what `POST /v1/images/enhance` runs when no `model` is
    named,
    `default_for_video` what video jobs run. Use an `id` as the `model` option.

    Errors: 401 `unauthorized` when the server has API keys and none (or a wrong one) is sent.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ModelsPublic | Problem]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
) -> ModelsPublic | Problem | None:
    """List the models

     The model catalogue: every upscaler, denoiser, deblur and interpolation model this server knows,
    with
    whether its weight file is installed (`weights`), whether it is loaded and where (`device`,
    `dtype`), what it is
    good for and how fast it is. `default` marks what `POST /v1/images/enhance` runs when no `model` is
    named,
    `default_for_video` what video jobs run. Use an `id` as the `model` option.

    Errors: 401 `unauthorized` when the server has API keys and none (or a wrong one) is sent.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ModelsPublic | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
