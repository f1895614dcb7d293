"""Job store on SQLAlchemy Core: SQLite by default, PostgreSQL for scale-out, the same code for both."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError

from app.core.errors import InvalidCursor
from app.jobs import migrate, outbox
from app.jobs.models import (
    TRANSITIONS,
    FrameRecord,
    JobEstimate,
    JobFacts,
    JobRecord,
    JobStatus,
    SegmentRecord,
    SegmentStatus,
)
from app.jobs.outbox import WebhookOutbox

# The tables as the newest migration leaves them (app/jobs/migrations): the schema is made by Alembic, not from here.
metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("status", String(16), nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    Column("input_name", String(255), nullable=False),
    Column("options", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("frames_done", Integer, nullable=False, default=0),
    Column("frames_total", Integer),
    Column("error", Text),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("idempotency_key", String(255), unique=True),
    Column("owner", String(64), index=True),
    Column("worker_id", String(128)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_expires_at", DateTime(timezone=True), index=True),
    Column("declared_frames", Integer),
    Column("fps", Float),
    Column("has_audio", Boolean),
    Column("request_fingerprint", String(64)),
    Column("selection", JSON),
    Column("callback_url", String(2048)),  # its webhook deliveries are in app.jobs.outbox
    Column("estimate", JSON(none_as_null=True)),  # app.jobs.models.JobEstimate, made at submit
)

job_frames = Table(
    "job_frames",
    metadata,
    Column("job_id", String(36), nullable=False, index=True),
    Column("frame_index", Integer, nullable=False),
    Column("pts", Integer),
    Column("time_base", String(32)),
    Column("seconds", Float, nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("worker_id", String(128)),
    Column("detail", JSON),
    UniqueConstraint("job_id", "frame_index", name="uq_job_frame"),
)

job_segments = Table(  # a long video's parts, each claimed, leased and redone alone (app.jobs.segments)
    "job_segments",
    metadata,
    Column("job_id", String(36), primary_key=True),
    Column("segment", Integer, primary_key=True),
    Column("first_frame", Integer, nullable=False),
    Column("last_frame", Integer, nullable=False),
    Column("frames", JSON, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("worker_id", String(128)),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False),
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes even for timezone=True columns; everything here is UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _job(row: Row[Any]) -> JobRecord:
    m = row._mapping
    return JobRecord(
        id=m["id"],
        status=JobStatus(m["status"]),
        kind=m["kind"],
        input_name=m["input_name"],
        options=dict(m["options"] or {}),
        created_at=_aware(m["created_at"]),  # type: ignore[arg-type]
        updated_at=_aware(m["updated_at"]),  # type: ignore[arg-type]
        started_at=_aware(m["started_at"]),
        finished_at=_aware(m["finished_at"]),
        frames_done=m["frames_done"],
        frames_total=m["frames_total"],
        error=m["error"],
        cancel_requested=bool(m["cancel_requested"]),
        idempotency_key=m["idempotency_key"],
        owner=m["owner"],
        worker_id=m["worker_id"],
        attempts=m["attempts"],
        lease_expires_at=_aware(m["lease_expires_at"]),
        facts=JobFacts(m["declared_frames"], m["fps"], m["has_audio"], m["request_fingerprint"]),
        selection=m["selection"],
        callback_url=m["callback_url"],
        estimate=JobEstimate.from_dict(m["estimate"]) if m["estimate"] else None,
    )


def _segment(row: Row[Any]) -> SegmentRecord:
    m = row._mapping
    return SegmentRecord(
        job_id=m["job_id"],
        index=m["segment"],
        first_frame=m["first_frame"],
        last_frame=m["last_frame"],
        frames=list(m["frames"]),
        status=SegmentStatus(m["status"]),
        worker_id=m["worker_id"],
        lease_expires_at=_aware(m["lease_expires_at"]),
        attempts=m["attempts"],
    )


def _use_wal(cursor: Any, timeout: float = 30.0) -> None:
    """Switch the database to WAL (kept in the file: only a fresh one changes). Unlike other statements the switch
    does not wait on the busy timeout: connections making it at once deadlock, and SQLite fails one of them with
    'database is locked' straight away. The API and its workers opening a new store together retry until it is done."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            _use_wal(cursor)  # readers (API, SSE) never block the worker's writes
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class LeaseLost(Exception):
    """The worker writing for a job no longer holds it: another worker took it over."""


class JobStore:
    """Jobs and their frames. Status changes follow `TRANSITIONS` and are guarded in the UPDATE itself (on the
    current status and, for a running job, on the worker holding its lease), so two processes sharing the database
    can never both act on one job."""

    def __init__(self, url: str, clock: Callable[[], datetime] = utcnow) -> None:
        """`clock`: the time leases and timestamps are read from (tests advance a fake one instead of sleeping)."""
        self.clock = clock
        self.engine = make_engine(url)
        migrate.upgrade(self.engine)  # a store made by an older release upgrades in place, rows kept
        self.outbox = WebhookOutbox(self.engine, clock)

    def _with_webhooks(self, records: list[JobRecord]) -> list[JobRecord]:
        """Each job with a callback URL gets its delivery's state from the outbox (what the API shows)."""
        deliveries = self.outbox.for_jobs(r.id for r in records if r.callback_url)
        for record in records:
            if (delivery := deliveries.get(record.id)) is not None:
                record.webhook = delivery.state
        return records

    def _one(self, row: Row[Any] | None) -> JobRecord | None:
        return self._with_webhooks([_job(row)])[0] if row else None

    def create(
        self,
        kind: str,
        input_name: str,
        options: dict[str, Any],
        idempotency_key: str | None = None,
        owner: str | None = None,
        job_id: str | None = None,
        facts: JobFacts | None = None,
        callback_url: str | None = None,
        estimate: JobEstimate | None = None,
    ) -> tuple[JobRecord, bool]:
        """Insert a queued job. With an idempotency key already used (by the same owner), return that job and
        False instead."""
        if idempotency_key and (existing := self.by_idempotency_key(idempotency_key, owner)):
            return existing, False
        now = self.clock()
        values = {
            "id": job_id or str(uuid.uuid4()),
            "status": JobStatus.QUEUED.value,
            "kind": kind,
            "input_name": input_name,
            "options": options,
            "created_at": now,
            "updated_at": now,
            "frames_done": 0,
            "cancel_requested": False,
            "idempotency_key": f"{owner or ''}:{idempotency_key}" if idempotency_key else None,
            "owner": owner,
            "attempts": 0,
            "callback_url": callback_url,
            "estimate": estimate.as_dict() if estimate is not None else None,
            **asdict(facts or JobFacts()),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(jobs).values(**values))
        except IntegrityError:
            if idempotency_key and (existing := self.by_idempotency_key(idempotency_key, owner)):
                return existing, False  # lost a race with an identical request
            raise
        job = self.get(str(values["id"]))
        assert job is not None
        return job, True

    def by_idempotency_key(self, key: str, owner: str | None) -> JobRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.idempotency_key == f"{owner or ''}:{key}")).first()
        return self._one(row)

    def get(self, job_id: str) -> JobRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return self._one(row)

    def list_jobs(
        self,
        status: JobStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
        owner: str | None = None,
    ) -> tuple[list[JobRecord], str | None]:
        """Newest first. `cursor` is the id of the last job of the previous page; `InvalidCursor` when it names no job
        this caller can see (rather than silently starting again at page one)."""
        query = select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
        if status is not None:
            query = query.where(jobs.c.status == status.value)
        if owner is not None:
            query = query.where(jobs.c.owner == owner)
        if cursor:
            after = self.get(cursor)
            if after is None or (owner is not None and after.owner != owner):
                raise InvalidCursor(f"unknown cursor {cursor!r}; start again without one")
            query = query.where(
                (jobs.c.created_at < after.created_at)
                | ((jobs.c.created_at == after.created_at) & (jobs.c.id < after.id))
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit + 1)).all()
        records = self._with_webhooks([_job(r) for r in rows[:limit]])
        return records, (records[-1].id if len(rows) > limit else None)

    def _update(self, job_id: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(updated_at=self.clock(), **values))

    def _transition(self, job_id: str, source: JobStatus, target: JobStatus, *conditions: Any, **values: Any) -> bool:
        """One guarded status change: applied only if the job is still in `source` (and meets `conditions`)."""
        if target not in TRANSITIONS[source]:
            raise ValueError(f"no transition {source.value} -> {target.value}")
        query = update(jobs).where(jobs.c.id == job_id, jobs.c.status == source.value, *conditions)
        now = self.clock()
        with self.engine.begin() as conn:
            result = conn.execute(query.values(status=target.value, updated_at=now, **values))
            changed = result.rowcount == 1
            if changed and target.terminal:  # a job with a callback URL gets its webhook due, in the same transaction
                receiver = conn.execute(select(jobs.c.callback_url).where(jobs.c.id == job_id)).scalar()
                if receiver:
                    outbox.enqueue(conn, job_id, f"job.{target.value}", receiver, now)
        return changed

    def claim(self, job_id: str, worker_id: str, lease_seconds: float) -> JobRecord | None:
        """queued → running for `worker_id`, holding a lease it must renew (`heartbeat`); None if the job was not
        queued (another worker has it, or it ended)."""
        now = self.clock()
        claimed = self._transition(
            job_id,
            JobStatus.QUEUED,
            JobStatus.RUNNING,
            worker_id=worker_id,
            started_at=now,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=jobs.c.attempts + 1,
        )
        return self.get(job_id) if claimed else None

    def heartbeat(self, job_id: str, worker_id: str, lease_seconds: float) -> bool:
        """Renew the lease; False when this worker no longer holds the job (reaped, cancelled, deleted)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == JobStatus.RUNNING.value, jobs.c.worker_id == worker_id)
                .values(lease_expires_at=self.clock() + timedelta(seconds=lease_seconds))
            )
        return result.rowcount == 1

    def take_over(
        self, job_id: str, holder: str, worker_id: str, lease_seconds: float, holder_dead: bool = False
    ) -> JobRecord | None:
        """running → running for `worker_id`, from a `holder` whose lease expired (or that the caller proved dead):
        counts as a new attempt, like a claim. None if `holder` renewed, finished or lost the job meanwhile."""
        now = self.clock()
        conditions = [jobs.c.id == job_id, jobs.c.status == JobStatus.RUNNING.value, jobs.c.worker_id == holder]
        if not holder_dead:
            conditions.append(jobs.c.lease_expires_at < now)
        with self.engine.begin() as conn:
            result = conn.execute(
                update(jobs)
                .where(*conditions)
                .values(
                    worker_id=worker_id,
                    started_at=now,
                    updated_at=now,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    attempts=jobs.c.attempts + 1,
                )
            )
        return self.get(job_id) if result.rowcount == 1 else None

    def finish(self, job_id: str, worker_id: str, status: JobStatus, error: str | None = None) -> JobStatus | None:
        """running → `status`, only for the worker holding the job. A success while a cancel was requested is
        recorded as cancelled: a late cancel is honoured or (once finished) refused, never both. Returns the status
        recorded, or None when the job was not this worker's to finish."""
        holder = jobs.c.worker_id == worker_id
        done = {"finished_at": self.clock(), "lease_expires_at": None}
        if status is JobStatus.SUCCEEDED:
            if self._transition(job_id, JobStatus.RUNNING, status, holder, jobs.c.cancel_requested.is_(False), **done):
                return status
            status, error = JobStatus.CANCELLED, "cancelled by request"
        if self._transition(job_id, JobStatus.RUNNING, status, holder, error=error, **done):
            return status
        return None

    def requeue(self, job_id: str, worker_id: str) -> bool:
        """running → queued by the worker holding it (a graceful shutdown); it resumes after its recorded frames.
        The attempt is given back: `attempts` counts the claims that ended in a crash or a result, which is what
        `max_attempts` limits."""
        return self._transition(
            job_id,
            JobStatus.RUNNING,
            JobStatus.QUEUED,
            jobs.c.worker_id == worker_id,
            worker_id=None,
            lease_expires_at=None,
            attempts=jobs.c.attempts - 1,
        )

    def reap_expired(self, max_attempts: int = 0) -> tuple[list[str], list[str]]:
        """Every job whose lease expired (its worker died or hung): back to queued, or, once it has been claimed
        `max_attempts` times (0: no limit), failed with that reason, so a job that kills its worker is not
        requeued for ever. Returns (requeued ids, failed ids)."""
        now = self.clock()
        with self.engine.connect() as conn:
            stale = conn.execute(
                select(jobs.c.id, jobs.c.attempts, jobs.c.worker_id).where(
                    jobs.c.status == JobStatus.RUNNING.value, jobs.c.lease_expires_at < now
                )
            ).all()
        requeued, failed = [], []
        for job_id, attempts, holder in stale:
            expired = jobs.c.lease_expires_at < now
            if max_attempts and attempts >= max_attempts:
                error = (
                    f"its worker died or stopped answering on each of {attempts} attempts (ENHANCE_MAX_ATTEMPTS="
                    f"{max_attempts}), the last on {holder}; frames done so far are kept"
                )
                done = {"finished_at": now, "lease_expires_at": None, "error": error}
                if self._transition(job_id, JobStatus.RUNNING, JobStatus.FAILED, expired, **done):
                    failed.append(job_id)
            elif self._transition(
                job_id, JobStatus.RUNNING, JobStatus.QUEUED, expired, worker_id=None, lease_expires_at=None
            ):
                requeued.append(job_id)
        return requeued, failed

    def next_queued(self) -> JobRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(jobs).where(jobs.c.status == JobStatus.QUEUED.value).order_by(jobs.c.created_at).limit(1)
            ).first()
        return self._one(row)

    def count_by_status(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)).all()
        return {status: int(count) for status, count in rows}

    def set_selection(self, job_id: str, selection: list[dict[str, Any]]) -> None:
        self._update(job_id, selection=selection)

    def set_total(self, job_id: str, total: int) -> None:
        self._update(job_id, frames_total=total)

    def request_cancel(self, job_id: str) -> JobRecord | None:
        """Queued jobs are cancelled at once; running ones are asked to stop after their current frame (and
        `finish` turns a success into cancelled); a finished job is left as it is (the cancel is refused)."""
        cancelled = self._transition(
            job_id, JobStatus.QUEUED, JobStatus.CANCELLED, cancel_requested=True, finished_at=self.clock()
        )
        if not cancelled:
            with self.engine.begin() as conn:
                conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id, jobs.c.status == JobStatus.RUNNING.value)
                    .values(cancel_requested=True, updated_at=self.clock())
                )
        return self.get(job_id)

    def record_frame(self, frame: FrameRecord, segment: int | None = None) -> None:
        """Record a finished frame for the worker holding the job or, with `segment`, that segment of it; a
        stale holder (its lease taken over) records nothing and gets `LeaseLost`."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(job_frames).values(
                    job_id=frame.job_id,
                    frame_index=frame.index,
                    pts=frame.pts,
                    time_base=frame.time_base,
                    seconds=frame.seconds,
                    finished_at=frame.finished_at,
                    worker_id=frame.worker_id,
                    detail=frame.detail,
                )
            )
            # The insert above fails for a frame already recorded (unique per job and index), so counting up is exact
            # and stays O(1) per frame instead of re-reading every recorded frame. Guarded on the holder: a worker
            # that hung past its lease and woke after another took the job over writes nothing (rolled back).
            if segment is None:
                holder = jobs.c.worker_id == frame.worker_id
            else:  # the segment's holder writes its frames, whichever worker holds the job
                holder = (
                    select(job_segments.c.segment)
                    .where(
                        job_segments.c.job_id == frame.job_id,
                        job_segments.c.segment == segment,
                        job_segments.c.status == SegmentStatus.RUNNING.value,
                        job_segments.c.worker_id == frame.worker_id,
                    )
                    .exists()
                )
            counted = conn.execute(
                update(jobs)
                .where(jobs.c.id == frame.job_id, jobs.c.status == JobStatus.RUNNING.value, holder)
                .values(frames_done=jobs.c.frames_done + 1, updated_at=self.clock())
            )
            if counted.rowcount != 1:
                what = f"job {frame.job_id}" if segment is None else f"segment {segment} of job {frame.job_id}"
                raise LeaseLost(f"{frame.worker_id} no longer holds {what}")

    def frames(self, job_id: str, since: int = 0) -> list[FrameRecord]:
        """The job's recorded frames in frame order (`since`: from that frame index on)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(job_frames)
                .where(job_frames.c.job_id == job_id, job_frames.c.frame_index >= since)
                .order_by(job_frames.c.frame_index)
            ).all()
        return [
            FrameRecord(
                job_id=r.job_id,
                index=r.frame_index,
                pts=r.pts,
                time_base=r.time_base,
                seconds=r.seconds,
                finished_at=_aware(r.finished_at),  # type: ignore[arg-type]
                worker_id=r.worker_id,
                detail=dict(r.detail or {}),
            )
            for r in rows
        ]

    def delete(self, job_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(job_frames).where(job_frames.c.job_id == job_id))
            conn.execute(delete(job_segments).where(job_segments.c.job_id == job_id))
            outbox.forget(conn, [job_id])
            conn.execute(delete(jobs).where(jobs.c.id == job_id))

    def expired(self, before: datetime) -> list[str]:
        terminal = [s.value for s in JobStatus if s.terminal]
        with self.engine.connect() as conn:
            rows = conn.execute(select(jobs.c.id).where(jobs.c.status.in_(terminal), jobs.c.updated_at < before)).all()
        return [r[0] for r in rows]

    # Segments: a long video's parts (app.jobs.segments). The job's holder plans them once; then any worker claims
    # one at a time under its own lease, and the job's holder publishes once every one is done.

    def create_segments(self, job_id: str, parts: list[list[int]]) -> list[SegmentRecord]:
        """Store the job's segments (each a list of decode-order frame indices), all pending; once only."""
        rows = [
            {
                "job_id": job_id,
                "segment": n,
                "first_frame": frames[0],
                "last_frame": frames[-1],
                "frames": frames,
                "status": SegmentStatus.PENDING.value,
                "attempts": 0,
            }
            for n, frames in enumerate(parts)
        ]
        with self.engine.begin() as conn:
            if not conn.execute(select(job_segments.c.segment).where(job_segments.c.job_id == job_id)).first():
                conn.execute(insert(job_segments), rows)
        return self.segments(job_id)

    def segments(self, job_id: str) -> list[SegmentRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(job_segments).where(job_segments.c.job_id == job_id).order_by(job_segments.c.segment)
            ).all()
        return [_segment(r) for r in rows]

    def _claimable(self, now: datetime) -> Any:
        """A segment nobody holds: pending, or running under a lease that expired (its worker died or hung)."""
        return (job_segments.c.status == SegmentStatus.PENDING.value) | (
            (job_segments.c.status == SegmentStatus.RUNNING.value) & (job_segments.c.lease_expires_at < now)
        )

    def claim_segment(self, job_id: str, worker_id: str, lease_seconds: float) -> SegmentRecord | None:
        """The first segment of a running, not cancelled job that nobody holds, now held by `worker_id`; None when
        there is none (all done or held, or the job is not running)."""
        job_running = (
            select(jobs.c.id)
            .where(jobs.c.id == job_id, jobs.c.status == JobStatus.RUNNING.value, jobs.c.cancel_requested.is_(False))
            .exists()
        )
        while True:
            now = self.clock()
            with self.engine.connect() as conn:
                free = conn.execute(
                    select(job_segments.c.segment)
                    .where(job_segments.c.job_id == job_id, self._claimable(now), job_running)
                    .order_by(job_segments.c.segment)
                ).first()
            if free is None:
                return None
            with self.engine.begin() as conn:
                taken = conn.execute(
                    update(job_segments)
                    .where(job_segments.c.job_id == job_id, job_segments.c.segment == free[0], self._claimable(now))
                    .values(
                        status=SegmentStatus.RUNNING.value,
                        worker_id=worker_id,
                        lease_expires_at=now + timedelta(seconds=lease_seconds),
                        attempts=job_segments.c.attempts + 1,
                    )
                )
            if taken.rowcount == 1:
                return next(s for s in self.segments(job_id) if s.index == free[0])
            # another worker claimed it first: look for the next one

    def _segment_update(self, job_id: str, segment: int, holder: str, **values: Any) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(job_segments)
                .where(
                    job_segments.c.job_id == job_id,
                    job_segments.c.segment == segment,
                    job_segments.c.status == SegmentStatus.RUNNING.value,
                    job_segments.c.worker_id == holder,
                )
                .values(**values)
            )
        return result.rowcount == 1

    def renew_segment(self, job_id: str, segment: int, worker_id: str, lease_seconds: float) -> bool:
        """False when `worker_id` no longer holds the segment (its lease expired and another worker took it)."""
        expires = self.clock() + timedelta(seconds=lease_seconds)
        return self._segment_update(job_id, segment, worker_id, lease_expires_at=expires)

    def finish_segment(self, job_id: str, segment: int, worker_id: str) -> bool:
        return self._segment_update(job_id, segment, worker_id, status=SegmentStatus.DONE.value, lease_expires_at=None)

    def release_segment(self, job_id: str, segment: int, worker_id: str) -> bool:
        """Hand a segment back unfinished (a shutdown, an error): the next claim takes it at once."""
        pending = SegmentStatus.PENDING.value
        return self._segment_update(job_id, segment, worker_id, status=pending, worker_id=None, lease_expires_at=None)

    def job_with_free_segment(self) -> str | None:
        """A running, not cancelled job with a segment nobody holds (for a worker with no queued job to run)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(jobs.c.id)
                .join(job_segments, job_segments.c.job_id == jobs.c.id)
                .where(
                    jobs.c.status == JobStatus.RUNNING.value,
                    jobs.c.cancel_requested.is_(False),
                    self._claimable(self.clock()),
                )
                .order_by(jobs.c.created_at)
                .limit(1)
            ).first()
        return None if row is None else str(row[0])
