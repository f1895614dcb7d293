"""Input by URL (#29): `url` instead of `file` on the image route and on jobs. The server downloads it through the
webhooks' SSRF guard (`app.jobs.webhooks.vet_addresses`: http(s) only, no credentials, every resolved address
public unless `ENHANCE_URL_INPUT_ALLOW` lists it, and the connection goes to the address that was checked), with
the upload's byte cap and one deadline for the whole download (`ENHANCE_URL_INPUT_TIMEOUT_SECONDS`). A redirect is
followed only to a URL that passes the same guard, at most `MAX_REDIRECTS` times.

Plain http.client on a socket, for the reasons webhooks.py gives: connecting to the vetted address while sending
the URL's Host and checking TLS for its name takes a few lines, and needs no new runtime dependency.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import ssl
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol
from urllib.parse import unquote, urljoin, urlsplit

from app.core.config import Settings
from app.core.errors import EnhanceError, InvalidOption, PayloadTooLarge, WebhookRefused
from app.jobs.webhooks import _Deadline, vet_addresses

CHUNK = 1 << 16
MAX_REDIRECTS = 5
REDIRECTS = {301, 302, 303, 307, 308}
MAX_URL = 2048


class Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


class UrlRefused(InvalidOption):
    """The guard will not reach this URL (scheme, credentials, a private address, a redirect to one)."""

    status, type, title = 422, "url-refused", "The server will not fetch this URL"


class UrlFetchFailed(EnhanceError):
    """The URL could not be downloaded: unreachable, an error status, too slow, too many redirects."""

    status, type, title = 422, "url-fetch-failed", "The URL could not be downloaded"


@dataclass(frozen=True)
class Fetched:
    name: str  # the last path segment of the final URL, for the job's input name
    size: int
    sha256: str


def _name(url: str) -> str:
    return PurePosixPath(unquote(urlsplit(url).path)).name[:255] or "download"


def _get(url: str, sink: Sink, limit: int, settings: Settings, deadline: _Deadline) -> str | tuple[int, str]:
    """One GET of a vetted URL into `sink`: the redirect target (str), or (size, sha256)."""
    try:
        host, port, addresses = vet_addresses(url, settings.url_input_allow, "url", "ENHANCE_URL_INPUT_ALLOW")
    except WebhookRefused as exc:
        raise UrlRefused(exc.detail) from exc
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = settings.url_input_timeout_seconds
    sock = deadline.attach(socket.create_connection((addresses[0], port), timeout=timeout))
    if parts.scheme == "https":
        sock = deadline.attach(ssl.create_default_context().wrap_socket(sock, server_hostname=host))
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.sock = sock  # connected to the address that was checked: no second lookup to rebind
    try:
        return _read(connection, url, path, parts.netloc, sink, limit, deadline)
    finally:
        connection.close()  # a redirect's connection too: the next round opens its own


def _read(
    connection: http.client.HTTPConnection,
    url: str,
    path: str,
    netloc: str,
    sink: Sink,
    limit: int,
    deadline: _Deadline,
) -> str | tuple[int, str]:
    connection.request("GET", path, headers={"Host": netloc, "Accept-Encoding": "identity"})
    response = connection.getresponse()
    if response.status in REDIRECTS:
        location = response.getheader("Location")
        if not location:
            raise UrlFetchFailed(f"url: HTTP {response.status} without a Location")
        return urljoin(url, location)
    if not 200 <= response.status < 300:
        raise UrlFetchFailed(f"url: the server answered HTTP {response.status} {response.reason}")
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"url: the file is {int(declared):,} bytes; the limit is {limit:,}")
    digest, size = hashlib.sha256(), 0
    while chunk := response.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"url: the file exceeds the limit of {limit:,} bytes")
        digest.update(chunk)
        sink.write(chunk)
    if deadline.expired.is_set():  # the cut may look like a clean end of the body
        raise TimeoutError
    if size == 0:
        raise UrlFetchFailed("url: the file is empty")
    return size, digest.hexdigest()


def fetch(url: str, sink: Sink, limit: int, settings: Settings) -> Fetched:
    """Download `url` into `sink` (blocking: call it off the event loop). Raises `UrlRefused`, `UrlFetchFailed` or
    `PayloadTooLarge` (past `limit` bytes, before reading when the server declares the size)."""
    if len(url) > MAX_URL:
        raise UrlRefused(f"url is longer than {MAX_URL} characters")
    timeout = settings.url_input_timeout_seconds
    with _Deadline(timeout) as deadline:
        try:
            for _ in range(MAX_REDIRECTS + 1):
                got = _get(url, sink, limit, settings, deadline)
                if isinstance(got, str):
                    url = got  # vetted again by the next round
                    continue
                return Fetched(_name(url), *got)
        except (OSError, http.client.HTTPException) as exc:
            if deadline.expired.is_set() or isinstance(exc, TimeoutError):
                raise UrlFetchFailed(
                    f"url: no complete download within {timeout:g} s (ENHANCE_URL_INPUT_TIMEOUT_SECONDS)"
                ) from exc
            raise UrlFetchFailed(f"url: could not download it: {type(exc).__name__}: {exc}") from exc
        finally:
            if deadline.sock is not None:
                deadline.sock.close()
    raise UrlFetchFailed(f"url: more than {MAX_REDIRECTS} redirects")
