"""Real PostgreSQL and Redis for the scale-out tests: used when reachable, otherwise the tests skip and say why."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_ADMIN = os.environ.get("ENHANCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("ENHANCE_TEST_REDIS", "redis://127.0.0.1:6379")


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, empty database for one test module; dropped afterwards."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[scale]')")
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN}: {exc}".splitlines()[0])
    name = f"enhance_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def redis_url(db: int) -> str:
    redis = pytest.importorskip("redis", reason="redis-py is not installed (pip install -e '.[scale]')")
    url = f"{REDIS}/{db}"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.flushdb()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS}: {exc}")
    return url
