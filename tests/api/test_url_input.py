"""Input by URL (#29): `url` instead of `file` on the image route and on jobs, downloaded through the webhooks' SSRF
guard, with the upload caps and a time cap. A real HTTP server on loopback serves real media; loopback is private,
so these tests let the guard reach it through ENHANCE_URL_INPUT_ALLOW (what the setting is for), and check that
without it loopback and other private addresses are refused."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from tests.support.images import FAST_MODEL, decode_png, png_bytes, psnr, skimage_rgb
from tests.support.jobs import JOBS, wait
from tests.support.media import carphone_path

ENHANCE = "/v1/images/enhance"
PHOTO = png_bytes(skimage_rgb("astronaut", 96))


@dataclass
class Origin:
    """A real HTTP server on loopback and the paths it was asked for."""

    base: str = ""
    asked: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture()
def origin() -> Iterator[Origin]:
    state = Origin()
    clip = carphone_path().read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {"Content-Length": str(len(body))}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            state.asked.append(self.path)
            if self.path == "/photos/astronaut.png":
                self._send(200, PHOTO)
            elif self.path == "/undeclared.png":  # no Content-Length: the body ends when the connection closes
                self._send(200, PHOTO, {"Content-Type": "image/png"})
            elif self.path == "/clips/carphone.mp4":
                self._send(200, clip)
            elif self.path == "/moved":
                self._send(302, headers={"Location": "/photos/astronaut.png", "Content-Length": "0"})
            elif self.path == "/to-metadata":
                self._send(302, headers={"Location": "http://169.254.169.254/latest/meta-data/", "Content-Length": "0"})
            elif self.path == "/slow.png":  # one byte, then nothing until the test ends
                self.send_response(200)
                self.send_header("Content-Length", str(len(PHOTO)))
                self.end_headers()
                self.wfile.write(PHOTO[:1])
                self.wfile.flush()
                state.release.wait(60)  # a server that lets go would give a short read, not this
            else:
                self._send(404, b"no such file")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()


@pytest.fixture()
def loopback_allowed(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "url_input_allow", ["127.0.0.1/32"])


def _enhance_url(client: TestClient, url: str) -> Any:
    return client.post(ENHANCE, params={"model": FAST_MODEL}, data={"url": url})


@pytest.mark.usefixtures("loopback_allowed")
def test_an_image_by_url_comes_back_as_its_upload_does(client: TestClient, origin: Origin) -> None:
    by_url = _enhance_url(client, f"{origin.base}/photos/astronaut.png")
    assert by_url.status_code == 200, by_url.text
    uploaded = client.post(ENHANCE, params={"model": FAST_MODEL}, files={"file": ("a.png", PHOTO)})
    assert by_url.headers["x-enhance-size"] == uploaded.headers["x-enhance-size"] == "384x384"
    assert psnr(decode_png(by_url.content), decode_png(uploaded.content), peak=255) >= 45
    assert origin.asked == ["/photos/astronaut.png"]
    undeclared = _enhance_url(client, f"{origin.base}/undeclared.png")  # read until the server closes
    assert undeclared.status_code == 200 and undeclared.headers["x-enhance-size"] == "384x384"


@pytest.mark.usefixtures("loopback_allowed")
def test_a_job_by_url(client: TestClient, origin: Origin) -> None:
    form = {"url": f"{origin.base}/clips/carphone.mp4", "model": FAST_MODEL, "frames": "0,30", "outputs": "frames"}
    response = client.post(JOBS, data=form)
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["kind"], body["input_name"], body["estimate"]["frames"]) == ("video", "carphone.mp4", 2)
    job = wait(client, body["id"])
    assert job["status"] == "succeeded", job["error"]
    assert {"frame_000000.png", "frame_000030.png"} <= {a["name"] for a in job["artifacts"]}


@pytest.mark.usefixtures("loopback_allowed")
def test_a_redirect_is_followed_only_where_the_guard_allows(client: TestClient, origin: Origin) -> None:
    moved = _enhance_url(client, f"{origin.base}/moved")
    assert moved.status_code == 200, moved.text
    assert origin.asked == ["/moved", "/photos/astronaut.png"]
    metadata = _enhance_url(client, f"{origin.base}/to-metadata")
    assert metadata.status_code == 422 and metadata.json()["type"].endswith("/url-refused"), metadata.text
    assert "169.254.169.254" in metadata.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/a.png",
        "http://192.168.1.1/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/a.png",
        "http://[::ffff:127.0.0.1]/a.png",
        "http://localhost/a.png",
        "ftp://example.com/a.png",
        "http://user:secret@example.com/a.png",
    ],
)
def test_private_addresses_and_other_schemes_are_refused(client: TestClient, url: str) -> None:
    for response in (_enhance_url(client, url), client.post(JOBS, data={"url": url, "model": FAST_MODEL})):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"].endswith("/url-refused") and problem["detail"].startswith("url"), problem


def test_loopback_is_refused_unless_allowed(client: TestClient, origin: Origin) -> None:
    response = _enhance_url(client, f"{origin.base}/photos/astronaut.png")
    assert response.status_code == 422 and "ENHANCE_URL_INPUT_ALLOW" in response.json()["detail"]
    assert origin.asked == []  # refused before connecting


@pytest.mark.usefixtures("loopback_allowed")
def test_too_large_is_413_declared_or_not(
    client: TestClient, origin: Origin, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "max_upload_bytes", len(PHOTO) - 1)
    for path in ("/photos/astronaut.png", "/undeclared.png"):
        response = _enhance_url(client, origin.base + path)
        assert response.status_code == 413, response.text
        assert response.json()["detail"].startswith("url:")
    monkeypatch.setattr(settings, "max_job_upload_bytes", 1000)
    job = client.post(JOBS, data={"url": f"{origin.base}/clips/carphone.mp4", "model": FAST_MODEL})
    assert job.status_code == 413, job.text


@pytest.mark.usefixtures("loopback_allowed")
def test_missing_unreachable_and_slow_are_clear_422s(
    client: TestClient, origin: Origin, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = _enhance_url(client, f"{origin.base}/nothing-here.png")
    assert missing.status_code == 422 and "HTTP 404" in missing.json()["detail"], missing.text
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    unreachable = _enhance_url(client, f"http://127.0.0.1:{port}/a.png")
    assert unreachable.status_code == 422 and unreachable.json()["type"].endswith("/url-fetch-failed")
    monkeypatch.setattr(settings, "url_input_timeout_seconds", 0.5)
    slow = _enhance_url(client, f"{origin.base}/slow.png")
    assert slow.status_code == 422 and "ENHANCE_URL_INPUT_TIMEOUT_SECONDS" in slow.json()["detail"], slow.text


def test_exactly_one_of_file_and_url(client: TestClient) -> None:
    both = client.post(ENHANCE, files={"file": ("a.png", PHOTO)}, data={"url": "http://example.com/a.png"})
    assert both.status_code == 422 and both.json()["detail"].startswith("url:")
    neither = client.post(ENHANCE, data={"model": FAST_MODEL})
    assert neither.status_code == 422 and neither.json()["detail"].startswith("file:")
    assert client.post(JOBS, data={"model": FAST_MODEL}).status_code == 422
