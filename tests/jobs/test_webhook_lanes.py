"""Slow webhook receivers (#24 item 6): one receiver that trickles its answer a byte at a time delays only its own
events, and an attempt has one deadline for connect, send and read. Real receivers on loopback; the assertions are
on the order of events, with only a hang guard on time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.core.config import Settings
from app.jobs.models import JobStatus
from app.jobs.store import JobStore
from app.jobs.webhooks import WebhookSender
from tests.support.webhooks import SECRET, Receiver, Trickler

HANG_GUARD = 120.0  # only stops a broken sender from hanging the suite; nothing is asserted about speed


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def _sender_settings(tmp_path: Path, **extra: object) -> Settings:
    base = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    values = {"webhook_secret": SECRET, "webhook_allow": ["127.0.0.1"], "webhook_retry_seconds": 3600.0}
    return base.model_copy(update=values | extra)


def _finished_job(store: JobStore, url: str) -> str:
    job, _ = store.create("image", "coffee.png", {}, callback_url=url)
    assert store.claim(job.id, "w", 60.0) is not None
    assert store.finish(job.id, "w", JobStatus.SUCCEEDED) is JobStatus.SUCCEEDED
    return job.id


def _any_finished(log: list[str]) -> bool:
    return any(e.endswith("finished") for e in log)


def _hook_status(store: JobStore, job_id: str) -> str | None:
    job = store.get(job_id)
    assert job is not None
    return job.webhook.status


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[JobStore]:
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    yield store
    store.engine.dispose()


def test_four_slow_receivers_do_not_delay_a_healthy_one(tmp_path: Path, store: JobStore, receiver: Receiver) -> None:
    """Four receivers answer one byte every half second (a minute for the whole answer), and their events are due
    first; a healthy receiver's event, due last, is delivered while all four are still trickling."""
    log: list[str] = []
    slow = [Trickler(f"slow{i}", log, every=0.5, length=120) for i in range(4)]
    for trickler in slow:
        _finished_job(store, trickler.url)
    healthy = _finished_job(store, receiver.url)
    # A deadline longer than the slow answers: only lanes, not the cut-off, can let the healthy event through.
    sender = WebhookSender(_sender_settings(tmp_path, webhook_timeout_seconds=600.0), store, lambda job: [])
    sender.poll_seconds = 0.05
    sender.start()
    try:
        _until(lambda: bool(receiver.received) or _any_finished(log), "a delivery to the healthy or a slow receiver")
        assert receiver.received and not _any_finished(log), f"a slow receiver finished first: {log}"
        _until(lambda: _hook_status(store, healthy) == "delivered", "the delivery is recorded")
        _until(lambda: sum(e.endswith("received") for e in log) == 4, "each slow receiver has its own lane")
        assert not _any_finished(log), log  # all four were still trickling
    finally:
        for trickler in slow:
            trickler.close()
        sender.stop()


def test_an_attempt_has_one_deadline_for_a_trickling_answer(
    tmp_path: Path, store: JobStore, receiver: Receiver
) -> None:
    """The receiver sends a byte every half second, each well within any per-read timeout; the attempt is cut at
    its deadline, recorded as a retry with the reason, and the receiver sees the sender hang up mid-answer."""
    log: list[str] = []
    slow = Trickler("slow", log, every=0.5, length=600)  # five minutes for the whole answer
    job_id = _finished_job(store, slow.url)
    sender = WebhookSender(_sender_settings(tmp_path, webhook_timeout_seconds=2.0), store, lambda job: [])
    sender.poll_seconds = 0.05
    sender.start()
    try:
        _until(lambda: _hook_status(store, job_id) != "pending", "the attempt ends")
        _until(lambda: "slow: hung up on" in log, "the receiver sees the sender hang up")
    finally:
        slow.close()
        sender.stop()
    hook = store.get(job_id).webhook  # type: ignore[union-attr]
    assert hook.status == "retrying" and hook.attempts == 1 and hook.last_status_code is None
    assert "within 2 s" in (hook.last_error or "") and "ENHANCE_WEBHOOK_TIMEOUT_SECONDS" in (hook.last_error or "")
    assert log == ["slow: received", "slow: hung up on"]  # cut off mid-answer: it never finished
