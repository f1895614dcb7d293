"""The image route's result cache (#29): the same input bytes with the same options are answered without the device
(model calls counted by the device's batcher), with an ETag that If-None-Match turns into a 304, bounded in bytes;
a hit costs a request against the key's rate but no device-seconds, and one key's cache is not another's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.result_cache import CachedResult, ResultCache
from app.core.config import Settings
from app.main import create_app
from app.models.registry import ModelRegistry
from tests.support.images import FAST_MODEL, png_bytes, skimage_rgb

ENHANCE = "/v1/images/enhance"
ASTRONAUT = png_bytes(skimage_rgb("astronaut", 64))
COFFEE = png_bytes(skimage_rgb("coffee", 64))


@contextmanager
def _app(settings: Settings, registry: ModelRegistry, tmp_path: Path, **extra: Any) -> Iterator[TestClient]:
    configured = settings.model_copy(update={"data_dir": tmp_path, "result_cache_bytes": 64 << 20, **extra})
    with TestClient(create_app(configured, registry)) as client:
        yield client


def _model_requests(client: TestClient) -> int:
    """Requests the device has served model calls for (every model call of the API goes through its batcher)."""
    return int(client.app.state.api.services.batcher.requests)  # type: ignore[attr-defined]


def _enhance(client: TestClient, data: bytes, headers: dict[str, str] | None = None, **params: Any) -> Any:
    return client.post(
        ENHANCE, params={"model": FAST_MODEL, **params}, files={"file": ("x.png", data)}, headers=headers or {}
    )


def test_the_same_request_again_is_answered_without_the_device(
    settings: Settings, registry: ModelRegistry, tmp_path: Path
) -> None:
    with _app(settings, registry, tmp_path) as client:
        first = _enhance(client, ASTRONAUT)
        after_first = _model_requests(client)
        again = _enhance(client, ASTRONAUT)
        assert _model_requests(client) == after_first > 0  # no model call for the second
        other_format = _enhance(client, ASTRONAUT, format="webp")
        other_image = _enhance(client, COFFEE)
        assert _model_requests(client) > after_first  # other options, other bytes: the device again
        fresh = _enhance(client, ASTRONAUT, headers={"Cache-Control": "no-cache"})
    assert first.status_code == again.status_code == 200, first.text
    assert (first.headers["x-enhance-cache"], again.headers["x-enhance-cache"]) == ("miss", "hit")
    assert again.content == first.content and again.headers["x-enhance-size"] == first.headers["x-enhance-size"]
    assert again.headers["etag"] == first.headers["etag"] and first.headers["etag"].startswith('W/"')
    assert again.headers["content-type"] == "image/png"
    assert other_format.headers["x-enhance-cache"] == other_image.headers["x-enhance-cache"] == "miss"
    assert len({first.headers["etag"], other_format.headers["etag"], other_image.headers["etag"]}) == 3
    assert other_format.headers["content-type"] == "image/webp"
    assert fresh.headers["x-enhance-cache"] == "miss" and fresh.headers["etag"] == first.headers["etag"]


def test_if_none_match_with_the_etag_is_a_304_without_the_device(
    settings: Settings, registry: ModelRegistry, tmp_path: Path
) -> None:
    with _app(settings, registry, tmp_path, result_cache_bytes=0) as client:  # even with nothing cached
        first = _enhance(client, ASTRONAUT)
        tag = first.headers["etag"]
        calls = _model_requests(client)
        unchanged = _enhance(client, ASTRONAUT, headers={"If-None-Match": tag})
        listed = _enhance(client, ASTRONAUT, headers={"If-None-Match": f'W/"0000", {tag.removeprefix("W/")}'})
        assert _model_requests(client) == calls
        stale = _enhance(client, ASTRONAUT, headers={"If-None-Match": 'W/"0000"'})
        other = _enhance(client, COFFEE, headers={"If-None-Match": tag})  # another image's tag does not hold
    assert (unchanged.status_code, unchanged.content, unchanged.headers["etag"]) == (304, b"", tag)
    assert listed.status_code == 304
    assert stale.status_code == 200 and stale.content and stale.headers["x-enhance-cache"] == "miss"
    assert other.status_code == 200 and other.headers["etag"] != tag


def test_eviction_at_the_bound(settings: Settings, registry: ModelRegistry, tmp_path: Path) -> None:
    with _app(settings, registry, tmp_path) as client:
        size = len(_enhance(client, ASTRONAUT).content)
    bound = int(size * 1.5)  # room for about one answer (and its headers)
    with _app(settings, registry, tmp_path / "bounded", result_cache_bytes=bound) as client:
        a = _enhance(client, ASTRONAUT)
        cache: ResultCache = client.app.state.result_cache  # type: ignore[attr-defined]
        b = _enhance(client, COFFEE)  # does not fit beside the astronaut: the astronaut goes
        assert len(cache) == 1 and cache.used <= bound
        calls = _model_requests(client)
        a_again = _enhance(client, ASTRONAUT)
        assert _model_requests(client) > calls  # evicted: computed again
        b_again = _enhance(client, COFFEE)
    assert [r.headers["x-enhance-cache"] for r in (a, b, a_again, b_again)] == ["miss", "miss", "miss", "miss"]


def test_the_cache_keeps_its_byte_bound_least_recently_used_out_first() -> None:
    cache = ResultCache(capacity=300)
    answer = {k: CachedResult(bytes(100), "image/png", {}) for k in "abcd"}
    for key in "abc":
        cache.put(key, answer[key])
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", answer["d"])
    assert ("a" in cache, "b" in cache, "c" in cache, "d" in cache) == (True, False, True, True)
    assert cache.used == 300
    cache.put("huge", CachedResult(bytes(301), "image/png", {}))  # larger than the cache: not kept, nothing evicted
    assert "huge" not in cache and len(cache) == 3


@pytest.mark.parametrize("owners", [("key-one", "key-two")])
def test_a_hit_costs_a_request_but_no_device_seconds_and_keys_do_not_share(
    settings: Settings, registry: ModelRegistry, tmp_path: Path, owners: tuple[str, str]
) -> None:
    with _app(settings, registry, tmp_path, api_keys=list(owners), device_seconds_per_day=2) as client:
        one = {"X-API-Key": owners[0]}
        miss = _enhance(client, ASTRONAUT, one)  # a fraction of a second, charged as one device-second
        hit = _enhance(client, ASTRONAUT, one)
        hit_again = _enhance(client, ASTRONAUT, one)
        other_key = _enhance(client, ASTRONAUT, {"X-API-Key": owners[1]})
    assert [r.headers["x-enhance-cache"] for r in (miss, hit, hit_again)] == ["miss", "hit", "hit"]
    assert '"device";r=1' in hit.headers["ratelimit"] and '"device";r=1' in hit_again.headers["ratelimit"]
    assert other_key.headers["x-enhance-cache"] == "miss"  # another key's answer is not shared
    assert other_key.headers["etag"] != miss.headers["etag"]
