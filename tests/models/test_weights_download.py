"""`enhance weights download`: fetched from the catalogue URL (a local HTTP server here) and verified."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest

from app.core.errors import ChecksumMismatch
from app.models.catalog import Catalog, CatalogEntry
from app.models.weights import download
from tests.support.images import CATALOG


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    root = tmp_path / "www"
    root.mkdir()
    payload = CATALOG.read_bytes() * 50
    (root / "RealESRGAN_x4plus.pth").write_bytes(payload)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/RealESRGAN_x4plus.pth", payload
    finally:
        server.shutdown()


def _entry(sha: str) -> CatalogEntry:
    return replace(Catalog.load(CATALOG).get("realesrgan-x4plus-pth"), sha256=sha)


def test_catalogue_pins_the_official_release() -> None:
    entry = Catalog.load(CATALOG).get("realesrgan-x4plus-pth")
    assert entry.url == "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth"
    assert entry.sha256 == "4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1"


def test_download_verifies_and_installs(served: tuple[str, bytes], tmp_path: Path) -> None:
    url, payload = served
    path = download(_entry(hashlib.sha256(payload).hexdigest()), tmp_path / "weights", url=url)
    assert path.read_bytes() == payload
    assert path.name == "RealESRGAN_x4plus.pth"


def test_checksum_mismatch_leaves_nothing_behind(served: tuple[str, bytes], tmp_path: Path) -> None:
    url, _ = served
    target = tmp_path / "weights"
    with pytest.raises(ChecksumMismatch):
        download(_entry("0" * 64), target, url=url)
    assert list(target.iterdir()) == []


def test_unpinned_entries_are_not_downloaded(served: tuple[str, bytes], tmp_path: Path) -> None:
    url, _ = served
    with pytest.raises(ValueError, match="no pinned sha256"):
        download(_entry(""), tmp_path, url=url)


def test_ncnn_entries_point_to_import(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="import-ncnn"):
        download(Catalog.load(CATALOG).get("realesrgan-x4plus"), tmp_path)
