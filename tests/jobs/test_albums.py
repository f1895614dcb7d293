"""Album jobs (#19): real photos, each also present blurred, darkened and as an exact duplicate; `keep=good` returns
exactly the originals, enhanced; `select_best=K` returns K distinct originals; the report explains every rejection."""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.support.images import FAST_MODEL, jpeg_bytes, png_bytes, skimage_rgb
from tests.support.jobs import JOBS, artifact, wait

ORIGINALS = ["astronaut", "coffee", "chelsea", "rocket"]


def _album() -> list[tuple[str, bytes]]:
    """Originals first, then for each a blurred, a darkened and an exact copy (upload order matters on ties)."""
    files = []
    for name in ORIGINALS:
        files.append((f"{name}.png", png_bytes(skimage_rgb(name, 192))))
    for name in ORIGINALS:
        photo = skimage_rgb(name, 192)
        kernel = np.zeros((15, 15), np.float32)
        kernel[7, :] = 1 / 15
        files.append((f"{name}-shaky.jpg", jpeg_bytes(cv2.filter2D(photo, -1, kernel))))
        files.append((f"{name}-dark.jpg", jpeg_bytes((photo * 0.15).astype(np.uint8))))
        files.append((f"{name}-copy.png", png_bytes(photo)))
    return files


def _submit(client: TestClient, files: list[tuple[str, bytes]], **form: Any) -> dict[str, Any]:
    started = time.perf_counter()
    response = client.post(
        JOBS,
        files=[("file", (name, data)) for name, data in files],
        data={"model": FAST_MODEL, **{k: str(v) for k, v in form.items()}},
    )
    assert response.status_code == 202, response.text
    job = wait(client, response.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    job["seconds"] = time.perf_counter() - started
    return job


def test_keep_good_returns_exactly_the_originals_enhanced(client: TestClient) -> None:
    job = _submit(client, _album())
    assert job["kind"] == "album"
    report = json.loads(artifact(client, job, "report.json"))
    rows = report["photos"]
    assert len(rows) == 16
    chosen = sorted(r["name"] for r in rows if r["chosen"])
    assert chosen == sorted(f"{n}.png" for n in ORIGINALS)
    for row in rows:
        assert row["why"], row  # every photo says why
        if row["name"].endswith("-copy.png"):
            assert row["duplicate_of"] is not None and "near-duplicate of" in row["why"]
        if row["name"].endswith("-dark.jpg"):
            assert "underexposed" in row["why"] or "near-duplicate" in row["why"]
        if row["name"].endswith("-shaky.jpg"):
            assert "motion blur" in row["why"] or "near-duplicate" in row["why"]
    assert report["album"] == {"photos": 16, "chosen": 4, "skipped": 0, "duplicates": report["album"]["duplicates"],
                               "rejected": report["album"]["rejected"]}  # fmt: skip
    print(f"album: {report['album']}, {job['seconds'] / 16:.2f} s per photo")
    names = {a["name"] for a in job["artifacts"]}
    assert {f"{n}.png" for n in ORIGINALS} | {"photos.zip", "contact_sheet.jpg", "report.json"} == names
    enhanced = Image.open(io.BytesIO(artifact(client, job, "coffee.png")))
    assert enhanced.size == (768, 768)
    with zipfile.ZipFile(io.BytesIO(artifact(client, job, "photos.zip"))) as archive:
        assert sorted(archive.namelist()) == sorted(f"{n}.png" for n in ORIGINALS)
    sheet = Image.open(io.BytesIO(artifact(client, job, "contact_sheet.jpg")))
    assert sheet.width >= 6 * 200 and sheet.height >= 3 * 200  # 16 photos on a 6-column sheet
    frames = client.get(f"{JOBS}/{job['id']}/frames").json()
    assert sorted(f["index"] for f in frames) == [0, 1, 2, 3]  # the picker compares the chosen photos


def test_select_best_returns_k_distinct_originals(client: TestClient) -> None:
    job = _submit(client, _album(), select_best=2)
    rows = json.loads(artifact(client, job, "report.json"))["photos"]
    chosen = [r for r in rows if r["chosen"]]
    assert len(chosen) == 2 and all(r["name"].removesuffix(".png") in ORIGINALS for r in chosen)
    assert all(r["why"] for r in rows)


def test_a_zip_and_bad_photos_inside_are_reported_not_fatal(client: TestClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("trip/astronaut.png", png_bytes(skimage_rgb("astronaut", 128)))
        archive.writestr("trip/coffee.png", png_bytes(skimage_rgb("coffee", 128)))
        archive.writestr("trip/notes.txt", b"not a photo")
        archive.writestr("__MACOSX/trip/._coffee.png", b"resource fork")
    job = _submit(client, [("trip.zip", buffer.getvalue())], keep="all")
    rows = json.loads(artifact(client, job, "report.json"))["photos"]
    assert [r["name"] for r in rows] == ["astronaut.png", "coffee.png", "notes.txt"]
    assert [r["chosen"] for r in rows] == [True, True, False]
    assert rows[2]["problem"] and rows[2]["why"].startswith("skipped:")


def test_an_album_with_no_usable_photo_is_refused(client: TestClient) -> None:
    response = client.post(JOBS, files=[("file", ("a.txt", b"hello")), ("file", ("b.txt", b"world"))])
    assert response.status_code == 422 and "no usable photo" in response.json()["detail"]


def test_a_photo_over_the_image_cap_is_skipped_unread(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = client.app.state.api.services.settings  # type: ignore[attr-defined]
    small, large = png_bytes(skimage_rgb("coffee", 64)), png_bytes(skimage_rgb("astronaut", 256))
    monkeypatch.setattr(settings, "max_upload_bytes", len(small) + 1)
    response = client.post(JOBS, files=[("file", ("small.png", small)), ("file", ("large.png", large))],
                           data={"model": FAST_MODEL, "keep": "all"})  # fmt: skip
    assert response.status_code == 202, response.text
    job = wait(client, response.json()["id"])
    rows = json.loads(artifact(client, job, "report.json"))["photos"]
    assert [r["chosen"] for r in rows] == [True, False] and "byte limit" in rows[1]["problem"]


@pytest.mark.parametrize("cap", ["max_album_photos"])
def test_album_caps_are_413(client: TestClient, cap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = client.app.state.api.services.settings  # type: ignore[attr-defined]
    monkeypatch.setattr(settings, cap, 3)
    response = client.post(JOBS, files=[("file", (n, d)) for n, d in _album()[:4]])
    assert response.status_code == 413 and "at most 3 photos" in response.json()["detail"]


def test_an_idempotency_key_returns_the_same_album_and_refuses_another(client: TestClient) -> None:
    files = _album()[:3]
    headers = {"Idempotency-Key": "album-42"}
    data = {"model": FAST_MODEL}
    first = client.post(JOBS, files=[("file", f) for f in files], data=data, headers=headers)
    again = client.post(JOBS, files=[("file", f) for f in files], data=data, headers=headers)
    other = client.post(JOBS, files=[("file", f) for f in files[:2]], data=data, headers=headers)
    assert first.status_code == 202 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 422 and other.json()["type"].endswith("/idempotency-key-reused")
    wait(client, first.json()["id"])


def _zip_with_damaged(damage: str) -> bytes:
    """A zip of a good photo and a second one damaged as `damage` says, edited at the byte level as a broken or
    hostile archiver would leave it (offsets from the zip format: local header 30 bytes + name, central directory
    entry 46 bytes + name)."""
    good, bad = png_bytes(skimage_rgb("coffee", 64)), png_bytes(skimage_rgb("astronaut", 64))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("good.png", good)
        archive.writestr("bad.png", bad)
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("bad.png")
    local = info.header_offset
    central = data.rindex(b"PK\x01\x02")  # the last central entry is bad.png's
    if damage == "crc":
        data[local + 30 + len("bad.png") + 100] ^= 0xFF  # a stored byte changes: the CRC-32 no longer matches
    elif damage == "encrypted":
        data[local + 6] |= 1  # the encryption flag, in both headers
        data[central + 8] |= 1
    elif damage == "compression":
        data[local + 8 : local + 10] = data[central + 10 : central + 12] = (99).to_bytes(2, "little")  # AES
    elif damage == "local header":
        data[local : local + 4] = b"XXXX"
    elif damage == "size lies":
        data[central + 24 : central + 28] = (len(bad) // 2).to_bytes(4, "little")  # declared: half of it
    return bytes(data)


@pytest.mark.parametrize("damage", ["crc", "encrypted", "compression", "local header", "size lies"])
def test_a_broken_zip_member_is_skipped_with_its_reason(client: TestClient, damage: str) -> None:
    """Each of these was a 500 (#24): now the member is reported and the rest of the album is enhanced."""
    response = client.post(JOBS, files=[("file", ("album.zip", _zip_with_damaged(damage)))],
                           data={"model": FAST_MODEL, "keep": "all"})  # fmt: skip
    assert response.status_code == 202, response.text
    job = wait(client, response.json()["id"])
    rows = json.loads(artifact(client, job, "report.json"))["photos"]
    assert [r["name"] for r in rows] == ["good.png", "bad.png"]
    assert [r["chosen"] for r in rows] == [True, False]
    assert "zip" in rows[1]["problem"], rows[1]["problem"]


def test_duplicate_groups_keep_the_least_compressed_copy(client: TestClient) -> None:
    """#28: each photo as a q92 original and q70 and q45 copies, the copies uploaded first; the q45 copy was kept
    in every group (JPEG smoothing read as less noise)."""
    files = []
    for name in ORIGINALS:
        photo = skimage_rgb(name, 256)
        files += [(f"{name}-q{q}.jpg", jpeg_bytes(photo, q)) for q in (45, 70, 92)]
    job = _submit(client, files, keep="good", duplicates="drop")
    rows = json.loads(artifact(client, job, "report.json"))["photos"]
    chosen = sorted(r["name"] for r in rows if r["chosen"])
    assert chosen == sorted(f"{n}-q92.jpg" for n in ORIGINALS), [(r["name"], r["why"]) for r in rows]
    for row in rows:
        if row["chosen"]:
            assert "kept: q92 original over q45 copy" in row["why"] and "q70 copy" in row["why"], row["why"]
            assert row["scores"]["jpeg_quality"] == 92


def test_duplicate_groups_keep_the_original_over_noisy_blurred_and_dark_copies(client: TestClient) -> None:
    """#28: a q92 original after copies with mild noise added (sigma 5), blurred (sigma 1) and darkened (x0.5), all
    q92 JPEGs of one size; the album kept the noisy copy of moon, brick and retina (noise read as texture, the
    original's JPEG smoothing as a clean picture). The judge now compares the copies side by side (each photo is
    decoded again for it) and says what each copy is."""
    rng = np.random.default_rng(0)
    names = ["moon", "brick", "retina"]
    files = []
    for name in names:
        photo = skimage_rgb(name, 256)
        noisy = np.clip(photo + rng.normal(0, 5, photo.shape), 0, 255).astype(np.uint8)
        blurred = cv2.GaussianBlur(photo, (0, 0), 1.0)
        files += [(f"{name}-noisy.jpg", jpeg_bytes(noisy)), (f"{name}-soft.jpg", jpeg_bytes(blurred))]
        files += [(f"{name}-dim.jpg", jpeg_bytes((photo * 0.5).astype(np.uint8))), (f"{name}.jpg", jpeg_bytes(photo))]
    job = _submit(client, files, keep="all", duplicates="drop")
    rows = json.loads(artifact(client, job, "report.json"))["photos"]
    chosen = sorted(r["name"] for r in rows if r["chosen"])
    assert chosen == sorted(f"{n}.jpg" for n in names), [(r["name"], r["why"]) for r in rows]
    for row in rows:
        if row["chosen"]:
            assert "kept: q92 original over q92 copy (noisier: " in row["why"], row["why"]
            assert "q92 copy (softer: " in row["why"] and "q92 copy (darker: " in row["why"], row["why"]
        else:
            kind = {"noisy": "noisier", "soft": "softer", "dim": "darker"}[row["name"].split("-")[1][:-4]]
            assert f"which is better: this copy is {kind}: " in row["why"], row["why"]
            if kind == "softer":  # seen on the two photos' pixels, decoded again: not the scores' sharpness
                assert "fine detail" in row["why"], row["why"]
