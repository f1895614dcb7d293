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
from typing import Any

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


def connection_cap(wanted: int, fd_limit: int) -> int:
    """The cap actually used: the setting, but always leaving descriptors for everything else the server opens."""
    return max(16, min(wanted, fd_limit - FD_RESERVE))


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and a connection cap (see `guarded_protocol`)."""

    header_timeout: float = 30.0
    max_connections: int = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_since = 0.0  # when this connection began waiting for a request's headers

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_deadline()
        if len(self.connections) > self.max_connections:
            self._make_room()

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
        self._waiting_since = time.monotonic()
        self._deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            log.warning("cut %s: request headers not complete after %.0f s", _peer(self), self.header_timeout)
            self.transport.close()

    def _make_room(self) -> None:
        """Over the cap: close the connection that has waited longest for its headers (an idle or trickling client
        holds a descriptor for nothing); when every connection is busy with a request, refuse this new one."""
        guarded = (c for c in self.connections if isinstance(c, GuardedHttpProtocol) and c is not self)
        others = [c for c in guarded if c.waiting_for_headers]
        victim = min(others, key=lambda c: c._waiting_since) if others else self
        if victim is self:
            open_now = len(self.connections) - 1
            log.warning("refused %s: %d connections open (cap %d)", _peer(self), open_now, self.max_connections)
            self.transport.write(BUSY)
        else:
            log.warning(
                "cut %s: idle for %.0f s with %d connections open (cap %d)",
                _peer(victim),
                time.monotonic() - victim._waiting_since,
                len(self.connections),
                self.max_connections,
            )
        victim._disarm_deadline()
        victim.transport.close()


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
        {"header_timeout": header_timeout, "max_connections": max_connections},
    )
