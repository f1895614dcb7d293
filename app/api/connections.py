"""Connection hygiene under uvicorn: a deadline for request headers and a cap on open connections.

uvicorn has neither (its keep-alive timer stops at the first byte of the next request), so a client that trickles
its headers holds a file descriptor for as long as it likes; enough of them and `accept()` fails for everyone,
`/healthz` included. The body has its own deadline, a minimum rate, in `app.api.limits`.

Why a protocol subclass: the header phase happens before any ASGI code runs, so only the HTTP protocol sees it.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from pathlib import Path
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("app.api.connections")

FD_RESERVE = 256  # descriptors kept for the database, weights, job files and the device threads


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one (a common default is 1,024); returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            log.warning("could not raise the open-files limit from %d", soft)
    return soft


def listen_backlog(somaxconn: Path = Path("/proc/sys/net/core/somaxconn")) -> int:
    """The accept queue to ask for: as deep as the kernel allows (it caps what is asked at `somaxconn`), at least
    uvicorn's 2,048. When the queue is full the kernel drops new SYNs and a client's connect waits for its
    retransmit (1 s, then 3 s, 7 s...): under a connection flood that is where a liveness probe lost its seconds."""
    try:
        return max(2048, int(somaxconn.read_text()))
    except (OSError, ValueError):
        return 4096


def connection_cap(wanted: int, fd_limit: int) -> int:
    """The cap actually used: the setting, but always leaving descriptors for everything else the server opens."""
    return max(16, min(wanted, fd_limit - FD_RESERVE))


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and a connection cap (see `guarded_protocol`)."""

    header_timeout: float = 30.0
    max_connections: int = 4096
    # The connections waiting for request headers, longest-waiting first (a dict keeps insertion order; re-arming
    # moves a connection to the end). One per server: `guarded_protocol` gives each class its own.
    waiting: ClassVar[dict[GuardedHttpProtocol, None]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_since = 0.0  # when this connection began waiting for a request's headers

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._make_room()
        if not self.transport.is_closing():
            self._arm_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # the next request on a kept-alive connection: its headers have a deadline too
            self._arm_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_deadline()
        super().connection_lost(exc)

    @property
    def waiting_for_headers(self) -> bool:
        return self._deadline is not None

    def _arm_deadline(self) -> None:
        self._disarm_deadline()
        self._waiting_since = time.monotonic()
        self._deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)
        self.waiting[self] = None

    def _disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self.waiting.pop(self, None)

    def _headers_too_slow(self) -> None:
        self._deadline = None
        self.waiting.pop(self, None)
        if not self.transport.is_closing():
            log.warning("cut %s: request headers not complete after %.0f s", _peer(self), self.header_timeout)
            self.transport.close()

    def _make_room(self) -> None:
        """Over the cap: close the connections that have waited longest for their headers (an idle or trickling
        client holds a descriptor for nothing), a batch at once, so that a flood costs one eviction per batch rather
        than a scan of every connection per new one; when every connection is busy with a request, refuse this one.

        Taking the oldest from `waiting` is O(1), and one log line says what a batch cut."""
        target = self.max_connections - eviction_batch(self.max_connections)
        victims: list[GuardedHttpProtocol] = []
        for victim in self.waiting:
            if len(self.connections) - len(victims) <= target:
                break
            victims.append(victim)
        if not victims:
            open_now = len(self.connections) - 1
            log.warning("refused %s: %d connections open (cap %d)", _peer(self), open_now, self.max_connections)
            self.transport.write(BUSY)
            self.transport.close()
            return
        now = time.monotonic()
        log.warning(
            "cut %d connection(s) idle for %.0f-%.0f s, the longest from %s, with %d connections open (cap %d)",
            len(victims),
            now - victims[-1]._waiting_since,
            now - victims[0]._waiting_since,
            _peer(victims[0]),
            len(self.connections),
            self.max_connections,
        )
        for victim in victims:
            victim._disarm_deadline()
            victim.transport.close()


def eviction_batch(max_connections: int) -> int:
    """How many waiting connections one eviction closes: 1/16 of the cap (256 of 4,096), so that the next batch is
    due only after that many new connections."""
    return max(1, max_connections // 16)


_BUSY_BODY = b'{"type":"https://enhance.example/problems/busy","title":"Too many connections","status":503}'
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


def describe_client(client: tuple[str, int] | None) -> str:
    """host:port for log lines about a connection (uvicorn's `client`, or an ASGI scope's)."""
    return f"{client[0]}:{client[1]}" if client else "a client"


def _peer(protocol: HttpToolsProtocol) -> str:
    return describe_client(protocol.client)


def guarded_protocol(header_timeout: float, max_connections: int) -> type[GuardedHttpProtocol]:
    """The protocol class to hand to uvicorn (`http=`), with this server's limits."""
    return type(
        "GuardedHttpProtocol",
        (GuardedHttpProtocol,),
        {"header_timeout": header_timeout, "max_connections": max_connections, "waiting": {}},
    )
