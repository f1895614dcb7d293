from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.health_public import HealthPublic
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/healthz",
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> HealthPublic | None:
    if response.status_code == 200:
        response_200 = HealthPublic.from_dict(response.json())

        return response_200

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[HealthPublic]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[HealthPublic]:
    """Liveness

     Liveness: `200 {"status": "ok"}` as soon as the process answers, with no dependency checked (a load
    balancer's or Kubernetes' liveness probe). Use `GET /readyz` to know whether requests can be served.
    Never asks
    for an API key.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HealthPublic]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
) -> HealthPublic | None:
    """Liveness

     Liveness: `200 {"status": "ok"}` as soon as the process answers, with no dependency checked (a load
    balancer's or Kubernetes' liveness probe). Use `GET /readyz` to know whether requests can be served.
    Never asks
    for an API key.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HealthPublic
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[HealthPublic]:
    """Liveness

     Liveness: `200 {"status": "ok"}` as soon as the process answers, with no dependency checked (a load
    balancer's or Kubernetes' liveness probe). Use `GET /readyz` to know whether requests can be served.
    Never asks
    for an API key.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HealthPublic]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
) -> HealthPublic | None:
    """Liveness

     Liveness: `200 {"status": "ok"}` as soon as the process answers, with no dependency checked (a load
    balancer's or Kubernetes' liveness probe). Use `GET /readyz` to know whether requests can be served.
    Never asks
    for an API key.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HealthPublic
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
