"""Slow and idle clients (#15, item 1): a header deadline, a body rate and a connection cap, each logged when it
cuts someone, so that trickling clients cannot hold the server's file descriptors."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from app.api.connections import GuardedHttpProtocol, guarded_protocol, listen_backlog
from app.core.config import Settings
from tests.support.server import Server


@pytest.fixture()
def server(settings: Settings, tmp_path: Path) -> Iterator[Server]:
    server = Server(settings, tmp_path / "data")
    server.env.update({"ENHANCE_HEADER_TIMEOUT_SECONDS": "2", "ENHANCE_BODY_GRACE_SECONDS": "1"})
    server.log = tmp_path / "server.log"
    try:
        yield server
    finally:
        server.kill()


def _connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes) -> float | None:
    """Send `trickle` every 0.25 s until the server closes the connection; how long that took (None: never)."""
    started = time.monotonic()
    sock.settimeout(0.25)
    while time.monotonic() - started < seconds:
        try:
            sock.sendall(trickle)
            if sock.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started
    return None


def test_a_client_trickling_its_headers_is_cut_and_logged(server: Server) -> None:
    server.start()
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        took = _closed_within(sock, 15, b"X-Slow: 1\r\n")
    assert took is not None, "a client that never finishes its headers was held for 15 s"
    assert took < 5  # the deadline is 2 s here (30 s by default)
    assert server.log is not None
    assert "request headers not complete after 2 s" in server.log.read_text()


def test_a_kept_alive_connection_gets_the_same_header_deadline(server: Server) -> None:
    server.start()
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        assert b"200 OK" in sock.recv(65536)
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # the next request on the same connection, trickled
        took = _closed_within(sock, 15, b"X-Slow: 1\r\n")
    assert took is not None and took < 5


def test_a_trickled_upload_gets_408_problem(server: Server) -> None:
    server.start()
    with _connect(server) as sock:
        sock.sendall(
            b"POST /v1/images/enhance HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n"
            b"Content-Type: multipart/form-data; boundary=xyz\r\n\r\n--xyz\r\n"
        )
        started, answer = time.monotonic(), b""
        sock.settimeout(0.25)
        while time.monotonic() - started < 20 and b"\r\n\r\n{" not in answer:
            try:
                sock.sendall(b"x" * 20)  # 80 bytes/s, under the 1,024 bytes/s minimum
                answer += sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        took = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"application/problem+json" in head and b"connection: close" in head.lower()
    assert json.loads(body)["type"].endswith("/request-timeout")
    assert took < 6  # 1 s of grace plus the bytes sent, at 1,024 bytes/s
    assert server.log is not None
    assert "bytes of body in" in server.log.read_text()


def test_a_steady_upload_is_not_cut(server: Server) -> None:
    """The rate counts only the time spent waiting for the client: a normal upload passes."""
    server.start()
    payload = b"\x00" * 300_000
    answer = httpx.post(f"{server.url}/v1/images/enhance", files={"file": ("x.png", payload, "image/png")})
    assert answer.status_code != 408


def test_healthz_answers_under_2000_idle_connections(server: Server) -> None:
    """2,000 half-open connections against a server allowed 1,024 descriptors: without a cap, accept() fails for
    everyone; with it, the longest-idle connections are closed and /healthz still answers."""
    server.open_files = 1024
    server.env["ENHANCE_HEADER_TIMEOUT_SECONDS"] = "120"  # the cap must do it, not the deadline
    server.start()
    idle: list[socket.socket] = []
    try:
        for _ in range(2000):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(b"GET / HTTP/1.1\r\n")
            idle.append(sock)
        time.sleep(1)  # let the server accept them all
        for _ in range(3):
            answer = httpx.get(f"{server.url}/healthz", timeout=5)
            assert answer.status_code == 200
    finally:
        for sock in idle:
            sock.close()
    assert server.log is not None
    assert "idle for" in server.log.read_text()  # what was cut is logged


class _Transport(asyncio.Transport):
    """Just enough of a socket transport for the protocol: a peer address, and a close that reports the loss."""

    def __init__(self, loop: asyncio.AbstractEventLoop, port: int) -> None:
        super().__init__()
        self.loop, self.port, self.closed, self.written = loop, port, False, b""
        self.protocol: GuardedHttpProtocol | None = None

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("10.0.0.1", self.port) if name == "peername" else default

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed and self.protocol is not None:
            self.closed = True
            self.loop.call_soon(self.protocol.connection_lost, None)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)


async def _never_answers(scope: object, receive: object, send: object) -> None:
    await asyncio.Event().wait()


def test_a_flood_over_the_cap_is_cut_in_batches_oldest_first(caplog: pytest.LogCaptureFixture) -> None:
    """Over the cap, one new connection closes a batch of the longest-waiting ones, logged in one line, so a flood
    costs one eviction per batch (it was one per connection, each scanning every open one: with 20,000 half-open
    connections /healthz took 5-17 s). A connection whose request is being served is never cut."""
    caplog.set_level(logging.WARNING, logger="app.api.connections")
    loop = asyncio.new_event_loop()
    config = Config(app=_never_answers, lifespan="off")
    config.load()
    state = ServerState()
    protocol = guarded_protocol(header_timeout=600, max_connections=64)
    transports: list[_Transport] = []

    def connect(request: bytes = b"GET / HTTP/1.1\r\n") -> None:
        transport = _Transport(loop, len(transports))
        transport.protocol = protocol(config, state, {}, _loop=loop)
        transports.append(transport)
        transport.protocol.connection_made(transport)
        transport.protocol.data_received(request)
        loop.run_until_complete(asyncio.sleep(0))  # let closed connections report their loss

    try:
        connect(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")  # busy: its request is being served
        for _ in range(63 + 200):
            connect()
        assert len(state.connections) <= 64
        closed = [t.port for t in transports if t.closed]
        still_open = [t.port for t in transports if not t.closed]
        refused = [t.port for t in transports if t.written]
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
    assert 0 in still_open  # the busy connection
    assert len(closed) >= 200 and max(closed) < min(p for p in still_open if p)  # the oldest waiting were cut
    cuts = [r.getMessage() for r in caplog.records if r.getMessage().startswith("cut ")]
    assert cuts and all("idle for" in line for line in cuts)
    assert len(cuts) <= len(closed) // 2, f"{len(cuts)} evictions for {len(closed)} connections cut"
    assert not refused  # nobody refused: there was always a waiting one to cut


def test_serve_asks_for_the_deepest_accept_queue_the_kernel_allows(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """uvicorn's default accept queue is 2,048; once full the kernel drops new SYNs and a probe's connect waits 1 s,
    then 3 s, for its retransmit. `serve` asks for `somaxconn` (the kernel caps what is asked there)."""
    import uvicorn
    from typer.testing import CliRunner

    from app import cli

    asked: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: asked.update(kwargs))
    monkeypatch.setattr(cli, "_settings", lambda: settings)
    result = CliRunner().invoke(cli.app, ["serve", "--port", "8999"])
    assert result.exit_code == 0, result.output
    assert asked["backlog"] == listen_backlog() >= 2048

    somaxconn = tmp_path / "somaxconn"
    somaxconn.write_text("65535\n")
    assert listen_backlog(somaxconn) == 65535
    somaxconn.write_text("128\n")
    assert listen_backlog(somaxconn) == 2048  # never below uvicorn's own default
    assert listen_backlog(tmp_path / "absent") == 4096


def test_healthz_answers_while_5000_half_open_connections_are_held(server: Server) -> None:
    """A flood ten times the cap: while every connection is still held by the client, /healthz answers, and the
    server holds no more than the cap (it closed the rest in batches, oldest first, one log line per batch)."""
    server.env.update({"ENHANCE_HEADER_TIMEOUT_SECONDS": "600", "ENHANCE_MAX_CONNECTIONS": "500"})
    server.start()
    assert server.process is not None
    held: list[socket.socket] = []
    try:
        for _ in range(5000):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock.sendall(b"GET / HTTP/1.1\r\n")
            held.append(sock)
        answers = [httpx.get(f"{server.url}/healthz", timeout=30).status_code for _ in range(3)]
        server_fds = len(list(Path(f"/proc/{server.process.pid}/fd").iterdir()))
        assert all(sock.fileno() != -1 for sock in held)  # still held when /healthz answered
    finally:
        for sock in held:
            sock.close()
    assert answers == [200, 200, 200]
    assert server_fds < 500 + 256  # the cap plus the descriptors it keeps for everything else
    assert server.log is not None
    batches = [line for line in server.log.read_text().splitlines() if "idle for" in line]
    assert 0 < len(batches) < 4500 // 10  # each line cut a batch of 500 // 16 connections
