"""A result cache for the image route (#29): the same input bytes with the same options are answered without the
device. Keyed by the sha256 of the input, the options (as validated, and as resolved against the catalogue and the
settings: the default model, scale, tiles, deblur model), the weights of every model that would run, and the
API key's owner when keys are on (so one tenant's cache never tells another that a picture was enhanced here).

The key is also the answer's `ETag` (weak: a result computed again can differ in its last bits, as tile sizes
follow the device's pace), and `If-None-Match` with it is a 304 whether or not the bytes are still cached: the
client already holds an answer to exactly this request.

In memory, bounded in bytes (`ENHANCE_RESULT_CACHE_BYTES`), least recently used first out. Why not on disk: the
answers are what the route would hold in memory while sending them anyway; a disk cache shared by processes needs
cross-process eviction; and weights or code that change with a deploy start with an empty cache for free.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.api.deps import SettingsDep
from app.core.config import Settings
from app.inference.enhance import EnhanceOptions, Plan
from app.models.catalog import Catalog


@dataclass(frozen=True)
class CachedResult:
    data: bytes
    media_type: str
    headers: dict[str, str]

    @property
    def size(self) -> int:
        return len(self.data) + sum(len(k) + len(v) for k, v in self.headers.items())


class ResultCache:
    """Thread-safe LRU of answers, bounded by their total size in bytes (0: caches nothing)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._entries: OrderedDict[str, CachedResult] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str) -> CachedResult | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: str, result: CachedResult) -> None:
        """Keep `result`, evicting the least recently used until the total fits; one larger than the whole cache is
        not kept."""
        if result.size > self.capacity:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.used -= old.size
            self._entries[key] = result
            self.used += result.size
            while self.used > self.capacity:
                _, evicted = self._entries.popitem(last=False)
                self.used -= evicted.size


def _weights(catalog: Catalog, settings: Settings, steps: Plan) -> list[str]:
    """What identifies the weights of each catalogue model the plan names: the pinned sha256, or for an unpinned
    file its size and modification time."""
    ids = {e.id for e in catalog.entries}
    named = sorted({v for v in vars(steps).values() if isinstance(v, str) and v in ids})
    marks = []
    for model_id in named:
        entry = catalog.get(model_id)
        if entry.sha256:
            marks.append(f"{model_id}:{entry.sha256}")
            continue
        try:
            stat = entry.path(settings.weights_path).stat()
            marks.append(f"{model_id}:{stat.st_size}:{stat.st_mtime_ns}")
        except OSError:
            marks.append(f"{model_id}:absent")
    return marks


def result_key(
    scope: str,
    input_sha256: str,
    options: EnhanceOptions,
    steps: Plan,
    variant: str,
    catalog: Catalog,
    settings: Settings,
) -> str:
    """The sha256 naming one answer. `variant`: what else shapes it (e.g. the comparison instead of the image)."""
    parts = [
        "v1",
        scope,
        input_sha256,
        options.model_dump_json(),
        repr(steps),
        variant,
        *_weights(catalog, settings, steps),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def etag(key: str) -> str:
    return f'W/"{key}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """RFC 9110's weak comparison of `If-None-Match` (a list of tags, or `*`) against `tag`."""
    if not if_none_match:
        return False
    bare = tag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == bare:
            return True
    return False


async def result_cache(request: Request, settings: SettingsDep) -> ResultCache:
    """The app's cache, made on first use (an async dependency: it runs on the event loop, one at a time)."""
    cache = getattr(request.app.state, "result_cache", None)
    if cache is None:
        cache = request.app.state.result_cache = ResultCache(settings.result_cache_bytes)
    assert isinstance(cache, ResultCache)
    return cache


ResultCacheDep = Annotated[ResultCache, Depends(result_cache)]
