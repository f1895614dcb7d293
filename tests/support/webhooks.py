"""A real webhook receiver on loopback for tests, and its signature check (the recipe in docs/webhooks.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

SECRET = "whsec_" + base64.b64encode(b"a receiver's shared secret, 32 b").decode()


@dataclass
class Receiver:
    """A real HTTP endpoint on loopback: records each delivery and answers with the next planned status."""

    planned: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def answer(self) -> int:
        return self.planned.pop(0) if self.planned else 200


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.answer())
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/enhance?source=test"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()


def verify(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """What a receiver does (docs/webhooks.md): HMAC-SHA256 over "id.timestamp.body" with the decoded secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s.removeprefix("v1,")) for s in headers["webhook-signature"].split())


class Trickler:
    """A slow webhook receiver on loopback: reads the request, then answers one byte every `every` seconds (a valid
    `200` whose header runs on) until `length` bytes are out or the test stops it. Appends what happens to a log
    shared by several receivers, so a test can assert the order of events, not their timing."""

    def __init__(self, name: str, log: list[str], every: float = 0.5, length: int = 60) -> None:
        self.name, self.log, self.every = name, log, every
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: "
        self.answer = answer + b"a" * max(0, length - len(answer) - 4) + b"\r\n\r\n"
        self.stopped = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slow"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        trickler = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                trickler.log.append(f"{trickler.name}: received")
                try:
                    for i in range(len(trickler.answer)):
                        if trickler.stopped.wait(trickler.every):
                            return
                        self.wfile.write(trickler.answer[i : i + 1])
                        self.wfile.flush()
                except OSError:  # the sender gave up on us
                    trickler.log.append(f"{trickler.name}: hung up on")
                    return
                trickler.log.append(f"{trickler.name}: finished")

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()
