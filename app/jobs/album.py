"""Album jobs: many photos (several uploads, or a zip of them) in one job. Every photo is probed before the job
exists (a bad one is kept in the job as skipped, with its reason; the album is refused only when none is usable),
then the worker scores them all, groups near-duplicates, chooses (`keep`, `select_best`, `duplicates`) and enhances
only the chosen photos, one recorded "frame" per photo, so a resumed job skips the photos already done.

Outputs: each chosen photo enhanced (PNG, keeping its file name's stem), `photos.zip`, `contact_sheet.jpg` (every
photo as a thumbnail, the chosen ones marked, the others with their reason) and `report.json`.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ExifTags, Image

from app.compare.contact_sheet import CELL, Cell, contact_sheet
from app.core.config import Settings
from app.core.errors import CorruptMedia, EnhanceError, InvalidOption, PayloadTooLarge
from app.core.files import write_atomic
from app.domain import DeblurMode, Picture
from app.inference.admission import estimate_score_bytes, score_bytes
from app.inference.device import Device
from app.inference.enhance import check_size, estimate_bytes, plan
from app.inference.memory import MemoryBudget
from app.inference.temporal import refuse_on_pictures
from app.jobs.estimate import check_estimate, estimate_album
from app.jobs.idempotency import same_request
from app.jobs.models import FrameRecord, JobFacts, JobRecord
from app.jobs.options import JobOptions
from app.jobs.storage import JobStorage
from app.jobs.store import JobStore
from app.jobs.webhooks import check_callback
from app.media.decode import decode_image, looks_like_image, probe_image
from app.quality.album import AlbumPhoto, choose
from app.quality.copies import Views, views

MANIFEST = "album.json"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Part:
    """One uploaded file, spooled to disk."""

    path: Path
    name: str


def is_zip(part: Part) -> bool:
    with part.path.open("rb") as fh:
        return fh.read(4) == ZIP_MAGIC


def _too_large(settings: Settings) -> PayloadTooLarge:
    return PayloadTooLarge(f"over the {settings.max_upload_bytes:,}-byte limit of one image")


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, zip_name: str) -> bytes | EnhanceError:
    """A zip member's bytes, or why it cannot be read. Bad CRC, a broken local header and corrupt deflate data
    (BadZipFile, zlib.error, EOFError), the encryption flag (RuntimeError), an unknown compression method
    (NotImplementedError) and a member larger than declared each spoil that member only."""
    try:
        with archive.open(info) as member:
            data = member.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
        return CorruptMedia(f"a broken zip member of {zip_name}: {exc}")
    if len(data) > info.file_size:
        return CorruptMedia(f"a broken zip member of {zip_name}: it inflates past its declared size")
    return data


def _photos_in(parts: list[Part], settings: Settings) -> Iterator[tuple[str, bytes | EnhanceError]]:
    """(name, bytes) of every photo uploaded, zips unpacked (names only, never paths: no zip-slip), within the
    album's count and byte caps (`PayloadTooLarge`). A photo that cannot be taken comes as (name, the problem):
    over the image cap (unread), or a broken zip member."""
    count = total = 0

    def admit(size: int) -> None:
        nonlocal count, total
        count, total = count + 1, total + size
        if count > settings.max_album_photos:
            raise PayloadTooLarge(f"an album holds at most {settings.max_album_photos} photos")
        if total > settings.max_album_bytes:
            raise PayloadTooLarge(f"an album holds at most {settings.max_album_bytes:,} bytes of photos")

    for part in parts:
        if not is_zip(part):
            size = part.path.stat().st_size
            admit(size)
            yield part.name, (part.path.read_bytes() if size <= settings.max_upload_bytes else _too_large(settings))
            continue
        try:
            archive = zipfile.ZipFile(part.path)
        except zipfile.BadZipFile as exc:
            raise InvalidOption(f"{part.name} is not a readable zip: {exc}") from exc
        with archive:
            for info in archive.infolist():
                name = Path(info.filename).name
                if info.is_dir() or not name or name.startswith(".") or "__MACOSX" in info.filename:
                    continue
                admit(info.file_size)  # the declared size, before inflating anything
                if info.file_size > settings.max_upload_bytes:
                    yield name, _too_large(settings)
                    continue
                yield name, _member(archive, info, part.name)


def _safe_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem).strip("._-") or "photo"
    return stem[:80]


def submit_album(
    settings: Settings,
    store: JobStore,
    storage: JobStorage,
    device: Device,
    parts: list[Part],
    options: JobOptions,
    idempotency_key: str | None,
    owner: str | None,
    fingerprint: str,
    callback_url: str | None,
) -> tuple[JobRecord, bool]:
    """Probe every photo, keep the album's files and manifest, create the job. Raises `PayloadTooLarge` over the
    caps and `InvalidOption` when no photo is usable."""
    if idempotency_key and (existing := store.by_idempotency_key(idempotency_key, owner)):
        return same_request(existing, fingerprint, idempotency_key), False  # nothing probed or stored twice
    if options.interpolate is not None:
        raise InvalidOption("interpolate needs a video input: an album is photos")
    if options.deblur == DeblurMode.BURST:
        raise InvalidOption("deblur=burst needs a video input: an album's photos are not neighbouring frames")
    steps = plan(options.enhance_options(), device, settings)
    refuse_on_pictures(device, steps.upscale_model, "an album's photos")
    callback_url = check_callback(callback_url, settings)  # as submit_job does: refused before anything is stored
    job_id = str(uuid.uuid4())
    folder = storage.job_dir(job_id) / "album"
    folder.mkdir(parents=True)
    entries: list[dict[str, Any]] = []
    sizes: list[tuple[int, int]] = []  # the usable photos', for the estimate
    try:
        for index, (name, data) in enumerate(_photos_in(parts, settings)):
            entry: dict[str, Any] = {"index": index, "name": name, "file": None, "problem": None}
            try:
                if isinstance(data, EnhanceError):
                    raise data
                if not looks_like_image(data[:64]):
                    raise InvalidOption("not a photo (PNG, JPEG, WebP, TIFF, BMP or GIF)")
                info = probe_image(data, settings.max_pixels, settings.max_side)
                check_size(info.width, info.height, steps.scale, settings)
                device.memory.check(estimate_bytes(info.width, info.height, steps, device, load=False), name)
                entry["file"] = f"{index:04d}.{info.format.lower()}"
                (folder / entry["file"]).write_bytes(data)
                sizes.append((info.width, info.height))
            except EnhanceError as exc:
                entry["problem"] = exc.detail
            entries.append(entry)
        usable = [e for e in entries if e["file"]]
        if not usable:
            reasons = "; ".join(f"{e['name']}: {e['problem']}" for e in entries[:5]) or "the upload held no photo"
            raise InvalidOption(f"no usable photo in the album ({reasons})")
        estimate = estimate_album(device, steps, sizes, (options.select_best or 1) if options.keep == "best" else None)
        check_estimate(estimate, settings.max_job_estimate_seconds, "photos")  # refused before the job is stored
        (storage.job_dir(job_id) / MANIFEST).write_text(json.dumps(entries, indent=2))
        name = parts[0].name if len(parts) == 1 else f"{len(entries)} photos"
        facts = JobFacts(declared_frames=len(usable), request_fingerprint=fingerprint)
        job, created = store.create(
            "album", name, options.model_dump(), idempotency_key, owner, job_id, facts, callback_url, estimate
        )
    except BaseException:
        storage.remove(job_id)
        raise
    if not created:  # lost a race with the same key
        storage.remove(job_id)
        same_request(job, fingerprint, idempotency_key or "")
    return job, created


def album_fingerprint(hashes: list[str], names: list[str], options: JobOptions) -> str:
    text = "\n".join([*hashes, *names, options.model_dump_json()])
    return hashlib.sha256(text.encode()).hexdigest()


def manifest(storage: JobStorage, job_id: str) -> list[dict[str, Any]]:
    return list(json.loads((storage.job_dir(job_id) / MANIFEST).read_text()))


def _photo_path(storage: JobStorage, job_id: str, entry: dict[str, Any]) -> Path:
    return storage.job_dir(job_id) / "album" / str(entry["file"])


def _photo_bytes(storage: JobStorage, job_id: str, entry: dict[str, Any]) -> bytes:
    return _photo_path(storage, job_id, entry).read_bytes()


def _taken_at(data: bytes) -> datetime | None:
    """EXIF DateTimeOriginal (or DateTime), the camera's clock: a burst's shots are seconds apart."""
    try:
        exif = Image.open(io.BytesIO(data)).getexif()
        value = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
        return datetime.strptime(str(value), "%Y:%m:%d %H:%M:%S") if value else None
    except (OSError, ValueError, SyntaxError):
        return None


def _views_loader(
    settings: Settings, storage: JobStorage, job_id: str, entry: dict[str, Any], memory: MemoryBudget
) -> Callable[[], Views | None]:
    """Decodes the photo again, only when the judge compares it with another copy (photos in no group never are);
    None when it cannot be read any more."""

    def load() -> Views | None:
        data = _photo_bytes(storage, job_id, entry)
        try:
            info = probe_image(data, settings.max_pixels, settings.max_side)
            need = estimate_score_bytes(info.width, info.height, info.bands)
            with memory.reserve(need, f"comparing {entry['name']} with its copies", True):
                return views(np.asarray(decode_image(data, settings.max_pixels, settings.max_side).pixels))
        except EnhanceError:
            return None

    return load


def score_album(
    settings: Settings,
    storage: JobStorage,
    job: JobRecord,
    options: JobOptions,
    guard: Callable[[], None],
    memory: MemoryBudget,
) -> list[dict[str, Any]]:
    """Score every usable photo, group and choose: one row per uploaded photo, for the report and the resume.
    Each photo's decode is admitted from `memory` first (a job waits its turn)."""
    photos = []
    for entry in manifest(storage, job.id):
        photo = AlbumPhoto(entry["index"], entry["name"], problem=entry["problem"])
        if entry["file"]:
            data = _photo_bytes(storage, job.id, entry)
            try:
                scored = score_bytes(data, settings, memory, what=entry["name"], patient=True)
                photo.scores, photo.size = scored.scores, (scored.width, scored.height)
                photo.taken_at = _taken_at(data)
                photo.load_views = _views_loader(settings, storage, job.id, entry, memory)
            except EnhanceError as exc:
                photo.problem = exc.detail
        photos.append(photo)
        guard()
    chosen = choose(photos, options.keep, options.select_best, options.duplicates == "drop")
    if not chosen:
        raise InvalidOption("no photo of the album was chosen: " + "; ".join(f"{p.name}: {p.why}" for p in photos[:5]))
    return [p.as_dict() for p in photos]


def album_pictures(
    settings: Settings, storage: JobStorage, job: JobRecord, wanted: set[int]
) -> Iterator[tuple[int, Picture]]:
    """The `wanted` photos, decoded, in upload order."""
    for entry in manifest(storage, job.id):
        if entry["file"] and entry["index"] in wanted:
            data = _photo_bytes(storage, job.id, entry)
            yield entry["index"], decode_image(data, settings.max_pixels, settings.max_side)


# ---- Outputs ----


def _unique_names(rows: list[dict[str, Any]]) -> dict[int, str]:
    names: dict[int, str] = {}
    used: set[str] = set()
    for row in rows:
        if not row["chosen"]:
            continue
        stem, n = _safe_stem(row["name"]), 1
        name = f"{stem}.png"
        while name in used or name in {"report.json", "photos.zip", "contact_sheet.jpg"}:
            n += 1
            name = f"{stem}-{n}.png"
        used.add(name)
        names[row["index"]] = name
    return names


def _short_why(row: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The sheet's one-line reason (report.json has the whole one)."""
    if row["chosen"] or row["problem"]:
        return str(row["why"])
    if row["reasons"]:  # a quality reason says more than "duplicate" (a shaky shot of the same scene)
        return str(row["reasons"][0])
    if row["duplicate_of"] is not None:
        better = next(r["name"] for r in rows if r["index"] == row["duplicate_of"])
        return f"duplicate of {better}"
    return str(row["why"])


def write_album_outputs(
    storage: JobStorage, job: JobRecord, frames: list[FrameRecord], report: dict[str, Any]
) -> list[str]:
    """The chosen photos under their own names, photos.zip, contact_sheet.jpg and report.json; then publish."""
    artifacts = storage.artifacts_dir(job.id)
    artifacts.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = job.selection or []
    done = {f.index for f in frames}
    names = {i: n for i, n in _unique_names(rows).items() if i in done}
    for index, name in names.items():
        target = artifacts / name
        target.unlink(missing_ok=True)
        target.hardlink_to(storage.enhanced_frame(job.id, index))  # same bytes, no copy
    with zipfile.ZipFile(artifacts / "photos.zip.part", "w", zipfile.ZIP_STORED) as archive:  # PNGs: no gain
        for name in names.values():
            archive.write(artifacts / name, name)
    (artifacts / "photos.zip.part").replace(artifacts / "photos.zip")
    entries = {e["index"]: e for e in manifest(storage, job.id)}

    def thumbnail(row: dict[str, Any]) -> Image.Image | None:
        entry = entries.get(row["index"])
        if not entry or not entry["file"]:
            return None
        with Image.open(_photo_path(storage, job.id, entry)) as image:
            image.draft("RGB", (CELL, CELL))  # a JPEG decodes at a fraction of its size
            return image.convert("RGB")

    cells = [Cell(thumbnail(row), bool(row["chosen"]), row["name"], _short_why(row, rows)) for row in rows]
    write_atomic(artifacts / "contact_sheet.jpg", contact_sheet(cells))
    for row in rows:
        row["artifact"] = names.get(row["index"])
    summary = {
        "photos": len(rows),
        "chosen": sum(1 for r in rows if r["chosen"]),
        "skipped": sum(1 for r in rows if r["problem"]),
        "duplicates": sum(1 for r in rows if r["duplicate_of"] is not None),
        "rejected": sum(1 for r in rows if not r["chosen"] and r["verdict"] == "reject"),
    }
    report = {**report, "album": summary, "photos": rows}
    write_atomic(artifacts / "report.json", json.dumps(report, indent=2).encode())
    storage.publish(job.id)
    return list(names.values())
