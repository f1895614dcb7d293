"""Schema migrations of the job store (Alembic; the revisions are package data in app/jobs/migrations/versions).

The store upgrades its database to the newest revision when it opens (`upgrade`), and `enhance db upgrade` does the
same for operators. Processes that start together take turns: a PostgreSQL advisory lock, or a lock file beside a
SQLite database, so only the first one migrates and the others find the schema current.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

# Alembic lists its plugins at INFO when first imported, and says "Context impl SQLiteImpl" each time a store
# opens: quiet before the imports below; the upgrade itself is logged here.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_KEY = 0x656E68616E6365  # "enhance": the advisory lock every process takes around an upgrade


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    """The newest revision this release knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None, f"no migrations in {MIGRATIONS}"
    return revision


def current(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database or one made before migrations."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (a store made before migrations is adopted by the first one, rows kept)."""
    if revision == "head" and current(engine) == head():
        return  # the common case: one query, no lock
    with _turn(engine), engine.connect() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(_config(conn), revision)
        conn.commit()
        after = MigrationContext.configure(conn).get_current_revision()
    if after != before:
        log.info("job store %s upgraded: %s -> %s", engine.url.render_as_string(), before or "unversioned", after)


def downgrade(engine: Engine, revision: str) -> None:
    with _turn(engine), engine.connect() as conn:
        command.downgrade(_config(conn), revision)
        conn.commit()


@contextmanager
def _turn(engine: Engine) -> Iterator[None]:
    """One migrating process at a time per database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    import fcntl  # SQLite is the single-host mode; fcntl is there on every host it is deployed to

    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
