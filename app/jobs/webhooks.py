"""Job webhooks: when a job with a `callback_url` ends, POST a signed JSON event to it, retrying with backoff.

- Signed in the style of Standard Webhooks: `webhook-id` (the event id, the same on every retry, so a receiver can
  drop duplicates), `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
  keyed by `ENHANCE_WEBHOOK_SECRET` (a `whsec_`-prefixed secret is base64-decoded, as the spec's libraries do).
- Durable: each delivery is a row of the outbox (app.jobs.outbox), written in the transaction that ends the job, so
  a delivery survives a restart, and replicas of the API share the work through a guarded claim.
- Bounded: an attempt has one deadline for everything (connect, TLS, send, read: `ENHANCE_WEBHOOK_TIMEOUT_SECONDS`),
  so a receiver that trickles its answer a byte at a time is cut off; and each receiver has its own lane (at most
  one attempt in flight per receiver), so a slow receiver delays only its own events.
- SSRF-safe: only http(s); every resolved address must be public (not private, loopback, link-local, multicast,
  reserved or the cloud metadata address) unless `ENHANCE_WEBHOOK_ALLOW` lists it; the check is repeated at connect
  time and the connection goes to the address that was checked (no second lookup to rebind); no redirect is
  followed; at most 4 KiB of the response is read.

Why http.client rather than httpx: connecting to the vetted IP while sending the URL's Host and checking TLS for
the URL's name takes a few lines on a plain socket, and httpx (a dev dependency) would have to become a runtime one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from app.core.config import Settings
from app.core.errors import WebhookRefused
from app.jobs.models import JobRecord
from app.jobs.outbox import Delivery
from app.jobs.store import JobStore

log = logging.getLogger(__name__)

RESPONSE_LIMIT = 4096
TIMEOUT_SECONDS = 10.0
IN_FLIGHT_SECONDS = 60.0  # a claimed delivery's lease (or twice the deadline): another process retries it after this


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 prefixes whose last 32 bits are an IPv4 address that a gateway or the host's own stack would reach: NAT64
# (RFC 6052, and the local-use prefix of RFC 8215) and the deprecated IPv4-compatible form (`::127.0.0.1`).
_EMBEDDING_PREFIXES = [ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96")]


def _allowed_by_list(host: str, address: Address, allow: list[str]) -> bool:
    for entry in allow:
        if entry.lower() == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo's client, NAT64, IPv4-compatible)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if any(address in prefix for prefix in _EMBEDDING_PREFIXES):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _public(address: Address) -> bool:
    """Globally routable unicast (`is_global` alone lets multicast through), and so is any IPv4 inside it."""
    if not address.is_global or address.is_multicast or address.is_reserved or address.is_unspecified:
        return False
    inner = _embedded_ipv4(address)
    return inner is None or _public(inner)


def _parse(url: str, field: str = "callback_url") -> tuple[str, str, int]:
    """(scheme, host, port) of a well-formed http(s) URL, or `WebhookRefused` saying what is wrong."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):  # urlsplit silently drops \t, \r and \n
        raise WebhookRefused(f"{field} must not contain control characters (tab, CR, LF, ...)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Port out of range", "Invalid IPv6 URL"
        raise WebhookRefused(f"{field} is not a valid URL: {exc} (check the port and the [IPv6] host)") from exc
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise WebhookRefused(f"{field} must be an http or https URL with a host")
    if parts.username or parts.password:
        raise WebhookRefused(f"{field} must not carry credentials")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def vet_addresses(
    url: str, allow: list[str], field: str = "callback_url", allow_setting: str = "ENHANCE_WEBHOOK_ALLOW"
) -> tuple[str, int, list[str]]:
    """(host, port, addresses to connect to) for a callback URL (or another URL the server is asked to reach:
    `field` and `allow_setting` name it in the refusal), or `WebhookRefused` with the reason."""
    _, host, port = _parse(url, field)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise WebhookRefused(f"{field}'s host {host!r} does not resolve: {exc}") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if not _public(address) and not _allowed_by_list(host, address, allow):
            raise WebhookRefused(
                f"{field}'s host {host!r} resolves to {address}, a private, loopback, link-local, multicast "
                "or reserved address (or one that embeds such an IPv4 address); the server only calls those listed "
                f"in {allow_setting}"
            )
    return host, port, addresses


def check_callback(url: str | None, settings: Settings) -> str | None:
    """Validate a job's callback URL at submit: the same rules as at connect time."""
    if url is None or url == "":
        return None
    if len(url) > 2048:
        raise WebhookRefused("callback_url is longer than 2048 characters")
    if not settings.webhook_secret:
        raise WebhookRefused("this server has no ENHANCE_WEBHOOK_SECRET, so it sends no webhooks")
    vet_addresses(url, settings.webhook_allow)
    return url


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_") else secret.encode()


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret_bytes(secret), f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def event_body(job: JobRecord, artifacts: list[dict[str, Any]], base_url: str) -> bytes:
    seconds = (job.finished_at - job.created_at).total_seconds() if job.finished_at else None
    event = {
        "type": f"job.{job.status.value}",
        "timestamp": (job.finished_at or job.updated_at).isoformat(),
        "data": {
            "job_id": job.id,
            "status": job.status.value,
            "error": job.error,
            "kind": job.kind,
            "input_name": job.input_name,
            "url": f"{base_url}/v1/jobs/{job.id}",
            "created_at": job.created_at.isoformat(),
            "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "seconds": seconds,
            "frames": job.frames_done,
            "artifacts": artifacts,
        },
    }
    return json.dumps(event, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _Deadline:
    """Cuts the connection when an attempt's time is up: a socket timeout bounds each read, not their sum, and a
    receiver sending one byte every few seconds never trips it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sock: socket.socket | None = None
        self.expired = threading.Event()
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def attach(self, sock: socket.socket) -> socket.socket:
        """The socket to cut from now on (the TLS one replaces the plain one); cut at once if time is already up."""
        with self._lock:
            self.sock = sock
        if self.expired.is_set():
            self._cut()
        return sock

    def _cut(self) -> None:
        with self._lock:
            self.expired.set()
            if self.sock is not None:
                with contextlib.suppress(OSError):  # already closed: the attempt has ended anyway
                    self.sock.shutdown(socket.SHUT_RDWR)  # the blocked read or write returns at once

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()


def deliver(
    url: str, body: bytes, headers: dict[str, str], allow: list[str], timeout: float = TIMEOUT_SECONDS
) -> Attempt:
    """One POST to the vetted address, over within `timeout` seconds whatever the receiver does; never follows a
    redirect, reads at most 4 KiB back."""
    try:
        host, port, addresses = vet_addresses(url, allow)
    except WebhookRefused as exc:
        return Attempt(None, exc.detail)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with _Deadline(timeout) as deadline:
        try:
            sock = deadline.attach(socket.create_connection((addresses[0], port), timeout=timeout))
            if parts.scheme == "https":
                sock = deadline.attach(ssl.create_default_context().wrap_socket(sock, server_hostname=host))
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
            connection.sock = sock  # connected to the address that was checked: no second lookup
            connection.request("POST", path, body=body, headers={**headers, "Host": parts.netloc.rsplit("@", 1)[-1]})
            response = connection.getresponse()
            response.read(RESPONSE_LIMIT)
            if deadline.expired.is_set():  # the cut landed after the last byte it needed: still too late
                raise TimeoutError
            return Attempt(response.status, None if 200 <= response.status < 300 else f"HTTP {response.status}")
        except (OSError, http.client.HTTPException) as exc:
            if deadline.expired.is_set():
                return Attempt(None, f"no complete answer within {timeout:g} s (ENHANCE_WEBHOOK_TIMEOUT_SECONDS)")
            return Attempt(None, f"{type(exc).__name__}: {exc}")
        finally:
            if deadline.sock is not None:
                deadline.sock.close()


class WebhookSender:
    """Polls the outbox for due deliveries and sends them, one lane per receiver: a receiver with an attempt in
    flight is skipped until it ends, so slow receivers hold at most one thread each, for at most the deadline, and
    every other receiver's events go on. Runs in the API process (every mode, Celery too: the store is shared)."""

    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        artifacts: Callable[[JobRecord], list[dict[str, Any]]],
        poll_seconds: float = 0.5,
    ) -> None:
        self.settings, self.store, self.outbox, self.artifacts = settings, store, store.outbox, artifacts
        self.poll_seconds = poll_seconds
        self.lanes = settings.webhook_lanes
        self.in_flight_seconds = max(IN_FLIGHT_SECONDS, 2 * settings.webhook_timeout_seconds)
        self._busy: set[str] = set()  # receivers with an attempt in flight from this process
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=self.lanes, thread_name_prefix="webhook")
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.dispatch()
            except Exception:  # the database is briefly unreachable: try again at the next poll
                log.warning("webhook poll failed; retrying", exc_info=True)

    def dispatch(self) -> int:
        """Start the oldest due delivery of each idle receiver, while lanes are free; returns how many started."""
        with self._lock:
            busy = set(self._busy)
        started = 0
        for delivery in self.outbox.due(limit=4 * self.lanes, skip_receivers=busy):
            if len(busy) >= self.lanes:
                break
            if delivery.receiver in busy or not self.outbox.claim(delivery.event_id, self.in_flight_seconds):
                continue
            busy.add(delivery.receiver)
            with self._lock:
                self._busy.add(delivery.receiver)
            self._pool.submit(self._lane, delivery)
            started += 1
        return started

    def _lane(self, delivery: Delivery) -> None:
        try:
            self._send(delivery)
        except Exception:  # a store error: the claim lapses and the delivery is due again
            log.warning("webhook %s: attempt not recorded", delivery.event_id, exc_info=True)
        finally:
            with self._lock:
                self._busy.discard(delivery.receiver)

    def _send(self, delivery: Delivery) -> None:
        job = self.store.get(delivery.job_id)
        if job is None:  # deleted meanwhile: its deliveries went with it
            return
        body = event_body(job, self.artifacts(job), self.settings.public_url.rstrip("/"))
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "enhance-webhooks/1",
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self.settings.webhook_secret or "", delivery.event_id, timestamp, body),
        }
        timeout = self.settings.webhook_timeout_seconds
        attempt = deliver(delivery.receiver, body, headers, self.settings.webhook_allow, timeout)
        attempts = delivery.attempts + 1
        if attempt.delivered:
            self.outbox.record(delivery.event_id, "delivered", attempt.status_code, None, None)
            log.info("webhook %s for job %s delivered (HTTP %s)", delivery.event_id, job.id, attempt.status_code)
            return
        delay = min(3600.0, self.settings.webhook_retry_seconds * 2 ** (attempts - 1))
        next_at = self.store.clock() + timedelta(seconds=delay)
        if (next_at - delivery.created_at).total_seconds() > self.settings.webhook_max_age_seconds:
            self.outbox.record(delivery.event_id, "failed", attempt.status_code, attempt.error, None)
            log.warning("webhook for job %s failed for good after %d attempts: %s", job.id, attempts, attempt.error)
            return
        self.outbox.record(delivery.event_id, "retrying", attempt.status_code, attempt.error, next_at)
        log.info("webhook for job %s: %s; retry %d in %.0f s", job.id, attempt.error, attempts + 1, delay)
