from http import HTTPStatus
from io import BytesIO
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.body_enhance_image import BodyEnhanceImage
from ...models.deblur_mode import DeblurMode
from ...models.denoise_mode import DenoiseMode
from ...models.image_format import ImageFormat
from ...models.light_mode import LightMode
from ...models.problem import Problem
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    *,
    body: BodyEnhanceImage | Unset = UNSET,
    model: None | str | Unset = UNSET,
    scale: float | None | Unset = UNSET,
    tile: int | None | Unset = UNSET,
    denoise: int | None | Unset = UNSET,
    light: LightMode | Unset = UNSET,
    denoise_photo: DenoiseMode | Unset = UNSET,
    denoise_sigma: float | None | Unset = UNSET,
    deblur: DeblurMode | Unset = UNSET,
    deblur_model: None | str | Unset = UNSET,
    format_: ImageFormat | Unset = UNSET,
    quality: int | Unset = 95,
    compare: bool | Unset = False,
    if_none_match: None | str | Unset = UNSET,
    cache_control: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_none_match, Unset):
        headers["if-none-match"] = if_none_match

    if not isinstance(cache_control, Unset):
        headers["cache-control"] = cache_control

    params: dict[str, Any] = {}

    json_model: None | str | Unset
    if isinstance(model, Unset):
        json_model = UNSET
    else:
        json_model = model
    params["model"] = json_model

    json_scale: float | None | Unset
    if isinstance(scale, Unset):
        json_scale = UNSET
    else:
        json_scale = scale
    params["scale"] = json_scale

    json_tile: int | None | Unset
    if isinstance(tile, Unset):
        json_tile = UNSET
    else:
        json_tile = tile
    params["tile"] = json_tile

    json_denoise: int | None | Unset
    if isinstance(denoise, Unset):
        json_denoise = UNSET
    else:
        json_denoise = denoise
    params["denoise"] = json_denoise

    json_light: str | Unset = UNSET
    if not isinstance(light, Unset):
        json_light = light.value

    params["light"] = json_light

    json_denoise_photo: str | Unset = UNSET
    if not isinstance(denoise_photo, Unset):
        json_denoise_photo = denoise_photo.value

    params["denoise_photo"] = json_denoise_photo

    json_denoise_sigma: float | None | Unset
    if isinstance(denoise_sigma, Unset):
        json_denoise_sigma = UNSET
    else:
        json_denoise_sigma = denoise_sigma
    params["denoise_sigma"] = json_denoise_sigma

    json_deblur: str | Unset = UNSET
    if not isinstance(deblur, Unset):
        json_deblur = deblur.value

    params["deblur"] = json_deblur

    json_deblur_model: None | str | Unset
    if isinstance(deblur_model, Unset):
        json_deblur_model = UNSET
    else:
        json_deblur_model = deblur_model
    params["deblur_model"] = json_deblur_model

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params["quality"] = quality

    params["compare"] = compare

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/images/enhance",
        "params": params,
    }

    if not isinstance(body, Unset):
        _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | File | Problem | None:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | File | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BodyEnhanceImage | Unset = UNSET,
    model: None | str | Unset = UNSET,
    scale: float | None | Unset = UNSET,
    tile: int | None | Unset = UNSET,
    denoise: int | None | Unset = UNSET,
    light: LightMode | Unset = UNSET,
    denoise_photo: DenoiseMode | Unset = UNSET,
    denoise_sigma: float | None | Unset = UNSET,
    deblur: DeblurMode | Unset = UNSET,
    deblur_model: None | str | Unset = UNSET,
    format_: ImageFormat | Unset = UNSET,
    quality: int | Unset = 95,
    compare: bool | Unset = False,
    if_none_match: None | str | Unset = UNSET,
    cache_control: None | str | Unset = UNSET,
) -> Response[Any | File | Problem]:
    """Enhance an image

     Enhances one image and answers with it in the body (PNG by default; `format` and `quality` choose).
    Send the image as the multipart `file`, or its `url` for the server to download. The options (query
    parameters)
    choose the upscaler and scale, photo denoise, low-light and motion-blur repair; `compare=true`
    answers with a
    before/after PNG instead. The `X-Enhance-*` headers say what ran (model, device, precision, output
    size, deblur)
    and `Server-Timing` where the time went.

    The same input with the same options is answered from the result cache without the device
    (`X-Enhance-Cache:
    hit`); send the answer's `ETag` as `If-None-Match` to get a 304 with no body. For videos or anything
    that takes
    long, submit a job (`POST /v1/jobs`) instead.

    Errors (problem+json, `type` under https://enhance.example/problems/): 413 `payload-too-large` or
    `too-large-for-memory`; 415 `unsupported-media-type`; 422 `corrupt-media`, `invalid-option` (an
    option that does
    not fit the model) or `validation-error`; 404 `model-not-found`; 429 `rate-limited` and 503
    `overloaded` or
    `memory-busy` with `Retry-After`; 503 `weights-missing`; 507 `out-of-memory`.

    Args:
        model (None | str | Unset): upscaler catalogue id (GET /v1/models); `none`: only denoise
            and/or deblur; default: the service's
        scale (float | None | Unset): output scale; default: the model's
        tile (int | None | Unset): tile core size in input pixels; 0: automatic
        denoise (int | None | Unset): Real-CUGAN and waifu2x: denoise strength, 0 (none) to 3,
            among the levels the model has (GET /v1/models lists them); refused for other models
        light (LightMode | Unset):
        denoise_photo (DenoiseMode | Unset):
        denoise_sigma (float | None | Unset): the noise level (sigma, 0..255 scale) to remove;
            default: estimated per picture
        deblur (DeblurMode | Unset):
        deblur_model (None | str | Unset): deblur catalogue id or `classical`
        format_ (ImageFormat | Unset):
        quality (int | Unset): JPEG and WebP quality Default: 95.
        compare (bool | Unset): return the before/after comparison instead of the image: a PNG
            with the bicubic upscale and the enhanced result side by side at 1:1 output pixels, in the
            region that gains most (X-Enhance-Compare-Region says which) Default: False.
        if_none_match (None | str | Unset): the ETag of an earlier answer to the same request: 304
            if it still holds
        cache_control (None | str | Unset): `no-cache`: compute again rather than answer from the
            result cache; `no-store`: and do not keep this answer
        body (BodyEnhanceImage | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | File | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        model=model,
        scale=scale,
        tile=tile,
        denoise=denoise,
        light=light,
        denoise_photo=denoise_photo,
        denoise_sigma=denoise_sigma,
        deblur=deblur,
        deblur_model=deblur_model,
        format_=format_,
        quality=quality,
        compare=compare,
        if_none_match=if_none_match,
        cache_control=cache_control,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: BodyEnhanceImage | Unset = UNSET,
    model: None | str | Unset = UNSET,
    scale: float | None | Unset = UNSET,
    tile: int | None | Unset = UNSET,
    denoise: int | None | Unset = UNSET,
    light: LightMode | Unset = UNSET,
    denoise_photo: DenoiseMode | Unset = UNSET,
    denoise_sigma: float | None | Unset = UNSET,
    deblur: DeblurMode | Unset = UNSET,
    deblur_model: None | str | Unset = UNSET,
    format_: ImageFormat | Unset = UNSET,
    quality: int | Unset = 95,
    compare: bool | Unset = False,
    if_none_match: None | str | Unset = UNSET,
    cache_control: None | str | Unset = UNSET,
) -> Any | File | Problem | None:
    """Enhance an image

     Enhances one image and answers with it in the body (PNG by default; `format` and `quality` choose).
    Send the image as the multipart `file`, or its `url` for the server to download. The options (query
    parameters)
    choose the upscaler and scale, photo denoise, low-light and motion-blur repair; `compare=true`
    answers with a
    before/after PNG instead. The `X-Enhance-*` headers say what ran (model, device, precision, output
    size, deblur)
    and `Server-Timing` where the time went.

    The same input with the same options is answered from the result cache without the device
    (`X-Enhance-Cache:
    hit`); send the answer's `ETag` as `If-None-Match` to get a 304 with no body. For videos or anything
    that takes
    long, submit a job (`POST /v1/jobs`) instead.

    Errors (problem+json, `type` under https://enhance.example/problems/): 413 `payload-too-large` or
    `too-large-for-memory`; 415 `unsupported-media-type`; 422 `corrupt-media`, `invalid-option` (an
    option that does
    not fit the model) or `validation-error`; 404 `model-not-found`; 429 `rate-limited` and 503
    `overloaded` or
    `memory-busy` with `Retry-After`; 503 `weights-missing`; 507 `out-of-memory`.

    Args:
        model (None | str | Unset): upscaler catalogue id (GET /v1/models); `none`: only denoise
            and/or deblur; default: the service's
        scale (float | None | Unset): output scale; default: the model's
        tile (int | None | Unset): tile core size in input pixels; 0: automatic
        denoise (int | None | Unset): Real-CUGAN and waifu2x: denoise strength, 0 (none) to 3,
            among the levels the model has (GET /v1/models lists them); refused for other models
        light (LightMode | Unset):
        denoise_photo (DenoiseMode | Unset):
        denoise_sigma (float | None | Unset): the noise level (sigma, 0..255 scale) to remove;
            default: estimated per picture
        deblur (DeblurMode | Unset):
        deblur_model (None | str | Unset): deblur catalogue id or `classical`
        format_ (ImageFormat | Unset):
        quality (int | Unset): JPEG and WebP quality Default: 95.
        compare (bool | Unset): return the before/after comparison instead of the image: a PNG
            with the bicubic upscale and the enhanced result side by side at 1:1 output pixels, in the
            region that gains most (X-Enhance-Compare-Region says which) Default: False.
        if_none_match (None | str | Unset): the ETag of an earlier answer to the same request: 304
            if it still holds
        cache_control (None | str | Unset): `no-cache`: compute again rather than answer from the
            result cache; `no-store`: and do not keep this answer
        body (BodyEnhanceImage | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | File | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        model=model,
        scale=scale,
        tile=tile,
        denoise=denoise,
        light=light,
        denoise_photo=denoise_photo,
        denoise_sigma=denoise_sigma,
        deblur=deblur,
        deblur_model=deblur_model,
        format_=format_,
        quality=quality,
        compare=compare,
        if_none_match=if_none_match,
        cache_control=cache_control,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BodyEnhanceImage | Unset = UNSET,
    model: None | str | Unset = UNSET,
    scale: float | None | Unset = UNSET,
    tile: int | None | Unset = UNSET,
    denoise: int | None | Unset = UNSET,
    light: LightMode | Unset = UNSET,
    denoise_photo: DenoiseMode | Unset = UNSET,
    denoise_sigma: float | None | Unset = UNSET,
    deblur: DeblurMode | Unset = UNSET,
    deblur_model: None | str | Unset = UNSET,
    format_: ImageFormat | Unset = UNSET,
    quality: int | Unset = 95,
    compare: bool | Unset = False,
    if_none_match: None | str | Unset = UNSET,
    cache_control: None | str | Unset = UNSET,
) -> Response[Any | File | Problem]:
    """Enhance an image

     Enhances one image and answers with it in the body (PNG by default; `format` and `quality` choose).
    Send the image as the multipart `file`, or its `url` for the server to download. The options (query
    parameters)
    choose the upscaler and scale, photo denoise, low-light and motion-blur repair; `compare=true`
    answers with a
    before/after PNG instead. The `X-Enhance-*` headers say what ran (model, device, precision, output
    size, deblur)
    and `Server-Timing` where the time went.

    The same input with the same options is answered from the result cache without the device
    (`X-Enhance-Cache:
    hit`); send the answer's `ETag` as `If-None-Match` to get a 304 with no body. For videos or anything
    that takes
    long, submit a job (`POST /v1/jobs`) instead.

    Errors (problem+json, `type` under https://enhance.example/problems/): 413 `payload-too-large` or
    `too-large-for-memory`; 415 `unsupported-media-type`; 422 `corrupt-media`, `invalid-option` (an
    option that does
    not fit the model) or `validation-error`; 404 `model-not-found`; 429 `rate-limited` and 503
    `overloaded` or
    `memory-busy` with `Retry-After`; 503 `weights-missing`; 507 `out-of-memory`.

    Args:
        model (None | str | Unset): upscaler catalogue id (GET /v1/models); `none`: only denoise
            and/or deblur; default: the service's
        scale (float | None | Unset): output scale; default: the model's
        tile (int | None | Unset): tile core size in input pixels; 0: automatic
        denoise (int | None | Unset): Real-CUGAN and waifu2x: denoise strength, 0 (none) to 3,
            among the levels the model has (GET /v1/models lists them); refused for other models
        light (LightMode | Unset):
        denoise_photo (DenoiseMode | Unset):
        denoise_sigma (float | None | Unset): the noise level (sigma, 0..255 scale) to remove;
            default: estimated per picture
        deblur (DeblurMode | Unset):
        deblur_model (None | str | Unset): deblur catalogue id or `classical`
        format_ (ImageFormat | Unset):
        quality (int | Unset): JPEG and WebP quality Default: 95.
        compare (bool | Unset): return the before/after comparison instead of the image: a PNG
            with the bicubic upscale and the enhanced result side by side at 1:1 output pixels, in the
            region that gains most (X-Enhance-Compare-Region says which) Default: False.
        if_none_match (None | str | Unset): the ETag of an earlier answer to the same request: 304
            if it still holds
        cache_control (None | str | Unset): `no-cache`: compute again rather than answer from the
            result cache; `no-store`: and do not keep this answer
        body (BodyEnhanceImage | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | File | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        model=model,
        scale=scale,
        tile=tile,
        denoise=denoise,
        light=light,
        denoise_photo=denoise_photo,
        denoise_sigma=denoise_sigma,
        deblur=deblur,
        deblur_model=deblur_model,
        format_=format_,
        quality=quality,
        compare=compare,
        if_none_match=if_none_match,
        cache_control=cache_control,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BodyEnhanceImage | Unset = UNSET,
    model: None | str | Unset = UNSET,
    scale: float | None | Unset = UNSET,
    tile: int | None | Unset = UNSET,
    denoise: int | None | Unset = UNSET,
    light: LightMode | Unset = UNSET,
    denoise_photo: DenoiseMode | Unset = UNSET,
    denoise_sigma: float | None | Unset = UNSET,
    deblur: DeblurMode | Unset = UNSET,
    deblur_model: None | str | Unset = UNSET,
    format_: ImageFormat | Unset = UNSET,
    quality: int | Unset = 95,
    compare: bool | Unset = False,
    if_none_match: None | str | Unset = UNSET,
    cache_control: None | str | Unset = UNSET,
) -> Any | File | Problem | None:
    """Enhance an image

     Enhances one image and answers with it in the body (PNG by default; `format` and `quality` choose).
    Send the image as the multipart `file`, or its `url` for the server to download. The options (query
    parameters)
    choose the upscaler and scale, photo denoise, low-light and motion-blur repair; `compare=true`
    answers with a
    before/after PNG instead. The `X-Enhance-*` headers say what ran (model, device, precision, output
    size, deblur)
    and `Server-Timing` where the time went.

    The same input with the same options is answered from the result cache without the device
    (`X-Enhance-Cache:
    hit`); send the answer's `ETag` as `If-None-Match` to get a 304 with no body. For videos or anything
    that takes
    long, submit a job (`POST /v1/jobs`) instead.

    Errors (problem+json, `type` under https://enhance.example/problems/): 413 `payload-too-large` or
    `too-large-for-memory`; 415 `unsupported-media-type`; 422 `corrupt-media`, `invalid-option` (an
    option that does
    not fit the model) or `validation-error`; 404 `model-not-found`; 429 `rate-limited` and 503
    `overloaded` or
    `memory-busy` with `Retry-After`; 503 `weights-missing`; 507 `out-of-memory`.

    Args:
        model (None | str | Unset): upscaler catalogue id (GET /v1/models); `none`: only denoise
            and/or deblur; default: the service's
        scale (float | None | Unset): output scale; default: the model's
        tile (int | None | Unset): tile core size in input pixels; 0: automatic
        denoise (int | None | Unset): Real-CUGAN and waifu2x: denoise strength, 0 (none) to 3,
            among the levels the model has (GET /v1/models lists them); refused for other models
        light (LightMode | Unset):
        denoise_photo (DenoiseMode | Unset):
        denoise_sigma (float | None | Unset): the noise level (sigma, 0..255 scale) to remove;
            default: estimated per picture
        deblur (DeblurMode | Unset):
        deblur_model (None | str | Unset): deblur catalogue id or `classical`
        format_ (ImageFormat | Unset):
        quality (int | Unset): JPEG and WebP quality Default: 95.
        compare (bool | Unset): return the before/after comparison instead of the image: a PNG
            with the bicubic upscale and the enhanced result side by side at 1:1 output pixels, in the
            region that gains most (X-Enhance-Compare-Region says which) Default: False.
        if_none_match (None | str | Unset): the ETag of an earlier answer to the same request: 304
            if it still holds
        cache_control (None | str | Unset): `no-cache`: compute again rather than answer from the
            result cache; `no-store`: and do not keep this answer
        body (BodyEnhanceImage | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | File | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            model=model,
            scale=scale,
            tile=tile,
            denoise=denoise,
            light=light,
            denoise_photo=denoise_photo,
            denoise_sigma=denoise_sigma,
            deblur=deblur,
            deblur_model=deblur_model,
            format_=format_,
            quality=quality,
            compare=compare,
            if_none_match=if_none_match,
            cache_control=cache_control,
        )
    ).parsed
