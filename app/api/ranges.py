"""Byte ranges on artifacts, judged before Starlette's FileResponse sees them, so every outcome is either the file,
the ranges asked for, or a 416 problem (Starlette answers malformed or foreign-unit ranges with a text/plain 400).

RFC 9110 §14.2: a server may ignore a Range header it does not understand (another unit, bad syntax) and send the
whole file; a well-formed byte range that starts past the end of the file is 416, with `Content-Range: bytes */N`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.responses import FileResponse
from starlette.types import Receive, Scope, Send

from app.core.errors import RangeNotSatisfiable

SPEC = re.compile(r"^(\d*)-(\d*)$")


def usable_range(header: str | None, size: int) -> bool:
    """True when `header` asks for byte ranges of a file of `size` bytes that FileResponse should serve; False when
    it should be ignored (absent, another unit, malformed). Raises `RangeNotSatisfiable` when none overlaps."""
    if not header:
        return False
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs.strip():
        return False
    satisfiable = False
    for spec in specs.split(","):
        match = SPEC.match(spec.strip())
        if match is None or match.group(0) == "-":
            return False
        first, last = match.group(1), match.group(2)
        if first and last and int(last) < int(first):
            return False
        satisfiable |= (int(first) < size) if first else (int(last) > 0 and size > 0)
    if not satisfiable:
        raise RangeNotSatisfiable(f"no requested range overlaps the {size:,}-byte file", size)
    return True


class ArtifactResponse(FileResponse):
    """A FileResponse that serves the whole file when the Range header is to be ignored."""

    def __init__(self, path: Path, *, honour_range: bool, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.honour_range = honour_range

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.honour_range:
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"range"]}
        await super().__call__(scope, receive, send)
