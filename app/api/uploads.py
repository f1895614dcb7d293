"""Reading uploads with a byte cap, so an oversized file is refused without being held in memory or on disk: one
capped reader, read into memory (images) or spooled to a file (jobs); a `url` input is downloaded the same two
ways, under the same caps (`app.api.url_input`)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import UploadFile
from fastapi.exceptions import RequestValidationError

from app.api.url_input import Fetched, fetch
from app.core.config import Settings
from app.core.errors import CorruptMedia, PayloadTooLarge

CHUNK = 1 << 20


async def _capped_chunks(upload: UploadFile, limit: int) -> AsyncIterator[bytes]:
    """The upload's bytes; `PayloadTooLarge` as soon as more than `limit` have come."""
    if upload.size is not None and upload.size > limit:
        raise PayloadTooLarge(f"upload is {upload.size:,} bytes; the limit is {limit:,}")
    total = 0
    while chunk := await upload.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"upload exceeds the limit of {limit:,} bytes")
        yield chunk


def read_spooled(upload: UploadFile, limit: int) -> bytes:
    """The upload's bytes, read from its spooled file in the calling thread (an image worker's, so a request still
    waiting for a worker holds its upload on disk, not in memory); `PayloadTooLarge` past `limit` bytes."""
    if upload.size is not None and upload.size > limit:
        raise PayloadTooLarge(f"upload is {upload.size:,} bytes; the limit is {limit:,}")
    upload.file.seek(0)
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"upload exceeds the limit of {limit:,} bytes")
    return data


def upload_sha256(upload: UploadFile, limit: int) -> str:
    """The sha256 of a spooled upload, read in chunks (blocking: run it in a thread); `PayloadTooLarge` past
    `limit` bytes, before reading when the size is known."""
    if upload.size is not None and upload.size > limit:
        raise PayloadTooLarge(f"upload is {upload.size:,} bytes; the limit is {limit:,}")
    upload.file.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := upload.file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"upload exceeds the limit of {limit:,} bytes")
        digest.update(chunk)
    return digest.hexdigest()


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    """Raises `PayloadTooLarge` as soon as more than `limit` bytes have been read."""
    return b"".join([chunk async for chunk in _capped_chunks(upload, limit)])


async def spool_upload(upload: UploadFile, folder: Path, limit: int) -> tuple[Path, str]:
    """Copy the upload to a temp file in `folder` and return it with its sha256; `PayloadTooLarge` (and no file
    left) past `limit` bytes, `CorruptMedia` for an empty upload."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    digest = hashlib.sha256()
    size = 0
    try:
        with handle:
            async for chunk in _capped_chunks(upload, limit):
                await asyncio.to_thread(handle.write, chunk)  # disk I/O off the event loop
                digest.update(chunk)
                size += len(chunk)
        if size == 0:
            raise CorruptMedia("the upload is empty")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest()


def one_input(has_file: bool, url: str | None) -> None:
    """A validation error (422, as for any missing or extra field) unless exactly one of a file and a URL came."""
    if has_file and url:
        raise RequestValidationError([{"loc": ("body", "url"), "msg": "send either a file or a url, not both"}])
    if not has_file and not url:
        raise RequestValidationError([{"loc": ("body", "file"), "msg": "send the file (multipart) or give its url"}])


def read_url(url: str, limit: int, settings: Settings) -> bytes:
    """A `url` input's bytes (blocking: run it in a thread); what `url_input.fetch` raises."""
    sink = io.BytesIO()
    fetch(url, sink, limit, settings)
    return sink.getvalue()


def spool_url(url: str, folder: Path, limit: int, settings: Settings) -> tuple[Path, Fetched]:
    """Download a `url` input to a temp file in `folder` (blocking: run it in a thread), as `spool_upload` copies
    an upload; no file is left when it fails."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    try:
        with handle:
            fetched = fetch(url, handle, limit, settings)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, fetched
