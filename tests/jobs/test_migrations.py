"""Alembic migrations of the job store (#25): a database made by the release before migrations (its frozen DDL, with
jobs, a frame and webhook state in it) upgrades in place on SQLite and PostgreSQL, keeps its rows, and its webhook
state moves into the outbox; the first revision is that schema exactly; `enhance db` drives it for operators."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from app.cli import app
from app.jobs import migrate
from app.jobs.models import JobEstimate, JobStatus
from app.jobs.outbox import webhook_outbox
from app.jobs.store import JobStore, job_frames, job_segments, jobs, make_engine
from tests.support.legacy_schema import create_legacy_schema
from tests.support.services import fresh_postgres

LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: a file per test, or a PostgreSQL database per test (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'enhance.db'}"
    else:
        with fresh_postgres() as postgres:
            yield postgres


def _row(**values: Any) -> dict[str, Any]:
    base = {
        "kind": "image",
        "input_name": "coffee.png",
        "options": "{}",
        "created_at": LONG_AGO,
        "updated_at": LONG_AGO + timedelta(seconds=5),
        "started_at": None,
        "finished_at": None,
        "frames_done": 0,
        "error": None,
        "cancel_requested": False,
        "idempotency_key": None,
        "owner": None,
        "worker_id": None,
        "attempts": 0,
        "callback_url": None,
        "webhook_status": None,
        "webhook_event_id": None,
        "webhook_attempts": None,
        "webhook_last_status_code": None,
        "webhook_last_error": None,
        "webhook_next_at": None,
    }
    return base | values


LEGACY_JOBS = [
    _row(  # ended, its webhook failed twice and is due again
        id="00000000-0000-4000-8000-00000000000a",
        status="succeeded",
        finished_at=LONG_AGO + timedelta(seconds=5),
        frames_done=1,
        attempts=1,
        callback_url="http://receiver.example/hooks",
        webhook_status="retrying",
        webhook_event_id="evt_legacy_retrying",
        webhook_attempts=2,
        webhook_last_status_code=503,
        webhook_last_error="HTTP 503",
        webhook_next_at=LONG_AGO + timedelta(minutes=1),
    ),
    _row(  # ended, its webhook delivered
        id="00000000-0000-4000-8000-00000000000b",
        status="failed",
        error="boom",
        finished_at=LONG_AGO + timedelta(seconds=5),
        attempts=1,
        callback_url="http://receiver.example/hooks",
        webhook_status="delivered",
        webhook_event_id="evt_legacy_delivered",
        webhook_attempts=1,
        webhook_last_status_code=200,
    ),
    _row(  # mid-run, one frame recorded, idempotent, no webhook
        id="00000000-0000-4000-8000-00000000000c",
        status="running",
        kind="video",
        input_name="clip.mp4",
        frames_done=1,
        idempotency_key="alice:k1",
        owner="alice",
        worker_id="w1",
        attempts=1,
    ),
]


def _legacy_store(url: str) -> None:
    """A database exactly as the release before migrations left it, with jobs in it."""
    engine = create_engine(url)
    create_legacy_schema(engine)
    columns = ", ".join(LEGACY_JOBS[0])
    with engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO jobs ({columns}) VALUES ({', '.join(':' + c for c in LEGACY_JOBS[0])})"), LEGACY_JOBS
        )
        conn.execute(
            text(
                "INSERT INTO job_frames (job_id, frame_index, pts, time_base, seconds, finished_at, worker_id, detail)"
                " VALUES ('00000000-0000-4000-8000-00000000000c', 0, 0, '1/30', 0.5, :at, 'w1', '{}')"
            ),
            {"at": LONG_AGO},
        )
    engine.dispose()


def _shape(engine: Engine, table: str) -> dict[str, Any]:
    """What a schema comparison cares about: columns (type, nullability), key, indexes and unique constraints."""
    inspector = inspect(engine)
    return {
        "columns": {c["name"]: (str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)},
        "key": inspector.get_pk_constraint(table)["constrained_columns"],
        "indexes": sorted(
            (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)
        ),
        "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
    }


def test_a_store_made_before_migrations_upgrades_in_place_and_keeps_its_rows(url: str) -> None:
    _legacy_store(url)
    store = JobStore(url)  # opening it upgrades it
    try:
        assert migrate.current(store.engine) == migrate.head()
        retrying, delivered, running = (store.get(j["id"]) for j in LEGACY_JOBS)
        assert retrying is not None and retrying.status is JobStatus.SUCCEEDED and retrying.frames_done == 1
        assert retrying.created_at == LONG_AGO and retrying.callback_url == "http://receiver.example/hooks"
        assert delivered is not None and delivered.status is JobStatus.FAILED and delivered.error == "boom"
        assert running is not None and running.status is JobStatus.RUNNING and running.worker_id == "w1"
        assert [f.index for f in store.frames(running.id)] == [0]
        assert store.by_idempotency_key("k1", "alice") == running
        # The webhook state moved to the outbox, event ids kept (a receiver still drops the repeat it saw).
        assert retrying.webhook.status == "retrying" and retrying.webhook.event_id == "evt_legacy_retrying"
        assert (retrying.webhook.attempts, retrying.webhook.last_status_code) == (2, 503)
        assert delivered.webhook.status == "delivered" and delivered.webhook.attempts == 1
        assert [d.event_id for d in store.outbox.due()] == ["evt_legacy_retrying"]  # only the one still owed
        moved = store.outbox.get("evt_legacy_delivered")
        assert moved is not None and moved.event == "job.failed" and moved.delivered_at is not None
        assert not any(c["name"].startswith("webhook_") for c in inspect(store.engine).get_columns("jobs"))
        # The store works on the upgraded schema: the running job finishes and its ending reaches the outbox.
        assert store.finish(running.id, "w1", JobStatus.SUCCEEDED) is JobStatus.SUCCEEDED
        with pytest.raises(IntegrityError), store.engine.begin() as conn:  # uniqueness survived the table's copy
            same_key = {k: v for k, v in LEGACY_JOBS[2].items() if not k.startswith("webhook_")}
            conn.execute(jobs.insert().values(same_key | {"id": "another", "options": {}}))
    finally:
        store.engine.dispose()


def test_the_first_revision_is_the_schema_before_migrations(url: str) -> None:
    migrated = make_engine(url)
    migrate.upgrade(migrated, "r0001")
    shapes = {t: _shape(migrated, t) for t in ("jobs", "job_frames")}
    with migrated.begin() as conn:  # the same database, remade by the frozen DDL
        conn.execute(text("DROP TABLE jobs"))
        conn.execute(text("DROP TABLE job_frames"))
    create_legacy_schema(migrated)
    assert {t: _shape(migrated, t) for t in ("jobs", "job_frames")} == shapes
    migrated.dispose()


def test_the_newest_revision_is_the_schema_the_code_uses(url: str) -> None:
    store = JobStore(url)
    for table in (jobs, job_frames, webhook_outbox, job_segments):
        shape = _shape(store.engine, table.name)
        assert set(shape["columns"]) == {c.name for c in table.columns}, table.name
        assert {name: nullable for name, (_, nullable) in shape["columns"].items()} == {
            c.name: c.nullable for c in table.columns
        }, table.name
        assert {i[0] for i in shape["indexes"]} >= {i.name for i in table.indexes}, table.name
    store.engine.dispose()


def test_downgrade_and_upgrade_again_keep_the_webhook_state(url: str) -> None:
    _legacy_store(url)
    engine = make_engine(url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "r0001")
    with engine.connect() as conn:
        back = conn.execute(text("SELECT webhook_status, webhook_event_id, webhook_attempts FROM jobs ORDER BY id"))
        assert back.all() == [
            ("retrying", "evt_legacy_retrying", 2),
            ("delivered", "evt_legacy_delivered", 1),
            (None, None, None),
        ]
    migrate.upgrade(engine)
    store = JobStore(url)
    assert store.get(LEGACY_JOBS[0]["id"]).webhook.event_id == "evt_legacy_retrying"  # type: ignore[union-attr]
    store.engine.dispose()
    engine.dispose()


def test_enhance_db_upgrade_and_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENHANCE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ENHANCE_DATABASE_URL", raising=False)
    _legacy_store(f"sqlite:///{tmp_path / 'enhance.db'}")
    runner = CliRunner()
    due = runner.invoke(app, ["db", "current"])
    assert due.exit_code == 1 and "unversioned" in due.output and "enhance db upgrade" in due.output
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0 and f"unversioned -> {migrate.head()}" in upgraded.output
    now = runner.invoke(app, ["db", "current"])
    assert now.exit_code == 0 and now.output.startswith(f"{migrate.head()} (head: {migrate.head()})")


def _open_at_once(url: str, openers: int, use: Callable[[Engine], None]) -> list[BaseException]:
    """`openers` threads, each with its own engine on `url` (as separate processes would have), released together
    to `use` it; what they raised."""
    barrier = threading.Barrier(openers)
    errors: list[BaseException] = []

    def open_store() -> None:
        engine = make_engine(url)
        try:
            barrier.wait()
            use(engine)
        except BaseException as exc:  # reported by the caller, with the others
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=open_store) for _ in range(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_processes_that_start_together_take_turns_to_migrate(url: str) -> None:
    """An API and its workers opening a fresh store at once: one migrates, the others find it current."""
    assert _open_at_once(url, 4, migrate.upgrade) == []
    engine = make_engine(url)
    assert migrate.current(engine) == migrate.head()
    engine.dispose()


def test_a_fresh_sqlite_store_opened_while_another_process_writes_waits_its_turn(tmp_path: Path) -> None:
    """Switching a fresh file to WAL fails at once with 'database is locked' while another connection holds a write
    lock, without waiting on the busy timeout as other statements do (CI saw it when an API and its workers opened
    a new store together): the store waits for the writer and gets its WAL database."""
    path = tmp_path / "enhance.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("CREATE TABLE other_process (x)")
    modes: list[str] = []

    def journal_mode(engine: Engine) -> None:
        with engine.connect() as conn:
            modes.append(conn.execute(text("PRAGMA journal_mode")).scalar_one())

    opened: list[list[BaseException]] = []
    opener = threading.Thread(target=lambda: opened.append(_open_at_once(f"sqlite:///{path}", 1, journal_mode)))
    opener.start()
    opener.join(timeout=2)  # it meets the writer's lock (a slow machine may take longer to get there)
    writer.execute("COMMIT")
    writer.close()
    opener.join()
    assert opened == [[]]
    assert modes == ["wal"]


def test_the_segments_revision_adds_and_removes_its_table(url: str) -> None:
    """r0003 (#26): a store from r0002 gains `job_segments`, its jobs kept; a downgrade drops only that table."""
    _legacy_store(url)
    engine = make_engine(url)
    migrate.upgrade(engine, "r0002")
    assert "job_segments" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    store = JobStore(url)
    store.create_segments(LEGACY_JOBS[0]["id"], [[0, 1], [2, 3]])
    assert [s.frames for s in store.segments(LEGACY_JOBS[0]["id"])] == [[0, 1], [2, 3]]
    store.engine.dispose()
    migrate.downgrade(engine, "r0002")
    assert "job_segments" not in inspect(engine).get_table_names()
    assert _count_jobs(engine) == len(LEGACY_JOBS)
    engine.dispose()


def _count_jobs(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM jobs")).scalar_one())


OLD_ESTIMATE = {
    "frames": 3, "width": 176, "height": 144, "model": "realesr-animevideov3-x4", "seconds_per_frame": 0.04,
    "source": "catalogue",
}  # fmt: skip


def test_the_estimate_revision_moves_old_estimates_out_of_the_options(url: str) -> None:
    """r0004 (#26): a job submitted before kept its estimate in its options under `_estimate`: it moves into the
    `estimate` column (the API shows it as before) and leaves the options; a downgrade moves it back."""
    _legacy_store(url)
    engine = make_engine(url)
    migrate.upgrade(engine, "r0003")
    estimated, plain = LEGACY_JOBS[2]["id"], LEGACY_JOBS[0]["id"]
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE jobs SET options = :options WHERE id = :id"),
            {"id": estimated, "options": json.dumps({"model": "realesr-animevideov3-x4", "_estimate": OLD_ESTIMATE})},
        )
    migrate.upgrade(engine)
    store = JobStore(url)
    old = store.get(estimated)
    assert old is not None and old.options == {"model": "realesr-animevideov3-x4"}
    assert old.estimate == JobEstimate(3, 176, 144, "realesr-animevideov3-x4", 0.04, "catalogue", ("upscale",))
    assert old.estimate.seconds == pytest.approx(0.12)
    none = store.get(plain)
    assert none is not None and none.estimate is None and none.options == {}
    store.engine.dispose()
    migrate.downgrade(engine, "r0003")
    assert "estimate" not in {c["name"] for c in inspect(engine).get_columns("jobs")}
    with engine.connect() as conn:
        options: dict[str, Any] = {row.id: row.options for row in conn.execute(text("SELECT id, options FROM jobs"))}
    assert _json(options[estimated]) == {"model": "realesr-animevideov3-x4", "_estimate": OLD_ESTIMATE}
    assert _json(options[plain]) == {}
    assert _count_jobs(engine) == len(LEGACY_JOBS)
    engine.dispose()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value  # SQLite hands back text, PostgreSQL a dict
