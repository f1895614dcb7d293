"""POST /v1/images/enhance: small images come straight back in the response."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import Response

from app.api import docs_text as docs
from app.api.auth import OwnerDep
from app.api.deps import DeviceDep, ExecutorDep, SettingsDep
from app.api.openapi import binary_content, problems
from app.api.quota import QuotaKey
from app.api.result_cache import CachedResult, ResultCacheDep, etag, matches, result_key
from app.api.uploads import one_input, read_spooled, read_url, upload_sha256
from app.core.errors import ClientGone
from app.domain import ImageFormat
from app.inference.device import Device
from app.inference.enhance import EnhanceOptions, EnhanceResult, enhance_bytes, plan

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/images", tags=["images"])


RESULT_HEADERS = {
    "X-Enhance-Model": "the upscaler used, or none",
    "X-Enhance-Device": "where it ran, e.g. cuda:0 or cpu",
    "X-Enhance-Dtype": "fp32, fp16 or bf16",
    "X-Enhance-Size": "output width x height",
    "X-Enhance-Deblurred": "true or false",
    "X-Enhance-Deblur-Model": "the deblur model, when deblur was asked for",
    "X-Enhance-Blur": "the motion-blur estimate: length, angle, score",
    "X-Processing-Time-Ms": "server time spent on the image",
    "Server-Timing": "admit (waiting for memory), load (a model load this request paid for), decode, restore, "
    "wait (the part of restore spent queued for the device) and encode durations",
    "X-Enhance-Compare-Region": "with compare=true: the region shown, in output pixels (x, y, width, height)",
    "ETag": "names this answer (input bytes, options, weights); send it as If-None-Match to get a 304",
    "X-Enhance-Cache": "hit (answered from the result cache, without the device) or miss",
}
URL_DESCRIPTION = (
    "instead of `file`: an http(s) URL the server downloads (public hosts only, unless ENHANCE_URL_INPUT_ALLOW lists "
    "them; redirects re-checked; the upload's size cap; ENHANCE_URL_INPUT_TIMEOUT_SECONDS)"
)
HIT = {"X-Enhance-Cache": "hit"}
COMPARE_WIDTH = 1280  # two 640-px halves, 720 px high at most


async def _watch_disconnect(request: Request, gone: threading.Event) -> None:
    """Sets `gone` when the client goes away, so the work it asked for stops instead of holding the device."""
    while not gone.is_set():
        if await request.is_disconnected():
            gone.set()
            return
        await asyncio.sleep(0.1)


@router.post(
    "/enhance",
    operation_id="enhanceImage",
    summary="Enhance an image",
    description=docs.ENHANCE,
    openapi_extra=docs.request_example(docs.ENHANCE_REQUEST),
    response_class=Response,
    responses={
        200: {
            "content": binary_content(*(f.media_type for f in ImageFormat)),
            "description": "the enhanced image, in the requested format",
            "headers": {
                name: {"description": text, "schema": {"type": "string"}} for name, text in RESULT_HEADERS.items()
            },
        },
        304: {
            "description": "If-None-Match named this request's ETag: the answer the client holds still holds",
            "headers": {"ETag": {"description": RESULT_HEADERS["ETag"], "schema": {"type": "string"}}},
        },
        **problems(401, 404, 413, 415, 422, 429, 503, 507),
    },
)
async def enhance_image(
    request: Request,
    settings: SettingsDep,
    device: DeviceDep,
    executor: ExecutorDep,
    quota: QuotaKey,
    owner: OwnerDep,
    cache: ResultCacheDep,
    options: Annotated[EnhanceOptions, Query()],
    file: Annotated[
        UploadFile | None, File(description="PNG, JPEG, WebP, TIFF, BMP or GIF (first frame); or send `url`")
    ] = None,
    url: Annotated[str | None, Form(max_length=2048, description=URL_DESCRIPTION)] = None,
    compare: Annotated[
        bool,
        Query(
            description="return the before/after comparison instead of the image: a PNG with the bicubic upscale "
            "and the enhanced result side by side at 1:1 output pixels, in the region that gains most "
            "(X-Enhance-Compare-Region says which)",
            examples=[True],
        ),
    ] = False,
    if_none_match: Annotated[
        str | None, Header(description="the ETag of an earlier answer to the same request: 304 if it still holds")
    ] = None,
    cache_control: Annotated[
        str | None,
        Header(
            description="`no-cache`: compute again rather than answer from the result cache; `no-store`: and "
            "do not keep this answer"
        ),
    ] = None,
) -> Response:
    """Small images come straight back in the response; videos and long work go through `POST /v1/jobs`. The image
    is an uploaded `file` or a `url` the server downloads. The same input with the same options is answered from the
    result cache, without the device; its `ETag` in `If-None-Match` is a 304."""
    one_input(file is not None, url)
    limit = settings.max_upload_bytes
    fetched = await asyncio.to_thread(read_url, url, limit, settings) if url else None

    def identify() -> str:  # off the event loop: hashing reads the spooled upload, planning stats weight files
        if fetched is not None:
            digest = hashlib.sha256(fetched).hexdigest()
        else:
            assert file is not None  # one_input
            digest = upload_sha256(file, limit)
        steps = plan(options, device, settings)  # the resolved options are part of the key (bad ones end here)
        variant = f"compare={COMPARE_WIDTH}" if compare else "image"
        return result_key(owner or "", digest, options, steps, variant, device.catalog, settings)

    key = await asyncio.to_thread(identify)
    tag = etag(key)
    if matches(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag})
    directives = {d.strip().lower() for d in (cache_control or "").split(",")}
    if not directives & {"no-cache", "no-store"} and (cached := cache.get(key)) is not None:  # no device time:
        # no device-seconds charged (the request itself counted against the key's rate at the door)
        return Response(cached.data, media_type=cached.media_type, headers={**cached.headers, "ETag": tag, **HIT})
    gone = threading.Event()

    def stop_if_gone(done: int, total: int | None) -> None:  # called between model calls, on the image thread
        if gone.is_set():
            log.info("client closed the connection; stopped after %d of %s model calls", done, total)
            raise ClientGone(f"stopped after {done} of {total} tiles")

    def source() -> bytes:  # in the worker: a waiting upload stays spooled (a downloaded one is in memory already)
        if fetched is not None:
            return fetched
        assert file is not None
        return read_spooled(file, limit)

    watcher = asyncio.create_task(_watch_disconnect(request, gone))
    try:
        result = await executor.run(
            quota,
            lambda: enhance_bytes(
                source(),
                options,
                device,
                settings,
                progress=stop_if_gone,
                compare_width=COMPARE_WIDTH if compare else None,
            ),
        )
    finally:
        gone.set()  # the work is over either way: stop watching
        watcher.cancel()
    headers = _result_headers(result, device)
    compared = result.compare_region is not None
    media_type = ImageFormat.PNG.media_type if compared else ImageFormat(options.format).media_type
    if "no-store" not in directives:
        cache.put(key, CachedResult(result.data, media_type, {**headers, **HIT}))
    return Response(result.data, media_type=media_type, headers={**headers, "ETag": tag, "X-Enhance-Cache": "miss"})


def _result_headers(result: EnhanceResult, device: Device) -> dict[str, str]:
    total_ms = sum(v for stage, v in result.timings.items() if stage != "wait") * 1000  # wait is within restore
    model_used = result.model
    headers = {
        "X-Enhance-Model": model_used.entry.id if model_used else "none",
        "X-Enhance-Device": str(model_used.device if model_used else device.torch_device),
        "X-Enhance-Dtype": model_used.precision.dtype_name if model_used else "fp32",
        "X-Enhance-Size": f"{result.width}x{result.height}",
        "X-Enhance-Deblurred": "true" if result.deblur.applied else "false",
        "X-Processing-Time-Ms": f"{total_ms:.1f}",
        "Server-Timing": ", ".join(f"{k};dur={v * 1000:.1f}" for k, v in result.timings.items()),
    }
    if result.deblur.model:
        headers["X-Enhance-Deblur-Model"] = result.deblur.model
    if result.deblur.blur:
        blur = result.deblur.blur
        headers["X-Enhance-Blur"] = f"length={blur.length:.1f}; angle={blur.angle:.0f}; score={blur.score:.1f}"
    if result.compare_region is not None:
        r = result.compare_region
        headers["X-Enhance-Compare-Region"] = f"x={r.x}; y={r.y}; width={r.width}; height={r.height}"
    return headers
