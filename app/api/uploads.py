"""Reading uploads with a byte cap, so an oversized file is refused without being held in memory."""

from __future__ import annotations

from fastapi import UploadFile

from app.core.errors import PayloadTooLarge

CHUNK = 1 << 20


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    """Raises `PayloadTooLarge` as soon as more than `limit` bytes have been read."""
    if upload.size is not None and upload.size > limit:
        raise PayloadTooLarge(f"upload is {upload.size:,} bytes; the limit is {limit:,}")
    parts: list[bytes] = []
    total = 0
    while chunk := await upload.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"upload exceeds the limit of {limit:,} bytes")
        parts.append(chunk)
    return b"".join(parts)
