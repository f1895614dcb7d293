"""Slow and idle clients (#15, item 1): a header deadline, a body rate and a connection cap, each logged when it
cuts someone, so that trickling clients cannot hold the server's file descriptors."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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
